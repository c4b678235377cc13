"""The ``massgen`` command line."""
