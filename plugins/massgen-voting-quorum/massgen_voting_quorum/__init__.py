"""MassGen plugin massgen-voting-quorum (under construction)."""
