"""The ``sscontainer`` command line.

Usage errors (bad YAML, bad options, invalid input) print one line per problem
to stderr and exit 2, never a traceback; other errors (a database that did not
start) add the evidence they carry (the shard's node, job and log lines) below
that line. A run that ends with any entity not COMPLETED exits 1.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import SchemaError, SSConfigError, SSContainerError
from ..stopping import set_quiet
from ..version import __version__
from .loader import Plan, experiment_dir, load_plan
from .runner import run_to_end
from .schema import LAUNCHER_CHOICES

F = TypeVar("F", bound=Callable[..., Any])
USAGE_ERROR = 2
MAX_LINE = 400  # characters of one message line: a message is read, not scrolled
MAX_DETAIL_LINES = 12
DEBUG_ENV = "SSCONTAINER_DEBUG"  # set: an unexpected error shows its traceback


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."


def _fail(message: str, detail: str = "", code: int = USAGE_ERROR) -> None:
    for line in message.splitlines() or [message]:
        click.echo(_cut(f"sscontainer: error: {line}"), err=True)
    for line in detail.splitlines()[:MAX_DETAIL_LINES]:  # evidence: a shard's log lines
        click.echo(_cut(f"sscontainer:   {line}"), err=True)
    sys.exit(code)


def user_errors(func: F) -> F:
    """Turn sscontainer's typed errors into one-line messages and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SchemaError as exc:
            _fail("\n".join(f"{exc.source}: {e}" for e in exc.errors))
        except SSConfigError as exc:
            _fail(" ".join(str(exc).split("\n", 1)[0].split()))
        except SSContainerError as exc:
            first, _, detail = str(exc).partition("\n")
            _fail(" ".join(first.split()), detail)
        except OSError as exc:  # the machine's answer (permissions, space): no bug of ours
            where = f" ({exc.filename})" if exc.filename else ""
            _fail(f"{exc.strerror or exc}{where}")
        except Exception as exc:  # noqa: BLE001 - a bug: one line unless asked for more
            if os.environ.get(DEBUG_ENV):
                raise
            _fail(
                f"internal error {type(exc).__name__}: {exc} (please report it; "
                f"{DEBUG_ENV}=1 shows the traceback)", code=1,
            )
        return None

    return wrapper  # type: ignore[return-value]


