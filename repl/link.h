/* link.h: the replica's link to its primary, as an explicit state machine
 * (Redis's states, from NONE to CONNECTED, plus TLS_HANDSHAKE): connect, the
 * TLS handshake when the connection has one, handshake, PSYNC, the
 * RDB transfer to a temp file and its hand-over to a loader callback. It
 * talks to the primary through net/conn.h only, never blocks, and reads time
 * from its arguments or its clock callback. It knows nothing of the keyspace
 * or the server: the composition root gives it callbacks (a connection
 * factory, the loader, what to do with the connection once synced), calls
 * link_cron once a second and merges link_info into INFO replication. Once
 * CONNECTED, the connection belongs to the caller (the primary client). */
#ifndef TANDEM_REPL_LINK_H
#define TANDEM_REPL_LINK_H

#include <stddef.h>

#include "core/str.h"
#include "net/conn.h"
#include "rdb/stream.h"

enum link_state {
    LINK_NONE = 0,            /* not a replica */
    LINK_CONNECT,             /* must connect (at the next cron tick) */
    LINK_CONNECTING,          /* nonblocking connect in progress */
    LINK_TLS_HANDSHAKE,       /* TLS handshake in progress (tls-replication) */
    LINK_RECEIVE_PING_REPLY,  /* PING sent */
    LINK_SEND_HANDSHAKE,      /* sending AUTH, REPLCONF port, ip, capa */
    LINK_RECEIVE_AUTH_REPLY,  /* AUTH sent (masterauth set) */
    LINK_RECEIVE_PORT_REPLY,  /* REPLCONF listening-port sent */
    LINK_RECEIVE_IP_REPLY,    /* REPLCONF ip-address sent (announce ip set) */
    LINK_RECEIVE_CAPA_REPLY,  /* REPLCONF capa sent */
    LINK_SEND_PSYNC,          /* sending PSYNC */
    LINK_RECEIVE_PSYNC_REPLY, /* PSYNC sent */
    LINK_TRANSFER,            /* receiving the RDB */
    LINK_CONNECTED,           /* synced: the caller owns the connection */
    LINK_STATES
};

typedef struct repl_link repl_link;

/* What the link needs from the server, given once at link_create. */
typedef struct link_hooks {
    void *priv; /* first argument of every hook */
    /* A new unconnected connection (plain or TLS) for conn_connect; NULL
     * fails this attempt. */
    conn *(*new_conn)(void *priv);
    /* Wall-clock milliseconds (Unix time); NULL reads the system clock. */
    long long (*clock_ms)(void *priv);
    /* Replaces the dataset with the RDB at path, all or nothing: 0, or -1
     * with *err set to a new str (or left NULL). The link removes the file
     * after it returns. */
    int (*load_rdb)(void *priv, const char *path, str *err);
    /* Optional: asked at +FULLRESYNC whether this transfer loads straight
     * from the connection (repl-diskless-load): 1, or 0 for the temp file.
     * NULL: always the temp file. */
    int (*diskless)(void *priv);
    /* Required with diskless: replaces the dataset with the RDB read from s,
     * a connection stream (rdb/stream_conn.h) over the link's connection,
     * all or nothing; a load only succeeds once rdb_stream_conn_finish(s)
     * has. Nothing should stop or restart the link meanwhile (the caller
     * refuses REPLICAOF); if something does, the stream is closed first, so
     * the loader's next read fails and the load ends cleanly. 0, or -1 with
     * *err set to a new str (or NULL). */
    int (*load_conn)(void *priv, rdb_stream *s, str *err);
    /* +CONTINUE: the partial resync was accepted. c is the caller's from now
     * on; new_replid is the primary's new ID or NULL when unchanged; extra
     * holds stream bytes that arrived right after the reply. */
    void (*on_continue)(void *priv, conn *c, const char *new_replid, const char *extra,
                        size_t extra_len);
    /* The full sync is loaded: c is the caller's from now on; replid and
     * offset come from +FULLRESYNC; extra holds stream bytes that arrived
     * right after the RDB payload. */
    void (*on_connected)(void *priv, conn *c, const char *replid, long long offset,
                         const char *extra, size_t extra_len);
    /* Optional: every state change, after it is made. */
    void (*on_transition)(void *priv, enum link_state from, enum link_state to, const char *reason);
} link_hooks;

