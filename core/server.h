/* server.h: the composition root's view of the server: the struct that holds
 * every subsystem's settings and state, and the entry points main() uses.
 * Only core/server.c and core/main.c include this header. */
#ifndef TANDEM_SERVER_H
#define TANDEM_SERVER_H

#include <sys/types.h>

#include "core/loop.h"
#include "core/str.h"
#include "net/client.h"
#include "net/client_cmd.h"
#include "net/listener.h"

/* Instantaneous metrics: samples taken every 100 ms. */
#define SERVER_METRIC_SAMPLES 16
enum { METRIC_COMMANDS = 0, METRIC_NET_INPUT, METRIC_NET_OUTPUT, METRIC_COUNT };

typedef struct server_metric {
    long long last_sample_ms, last_value;
    long long samples[SERVER_METRIC_SAMPLES];
    int idx;
} server_metric;

struct server {
    loop *loop;
    pid_t pid;
    long long start_ms;   /* monotonic */
    long long start_unix; /* wall clock, seconds */
    char runid[41];
    char *executable;

    /* Directives. */
    long long port, tcp_backlog, hz, databases, unixsocketperm, busy_poll_usec;
    int bind_count;
    char **bind_addrs;
    str unixsocket, logfile, pidfile, dir, requirepass;
    int loglevel;
    int enable_debug_command;
    client_settings clients;

    listener *tcp, *tls, *unix_listener;
    client_cmd_state client_cmd;
    long long cron_timer;
    long long cron_loops;

    volatile int shutdown_signal; /* set by the SIGTERM/SIGINT handler */
    int shutdown_asap;
    size_t peak_memory;
    server_metric metrics[METRIC_COUNT];
};

extern struct server server;

/* Registers every directive; then main loads the configuration. */
void server_register_config(void);
/* Creates the loop, listeners and everything else; 0 or -1 (logged). */
int server_init(void);
void server_run(void);
/* Releases what server_init made (on exit). */
void server_shutdown_cleanup(void);

#endif
