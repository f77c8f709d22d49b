/*  node_market_int: what the market service's files share (not part of its API):
 *  node_market.c (book, room policy, matching, trainer / spec / recruit / offers methods)
 *  and node_market_donate.c (donation, --auto-donate, the donate method).
 */
#ifndef GENIE_NODE_MARKET_INT_H
#define GENIE_NODE_MARKET_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_state.h"
#include "node/service/node_market.h"
#include "proto/proto_recruit.h"

#define NM_WHY_MAX 192

/*  One offer: the newest valid post of its spec. */
typedef struct {
    bool used;
    proto_recruit_t post;
    uint8_t origin[32]; /* the node that posted it */
    uint64_t recv_ms;
    uint64_t seq; /* order of arrival (the oldest is dropped when the book is full) */
} nm_offer_t;

/*  A spec this node recruits for: its current signed post, posted again now and then. */
typedef struct {
    bool used;
    proto_recruit_t post;
    uint64_t seq; /* order of the recruit calls (the oldest is forgotten when full) */
} nm_own_t;

typedef struct nm_batch_t nm_batch_t;
typedef struct nm_donation_t nm_donation_t;

struct node_market_t {
    node_app_t *app;
    nm_offer_t offers[NODE_MARKET_OFFERS_MAX];
    uint64_t seq;
    nm_donation_t *donations[NODE_MARKET_DONATIONS_MAX]; /* in flight */
    uint8_t (*auto_done)[64]; /* (spec id, data id) pairs --auto-donate started */
    size_t n_auto_done, auto_next;
    nm_own_t own[NODE_MARKET_OWN_MAX];
    int repost_timer; /* zloop timer id while there is something to re-post, else -1 */
};

/*  A read-only state over the committed store of APP's ledger (caller destroys), or NULL
 *  with WHY filled (no ledger, out of memory). */
ledger_state_t *nm_state(node_app_t *app, char *why, size_t cap);

/*  The offer of SPEC_ID in the book, or NULL. */
nm_offer_t *nm_offer_find(node_market_t *self, const uint8_t spec_id[static 32]);

/*  The spec S as JSON (new reference). */
json_t *nm_spec_json(const ledger_spec_t *s);

/*  --auto-donate: donate every matching local record to the offer O (node_market_donate.c). */
void nm_auto_donate(node_market_t *self, const nm_offer_t *o);
/*  Fails every donation in flight and frees it (no answer is sent). */
void nm_donations_drop(node_market_t *self);

/*  The RPC method donate (node_market_donate.c). */
json_t *nm_m_donate(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                    size_t cap);

#endif
