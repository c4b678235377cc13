"""Loading and validating configuration files into the attrs schema: the public API.

The rules of PROTOCOL.md §9 plus ours live in ``rules`` (``agent``/``agents``
and nested teams, ``backend_params`` defaults, backend-specific keys validated
by the backend plugin's ``Options`` class, voting strategies and their
options, legacy shapes with deprecation warnings, model-name inference of the
backend type); the type checking against the schema's annotations in
``checker``; what a backend needs to run in ``backend_rules``; plugins'
sections in ``sections``. This module reads files, drops the ``x-*`` anchor
holders, applies named ``environments`` overlays and ``${VAR}`` interpolation
(``interpolation``) with ``.env`` files, runs the rules and turns the
validated data into objects with cattrs. Every problem is collected
and located (file, line, column, key path) before one ``ConfigError`` is
raised; nothing else escapes. Heavy imports (YAML, cattrs, dotenv) happen only
when needed, and this module never writes files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from massgen_core.config import counts
from massgen_core.config.checker import Checker, KeyPath, format_key_path, type_name_of
from massgen_core.config.document import Document, DocumentError, parse_text
from massgen_core.config.interpolation import interpolate_data
from massgen_core.config.problems import ConfigError, ConfigProblem, sort_problems
from massgen_core.config.rules import Rules, converter, exception_text, infer_backend_type
from massgen_core.config.schema import AgentConfig, Config
from massgen_core.errors import did_you_mean
from massgen_core.redaction import redact

if TYPE_CHECKING:
    from massgen_core.plugins import PluginManager

EXTENSION_PREFIX = "x-"


# -- environment: .env files and ${VAR} ---------------------------------------


def load_dotenv_files(cwd: Path | None = None) -> list[Path]:
    """Load ``.env`` from the current directory, then the user config dir; never override set variables."""
    from massgen_core.paths import config_dir

    found = [p for p in ((cwd or Path.cwd()) / ".env", config_dir() / ".env") if p.is_file()]
    if found:
        from dotenv import load_dotenv

        for path in found:  # the first file wins because nothing is overridden
            try:
                load_dotenv(path, override=False)
            except (OSError, UnicodeDecodeError):  # an unreadable .env must not stop the load
                continue
    return found


# -- environments (overlays) ---------------------------------------------------


def _deep_merge(
    doc: Document, base: dict[str, Any], overlay: dict[str, Any], source: KeyPath, target: KeyPath
) -> dict[str, Any]:
    """``overlay`` over ``base``: mappings merge, everything else (lists too) replaces."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            doc.key_pos[(*target, key)] = doc.where((*source, key), at_key=True)
            merged[key] = _deep_merge(doc, merged[key], value, (*source, key), (*target, key))
        else:
            doc.relocate((*source, key), (*target, key))
            merged[key] = value
    return merged


# -- public API -------------------------------------------------------------------


def manager_or_default(manager: PluginManager | None) -> PluginManager:
    if manager is not None:
        return manager
    from massgen_core.plugins import get_plugin_manager

    return get_plugin_manager()


