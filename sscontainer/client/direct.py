"""Clients for sscontainer's own use: an explicit address, no key prefixes.

The driver and the colocated supervisor store ML assets with these; unlike
``Client(cluster, address)``, nothing is read from or written to ``os.environ``
(``SSDB``, ``SSKEYIN``/``SSKEYOUT``, ``SSDB_PASSWORD`` are all given here).
"""

from __future__ import annotations

from .client import Client
from .configoptions import ConfigOptions


def connect(ssdb: str, cluster: bool, password: str | None = None,
            logger_name: str = "sscontainer") -> Client:
    """A Client of the database at ``ssdb`` (``host:port[,...]`` or ``unix:///path``)."""
    options = ConfigOptions.create_from_environment("")
    options.override_string_option("SSDB", ssdb)
    options.override_string_option("SR_DB_TYPE", "Clustered" if cluster else "Standalone")
    options.override_string_option("SSDB_PASSWORD", password or "")
    options.override_string_option("SSKEYIN", "")
    options.override_string_option("SSKEYOUT", "")
    return Client(options, logger_name)
