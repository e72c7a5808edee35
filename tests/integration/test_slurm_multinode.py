"""Workflows across the nodes of the multi-node cluster (slurm-multinode.sh), for real.

Each node is its own network namespace with its own hsn0 address and loopback; files are
shared. Placement is checked where Slurm says the job ran (BatchHost) or where it printed.
"""

from __future__ import annotations

import ctypes.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sscontainer import Experiment, Status
from tests.conftest import require_service
from tests.integration.db_fixtures import free_port_block, require_server
from tests.integration.slurm_support import MultiNode, on_the_nodes, use_multinode

pytestmark = pytest.mark.slurm
PY = sys.executable
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "producer_consumer"


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> MultiNode:
    require_server()
    return use_multinode(monkeypatch)


def _placed(exp: Experiment, name: str, node: str) -> object:
    settings = exp.create_run_settings(PY, [str(EXAMPLE / f"{name}.py")])
    settings.set_hostlist(node)
    return exp.create_model(name, settings)


def test_producer_consumer_on_other_nodes_than_the_database(
    cluster: MultiNode, tmp_path: Path
) -> None:
    exp = on_the_nodes(Experiment("pc", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=free_port_block(1), interface="auto", hosts="n1")
    exp.start(db)
    try:
        assert db.get_address()[0].startswith(cluster.addresses["n1"] + ":")
        p1, p2, consumer = (
            _placed(exp, "producer_1", "n2"), _placed(exp, "producer_2", "n3"),
            _placed(exp, "consumer", "n4"),
        )
        p1.enable_key_prefixing()  # type: ignore[attr-defined]
        p2.enable_key_prefixing()  # type: ignore[attr-defined]
        exp.generate(p1, p2, consumer)  # type: ignore[arg-type]
        exp.start(p1, p2, block=True)  # type: ignore[arg-type]
        exp.start(consumer, block=True)  # type: ignore[arg-type]
        for model, node in ((p1, "n2"), (p2, "n3"), (consumer, "n4")):
            job = exp.jobs.get(model.name)  # type: ignore[attr-defined]
            assert job is not None and job.status == Status.COMPLETED, job
            assert cluster.batch_host(job.handle) == node
        out = Path(consumer.path, "consumer.out").read_text()  # type: ignore[attr-defined]
        assert "1: [5 6 7 8]" in out and "2: [1 2 3 4]" in out
    finally:
        exp.stop(db)


CLUSTER_APP = textwrap.dedent("""
    import json, os, socket
    import numpy as np
    import redis
    from sscontainer import Client
    c = Client()
    for i in range(60):
        c.put_tensor(f"zq{i}", np.full(3, i))
    assert all((c.get_tensor(f"zq{i}") == i).all() for i in range(60))
    sizes = []  # the app's keys on each shard (the ML workers keep keys of their own)
    for address in os.environ["SSDB"].split(","):
        host, port = address.rsplit(":", 1)
        sizes.append(len(redis.Redis(host=host, port=int(port)).keys("*zq*")))
    print(json.dumps({"host": socket.gethostname(), "sizes": sizes}))
""")


def test_three_shards_one_per_node_read_by_a_model_on_a_fourth(
    cluster: MultiNode, tmp_path: Path
) -> None:
    port = free_port_block(3)
    exp = on_the_nodes(Experiment("clu", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=port, db_nodes=3, interface="hsn0", hosts=["n1", "n2", "n3"])
    exp.start(db)
    try:
        assert db.get_address() == [
            f"{cluster.addresses[n]}:{port + i}" for i, n in enumerate(("n1", "n2", "n3"))
        ]
        settings = exp.create_run_settings(PY, ["-c", CLUSTER_APP])
        settings.set_hostlist("n4")
        model = exp.create_model("reader", settings)
        exp.generate(model)
        exp.start(model)
        err = Path(model.path, "reader.err").read_text()
        assert exp.get_status(model) == [Status.COMPLETED], err
        result = json.loads(Path(model.path, "reader.out").read_text().splitlines()[-1])
        assert result["host"] == "n4"
        assert sum(result["sizes"]) == 60 and all(size > 0 for size in result["sizes"])
    finally:
        exp.stop(db)


def test_ensemble_of_24_is_one_job_array_spread_over_the_nodes(
    cluster: MultiNode, tmp_path: Path
) -> None:
    exp = on_the_nodes(Experiment("arr24", exp_path=str(tmp_path), launcher="slurm"))
    ensemble = exp.create_ensemble(
        "sweep", replicas=24, run_settings=exp.create_run_settings("hostname"),
        batch_settings=exp.create_batch_settings(nodes=1, time="00:05:00"),
    )
    exp.generate(ensemble)
    exp.start(ensemble)
    assert exp.get_status(ensemble) == [Status.COMPLETED] * 24
    handles = [exp.jobs.get(m.name).handle for m in ensemble]  # type: ignore[union-attr]
    assert len({h.split("_")[0] for h in handles}) == 1  # one array job
    hosts = [Path(m.path, f"{m.name}.out").read_text().strip() for m in ensemble]
    assert set(hosts) <= set(cluster.nodes) and len(set(hosts)) >= 3, hosts


COLOCATED_APP = textwrap.dedent("""
    import os, socket, time
    import redis
    ssdb = os.environ["SSDB"]
    if ssdb.startswith("unix://"):
        r = redis.Redis(unix_socket_path=ssdb[len("unix://"):])
    else:
        host, port = ssdb.rsplit(":", 1)
        r = redis.Redis(host=host, port=int(port))
    r.set("owner", socket.gethostname())
    time.sleep(3)  # the others run at the same time, on the same port
    print(socket.gethostname(), r.get("owner").decode(), len(r.keys("owner*")),
          r.info("server")["run_id"])
""")


def test_colocated_models_on_different_nodes_each_have_their_own_server(
    cluster: MultiNode, tmp_path: Path
) -> None:
    exp = on_the_nodes(Experiment("colo", exp_path=str(tmp_path), launcher="slurm"))
    port = free_port_block(1)
    models = []
    for node, transport in (("n1", "tcp"), ("n2", "tcp"), ("n3", "uds")):
        settings = exp.create_run_settings(PY, ["-c", COLOCATED_APP])
        settings.set_hostlist(node)
        model = exp.create_model(f"colo_{node}", settings)
        if transport == "tcp":
            model.colocate_db_tcp(port=port)  # the same port on both nodes: own loopbacks
        else:
            model.colocate_db_uds()
        models.append(model)
    exp.generate(*models)
    exp.start(*models)
    run_ids = set()
    for model, node in zip(models, ("n1", "n2", "n3"), strict=True):
        err = Path(model.path, f"{model.name}.err").read_text()
        assert exp.get_status(model) == [Status.COMPLETED], err
        host, owner, size, run_id = Path(model.path, f"{model.name}.out").read_text().split()
        assert (host, owner, size) == (node, node, "1")
        run_ids.add(run_id)
    assert len(run_ids) == 3  # three servers, none shared
    assert not cluster.settled(match=f":{port}"), "a colocated server outlived its model"


def test_two_node_model_runs_one_rank_on_each(cluster: MultiNode, tmp_path: Path) -> None:
    exp = on_the_nodes(Experiment("two", exp_path=str(tmp_path), launcher="slurm"))
    settings = exp.create_run_settings("sh", ["-c", 'echo "$SLURM_PROCID $(hostname)"'])
    settings.set_nodes(2)
    settings.set_tasks_per_node(1)
    model = exp.create_model("ranks", settings)
    exp.generate(model)
    exp.start(model)
    assert exp.get_status(model) == [Status.COMPLETED], Path(model.path, "ranks.err").read_text()
    lines = sorted(Path(model.path, "ranks.out").read_text().splitlines())
    assert [line.split()[0] for line in lines] == ["0", "1"]
    assert len({line.split()[1] for line in lines}) == 2  # two nodes


# Open MPI's C API through ctypes: Debian's openmpi-bin brings libmpi.so.40 (no compiler or
# headers needed); srun --mpi=pmix starts the ranks (Slurm's pmix plugin needs libpmix-dev).
MPI_HELLO = textwrap.dedent("""
    import ctypes, socket
    lib = ctypes.CDLL("libmpi.so.40", mode=ctypes.RTLD_GLOBAL)
    def handle(name):
        return ctypes.c_void_p(ctypes.addressof(ctypes.c_int.in_dll(lib, name)))
    world, mpi_int, mpi_sum = (handle(n) for n in ("ompi_mpi_comm_world", "ompi_mpi_int",
                                                   "ompi_mpi_op_sum"))
    assert lib.MPI_Init(None, None) == 0
    rank, size, total = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    lib.MPI_Comm_rank(world, ctypes.byref(rank))
    lib.MPI_Comm_size(world, ctypes.byref(size))
    lib.MPI_Allreduce(ctypes.byref(rank), ctypes.byref(total), 1, mpi_int, mpi_sum, world)
    print(rank.value, size.value, socket.gethostname(), total.value, flush=True)
    lib.MPI_Finalize()
""")


def _has_pmix(cluster: MultiNode) -> bool:
    done = subprocess.run(["srun", "--mpi=list"], capture_output=True, text=True,
                          env=cluster.env(), timeout=60)
    return "pmix" in done.stdout + done.stderr


def test_mpi_program_across_two_nodes_through_srun(cluster: MultiNode, tmp_path: Path) -> None:
    require_service(ctypes.util.find_library("mpi") is not None and _has_pmix(cluster),
                    "Open MPI (libmpi.so.40) and Slurm's pmix plugin",
                    "apt-get install openmpi-bin libpmix-dev (.ci/run installs them)")
    (tmp_path / "hello.py").write_text(MPI_HELLO)
    exp = on_the_nodes(Experiment("mpi", exp_path=str(tmp_path / "exp"), launcher="slurm"))
    settings = exp.create_run_settings(PY, [str(tmp_path / "hello.py")], run_args={"mpi": "pmix"})
    settings.set_nodes(2)
    settings.set_tasks_per_node(1)
    model = exp.create_model("hello", settings)
    exp.generate(model)
    exp.start(model)
    err = Path(model.path, "hello.err").read_text()
    assert exp.get_status(model) == [Status.COMPLETED], err
    rows = sorted(line.split() for line in Path(model.path, "hello.out").read_text().splitlines())
    assert [r[0] for r in rows] == ["0", "1"] and {r[1] for r in rows} == {"2"}
    assert len({r[2] for r in rows}) == 2 and {r[3] for r in rows} == {"1"}  # 0 + 1, across


RUN_SCRIPT_APP = textwrap.dedent("""
    import socket
    import numpy as np
    from sscontainer import Client
    c = Client(cluster=False)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    c.put_tensor("x", x)
    c.run_script("neg", "negate", ["x"], ["y"])
    assert np.array_equal(c.get_tensor("y"), -x)
    print(socket.gethostname(), "ok")
""")


def test_run_script_served_by_the_worker_beside_a_slurm_shard(
    cluster: MultiNode, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    exp = on_the_nodes(Experiment("ml", exp_path=str(tmp_path), launcher="slurm"))
    db = exp.create_database(port=free_port_block(1), interface="auto", hosts="n1")
    exp.start(db)
    try:
        settings = exp.create_run_settings(PY, ["-c", RUN_SCRIPT_APP])
        settings.set_hostlist("n2")
        model = exp.create_model("infer", settings)
        model.add_script("neg", script="def negate(x):\n\treturn torch.neg(x)\n")
        exp.generate(model)
        exp.start(model)
        err = Path(model.path, "infer.err").read_text()
        assert exp.get_status(model) == [Status.COMPLETED], err
        assert Path(model.path, "infer.out").read_text().split() == ["n2", "ok"]
        workers = [line for line in cluster.leftovers() if "sscontainer.ml.worker" in line]
        assert workers and all(line.startswith("n1 ") for line in workers)
    finally:
        exp.stop(db)
    assert not cluster.settled(match="sscontainer")  # shard and workers are gone
