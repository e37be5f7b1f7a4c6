"""The end of a graceful stop: wait for the run in flight within the grace period, and cut it short after."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

__all__ = ["drain", "drain_budget"]


def drain_budget(grace_period: float) -> float:
    """Seconds the run in flight may take: the grace period less a little for closing the server and client."""
    return max(0.0, grace_period - min(2.0, grace_period * 0.1))


async def drain(task: asyncio.Task[Any] | None, within: float, *, before_cut: Callable[[], None]) -> bool:
    """Wait up to `within` seconds for `task`; past that, call `before_cut` and cancel it. True when it ended
    by itself (or there was none)."""
    if task is None or task.done():
        return True
    done, _ = await asyncio.wait({task}, timeout=max(0.0, within))
    if done:
        return True
    before_cut()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return False
