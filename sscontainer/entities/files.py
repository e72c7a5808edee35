"""Files attached to an entity: copied, symlinked or configured into its run dir."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import ArgumentTypeError, MissingFileError, SSConfigError
from ..limits import check_text, shown


def _resolve(paths: str | Iterable[str] | None, what: str) -> list[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        items: list[object] = [paths]
    elif isinstance(paths, (list, tuple, set, frozenset)):
        items = list(paths)
    else:
        raise ArgumentTypeError(
            f"{what}: expected a path or a list of paths, got {type(paths).__name__} "
            f"{shown(paths)}"
        )
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or not os.fspath(item):
            raise ArgumentTypeError(f"{what}: expected file paths, got {shown(item)}")
        text = os.fspath(item)
        if not isinstance(text, str):
            raise ArgumentTypeError(f"{what}: expected text paths, got {shown(item)}")
        path = os.path.abspath(os.path.expanduser(check_text(text, what)))
        if not os.path.exists(path):
            raise MissingFileError(
                f"{what}: {item!r} does not exist (resolved to {path}): check the path"
            )
        out.append(path)
    return out


@dataclass
class EntityFiles:
    """Absolute paths of files (or directories) to place in a run directory."""

    copy: list[str] = field(default_factory=list)
    link: list[str] = field(default_factory=list)
    tagged: list[str] = field(default_factory=list)

    @classmethod
    def from_user(
        cls,
        to_copy: str | Iterable[str] | None = None,
        to_symlink: str | Iterable[str] | None = None,
        to_configure: str | Iterable[str] | None = None,
    ) -> EntityFiles:
        files = cls(
            copy=_resolve(to_copy, "to_copy"),
            link=_resolve(to_symlink, "to_symlink"),
            tagged=_resolve(to_configure, "to_configure"),
        )
        names: dict[str, str] = {}
        for path in [*files.copy, *files.link, *files.tagged]:
            base = os.path.basename(path)
            if base in names and names[base] != path:
                raise SSConfigError(
                    f"two attached files share the name {base!r} ({names[base]} and {path}): "
                    "they would overwrite each other in the run directory; rename one"
                )
            names[base] = path
        return files

    def all_paths(self) -> list[str]:
        return [*self.copy, *self.link, *self.tagged]
