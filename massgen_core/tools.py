"""Function tools agents may call, contributed by plugins through ``register_tools``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # tool plugins import this module when every command loads them
    from massgen_core.backend import FunctionSpec


@attrs.frozen(kw_only=True)
class Tool:
    name: str
    description: str
    parameters: Mapping[str, Any]
    func: Callable[..., Awaitable[str]]

    def spec(self) -> FunctionSpec:
        from massgen_core.backend import FunctionSpec

        return FunctionSpec(name=self.name, description=self.description, parameters=self.parameters)

    async def __call__(self, **arguments: Any) -> str:
        return await self.func(**arguments)
