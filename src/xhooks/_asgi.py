"""ASGI plumbing shared by the receiver, the dashboard and the emulator."""

from __future__ import annotations

from xhooks._types import Receive

__all__ = ["BodyTooLarge", "Disconnected", "read_body"]


class BodyTooLarge(Exception):
    """The request body passed its limit; nothing more of it was read."""


class Disconnected(Exception):
    """The client went away before its body was complete."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, read until `more_body` is false, never holding more than `limit` bytes.

    Raises:
        BodyTooLarge: the body passed `limit` bytes.
        Disconnected: the client disconnected first.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
