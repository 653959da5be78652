/* test_config.c: unit tests of core/config.c and core/config_redis.c, the
 * directive registry: parsing each type from files and text, error messages,
 * include, CONFIG SET all-or-nothing, CONFIG GET patterns, unimplemented Redis
 * directives, the appendonly refusal, and CONFIG REWRITE round trips. Each
 * test starts from an empty registry with a fixed set of test directives. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "net/resp_parse.h"
#include "tests/unit/fake/check_suite.h"

/* ------------------------------------------------------ test directives */

static int t_bool;
static long long t_ll, t_mem, t_immutable, t_guarded, t_port;
static str t_name, t_secret;
static int t_mode;
static int ll_applies, guarded_applies;

static const config_enum t_modes[] = {{"slow", 0}, {"fast", 1}, {"auto", 2}, {NULL, 0}};

/* A special directive keeping its arguments as a list. */
typedef struct test_list {
    int argc;
    str argv[8];
} test_list;

static test_list t_list;

static void test_list_clear(test_list *l)
{
    for (int i = 0; i < l->argc; i++) str_free(l->argv[i]);
    l->argc = 0;
}

static int test_list_set(void *data, int argc, str *argv, const char **err)
{
    test_list *l = data;
    if (argc > 8) {
        *err = "too many items";
        return -1;
    }
    test_list_clear(l);
    if (argc == 1 && str_len(argv[0]) == 0) return 0;
    for (int i = 0; i < argc; i++) l->argv[i] = str_dup(argv[i]);
    l->argc = argc;
    return 0;
}

static str test_list_get(void *data)
{
    test_list *l = data;
    str out = str_empty();
    for (int i = 0; i < l->argc; i++) {
        if (i) out = str_cat(out, " ");
        if (strchr(l->argv[i], ' '))
            out = str_cat_fmt(out, "\"%s\"", l->argv[i]);
        else
            out = str_cat_str(out, l->argv[i]);
    }
    return out;
}

static const config_special_ops test_list_ops = {test_list_set, test_list_get};

static int ll_apply(void *data, const char **err)
{
    (void)data;
    (void)err;
    ll_applies++;
    return 0;
}

static int guarded_apply(void *data, const char **err)
{
    guarded_applies++;
    if (*(long long *)data == 13) {
        *err = "13 is unlucky";
        return -1;
    }
    return 0;
}

