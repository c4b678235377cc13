"""{{ cookiecutter.description }}.

The MassGen entry point of {{ cookiecutter.project_slug }}: the hook below registers the
{{ cookiecutter.kind.replace('_', ' ') }} {{ cookiecutter.registered_name|tojson }} when MassGen loads plugins. This module
must stay cheap to import: MassGen imports it whenever it lists or loads plugins.
"""

from __future__ import annotations

from massgen_core.hookspecs import Register, hookimpl
{%- if cookiecutter.kind == "backend" %}
from massgen_core.lazy import Lazy, forward_to

# Registered as a Lazy: MassGen imports this module whenever it loads plugins (every command,
# `massgen config validate` too) and the backend module only when a session builds the
# backend. The declared attributes must equal the class's; loading it checks that.
BACKEND = Lazy(
    "{{ cookiecutter.module_name }}.backend:EchoBackend",
    name={{ cookiecutter.registered_name|tojson }},
    model_patterns=({{ cookiecutter.registered_name|tojson }}, {{ (cookiecutter.registered_name ~ "-*")|tojson }}),
)

__all__ = ["BACKEND", "register_backends"]


@hookimpl
def register_backends(register: Register) -> None:
    register(BACKEND)


__getattr__ = forward_to(__name__, "backend")  # EchoBackend: imported on first use
{%- elif cookiecutter.kind == "voting_strategy" %}

from {{ cookiecutter.module_name }}.voting import UnanimousOrFirst

__all__ = ["UnanimousOrFirst", "register_voting_strategies"]


@hookimpl
def register_voting_strategies(register: Register) -> None:
    register(UnanimousOrFirst)
{%- elif cookiecutter.kind == "exporter" %}

from {{ cookiecutter.module_name }}.exporter import VotesCsvExporter

__all__ = ["VotesCsvExporter", "register_exporters"]


@hookimpl
def register_exporters(register: Register) -> None:
    register(VotesCsvExporter)
{%- elif cookiecutter.kind == "tool" %}

from {{ cookiecutter.module_name }}.tool import WORD_COUNT

__all__ = ["WORD_COUNT", "register_tools"]


@hookimpl
def register_tools(register: Register) -> None:
    register(WORD_COUNT)
{%- elif cookiecutter.kind == "grader" %}

from {{ cookiecutter.module_name }}.grader import KEYWORDS

__all__ = ["KEYWORDS", "register_graders"]


@hookimpl
def register_graders(register: Register) -> None:
    register(KEYWORDS)
{%- endif %}
