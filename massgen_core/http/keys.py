"""Finding a backend's API key: config, then the environment, then .env files.

Order: the config's ``api_key``; each of the backend's key variables in the
environment; the same variables in ``./.env`` and then in
``config_dir()/.env`` (read with python-dotenv, never loaded into
``os.environ``). A missing key is a ``MissingKeyError`` naming the variables,
raised before any request is sent. Found keys are registered for redaction;
this module never logs or prints a key.
"""

from __future__ import annotations

import os
from pathlib import Path

from massgen_core.http.errors import ErrorContext, MissingKeyError
from massgen_core.paths import config_dir
from massgen_core.redaction import remember_secret


def env_files() -> list[Path]:
    return [Path.cwd() / ".env", config_dir() / ".env"]


def find_key(api_key: str | None, key_env: tuple[str, ...]) -> str | None:
    """The key from config, environment or .env files, or None."""
    if api_key:
        remember_secret(api_key)
        return api_key
    for var in key_env:
        value = os.environ.get(var)
        if value:
            remember_secret(value)
            return value
    for path in env_files():
        if not path.is_file():
            continue
        from dotenv import dotenv_values  # lazily: see massgen_core/http/__init__.py

        values = dotenv_values(path)
        for var in key_env:
            value = values.get(var)
            if value:
                remember_secret(value)
                return value
    return None


def resolve_key(api_key: str | None, key_env: tuple[str, ...], context: ErrorContext) -> str | None:
    """The key, or ``MissingKeyError`` when the backend needs one (``key_env`` non-empty) and none is set."""
    key = find_key(api_key, key_env)
    if key is None and key_env:
        raise MissingKeyError(context=context)
    return key