static int secret_apply(void *data, const char **err)
{
    str v = *(str *)data;
    if (v && !strcmp(v, "hunter2")) {
        *err = "password refused";
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ fixtures */

static char *tmp_paths[16];
static int ntmp;

static void register_test_directives(void)
{
    config_register_bool("test-bool", &t_bool, 0, 0, NULL, NULL);
    config_register_ll("test-ll", &t_ll, 5, -10, 100, 0, ll_apply, NULL);
    config_register_memory("test-maxmem", &t_mem, 0, 0, LLONG_MAX, 0, NULL, NULL);
    config_register_string("test-name", &t_name, "default", 0, NULL, NULL);
    config_register_enum("test-mode", &t_mode, t_modes, 0, 0, NULL, NULL);
    config_register_special("test-list", &test_list_ops, &t_list, "a b", 0);
    config_register_ll("test-immutable", &t_immutable, 1, 0, 10, CONFIG_IMMUTABLE, NULL, NULL);
    config_register_ll("test-guarded", &t_guarded, 0, 0, 100, 0, guarded_apply, &t_guarded);
    config_register_string("test-secret", &t_secret, NULL, CONFIG_SENSITIVE, secret_apply, &t_secret);
    config_register_alias("test-alias", "test-ll");
    /* A module implementing a Redis directive itself. */
    config_register_ll("port", &t_port, 6379, 0, 65535, 0, NULL, NULL);
    config_register_redis_unimplemented();
}

static void setup(void)
{
    config_init();
    ll_applies = guarded_applies = 0;
    register_test_directives();
}

static void teardown(void)
{
    config_free();
    test_list_clear(&t_list);
    for (int i = 0; i < ntmp; i++) {
        unlink(tmp_paths[i]);
        free(tmp_paths[i]);
    }
    ntmp = 0;
}

/* Writes content to a new file in /tmp, removed at teardown. */
static const char *write_tmp(const char *content)
{
    char path[] = "/tmp/tandem-test-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    ck_assert_int_lt(ntmp, 16);
    tmp_paths[ntmp] = strdup(path);
    return tmp_paths[ntmp++];
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The CONFIG GET value of one name (caller frees). */
static str get1(const char *name)
{
    str pattern = str_new(name);
    int count;
    str *items = config_get(1, &pattern, &count);
    str_free(pattern);
    ck_assert_msg(count == 2, "config_get('%s') returned %d items", name, count);
    str value = items[1];
    str_free(items[0]);
    tfree(items);
    return value;
}

static void assert_value(const char *name, const char *expected)
{
    str v = get1(name);
    ck_assert_msg(!strcmp(v, expected), "%s is '%s', expected '%s'", name, v, expected);
    str_free(v);
}

static void assert_get_count(const char *pattern, int expected)
{
    str p = str_new(pattern);
    int count;
    str *items = config_get(1, &p, &count);
    str_free(p);
    for (int i = 0; i < count; i++) str_free(items[i]);
    tfree(items);
    ck_assert_msg(count == expected, "config_get('%s') returned %d items, expected %d", pattern,
                  count, expected);
}

static int load_text(const char *text, str *err)
{
    *err = NULL;
    return config_load_text(text, "command line", err);
}

/* Loads text that must fail, and checks the error contains each fragment. */
static void assert_text_error(const char *text, const char *fragment)
{
    str err;
    ck_assert_int_eq(load_text(text, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, fragment), "error '%s' lacks '%s'", err, fragment);
    str_free(err);
}

static int set_pairs(int argc, const char **pairs, str *err)
{
    str argv[16];
    for (int i = 0; i < argc; i++) argv[i] = str_new(pairs[i]);
    *err = NULL;
    int rc = config_set(argc, argv, err);
    for (int i = 0; i < argc; i++) str_free(argv[i]);
    return rc;
}

static void assert_set_error(int argc, const char **pairs, const char *expected)
{
    str err;
    ck_assert_int_eq(set_pairs(argc, pairs, &err), -1);
    ck_assert_msg(!strcmp(err, expected), "error '%s', expected '%s'", err, expected);
    str_free(err);
}

static void assert_set_ok(int argc, const char **pairs)
{
    str err;
    int rc = set_pairs(argc, pairs, &err);
    ck_assert_msg(rc == 0, "config_set failed: %s", err ? err : "");
}

/* ------------------------------------------------------------- loading */

START_TEST(test_types_from_file)
{
    const char *path = write_tmp("# a comment\n"
                                 "\n"
                                 "   \t\n"
                                 "TEST-BOOL YES\n"
                                 "test-ll -7\n"
                                 "test-maxmem 2mb\n"
                                 "  test-mode FAST  \r\n"
                                 "test-name \"hello world\"\n"
                                 "test-list x \"y z\" 'w'\n"
                                 "test-alias 9");
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(t_bool, 1);
    ck_assert_int_eq(t_ll, 9); /* the alias line came last */
    ck_assert_int_eq(t_mem, 2 * 1024 * 1024);
    ck_assert_int_eq(t_mode, 1);
    ck_assert_str_eq(t_name, "hello world");
    ck_assert_int_eq(t_list.argc, 3);
    ck_assert_str_eq(t_list.argv[1], "y z");
    ck_assert_str_eq(t_list.argv[2], "w");
    assert_value("test-bool", "yes");
    assert_value("test-maxmem", "2097152");
    assert_value("test-mode", "fast");
    assert_value("test-list", "x \"y z\" w");
    ck_assert_int_eq(ll_applies, 2);
    char *real = realpath(path, NULL);
    ck_assert_str_eq(config_file_path(), real);
    free(real);
}
END_TEST

START_TEST(test_empty_string_and_defaults)
{
    assert_value("test-name", "default");
    assert_value("test-secret", "");
    assert_value("test-list", "a b");
    assert_value("test-ll", "5");
    str err;
    ck_assert_int_eq(load_text("test-name \"\"", &err), 0);
    ck_assert_str_eq(t_name, "");
    assert_value("test-name", "");
    assert_text_error("test-name", "wrong number of arguments");
    assert_text_error("test-name a b", "wrong number of arguments");
}
END_TEST

START_TEST(test_memory_units)
{
    static const struct {
        const char *text;
        long long bytes;
    } cases[] = {
        {"100", 100},
        {"1k", 1000},
        {"1kb", 1024},
        {"1K", 1000},
        {"1KB", 1024},
        {"3m", 3000000},
        {"3mb", 3 * 1024 * 1024},
        {"2g", 2000000000LL},
        {"2gb", 2LL * 1024 * 1024 * 1024},
        {"2Gb", 2LL * 1024 * 1024 * 1024},
        {"7b", 7},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[64];
        str err;
        snprintf(line, sizeof(line), "test-maxmem %s", cases[i].text);
        ck_assert_msg(load_text(line, &err) == 0, "'%s' refused", line);
        ck_assert_msg(t_mem == cases[i].bytes, "'%s' gave %lld", line, t_mem);
    }
    assert_text_error("test-maxmem 5q", "argument must be a memory value");
    assert_text_error("test-maxmem kb", "argument must be a memory value");
    assert_text_error("test-maxmem 1.5gb", "argument must be a memory value");
    assert_text_error("test-maxmem 99999999999gb", "argument must be a memory value");
    assert_text_error("test-maxmem -1", "argument must be between 0 and");
}
END_TEST

START_TEST(test_ll_bounds)
{
    str err;
    ck_assert_int_eq(load_text("test-ll -10\n", &err), 0);
    ck_assert_int_eq(t_ll, -10);
    ck_assert_int_eq(load_text("test-ll 100\n", &err), 0);
    ck_assert_int_eq(t_ll, 100);
    assert_text_error("test-ll 101", "argument must be between -10 and 100 inclusive");
    assert_text_error("test-ll -11", "argument must be between -10 and 100 inclusive");
    assert_text_error("test-ll abc", "argument couldn't be parsed into an integer");
    assert_text_error("test-ll 1k", "argument couldn't be parsed into an integer");
    assert_text_error("test-ll 99999999999999999999", "argument couldn't be parsed into an integer");
    assert_text_error("test-ll \"\"", "argument couldn't be parsed into an integer");
    ck_assert_int_eq(t_ll, 100);
}
END_TEST

START_TEST(test_bad_values)
{
    assert_text_error("test-bool maybe", "argument must be 'yes' or 'no'");
    assert_text_error("test-mode medium",
                      "argument(s) must be one of the following: slow, fast, auto");
    assert_text_error("test-ll 1 2", "wrong number of arguments");
    assert_text_error("test-list", "wrong number of arguments");
    assert_text_error("test-list 1 2 3 4 5 6 7 8 9", "too many items");
    assert_text_error("test-name \"open", "Unbalanced quotes in configuration line");
    assert_text_error("port 1\ntest-bool maybe", "at line 2");
    assert_text_error("test-bool maybe", "(directive 'test-bool')");
    assert_text_error("test-bool maybe", "Reading the configuration from command line");
    assert_text_error("test-bool maybe", ">>> 'test-bool maybe'");
}
END_TEST

START_TEST(test_unknown_directive)
{
    const char *path = write_tmp("# comment\n\nport 7000\nfoo-bar 1 2\ntest-ll 8\n");
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "*** FATAL CONFIG FILE ERROR ***"), "%s", err);
    ck_assert_msg(strstr(err, path), "no path in: %s", err);
    ck_assert_msg(strstr(err, "at line 4"), "no line in: %s", err);
    ck_assert_msg(strstr(err, "Bad directive or wrong number of arguments (directive 'foo-bar')"),
                  "no reason in: %s", err);
    ck_assert_msg(strstr(err, ">>> 'foo-bar 1 2'"), "no line text in: %s", err);
    str_free(err);
    ck_assert_int_eq(t_port, 7000); /* lines before the error were applied */
    ck_assert_int_eq(t_ll, 5);      /* loading stopped at the error */
}
END_TEST

START_TEST(test_missing_file)
{
    str err = NULL;
    ck_assert_int_eq(config_load_file("/nonexistent/tandem.conf", &err), -1);
    ck_assert_msg(strstr(err, "can't open config file '/nonexistent/tandem.conf'"), "%s", err);
    str_free(err);
}
END_TEST

START_TEST(test_sensitive_value_hidden)
{
    str err;
    ck_assert_int_eq(load_text("test-secret hunter2", &err), -1);
    ck_assert_msg(!strstr(err, "hunter2"), "secret leaked: %s", err);
    ck_assert_msg(strstr(err, "password refused"), "%s", err);
    ck_assert_msg(strstr(err, "test-secret"), "%s", err);
    str_free(err);
    ck_assert_ptr_null(t_secret); /* refused value undone */
    ck_assert_int_eq(load_text("test-secret \"s3cret pass\"", &err), 0);
    assert_value("test-secret", "s3cret pass"); /* CONFIG GET shows it, as Redis does */
}
END_TEST

START_TEST(test_include)
{
    const char *inc = write_tmp("test-ll 7\ntest-name included\n");
    char main_text[512];
    snprintf(main_text, sizeof(main_text), "test-ll 1\ninclude %s\ntest-name main\n", inc);
    const char *path = write_tmp(main_text);
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), 0);
    ck_assert_int_eq(t_ll, 7);
    ck_assert_str_eq(t_name, "main");
    ck_assert_str_eq(config_file_path(), path); /* still the start file */

    const char *bad_inc = write_tmp("test-bool yes\n\ntest-bool perhaps\n");
    snprintf(main_text, sizeof(main_text), "include %s\n", bad_inc);
    path = write_tmp(main_text);
    ck_assert_int_eq(config_load_file(path, &err), -1);
    ck_assert_msg(strstr(err, bad_inc) && strstr(err, "at line 3"), "%s", err);
    str_free(err);

    path = write_tmp("test-bool yes\ninclude /nonexistent/x.conf\n");
    ck_assert_int_eq(config_load_file(path, &err), -1);
    ck_assert_msg(strstr(err, path) && strstr(err, "at line 2") && strstr(err, "/nonexistent/x.conf"),
                  "%s", err);
    str_free(err);
}
END_TEST

