/* main.c: tandem-backup's command line: the subcommands (pull, verify,
 * inspect), their options, --help with the exit codes, and the tool's
 * message helper. The library's own log lines (the loader's notes) are
 * silenced: the tool speaks for itself on stderr, and keeps stdout for
 * reports and --json. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "tools/backup/backup.h"

static const char usage_text[] =
    "Usage:\n"
    "  tandem-backup pull -h HOST -p PORT -o FILE [--user USER] [--pass PASS]\n"
    "                     [--timeout SECONDS] [--quiet] [--json]\n"
    "                     [--tls [--cacert FILE] [--cacertdir DIR] [--cert FILE --key FILE]]\n"
    "  tandem-backup verify [--quiet] FILE\n"
    "  tandem-backup inspect FILE\n"
    "  tandem-backup --help\n"
    "\n"
    "pull     takes a snapshot of a running tandem or Redis server over the\n"
    "         replication protocol (as `redis-cli --rdb` does): the RDB goes to\n"
    "         FILE.tmp, is fsynced and verified whole, and only then renamed to\n"
    "         FILE. FILE is never left partial; FILE.tmp is removed on failure.\n"
    "           -h HOST          server address (default 127.0.0.1)\n"
    "           -p PORT          server port (default 6379)\n"
    "           -o FILE          where the snapshot goes (required)\n"
    "           --user USER      ACL user (default: the default user)\n"
    "           --pass PASS      password; without it REDISCLI_AUTH is used if set\n"
    "           --timeout S      give up after S seconds without progress (default 60)\n"
    "           --quiet          print errors only\n"
    "           --json           print a summary object on stdout\n"
    "           --tls            connect with TLS (the server's tls-port)\n"
    "           --cacert FILE    CA bundle that signs the server's certificate\n"
    "           --cacertdir DIR  CA directory (default: the system's CAs)\n"
    "           --cert FILE      client certificate (tls-auth-clients yes)\n"
    "           --key FILE       its private key\n"
    "verify   checks a dump (tandem's or Redis's) whole: header, every opcode and\n"
    "         value, the checksum; prints the first problem with its byte offset.\n"
    "inspect  prints a dump's aux fields, keys per database and per type, keys with\n"
    "         an expiry and the 10 biggest keys by serialized size.\n"
    "\n"
    "Exit codes:\n"
    "  0  success (verify: the file is sound)\n"
    "  1  usage: bad command line\n"
    "  2  connection or authentication: cannot connect, password refused, the\n"
    "     server is loading, or refuses to sync\n"
    "  3  transfer: protocol error (the server sent garbage), link cut, timeout\n"
    "  4  verification: the RDB is not sound, or holds what this tandem cannot\n"
    "     check yet (a type it does not have)\n"
    "  5  local file system: cannot create, write, fsync or rename the file\n";

void bk_verror(const char *fmt, va_list ap)
{
    fputs("tandem-backup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void bk_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bk_verror(fmt, ap);
    va_end(ap);
}

static int usage(const char *why)
{
    if (why) bk_error("%s", why);
    fputs(usage_text, why ? stderr : stdout);
    return why ? BK_EXIT_USAGE : BK_EXIT_OK;
}

static int parse_int(const char *s, int min, int max, int *out)
{
    long long v;
    if (parse_ll(s, strlen(s), &v) < 0 || v < min || v > max) return -1;
    *out = (int)v;
    return 0;
}

enum {
    OPT_USER = 256,
    OPT_PASS,
    OPT_TIMEOUT,
    OPT_QUIET,
    OPT_JSON,
    OPT_HELP,
    OPT_TLS,
    OPT_CACERT,
    OPT_CACERTDIR,
    OPT_CERT,
    OPT_KEY
};

static int main_pull(int argc, char **argv)
{
    static const struct option longs[] = {
        {"user", required_argument, NULL, OPT_USER},
        {"pass", required_argument, NULL, OPT_PASS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {"tls", no_argument, NULL, OPT_TLS},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"cacertdir", required_argument, NULL, OPT_CACERTDIR},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {NULL, 0, NULL, 0},
    };
    bk_pull_opts o = {.host = "127.0.0.1", .port = 6379, .timeout_s = 60};
    int ch;
    while ((ch = getopt_long(argc, argv, "h:p:o:", longs, NULL)) != -1) {
        switch (ch) {
        case 'h': o.host = optarg; break;
        case 'p':
            if (parse_int(optarg, 1, 65535, &o.port) < 0) return usage("-p: not a port number");
            break;
        case 'o': o.out = optarg; break;
        case OPT_USER: o.user = optarg; break;
        case OPT_PASS: o.pass = optarg; break;
        case OPT_TIMEOUT:
            if (parse_int(optarg, 1, 86400 * 7, &o.timeout_s) < 0)
                return usage("--timeout: not a number of seconds");
            break;
        case OPT_QUIET: o.quiet = 1; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_HELP: return usage(NULL);
        case OPT_TLS: o.tls = 1; break;
        case OPT_CACERT: o.cacert = optarg; break;
        case OPT_CACERTDIR: o.cacertdir = optarg; break;
        case OPT_CERT: o.cert = optarg; break;
        case OPT_KEY: o.key = optarg; break;
        default: return usage("pull: unknown option");
        }
    }
    if (optind != argc) return usage("pull: unexpected argument");
    if (!o.out || !o.out[0]) return usage("pull: -o FILE is required");
    if (!o.tls && (o.cacert || o.cacertdir || o.cert || o.key))
        return usage("pull: --cacert, --cacertdir, --cert and --key need --tls");
    if (!o.cert != !o.key) return usage("pull: --cert and --key go together");
    if (!o.pass) o.pass = getenv("REDISCLI_AUTH");
    return bk_pull(&o);
}

static int main_file(int argc, char **argv, int inspect)
{
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) return usage(NULL);
        if (!inspect && !strcmp(argv[i], "--quiet")) {
            quiet = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) return usage("unknown option");
        if (i != argc - 1) return usage("one FILE expected");
        return inspect ? bk_inspect(argv[i]) : bk_verify(argv[i], quiet);
    }
    return usage("FILE is missing");
}

int main(int argc, char **argv)
{
    log_set_level(LOG_NOTHING);
    if (argc < 2) return usage("a subcommand is missing");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "help")) return usage(NULL);
    if (!strcmp(cmd, "pull")) return main_pull(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify")) return main_file(argc - 1, argv + 1, 0);
    if (!strcmp(cmd, "inspect")) return main_file(argc - 1, argv + 1, 1);
    return usage("unknown subcommand");
}
