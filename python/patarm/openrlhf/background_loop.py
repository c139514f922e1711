"""One asyncio event loop per process, running in a daemon thread, for synchronous callers.

OpenRLHF calls ``reward_func`` from many worker threads at once (``asyncio.to_thread``). If
each call ran its own event loop, each would get its own HTTP client and its own semaphore,
and a concurrency cap would hold per call only. Every call instead runs its coroutine on this
one loop, so a :class:`patarm.Judge` has one client and one semaphore in the whole process.
A forked child (Ray, DataLoader workers) starts its own loop on first use.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_owner_pid: int | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """This process's background loop, started on first use."""
    global _loop, _owner_pid
    with _lock:
        if _loop is None or _owner_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="patarm-background-loop", daemon=True).start()
            _loop, _owner_pid = loop, os.getpid()
        return _loop


def run_in_background(awaitable: Awaitable[T]) -> T:
    """Run a coroutine on the background loop and wait for its result in this thread."""
    loop = background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        awaitable.close()  # type: ignore[attr-defined]
        raise RuntimeError("run_in_background was called from the background loop itself; await the coroutine instead")
    return asyncio.run_coroutine_threadsafe(awaitable, loop).result()  # type: ignore[arg-type]


__all__ = ["background_loop", "run_in_background"]
