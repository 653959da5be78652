/* main.c: the program entry. Reads the command line (config file, then
 * "--directive value" overrides), loads the configuration, prints the banner,
 * initialises the server and runs the event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "core/version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ./tandem-server [/path/to/tandem.conf] [options]\n"
            "       ./tandem-server - (read config from stdin)\n"
            "       ./tandem-server -v or --version\n"
            "       ./tandem-server -h or --help\n\n"
            "Examples:\n"
            "       ./tandem-server (run the server with default config)\n"
            "       ./tandem-server /etc/tandem/6379.conf\n"
            "       ./tandem-server --port 7777\n"
            "       ./tandem-server /etc/mytandem.conf --loglevel verbose\n\n"
            "Any redis.conf directive can be given as --<directive> <value> ...; options\n"
            "given on the command line override the file.\n");
}

static void version(void)
{
    printf("tandem-server v=%s redis_compat=%s sha=00000000:0 malloc=%s bits=%d\n",
           TANDEM_VERSION, TANDEM_REDIS_VERSION, alloc_name(), (int)sizeof(long) * 8);
}

/* Turns "--port 7000 --bind a b" into "port 7000\nbind a b\n", quoting each
 * value so that spaces inside one argument survive. */
static str overrides_text(int argc, char **argv, int first)
{
    str text = str_empty();
    for (int i = first; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
            if (str_len(text)) text = str_cat(text, "\n");
            text = str_cat(text, argv[i] + 2);
            continue;
        }
        text = str_cat(text, " \"");
        for (const char *p = argv[i]; *p; p++) {
            if (*p == '"' || *p == '\\') text = str_cat(text, "\\");
            text = str_cat_len(text, p, 1);
        }
        text = str_cat(text, "\"");
    }
    return str_cat(text, "\n");
}

static void fatal_config(str err)
{
    fprintf(stderr, "\n%s\n", err);
    str_free(err);
    exit(1);
}

static void load_configuration(int argc, char **argv)
{
    int first = 1;
    str err = NULL;
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        first = 2;
        if (config_load_file(argv[1], &err) == -1) fatal_config(err);
    }
    if (first < argc) {
        str text = overrides_text(argc, argv, first);
        int rc = config_load_text(text, "command line", &err);
        str_free(text);
        if (rc == -1) fatal_config(err);
    }
}

static void banner(void)
{
    log_msg(LOG_NOTICE, "oO0OoO0OoO0Oo tandem is starting oO0OoO0OoO0Oo");
    log_msg(LOG_NOTICE, "tandem version=%s, redis_version=%s, bits=%d, pid=%d, just started",
            TANDEM_VERSION, TANDEM_REDIS_VERSION, (int)sizeof(long) * 8, (int)getpid());
    log_msg(LOG_NOTICE, "Configuration loaded");
    log_msg(LOG_NOTICE, "tandem %s (Redis %s compatible) %d bit, standalone mode, port %lld, PID: %d",
            TANDEM_VERSION, TANDEM_REDIS_VERSION, (int)sizeof(long) * 8, server.port,
            (int)getpid());
    log_msg(LOG_NOTICE, "Running mode=standalone, port=%lld.", server.port);
    str unused = config_unimplemented_in_use();
    if (unused) {
        log_msg(LOG_WARNING,
                "WARNING: these Redis directives are accepted but have no effect in tandem: %s",
                unused);
        str_free(unused);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        version();
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    config_init();
    server_register_config();
    load_configuration(argc, argv);
    server.executable = argv[0];
    banner();
    if (server_init() == -1) return 1;
    server_run();
    server_shutdown_cleanup();
    return 0;
}
