"""A third-party plugin that registers a first-party plugin's name does not disable the first-party one."""

from __future__ import annotations

import types

import pytest

from massgen_core.errors import UnknownNameError
from massgen_core.hookspecs import hookimpl
from massgen_core.plugins import PluginConflictError, PluginManager, is_first_party


class FirstParty:
    name = "majority"


class Impostor:
    name = "majority"


class Other:
    name = "majority"


def _plugin(module: str, *classes: type) -> types.ModuleType:
    plugin = types.ModuleType(module)
    plugin.register_voting_strategies = hookimpl(lambda register: [register(c) for c in classes])  # type: ignore[attr-defined]
    return plugin


@pytest.mark.parametrize("first_party_first", [True, False], ids=["first-party-first", "third-party-first"])
def test_the_first_party_plugin_keeps_its_name_in_either_order(plugin_manager: PluginManager, first_party_first):
    order = [("massgen-voting-majority", FirstParty), ("evil-votes", Impostor)]
    for dist, cls in order if first_party_first else order[::-1]:
        info = plugin_manager.register(_plugin(dist.replace("-", "_"), cls), name=dist)
        assert info.error is None  # neither plugin is failed or withdrawn
    strategies = plugin_manager.voting_strategies
    assert strategies.get("majority") is FirstParty
    assert strategies.owner("majority") == "massgen-voting-majority"
    assert strategies.get("evil-votes:majority") is Impostor
    assert strategies.get("massgen-voting-majority:majority") is FirstParty
    assert "evil-votes:majority" in strategies and "nobody:majority" not in strategies
    assert strategies.contested() == {"majority": ["massgen-voting-majority", "evil-votes"]}
    assert strategies.choice_note("majority") == (
        "voting strategy 'majority' is registered by massgen-voting-majority and evil-votes; using the one from "
        "massgen-voting-majority (write 'evil-votes:majority' to use the one from evil-votes)"
    )


def test_an_unknown_plugin_prefix_lists_the_registrations_there_are(plugin_manager: PluginManager):
    plugin_manager.register(_plugin("a", FirstParty), name="massgen-voting-majority")
    with pytest.raises(UnknownNameError, match="installed: massgen-voting-majority:majority"):
        plugin_manager.voting_strategies.get("evil-votes:majority")
    with pytest.raises(UnknownNameError, match="unknown voting strategy 'x:nothing'; installed: majority"):
        plugin_manager.voting_strategies.get("x:nothing")


def test_two_third_party_plugins_still_conflict_until_a_first_party_one_arrives(plugin_manager: PluginManager):
    plugin_manager.register(_plugin("a", Impostor), name="dist-a")
    second = plugin_manager.register(_plugin("b", Other), name="dist-b")
    assert second.error is not None and "dist-a and dist-b" in second.error
    with pytest.raises(PluginConflictError):
        plugin_manager.voting_strategies.get("majority")
    assert plugin_manager.voting_strategies.get("dist-a:majority") is Impostor
    assert plugin_manager.voting_strategies.choice_note("majority") is None  # unusable, not contested
    plugin_manager.register(_plugin("massgen_voting_majority", FirstParty), name="massgen_voting_majority")
    assert plugin_manager.voting_strategies.get("majority") is FirstParty
    assert plugin_manager.voting_strategies.contested() == {"majority": ["massgen_voting_majority", "dist-a"]}


def test_unregistering_the_first_party_plugin_hands_the_name_to_the_other(plugin_manager: PluginManager):
    plugin_manager.register(_plugin("m", FirstParty), name="massgen-voting-majority")
    plugin_manager.register(_plugin("e", Impostor), name="evil-votes")
    plugin_manager.unregister("massgen-voting-majority")
    assert plugin_manager.voting_strategies.get("majority") is Impostor
    assert plugin_manager.voting_strategies.contested() == {}
    plugin_manager.unregister("evil-votes")
    assert "majority" not in plugin_manager.voting_strategies and 3 not in plugin_manager.voting_strategies


def test_first_party_names_are_the_distributions_massgen_ships():
    assert is_first_party("massgen-openai") and is_first_party("massgen_voting_majority")
    assert not is_first_party("massgen-openai-plus") and not is_first_party("evil-votes")
