"""MassGen plugin massgen-openai-compatible (under construction)."""
