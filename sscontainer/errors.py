"""One exception hierarchy for sscontainer.

Every message says what was wrong and how to fix it. User-input errors also
derive from ``ValueError`` (or ``FileNotFoundError``) so code written against
the builtin exceptions keeps working.

SmartSim's classes (``smartsim.error``) are here too, and sscontainer's errors
also derive from the SmartSim class (or builtin) SmartSim raises in the same
case, so a driver's ``except SmartSimError``, ``except TypeError`` or
``except FileExistsError`` works as it did with SmartSim.
"""

from __future__ import annotations

from collections.abc import Sequence


class SmartSimError(Exception):
    """SmartSim's base error (``smartsim.error.SmartSimError``)."""


class SSInternalError(Exception):
    """SmartSim's base of configuration and launcher errors (``smartsim.error``)."""


class SSContainerError(SmartSimError):
    """Base of every error sscontainer raises on purpose."""


# --- bad input ---------------------------------------------------------------
class SSConfigError(SSContainerError, SSInternalError, ValueError):
    """A setting, argument or file given by the user is invalid."""


class InvalidNameError(SSConfigError):
    """An entity, key or experiment name is not allowed."""


class MissingNameError(InvalidNameError, AttributeError):
    """An entity was given no name (SmartSim raises ``AttributeError`` here)."""


class EntityExistsError(SSConfigError):
    """Two entities (or files) would have the same name."""


class MissingFileError(SSConfigError, FileNotFoundError):
    """A file the user referred to does not exist."""


class ExecutableNotFoundError(SSConfigError, FileNotFoundError):
    """The executable of a run settings object cannot be found."""


class SchemaError(SSConfigError):
    """An experiment YAML file does not match the schema.

    ``errors`` holds one line per problem, each naming its place in the file.
    """

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors = list(errors)
        super().__init__(f"{source}: " + "; ".join(self.errors))


class SSUnsupportedError(SSContainerError):
    """The request is valid but this launcher/runtime/backend cannot do it."""


# --- running things ------------------------------------------------------------
class GenerationError(SSContainerError):
    """Run directories could not be generated."""


class LauncherError(SSContainerError, SSInternalError):
    """A launcher could not start, poll or stop a job."""


class DatabaseError(SSContainerError):
    """A database server could not be found, started, configured or stopped."""


class ServerNotFoundError(DatabaseError):
    """No Redis-protocol server binary is available."""


class ModuleNotBuiltError(DatabaseError):
    """The RedisAI-compatible database module (sscai.so) is missing: sscontainer was
    installed without building it."""


class ClientError(SSContainerError):
    """A client call failed (connection, timeout, missing key, bad reply)."""


class BuildError(SSContainerError):
    """An image build failed.

    ``step`` is the failing build step (when known) and ``log_tail`` the last
    lines of the build output.
    """

    def __init__(self, message: str, step: str = "", log_tail: str = "") -> None:
        self.step = step
        self.log_tail = log_tail
        text = message
        if step:
            text += f"\nfailing step: {step}"
        if log_tail:
            text += f"\nlast lines of the build log:\n{log_tail}"
        super().__init__(text)


class BackendError(SSContainerError):
    """An ML backend is missing or failed."""


# --- SmartSim's names, and the builtins SmartSim raises ------------------------------
class ArgumentTypeError(SSConfigError, TypeError):
    """An argument has the wrong type (SmartSim raises ``TypeError`` here)."""


class UserStrategyError(SSConfigError):
    """A user-provided ensemble permutation strategy returned something unusable."""


class SSReservedKeywordError(SSConfigError):
    """A reserved keyword (argument, name) was used where it is not allowed."""


class SSDBIDConflictError(EntityExistsError):
    """Two databases of one experiment would share a ``db_identifier``."""


class UnsupportedArgumentError(SSUnsupportedError, SSConfigError):
    """A keyword argument is neither a SmartSim argument nor a server setting."""


class PreviewFormatError(SSUnsupportedError):
    """``Experiment.preview`` was asked for an output format it cannot write."""


class EntityDirExistsError(GenerationError, FileExistsError):
    """A run directory already exists and ``overwrite`` was not given."""


class ParameterWriterError(GenerationError):
    """A tagged input file could not be read or written."""


class SSDBFilesNotParseable(DatabaseError):
    """A database checkpoint file is missing or cannot be read."""


class LauncherUnsupportedFeature(LauncherError):
    """The launcher cannot do what was asked."""


class AllocationError(LauncherError):
    """A workload-manager allocation is missing or unusable."""


class ShellError(LauncherError):
    """A command the launcher ran failed."""
