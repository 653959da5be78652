/* protected.h: Redis's protected mode, as a decision and its error text.
 * While protected-mode is on and no password is set, only loopback clients
 * (127.0.0.0/8, ::1, and Unix sockets) are served; any other client gets the
 * DENIED error and is closed. A leaf: the caller supplies every input. */
#ifndef TANDEM_PROTECTED_H
#define TANDEM_PROTECTED_H

/* Redis 7.0's reply to a refused client, RESP-framed ("-DENIED ...\r\n"). */
extern const char protected_mode_error[];

/* 1 when a client from peer_ip (or a Unix socket) must be refused. */
int protected_mode_denies(int enabled, int has_password, const char *peer_ip, int is_unix);

#endif