START_TEST(test_include_glob)
{
    const char *a = write_tmp("test-ll 3\n");
    char pattern[512];
    snprintf(pattern, sizeof(pattern), "include %.*s*\n", (int)strlen(a) - 2, a);
    str err = NULL;
    ck_assert_int_eq(load_text(pattern, &err), 0);
    ck_assert_int_eq(t_ll, 3);
    ck_assert_int_eq(load_text("include /nonexistent-dir-tandem/*.conf", &err), 0);
}
END_TEST

START_TEST(test_include_loop)
{
    char path[] = "/tmp/tandem-test-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    char text[256];
    int n = snprintf(text, sizeof(text), "test-ll 2\ninclude %s\n", path);
    ck_assert_int_eq(write(fd, text, (size_t)n), n);
    close(fd);
    tmp_paths[ntmp++] = strdup(path);
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), -1);
    ck_assert_msg(strstr(err, "include nested more than 16 levels"), "%s", err);
    ck_assert_msg(strstr(err, path) && strstr(err, "at line 2"), "%s", err);
    str_free(err);
}
END_TEST

START_TEST(test_command_line_override)
{
    const char *path = write_tmp("test-ll 7\ntest-name file\n");
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), 0);
    ck_assert_int_eq(config_load_text("test-ll 9\ntest-name \"from cli\"\n", "command line", &err), 0);
    ck_assert_int_eq(t_ll, 9);
    ck_assert_str_eq(t_name, "from cli");
}
END_TEST

