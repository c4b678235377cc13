"""MassGen plugin massgen-openai (under construction)."""
