"""``RunOptions``: what ``massgen [OPTIONS] ["question"]`` was asked to do, once click has parsed it.

A plain value shared by the command's declaration (massgen_core.cli.run), the
code that runs it (massgen_core.cli.run_impl) and the commands that resolve a
config the same way (batch, serve). It imports nothing of the CLI.
"""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class RunOptions:
    question: str | None = None
    config: str | None = None
    backend: str | None = None
    model: str | None = None
    base_url: str | None = None
    system_message: str | None = None
    no_display: bool = False
    no_logs: bool = False
    json_output: bool = False
    json_lines: bool = False
    env: str | None = None
    preset: str | None = None
    template: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    continue_latest: bool = False
    resume: str | None = None
    images: tuple[str, ...] = ()  # --image PATH_OR_URL
    files: tuple[str, ...] = ()  # --file PATH
    verbosity: int = 1  # 0 final answer only, 1 normal, 2 verbose, 3 debug
    debug: bool = False
    profile: bool = False  # --profile: time and CPU per phase at the end (massgen_core.profiling)
