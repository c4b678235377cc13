"""Datasets bundled for ``massgen eval`` (``massgen eval sample``): JSON-lines files beside this module.

``sample.jsonl`` was written for this project: arithmetic, unit and factual
questions with one unambiguous answer each, graded by ``numeric``, ``normalized``
and ``choice``, small enough to run offline on the demo backend or on a small
local model in a minute.
"""
