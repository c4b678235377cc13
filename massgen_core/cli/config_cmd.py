"""``massgen config``: validate, show and set configuration files.

``validate`` prints ``file:line:col: message`` lines (``--json``: a list of
problem objects) and exits 1 when any file has an error; ``show`` prints the
effective config as YAML with secrets redacted; ``set`` rewrites one value
keeping comments, and leaves the file untouched when the result would be
invalid. The loader is imported inside each command so ``massgen --help``
stays cheap; nothing here prints an API key. Problem lines quote keys from
the file, so they are made inert (``massgen_core.terminal``) before printing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from massgen_core.terminal import inert

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def config() -> None:
    """Validate, show and edit configuration files."""


@config.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of problem objects.")
def validate(files: tuple[str, ...], as_json: bool) -> None:
    """Check config files; exit 0 when all are valid, 1 otherwise."""
    from massgen_core.config.loader import validate_files

    problems = validate_files(files)
    if as_json:
        import json

        click.echo(json.dumps([p.to_dict() for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(inert(problem.format()))
        failed = {p.file for p in problems if p.is_error}
        for name in files:
            if name not in failed:
                click.echo(inert(f"{name}: ok"))
    # sys.exit, not ctx.exit: the entry point runs click with standalone_mode=False (see run.py)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


def default_config_path() -> Path:
    """The user's default config: ``config.yaml`` in the user config dir."""
    from massgen_core.paths import config_dir

    return config_dir() / "config.yaml"


def _warn(problems: list[Any]) -> None:
    for problem in problems:
        click.echo(inert(problem.format()), err=True)


@config.command()
@click.argument("file", required=False)
@click.option("--env", metavar="NAME", help="Apply the named environment overlay first.")
def show(file: str | None, env: str | None) -> None:
    """Print the effective config (defaults filled in, API keys redacted) as YAML."""
    from massgen_core.config.loader import config_to_dict, load_config_with_warnings
    from massgen_core.errors import MassGenError

    if file is None:
        path = default_config_path()
        if not path.is_file():
            raise MassGenError(f"no FILE given and no default config at {path}")
        file = str(path)
    config_obj, warnings = load_config_with_warnings(file, env=env)
    _warn(warnings)
    click.echo(dump_yaml(config_to_dict(config_obj)), nl=False)


