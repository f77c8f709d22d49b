/*  node_enclave: the enclave-runner service (see node_enclave.h): the platform, the
 *  supervised enclave processes, their automatic registration and retirement, the relay
 *  of sealed requests, and the runner's RPC methods.
 */
#include "node/service/node_enclave.h"
#include "node/service/node_enclave_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "enclave/enclave_platform.h"
#include "enclave/enclave_prog.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_contract.h"
#include "node/app/node_app.h"
#include "node/app/node_config.h"
#include "node/app/node_datadir.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_ledger_local.h"
#include "proto/proto_hex.h"
#include "proto/proto_keystore.h"
#include "proto/proto_log.h"

#define TICK_MS 100
#define EXE_NAME "genie-enclave"

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------------------------------------------------------------- runner key, certificate */

/*  Loads the unencrypted account key the platform certificate names as the runner
 *  account, if not loaded yet. Quietly leaves runner_key NULL when there is none. */
static void s_runner_key(node_enclave_t *self)
{
    const proto_attest_cert_t *cert = enclave_platform_cert(self->platform);
    if (self->runner_key &&
        (!cert || memcmp(proto_key_public(self->runner_key), cert->runner_account, 32) != 0))
        proto_key_destroy(&self->runner_key);
    if (self->runner_key || !cert)
        return;
    node_datadir_keyinfo_t *list = NULL;
    size_t n = 0;
    char msg[256];
    const char *dir = node_datadir_path(node_app_datadir(self->app));
    if (node_datadir_key_list(dir, &list, &n, msg, sizeof msg) != 0) {
        GLOG_RATELIMITED(WARN, NODE, "cannot list the account keys: %s", msg);
        return;
    }
    for (size_t i = 0; i < n && !self->runner_key; i++) {
        if (list[i].rc != PROTO_OK || list[i].info.kind != PROTO_KS_ACCOUNT ||
            list[i].info.encrypted || memcmp(list[i].info.pub, cert->runner_account, 32) != 0)
            continue;
        if (proto_keystore_load(list[i].path, NULL, &self->runner_key, NULL) != PROTO_OK)
            GLOG(WARN, NODE, "cannot load the runner account key %s", list[i].path);
    }
    free(list);
    if (self->runner_key)
        GLOG(INFO, NODE, "enclaves are registered from the runner account the certificate names");
    else
        GLOG_RATELIMITED(WARN, NODE,
                         "the platform certificate names a runner account with no unencrypted "
                         "key in %s/accounts/: enclaves cannot be registered",
                         dir);
}

int ne_cert_install(node_enclave_t *self, const uint8_t *bytes, size_t len, char *err,
                    size_t err_cap)
{
    proto_attest_cert_t cert;
    int rc = proto_attest_cert_decode(bytes, len, &cert);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, rc, "not a platform certificate: %s",
                              proto_err_str(rc));
    rc = enclave_platform_set_cert(self->platform, &cert);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, rc, "cannot install the certificate: %s",
                              proto_err_str(rc));
    s_runner_key(self);
    /* quotes made before carried no (or another) certificate: quote again */
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        ne_slot_t *s = &self->slots[i];
        if (s->used && s->have_quote && s->reg != REG_DONE)
            s->reg = REG_PENDING;
    }
    return 0;
}

/* ---------------------------------------------------------------- retirement */

/*  Queues S's current registration for retirement (READY: at once; else once the slot's
 *  next start is registered). Nothing when the current start never submitted one. */
void ne_retire_queue(node_enclave_t *self, const ne_slot_t *s, bool ready)
{
    if (!s->have_quote || (s->reg != REG_SUBMITTED && s->reg != REG_DONE))
        return;
    for (size_t i = 0; i < self->n_retire; i++)
        if (memcmp(self->retire[i].id, s->id, 32) == 0)
            return;
    if (self->n_retire == RETIRE_MAX) {
        char hex[65];
        proto_hex_encode(self->retire[0].id, 32, hex);
        GLOG(WARN, NODE, "too many registrations to retire: enclave id %s stays active", hex);
        memmove(&self->retire[0], &self->retire[1], (RETIRE_MAX - 1) * sizeof self->retire[0]);
        self->n_retire--;
    }
    ne_retire_t *r = &self->retire[self->n_retire++];
    memset(r, 0, sizeof *r);
    memcpy(r->id, s->id, 32);
    r->local = s->local;
    r->ready = ready;
    r->ready_ms = ready ? s_now_ms() : 0;
}

