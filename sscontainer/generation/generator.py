"""Run directories: one per entity under the experiment path."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable

from ..entities.files import EntityFiles
from ..entities.model import Model
from ..errors import EntityDirExistsError, GenerationError
from .tags import DEFAULT_TAG, configure_file


def entity_dir(exp_path: str, model: Model, ensemble: str | None = None) -> str:
    parts = [exp_path, *([ensemble] if ensemble else []), model.name]
    return os.path.join(*parts)


def prepare_dir(path: str, overwrite: bool) -> None:
    """Create ``path``; an existing one is an error unless ``overwrite``."""
    if os.path.lexists(path):
        if not overwrite:
            raise EntityDirExistsError(
                f"{path} already exists: pass overwrite=True to generate() (CLI: --overwrite) "
                "to replace it, or remove it"
            )
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    os.makedirs(path)


def _copy_into(src: str, dst_dir: str) -> None:
    if os.path.isdir(src):
        # a directory's contents are merged into the run directory (SmartSim's behaviour)
        shutil.copytree(src, dst_dir, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, os.path.join(dst_dir, os.path.basename(src)))


def _configure_into(src: str, dst_dir: str, params: dict[str, str], tag: str) -> None:
    if not os.path.isdir(src):
        configure_file(src, os.path.join(dst_dir, os.path.basename(src)), params, tag)
        return
    for root, _dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        out_dir = os.path.normpath(os.path.join(dst_dir, rel))
        os.makedirs(out_dir, exist_ok=True)
        for name in files:
            configure_file(os.path.join(root, name), os.path.join(out_dir, name), params, tag)


def write_files(files: EntityFiles | None, params: dict[str, str], dst_dir: str, tag: str) -> None:
    if files is None:
        return
    for src in files.copy:
        _copy_into(src, dst_dir)
    for src in files.link:
        os.symlink(src, os.path.join(dst_dir, os.path.basename(src)))
    for src in files.tagged:
        _configure_into(src, dst_dir, params, tag)


def generate_model(
    model: Model, path: str, overwrite: bool, tag: str | None = None
) -> None:
    """Create the model's run directory at ``path`` and point the model at it."""
    prepare_dir(path, overwrite)
    try:
        write_files(model.files, model.params, path, tag or DEFAULT_TAG)
    except OSError as exc:
        raise GenerationError(
            f"could not write the files of {model.name!r} into {path}: {exc}"
        ) from exc
    model.path = path


def generate_models(
    exp_path: str,
    models: Iterable[tuple[Model, str | None]],
    overwrite: bool,
    tag: str | None = None,
) -> None:
    for model, ensemble in models:
        generate_model(model, entity_dir(exp_path, model, ensemble), overwrite, tag)
