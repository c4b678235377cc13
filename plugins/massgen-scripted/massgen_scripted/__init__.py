"""MassGen plugin massgen-scripted (under construction)."""
