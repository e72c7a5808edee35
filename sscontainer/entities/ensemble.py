"""Ensemble: a group of models made from parameter sets or replicas."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..errors import EntityExistsError, SSConfigError
from ..names import validate_name
from ..settings.batch import BatchSettings
from ..settings.run import RunSettings
from .assets import EnsembleAssetsMixin  # [ml] assets go to every member
from .model import Model, SSEntity
from .strategies import expand_params


class Ensemble(EnsembleAssetsMixin, SSEntity):
    """Members are named ``{name}_{i}`` and have key prefixing on."""

    entity_type = "Ensemble"

    def __init__(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        run_settings: RunSettings | None = None,
        replicas: int | None = None,
        perm_strategy: str | Callable[..., Any] = "all_perm",
        batch_settings: BatchSettings | None = None,
        n_models: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(name, path, run_settings)
        self.params = dict(params or {})
        self.batch_settings = batch_settings
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
            self._create_members(run_settings, replicas, perm_strategy, n_models)
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
        perm_strategy: str | Callable[..., Any],
        n_models: int | None,
    ) -> None:
        param_sets = expand_params(self.params, perm_strategy, n_models) if self.params else [{}]
        copies = replicas or 1
        index = 0
        for params in param_sets:
            for _ in range(copies):
                member = Model(
                    f"{self.name}_{index}",
                    params,
                    run_settings.copy(),
                    path=self.path,
                    enable_key_prefixing=True,
                )
                self.models.append(member)
                index += 1

    def add_model(self, model: Model) -> None:
        if not isinstance(model, Model):
            raise SSConfigError(f"add_model expects a Model, got {type(model).__name__}")
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

    @property
    def entities(self) -> list[Model]:
        return list(self.models)

    def attach_generator_files(
        self,
        to_copy: str | Iterable[str] | None = None,
        to_symlink: str | Iterable[str] | None = None,
        to_configure: str | Iterable[str] | None = None,
    ) -> None:
        for model in self.models:
            model.attach_generator_files(to_copy, to_symlink, to_configure)

    def enable_key_prefixing(self) -> None:
        for model in self.models:
            model.enable_key_prefixing()

    def query_key_prefixing(self) -> bool:
        return all(m.query_key_prefixing() for m in self.models)

    def register_incoming_entity(self, incoming_entity: SSEntity) -> None:
        for model in self.models:
            model.register_incoming_entity(incoming_entity)
