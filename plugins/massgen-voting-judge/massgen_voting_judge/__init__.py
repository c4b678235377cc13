"""MassGen plugin massgen-voting-judge (under construction)."""
