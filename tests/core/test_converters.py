"""The converters plugins' Options classes use."""

from __future__ import annotations

import pytest

from massgen_core.converters import as_float, as_tuple, optional_int


def test_as_tuple_as_float_and_optional_int_convert_config_values():
    assert as_tuple(["a", "b"]) == ("a", "b") and as_tuple(()) == ()
    assert as_float(2) == 2.0 and isinstance(as_float(2), float)
    assert optional_int(None) is None and optional_int("7") == 7 and optional_int(3.0) == 3
    with pytest.raises(ValueError):
        optional_int("seven")
