"""MassGen plugin massgen-voting-ranked (under construction)."""
