/* test_keys.c: Check unit tests of what the key commands (core/t_keys.c,
 * core/db_cmd.c, core/object_cmd.c) hand to propagate(): requests go
 * through the real client read path and call_dispatch on a fake connection,
 * and a propagate hook records every write with its database. Checked: a
 * command that changed nothing propagates nothing; DEL, UNLINK, RENAME,
 * MOVE, COPY, SWAPDB and PERSIST go out as they arrived; the EXPIRE family
 * goes out as PEXPIREAT with the absolute time (options kept), or as DEL
 * when the time is already past; a key found expired goes out through the
 * expired hook only. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/call.h"
#include "core/db.h"
#include "core/db_cmd.h"
#include "core/log.h"
#include "core/str.h"
#include "core/t_keys.h"
#include "core/t_string.h"
#include "net/client.h"
#include "net/output.h"
#include "tests/unit/fake/check_suite.h"
#include "tests/unit/fake/fake_conn.h"

#define TEST_KEYS_MAX_LOG 16

static loop *tl;
static client_settings ts;
static client *tc;
/* Each propagated command as "<db>: ARG ARG ...", and expired keys as
 * "<db>: expired KEY". */
static str plog[TEST_KEYS_MAX_LOG];
static int nplog;

static void record(str line)
{
    ck_assert_int_lt(nplog, TEST_KEYS_MAX_LOG);
    plog[nplog++] = line;
}

static void test_propagate_hook(int db, int argc, str *argv, void *data)
{
    (void)data;
    str line = str_cat_fmt(str_empty(), "%d:", db);
    for (int i = 0; i < argc; i++) line = str_cat_fmt(str_cat(line, " "), "%s", argv[i]);
    record(line);
}

static void test_expired_hook(int id, const char *key, size_t len)
{
    record(str_cat_fmt(str_empty(), "%d: expired %.*s", id, (int)len, key));
}

static void clear_log(void)
{
    for (int i = 0; i < nplog; i++) str_free(plog[i]);
    nplog = 0;
}

static void test_setup(void)
{
    static int registered;
    log_set_level(LOG_NOTHING);
    tl = loop_create(64);
    memset(&ts, 0, sizeof(ts));
    ts.maxclients = 10;
    ts.proto.max_bulk_len = 512LL * 1024 * 1024;
    ts.proto.max_multibulk = 1024 * 1024;
    clients_init(tl, &ts, call_dispatch, NULL);
    output_init(&ts);
    call_set_limits(&ts.proto);
    if (!registered) {
        db_commands_register();
        keys_commands_register();
        string_commands_register();
        call_add_propagate_hook(test_propagate_hook, NULL);
        registered = 1;
    }
    db_init(16);
    db_set_expired_hook(test_expired_hook);
    tc = client_create(fake_conn_create(tl));
    nplog = 0;
}

static void test_teardown(void)
{
    clear_log();
    client_free(tc);
    db_free_all();
    loop_destroy(tl);
}

/* Sends one request (space-separated words) and returns its reply. */
static const char *run(const char *request)
{
    static char reply[512];
    char words[32][64];
    int n = 0;
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", request);
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) snprintf(words[n++], 64, "%s", w);
    str s = str_cat_fmt(str_empty(), "*%d\r\n", n);
    for (int i = 0; i < n; i++) s = str_cat_fmt(s, "$%zu\r\n%s\r\n", strlen(words[i]), words[i]);
    fake_conn_clear_written(tc->conn);
    fake_conn_feed(tc->conn, s, str_len(s));
    str_free(s);
    fake_conn_fire(tc->conn, LOOP_READABLE);
    output_flush_pending();
    size_t len;
    const char *p = fake_conn_written(tc->conn, &len);
    ck_assert_uint_lt(len, sizeof(reply));
    memcpy(reply, p, len);
    reply[len] = '\0';
    return reply;
}

/* Runs a request that must propagate nothing. */
static void run_quiet(const char *request)
{
    run(request);
    ck_assert_msg(nplog == 0, "%s propagated %s", request, nplog ? plog[0] : "");
}

/* Runs a request that must propagate exactly want. */
static void run_expect(const char *request, const char *want)
{
    run(request);
    ck_assert_msg(nplog == 1, "%s propagated %d commands", request, nplog);
    ck_assert_str_eq(plog[0], want);
    clear_log();
}

/* Sets up keys without looking at what that propagates. */
static void given(const char *request)
{
    run(request);
    clear_log();
}

