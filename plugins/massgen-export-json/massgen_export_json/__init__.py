"""MassGen plugin massgen-export-json (under construction)."""
