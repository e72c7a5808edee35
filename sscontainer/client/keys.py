"""Key names and ensemble prefixes, exactly as SmartRedis 0.6.1 builds them.

``SSKEYOUT`` is the put prefix; ``SSKEYIN`` a comma list of get prefixes, the first
one in use until ``set_data_source`` picks another. SmartRedis accepts only
``SSKEYIN``'s names there; sscontainer's client also accepts any other entity name
(DESIGN.md: the guide's consumer reads the producers' keys without registering
them as incoming entities). A prefix ``P`` makes
key ``P.name``. Writes use the put prefix, reads/exists/deletes the get prefix.
Tensors, datasets and lists are prefixed by default, models and scripts not; the
``use_*_ensemble_prefix`` switches change that. A dataset ``N`` lives under
``P{N}.meta`` and ``P{N}.<tensor>``; a list holds dataset keys ``P{N}``.
"""

from __future__ import annotations

from ..names import is_entity_name
from .error import RedisInternalError, RedisRuntimeError

META_SUFFIX = ".meta"


class KeyBuilder:
    """Builds database keys from user names according to the prefix settings."""

    def __init__(self, put_prefix: str, get_prefixes_csv: str) -> None:
        self.put_prefix = put_prefix
        self.get_prefixes = [part for part in get_prefixes_csv.split(",") if part]
        self.get_prefix = ""
        self.use_tensor_prefix = True
        self.use_dataset_prefix = True
        self.use_list_prefix = True
        self.use_model_prefix = False
        if self.get_prefixes:
            self.set_data_source(self.get_prefixes[0])

    def set_data_source(self, source_id: str) -> None:
        if source_id not in self.get_prefixes and not is_entity_name(source_id):
            raise RedisRuntimeError(
                f"Client error: data source {source_id} could not be found during client "
                f"initialization: it is not one of SSKEYIN's names "
                f"({', '.join(self.get_prefixes) or 'SSKEYIN is not set'}) nor an entity name "
                "(letters, digits, '_', '.', '-')."
            )
        self.get_prefix = source_id

    def _prefix(self, for_read: bool) -> str:
        prefix = self.get_prefix if for_read else self.put_prefix
        return prefix + "." if prefix else ""

    def tensor(self, name: str, for_read: bool) -> str:
        return self._prefix(for_read) + name if self.use_tensor_prefix else name

    def model(self, name: str, for_read: bool) -> str:
        return self._prefix(for_read) + name if self.use_model_prefix else name

    def list(self, name: str, for_read: bool) -> str:
        return self._prefix(for_read) + name if self.use_list_prefix else name

    def dataset(self, name: str, for_read: bool) -> str:
        """``P{name}``: the key a dataset's keys start with (and a list entry)."""
        prefix = self._prefix(for_read) if self.use_dataset_prefix else ""
        return prefix + "{" + name + "}"

    def dataset_meta(self, name: str, for_read: bool) -> str:
        return self.dataset(name, for_read) + META_SUFFIX

    def dataset_tensor(self, name: str, tensor: str, for_read: bool) -> str:
        return self.dataset(name, for_read) + "." + tensor


def dataset_name_of_entry(entry: str) -> str:
    """The dataset name in a list entry ``P{name}``: between the first ``{`` and last ``}``."""
    start, end = entry.find("{"), entry.rfind("}")
    if start < 0:
        raise _entry_error("the { character is missing")
    if end < 0:
        raise _entry_error("the } character is missing")
    if end == start:
        raise _entry_error("an empty DataSet name was encountered")
    return entry[start + 1:end]


def _entry_error(why: str) -> RedisInternalError:
    return RedisInternalError(
        f"An aggregation list entry could not be converted to a DataSet name because {why}."
    )