def _process(
    doc: Document,
    *,
    env: str | None,
    manager: PluginManager,
    interpolate: bool = True,
    build: bool = True,
) -> tuple[Config | None, list[ConfigProblem]]:
    """Apply every rule to ``doc``; the Config is None when any error was found.

    With ``build=False`` (``config validate``) the checked data is not turned into
    objects: the rules above are the whole validation, and cattrs (whose import and
    generated code cost more than checking 200 agents) is left unloaded.
    """
    if env is not None or (isinstance(doc.data, dict) and "display" in doc.data):
        doc = doc.copy()  # overlays move positions around; keep the caller's document intact
    checker = Checker(doc, manager, os.environ)
    for path, message, at_key in doc.issues:
        checker.add(path, message, at_key=at_key)
    raw = doc.data
    if not isinstance(raw, dict):
        what = "empty" if raw is None else type_name_of(raw)
        checker.add(
            (), f"a config must be a mapping with 'agents' (or 'agent'), but the document is {what}"
        )
        return None, sort_problems(checker.problems)
    data = checker.mapping(raw, (), "the document")
    assert data is not None
    rules = Rules(checker)

    environments = checker.mapping(
        data.pop("environments", None), ("environments",), "environments"
    )
    if environments:
        for name, overlay in list(environments.items()):
            if overlay is None:
                environments[name] = {}
            elif not isinstance(overlay, dict):
                checker.add(
                    ("environments", name),
                    f"an environment must be a mapping (an overlay), got {type_name_of(overlay)}",
                )
                environments[name] = {}
            elif "environments" in overlay:
                checker.add(
                    ("environments", name, "environments"),
                    "environments cannot be nested",
                    at_key=True,
                )
    if env is not None:
        known = sorted(environments or {})
        if env not in known:
            checker.add(
                ("environments",) if environments else (),
                f"unknown environment {env!r}; known: {', '.join(known) or 'none (add an environments: section)'}",
                at_key=bool(environments),
                suggestion=did_you_mean(env, known),
            )
            return None, sort_problems(checker.problems)
        overlay = checker.mapping((environments or {})[env], ("environments", env), "an environment") or {}
        data = _deep_merge(
            doc,
            data,
            {k: v for k, v in overlay.items() if k != "environments"},
            ("environments", env),
            (),
        )

    # ``x-*`` keys hold YAML anchors for reuse (as in docker compose); only their aliases count
    data = {k: v for k, v in data.items() if not k.startswith(EXTENSION_PREFIX)}
    if "display" in data:
        rules.legacy_display(data)
    if interpolate:
        data = interpolate_data(checker, data, ())
    cleaned = rules.config(data)
    problems = sort_problems(checker.problems)
    if cleaned is None or not build or any(p.is_error for p in problems):
        return None, problems
    cleaned["environment"] = env
    cleaned["source"] = doc.file
    try:
        config = converter().structure(cleaned, Config)
    except Exception as exc:  # validation above should make this unreachable; never let it escape
        checker.add((), f"could not build the configuration: {exception_text(exc)}")
        return None, sort_problems(checker.problems)
    return config, problems


