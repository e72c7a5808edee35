"""Ensemble: a group of models made from parameter sets or replicas (SmartSim's signature)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..errors import ArgumentTypeError, EntityExistsError, SSConfigError
from ..limits import check_members
from ..names import validate_name
from ..settings.batch import BatchSettings
from ..settings.run import RunSettings
from .assets import EnsembleAssetsMixin  # [ml] assets go to every member
from .model import Model, SSEntity
from .strategies import check_strategy, expand_params


def _check_param_values(params: Mapping[str, Any]) -> None:
    """Each value is a list of values, a string or a number (SmartSim raises TypeError)."""
    for name, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, (str, int, float)) for v in values):
            raise ArgumentTypeError(
                f"ensemble param {name!r}: {value!r} is not a list of values, a string or a "
                "number"
            )


class Ensemble(EnsembleAssetsMixin, SSEntity):
    """Members are named ``{name}_{i}``, run in ``<path>/{name}_{i}`` and prefix their keys.

    ``Ensemble(name, params, path, params_as_args, batch_settings, run_settings,
    perm_strat, **kwargs)`` as in SmartSim; ``kwargs`` are ``replicas`` and the
    strategy's ``n_models`` (``perm_strategy`` is accepted for ``perm_strat``).
    """

    entity_type = "Ensemble"

    def __init__(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        path: str | None = None,
        params_as_args: Iterable[str] | None = None,
        batch_settings: BatchSettings | None = None,
        run_settings: RunSettings | None = None,
        perm_strat: str | Callable[..., Any] = "all_perm",
        **kwargs: Any,
    ) -> None:
        perm_strat = kwargs.pop("perm_strategy", perm_strat)
        replicas = kwargs.pop("replicas", None)
        n_models = kwargs.pop("n_models", None)
        if kwargs:
            raise ArgumentTypeError(f"Ensemble got unknown keyword arguments {sorted(kwargs)}")
        super().__init__(name, path, run_settings)
        check_strategy(perm_strat)
        if params is not None and not isinstance(params, Mapping):
            raise ArgumentTypeError(f"ensemble params must be a dict, got {params!r}")
        self.params = dict(params or {})
        _check_param_values(self.params)
        self.params_as_args = list(params_as_args or [])
        self.batch_settings = batch_settings
        self.replicas = replicas
        self.models: list[Model] = []
        self._init_assets()  # [ml]
        if replicas is not None and (
            isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1
        ):
            raise SSConfigError(f"replicas must be a positive integer, got {replicas!r}")
        if self.params or replicas:
            if run_settings is None:
                raise SSConfigError(
                    f"ensemble {name!r}: params or replicas need run_settings to create members"
                )
            self._create_members(run_settings, replicas, perm_strat, n_models)
        elif run_settings is not None:
            raise SSConfigError(
                f"ensemble {name!r}: run_settings given without params or replicas: "
                "give params, replicas, or add models with add_model"
            )
        elif batch_settings is None:
            raise SSConfigError(
                f"ensemble {name!r} is empty: give params or replicas (with run_settings), "
                "or batch_settings and then add_model"
            )

    def _create_members(
        self,
        run_settings: RunSettings,
        replicas: int | None,
        perm_strat: str | Callable[..., Any],
        n_models: int | None,
    ) -> None:
        copies = replicas or 1
        what = f"ensemble {self.name!r}"
        check_members(copies, what)
        param_sets = (
            expand_params(self.params, perm_strat, n_models, copies, what) if self.params
            else [{}]
        )
        index = 0
        for params in param_sets:
            for _ in range(copies):
                member_name = f"{self.name}_{index}"
                member = Model(
                    member_name,
                    params,
                    run_settings.copy(),
                    path=os.path.join(self.path, member_name),
                    params_as_args=self.params_as_args,
                    enable_key_prefixing=True,
                )
                self.models.append(member)
                index += 1

    def add_model(self, model: Model) -> None:
        if not isinstance(model, Model):
            raise ArgumentTypeError(f"add_model expects a Model, got {type(model).__name__}")
        validate_name(model.name, "model name")
        if any(m.name == model.name for m in self.models):
            raise EntityExistsError(
                f"ensemble {self.name!r} already has a model named {model.name!r}"
            )
        self._extend_member(model)  # [ml] the ensemble's ML models and scripts
        self.models.append(model)

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def __getitem__(self, name: str) -> Model | None:
        """The member called ``name`` (``ens["ens_0"]``), or None as in SmartSim."""
        return next((m for m in self.models if m.name == name), None)

    @property
    def entities(self) -> list[Model]:
        return list(self.models)

    @property
    def batch(self) -> bool:
        """True when the members are submitted together as one batch job."""
        return self.batch_settings is not None

    def set_path(self, new_path: str) -> None:
        """Point the ensemble and every member at ``new_path`` (SmartSim's behaviour)."""
        self.path = os.path.abspath(new_path)
        for model in self.models:
            model.path = self.path

    def attach_generator_files(
        self,
        to_copy: str | Iterable[str] | None = None,
        to_symlink: str | Iterable[str] | None = None,
        to_configure: str | Iterable[str] | None = None,
    ) -> None:
        for model in self.models:
            model.attach_generator_files(to_copy, to_symlink, to_configure)

    @property
    def attached_files_table(self) -> str:
        """Each member's attached files, one block per member."""
        if not self.models:
            return "The ensemble is empty, no files to show."
        blocks = []
        for model in self.models:
            table = model.attached_files_table.replace("\n", "\n    ")
            blocks.append(f"{model.name}:\n    {table}")
        return "\n".join(blocks)

    def print_attached_files(self) -> None:
        """Print :attr:`attached_files_table`."""
        print(self.attached_files_table)

    def enable_key_prefixing(self) -> None:
        for model in self.models:
            model.enable_key_prefixing()

    def query_key_prefixing(self) -> bool:
        return all(m.query_key_prefixing() for m in self.models)

    def register_incoming_entity(self, incoming_entity: SSEntity) -> None:
        for model in self.models:
            model.register_incoming_entity(incoming_entity)


def models_of(entities: Iterable[object]) -> list[Model]:
    """The models among ``entities``, an ensemble's members in its place (others skipped)."""
    models: list[Model] = []
    for entity in entities:
        if isinstance(entity, Ensemble):
            models.extend(entity.models)
        elif isinstance(entity, Model):
            models.append(entity)
    return models
