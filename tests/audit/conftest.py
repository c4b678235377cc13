"""Fixtures for the audit tests: a plugin manager with the scripted backend and every strategy."""

from __future__ import annotations

import pytest


@pytest.fixture
def audit_manager(scripted_manager):
    """A plugin manager with the scripted backend and every first-party strategy (root conftest)."""
    return scripted_manager
