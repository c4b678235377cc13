"""MassGen plugin massgen-gemini (under construction)."""
