"""Where the questions of a batch or an evaluation run: in this process, or as Ray tasks.

``LocalExecutor`` answers with the team in this process (the default).
``RayExecutor`` sends each question to a Ray cluster as a task that builds the
same team from the same ``Config`` in the worker and returns its
``TeamResult``; the batch engine around it (concurrency, the results file,
resuming, the budget) is unchanged, so results are the same. Without an
address Ray starts a local cluster on this machine; with one (``--ray-address``
or ``RAY_ADDRESS``) it joins that cluster, whose nodes need MassGen and the
config's plugins installed. Ray is used as it is: this module schedules nothing
itself.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any, cast

from massgen_core.errors import MassGenError

if TYPE_CHECKING:
    from massgen_core.batch import Item
    from massgen_core.team import Team, TeamResult


class LocalExecutor:
    """Questions answered by ``team`` in this process."""

    def __init__(self, team: Team) -> None:
        self.team = team

    def start(self) -> None:
        return None

    async def ask(self, item: Item) -> TeamResult:
        return await self.team.ask(item.question, history=item.history)

    async def aclose(self) -> None:
        await self.team.aclose()


def _answer(config: Any, record: bool, question: str, history: tuple[tuple[str, str], ...]) -> Any:
    """The Ray task: one turn with a team built in the worker; a MassGenError comes back as its text."""
    from massgen_core.team import Team

    async def run() -> Any:
        async with Team(config, record=record) as team:
            return await team.ask(question, history=history)

    try:
        return asyncio.run(run())
    except MassGenError as exc:
        return {"error": str(exc)}


class RayExecutor:
    """Questions as Ray tasks (see the module docstring)."""

    def __init__(self, team: Team, *, address: str | None = None) -> None:
        self.team = team
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self._remote: Any = None
        self._started_here = False

    def start(self) -> None:
        # Under `uv run`, Ray would otherwise try to rebuild this environment for its workers;
        # local workers run this very interpreter and need nothing of the kind.
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        try:
            import ray
        except ImportError:
            raise MassGenError(
                "--executor ray needs Ray: pip install 'ray>=2.40' (in this checkout: uv sync --group ray)"
            ) from None
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(include_dashboard=False, log_to_driver=False)
            self._started_here = True
        self._remote = ray.remote(_answer)

    async def ask(self, item: Item) -> TeamResult:
        import ray

        ref = self._remote.remote(self.team.config, bool(self.team.record), item.question, tuple(item.history))
        try:
            result = await ref
        except asyncio.CancelledError:
            ray.cancel(ref, force=True)
            raise
        if isinstance(result, dict):
            raise MassGenError(result["error"])
        return cast("TeamResult", result)

    async def aclose(self) -> None:
        await self.team.aclose()
        if self._started_here:
            import ray

            ray.shutdown()


def make_executor(name: str, team: Team, *, ray_address: str | None = None) -> LocalExecutor | RayExecutor:
    if name == "local":
        return LocalExecutor(team)
    if name == "ray":
        return RayExecutor(team, address=ray_address)
    raise MassGenError(f"unknown executor {name!r}: choose local or ray")


__all__ = ["LocalExecutor", "RayExecutor", "make_executor"]