def dump_yaml(data: Any) -> str:
    """Readable YAML: block style, key order kept, multi-line strings as ``|`` blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
        style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    return yaml.dump(
        data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def parse_key_path(text: str) -> list[str | int]:
    """``agents[0].backend.model`` (or ``agents.0.backend.model``) -> ``["agents", 0, "backend", "model"]``."""
    from massgen_core.errors import MassGenError

    parts: list[str | int] = []
    position = 0
    for match in _PART.finditer(text):
        gap = text[position : match.start()]
        if gap not in ("", "."):
            raise MassGenError(f"cannot read key path {text!r} near {gap!r}")
        name, index = match.groups()
        parts.append(int(index) if index is not None else (int(name) if name.isdigit() else name))
        position = match.end()
    if not parts or text[position:] not in ("",):
        raise MassGenError(f"cannot read key path {text!r}; write it like agents[0].backend.model")
    return parts


def _parse_value(text: str) -> Any:
    """VALUE as YAML (``0.5`` a number, ``true`` a boolean, ``{verbosity: low}`` a mapping)."""
    from massgen_core.config.document import DocumentError, parse_yaml

    try:
        return parse_yaml(text, "VALUE").data
    except DocumentError:
        return text


def _set_in(data: Any, parts: list[str | int], value: Any, new_map: Any) -> None:
    from massgen_core.errors import MassGenError

    current = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        shown = "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[: depth + 1]
        ).lstrip(".")
        if isinstance(current, list):
            if not isinstance(part, int) or not -len(current) <= part < len(current):
                raise MassGenError(f"{shown}: no such list item (the list has {len(current)})")
        elif isinstance(current, dict):
            part = str(part)
            if not last and part not in current:
                current[part] = new_map()
        else:
            raise MassGenError(f"{shown}: cannot set inside a {type(current).__name__}")
        if last:
            current[part] = value
        else:
            current = current[part]


@config.command(name="set")
@click.argument("file")
@click.argument("key_path", metavar="KEY.PATH")
@click.argument("value")
@click.option(
    "--break-alias",
    is_flag=True,
    help="When KEY.PATH goes through a YAML alias (*name), change only this place: copy the shared value here.",
)
def set_value(file: str, key_path: str, value: str, break_alias: bool) -> None:
    """Set one value (e.g. agents[0].backend.model gpt-4o), keeping comments; refuse if invalid."""
    from massgen_core.config.loader import load_text_with_warnings
    from massgen_core.config.problems import ConfigError
    from massgen_core.errors import MassGenError

    path = Path(file)
    try:
        original = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MassGenError(f"{file}: cannot read: {exc}") from None
    parts = parse_key_path(key_path)
    new_value = _parse_value(value)
    if file.lower().endswith(".json"):
        import json

        try:
            data = json.loads(original)
        except json.JSONDecodeError as exc:
            raise MassGenError(
                f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        _set_in(data, parts, new_value, dict)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = _set_yaml(file, original, parts, new_value, break_alias=break_alias)
    try:
        _, warnings = load_text_with_warnings(text, file)
    except ConfigError as exc:
        lines = "\n".join(p.format() for p in exc.problems)
        raise MassGenError(
            f"not written: {file} would be invalid with {key_path} = {value}:\n{lines}"
        ) from None
    _write_atomically(path, text)
    _warn(warnings)
    click.echo(inert(f"{file}: set {key_path}"))


def _set_yaml(
    file: str, original: str, parts: list[str | int], value: Any, *, break_alias: bool = False
) -> str:
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    from massgen_core.errors import MassGenError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap users' long lines
    try:
        _, indent, block_seq_indent = load_yaml_guess_indent(original)
        data = yaml.load(original)
    except YAMLError as exc:
        raise MassGenError(f"{file}: invalid YAML: {exc}".replace("\n", " ")) from None
    # keep the file's own indentation so the diff is the one changed line
    # (ruamel's guess: ``indent`` is the sequence indent, ``block_seq_indent`` the dash offset)
    offset = block_seq_indent or 0
    sequence = indent or 2
    yaml.indent(
        mapping=max(sequence - offset, 1) if offset else sequence, sequence=sequence, offset=offset
    )
    if data is None:
        data = CommentedMap()
    from massgen_core.cli.yaml_aliases import shared_prefix, unshare

    shared = shared_prefix(data, parts)
    if shared is not None and not break_alias:
        from massgen_core.config.checker import format_key_path

        alias, anchor = (format_key_path(p) for p in shared)
        raise MassGenError(
            f"not written: {alias} in {file} is a YAML alias of {anchor}, which other places share, "
            f"so setting it here would change all of them; set {anchor} to change them all, or "
            "pass --break-alias to give this place its own copy"
        )
    if shared is not None:
        unshare(data, shared[0])
    _set_in(data, parts, value, CommentedMap)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step so a crash never leaves half a config."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        with contextlib.suppress(
            OSError
        ):  # keep the new file's default mode if the old one cannot be read
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- get -----------------------------------------------------------------------


def _lookup(data: Any, parts: list[str | int]) -> Any:
    """The value at ``parts`` in plain data; MassGenError naming the first step that is not there."""
    from massgen_core.config.checker import format_key_path
    from massgen_core.errors import MassGenError, did_you_mean

    current = data
    for depth, part in enumerate(parts):
        shown = format_key_path(parts[: depth + 1])
        if isinstance(current, list) and isinstance(part, int):
            if not -len(current) <= part < len(current):
                raise MassGenError(f"{shown}: no such list item (the list has {len(current)})")
            current = current[part]
        elif isinstance(current, dict) and str(part) in current:
            current = current[str(part)]
        elif isinstance(current, dict):
            hint = did_you_mean(str(part), [str(k) for k in current])
            known = ", ".join(str(k) for k in current) or "nothing"
            raise MassGenError(
                f"{shown}: not set" + (f" (did you mean {hint!r}?)" if hint else f"; here: {known}")
            )
        else:
            raise MassGenError(f"{shown}: {format_key_path(parts[:depth]) or 'the config'} has no keys")
    return current


@config.command(name="get")
@click.argument("args", nargs=-1, required=True, metavar="[FILE] KEY.PATH")
@click.option("--env", metavar="NAME", help="Apply the named environment overlay first.")
def get_value(args: tuple[str, ...], env: str | None) -> None:
    """Print one value of the effective config (API keys redacted), e.g. agents[0].backend.model."""
    from massgen_core.config.loader import config_to_dict, load_config_with_warnings
    from massgen_core.errors import MassGenError

    if len(args) > 2:
        raise MassGenError("give KEY.PATH, or FILE KEY.PATH")
    if len(args) == 1:
        path = default_config_path()
        if not path.is_file():
            raise MassGenError(f"no FILE given and no default config at {path}")
        file, key_path = str(path), args[0]
    else:
        file, key_path = args
    parts = parse_key_path(key_path)
    config_obj, warnings = load_config_with_warnings(file, env=env)
    _warn(warnings)
    data = config_to_dict(config_obj)
    if isinstance(parts[0], str) and parts[0].startswith("x-"):  # an anchor holder: in the file, not the config
        from massgen_core.config.loader import read_document, resolve_config_path
        from massgen_core.redaction import redact

        source = resolve_config_path(file)
        written = read_document(source, file).data
        data = {**data, **{key: redact(value) for key, value in written.items() if key.startswith("x-")}}
    if parts[0] == "agent" and len(config_obj.agents) == 1:  # the one-agent shape, as written
        parts = ["agents", 0, *parts[1:]]
    value = _lookup(data, parts)
    if isinstance(value, dict | list):
        click.echo(inert(dump_yaml(value)), nl=False)
    elif isinstance(value, bool):
        click.echo("true" if value else "false")
    else:
        click.echo(inert(str(value)))


# -- list ----------------------------------------------------------------------


def _summary(path: Path) -> str:
    """A bundled config's first comment line: what it is for."""
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                text = line.strip()
                if text.startswith("#") and text.strip("# "):
                    return text.lstrip("# ").strip()
                if text and not text.startswith("#"):
                    break
    except (OSError, UnicodeDecodeError):  # pragma: no cover - the package's own files
        pass
    return ""


