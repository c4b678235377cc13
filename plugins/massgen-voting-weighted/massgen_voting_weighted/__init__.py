"""MassGen plugin massgen-voting-weighted (under construction)."""
