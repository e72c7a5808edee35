"""Names of the server's configuration directives, to refuse a misspelt setting up front.

``create_database(maxclients=...)`` and ``colocate_db_*(maxclients=...)`` pass
settings to the server; a name that is not one of these would only fail at
launch ("Bad directive"). The list is what Valkey 8.1's ``CONFIG GET *``
returns (Redis 7's names are among them), plus the directives that exist only
in configuration files.
"""

from __future__ import annotations

DIRECTIVE_NAMES = frozenset({
    "acl-pubsub-default", "aclfile", "acllog-max-len", "active-defrag-cycle-max",
    "active-defrag-cycle-min", "active-defrag-cycle-us", "active-defrag-ignore-bytes",
    "active-defrag-max-scan-fields", "active-defrag-threshold-lower",
    "active-defrag-threshold-upper", "active-expire-effort", "activedefrag", "activerehashing",
    "always-show-logo", "aof-load-truncated", "aof-rewrite-cpulist",
    "aof-rewrite-incremental-fsync", "aof-timestamp-enabled", "aof-use-rdb-preamble",
    "aof_rewrite_cpulist", "appenddirname", "appendfilename", "appendfsync", "appendonly",
    "auto-aof-rewrite-min-size", "auto-aof-rewrite-percentage", "availability-zone",
    "bgsave-cpulist", "bgsave_cpulist", "bind", "bind-source-addr", "bio-cpulist",
    "bio_cpulist", "busy-reply-threshold", "client-output-buffer-limit",
    "client-query-buffer-limit", "cluster-allow-pubsubshard-when-down",
    "cluster-allow-reads-when-down", "cluster-allow-replica-migration",
    "cluster-announce-bus-port", "cluster-announce-client-ipv4",
    "cluster-announce-client-ipv6", "cluster-announce-hostname",
    "cluster-announce-human-nodename", "cluster-announce-ip", "cluster-announce-port",
    "cluster-announce-tls-port", "cluster-blacklist-ttl", "cluster-config-file",
    "cluster-enabled", "cluster-link-sendbuf-limit", "cluster-manual-failover-timeout",
    "cluster-migration-barrier", "cluster-node-timeout", "cluster-port",
    "cluster-preferred-endpoint-type", "cluster-replica-no-failover",
    "cluster-replica-validity-factor", "cluster-require-full-coverage",
    "cluster-slave-no-failover", "cluster-slave-validity-factor", "cluster-slot-stats-enabled",
    "commandlog-execution-slower-than", "commandlog-large-reply-max-len",
    "commandlog-large-request-max-len", "commandlog-reply-larger-than",
    "commandlog-request-larger-than", "commandlog-slow-execution-max-len", "crash-log-enabled",
    "crash-memcheck-enabled", "daemonize", "databases", "dbfilename", "dir", "disable-thp",
    "dual-channel-replication-enabled", "enable-debug-command", "enable-module-command",
    "enable-protected-configs", "extended-redis-compatibility", "hash-max-listpack-entries",
    "hash-max-listpack-value", "hash-max-ziplist-entries", "hash-max-ziplist-value",
    "hide-user-data-from-log", "hll-sparse-max-bytes", "hz", "ignore-warnings", "import-mode",
    "include", "io-threads", "jemalloc-bg-thread", "latency-monitor-threshold",
    "latency-tracking", "latency-tracking-info-percentiles", "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush", "lfu-decay-time", "lfu-log-factor", "list-compress-depth",
    "list-max-listpack-size", "list-max-ziplist-size", "loadmodule", "locale-collate",
    "log-format", "log-timestamp-format", "logfile", "loglevel", "lua-time-limit",
    "masterauth", "masteruser", "max-new-connections-per-cycle",
    "max-new-tls-connections-per-cycle", "maxclients", "maxmemory", "maxmemory-clients",
    "maxmemory-eviction-tenacity", "maxmemory-policy", "maxmemory-samples",
    "min-replicas-max-lag", "min-replicas-to-write", "min-slaves-max-lag",
    "min-slaves-to-write", "no-appendfsync-on-rewrite", "notify-keyspace-events",
    "oom-score-adj", "oom-score-adj-values", "pidfile", "port", "prefetch-batch-max-size",
    "primaryauth", "primaryuser", "proc-title-template", "propagation-error-behavior",
    "protected-mode", "proto-max-bulk-len", "rdb-del-sync-files", "rdb-save-incremental-fsync",
    "rdb-version-check", "rdbchecksum", "rdbcompression", "rdma-bind",
    "rdma-completion-vector", "rdma-port", "rdma-rx-size", "rename-command",
    "repl-backlog-size", "repl-backlog-ttl", "repl-disable-tcp-nodelay", "repl-diskless-load",
    "repl-diskless-sync", "repl-diskless-sync-delay", "repl-diskless-sync-max-replicas",
    "repl-ping-replica-period", "repl-ping-slave-period", "repl-timeout",
    "replica-announce-ip", "replica-announce-port", "replica-announced",
    "replica-ignore-disk-write-errors", "replica-ignore-maxmemory", "replica-lazy-flush",
    "replica-priority", "replica-read-only", "replica-serve-stale-data", "replicaof",
    "requirepass", "sanitize-dump-payload", "save", "sentinel", "server-cpulist",
    "server_cpulist", "set-max-intset-entries", "set-max-listpack-entries",
    "set-max-listpack-value", "set-proc-title", "shutdown-on-sigint", "shutdown-on-sigterm",
    "shutdown-timeout", "slave-announce-ip", "slave-announce-port", "slave-ignore-maxmemory",
    "slave-lazy-flush", "slave-priority", "slave-read-only", "slave-serve-stale-data",
    "slaveof", "slowlog-log-slower-than", "slowlog-max-len", "socket-mark-id",
    "stop-writes-on-bgsave-error", "stream-node-max-bytes", "stream-node-max-entries",
    "supervised", "syslog-enabled", "syslog-facility", "syslog-ident", "tcp-backlog",
    "tcp-keepalive", "timeout", "tls-auth-clients", "tls-ca-cert-dir", "tls-ca-cert-file",
    "tls-cert-file", "tls-ciphers", "tls-ciphersuites", "tls-client-cert-file",
    "tls-client-key-file", "tls-client-key-file-pass", "tls-cluster", "tls-dh-params-file",
    "tls-key-file", "tls-key-file-pass", "tls-port", "tls-prefer-server-ciphers",
    "tls-protocols", "tls-replication", "tls-session-cache-size", "tls-session-cache-timeout",
    "tls-session-caching", "tracking-table-max-keys", "unixsocket", "unixsocketgroup",
    "unixsocketperm", "user", "zset-max-listpack-entries", "zset-max-listpack-value",
    "zset-max-ziplist-entries", "zset-max-ziplist-value",
})


def is_directive(name: str) -> bool:
    """True when ``name`` (dashes or underscores) is a server configuration directive."""
    return name.replace("_", "-").lower() in DIRECTIVE_NAMES
