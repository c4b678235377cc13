"""MassGen plugin massgen-voting-majority (under construction)."""
