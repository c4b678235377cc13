"""``python -m massgen.cli ARGS``: v0.0.3's way to run MassGen, the same as ``massgen ARGS``."""

from massgen_core.cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
