"""Property tests: no input, through the YAML schema or the Python API, ends in anything
but a typed sscontainer error (SSContainerError; its subclasses are also the builtin
ValueError/TypeError SmartSim raises). Nothing here writes outside a temp directory:
only loading, validation and preview run."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sscontainer import Experiment
from sscontainer.cli.loader import load_plan
from sscontainer.cli.yaml_reader import load_yaml, read_document
from sscontainer.errors import SSContainerError

FUZZ = settings(
    max_examples=int(os.environ.get("SSCONTAINER_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# the values users (and attackers) type: odd text, huge and negative numbers, wrong shapes
text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", ".", "..", "../x", "/", "/proc/self", "a\0b", "x" * 300, "-1",
                     "python3", "true", "lo", "0o777", "99:99:99", "00:10:00", "CPU",
                     "ONNX", "uds", "tcp", "all_perm", "random", "step", ";", "@@"]),
)
scalars = st.one_of(
    text, st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)

TEMPLATE: dict[str, Any] = {
    "name": "e",
    "launcher": "local",
    "tag": ";",
    "database": {"port": 6379, "shards": 1, "interface": "lo", "config": {"maxmemory": "1mb"}},
    "container": {"base": "python:3.11-slim", "pip": ["numpy"], "copy": ["in.txt"]},
    "models": [
        {"name": "m", "exe": "python3", "args": ["-c", "pass"], "params": {"A": 1},
         "run": {"env": {"X": "1"}, "nodes": 1, "walltime": "00:10:00", "args": {"v": None}},
         "files": {"copy": ["in.txt"], "configure": ["in.txt"]}, "key_prefixing": True,
         "colocated_db": {"transport": "uds", "cpus": 1, "config": {"maxmemory": "1mb"}},
         "ml": {"models": [{"name": "cnn", "backend": "ONNX", "path": "in.txt"}]}},
        {"name": "n", "exe": "python3", "after": ["m"], "incoming": ["m"],
         "batch": {"nodes": 1, "time": "00:10:00"}},
    ],
    "ensembles": [
        {"name": "s", "exe": "python3", "params": {"T": [1, 2]}, "strategy": "all_perm",
         "replicas": 2},
    ],
}


def _places(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path of keys/indexes in ``doc`` (where a value can be replaced)."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _places(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _places(value, (*prefix, i))
    return found


PLACES = _places(TEMPLATE)[1:]


def _replace(doc: Any, place: tuple[Any, ...], value: Any) -> Any:
    """``doc`` with the value at ``place`` replaced (unchanged where ``place`` is gone)."""
    if not place:
        return value
    head, rest = place[0], place[1:]
    if isinstance(doc, dict) and head in doc:
        return {**doc, head: _replace(doc[head], rest, value)}
    if isinstance(doc, list) and isinstance(head, int) and head < len(doc):
        return [*doc[:head], _replace(doc[head], rest, value), *doc[head + 1:]]
    return doc


@st.composite
def documents(draw: Callable[..., Any]) -> Any:
    doc: Any = TEMPLATE
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        place = draw(st.sampled_from(PLACES))
        doc = _replace(doc, place, draw(values))
    if draw(st.booleans()):
        doc = {**doc, draw(text): draw(values)}  # an unknown (or duplicate-looking) key
    return doc


def _typed_or_nothing(call: Callable[[], Any]) -> None:
    try:
        call()
    except SSContainerError:
        pass  # a clear, typed error: what bad input must give


@pytest.fixture(scope="module")
def workdir() -> Any:
    with tempfile.TemporaryDirectory() as path:
        with open(os.path.join(path, "in.txt"), "w", encoding="utf-8") as handle:
            handle.write("A = ;A;\n")
        yield path


@FUZZ
@given(doc=documents())
def test_no_yaml_document_gives_anything_but_a_typed_error(workdir: str, doc: Any) -> None:
    path = os.path.join(workdir, "experiment.yaml")
    try:
        text_doc = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text_doc)

    def load_and_preview() -> None:
        plan = load_plan(path)
        with contextlib.redirect_stdout(io.StringIO()):
            plan.exp.preview(*plan.entities.values(), verbosity_level="developer")

    _typed_or_nothing(load_and_preview)


@FUZZ
@given(raw=st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_no_file_content_gives_anything_but_a_typed_error(workdir: str, raw: Any) -> None:
    path = os.path.join(workdir, "raw.yaml")
    with open(path, "wb") as handle:
        handle.write(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    _typed_or_nothing(lambda: read_document(path))


def test_yaml_bounds_hold_without_recursion() -> None:
    with pytest.raises(Exception, match="nested more than 64 levels"):
        load_yaml("a: " + "[" * 20000 + "]" * 20000)
    with pytest.raises(Exception, match="appears twice"):
        load_yaml("name: a\nname: b\n")


api_args = st.one_of(values, st.just(5), st.just(["a", 5]), st.just({"a": object()}))


@FUZZ
@given(
    exe=api_args, exe_args=api_args, env=api_args, run_args=api_args, name=api_args,
    params=api_args, path=st.one_of(st.none(), text), replicas=api_args, strategy=api_args,
    port=api_args, nodes=api_args, interface=api_args, db_kwargs=st.dictionaries(
        st.sampled_from(["maxmemory", "threads_per_queue", "bad key", "save", "port_x"]),
        api_args, max_size=2),
    socket=api_args, permissions=api_args, files=api_args,
)
def test_no_api_call_gives_anything_but_a_typed_error(
    workdir: str, exe: Any, exe_args: Any, env: Any, run_args: Any, name: Any, params: Any,
    path: Any, replicas: Any, strategy: Any, port: Any, nodes: Any, interface: Any,
    db_kwargs: Any, socket: Any, permissions: Any, files: Any,
) -> None:
    exp = Experiment("fuzz", exp_path=os.path.join(workdir, "exp"))
    settings_made: list[Any] = []

    def run_settings() -> None:
        settings_made.append(exp.create_run_settings(exe, exe_args=exe_args, env_vars=env,
                                                     run_args=run_args))

    _typed_or_nothing(run_settings)
    rs = settings_made[0] if settings_made else exp.create_run_settings("python3")
    safe = str(path).replace("\0", "").replace("..", "_").lstrip("/")  # stays in the temp dir
    where = None if path is None else os.path.join(workdir, "exp", safe)
    models: list[Any] = []
    _typed_or_nothing(lambda: models.append(exp.create_model(name, rs, params=params,
                                                             path=where)))
    model = models[0] if models else exp.create_model(f"m{len(exp._entities)}", rs)
    _typed_or_nothing(lambda: exp.create_ensemble(
        f"s{len(exp._entities)}", params=params, run_settings=rs, replicas=replicas,
        perm_strategy=strategy))
    _typed_or_nothing(lambda: exp.create_database(
        port=port, db_nodes=nodes, interface=interface, db_identifier=f"d{len(exp._entities)}",
        **db_kwargs))
    _typed_or_nothing(lambda: model.colocate_db_uds(
        unix_socket=socket, socket_permissions=permissions, **db_kwargs))
    _typed_or_nothing(lambda: model.attach_generator_files(to_copy=files))
    for setter in (rs.set_nodes, rs.set_tasks, rs.set_walltime, rs.set_hostlist):
        _typed_or_nothing(lambda setter=setter: setter(nodes))
    with contextlib.redirect_stdout(io.StringIO()):
        _typed_or_nothing(lambda: exp.preview(model))
    _typed_or_nothing(lambda: exp.summary(style=interface))
    _typed_or_nothing(lambda: exp.get_status(interface))
    # writes only under the experiment path (in the temp directory)
    _typed_or_nothing(lambda: exp.generate(model, tag=strategy, overwrite=True))