/* ---------------------------------------------------------- CONFIG SET */

START_TEST(test_set_values)
{
    const char *pairs[] = {"test-ll", "42", "TEST-BOOL", "yes", "test-maxmem", "1gb", "test-mode",
                           "AUTO"};
    assert_set_ok(8, pairs);
    ck_assert_int_eq(t_ll, 42);
    ck_assert_int_eq(t_bool, 1);
    ck_assert_int_eq(t_mem, 1LL << 30);
    ck_assert_int_eq(t_mode, 2);
    ck_assert_int_eq(ll_applies, 1);
    const char *list[] = {"test-list", "p \"q r\" s"};
    assert_set_ok(2, list);
    ck_assert_int_eq(t_list.argc, 3);
    ck_assert_str_eq(t_list.argv[1], "q r");
    const char *empty[] = {"test-list", ""};
    assert_set_ok(2, empty);
    ck_assert_int_eq(t_list.argc, 0);
}
END_TEST

START_TEST(test_set_rollback)
{
    const char *pairs[] = {"test-ll", "50", "test-name", "changed", "test-bool", "maybe"};
    assert_set_error(6, pairs,
                     "ERR CONFIG SET failed (possibly related to argument 'test-bool') - argument "
                     "must be 'yes' or 'no'");
    ck_assert_int_eq(t_ll, 5);
    ck_assert_str_eq(t_name, "default");
    ck_assert_int_eq(t_bool, 0);
    ck_assert_int_eq(ll_applies, 0);

    const char *range[] = {"test-mode", "fast", "test-ll", "1000"};
    assert_set_error(4, range,
                     "ERR CONFIG SET failed (possibly related to argument 'test-ll') - argument "
                     "must be between -10 and 100 inclusive");
    ck_assert_int_eq(t_mode, 0);
}
END_TEST