/*  Registrations this runner's platform made in an earlier life of the node (it was
 *  killed or restarted: those enclaves died with it) are still active on the ledger.
 *  Every NODE_ENCLAVE_LEFTOVERS_MS, once the ledger is in step and the runner key is
 *  known: each active registration by this runner account quoted by this platform key
 *  that is no current start of ours is queued for retirement. Another node with its own
 *  platform key is never touched, even under the same runner account. */
static void s_sweep_leftovers(node_enclave_t *self)
{
    uint64_t now = s_now_ms();
    node_ledger_t *l = node_app_ledger(self->app);
    if (!l || (self->leftovers_ms && now - self->leftovers_ms < NODE_ENCLAVE_LEFTOVERS_MS))
        return;
    if (!self->runner_key)
        s_runner_key(self);
    if (!self->runner_key || node_ledger_local_syncing(l))
        return;
    ledger_state_t *st = node_ledger_local_state(l);
    ledger_enclave_t *all = NULL;
    size_t n = 0;
    if (!st || ledger_enclave_list(st, 0, &all, &n) != LEDGER_OK) {
        ledger_state_destroy(&st);
        return;
    }
    ledger_state_destroy(&st);
    self->leftovers_ms = now;
    uint8_t platform_pk[32];
    enclave_platform_pubkey(self->platform, platform_pk);
    const uint8_t *account = proto_key_public(self->runner_key);
    for (size_t i = 0; i < n; i++) {
        const ledger_enclave_t *e = &all[i];
        if (e->status != LEDGER_ENCLAVE_ACTIVE || memcmp(e->runner, account, 32) != 0 ||
            memcmp(e->platform_pk, platform_pk, 32) != 0)
            continue;
        bool current = false;
        for (size_t k = 0; k < NODE_ENCLAVE_MAX && !current; k++)
            current = self->slots[k].used && self->slots[k].have_quote &&
                      memcmp(self->slots[k].id, e->id, 32) == 0;
        bool queued = false;
        for (size_t k = 0; k < self->n_retire && !queued; k++)
            queued = memcmp(self->retire[k].id, e->id, 32) == 0;
        if (current || queued || self->n_retire == RETIRE_MAX)
            continue;
        char hex[17];
        proto_hex_encode(e->id, 8, hex);
        GLOG(INFO, NODE,
             "enclave id %s... (registered at height %" PRIu64
             ") is from an earlier run of this runner: retiring it",
             hex, e->height);
        ne_retire_t *r = &self->retire[self->n_retire++];
        memset(r, 0, sizeof *r);
        memcpy(r->id, e->id, 32);
        r->ready = true;
        r->ready_ms = now;
    }
    free(all);
}

/*  The queued registrations of slot LOCAL may be retired now. */
void ne_retire_ready(node_enclave_t *self, uint32_t local)
{
    for (size_t i = 0; i < self->n_retire; i++)
        if (self->retire[i].local == local && !self->retire[i].ready) {
            self->retire[i].ready = true;
            self->retire[i].ready_ms = s_now_ms();
        }
}

/*  Submits ENCLAVE_RETIRE for R (E: its committed record), signed by the runner key. True
 *  when R is finished with (refused for good); false when admitted (the commit is waited
 *  for) or refused for a transient reason (tried again at the next tick). */
