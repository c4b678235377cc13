"""MassGen plugin massgen-grok (under construction)."""
