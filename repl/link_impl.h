/* link_impl.h: the replica link's struct and what its three files share:
 * link.c (the table, the one transition function, the driver, failures,
 * I/O helpers, the public API), handshake.c (CONNECT to RECEIVE_PSYNC_REPLY)
 * and transfer.c (TRANSFER). Private to those files. */
#ifndef TANDEM_REPL_LINK_IMPL_H
#define TANDEM_REPL_LINK_IMPL_H

#include "repl/link.h"
#include "repl/proto.h"

/* Results of a state handler: OK moved on (or made progress), AGAIN waits
 * for the next event, ERR failed the attempt with the reason in l->reason. */
#define LINK_OK 0
#define LINK_AGAIN 1
#define LINK_ERR (-1)

#define LINK_REASON_MAX 512
#define LINK_SHOWN_MAX 160 /* bytes of a primary's reply quoted in a reason */
#define LINK_READ_CHUNK 16384

typedef int link_handler(repl_link *l);

/* The RDB being received (state TRANSFER). */
typedef struct link_transfer {
    int fd;          /* the temp file, -1 when none */
    str path;        /* its name, NULL when none was created */
    int have_header; /* the "$..." line was read */
    int use_mark;    /* "$EOF:<mark>" framing */
    proto_mark_scan mark;
    long long size;     /* payload bytes announced, -1 with a mark or no header */
    long long read;     /* bytes received after the header (with the mark) */
    int done;           /* the whole payload is in the file */
    str extra;          /* stream bytes that followed the payload */
    long long start_ms; /* +FULLRESYNC received */
    int diskless;       /* loaded from the connection, no temp file */
    int streaming;      /* stream is open (diskless, after the header) */
    rdb_stream stream;  /* the payload as the loader reads it */
} link_transfer;

/* Settings, with owned copies of the strings ("" when unset). */
typedef struct link_cfg {
    char *masterauth, *masteruser, *announce_ip, *dir, *source_addr;
    int announce_port, listening_port;
    long long timeout_ms;
} link_cfg;

struct repl_link {
    enum link_state state;
    link_hooks hooks;
    link_cfg cfg;
    char *host; /* NULL in NONE */
    int port;
    conn *conn;        /* owned from the connect to the hand-over */
    proto_lines lines; /* reply lines, then the bulk header */
    str out;           /* commands not yet written, from out_pos */
    size_t out_pos;
    int sent_auth, sent_ip; /* what the handshake asked, for its replies */
    long long last_io_ms;
    long long state_since_ms;
    long long down_since_ms; /* left CONNECTED, -1 never */
    long long retry_at_ms;   /* CONNECT: no attempt from the cron before (back-off) */
    int has_cached;
    char cached_replid[PROTO_REPLID_LEN + 1];
    long long cached_offset;
    char replid[PROTO_REPLID_LEN + 1]; /* from +FULLRESYNC */
    long long offset;
    link_transfer xfer;
    char reason[LINK_REASON_MAX]; /* why the running handler failed */
    char last_failure[LINK_REASON_MAX];
    link_stats stats;
};

/* link.c */
long long link_now(const repl_link *l);
/* The one place that changes l->state. */
void link_set_state(repl_link *l, enum link_state to, const char *reason);
/* Records the reason in l->reason and returns LINK_ERR. */
int link_error(repl_link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The connect and read handler of the link's connection: runs the state. */
void link_event(conn *c);
/* Writes l->out (a write handler finishes it): LINK_OK or LINK_ERR. */
int link_flush(repl_link *l);
/* One read of up to cap bytes: LINK_OK with *n > 0, LINK_AGAIN, LINK_ERR. */
int link_read(repl_link *l, char *buf, size_t cap, size_t *n);
/* The next reply line, reading once when none is buffered. */
int link_read_line(repl_link *l, const char **line, size_t *len);
/* Detaches the connection from the link and enters CONNECTED; returns it. */
conn *link_hand_over(repl_link *l, const char *reason);

/* handshake.c: the handlers of CONNECT ... RECEIVE_PSYNC_REPLY. */
int handshake_connect(repl_link *l);
int handshake_connecting(repl_link *l);
int handshake_tls(repl_link *l);
int handshake_ping_reply(repl_link *l);
int handshake_send(repl_link *l);
int handshake_auth_reply(repl_link *l);
int handshake_port_reply(repl_link *l);
int handshake_ip_reply(repl_link *l);
int handshake_capa_reply(repl_link *l);
int handshake_send_psync(repl_link *l);
int handshake_psync_reply(repl_link *l);

/* transfer.c */
void transfer_init(repl_link *l);
/* Creates the temp file: LINK_OK or LINK_ERR. */
int transfer_begin(repl_link *l);
/* The TRANSFER handler: header, payload, fsync, load, hand-over. */
int transfer_receive(repl_link *l);
/* Closes and removes the temp file (or closes the stream) and forgets the
 * transfer. */
void transfer_abort(repl_link *l);
/* INFO: payload bytes received so far, and the time of the last one. */
long long transfer_read_bytes(const repl_link *l);
long long transfer_last_io_ms(const repl_link *l);

#endif
