"""The worker's side of the module's job protocol: parsing SSC.JOBTAKE replies and
building SSC.JOBDONE / SSC.JOBFAIL (no services; the integration tests run the real thing)."""

from __future__ import annotations

import numpy as np
import pytest

from sscontainer.ml.jobs import (
    DTYPES,
    OutputError,
    done_command,
    encode_output,
    fail_command,
    parse_asset,
    parse_job,
    take_command,
)


def _reply(inputs, kind=b"SCRIPT", call=b"POSITIONAL", variadic=-1, keys=(), args=()):
    encoded = [[name.encode(), list(a.shape), a.tobytes()] for name, a in inputs]
    return [7, kind, b"{\x00\x00}.s", b"0123456789abcdef", b"TORCH", b"GPU:1", 0, 0, 0, b"fn",
            encoded, 2, 15, call, variadic, list(keys), list(args)]


def test_a_job_reply_becomes_a_job_with_its_input_arrays() -> None:
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    b = np.ones((1,), dtype=np.float64)
    job = parse_job(_reply([("INT16", a), ("DOUBLE", b)]))
    assert (job.id, job.kind, job.version, job.device, job.fn) == (7, "SCRIPT", "0123456789abcdef",
                                                                    "GPU:1", "fn")
    assert job.key == b"{\x00\x00}.s"  # binary keys stay bytes
    np.testing.assert_array_equal(job.inputs[0], a)
    assert job.inputs[1].dtype == np.float64 and job.n_outputs == 2 and job.waited_ms == 15
    assert job.is_script and job.samples == 2 and job.arguments() == job.inputs


def test_script_calling_conventions() -> None:
    arrays = [("FLOAT", np.full((2,), i, np.float32)) for i in range(3)]
    listed = parse_job(_reply(arrays, call=b"LIST", variadic=1)).arguments()
    assert len(listed) == 2 and isinstance(listed[1], list) and len(listed[1]) == 2
    execute = parse_job(_reply(arrays, call=b"EXECUTE", keys=[b"k1"], args=[b"a", b"b"]))
    tensors, keys, args = execute.arguments()
    assert len(tensors) == 3 and keys == ["k1"] and args == ["a", "b"]


def test_an_asset_reply() -> None:
    asset = parse_asset([b"MODEL", b"v", b"TF", b"CPU", [b"x"], [b"y", b"z"], b"bytes"])
    assert asset.inputs == ("x",) and asset.outputs == ("y", "z") and asset.payload == b"bytes"


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_every_tensor_dtype_encodes_as_the_module_reads_it(name: str) -> None:
    array = np.zeros((2, 3), dtype=DTYPES[name])
    dtype, ndims, d1, d2, blob = encode_output(array)
    assert (dtype, ndims, d1, d2) == (name, 2, 2, 3) and bytes(blob) == array.tobytes()


def test_outputs_that_no_tensor_can_hold_are_refused() -> None:
    with pytest.raises(OutputError, match="float16"):
        encode_output(np.zeros(2, np.float16))
    with pytest.raises(OutputError, match="empty"):
        encode_output(np.zeros((0, 4), np.float32))
    swapped = np.arange(3, dtype=">i4")  # big-endian input is stored in host order
    assert bytes(encode_output(swapped)[-1]) == np.arange(3, dtype="<i4").tobytes()
    fortran = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert bytes(encode_output(fortran)[-1]) == np.arange(6, dtype=np.int32).tobytes()


def test_reports_and_take() -> None:
    out = np.ones((1, 2), np.float32)
    command = done_command(9, 1500, 1, [out])
    assert command[:8] == ("SSC.JOBDONE", 9, 1500, 1, 1, "FLOAT", 2, 1)
    assert fail_command(9, "line one\nline two") == ("SSC.JOBFAIL", 9, "line one line two")
    assert take_command("GPU:0", 64, -5) == ("SSC.JOBTAKE", "GPU:0", 64, 0)