static bool s_retire_submit(node_enclave_t *self, node_ledger_t *l, ne_retire_t *r,
                            const ledger_enclave_t *e, const char *hex)
{
    uint64_t nonce = 0;
    size_t txlen = 0;
    if (node_ledger_local_next_nonce(l, proto_key_public(self->runner_key), &nonce) != LEDGER_OK)
        return false;
    uint8_t *tx = ledger_contract_enclave_retire_tx(self->runner_key, node_ledger_local_chain_id(l),
                                                    nonce, r->id, &txlen);
    if (!tx)
        return false;
    char why[LEDGER_ERR_MAX] = "";
    int rc = node_ledger_local_submit(l, tx, txlen, NULL, why, sizeof why);
    free(tx);
    if (rc == LEDGER_OK) {
        r->submitted_ms = s_now_ms();
        GLOG(INFO, NODE,
             "enclave %u: retiring enclave id %s, a start that is gone (registered at height "
             "%" PRIu64 ")",
             r->local, hex, e->height);
        return false;
    }
    if (rc == LEDGER_E_NOT_RUNNER || rc == LEDGER_E_ENCLAVE_RULE) {
        GLOG(WARN, NODE, "enclave %u: retirement of enclave id %s refused: %s", r->local, hex,
             why[0] ? why : proto_err_str(rc));
        return true;
    }
    GLOG(DEBUG, NODE, "enclave %u: retirement of %s not admitted (%s), retrying", r->local, hex,
         why[0] ? why : proto_err_str(rc));
    return false;
}

/*  One retirement step for R: true when it is done with (retired or revoked on the ledger,
 *  refused for good, or never registered). */
static bool s_retire_one(node_enclave_t *self, node_ledger_t *l, ne_retire_t *r)
{
    ledger_enclave_t e;
    char hex[65];
    proto_hex_encode(r->id, 32, hex);
    int rc = node_ledger_local_enclave(l, r->id, &e);
    if (rc == LEDGER_E_NOT_FOUND) {
        /* a registration submitted just before the stop may still commit */
        if (s_now_ms() - r->ready_ms < 2 * NODE_ENCLAVE_RETRY_MS)
            return false;
        GLOG(INFO, NODE, "enclave %u: enclave id %s was never registered: nothing to retire",
             r->local, hex);
        return true;
    }
    if (rc != LEDGER_OK)
        return false;
    if (e.status != LEDGER_ENCLAVE_ACTIVE) {
        GLOG(INFO, NODE, "enclave %u: enclave id %s %s at height %" PRIu64, r->local, hex,
             ledger_enclave_status_name(e.status), e.status_height);
        return true;
    }
    if (r->submitted_ms && s_now_ms() - r->submitted_ms < NODE_ENCLAVE_RETRY_MS)
        return false; /* admitted, waiting for the commit */
    if (!self->runner_key)
        s_runner_key(self);
    if (!self->runner_key || node_ledger_local_syncing(l))
        return false;
    return s_retire_submit(self, l, r, &e, hex);
}

/*  Each tick: the ready retirements, in queue order. */
static void s_retire_step(node_enclave_t *self)
{
    node_ledger_t *l = node_app_ledger(self->app);
    for (size_t i = 0; l && i < self->n_retire;) {
        if (!self->retire[i].ready || !s_retire_one(self, l, &self->retire[i])) {
            i++;
            continue;
        }
        memmove(&self->retire[i], &self->retire[i + 1],
                (self->n_retire - i - 1) * sizeof self->retire[0]);
        self->n_retire--;
    }
}

/* ---------------------------------------------------------------- registration */

static void s_on_nonce(void *ctx, enclave_host_t *host, uint8_t nonce[32])
{
    (void)host;
    ne_slot_t *s = ctx;
    node_ledger_t *l = node_app_ledger(s->owner->app);
    uint64_t height = 0;
    if (!l || node_ledger_local_head(l, &height, nonce) != LEDGER_OK)
        randombytes_buf(nonce, 32);
}

static void s_on_quote(void *ctx, enclave_host_t *host, const proto_attest_quote_t *quote)
{
    (void)host;
    ne_slot_t *s = ctx;
    ne_retire_queue(s->owner, s, false); /* the previous start's, once this one registers */
    s->quote = *quote;
    s->have_quote = true;
    ledger_enclave_id(quote->body.sign_pk, s->id);
    s->reg = REG_PENDING;
    s->reg_height = 0;
    s->why[0] = '\0';
    char hex[65];
    proto_hex_encode(s->id, 32, hex);
    GLOG(INFO, NODE, "enclave %u (%s) started, pid %ld, enclave id %s", s->local,
         enclave_kind_name(s->kind), (long)enclave_host_pid(s->host), hex);
}

/*  Signs and submits ENCLAVE_REGISTER for S's current quote (re-dated by the platform, so
 *  a retry is not refused as stale). */
