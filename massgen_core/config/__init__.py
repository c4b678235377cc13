"""Configuration: attrs schema, YAML/JSON loading with located errors, environments.

``load_config(path_or_bundled_name, env=...)`` is the entry point; every problem
comes back at once in a ``ConfigError``. Importing this package is cheap: the
YAML parser, cattrs and python-dotenv load only when a file is read.
"""

from __future__ import annotations

from massgen_core.config.loader import (
    apply_cli_overrides,
    config_from_cli,
    config_from_dict,
    config_to_dict,
    infer_backend_type,
    load_config,
    load_config_with_warnings,
    load_text_with_warnings,
    resolve_config_path,
    validate_files,
)
from massgen_core.config.problems import ConfigError, ConfigProblem
from massgen_core.config.schema import (
    AgentConfig,
    BackendConfig,
    Config,
    OrchestratorConfig,
    TimeoutConfig,
    UIConfig,
    VotingConfig,
)

__all__ = [
    "AgentConfig",
    "BackendConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "OrchestratorConfig",
    "TimeoutConfig",
    "UIConfig",
    "VotingConfig",
    "apply_cli_overrides",
    "config_from_cli",
    "config_from_dict",
    "config_to_dict",
    "infer_backend_type",
    "load_config",
    "load_config_with_warnings",
    "load_text_with_warnings",
    "resolve_config_path",
    "validate_files",
]
