"""Model: one application launched by an Experiment."""

from __future__ import annotations

import hashlib
import numbers
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ..db.colocated_config import ColocatedConfig, split_db_kwargs
from ..db.socket_dir import warn_wide_permissions
from ..errors import (
    ArgumentTypeError,
    EntityExistsError,
    SSConfigError,
    SSUnsupportedError,
)
from ..limits import check_text, shown
from ..names import validate_name
from ..settings.batch import BatchSettings
from ..settings.run import RunSettings
from .assets import AssetsMixin  # [ml] add_ml_model/add_script/add_function
from .db_kwargs import check_db_kwargs
from .files import EntityFiles


class ColocateDbDeprecationWarning(DeprecationWarning, FutureWarning):
    """``colocate_db`` is deprecated (SmartSim warns with FutureWarning: both match)."""


def _param_to_str(name: str, value: Any) -> str:
    if isinstance(value, (str, numbers.Number)):
        return check_text(str(value), f"param {name!r}")
    raise ArgumentTypeError(
        f"param {name!r} has a {type(value).__name__} value {value!r}: "
        "give a string or a number"
    )


def check_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Validate a param dict and convert its values to strings (written literally)."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ArgumentTypeError(f"params must be a dict of name -> value, got {params!r}")
    out: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise SSConfigError(f"param names must be non-empty strings, got {shown(key)}")
        check_text(key, "param name")
        out[key] = _param_to_str(key, value)
    return out


class SSEntity:
    """What every launchable entity has: a name, a path and run settings."""

    entity_type = "Entity"

    def __init__(self, name: str, path: str | None, run_settings: RunSettings | None) -> None:
        self.name = validate_name(name, f"{self.entity_type} name")
        self.path = os.path.abspath(path) if path else os.getcwd()
        self.run_settings = run_settings

    @property
    def type(self) -> str:
        return self.entity_type

    def __repr__(self) -> str:
        return f"{self.entity_type}({self.name!r})"


