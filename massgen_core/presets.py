"""Presets (named reusable configs) and templates (questions with ``{variables}``).

Both are YAML files: the user's in ``config_dir()/presets`` and
``config_dir()/templates``, the bundled ones in ``massgen_core/presets_builtin``;
a user file shadows a bundled one of the same name. ``resolve_preset`` gives a
config path for ``--preset``; ``render_template`` builds the question for
``--template NAME -p key value``. Nothing here loads a config or runs a session.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from massgen_core import paths
from massgen_core.errors import MassGenError, UnknownNameError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class PresetError(MassGenError):
    """A preset or template cannot be saved, found or used as asked."""


@attrs.frozen(kw_only=True)
class Entry:
    """One preset or template file."""

    kind: str  # preset | template
    name: str
    path: Path
    builtin: bool
    description: str = ""


def _check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise PresetError(
            f"invalid {kind} name {name!r}: use letters, digits, '-', '_' and '.', starting with a letter or digit"
        )
    return name


def _user_dir(kind: str) -> Path:
    return paths.config_dir() / f"{kind}s"


def _builtin_dir(kind: str) -> Path:
    return Path(str(resources.files("massgen_core.presets_builtin") / f"{kind}s"))


def _describe_preset(path: Path) -> str:
    """The first comment line of a preset file."""
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                return line.lstrip("# ").strip()
            if line.strip():
                break
    except OSError:
        pass
    return ""


def _read_template(path: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise PresetError(f"cannot read template {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise PresetError(f"template {path} must be a mapping with a 'text' string")
    return data


def entries(kind: str) -> list[Entry]:
    """Every preset (or template), the user's shadowing bundled ones, sorted by name."""
    found: dict[str, Entry] = {}
    for builtin, folder in ((True, _builtin_dir(kind)), (False, _user_dir(kind))):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            if kind == "preset":
                description = _describe_preset(path)
            else:
                try:
                    description = str(_read_template(path).get("description") or "")
                except PresetError as exc:
                    description = f"(unreadable: {exc})"
            found[path.stem] = Entry(kind=kind, name=path.stem, path=path, builtin=builtin, description=description)
    return [found[name] for name in sorted(found)]


def find(kind: str, name: str) -> Entry:
    _check_name(kind, name)
    known = {e.name: e for e in entries(kind)}
    if name not in known:
        raise UnknownNameError(kind, name, known)
    return known[name]


def delete(kind: str, name: str) -> Path:
    entry = find(kind, name)
    if entry.builtin:
        raise PresetError(f"{name!r} is a built-in {kind} and cannot be deleted (save one with the same name to override it)")
    entry.path.unlink()
    return entry.path


def _write(kind: str, name: str, text: str, overwrite: bool) -> Path:
    _check_name(kind, name)
    path = paths.ensure_dir(_user_dir(kind)) / f"{name}.yaml"
    if path.exists() and not overwrite:
        raise PresetError(f"{kind} {name!r} already exists at {path}; use --force to replace it")
    path.write_text(text, encoding="utf-8")
    return path


# -- presets -------------------------------------------------------------------


def resolve_preset(name: str) -> Path:
    """The YAML config file of the preset ``name`` (the user's, else the bundled one)."""
    return find("preset", name).path


def save_preset(name: str, config_file: Path, *, overwrite: bool = False) -> Path:
    """Copy a config file (comments and all) into the user's presets."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = Path(config_file).read_text(encoding="utf-8")
        data = YAML(typ="safe").load(text)
    except OSError as exc:
        raise PresetError(f"cannot read {config_file}: {exc.strerror or exc}") from None
    except YAMLError as exc:
        raise PresetError(f"{config_file} is not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict) or not ("agents" in data or "agent" in data):
        raise PresetError(f"{config_file} is not a MassGen config: it needs an 'agent' or 'agents' section")
    from massgen_core.config.interpolation import is_unset
    from massgen_core.config.loader import load_dotenv_files, parse_document, validate_document

    load_dotenv_files()
    # a variable unset in this shell may be set where the preset runs: only the file is judged
    problems = validate_document(parse_document(text, str(config_file)))
    errors = [p for p in problems if p.is_error and not is_unset(p.message)]
    if errors:  # a preset is run by name later, far from the file: refuse what a run would refuse
        lines = "\n".join(p.format() for p in errors)
        raise PresetError(f"not saved: {config_file} is not a config a run accepts:\n{lines}")
    return _write("preset", name, text, overwrite)


def _mask(node: Any) -> None:
    from massgen_core.redaction import REDACTED, is_secret_name, redact_text

    if isinstance(node, dict):
        for key, value in node.items():
            if is_secret_name(str(key)) and isinstance(value, str) and value and not value.startswith("${"):
                node[key] = REDACTED
            elif isinstance(value, str) and redact_text(value) != value:  # a URL with credentials
                node[key] = redact_text(value)
            else:
                _mask(value)
    elif isinstance(node, list):
        for value in node:
            _mask(value)


def show_preset(name: str) -> str:
    """The preset's YAML, comments kept, with literal keys masked (``${VAR}`` references shown)."""
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: keeps comments and layout
    data = yaml.load(resolve_preset(name).read_text(encoding="utf-8"))
    _mask(data)
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


# -- templates -----------------------------------------------------------------


def template_variables(text: str) -> list[str]:
    """The ``{name}`` variables of a template, in order of first use."""
    seen: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PresetError(f"template text is malformed ({exc}); write literal braces as {{{{ and }}}}") from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PresetError(f"template variable {{{field}}} must be a plain name like {{topic}}")
        if field not in seen:
            seen.append(field)
    return seen


def template_text(name: str) -> str:
    return str(_read_template(find("template", name).path)["text"])


def save_template(name: str, text: str, *, description: str = "", overwrite: bool = False) -> Path:
    from io import StringIO

    from ruamel.yaml import YAML

    template_variables(text)
    out = StringIO()
    data: dict[str, str] = {"description": description, "text": text} if description else {"text": text}
    YAML(typ="safe", pure=True).dump(data, out)
    return _write("template", name, out.getvalue(), overwrite)


def render_template(name: str, params: Mapping[str, str]) -> str:
    """The question from template ``name`` with its variables filled in from ``params``."""
    text = template_text(name)
    variables = template_variables(text)
    missing = [v for v in variables if v not in params]
    if missing:
        hint = " ".join(f"-p {v} VALUE" for v in missing)
        raise PresetError(f"template {name!r} needs {', '.join(missing)}: add {hint}")
    unknown = [k for k in params if k not in variables]
    if unknown:
        raise PresetError(
            f"template {name!r} has no variable {', '.join(unknown)}; its variables are: {', '.join(variables) or 'none'}"
        )
    return text.format_map(dict(params))