static void s_register_submit(node_enclave_t *self, ne_slot_t *s, node_ledger_t *l)
{
    proto_attest_quote_t q;
    if (enclave_platform_quote(self->platform, s->quote.measurement, &s->quote.body, &q) !=
        PROTO_OK)
        return;
    uint8_t *qb = NULL, *tx = NULL;
    size_t qlen = 0, txlen = 0;
    uint64_t nonce = 0;
    if (proto_attest_quote_encode(&q, &qb, &qlen) != PROTO_OK ||
        node_ledger_local_next_nonce(l, proto_key_public(self->runner_key), &nonce) != LEDGER_OK)
        goto out;
    tx = ledger_contract_enclave_register_tx(self->runner_key, node_ledger_local_chain_id(l), nonce,
                                             (uint32_t)s->kind, q.measurement, qb, qlen, &txlen);
    if (!tx)
        goto out;
    char why[LEDGER_ERR_MAX] = "";
    uint8_t txid[32];
    int rc = node_ledger_local_submit(l, tx, txlen, txid, why, sizeof why);
    s->submitted_ms = s_now_ms();
    if (rc == LEDGER_OK) {
        s->reg = REG_SUBMITTED;
        GLOG(INFO, NODE, "enclave %u: registration submitted", s->local);
    } else if (rc < ENCLAVE_E_FIRST && rc >= ENCLAVE_E_FAILED) {
        /* the quote's verification (revoked, uncertified, expired ...): retrying the same
         * start will not help */
        s->reg = REG_REFUSED;
        snprintf(s->why, sizeof s->why, "%s", why[0] ? why : proto_err_str(rc));
        GLOG(WARN, NODE, "enclave %u: registration refused: %s", s->local, s->why);
    } else {
        snprintf(s->why, sizeof s->why, "%s", why[0] ? why : proto_err_str(rc));
        GLOG(DEBUG, NODE, "enclave %u: registration not admitted (%s), retrying", s->local, s->why);
    }
out:
    free(qb);
    free(tx);
}

static void s_register_step(node_enclave_t *self, ne_slot_t *s)
{
    node_ledger_t *l = node_app_ledger(self->app);
    if (!l || !s->have_quote || s->reg == REG_DONE || s->reg == REG_NONE || s->reg == REG_REFUSED ||
        !enclave_host_running(s->host))
        return;
    ledger_enclave_t e;
    if (node_ledger_local_enclave(l, s->id, &e) == LEDGER_OK) {
        s->reg = REG_DONE;
        s->reg_height = e.height;
        s->why[0] = '\0';
        GLOG(INFO, NODE, "enclave %u registered at height %llu", s->local,
             (unsigned long long)e.height);
        ne_retire_ready(self, s->local);
        return;
    }
    if (s->reg == REG_SUBMITTED && s_now_ms() - s->submitted_ms < NODE_ENCLAVE_RETRY_MS)
        return;
    if (s->reg == REG_PENDING && s->submitted_ms && s_now_ms() - s->submitted_ms < 500)
        return; /* not admitted a moment ago: wait a little */
    s_runner_key(self);
    if (!self->runner_key || node_ledger_local_syncing(l))
        return;
    s_register_submit(self, s, l);
}

/* ---------------------------------------------------------------- supervision */

/* ---------------------------------------------------------------- withdrawals */

/*  When the head moved: every donation a running training enclave holds whose record is
 *  now withdrawn on the ledger is dropped (DROP wipes it inside the enclave) and
 *  forgotten. The enclave itself checks withdrawals again before it trains. */
