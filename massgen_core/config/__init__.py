"""Configuration: attrs schema, YAML/JSON loading with located errors, environments."""