class Model(AssetsMixin, SSEntity):
    """An application with parameters, attached files and optional key prefixing."""

    entity_type = "Model"

    def __init__(
        self,
        name: str,
        params: Mapping[str, Any] | None,
        run_settings: RunSettings,
        path: str | None = None,
        params_as_args: Iterable[str] | None = None,
        batch_settings: BatchSettings | None = None,
        enable_key_prefixing: bool = False,
    ) -> None:
        if isinstance(path, RunSettings) and not isinstance(run_settings, RunSettings):
            # Model(name, params, path, run_settings): an order SmartSim's own tests use
            run_settings, path = path, run_settings or None
        if not isinstance(run_settings, RunSettings):
            raise SSConfigError(
                f"model {name!r} needs a RunSettings (from exp.create_run_settings), "
                f"got {type(run_settings).__name__}"
            )
        super().__init__(name, path, run_settings)
        self.run_settings: RunSettings = run_settings
        self.params = check_params(params)
        self.params_as_args = list(params_as_args or [])
        self.batch_settings = batch_settings
        self.files: EntityFiles | None = None
        self.incoming_entities: list[SSEntity] = []
        self._key_prefixing_enabled = bool(enable_key_prefixing)
        self.colocated: ColocatedConfig | None = None
        self.auto_socket = False  # colocate_db_uds without unix_socket: placed at start
        self._init_assets()  # [ml] ML models and scripts to load before it runs
        self.params_to_args()

    # --- files ---------------------------------------------------------------
    def attach_generator_files(
        self,
        to_copy: str | Iterable[str] | None = None,
        to_symlink: str | Iterable[str] | None = None,
        to_configure: str | Iterable[str] | None = None,
    ) -> None:
        """Attach files for generation; replaces any earlier attachment."""
        self.files = EntityFiles.from_user(to_copy, to_symlink, to_configure)

    @property
    def attached_files_table(self) -> str:
        if not self.files:
            return "No file attached to this model."
        rows = [("Copy", p) for p in self.files.copy]
        rows += [("Symlink", p) for p in self.files.link]
        rows += [("Configure", p) for p in self.files.tagged]
        return "\n".join(f"{kind:<10} {path}" for kind, path in rows)

    def print_attached_files(self) -> None:
        """Print :attr:`attached_files_table`."""
        print(self.attached_files_table)

    # --- params ----------------------------------------------------------------
    def params_to_args(self) -> None:
        """Append the params named in ``params_as_args`` to the exe args."""
        for param in self.params_as_args:
            if param not in self.params:
                raise SSConfigError(
                    f"params_as_args names {param!r}, which is not a param of model {self.name!r}"
                )
            value = self.params[param]
            if len(param) == 1:
                self.run_settings.add_exe_args([f"-{param}", value])
            else:
                self.run_settings.add_exe_args([f"--{param}={value}"])

    # --- key prefixing -----------------------------------------------------------
    def enable_key_prefixing(self) -> None:
        self._key_prefixing_enabled = True

    def disable_key_prefixing(self) -> None:
        self._key_prefixing_enabled = False

    def query_key_prefixing(self) -> bool:
        return self._key_prefixing_enabled

    def register_incoming_entity(self, incoming_entity: SSEntity) -> None:
        if not isinstance(incoming_entity, SSEntity):
            raise ArgumentTypeError(
                f"register_incoming_entity expects an entity, got {incoming_entity!r}"
            )
        if any(e.name == incoming_entity.name for e in self.incoming_entities):
            raise EntityExistsError(
                f"{incoming_entity.name!r} is already registered as incoming to {self.name!r}"
            )
        self.incoming_entities.append(incoming_entity)

    # --- colocated database --------------------------------------------------------
    @property
    def is_colocated(self) -> bool:
        return self.colocated is not None

    def _colocate(self, transport: str, options: dict[str, Any], kwargs: dict[str, Any]) -> None:
        if self.colocated is not None:
            raise SSConfigError(f"model {self.name!r} already has a colocated database")
        if self.run_settings.mpmd:
            raise SSUnsupportedError(
                "Models colocated with databases cannot be run as a mpmd workload"
            )
        if "limit_app_cpus" in kwargs:
            raise SSUnsupportedError(
                "Pinning app CPUs via limit_app_cpus is not supported: bind the "
                "application's CPUs through its run settings (e.g. set_cpu_bindings)"
            )
        checked = check_db_kwargs(kwargs, f"colocate_db_{transport}")
        server_conf, ml_threads = split_db_kwargs(checked)
        self.colocated = ColocatedConfig(
            transport=transport, server_conf=server_conf, ml_threads=ml_threads, **options
        )
        self.run_settings.colocated_db_settings = self._colocated_db_settings()

    def _colocated_db_settings(self) -> dict[str, Any]:
        """SmartSim's ``run_settings.colocated_db_settings`` dict, for code that reads it."""
        config = self.colocated
        assert config is not None
        connection: dict[str, Any] = (
            {"unix_socket": config.unix_socket, "socket_permissions":
             int(oct(config.socket_permissions)[2:]), "port": 0}
            if config.transport == "uds"
            else {"port": config.port, "ifname": config.ifname}
        )
        pinning = config.custom_pinning
        return {
            **connection,
            "cpus": config.db_cpus,
            "custom_pinning": None if pinning is None or pinning == [] else
            ",".join(str(cpu) for cpu in pinning) if isinstance(pinning, list) else pinning,
            "debug": config.debug,
            "db_identifier": config.db_identifier,
            "rai_args": {
                "threads_per_queue": config.ml_threads.get("threads_per_queue"),
                "inter_op_parallelism": config.ml_threads.get("inter_op_threads"),
                "intra_op_parallelism": config.ml_threads.get("intra_op_threads"),
            },
            "extra_db_args": dict(config.server_conf),
            "db_models": getattr(self, "_db_models", []),  # the live lists, as SmartSim
            "db_scripts": getattr(self, "_db_scripts", []),
        }

    def colocate_db_uds(
        self,
        unix_socket: str | None = None,
        socket_permissions: int | str | None = None,
        db_cpus: int = 1,
        custom_pinning: Iterable[int | str] | str | None = None,
        debug: bool = False,
        db_identifier: str = "",
        **kwargs: Any,
    ) -> None:
        """Run a database beside the model, reached through a Unix domain socket.

        ``socket_permissions`` takes SmartSim's octal digits (``755``), a string
        (``"755"``) or a mode (``0o755``); left out it is 700, so only the owner can
        connect (the database has no password), and a wider mode is warned about.
        Without ``unix_socket`` the experiment gives each model its own socket in a
        private directory when it starts (``sscontainer.db.socket_dir``), so two
        models, or two experiments, never share a server by accident.
        """
        kwargs.pop("port", None)  # SmartSim ignores a port here: a socket has none
        self.auto_socket = unix_socket is None
        if unix_socket is None:  # a placeholder until start places it (socket_dir)
            digest = hashlib.sha1(f"{self.path}/{self.name}".encode()).hexdigest()[:12]
            unix_socket = os.path.join(tempfile.gettempdir(), f"ssc-{digest}.sock")
        mode = 0o700 if socket_permissions is None else _file_mode(socket_permissions)
        if isinstance(mode, int) and not isinstance(mode, bool) and 0 <= mode <= 0o777:
            warn_wide_permissions(self.name, mode)
        options = {
            "unix_socket": unix_socket,
            "socket_permissions": mode,
            "db_cpus": db_cpus,
            "custom_pinning": _pinning(custom_pinning),
            "debug": debug,
            "db_identifier": db_identifier,
        }
        self._colocate("uds", options, kwargs)

    def colocate_db_tcp(
        self,
        port: int = 6379,
        ifname: str | Iterable[str] = "lo",
        db_cpus: int = 1,
        custom_pinning: Iterable[int | str] | str | None = None,
        debug: bool = False,
        db_identifier: str = "",
        **kwargs: Any,
    ) -> None:
        """Run a database beside the model on the loopback interface at ``port``."""
        names = [ifname] if isinstance(ifname, str) else list(ifname)
        if len(names) != 1:
            raise SSConfigError(f"ifname: a colocated database uses one interface, got {names}")
        options = {
            "port": port,
            "ifname": names[0],
            "db_cpus": db_cpus,
            "custom_pinning": _pinning(custom_pinning),
            "debug": debug,
            "db_identifier": db_identifier,
        }
        self._colocate("tcp", options, kwargs)

    def colocate_db(self, *args: Any, **kwargs: Any) -> None:
        """Deprecated alias of :meth:`colocate_db_tcp`."""
        warnings.warn(
            "Model.colocate_db is deprecated: use colocate_db_tcp (or colocate_db_uds)",
            ColocateDbDeprecationWarning,
            stacklevel=2,
        )
        self.colocate_db_tcp(*args, **kwargs)


def _file_mode(value: int | str) -> int:
    """SmartSim passes socket modes as octal digits (755); accept those, strings and modes."""
    if isinstance(value, str):
        try:
            return int(value, 8)
        except ValueError:
            raise SSConfigError(
                f"socket_permissions {value!r}: give octal digits like '755'"
            ) from None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0o777:
        digits = str(value)
        if set(digits) <= set("01234567"):
            return int(digits, 8)
    return value


def _pinning(value: Iterable[int | str] | str | None) -> Any:
    if value is None or isinstance(value, str):
        return value
    return list(value)
