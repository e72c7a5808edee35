"""Every image spec the examples produce renders to a Dockerfile and a .def that agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from sscontainer.cli.images import plan_specs
from sscontainer.cli.loader import load_plan
from sscontainer.specs import crosscheck, render

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*/experiment.yaml"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_specs_agree_in_both_formats(path: Path) -> None:
    plan = load_plan(str(path), launcher="docker")
    specs = list(plan_specs(plan).values())  # colocated models give colocated specs
    assert specs
    for spec in specs:
        assert crosscheck(spec) == [], spec.name
        dockerfile, definition = render(spec, "docker"), render(spec, "apptainer")
        assert "USER 1000:1000" in dockerfile  # non-root by default
        assert "\nBootstrap: " in definition
