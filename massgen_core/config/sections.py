"""Plugins' own config sections, checked and built the way the core's config is.

A plugin registers a ``ConfigSection`` through the ``register_config_sections``
hook: a name, an attrs class that is the section's schema, and optionally the
file it lives in (``file_name``, in the user config dir, e.g. webhooks.yaml)
and a function of cross-field ``rules``. A section without a file is a
top-level key of the main config, and its value lands in ``Config.sections``.

Either way the section gets what the core's config gets: ``${VAR}``
interpolation, unknown keys with a did-you-mean, type errors, missing keys and
the schema's own attrs validators, each a ``ConfigProblem`` located at file,
line and column; then cattrs structures the checked data into the schema, its
errors mapped back to the positions of the keys they concern. Nothing here
knows any plugin; reading a section imports cattrs, the main config's
``config validate`` path without sections does not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from massgen_core.config.checker import INVALID, Checker, KeyPath, field_message
from massgen_core.config.document import Document
from massgen_core.config.problems import ConfigError, ConfigProblem, sort_problems

if TYPE_CHECKING:
    from massgen_core.plugins import PluginManager

# report(path, message, at_key=False): a problem at ``path`` inside the section
Report = Callable[..., None]
Rules = Callable[[Mapping[str, Any], Report], None]
_FIELD_NAMED = re.compile(r"^'([A-Za-z_][A-Za-z0-9_]*)'")  # how attrs validators start their messages


@attrs.frozen(kw_only=True)
class ConfigSection:
    """One plugin's config section: what it is called, its schema, where it lives, its rules."""

    name: str
    schema: type  # an attrs class; fields with converters are the rules' to judge
    file_name: str | None = None  # its own file in the user config dir; None: a key of the main config
    rules: Rules | None = None  # cross-field checks on the checked data, reporting located problems
    description: str = ""


def check_section(section: ConfigSection, raw: Any, path: KeyPath, checker: Checker) -> Any:
    """The section's data checked against its schema and rules, then built; INVALID once reported."""
    data = checker.mapping(raw, path, f"the {section.name} section")
    if data is None:
        return INVALID
    strict, checker.strict = checker.strict, True  # the schema is the section's whole truth
    try:
        checked = checker.check_attrs(data, section.schema, path)
    finally:
        checker.strict = strict
    if checked is INVALID:
        return INVALID
    before = len(checker.problems)
    if section.rules is not None:

        def report(where: KeyPath, message: str, *, at_key: bool = False) -> None:
            checker.add((*path, *where), message, at_key=at_key)

        section.rules(checked, report)
    if len(checker.problems) > before:
        return INVALID
    return build_section(section, checked, path, checker)


def build_section(section: ConfigSection, checked: Mapping[str, Any], path: KeyPath, checker: Checker) -> Any:
    """cattrs structures the checked data; each error it raises is located at its key."""
    from massgen_core.config.rules import converter

    try:
        return converter().structure(dict(checked), section.schema)
    except Exception as exc:
        for where, message in located_errors(exc, path, section.schema):
            checker.add(where, message)
        return INVALID


def located_errors(exc: BaseException, path: KeyPath, cls: Any = None) -> Iterator[tuple[KeyPath, str]]:
    """``(key path, message)`` for every cause inside a cattrs validation error."""
    from cattrs.errors import ClassValidationError, IterableValidationError

    if isinstance(exc, ClassValidationError):
        by_attribute, plain = exc.group_exceptions()
        for sub, attribute in by_attribute:
            yield from located_errors(sub, (*path, attribute.name))
        for sub in plain:
            yield from located_errors(sub, path, exc.cl)
    elif isinstance(exc, IterableValidationError):
        by_index, unplaced = exc.group_exceptions()
        for sub, item in by_index:
            yield from located_errors(sub, (*path, int(item.index)))
        for sub in unplaced:
            yield from located_errors(sub, path)
    elif isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from located_errors(inner, path, cls)
    else:
        message = str(exc) or type(exc).__name__
        named = _FIELD_NAMED.match(message)
        if named and isinstance(cls, type) and attrs.has(cls) and named[1] in attrs.fields_dict(cls):
            yield (*path, named[1]), field_message(named[1], message)
        else:
            yield path, message


# -- a section in its own file -------------------------------------------------------


def section_for_file(path: str | os.PathLike[str], manager: PluginManager) -> ConfigSection | None:
    """The registered section whose own file is called like ``path`` (webhooks.yaml), if any."""
    name = Path(path).name
    for _, section in manager.config_sections.items():
        if section.file_name == name:
            found: ConfigSection = section
            return found
    return None


def check_section_document(
    section: ConfigSection, doc: Document, manager: PluginManager | None, environ: Mapping[str, str]
) -> tuple[Any, list[ConfigProblem]]:
    """A section file's value (None when empty) and its problems; the value is INVALID on any error."""
    from massgen_core.config.interpolation import interpolate_data

    checker = Checker(doc, manager, environ)  # type: ignore[arg-type]  # a section's checks use no plugin
    for where, message, at_key in doc.issues:
        checker.add(where, message, at_key=at_key)
    raw = doc.data
    if raw is None:
        raw = {}
    if isinstance(raw, dict):
        raw = interpolate_data(checker, raw, ())
    value = check_section(section, raw, (), checker)
    problems = sort_problems(checker.problems)
    if any(p.is_error for p in problems):
        value = INVALID
    return value, problems


def load_section_file(
    section: ConfigSection,
    path: Path,
    *,
    environ: Mapping[str, str] | None = None,
    manager: PluginManager | None = None,
) -> Any:
    """Read, check and build ``section`` from its file; ConfigError with every located problem."""
    from massgen_core.config.loader import manager_or_default, read_document

    doc = read_document(path, str(path))
    value, problems = check_section_document(
        section, doc, manager_or_default(manager), os.environ if environ is None else environ
    )
    if value is INVALID:
        raise ConfigError(problems)
    return value


__all__ = [
    "ConfigSection",
    "Report",
    "Rules",
    "build_section",
    "check_section",
    "check_section_document",
    "load_section_file",
    "located_errors",
    "section_for_file",
]