START_TEST(test_set_refusals)
{
    const char *immutable[] = {"test-immutable", "3"};
    assert_set_error(2, immutable,
                     "ERR CONFIG SET failed (possibly related to argument 'test-immutable') - "
                     "can't set immutable config");
    ck_assert_int_eq(t_immutable, 1);
    const char *unknown[] = {"test-ll", "3", "no-such-thing", "1"};
    assert_set_error(4, unknown,
                     "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-thing'");
    const char *dup[] = {"test-ll", "3", "test-alias", "4"};
    assert_set_error(4, dup,
                     "ERR CONFIG SET failed (possibly related to argument 'test-alias') - "
                     "duplicate parameter");
    const char *odd[] = {"test-ll", "3", "test-bool"};
    assert_set_error(3, odd, "ERR wrong number of arguments for 'config|set' command");
    ck_assert_int_eq(t_ll, 5);
    const char *daemonize[] = {"daemonize", "yes"}; /* immutable in Redis too */
    assert_set_error(2, daemonize,
                     "ERR CONFIG SET failed (possibly related to argument 'daemonize') - "
                     "can't set immutable config");
}
END_TEST

START_TEST(test_set_apply_failure_restores)
{
    const char *pairs[] = {"test-ll", "20", "test-name", "new", "test-guarded", "13"};
    assert_set_error(6, pairs,
                     "ERR CONFIG SET failed (possibly related to argument 'test-guarded') - "
                     "13 is unlucky");
    ck_assert_int_eq(t_ll, 5);
    ck_assert_int_eq(t_guarded, 0);
    ck_assert_str_eq(t_name, "default");
    ck_assert_int_eq(ll_applies, 2); /* applied, then re-applied with the old value */
    ck_assert_int_eq(guarded_applies, 2);
    const char *ok[] = {"test-guarded", "12"};
    assert_set_ok(2, ok);
    ck_assert_int_eq(t_guarded, 12);
}
END_TEST

