"""The RESP layer: command packing, and AI.TENSORGET replies read into arrays however the
bytes arrive (a fake peer on a socketpair dribbles them, a fault a real server on
loopback does not produce on demand)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from sscontainer.client.error import RedisInternalError
from sscontainer.client.resp_reader import Reader as PyReader
from sscontainer.client.ssdb import Address
from sscontainer.client.tensor_reply import read_tensor, tensorset_args
from sscontainer.client.wire import BIG_ARGUMENT, Connection, ServerError, pack


def packed(*args: object) -> bytes:
    parts: list[bytes | memoryview] = []
    pack(args, parts)  # type: ignore[arg-type]
    return b"".join(bytes(p) for p in parts)


def test_pack_matches_resp() -> None:
    assert packed("SET", b"k", 12) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n"
    big = memoryview(bytes(BIG_ARGUMENT + 1))
    parts: list[bytes | memoryview] = []
    pack(["X", big], parts)
    assert parts[1] is big  # sent from its own buffer, not copied
    assert b"".join(bytes(p) for p in parts).endswith(b"\r\n")


def test_tensorset_args_are_smartredis_s() -> None:
    args = tensorset_args("t1", np.arange(6, dtype=np.float32).reshape(2, 3))
    assert args[:6] == ["AI.TENSORSET", "t1", "FLOAT", 2, 3, "BLOB"]
    assert bytes(args[6]) == np.arange(6, dtype=np.float32).tobytes()
    swapped = tensorset_args("t", np.arange(3, dtype=">i4"))
    assert swapped[2] == "INT32" and bytes(swapped[5]) == np.arange(3, dtype="<i4").tobytes()
    fortran = tensorset_args("t", np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    assert bytes(fortran[6]) == np.arange(6.0).tobytes()  # row-major, as the wire wants


def reply(array: np.ndarray, wire: bytes) -> bytes:
    dims = b"".join(b":%d\r\n" % d for d in array.shape)
    blob = array.tobytes()
    return (b"*6\r\n$5\r\ndtype\r\n$%d\r\n%b\r\n$5\r\nshape\r\n*%d\r\n%b$4\r\nblob\r\n$%d\r\n%b\r\n"
            % (len(wire), wire, array.ndim, dims, len(blob), blob))


@pytest.fixture(params=["hiredis", "python"])
def fake_server_dribbling_bytes(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Connection, socket.socket]]:
    ours, theirs = socket.socketpair()
    conn = Connection(Address(socket_path="unused"), None, 5.0)
    conn.sock = ours
    if request.param == "python":  # the parser used where hiredis is not installed
        conn.reader = PyReader(replyError=ServerError)
    yield conn, theirs
    ours.close()
    theirs.close()


def send_in_chunks(peer: socket.socket, data: bytes, size: int) -> threading.Thread:
    def run() -> None:
        for start in range(0, len(data), size):
            peer.sendall(data[start:start + size])

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("elements", [1, 16, 100_000])
def test_tensor_replies_in_any_pieces(
    fake_server_dribbling_bytes: tuple[Connection, socket.socket], chunk: int, elements: int
) -> None:
    conn, peer = fake_server_dribbling_bytes
    array = np.arange(elements, dtype=np.int32).reshape(-1, 1)
    payload = reply(array, b"INT32") + b"+OK\r\n"  # and the next reply follows intact
    if elements == 100_000 and chunk < 64:
        chunk = 4096  # keep the byte-by-byte cases short
    thread = send_in_chunks(peer, payload, chunk)
    got = read_tensor(conn)
    assert got.dtype == np.int32 and np.array_equal(got, array) and got.flags.writeable
    assert conn.read_reply() == b"OK"
    thread.join()


def test_into_the_callers_array(
    fake_server_dribbling_bytes: tuple[Connection, socket.socket]
) -> None:
    conn, peer = fake_server_dribbling_bytes
    array = np.arange(12, dtype=np.float64).reshape(3, 4)
    target = np.zeros(12)
    send_in_chunks(peer, reply(array, b"DOUBLE"), 5).join()
    assert read_tensor(conn, target) is target
    assert np.array_equal(target, array.ravel())


def test_errors_and_other_replies_go_through_hiredis(
    fake_server_dribbling_bytes: tuple[Connection, socket.socket]
) -> None:
    conn, peer = fake_server_dribbling_bytes
    send_in_chunks(peer, b"-ERR tensor key is empty or in a different shard\r\n", 4).join()
    error = read_tensor(conn)
    assert isinstance(error, ServerError) and "tensor key is empty" in str(error)
    send_in_chunks(peer, b"*2\r\n$1\r\na\r\n:1\r\n", 2).join()
    assert read_tensor(conn) == [b"a", 1]


@pytest.mark.parametrize("wire, size_delta", [(b"BOOL", 0), (b"FLOAT", 4)])
def test_a_malformed_tensor_is_read_past_and_reported(
    fake_server_dribbling_bytes: tuple[Connection, socket.socket], wire: bytes, size_delta: int
) -> None:
    conn, peer = fake_server_dribbling_bytes
    body = reply(np.arange(4, dtype=np.float32), wire)
    if size_delta:  # announce 4 more blob bytes than the shape needs
        body = body.replace(b"$16\r\n", b"$20\r\n").replace(b"\r\n", b"\x00" * 4 + b"\r\n", 0)
        body = body[:-2] + b"\x00" * 4 + b"\r\n"
    send_in_chunks(peer, body + b"+OK\r\n", 3).join()
    with pytest.raises(RedisInternalError):
        read_tensor(conn)
    assert conn.read_reply() == b"OK"  # the stream stayed in step