static void s_sweep_withdrawn(node_enclave_t *self)
{
    node_ledger_t *l = node_app_ledger(self->app);
    uint64_t height = 0;
    uint8_t head[32];
    if (!l || node_ledger_local_head(l, &height, head) != LEDGER_OK || height == self->sweep_height)
        return;
    self->sweep_height = height;
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        ne_slot_t *s = &self->slots[i];
        if (!s->used || s->stopped || !s->have_quote || memcmp(s->donated_for, s->id, 32) != 0)
            continue;
        bool was = s->advancing;
        s->advancing = true; /* queued only: the list is not changed while walked */
        for (size_t k = 0; k < s->n_donated; k++) {
            ledger_data_t d;
            if (node_ledger_local_data(l, s->donated[k], &d) == LEDGER_OK &&
                d.status == LEDGER_DATA_WITHDRAWN)
                ne_call_drop(self, s, s->donated[k]); /* forgotten once dropped */
        }
        s->advancing = was;
        ne_call_advance(self, s);
    }
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    node_enclave_t *self = arg;
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        ne_slot_t *s = &self->slots[i];
        if (!s->used || s->stopped)
            continue;
        ne_call_advance(self, s); /* a deadline passed, a death, calls left queued */
        if (enclave_host_call_pending(s->host))
            continue; /* supervision waits: the call's socket is being read */
        char msg[256];
        bool was_running = enclave_host_running(s->host);
        int rc = enclave_host_supervise(s->host, 0, msg, sizeof msg);
        if (was_running && !enclave_host_running(s->host))
            GLOG(WARN, NODE, "enclave %u (pid gone, status %d): restarting with backoff", s->local,
                 enclave_host_last_status(s->host));
        if (rc != 0 && !enclave_host_given_up(s->host))
            GLOG_RATELIMITED(WARN, NODE, "enclave %u: restart failed: %s", s->local, msg);
        if (enclave_host_given_up(s->host) && !s->gave_up_retired) {
            s->gave_up_retired = true; /* no successor will come */
            ne_retire_queue(self, s, true);
            ne_retire_ready(self, s->local);
        }
        s_register_step(self, s);
    }
    s_sweep_leftovers(self);
    s_retire_step(self);
    s_sweep_withdrawn(self);
    return 0;
}

/* ---------------------------------------------------------------- lifecycle */

static int s_exe_path(node_enclave_t *self, char *err, size_t err_cap)
{
    char me[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", me, sizeof me - 1);
    if (n <= 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot find this program's path");
    me[n] = '\0';
    char *slash = strrchr(me, '/');
    if (slash)
        *slash = '\0';
    int w = snprintf(self->exe, sizeof self->exe, "%s/%s", me, EXE_NAME);
    if (w < 0 || (size_t)w >= sizeof self->exe || access(self->exe, X_OK) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--role enclave-runner: no %s executable next to this program (%s)",
                              EXE_NAME, me);
    return 0;
}

node_enclave_t *node_enclave_new(node_app_t *app, char *err, size_t err_cap)
{
    node_enclave_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->app = app;
    self->timer = -1;
    self->next_local = 1;
    char dir[NODE_DATADIR_PATH_MAX + 16], msg[256];
    snprintf(dir, sizeof dir, "%s/platform", node_datadir_path(node_app_datadir(app)));
    if (s_exe_path(self, err, err_cap) != 0)
        goto err;
    self->platform = enclave_platform_sim_open(dir, msg, sizeof msg);
    if (!self->platform) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "platform %s: %s", dir, msg);
        goto err;
    }
    const char *cert_file = node_config_platform_cert(node_app_config(app));
    if (cert_file) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (node_datadir_read_file(cert_file, PROTO_ATTEST_CERT_MAX_BYTES, &bytes, &len, msg,
                                   sizeof msg) != 0) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "--platform-cert: %s", msg);
            goto err;
        }
        int rc = ne_cert_install(self, bytes, len, msg, sizeof msg);
        free(bytes);
        if (rc != 0) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "--platform-cert %s: %s", cert_file, msg);
            goto err;
        }
    }
    s_runner_key(self);
    self->timer = zloop_timer(node_app_loop(app), TICK_MS, 0, s_on_tick, self);
    if (self->timer < 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create a timer");
        goto err;
    }
    uint8_t pk[32];
    char hex[65];
    enclave_platform_pubkey(self->platform, pk);
    proto_hex_encode(pk, 32, hex);
    GLOG(INFO, NODE, "enclave runner: platform key %s (%s), %s", hex,
         enclave_platform_backend(self->platform),
         enclave_platform_cert(self->platform) ? "certified" : "not certified yet");
    return self;
err:
    node_enclave_destroy(&self);
    return NULL;
}