START_TEST(test_set_secret_not_echoed)
{
    const char *pairs[] = {"test-secret", "hunter2"};
    str err;
    ck_assert_int_eq(set_pairs(2, pairs, &err), -1);
    ck_assert_msg(!strstr(err, "hunter2"), "%s", err);
    str_free(err);
    ck_assert_ptr_null(t_secret);
}
END_TEST

/* ---------------------------------------------------------- CONFIG GET */

static int count_name(str *items, int count, const char *name)
{
    int n = 0;
    for (int i = 0; i < count; i += 2)
        if (!strcmp(items[i], name)) n++;
    return n;
}

static void free_items(str *items, int count)
{
    for (int i = 0; i < count; i++) str_free(items[i]);
    tfree(items);
}

START_TEST(test_get_patterns)
{
    str patterns[] = {str_new("*max*"), str_new("port"), str_new("test-*"), str_new("TEST-LL")};
    int count;
    str *items = config_get(4, patterns, &count);
    ck_assert_int_eq(count % 2, 0);
    ck_assert_int_eq(count_name(items, count, "maxmemory"), 1);
    ck_assert_int_eq(count_name(items, count, "test-maxmem"), 1);
    ck_assert_int_eq(count_name(items, count, "port"), 1);
    ck_assert_int_eq(count_name(items, count, "test-ll"), 1);
    ck_assert_int_eq(count_name(items, count, "test-alias"), 1);
    ck_assert_int_eq(count_name(items, count, "hash-max-ziplist-entries"), 1);
    ck_assert_int_eq(count_name(items, count, "daemonize"), 0);
    for (int i = 0; i < count; i += 2) ck_assert_int_eq(count_name(items, count, items[i]), 1);
    for (int i = 0; i < count; i += 2)
        if (!strcmp(items[i], "port")) ck_assert_str_eq(items[i + 1], "6379");
    free_items(items, count);
    for (int i = 0; i < 4; i++) str_free(patterns[i]);

    str none = str_new("no-such-*");
    items = config_get(1, &none, &count);
    ck_assert_int_eq(count, 0);
    free_items(items, count);
    str_free(none);

    assert_value("slaveof", "");
    assert_value("save", "3600 1 300 100 60 10000");
}
END_TEST

/* ------------------------------------------------------- unimplemented */

START_TEST(test_unimplemented)
{
    str in_use = config_unimplemented_in_use();
    ck_assert_ptr_null(in_use);
    const char *path = write_tmp("daemonize yes\n"
                                 "save 900 1\n"
                                 "save 300 10 60 10000\n"
                                 "rename-command FLUSHALL \"\"\n"
                                 "hz 10\n"
                                 "maxmemory-policy allkeys-lru\n"
                                 "slave-read-only no\n");
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), 0);
    assert_value("daemonize", "yes");
    assert_value("save", "300 10 60 10000");
    assert_get_count("rename-command", 0); /* a file directive, not a parameter */
    assert_value("replica-read-only", "no");
    in_use = config_unimplemented_in_use();
    ck_assert_ptr_nonnull(in_use);
    ck_assert_str_eq(in_use,
                     "daemonize maxmemory-policy replica-read-only save rename-command");
    str_free(in_use);

    const char *set[] = {"hz", "20", "save", "", "slaveof", "10.0.0.1 6380"};
    assert_set_error(6, set,
                     "ERR CONFIG SET failed (possibly related to argument 'slaveof') - "
                     "can't set immutable config");
    assert_set_ok(4, set);
    assert_value("hz", "20");
    assert_value("save", "");
}
END_TEST

/* Unimplemented directives are typed like Redis's: sizes shown in bytes,
 * booleans in lower case, bad values refused; hidden ones answer only to
 * their exact name. */
