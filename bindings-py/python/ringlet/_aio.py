"""Driving the core's pending operations from asyncio.

The extension polls an operation with a waker; when the operation is not ready,
the waker resolves an asyncio future on the caller's loop (through
``loop.call_soon_threadsafe``) when it is worth polling again. No polling loop,
no thread per waiter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._ringlet import Closed


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def drive(pending: Any) -> Any:
    """Awaits a pending operation of the extension."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            fut = loop.create_future()
            done, value = pending.poll(loop, fut)
            if done:
                return value
            await fut
    finally:
        pending.cancel()


async def drive_anext(pending: Any) -> Any:
    """`drive` for ``__anext__``: the end of the stream ends the iteration."""
    try:
        return await drive(pending)
    except Closed:
        raise StopAsyncIteration from None
