"""Fixtures for the audit tests: a plugin manager with the scripted backend and every strategy."""

from __future__ import annotations

import massgen_scripted
import massgen_voting_judge
import massgen_voting_majority
import massgen_voting_quorum
import massgen_voting_ranked
import massgen_voting_weighted
import pytest


@pytest.fixture
def audit_manager(plugin_manager):
    for module in (
        massgen_scripted,
        massgen_voting_majority,
        massgen_voting_weighted,
        massgen_voting_quorum,
        massgen_voting_ranked,
        massgen_voting_judge,
    ):
        plugin_manager.register(module, name=module.__name__)
    return plugin_manager
