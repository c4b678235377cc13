"""Presets and templates bundled with MassGen (YAML files beside this module; data only)."""
