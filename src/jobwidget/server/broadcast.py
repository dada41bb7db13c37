"""Fan-out of WebSocket frames to every client through bounded per-client queues."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any, Final

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["Broadcaster"]

logger = logging.getLogger(__name__)

#: Close code for a client that fell behind ("try again later"): it reconnects and re-lists.
TRY_AGAIN_LATER: Final = 1013
_CLOSE_TIMEOUT: Final = 2.0
_encode: Final = msgspec.json.Encoder().encode

#: Abruptly cut a client's TCP connection, given the ASGI scope's ``client`` address.
Aborter = Callable[[tuple[str, int] | None], bool]


class _Client:
    """One connected WebSocket with its own queue and sender task."""

    __slots__ = ("addr", "queue", "sender", "ws")

    def __init__(self, ws: WebSocket, max_queue: int) -> None:
        self.ws = ws
        client = ws.scope.get("client")
        self.addr: tuple[str, int] | None = (client[0], client[1]) if client else None
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_queue)
        self.sender: asyncio.Task[None] | None = None


class Broadcaster:
    """Send every frame to every client; never block the publisher.

    Parameters
    ----------
    quirks : bool
        Upstream style: no ``seq`` and frames shuffled within ``shuffle_window`` seconds.
    max_queue : int
        Frames a client may have waiting; one more closes it with code 1013.
    aborter : callable, optional
        Cuts a connection without a close frame (used for stuck clients and fault injection).
    """

    def __init__(
        self,
        *,
        quirks: bool,
        max_queue: int = 10_000,
        shuffle_window: float = 0.05,
        aborter: Aborter | None = None,
    ) -> None:
        self.quirks = quirks
        self.max_queue = max_queue
        self.shuffle_window = shuffle_window
        self.aborter = aborter
        self.seq = 0
        self.sent = 0
        self._clients: set[_Client] = set()
        self._evictions: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def client_count(self) -> int:
        """Number of connected clients."""
        return len(self._clients)

    def publish(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue one frame for every client (the loop thread only; never blocks)."""
        if self.quirks:
            text = _encode({"type": kind, "payload": payload}).decode()
            loop = self._loop or asyncio.get_running_loop()
            loop.call_later(random.uniform(0.0, self.shuffle_window), self._fan_out, text)
            return
        self.seq += 1
        self._fan_out(_encode({"type": kind, "seq": self.seq, "payload": payload}).decode())

    def _fan_out(self, text: str) -> None:
        self.sent += 1
        for client in list(self._clients):
            try:
                client.queue.put_nowait(text)
            except asyncio.QueueFull:
                logger.warning("WebSocket client %s fell behind; closing it (1013)", client.addr)
                self._clients.discard(client)
                task = asyncio.get_running_loop().create_task(self._evict(client))
                self._evictions.add(task)
                task.add_done_callback(self._evictions.discard)

    async def serve(self, ws: WebSocket) -> None:
        """Run one accepted-to-be connection until it ends."""
        self._loop = asyncio.get_running_loop()
        await ws.accept()
        client = _Client(ws, self.max_queue)
        client.sender = asyncio.create_task(self._send_loop(client))
        self._clients.add(client)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._clients.discard(client)
            client.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client.sender

    async def _send_loop(self, client: _Client) -> None:
        ws = client.ws
        queue = client.queue
        try:
            while True:
                await ws.send_text(await queue.get())
        except (WebSocketDisconnect, RuntimeError, OSError):
            logger.debug("send to %s failed; the connection is gone", client.addr)

    async def _evict(self, client: _Client) -> None:
        if client.sender is not None:
            client.sender.cancel()
        ws = client.ws
        try:
            if ws.application_state != WebSocketState.DISCONNECTED:
                await asyncio.wait_for(ws.close(TRY_AGAIN_LATER), _CLOSE_TIMEOUT)
        except (TimeoutError, RuntimeError, OSError, WebSocketDisconnect):
            if self.aborter is not None:
                self.aborter(client.addr)