START_TEST(test_keys_noops_propagate_nothing)
{
    given("SET k v");
    given("SET j v EX 100");
    run_quiet("DEL missing");
    run_quiet("UNLINK missing other");
    run_quiet("EXISTS k");
    run_quiet("TYPE k");
    run_quiet("TOUCH k");
    run_quiet("KEYS *");
    run_quiet("SCAN 0");
    run_quiet("RANDOMKEY");
    run_quiet("TTL j");
    run_quiet("OBJECT ENCODING k");
    run_quiet("EXPIRE missing 10");
    run_quiet("EXPIRE j 10 NX");
    run_quiet("EXPIRE k 10 XX");
    run_quiet("EXPIRE k 10 GT");
    run_quiet("EXPIRE j 10 NX XX");
    run_quiet("PERSIST k");
    run_quiet("PERSIST missing");
    run_quiet("RENAME k k");
    run_quiet("RENAMENX k j");
    run_quiet("RENAME missing x");
    run_quiet("MOVE missing 1");
    run_quiet("MOVE k 0");
    run_quiet("COPY k j");
    run_quiet("COPY missing x");
    run_quiet("SWAPDB 0 16");
}
END_TEST

START_TEST(test_keys_writes_propagate_as_sent)
{
    given("SET a v");
    given("SET b v");
    run_expect("DEL a missing a", "0: DEL a missing a");
    run_expect("UNLINK b", "0: UNLINK b");
    given("SET c v EX 100");
    run_expect("PERSIST c", "0: PERSIST c");
    run_expect("RENAME c d", "0: RENAME c d");
    run_expect("RENAMENX d e", "0: RENAMENX d e");
    run_expect("COPY e f DB 3 REPLACE", "0: COPY e f DB 3 REPLACE");
    run_expect("MOVE e 2", "0: MOVE e 2");
    run_expect("SWAPDB 2 5", "0: SWAPDB 2 5");
    given("SELECT 5");
    run_expect("DEL e", "5: DEL e");
}
END_TEST

/* The time in "0: PEXPIREAT k <ms>..." as a number. */
static long long logged_time(void)
{
    ck_assert_int_eq(nplog, 1);
    long long when = -1;
    ck_assert_int_eq(sscanf(plog[0], "0: PEXPIREAT k %lld", &when), 1);
    return when;
}

START_TEST(test_keys_expire_goes_out_absolute)
{
    given("SET k v");
    long long before = db_time_ms();
    ck_assert_str_eq(run("EXPIRE k 100"), ":1\r\n");
    long long after = db_time_ms();
    long long when = logged_time();
    ck_assert_int_ge(when, before + 100000);
    ck_assert_int_le(when, after + 100000);
    char want[64];
    snprintf(want, sizeof(want), "0: PEXPIREAT k %lld", when);
    ck_assert_str_eq(plog[0], want);
    clear_log();

    run("PEXPIRE k 200000 GT");
    when = logged_time();
    ck_assert_int_ge(when, before + 200000);
    ck_assert_ptr_nonnull(strstr(plog[0], " GT"));
    clear_log();

    run_quiet("EXPIREAT k 4102444800 LT");
    run_expect("EXPIREAT k 4102444800 GT", "0: PEXPIREAT k 4102444800000 GT");
    run_expect("PEXPIREAT k 4102444800001 XX", "0: PEXPIREAT k 4102444800001 XX");
    run_expect("pexpireat k 4102444800002", "0: PEXPIREAT k 4102444800002");
}
END_TEST

START_TEST(test_keys_expire_in_the_past_goes_out_as_del)
{
    given("SET a v");
    given("SET b v");
    given("SET c v EX 100");
    run_expect("EXPIRE a -1", "0: DEL a");
    run_expect("PEXPIREAT b 1", "0: DEL b");
    run_expect("EXPIRE c 0 XX", "0: DEL c");
    ck_assert_int_eq(db_size(0), 0);
}
END_TEST

START_TEST(test_keys_expired_key_goes_out_through_the_hook)
{
    given("SET a v");
    given("SET b v");
    kv *o = db_find(0, "a", 1);
    db_set_expire(0, o, db_time_ms() - 10);
    o = db_find(0, "b", 1);
    db_set_expire(0, o, db_time_ms() - 10);
    /* DEL meets an expired key: only the expiry's DEL goes out. */
    run_expect("DEL a", "0: expired a");
    ck_assert_str_eq(run("EXISTS b"), ":0\r\n");
    ck_assert_int_eq(nplog, 1);
    ck_assert_str_eq(plog[0], "0: expired b");
}
END_TEST

static Suite *test_keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc_prop = suite_new_tcase(s, "propagation", test_setup, test_teardown, 0);
    tcase_add_test(tc_prop, test_keys_noops_propagate_nothing);
    tcase_add_test(tc_prop, test_keys_writes_propagate_as_sent);
    tcase_add_test(tc_prop, test_keys_expire_goes_out_absolute);
    tcase_add_test(tc_prop, test_keys_expire_in_the_past_goes_out_as_del);
    tcase_add_test(tc_prop, test_keys_expired_key_goes_out_through_the_hook);
    return s;
}

int main(void)
{
    return run_suite(test_keys_suite());
}