def read_document(path: Path, display: str) -> Document:
    """A file as a located document; ConfigError (line 0) when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text: {exc.reason}"
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
    else:
        return parse_document(text, display)
    # a problem with the whole file: line and column 0
    raise ConfigError([ConfigProblem(file=display, line=0, col=0, key_path="", message=reason)])


def parse_document(text: str, file: str) -> Document:
    """Parse text into a located document, or raise ConfigError with the syntax error."""
    try:
        return parse_text(text, file)
    except DocumentError as exc:
        raise ConfigError(
            [ConfigProblem(file=file, line=exc.line, col=exc.col, key_path="", message=exc.message)]
        ) from None


def load_text_with_warnings(
    text: str,
    file: str = "<config>",
    *,
    env: str | None = None,
    manager: PluginManager | None = None,
) -> tuple[Config, list[ConfigProblem]]:
    """Load config text (YAML, or JSON when ``file`` ends in .json); ConfigError on any error."""
    doc = parse_document(text, file)
    load_dotenv_files()
    config, problems = _process(doc, env=env, manager=manager_or_default(manager))
    if config is None:
        raise ConfigError(problems)
    return config, problems


def load_config_with_warnings(
    source: str | os.PathLike[str], *, env: str | None = None, manager: PluginManager | None = None
) -> tuple[Config, list[ConfigProblem]]:
    """Load a config file (a path or a bundled name); also return its deprecation warnings."""
    path = resolve_config_path(source)
    doc = read_document(path, str(source))
    load_dotenv_files()
    config, problems = _process(doc, env=env, manager=manager_or_default(manager))
    if config is None:
        raise ConfigError(problems)
    return config, problems


def load_config(
    source: str | os.PathLike[str], *, env: str | None = None, manager: PluginManager | None = None
) -> Config:
    """Load and validate a config file; raise ConfigError with every located problem."""
    return load_config_with_warnings(source, env=env, manager=manager)[0]


def config_from_dict(
    data: Any,
    *,
    source: str = "<config>",
    env: str | None = None,
    manager: PluginManager | None = None,
) -> Config:
    """Validate already-parsed data (no positions: problems point at line 1)."""
    config, problems = _process(
        Document(file=source, data=data), env=env, manager=manager_or_default(manager)
    )
    if config is None:
        raise ConfigError(problems)
    return config


def validate_document(
    doc: Document, *, manager: PluginManager | None = None
) -> list[ConfigProblem]:
    """Every problem in ``doc``: the base config and each of its environments."""
    manager = manager_or_default(manager)
    _, problems = _process(doc, env=None, manager=manager, build=False)
    data = doc.data
    envs = data.get("environments") if isinstance(data, dict) else None
    if isinstance(envs, dict) and not any(p.is_error for p in problems):
        for name in envs:
            if isinstance(name, str):
                _, env_problems = _process(doc, env=name, manager=manager, build=False)
                problems.extend(env_problems)
    return sort_problems(problems)


def validate_files(
    paths: Iterable[str | os.PathLike[str]], *, manager: PluginManager | None = None
) -> list[ConfigProblem]:
    """Problems (errors and warnings) of every file; an empty list means all are valid."""
    problems: list[ConfigProblem] = []
    dotenv_loaded = False
    for source in paths:
        try:
            doc = read_document(resolve_config_path(source), str(source))
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if not dotenv_loaded:
            load_dotenv_files()
            dotenv_loaded = True
        manager = manager_or_default(manager)
        from massgen_core.config.sections import check_section_document, section_for_file

        section = section_for_file(source, manager)
        if section is not None:  # a plugin's own file, such as webhooks.yaml
            problems.extend(check_section_document(section, doc, manager, os.environ)[1])
        else:
            problems.extend(validate_document(doc, manager=manager))
    return problems


def resolve_config_path(name: str | os.PathLike[str]) -> Path:
    """A path if it exists, else a bundled config by file name (with or without .yaml)."""
    from massgen_core import configs

    path = Path(name).expanduser()
    if path.is_file():
        return path
    text = str(name)
    found = configs.find_bundled(text)
    if found is not None:
        return found
    bundled = configs.bundled_names()
    hint = did_you_mean(Path(text).stem, bundled)
    message = "no such file, and no bundled config of that name; bundled: " + (
        ", ".join(bundled) or "none"
    )
    if path.is_dir():
        message = "is a directory, not a config file"
        hint = None
    raise ConfigError(
        [ConfigProblem(file=text, line=0, col=0, key_path="", message=message, suggestion=hint)]
    )


def config_from_cli(
    *,
    backend: str | None,
    model: str | None,
    base_url: str | None = None,
    system_message: str | None = None,
    manager: PluginManager | None = None,
) -> Config:
    """A one-agent config from ``--backend/--model/--base-url/--system-message``."""
    return config_from_cli_with_warnings(
        backend=backend, model=model, base_url=base_url, system_message=system_message, manager=manager
    )[0]


def config_from_cli_with_warnings(
    *,
    backend: str | None,
    model: str | None,
    base_url: str | None = None,
    system_message: str | None = None,
    manager: PluginManager | None = None,
) -> tuple[Config, list[ConfigProblem]]:
    """``config_from_cli`` and the warnings it produced (which plugin a contested name uses, say)."""
    if backend is None and model is None:
        raise ConfigError(
            [
                ConfigProblem(
                    file="<command line>",
                    line=0,
                    col=0,
                    key_path="",
                    message="give --config FILE, or --model NAME (and --backend TYPE when the model does not identify it)",
                )
            ]
        )
    model, count = counts.split_model(model)  # --model NAME:N makes N agents a1..aN
    if count is not None and not 1 <= count <= counts.MAX_COUNT:
        raise ConfigError([_cli_problem(f"--model NAME:N makes N agents; N must be from 1 to {counts.MAX_COUNT}, got {count}")])
    spec: dict[str, Any] = {}
    for key, value in (("type", backend), ("model", model), ("base_url", base_url)):
        if value is not None:
            spec[key] = value
    agent: dict[str, Any] = {"id": "agent1", "backend": spec}
    if system_message is not None:
        agent["system_message"] = system_message
    load_dotenv_files()
    # the shell has already expanded the command line: a literal ${...} there is meant as text
    data: dict[str, Any] = {"agent": agent}
    if count is not None:
        data = {"agents": [{**agent, "id": agent_id, "backend": dict(spec)} for agent_id in counts.cli_ids(count)]}
    doc = Document(file="<command line>", data=data)
    config, problems = _process(doc, env=None, manager=manager_or_default(manager), interpolate=False)
    if config is None:
        raise ConfigError(problems)
    return config, [p for p in problems if not p.is_error]


def _override_agent(
    agent: AgentConfig, model: str | None, base_url: str | None, system_message: str | None
) -> AgentConfig:
    changes: dict[str, Any] = {}
    if agent.agents:
        changes["agents"] = tuple(
            _override_agent(a, model, base_url, system_message) for a in agent.agents
        )
    if agent.backend is not None:
        backend_changes: dict[str, Any] = {
            k: v for k, v in (("model", model), ("base_url", base_url)) if v is not None
        }
        if backend_changes:
            changes["backend"] = attrs.evolve(agent.backend, **backend_changes)
    if system_message is not None and not agent.agents:
        changes["system_message"] = system_message
    return attrs.evolve(agent, **changes) if changes else agent


def apply_cli_overrides(
    config: Config,
    *,
    model: str | None = None,
    base_url: str | None = None,
    system_message: str | None = None,
) -> Config:
    """``--config`` combined with ``--model/--base-url/--system-message``: override every agent."""
    if model is None and base_url is None and system_message is None:
        return config
    if counts.split_model(model)[1] is not None:
        raise ConfigError(
            [_cli_problem("--model NAME:N makes N agents without --config; in a config file write `count: N` in the agent")]
        )
    agents = tuple(_override_agent(a, model, base_url, system_message) for a in config.agents)
    return attrs.evolve(config, agents=agents)


def _cli_problem(message: str) -> ConfigProblem:
    return ConfigProblem(file="<command line>", line=0, col=0, key_path="", message=message)


def config_to_dict(config: Config, *, redact_secrets: bool = True) -> dict[str, Any]:
    """The effective config as plain data (what ``massgen config show`` prints), secrets and URL credentials masked."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: clean(v)
                for k, v in value.items()
                if v is not None and v != {} and v != [] and v != ()
            }
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    data = converter().unstructure(config)
    data.pop("source", None)
    data.pop("environment", None)
    for agent in _walk_agents(data.get("agents", [])):
        backend = agent.get("backend")
        if isinstance(backend, dict):
            _flatten_options(backend)
    data = clean(data)
    shown: dict[str, Any] = redact(data) if redact_secrets else data
    return shown


def _walk_agents(agents: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for agent in agents:
        yield agent
        yield from _walk_agents(agent.get("agents") or [])


def _flatten_options(backend: dict[str, Any]) -> None:
    """Write backend-specific keys inline again, as users write them."""
    options = backend.pop("options", None) or {}
    backend.update(options)
    for key in ("fallback", "pool"):
        for item in backend.get(key) or []:
            _flatten_options(item)


__all__ = [
    "ConfigError",
    "ConfigProblem",
    "apply_cli_overrides",
    "config_from_cli",
    "config_from_dict",
    "config_to_dict",
    "format_key_path",
    "infer_backend_type",
    "load_config",
    "load_config_with_warnings",
    "load_dotenv_files",
    "load_text_with_warnings",
    "parse_document",
    "resolve_config_path",
    "validate_document",
    "validate_files",
]