experiment_file = click.argument(
    "experiment_file", metavar="FILE.yaml", type=click.Path(dir_okay=False)
)
launcher_option = click.option(
    "--launcher",
    type=click.Choice(LAUNCHER_CHOICES),
    default=None,
    help="Override the file's launcher.",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print only the final result.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sscontainer")
def cli() -> None:
    """Run SmartSim-style experiments locally, in Docker, or under Slurm."""


def _generate(plan: Plan, overwrite: bool, rerun: bool = False) -> None:
    """Run directories; ``rerun``: ones sscontainer made and nobody changed are replaced
    without ``--overwrite`` (README: "Running again")."""
    from ..generation.run_dirs import generate_entities

    entities = [*([plan.database] if plan.database else []), *plan.entities.values()]
    for kept in generate_entities(
        plan.exp.exp_path, entities, tag=plan.tag, overwrite=overwrite, rerun=rerun
    ):
        click.echo(f"sscontainer: kept your changed run directory in {kept}", err=True)


@cli.command()
@experiment_file
@launcher_option
@click.option("--overwrite", is_flag=True, help="Replace run directories left by an earlier run.")
@click.option("--build", "build_images", is_flag=True, help="Build missing images first.")
@click.option("--base-image", default=None, help="Base image for every model image.")
@quiet_option
@user_errors
def run(
    experiment_file: str,
    launcher: str | None,
    overwrite: bool,
    build_images: bool,
    base_image: str | None,
    quiet: bool,
) -> None:
    """Generate run directories and run every entity; exit 0 only if all completed."""
    plan = load_plan(experiment_file, launcher, base_image=base_image)
    _generate(plan, overwrite, rerun=True)
    if plan.exp.launcher != "local":
        plan.exp.image_policy(build_missing=build_images, quiet=quiet)
        if build_images:
            entities = [*([plan.database] if plan.database else []), *plan.entities.values()]
            plan.exp.build(*entities, quiet=quiet)
    if not quiet:
        click.echo(f"running {plan.exp.name} with the {plan.exp.launcher} launcher")
    set_quiet(quiet)
    sys.exit(run_to_end(plan, quiet))


@cli.command()
@experiment_file
@launcher_option
@click.option("--overwrite", is_flag=True, help="Replace existing run directories.")
@quiet_option
@user_errors
def generate(experiment_file: str, launcher: str | None, overwrite: bool, quiet: bool) -> None:
    """Write every entity's run directory without running anything."""
    from .images import images_dir, write_plan_specs

    plan = load_plan(experiment_file, launcher)
    images_dir(plan)  # checked before any run directory is written
    _generate(plan, overwrite, rerun=True)
    folders = write_plan_specs(plan)
    if not quiet:
        click.echo(f"generated {len(plan.entities)} entities under {plan.exp.exp_path}")
        for folder in folders:
            click.echo(f"image spec: {folder} (Dockerfile and .def)")


@cli.command()
@experiment_file
@launcher_option
@user_errors
def preview(experiment_file: str, launcher: str | None) -> None:
    """Print the argv, environment, directory and files of every entity."""
    plan = load_plan(experiment_file, launcher)
    plan.exp.preview(
        *([plan.database] if plan.database else []), *plan.entities.values(),
        verbosity_level="developer", after=plan.after,
    )


exp_dir_argument = click.argument(
    "exp_dir", metavar="[EXP_DIR | FILE.yaml]", required=False, default=".", type=click.Path(),
)


@cli.command()
@exp_dir_argument
@user_errors
def status(exp_dir: str) -> None:
    """Show what an experiment started (from its manifest), even after its driver is gone."""
    from ..experiment import Experiment

    exp = Experiment.reconnect(experiment_dir(exp_dir))
    click.echo(exp.summary())


@cli.command()
@exp_dir_argument
@quiet_option
@user_errors
def stop(exp_dir: str, quiet: bool) -> None:
    """Stop everything an experiment started that is still running."""
    from ..experiment import Experiment

    set_quiet(quiet)
    exp = Experiment.reconnect(experiment_dir(exp_dir))
    running = exp.jobs.running()
    exp.stop()
    if not quiet:
        click.echo(f"stopped {len(running)} running job(s)")
        click.echo(exp.summary())


@cli.command()
@experiment_file
@click.option(
    "--format", "formats", type=click.Choice(["docker", "apptainer", "both"]), default="docker",
    show_default=True, help="Which images to build.",
)
@click.option("--base-image", default=None, help="Base image for every model image.")
@click.option("--no-cache", is_flag=True, help="Build again without the layer cache.")
@quiet_option
@user_errors
def build(
    experiment_file: str, formats: str, base_image: str | None, no_cache: bool, quiet: bool
) -> None:
    """Build every image the experiment needs (unchanged images are not rebuilt)."""
    from .images import build_plan

    # the images do not depend on where the file says it runs: load it as the docker
    # launcher would (every model has container settings; no exe is looked up here)
    plan = load_plan(experiment_file, launcher="docker", base_image=base_image)
    rows = build_plan(plan, formats, no_cache, quiet)
    for name, image in rows:
        click.echo(f"{name}: {image}")
    if not rows and not quiet:
        click.echo("nothing to build: every entity runs on the host (container runtime none)")


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option(
    "--to", "to_format", type=click.Choice(["docker", "apptainer"]), required=True,
    help="The format to write.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write here instead of standard output.")
@user_errors
def convert(recipe: str, to_format: str, output: str | None) -> None:
    """Convert a Dockerfile to an Apptainer definition file or back (through spython)."""
    from .images import convert_file

    convert_file(recipe, to_format, output)


def main() -> None:
    cli(prog_name="sscontainer")
