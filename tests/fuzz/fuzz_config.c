/* fuzz_config.c: libFuzzer target for the configuration file parser
 * (core/config.c and the value parsers of every module's directives). The
 * input is the text of a tandem.conf (up to its first NUL), loaded into a
 * registry holding every real directive, as at start-up, then read back
 * whole through CONFIG GET * and the unimplemented-directive warning; the
 * registry is rebuilt for every input. Any error must come with a message.
 *
 * Two directives act on the file system when applied (dir changes the
 * working directory, logfile creates a file), and include reads any path:
 * inputs naming dir or logfile, or including a path with a '/', are
 * skipped. Includes run in a scratch directory made at start (removed at
 * exit) that holds a few small files (one of them includes itself, to reach
 * the depth limit).
 * Rule zero: this program is a composition root of its own, so it includes
 * core/server.h for server_register_config(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "core/str.h"
#include "net/resp_parse.h"

static const struct {
    const char *name, *text;
} scratch_files[] = {
    {"a.conf", "port 7000\nsave 60 1\nmaxclients 100\n"},
    {"b.conf", "include a.conf\nloglevel warning\n"},
    {"loop.conf", "include loop.conf\n"},
    {"bad.conf", "no-such-directive 1\n"},
};

#define SCRATCH_FILES (sizeof(scratch_files) / sizeof(scratch_files[0]))

static char scratch_dir[] = "/tmp/tandem-fuzz-config-XXXXXX";

/* Removes the scratch directory when the fuzzer exits normally. */
static void scratch_remove(void)
{
    for (size_t i = 0; i < SCRATCH_FILES; i++) unlink(scratch_files[i].name);
    if (chdir("/") == 0) rmdir(scratch_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(scratch_dir) || chdir(scratch_dir) != 0) abort();
    atexit(scratch_remove);
    for (size_t i = 0; i < SCRATCH_FILES; i++) {
        FILE *f = fopen(scratch_files[i].name, "w");
        if (!f || fputs(scratch_files[i].text, f) < 0 || fclose(f) != 0) abort();
    }
    log_set_level(LOG_NOTHING);
    return 0;
}

/* Whether one line names a directive that the target must not apply. */
static int line_unsafe(const char *line, size_t len)
{
    int argc, unsafe = 0;
    str *argv = resp_split_args(line, len, &argc);
    if (!argv) return 0; /* the loader stops at this line */
    if (argc > 0) {
        str_tolower(argv[0]);
        unsafe = !strcmp(argv[0], "dir") || !strcmp(argv[0], "logfile");
        for (int i = 1; i < argc && !strcmp(argv[0], "include"); i++)
            if (strchr(argv[i], '/')) unsafe = 1;
    }
    resp_free_args(argv, argc);
    return unsafe;
}

static int text_unsafe(const char *text)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        if (line_unsafe(text, len)) return 1;
        text += len + (nl != NULL);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = tmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    if (text_unsafe(text)) {
        tfree(text);
        return 0;
    }
    config_init();
    server_register_config();
    str err = NULL;
    if (config_load_text(text, "fuzz", &err) < 0 && (!err || !err[0])) abort();
    str_free(err);
    log_set_level(LOG_NOTHING); /* loglevel may have changed it */

    str all = str_new("*");
    int count;
    str *pairs = config_get(1, &all, &count);
    if (count % 2 != 0) abort();
    resp_free_args(pairs, count);
    str_free(all);
    str_free(config_unimplemented_in_use());
    config_free();
    tfree(text);
    return 0;
}