START_TEST(test_unimplemented_typed)
{
    str err = NULL;
    ck_assert_int_eq(load_text("maxmemory 100mb\nlazyfree-lazy-eviction YES\n"
                               "auto-aof-rewrite-min-size 64mb\n", &err), 0);
    assert_value("maxmemory", "104857600");
    assert_value("lazyfree-lazy-eviction", "yes");
    str in_use = config_unimplemented_in_use();
    ck_assert_str_eq(in_use, "lazyfree-lazy-eviction maxmemory");
    str_free(in_use);
    ck_assert_int_eq(load_text("maxmemory lots\n", &err), -1);
    str_free(err);
    assert_get_count("key-load-delay", 2);
    assert_get_count("key-load-*", 0);
}
END_TEST

START_TEST(test_unimplemented_defaults_clear)
{
    str err = NULL;
    ck_assert_int_eq(load_text("daemonize yes\nsave 60 1", &err), 0);
    str in_use = config_unimplemented_in_use();
    ck_assert_str_eq(in_use, "daemonize save");
    str_free(in_use);
    ck_assert_int_eq(load_text("daemonize no\nsave 3600 1 300 100 60 10000", &err), 0);
    ck_assert_ptr_null(config_unimplemented_in_use());
    ck_assert_int_eq(t_port, 6379); /* the module's own port, not replaced */
    ck_assert_int_eq(load_text("port 6380", &err), 0);
    ck_assert_int_eq(t_port, 6380);
}
END_TEST

START_TEST(test_appendonly_refused)
{
    const char *path = write_tmp("appendonly no\nport 1234\nappendonly yes\n");
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), -1);
    ck_assert_msg(strstr(err, path) && strstr(err, "at line 3"), "%s", err);
    ck_assert_msg(strstr(err, "appendonly yes is not supported"), "%s", err);
    ck_assert_msg(strstr(err, "(directive 'appendonly')"), "%s", err);
    str_free(err);
    assert_value("appendonly", "no");
    const char *pairs[] = {"appendonly", "yes"};
    str set_err;
    ck_assert_int_eq(set_pairs(2, pairs, &set_err), -1);
    ck_assert_msg(strstr(set_err, "appendonly yes is not supported"), "%s", set_err);
    str_free(set_err);
    assert_value("appendonly", "no");
    const char *no[] = {"appendonly", "no"};
    assert_set_ok(2, no);
}
END_TEST

/* ------------------------------------------------------ CONFIG REWRITE */

/* Every name/value pair CONFIG GET * shows, as one text. */
static str snapshot_all(void)
{
    str star = str_new("*");
    int count;
    str *items = config_get(1, &star, &count);
    str out = str_empty();
    for (int i = 0; i < count; i += 2) out = str_cat_fmt(out, "%s=%s\n", items[i], items[i + 1]);
    free_items(items, count);
    str_free(star);
    return out;
}

START_TEST(test_rewrite)
{
    const char *inc = write_tmp("test-mode auto\n");
    char text[1024];
    snprintf(text, sizeof(text),
             "# Top comment\n"
             "test-ll 7\n"
             "\n"
             "# Section comment\n"
             "test-bool no\n"
             "test-bool yes\n"
             "include %s\n"
             "slaveof 10.0.0.1 6380\n"
             "user alice on >pw ~* +@all\n"
             "user bob off\n"
             "test-maxmem 1mb\n",
             inc);
    const char *path = write_tmp(text);
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), 0);
    const char *pairs[] = {"test-ll", "42", "test-name", "two words \"quoted\"", "test-list",
                           "x \"y z\"", "save", "900 1", "test-maxmem", "3000"};
    assert_set_ok(10, pairs);
    ck_assert_int_eq(config_rewrite(&err), 0);

    const char *expected = "# Top comment\n"
                           "test-ll 42\n"
                           "\n"
                           "# Section comment\n"
                           "test-bool yes\n";
    char *out = read_all(path);
    ck_assert_msg(!strncmp(out, expected, strlen(expected)), "rewritten:\n%s", out);
    ck_assert_msg(strstr(out, "\ninclude "), "%s", out);
    ck_assert_msg(strstr(out, "\nslaveof 10.0.0.1 6380\n"), "%s", out); /* untouched, verbatim */
    ck_assert_msg(strstr(out, "\nuser alice on >pw ~* +@all\nuser bob off\n"), "%s", out);
    ck_assert_msg(strstr(out, "\ntest-maxmem 3000\n"), "%s", out);
    const char *marker = strstr(out, "# Generated by CONFIG REWRITE\n");
    ck_assert_msg(marker, "%s", out);
    ck_assert_msg(strstr(marker, "\ntest-name \"two words \\\"quoted\\\"\"\n"), "%s", out);
    ck_assert_msg(strstr(marker, "\ntest-list x \"y z\"\n"), "%s", out);
    ck_assert_msg(strstr(marker, "\nsave 900 1\n"), "%s", out);
    ck_assert_msg(strstr(marker, "\ntest-mode auto\n"), "%s", out); /* from the include */
    ck_assert_msg(!strstr(out, "test-bool no"), "%s", out);

    str before = snapshot_all();
    config_free();
    test_list_clear(&t_list);
    setup();
    ck_assert_int_eq(config_load_file(path, &err), 0);
    str after = snapshot_all();
    ck_assert_str_eq(before, after);
    str_free(before);
    str_free(after);

    /* A second rewrite changes nothing and keeps a single marker. */
    char *first = strdup(read_all(path));
    ck_assert_int_eq(config_rewrite(&err), 0);
    ck_assert_str_eq(read_all(path), first);
    free(first);
}
END_TEST

