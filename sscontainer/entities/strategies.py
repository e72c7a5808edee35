"""Ways an ensemble turns a dict of parameter lists into member parameter sets."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import SSConfigError

ParamSets = list[dict[str, Any]]
Strategy = Callable[[list[str], list[list[Any]], "int | None"], ParamSets]


def all_perm(names: list[str], values: list[list[Any]], n_models: int | None = None) -> ParamSets:
    """Every combination (the Cartesian product)."""
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def step_values(
    names: list[str], values: list[list[Any]], n_models: int | None = None
) -> ParamSets:
    """The i-th member takes the i-th value of every parameter (a zip)."""
    lengths = {name: len(vals) for name, vals in zip(names, values, strict=True)}
    if len(set(lengths.values())) > 1:
        raise SSConfigError(
            f"the 'step' strategy needs every parameter to have as many values, got {lengths}"
        )
    return [dict(zip(names, combo, strict=True)) for combo in zip(*values, strict=True)]


def random_perm(
    names: list[str], values: list[list[Any]], n_models: int | None = None
) -> ParamSets:
    """``n_models`` distinct combinations drawn at random from the product."""
    combos = all_perm(names, values)
    if n_models is None or isinstance(n_models, bool) or not isinstance(n_models, int):
        raise SSConfigError("the 'random' strategy needs n_models, a positive integer")
    if not 1 <= n_models <= len(combos):
        raise SSConfigError(
            f"n_models={n_models} but the parameters give {len(combos)} combinations: "
            f"ask for between 1 and {len(combos)}"
        )
    return random.sample(combos, n_models)


STRATEGIES: dict[str, Strategy] = {"all_perm": all_perm, "step": step_values, "random": random_perm}


def expand_params(
    params: Mapping[str, Any],
    strategy: str | Callable[..., Any],
    n_models: int | None = None,
) -> ParamSets:
    """Member parameter sets for ``params`` under ``strategy`` (a name or a callable)."""
    names = list(params)
    values: list[list[Any]] = []
    for name in names:
        value = params[name]
        vals = list(value) if isinstance(value, (list, tuple)) else [value]
        if not vals:
            raise SSConfigError(f"parameter {name!r} has an empty list of values")
        values.append(vals)
    if callable(strategy):
        result = strategy(names, values, n_models)
    elif isinstance(strategy, str) and strategy in STRATEGIES:
        result = STRATEGIES[strategy](names, values, n_models)
    else:
        raise SSConfigError(
            f"perm_strategy {strategy!r} is not known: use one of {', '.join(STRATEGIES)} "
            "or a callable(names, values, n_models) returning a list of dicts"
        )
    return _checked(result, names)


def _checked(result: Any, names: Sequence[str]) -> ParamSets:
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise SSConfigError("a custom perm_strategy must return a list of dicts")
    for r in result:
        unknown = set(r) - set(names)
        if unknown:
            raise SSConfigError(f"perm_strategy returned unknown parameters {sorted(unknown)}")
    return result
