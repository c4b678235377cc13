"""MassGen plugin massgen-export-html (under construction)."""
