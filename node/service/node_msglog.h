/*  node_msglog: a bounded log of received messages (room posts, unicast inbox) that the
 *  control API reads by sequence number, so `genie room tail` can follow a room by
 *  polling "what came after N?". At most CAP messages and MAX_BYTES of payload are kept;
 *  the oldest go first. Sequence numbers start at 1 and never repeat.
 */
#ifndef GENIE_NODE_MSGLOG_H
#define GENIE_NODE_MSGLOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct node_msglog_t node_msglog_t;

typedef struct {
    uint64_t seq;
    uint8_t from[32];
    uint64_t time_ms;    /* when the sender sent it (its envelope time) */
    uint64_t recv_ms;    /* when we received it */
    const uint8_t *data; /* borrowed until the next append */
    size_t len;
} node_msg_t;

node_msglog_t *node_msglog_new(size_t cap, size_t max_bytes);
void node_msglog_destroy(node_msglog_t **self_p);
/*  Appends a copy of DATA; returns its sequence number, or 0 if it cannot be kept
 *  (larger than max_bytes, or out of memory). */
uint64_t node_msglog_append(node_msglog_t *log, const uint8_t from[static 32], uint64_t time_ms,
                            uint64_t recv_ms, const uint8_t *data, size_t len);
/*  Writes up to MAX messages with seq > AFTER, oldest first; returns how many. */
size_t node_msglog_after(const node_msglog_t *log, uint64_t after, node_msg_t *out, size_t max);
/*  Highest sequence number handed out so far (0 if none). */
uint64_t node_msglog_last(const node_msglog_t *log);

#endif
