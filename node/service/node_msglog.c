/*  node_msglog: bounded ring of received messages, read by sequence number. */
#include "node/service/node_msglog.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t seq;
    uint8_t from[32];
    uint64_t time_ms;
    uint64_t recv_ms;
    uint8_t *data;
    size_t len;
} s_entry_t;

struct node_msglog_t {
    s_entry_t *ring;
    size_t cap, head, count; /* head = index of the oldest */
    size_t bytes, max_bytes;
    uint64_t last_seq;
};

node_msglog_t *node_msglog_new(size_t cap, size_t max_bytes)
{
    node_msglog_t *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->ring = calloc(cap ? cap : 1, sizeof *log->ring);
    if (!log->ring) {
        free(log);
        return NULL;
    }
    log->cap = cap ? cap : 1;
    log->max_bytes = max_bytes;
    return log;
}

void node_msglog_destroy(node_msglog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_msglog_t *log = *self_p;
    for (size_t i = 0; i < log->count; i++)
        free(log->ring[(log->head + i) % log->cap].data);
    free(log->ring);
    free(log);
    *self_p = NULL;
}

static void s_drop_oldest(node_msglog_t *log)
{
    s_entry_t *e = &log->ring[log->head];
    log->bytes -= e->len;
    free(e->data);
    e->data = NULL;
    log->head = (log->head + 1) % log->cap;
    log->count--;
}

uint64_t node_msglog_append(node_msglog_t *log, const uint8_t from[static 32], uint64_t time_ms,
                            uint64_t recv_ms, const uint8_t *data, size_t len)
{
    if (len > log->max_bytes)
        return 0;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    if (len)
        memcpy(copy, data, len);
    while (log->count > 0 && (log->count == log->cap || log->bytes + len > log->max_bytes))
        s_drop_oldest(log);
    s_entry_t *e = &log->ring[(log->head + log->count) % log->cap];
    e->seq = ++log->last_seq;
    memcpy(e->from, from, 32);
    e->time_ms = time_ms;
    e->recv_ms = recv_ms;
    e->data = copy;
    e->len = len;
    log->count++;
    log->bytes += len;
    return e->seq;
}

size_t node_msglog_after(const node_msglog_t *log, uint64_t after, node_msg_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < log->count && n < max; i++) {
        const s_entry_t *e = &log->ring[(log->head + i) % log->cap];
        if (e->seq <= after)
            continue;
        out[n++] = (node_msg_t){.seq = e->seq,
                                .time_ms = e->time_ms,
                                .recv_ms = e->recv_ms,
                                .data = e->data,
                                .len = e->len};
        memcpy(out[n - 1].from, e->from, 32);
    }
    return n;
}

uint64_t node_msglog_last(const node_msglog_t *log)
{
    return log->last_seq;
}
