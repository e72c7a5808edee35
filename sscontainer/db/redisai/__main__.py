"""``python -m sscontainer.db.redisai``: print the built module's path.

For a server started by hand: ``valkey-server --loadmodule "$(python -m sscontainer.db.redisai)"``.
Exits 2 with the reason when the module was not built.
"""

from __future__ import annotations

import sys

from ...errors import ModuleNotBuiltError
from . import module_path


def main() -> int:
    try:
        print(module_path())
    except ModuleNotBuiltError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