START_TEST(test_rewrite_memory_units_and_empty)
{
    const char *path = write_tmp("test-maxmem 100\ntest-secret x\n");
    str err = NULL;
    ck_assert_int_eq(config_load_file(path, &err), 0);
    const char *pairs[] = {"test-maxmem", "2gb", "test-secret", "", "test-list", ""};
    assert_set_ok(6, pairs);
    ck_assert_int_eq(config_rewrite(&err), 0);
    char *out = read_all(path);
    ck_assert_msg(strstr(out, "test-maxmem 2gb\n"), "%s", out);
    ck_assert_msg(strstr(out, "test-secret \"\"\n"), "%s", out);
    ck_assert_msg(strstr(out, "test-list \"\"\n"), "%s", out);
}
END_TEST

START_TEST(test_rewrite_without_file)
{
    str err = NULL;
    ck_assert_int_eq(config_rewrite(&err), -1);
    ck_assert_str_eq(err, "ERR The server is running without a config file");
    str_free(err);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *load = suite_new_tcase(s, "load", setup, teardown, 0);
    tcase_add_test(load, test_types_from_file);
    tcase_add_test(load, test_empty_string_and_defaults);
    tcase_add_test(load, test_memory_units);
    tcase_add_test(load, test_ll_bounds);
    tcase_add_test(load, test_bad_values);
    tcase_add_test(load, test_unknown_directive);
    tcase_add_test(load, test_missing_file);
    tcase_add_test(load, test_sensitive_value_hidden);
    tcase_add_test(load, test_include);
    tcase_add_test(load, test_include_glob);
    tcase_add_test(load, test_include_loop);
    tcase_add_test(load, test_command_line_override);

    TCase *set = suite_new_tcase(s, "set_get", setup, teardown, 0);
    tcase_add_test(set, test_set_values);
    tcase_add_test(set, test_set_rollback);
    tcase_add_test(set, test_set_refusals);
    tcase_add_test(set, test_set_apply_failure_restores);
    tcase_add_test(set, test_set_secret_not_echoed);
    tcase_add_test(set, test_get_patterns);

    TCase *redis = suite_new_tcase(s, "redis", setup, teardown, 0);
    tcase_add_test(redis, test_unimplemented);
    tcase_add_test(redis, test_unimplemented_typed);
    tcase_add_test(redis, test_unimplemented_defaults_clear);
    tcase_add_test(redis, test_appendonly_refused);
    tcase_add_test(redis, test_rewrite);
    tcase_add_test(redis, test_rewrite_memory_units_and_empty);
    tcase_add_test(redis, test_rewrite_without_file);
    return s;
}

int main(void)
{
    return run_suite(config_suite());
}
