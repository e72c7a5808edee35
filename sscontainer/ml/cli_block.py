"""The experiment YAML's ``ml:`` block of a model or ensemble, as ``add_ml_model``/``add_script``.

    ml: {models: [{name: cnn, backend: ONNX, path: cnn.onnx, device: CPU}],
         scripts: [{name: pre, path: pre.py}]}

Paths are relative to the YAML file; the schema (``cli/schema.py``) has checked the
field types, the entity API checks the rest (files exist, batch sizes agree ...).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import SSConfigError

_PLACEMENT = ("device", "devices_per_node", "first_device")
_MODEL_OPTIONS = (*_PLACEMENT, "batch_size", "min_batch_size", "min_batch_timeout", "tag",
                  "inputs", "outputs")


def add_ml_block(entity: Any, block: dict[str, Any], base_dir: str) -> None:
    """Add the block's models and scripts to ``entity``; errors name their place."""
    for kind, items in (("models", block.get("models") or []),
                        ("scripts", block.get("scripts") or [])):
        for i, spec in enumerate(items):
            path = os.path.join(base_dir, spec["path"])
            try:
                if kind == "models":
                    options = {k: spec[k] for k in _MODEL_OPTIONS if k in spec}
                    entity.add_ml_model(spec["name"], spec["backend"], model_path=path, **options)
                else:
                    options = {k: spec[k] for k in _PLACEMENT if k in spec}
                    entity.add_script(spec["name"], script_path=path, **options)
            except SSConfigError as exc:
                raise SSConfigError(f"ml.{kind}[{i}] ({spec['name']}): {exc}") from exc
