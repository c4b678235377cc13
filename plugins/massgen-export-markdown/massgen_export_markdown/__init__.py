"""MassGen plugin massgen-export-markdown (under construction)."""