/* Settings, copied by link_configure; used from the next step on. */
typedef struct link_settings {
    const char *masterauth;  /* NULL or "": no AUTH */
    const char *masteruser;  /* with masterauth: AUTH user pass */
    const char *announce_ip; /* replica-announce-ip; NULL or "": not sent */
    int announce_port;       /* replica-announce-port; 0: listening_port */
    int listening_port;      /* our port (the TLS port under tls-replication) */
    long long timeout_ms;    /* repl-timeout */
    const char *dir;         /* where the temp file goes; NULL or "": cwd */
    const char *source_addr; /* bind-source-addr; NULL or "": any */
} link_settings;

/* Counters for INFO and tests. Times are wall-clock ms, -1 when never. */
typedef struct link_stats {
    long long transitions;          /* state changes */
    long long failures;             /* failed attempts and lost links */
    long long consecutive_failures; /* since the link was last CONNECTED */
    long long full_syncs;           /* full syncs loaded */
    long long partial_syncs;        /* +CONTINUE accepted */
    long long last_failure_ms;
    long long last_full_sync_ms;    /* duration, +FULLRESYNC to loaded */
    long long last_full_sync_bytes; /* RDB payload bytes */
    long long last_full_sync_end_ms;
} link_stats;

/* A link in state NONE. hooks is copied; new_conn, load_rdb, on_continue
 * and on_connected are required. */
repl_link *link_create(const link_hooks *hooks);
/* Closes the connection the link owns and removes its temp file. */
void link_free(repl_link *l);
void link_configure(repl_link *l, const link_settings *s);

/* REPLICAOF host port: from any state, drops the connection the link owns
 * and starts connecting. A CONNECTED link's connection is the caller's:
 * free the primary client first. */
void link_start(repl_link *l, const char *host, int port);
/* REPLICAOF NO ONE: to NONE from any state, closing the connection the link
 * owns and removing any temp file. */
void link_stop(repl_link *l);
/* The primary client's connection closed while CONNECTED: back to CONNECT
 * (reconnect at the next tick). Ignored in other states. */
void link_connection_lost(repl_link *l, const char *reason);
/* Once a second: starts a connect in CONNECT, and times out CONNECTING, the
 * handshake and TRANSFER after repl-timeout without I/O. */
void link_cron(repl_link *l, long long now_ms);

/* The primary state kept from a lost link, for PSYNC replid offset+1
 * (offset: the last byte applied). Consumed by the next PSYNC reply that
 * is +FULLRESYNC or +CONTINUE. */
void link_set_cached_primary(repl_link *l, const char *replid, long long offset);
void link_clear_cached_primary(repl_link *l);

enum link_state link_get_state(const repl_link *l);
const char *link_state_name(enum link_state state);
/* The primary set by link_start (NULL in NONE). */
const char *link_host(const repl_link *l);
int link_port(const repl_link *l);
/* INFO master_link_status:up and master_sync_in_progress:1. */
int link_is_up(const repl_link *l);
int link_sync_in_progress(const repl_link *l);
const link_stats *link_get_stats(const repl_link *l);
/* Why the last attempt failed ("" when none has). */
const char *link_last_failure(const repl_link *l);

/* Appends "field:value\r\n" lines for INFO replication, in Redis's order
 * after slave_repl_offset: master_sync_total_bytes, _read_bytes,
 * _left_bytes, _perc, _last_io_seconds_ago (TRANSFER only),
 * master_link_down_since_seconds (when not CONNECTED), then tandem_link_*
 * and tandem_last_full_sync_* fields. */
str link_info(const repl_link *l, str s, long long now_ms);

/* While the received RDB loads: a newline to the primary, so that a long
 * load does not look like a dead replica (as Redis's replicas do). */
void link_transfer_keepalive(repl_link *l);

/* A new str holding REPLCONF ACK offset, for the caller to send through the
 * primary client once a second while CONNECTED. */
str link_ack_command(long long offset);

#endif
