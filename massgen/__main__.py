"""``python -m massgen ARGS``: the same as ``massgen ARGS``."""

from massgen_core.cli.main import main

main()
