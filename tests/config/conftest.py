"""Stand-in backends and voting strategies for the config tests.

They carry the ``Options`` classes the provider plugins promise (openai,
claude, gemini, grok, chatcompletion; majority and weighted voting), so the
config rules can be tested before, and independently of, the real plugins.
"""

from __future__ import annotations

import types
from typing import Literal

import attrs
import pytest

from massgen_core.backend import Backend
from massgen_core.hookspecs import hookimpl
from massgen_core.voting import VotingStrategy


@attrs.frozen(kw_only=True)
class TextOptions:
    verbosity: Literal["low", "medium", "high"] | None = None


@attrs.frozen(kw_only=True)
class ReasoningOptions:
    effort: Literal["minimal", "low", "medium", "high"] | None = None


@attrs.frozen(kw_only=True)
class OpenAIOptions:
    enable_web_search: bool | None = None
    enable_code_interpreter: bool | None = None
    text: TextOptions | None = None
    reasoning: ReasoningOptions | None = None
    api: Literal["responses", "chat"] | None = None


@attrs.frozen(kw_only=True)
class ClaudeOptions:
    enable_web_search: bool | None = None
    enable_code_execution: bool | None = None
    return_citations: bool | None = None
    thinking_budget: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1024))
    )


@attrs.frozen(kw_only=True)
class GeminiOptions:
    enable_web_search: bool | None = None
    enable_code_execution: bool | None = None


@attrs.frozen(kw_only=True)
class GrokOptions:
    enable_web_search: bool | None = None
    return_citations: bool | None = None
    max_search_results: int | None = None
    search_mode: Literal["auto", "on", "off"] | None = None


class StandInOpenAI(Backend):
    name = "openai"
    model_patterns = ("gpt-*", "o1*", "o3*", "o4*")
    Options = OpenAIOptions


class StandInClaude(Backend):
    name = "claude"
    model_patterns = ("claude-*",)
    Options = ClaudeOptions


class StandInGemini(Backend):
    name = "gemini"
    model_patterns = ("gemini-*",)
    Options = GeminiOptions


class StandInGrok(Backend):
    name = "grok"
    model_patterns = ("grok-*",)
    Options = GrokOptions


class StandInChatCompletion(Backend):
    name = "chatcompletion"
    Options = None


class StandInOllama(Backend):
    """A local preset that claims model names the §9 rules do not know."""

    name = "ollama"
    model_patterns = ("llama*", "qwen*")
    Options = None


@attrs.frozen(kw_only=True)
class WeightedOptions:
    tie_break: Literal["first", "random"] = "first"
    min_weight: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))


class Majority(VotingStrategy):
    name = "majority"


class Weighted(VotingStrategy):
    name = "weighted"
    Options = WeightedOptions


STAND_INS = {
    cls.name: cls
    for cls in (
        StandInOpenAI,
        StandInClaude,
        StandInGemini,
        StandInGrok,
        StandInChatCompletion,
        StandInOllama,
    )
}


def make_plugin(name, backends=(), strategies=()):
    module = types.ModuleType(name)
    if backends:
        module.register_backends = hookimpl(lambda register: [register(b) for b in backends])
    if strategies:
        module.register_voting_strategies = hookimpl(
            lambda register: [register(s) for s in strategies]
        )
    return module


@pytest.fixture
def manager(plugin_manager):
    """A plugin manager holding only the stand-ins."""
    plugin_manager.register(
        make_plugin("standins", list(STAND_INS.values()), [Majority, Weighted]),
        name="massgen-standins",
    )
    return plugin_manager


@pytest.fixture
def write(tmp_path):
    """Write a config file into a temp dir and return its path."""

    def write(text, name="config.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(manager):
    """Load YAML text with the stand-ins; returns the Config (ConfigError propagates)."""
    from massgen_core.config.loader import load_text_with_warnings

    def load(text, file="config.yaml", env=None):
        return load_text_with_warnings(text, file, env=env, manager=manager)[0]

    return load


@pytest.fixture
def problems(manager):
    """Every problem (errors and warnings) of YAML text, as ConfigProblem objects."""
    from massgen_core.config.loader import parse_document, validate_document
    from massgen_core.config.problems import ConfigError

    def problems(text, file="config.yaml"):
        try:
            doc = parse_document(text, file)
        except ConfigError as exc:
            return exc.problems
        return validate_document(doc, manager=manager)

    return problems


@pytest.fixture
def stand_ins():
    """Stand-in backend classes by type name, for types no installed plugin provides yet."""
    return dict(STAND_INS)
