"""MassGen plugin massgen-claude (under construction)."""
