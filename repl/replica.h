/* replica.h: the replica role. Owns REPLICAOF/SLAVEOF, the replicaof
 * directive and the replica's directives (masterauth, masteruser,
 * replica-announce-ip, replica-announce-port, replica-read-only,
 * replica-serve-stale-data, replica-priority), the link to the primary
 * (repl/link.h) and what its hooks do: load the RDB in place of the dataset
 * (all or nothing), turn the synced connection into the primary client whose
 * commands are applied without replies, REPLCONF ACK once a second and on
 * GETACK, the primary client's timeout and loss. Also the READONLY and
 * MASTERDOWN gates, the replica's lines of INFO replication and its ROLE
 * reply. The replication ID and offset it adopts from the primary go to
 * repl.h's state. The composition root wires the hooks below. */
#ifndef TANDEM_REPL_REPLICA_H
#define TANDEM_REPL_REPLICA_H

#include "core/command.h"
#include "core/loop.h"
#include "core/str.h"
#include "net/client.h"
#include "rdb/save.h"

/* Registers the directives. Call before config_register_redis_unimplemented(),
 * which would otherwise take these names as placeholders. */
void replica_register_config(void);
/* Creates the link (its connections go on l; listening_port is announced to
 * the primary) and registers REPLICAOF, SLAVEOF and the cron hook, which
 * starts the link when the replicaof directive named a primary. */
void replica_init(loop *l, const long long *listening_port);

/* At start-up, after the dump loaded: a replica whose dump carries the
 * replication ID and offset (aux) takes them as its cached primary, for a
 * partial resync; a replica then connects at once. 1 when this server is
 * a replica, 0 otherwise. */
int replica_restore_history(const rdb_aux *aux);

/* 1 while REPLICAOF host port is in effect. */
int replica_is_active(void);
/* 1 when this server is a replica whose link to its primary is not up: it
 * has no stream to give replicas of its own (SYNC answers NOMASTERLINK). */
int replica_link_is_down(void);

/* The client layer's dispatch for the primary client: runs the command
 * through call_dispatch with keys never expiring meanwhile. */
void replica_apply(client *c);
/* The client layer's on_free: the primary client's end takes the link down
 * (it reconnects at the next tick). Other clients are ignored. */
void replica_client_freed(client *c);
/* repl_gate's part on a replica: READONLY for writes from clients on a read-only replica,
 * MASTERDOWN for non-stale commands while the link is down and
 * replica-serve-stale-data is no. */
int replica_gate(client *c, const command *cmd, void *data);

/* INFO replication of a replica, from role:slave to replica_announced (the
 * link's fields included); the caller appends the fields both roles share. */
str replica_info(str s);
/* ROLE: slave, host, port, link state, offset. */
void replica_role_reply(client *c);
/* REPLCONF GETACK from the primary: REPLCONF ACK <offset> at once. */
void replica_send_ack(void);

#endif
