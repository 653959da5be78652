/* primary_world.h: the world the unit suites of replication's primary side
 * (test_primary.c, test_wait.c) run in: an event loop, the client layer
 * dispatching through call_dispatch with the reply path, a struct repl of
 * the suite's own set up with test values and the suite's clock, and clients
 * on the fake connection that send commands and whose written bytes the
 * test reads back. Static inline, so that only the suites that include it
 * link the replication code. */
#ifndef TANDEM_PRIMARY_WORLD_H
#define TANDEM_PRIMARY_WORLD_H

#include <check.h>
#include <string.h>

#include "core/call.h"
#include "core/log.h"
#include "net/client.h"
#include "net/output.h"
#include "net/resp_write.h"
#include "repl/primary.h"
#include "tests/unit/fake/fake_conn.h"

#define PRIMARY_WORLD_MB (1024 * 1024)

typedef struct primary_world {
    loop *loop;
    client_settings settings;
} primary_world;

/* The loop and the client layer (on_free told of every client freed), and
 * r with test values (1mb backlog, repl-timeout 60, ping period 10, IDs of
 * 'a's and '0's) on clock; the commands are the suite's to register. */
static inline void primary_world_setup(primary_world *w, repl *r, client_fn *on_free,
                                       long long (*clock)(void))
{
    log_set_level(LOG_NOTHING);
    w->loop = loop_create(64);
    ck_assert_ptr_nonnull(w->loop);
    memset(&w->settings, 0, sizeof(w->settings));
    w->settings.maxclients = 100;
    w->settings.proto.max_bulk_len = 512LL * PRIMARY_WORLD_MB;
    w->settings.proto.max_multibulk = PRIMARY_WORLD_MB;
    clients_init(w->loop, &w->settings, call_dispatch, on_free);
    output_init(&w->settings);
    memset(r, 0, sizeof(*r));
    r->timeout_s = 60;
    r->ping_period_s = 10;
    r->backlog_size = PRIMARY_WORLD_MB;
    r->backlog_ttl_s = 3600;
    memset(r->replid, 'a', REPL_ID_LEN);
    memset(r->replid2, '0', REPL_ID_LEN);
    primary_init(r);
    r->clock_ms = clock;
}

static inline void primary_world_free_clients(void)
{
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, clients_list()) client_free(list_entry(pos, client, all_node));
}

static inline client *primary_world_client(primary_world *w)
{
    client *c = client_create(fake_conn_create(w->loop));
    ck_assert_ptr_nonnull(c);
    return c;
}

/* c receives bytes (requests in RESP) and runs what they hold. */
static inline void primary_world_feed(client *c, const char *p, size_t len)
{
    fake_conn_feed(c->conn, p, len);
    fake_conn_fire(c->conn, LOOP_READABLE);
}

/* c sends one command (argv as C strings) and it runs. */
static inline void primary_world_send(client *c, int argc, const char **argv)
{
    size_t lens[16];
    ck_assert_int_le(argc, 16);
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    str s = resp_add_command(str_empty(), argc, argv, lens);
    primary_world_feed(c, s, str_len(s));
    str_free(s);
}

#define SEND(c, ...)                                                                               \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__};                                                       \
        primary_world_send((c), (int)(sizeof(argv_) / sizeof(argv_[0])), argv_);                  \
    } while (0)

/* What c's connection received since the last call (after the
 * before-sleep flush), as a new str. */
static inline str primary_world_take(client *c)
{
    size_t n;
    output_flush_pending();
    const char *p = fake_conn_written(c->conn, &n);
    str s = str_new_len(p, n);
    fake_conn_clear_written(c->conn);
    return s;
}

static inline void primary_world_expect(client *c, const char *expect)
{
    str got = primary_world_take(c);
    ck_assert_msg(str_len(got) == strlen(expect) && memcmp(got, expect, strlen(expect)) == 0,
                  "got '%s', want '%s'", got, expect);
    str_free(got);
}

#endif