def _list_bundled(as_json: bool) -> None:
    from massgen_core import configs

    found = configs.bundled_configs()
    if as_json:
        import json

        rows = [{"name": n, "path": str(p), "summary": _summary(p)} for n, p in found.items()]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(n) for n in found), default=0)
    for name, path in found.items():
        click.echo(f"{name:<{width}}  {_summary(path)}".rstrip())
    click.echo(
        f"\n{len(found)} bundled configs (files in {configs.bundled_dir()}): run one with "
        'massgen --config NAME "question", or copy its file and edit the copy'
    )


@config.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {name, path, summary}.")
def list_configs(as_json: bool) -> None:
    """Show the bundled example configs (usable by name with --config)."""
    _list_bundled(as_json)


@click.command(name="configs")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {name, path, summary}.")
def configs_cmd(as_json: bool) -> None:
    """Show the bundled example configs (usable by name with --config)."""
    _list_bundled(as_json)


# -- edit ----------------------------------------------------------------------


def _text_problems(text: str, file: str) -> list[Any]:
    """Every problem ``config validate`` would report for ``text`` as the file ``file``."""
    from massgen_core.config.loader import load_dotenv_files, parse_document, validate_document
    from massgen_core.config.problems import ConfigError

    try:
        doc = parse_document(text, file)
    except ConfigError as exc:
        return exc.problems
    load_dotenv_files()
    return validate_document(doc)


@config.command()
@click.argument("file", required=False)
def edit(file: str | None) -> None:
    """Open a config in $EDITOR; it is saved only when it validates (an invalid edit is never lost)."""
    import shlex
    import subprocess
    import tempfile

    from massgen_core.errors import MassGenError

    path = Path(file) if file is not None else default_config_path()
    if not path.is_file():
        raise MassGenError(
            f"no config at {path}" + ("; write one with massgen setup" if file is None else "")
        )
    original = path.read_text(encoding="utf-8")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, draft_name = tempfile.mkstemp(prefix=f"{path.stem}.", suffix=path.suffix or ".yaml")
    os.close(fd)
    draft = Path(draft_name)
    draft.write_text(original, encoding="utf-8")
    try:
        while True:
            try:
                status = subprocess.call([*shlex.split(editor), str(draft)])
            except OSError as exc:
                raise MassGenError(f"cannot run the editor {editor!r} ($VISUAL/$EDITOR): {exc.strerror or exc}") from None
            text = draft.read_text(encoding="utf-8", errors="replace")
            if status != 0:
                kept = _keep(path, draft, text, original)
                raise MassGenError(f"the editor exited with status {status}; {path} left as it was{kept}")
            if text == original:
                click.echo(inert(f"{path}: unchanged"))
                return
            problems = _text_problems(text, str(path))
            errors = [p for p in problems if p.is_error]
            for problem in problems:
                click.echo(inert(problem.format()), err=True)
            if not errors:
                _write_atomically(path, text)
                click.echo(inert(f"{path}: saved"))
                return
            if sys.stdin.isatty() and click.confirm("The file is invalid. Edit it again?", default=True, err=True):
                continue
            kept = _keep(path, draft, text, original)
            raise MassGenError(f"not saved: {path} would be invalid; left as it was{kept}")
    finally:
        draft.unlink(missing_ok=True)


def _keep(path: Path, draft: Path, text: str, original: str) -> str:
    """Save the user's edit next to the file (never lose it); the message tail saying where."""
    if text == original:
        return ""
    import datetime as _dt

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.rejected-{stamp}")
    fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it may hold a key
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return f"; your edit is in {backup}"