void node_enclave_destroy(node_enclave_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_enclave_t *self = *self_p;
    if (self->timer >= 0)
        zloop_timer_end(node_app_loop(self->app), self->timer);
    self->closing = true;
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++)
        ne_call_fail_all(self, &self->slots[i], ENCLAVE_E_DEAD, "the runner is shutting down");
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        enclave_host_destroy(&self->slots[i].host); /* stops the child */
        free(self->slots[i].donated);
    }
    enclave_platform_destroy(&self->platform);
    proto_key_destroy(&self->runner_key);
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

int node_enclave_spawn(node_enclave_t *self, enclave_kind_t kind, uint32_t *local, char *err,
                       size_t err_cap)
{
    ne_slot_t *s = NULL;
    for (size_t i = 0; i < NODE_ENCLAVE_MAX && !s; i++)
        if (!self->slots[i].used)
            s = &self->slots[i];
    for (size_t i = 0; i < NODE_ENCLAVE_MAX && !s; i++)
        if (self->slots[i].stopped) /* reuse a stopped enclave's slot */
            s = &self->slots[i];
    if (!s)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "this runner already runs %d enclaves",
                              NODE_ENCLAVE_MAX);
    enclave_host_destroy(&s->host);
    memset(s, 0, sizeof *s);
    s->owner = self;
    s->kind = kind;
    enclave_host_opts_t opts;
    enclave_host_opts_default(&opts);
    opts.backoff_min_ms = 200;
    opts.stop_grace_ms = 500;
    opts.on_quote = s_on_quote;
    opts.nonce_fn = s_on_nonce;
    opts.on_quote_ctx = s;
    /* bound to this node's chain (the runner role needs a ledger: its genesis hash) */
    memcpy(opts.chain_id, node_app_chain_id(self->app), sizeof opts.chain_id);
    s->host = enclave_host_new(self->exe, kind, self->platform, &opts);
    if (!s->host)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "bad enclave kind");
    s->local = self->next_local;
    int rc = enclave_host_start(s->host, err, err_cap);
    if (rc != 0) {
        enclave_host_destroy(&s->host);
        return rc;
    }
    self->next_local++;
    s->used = true;
    if (local)
        *local = s->local;
    s_register_step(self, s);
    return 0;
}

/*  The slot whose local number or current enclave id TEXT names, or NULL. */
ne_slot_t *ne_slot_find(node_enclave_t *self, const char *text)
{
    uint8_t id[32];
    bool is_id = strlen(text) == 64 && proto_hex_decode(text, id, 32) == 0;
    char *end = NULL;
    errno = 0;
    unsigned long n = is_id ? 0 : strtoul(text, &end, 10);
    if (!is_id && (errno || !end || *end || end == text))
        return NULL;
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        ne_slot_t *s = &self->slots[i];
        if (!s->used)
            continue;
        if (is_id ? (s->have_quote && memcmp(s->id, id, 32) == 0) : s->local == n)
            return s;
    }
    return NULL;
}

size_t node_enclave_list_local(node_enclave_t *self, enclave_kind_t kind, node_enclave_info_t *out,
                               size_t max)
{
    size_t n = 0;
    for (size_t i = 0; self && i < NODE_ENCLAVE_MAX && n < max; i++) {
        const ne_slot_t *s = &self->slots[i];
        if (!s->used || s->stopped || !s->have_quote || s->kind != kind || !s->host)
            continue;
        node_enclave_info_t *o = &out[n++];
        memset(o, 0, sizeof *o);
        memcpy(o->id, s->id, 32);
        memcpy(o->measurement, s->quote.measurement, 32);
        memcpy(o->box_pk, s->quote.body.box_pk, 32);
        o->local = s->local;
        o->kind = s->kind;
        o->registered = s->reg == REG_DONE;
    }
    return n;
}

int node_enclave_quote(node_enclave_t *self, const uint8_t id[static 32], uint8_t **out,
                       size_t *len)
{
    for (size_t i = 0; self && i < NODE_ENCLAVE_MAX; i++) {
        const ne_slot_t *s = &self->slots[i];
        if (s->used && !s->stopped && s->have_quote && memcmp(s->id, id, 32) == 0)
            return proto_attest_quote_encode(&s->quote, out, len);
    }
    return NODE_E_NO_ENCLAVE;
}
