/* wait.h: a primary's guarantees about its replicas, inside repl/: WAIT
 * (block a client until enough replicas acknowledged its last write, asking
 * them with REPLCONF GETACK), and min-replicas-to-write / min-replicas-max-lag
 * (refuse writes with NOREPLICAS while too few replicas are good: ONLINE and
 * heard from within the lag). Private to repl/; the composition root goes
 * through repl.h. Every function takes the state it works on. */
#ifndef TANDEM_REPL_WAIT_H
#define TANDEM_REPL_WAIT_H

#include "core/command.h"
#include "core/str.h"
#include "net/client.h"
#include "repl/repl.h"

/* The waiter list, and no good replica counted yet. */
void wait_init(repl *r);
/* min-replicas-to-write, min-replicas-max-lag (their min-slaves-* aliases
 * come from the Redis directive table). */
void wait_register_config(repl *r);
/* Registers WAIT. */
void wait_register_commands(repl *r);

/* Counts the good replicas again (Redis's refreshGoodSlavesCount): from
 * the cron, when a replica goes ONLINE or leaves, and when the directives
 * change. */
void wait_refresh_good(repl *r, long long now_ms);
/* The call gate on a primary (repl_gate): a write from a client while
 * min-replicas-to-write and min-replicas-max-lag are both set and fewer
 * replicas are good gets NOREPLICAS. Never the primary client; on a
 * replica, replica_gate decides. */
int wait_gate(repl *r, client *c, const command *cmd);
/* A REPLCONF ACK moved a replica's offset: waiters are checked before the
 * loop sleeps. */
void wait_ack_received(repl *r);
/* Before-sleep, first part: answers and unblocks the waiters whose
 * replicas acknowledged (after an ACK) or whose timeout passed (by the
 * state's clock, read only while someone waits). */
void wait_release(repl *r);
/* Before-sleep, after the unblocked clients ran: REPLCONF GETACK * to the
 * replicas when a client blocked since the last time (once per iteration
 * at most). */
void wait_send_getack(repl *r);
/* The client is being freed: its wait, if any, is dropped. */
void wait_client_freed(repl *r, client *c);
/* We become a replica: every waiter gets Redis's UNBLOCKED error and is
 * closed after it (its replicas' acknowledgements will never come). */
void wait_unblock_all(repl *r);
/* INFO replication's min_slaves_good_slaves, when both directives are set. */
str wait_info(repl *r, str s);

#endif
