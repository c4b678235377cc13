"""MassGen plugin massgen-python-tool (under construction)."""
