"""The {{ cookiecutter.registered_name|tojson }} tool, through MassGen's plugin manager."""

from __future__ import annotations

import asyncio

from massgen_core.plugins import PluginManager

import {{ cookiecutter.module_name }}

NAME = {{ cookiecutter.registered_name|tojson }}


def tool():
    pm = PluginManager()
    pm.register({{ cookiecutter.module_name }}, name={{ cookiecutter.project_slug|tojson }})
    return pm.tools.get(NAME)


def test_the_plugin_registers_the_tool_under_its_name() -> None:
    assert tool().name == NAME


def test_the_model_is_offered_a_text_parameter() -> None:
    spec = tool().spec()
    assert spec.name == NAME
    assert spec.parameters["required"] == ["text"]


def test_calling_the_tool_counts_words_lines_and_characters() -> None:
    result = asyncio.run(tool()(text="one two\nthree"))
    assert result == "words: 3, lines: 2, characters: 13"


def test_an_empty_text_counts_zero() -> None:
    assert asyncio.run(tool()(text="")) == "words: 0, lines: 0, characters: 0"
