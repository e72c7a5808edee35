"""One exception hierarchy for sscontainer.

Every message says what was wrong and how to fix it. User-input errors also
derive from ``ValueError`` (or ``FileNotFoundError``) so code written against
the builtin exceptions keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence


class SSContainerError(Exception):
    """Base of every error sscontainer raises on purpose."""


# --- bad input ---------------------------------------------------------------
class SSConfigError(SSContainerError, ValueError):
    """A setting, argument or file given by the user is invalid."""


class InvalidNameError(SSConfigError):
    """An entity, key or experiment name is not allowed."""


class EntityExistsError(SSConfigError):
    """Two entities (or files) would have the same name."""


class MissingFileError(SSConfigError, FileNotFoundError):
    """A file the user referred to does not exist."""


class ExecutableNotFoundError(SSConfigError):
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


class LauncherError(SSContainerError):
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
