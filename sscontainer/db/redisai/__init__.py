"""The RedisAI-compatible database module (``sscai.so``, C source in ``src/``).

The package build compiles it (``hatch_build.py``); every server sscontainer starts
loads it (:mod:`sscontainer.db.server_config`). ``PROTOCOL.md`` beside this file is
the contract between the module and the inference worker (:mod:`sscontainer.ml.worker`).
"""

from __future__ import annotations

import os

from ...errors import ModuleNotBuiltError

MODULE_ENV = "SSCONTAINER_REDISAI_MODULE"
MODULE_FILE = "sscai.so"
MODULE_NAME = "sscai"  # as MODULE LIST shows it
# sscontainer's orchestrator image links the module here (specs/entities.py), so a config
# rendered on the host can name it for a server in a container
IMAGE_MODULE_PATH = "/opt/sscontainer/sscai.so"


def module_path(package_dir: str | None = None) -> str:
    """Absolute path of the built module (``$SSCONTAINER_REDISAI_MODULE`` overrides it).

    ``package_dir``: where to look instead of this package's directory. Raises
    :class:`ModuleNotBuiltError`, naming the fix, when there is none.
    """
    override = os.environ.get(MODULE_ENV)
    if override:
        path = os.path.abspath(override)
        if not os.path.isfile(path):
            raise ModuleNotBuiltError(
                f"${MODULE_ENV}={override!r} is not a file: point it at a built sscai.so or "
                "unset it to use the one installed with sscontainer"
            )
        return path
    here = package_dir or os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.abspath(here), MODULE_FILE)
    if not os.path.isfile(path):
        raise ModuleNotBuiltError(
            f"the database module {path} was not built: reinstall sscontainer "
            "(pip install . or pip install -e .), which compiles it with the system C compiler "
            f"(apt-get install gcc), or set ${MODULE_ENV} to a built sscai.so"
        )
    return path
