"""A RESP2 reply parser in Python, used when the ``hiredis`` package is not installed.

It offers the part of ``hiredis.Reader`` the connection uses (``feed``, ``gets``,
``has_data``), with the same results: bulk and status replies as ``bytes``, error
replies as instances of the given class (returned, not raised), nil as None. hiredis
is faster; this keeps the client working where only pure Python is at hand (an image
whose Python packages come from Debian without python3-hiredis, for instance).
"""

from __future__ import annotations

from typing import Any


class _Incomplete(Exception):
    """More bytes are needed before the next reply is complete."""


class Reader:
    """Incremental parser: ``feed`` bytes, then ``gets`` replies (False while incomplete)."""

    def __init__(self, replyError: type[Exception] = Exception) -> None:  # noqa: N803
        self._error = replyError
        self._buffer = bytearray()
        self._pos = 0

    def feed(self, data: Any, offset: int = 0, length: int = -1) -> None:
        view = memoryview(data).cast("B")
        end = len(view) if length < 0 else offset + length
        self._buffer += view[offset:end]

    def has_data(self) -> bool:
        return self._pos < len(self._buffer)

    def gets(self) -> Any:
        try:
            value, self._pos = self._parse(self._pos)
        except _Incomplete:
            return False
        if self._pos > 65536 and self._pos * 2 > len(self._buffer):
            del self._buffer[:self._pos]  # drop what was read, now and then
            self._pos = 0
        return value

    def _parse(self, pos: int) -> tuple[Any, int]:
        buffer = self._buffer
        eol = buffer.find(b"\r\n", pos)
        if eol < 0:
            raise _Incomplete
        kind, line, pos = buffer[pos], bytes(buffer[pos + 1:eol]), eol + 2
        if kind == 0x2B:  # '+'
            return line, pos
        if kind == 0x2D:  # '-'
            return self._error(line.decode(errors="replace")), pos
        if kind == 0x3A:  # ':'
            return int(line), pos
        if kind == 0x24:  # '$'
            size = int(line)
            if size < 0:
                return None, pos
            if pos + size + 2 > len(buffer):
                raise _Incomplete
            return bytes(buffer[pos:pos + size]), pos + size + 2
        if kind == 0x2A:  # '*'
            count = int(line)
            if count < 0:
                return None, pos
            items = []
            for _ in range(count):
                item, pos = self._parse(pos)
                items.append(item)
            return items, pos
        raise ValueError(f"not a RESP2 reply: {bytes(buffer[pos - len(line) - 3:eol])!r}")
