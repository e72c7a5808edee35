"""Ways an ensemble turns a dict of parameter lists into member parameter sets."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import SSConfigError, UnsupportedArgumentError, UserStrategyError
from ..limits import check_members

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
    """``n_models`` distinct combinations drawn at random from the product.

    As in SmartSim, without ``n_models`` (or with as many as there are
    combinations, or more) every combination is used.
    """
    combos = all_perm(names, values)
    if n_models is None or n_models == 0:
        return combos
    if isinstance(n_models, bool) or not isinstance(n_models, int) or n_models < 0:
        raise SSConfigError(f"n_models must be a positive integer, got {n_models!r}")
    return random.sample(combos, n_models) if n_models < len(combos) else combos


STRATEGIES: dict[str, Strategy] = {"all_perm": all_perm, "step": step_values, "random": random_perm}


def check_strategy(strategy: object) -> None:
    """A known strategy name or a callable (SmartSim: ``SSUnsupportedError`` otherwise)."""
    if not callable(strategy) and not (isinstance(strategy, str) and strategy in STRATEGIES):
        raise UnsupportedArgumentError(
            f"perm_strategy {strategy!r} is not known: use one of {', '.join(STRATEGIES)} "
            "or a callable(names, values, n_models) returning a list of dicts"
        )


def expand_params(
    params: Mapping[str, Any],
    strategy: str | Callable[..., Any],
    n_models: int | None = None,
    copies: int = 1,
    what: str = "the ensemble",
) -> ParamSets:
    """Member parameter sets for ``params`` under ``strategy`` (a name or a callable).

    ``copies`` (replicas) of each set must fit the member limit (``limits.max_members``),
    which is checked before anything is expanded.
    """
    names = list(params)
    values: list[list[Any]] = []
    for name in names:
        value = params[name]
        vals = list(value) if isinstance(value, (list, tuple)) else [value]
        if not vals:
            raise SSConfigError(f"parameter {name!r} has an empty list of values")
        values.append(vals)
    check_strategy(strategy)
    if callable(strategy):
        result = strategy(names, values, n_models)
    else:
        check_members(planned_size(values, str(strategy), n_models) * copies, what)
        result = STRATEGIES[str(strategy)](names, values, n_models)
    checked = _checked(result, names)
    check_members(len(checked) * copies, what)
    return checked


def planned_size(values: list[list[Any]], strategy: str, n_models: int | None) -> int:
    """How many parameter sets ``strategy`` makes, computed without making them."""
    if strategy == "step":
        return max((len(v) for v in values), default=1)
    combos = 1
    for vals in values:
        combos *= len(vals)
    if strategy == "random" and isinstance(n_models, int) and n_models > 0:
        return min(combos, n_models)
    return combos


def _checked(result: Any, names: Sequence[str]) -> ParamSets:
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise UserStrategyError("a custom perm_strategy must return a list of dicts")
    for r in result:
        unknown = set(r) - set(names)
        if unknown:
            raise UserStrategyError(
                f"perm_strategy returned unknown parameters {sorted(unknown)}"
            )
    return result
