"""The X Activity stream's framing, without I/O: bytes in, lines out, each line told apart.

X writes one JSON object per line and, when it has nothing to send, a keep-alive: an empty line (`\\r\\n`)
at least every 20 seconds (docs/x-platform.md §13). `LineFramer` splits what arrives however the network cut
it; `\\r\\n` and `\\n` both end a line. A line longer than `max_line` is handed on at that length (as bytes it
cannot be an X event, so the store quarantines it) and the rest, up to its end, is dropped: a stream that never
ends a line cannot make the consumer hold it all.

`kind(line)` says what a line is: a keep-alive, an event (anything that is not one of X's error notices: the
store decides whether it is an X event, unknown, or quarantined), or a notice, X's `{"errors": [...]}` line
before it ends a connection (the operational disconnect), which is not an event.
"""

from __future__ import annotations

import enum

import msgspec

__all__ = ["LineFramer", "LineKind", "kind"]

_decoder = msgspec.json.Decoder()


class LineKind(enum.Enum):
    KEEP_ALIVE = "keep_alive"
    EVENT = "event"
    NOTICE = "notice"
    """X's `{"errors": [...]}` without `data`: why the stream is about to end."""


def kind(line: bytes) -> LineKind:
    if not line.strip():
        return LineKind.KEEP_ALIVE
    if b'"errors"' in line:
        try:
            doc = _decoder.decode(line)
        except msgspec.DecodeError:
            return LineKind.EVENT
        if isinstance(doc, dict) and "errors" in doc and "data" not in doc:
            return LineKind.NOTICE
    return LineKind.EVENT


class LineFramer:
    """Split a byte stream into lines (without their `\\r\\n` / `\\n`), bounded by `max_line` bytes each."""

    def __init__(self, max_line: int = 1 << 20) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._skipping = False
        """True after an over-long line was handed on: drop the rest of it, up to its newline."""

    def feed(self, data: bytes) -> list[bytes]:
        """The lines `data` completes, in order (an empty bytes object for each keep-alive)."""
        lines: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if not self._skipping:
                self._buffer += data[start:] if end < 0 else data[start:end]
                if len(self._buffer) > self.max_line:
                    lines.append(bytes(self._buffer[: self.max_line]))
                    self._buffer.clear()
                    self._skipping = True
            if end < 0:
                return lines
            if self._skipping:
                self._skipping = False
            else:
                line = bytes(self._buffer)
                lines.append(line[:-1] if line.endswith(b"\r") else line)
            self._buffer.clear()
            start = end + 1
