"""The ``sscontainer`` command line.

Usage errors (bad YAML, bad options, invalid input) print one line per problem
to stderr and exit 2, never a traceback; other errors (a database that did not
start) add the evidence they carry (the shard's node, job and log lines) below
that line. A run that ends with any entity not COMPLETED exits 1.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import SchemaError, SSConfigError, SSContainerError
from ..version import __version__
from .loader import Plan, load_plan
from .runner import run_plan
from .schema import LAUNCHER_CHOICES

F = TypeVar("F", bound=Callable[..., Any])
USAGE_ERROR = 2


def _fail(message: str, detail: str = "") -> None:
    for line in message.splitlines() or [message]:
        click.echo(f"sscontainer: error: {line}", err=True)
    for line in detail.splitlines():  # a failure's evidence: the log lines of a shard
        click.echo(f"sscontainer:   {line}", err=True)
    sys.exit(USAGE_ERROR)


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


def _generate(plan: Plan, overwrite: bool) -> None:
    entities = [*([plan.database] if plan.database else []), *plan.entities.values()]
    plan.exp.generate(*entities, tag=plan.tag, overwrite=overwrite)


@cli.command()
@experiment_file
@launcher_option
@click.option("--overwrite", is_flag=True, help="Replace run directories left by an earlier run.")
@click.option("--build", "build_images", is_flag=True, help="Build missing images first.")
@quiet_option
@user_errors
def run(
    experiment_file: str, launcher: str | None, overwrite: bool, build_images: bool, quiet: bool
) -> None:
    """Generate run directories and run every entity; exit 0 only if all completed."""
    plan = load_plan(experiment_file, launcher)
    _generate(plan, overwrite)
    if plan.exp.launcher != "local":
        plan.exp.image_policy(build_missing=build_images, quiet=quiet)
        if build_images:
            entities = [*([plan.database] if plan.database else []), *plan.entities.values()]
            plan.exp.build(*entities, quiet=quiet)
    if not quiet:
        click.echo(f"running {plan.exp.name} with the {plan.exp.launcher} launcher")
    try:
        if plan.database is not None:
            plan.exp.start(plan.database)
            if not quiet:
                addresses = ", ".join(plan.database.get_address())
                click.echo(f"database {plan.database.name} is up at {addresses}")
        ok = run_plan(plan, click.echo, quiet=quiet)
    except KeyboardInterrupt:
        click.echo("sscontainer: interrupted: every launched entity was stopped", err=True)
        sys.exit(130)
    finally:
        if plan.database is not None:
            plan.exp.stop(plan.database)
    click.echo(plan.exp.summary())
    click.echo(f"outputs: {plan.exp.exp_path}")
    sys.exit(0 if ok else 1)


@cli.command()
@experiment_file
@launcher_option
@click.option("--overwrite", is_flag=True, help="Replace existing run directories.")
@quiet_option
@user_errors
def generate(experiment_file: str, launcher: str | None, overwrite: bool, quiet: bool) -> None:
    """Write every entity's run directory without running anything."""
    from .images import write_plan_specs

    plan = load_plan(experiment_file, launcher)
    _generate(plan, overwrite)
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
    "exp_dir", metavar="[EXP_DIR]", required=False, default=".",
    type=click.Path(file_okay=False),
)


@cli.command()
@exp_dir_argument
@user_errors
def status(exp_dir: str) -> None:
    """Show what an experiment started (from its manifest), even after its driver is gone."""
    from ..experiment import Experiment

    exp = Experiment.reconnect(exp_dir)
    click.echo(exp.summary())


@cli.command()
@exp_dir_argument
@quiet_option
@user_errors
def stop(exp_dir: str, quiet: bool) -> None:
    """Stop everything an experiment started that is still running."""
    from ..experiment import Experiment

    exp = Experiment.reconnect(exp_dir)
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

    plan = load_plan(experiment_file, base_image=base_image)
    for name, image in build_plan(plan, formats, no_cache, quiet):
        click.echo(f"{name}: {image}")


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
