"""The pure-Python RESP2 reader gives exactly what hiredis gives, however the bytes arrive."""

from __future__ import annotations

import hiredis
import pytest

from sscontainer.client.resp_reader import Reader
from sscontainer.client.wire import ServerError

STREAM = (
    b"+OK\r\n-ERR tensor key is empty\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n"
    b"*0\r\n*-1\r\n*3\r\n$1\r\na\r\n*2\r\n:1\r\n-WRONGTYPE x\r\n$2\r\n\r\n\r\n"
    b"*6\r\n$5\r\ndtype\r\n$5\r\nFLOAT\r\n$5\r\nshape\r\n*1\r\n:2\r\n$4\r\nblob\r\n$8\r\n"
    + bytes(range(8)) + b"\r\n"
)


def replies(reader: object, data: bytes, chunk: int) -> list[object]:
    out = []
    for start in range(0, len(data), chunk):
        reader.feed(data[start:start + chunk])  # type: ignore[attr-defined]
        while (item := reader.gets()) is not False:  # type: ignore[attr-defined]
            out.append(item)
    assert not reader.has_data()  # type: ignore[attr-defined]
    return out


def normal(value: object) -> object:
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, ServerError):
        return ("error", str(value))
    return value


@pytest.mark.parametrize("chunk", [1, 2, 5, 17, 4096])
def test_same_replies_as_hiredis(chunk: int) -> None:
    ours = replies(Reader(replyError=ServerError), STREAM, chunk)
    theirs = replies(hiredis.Reader(replyError=ServerError), STREAM, chunk)
    assert [normal(x) for x in ours] == [normal(x) for x in theirs]
    assert len(ours) == 11


def test_feed_takes_a_slice_of_a_buffer() -> None:
    reader = Reader(replyError=ServerError)
    buffer = bytearray(b"xx:5\r\nyy")
    reader.feed(buffer, 2, 4)
    assert reader.gets() == 5 and reader.gets() is False


def test_garbage_is_refused() -> None:
    reader = Reader(replyError=ServerError)
    reader.feed(b"?what\r\n")
    with pytest.raises(ValueError, match="not a RESP2 reply"):
        reader.gets()
