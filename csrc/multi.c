/* multi.c - the batch engine: n calls, up to `concurrency` in flight on one
 * curl_multi, each with the attempts, backoff and deadline of a single call
 * (the steps of transfer.c), and an optional progress line on stderr.
 *
 * Python-free: the binding releases the GIL around gc_client_perform_batch.
 * The multi handle is per batch and its connection cache closes with it;
 * the easy handles go back to the client's pool, without connections.
 * New connections resume the client's shared TLS sessions (pool.c).  Over
 * HTTPS with ALPN h2, calls multiplex on few connections: each waits for a
 * connection being set up to say whether it multiplexes (CURLOPT_PIPEWAIT)
 * instead of opening one of its own.  Only over TLS, where ALPN says so at
 * the handshake: over plain HTTP it would only know from the first answer,
 * and a fast call would wait on a slow one.
 */
#define GC_TRANSPORT_INTERNAL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gc.h"

/* One call of a batch: its own deadline, attempts and backoff timer.
 * CURLOPT_PRIVATE of its handle points at it, while in flight. */
typedef struct batch_call {
    gc_transfer t;
    CURL *handle;          /* while in flight */
    double deadline;       /* set when first started */
    double attempt_start;
    double ready_at;       /* > 0: waiting on a backoff until then */
    int attempt;
    int finished;
} batch_call;

typedef struct batch {
    gc_client *client;
    CURLM *multi;
    const gc_request *reqs;
    batch_call *calls;
    CURL **idle;           /* handles free for this batch */
    int n_idle;
    size_t in_flight, done;
    int https;             /* TLS: ALPN tells at the handshake whether it multiplexes */
} batch;

static void finish(batch *b, batch_call *c)
{
    c->finished = 1;
    b->done++;
}

/* Put call i on a handle and into the multi; a call whose deadline has
 * passed is finished instead.  -1 only when no handle can be created. */
static int start_call(batch *b, size_t i)
{
    batch_call *c = &b->calls[i];
    if (b->n_idle == 0) {
        b->idle[0] = gc_handle_new(b->client);
        if (b->idle[0] == NULL)
            return -1;
        b->n_idle = 1;
    }
    c->handle = b->idle[--b->n_idle];
    c->ready_at = 0;
    gc_transfer_prepare(b->client, c->handle, &b->reqs[i], &c->t);
    curl_easy_setopt(c->handle, CURLOPT_PRIVATE, c);
    curl_easy_setopt(c->handle, CURLOPT_PIPEWAIT, b->https ? 1L : 0L);
    if (gc_attempt_begin(gc_request_config(b->client, &b->reqs[i]), c->handle, &c->t, c->deadline,
                         c->attempt) < 0) {
        gc_transfer_release(c->handle);
        b->idle[b->n_idle++] = c->handle;
        c->handle = NULL;
        finish(b, c);
        return 0;
    }
    c->attempt_start = gc_now();
    curl_multi_add_handle(b->multi, c->handle);
    b->in_flight++;
    return 0;
}

static void progress_line(size_t done, size_t total, double start, int final)
{
    char line[96];
    int n = snprintf(line, sizeof line, "\r  batch: %zu/%zu calls (%.1f s)%s", done, total,
                     gc_now() - start, final ? "\n" : "");
    if (n > 0) {
        ssize_t ignored = write(2, line, (size_t)n);
        (void)ignored;
    }
}

/* A signal handler raised: calls sent at least once and not finished (in
 * flight or waiting to retry) are interrupted; calls never started stay
 * GC_NOT_RUN; finished ones keep their outcome. */
static void interrupt_all(batch *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        batch_call *c = &b->calls[i];
        if (c->finished || (c->handle == NULL && c->ready_at <= 0))
            continue;
        c->t.resp->kind = GC_INTERRUPTED;
        snprintf(c->t.resp->error, sizeof c->t.resp->error,
                 "interrupted by a signal while in flight (the request may have reached Gett)");
    }
}

int gc_client_perform_batch(gc_client *client, const gc_request *reqs, gc_response *resps,
                            size_t n, int concurrency, int progress, gc_attempt_list *log,
                            gc_interrupt *interrupt)
{
    const gc_config *cfg = &client->cfg;
    batch b;
    size_t next = 0, waiting = 0, i;
    int rc = -1;
    double start = gc_now(), last_progress = 0;
    int watched = interrupt != NULL && interrupt->check != NULL;

    memset(&b, 0, sizeof b);
    if (interrupt != NULL)
        interrupt->next = start + GC_CHECK_EVERY;
    b.client = client;
    b.reqs = reqs;
    b.https = strncasecmp(cfg->base_url, "https://", 8) == 0;
    for (i = 0; i < n; i++)
        gc_response_reset(&resps[i], GC_NOT_RUN);
    if (n == 0)
        return 0;
    if (concurrency < 1)
        concurrency = 1;
    if ((size_t)concurrency > n)
        concurrency = (int)n;
    b.calls = calloc(n, sizeof *b.calls);
    b.idle = calloc((size_t)concurrency, sizeof *b.idle);
    b.multi = curl_multi_init();
    if (b.calls == NULL || b.idle == NULL || b.multi == NULL)
        goto cleanup;
    curl_multi_setopt(b.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
    curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    for (i = 0; i < n; i++) {
        b.calls[i].t.resp = &resps[i];
        b.calls[i].t.max_bytes = cfg->max_response_bytes;
        b.calls[i].t.interrupt = interrupt;
    }

    while (b.done < n) {
        double now = gc_now(), wait_s = 1.0;
        int running = 0, msgs = 0;
        CURLMsg *msg;

        /* Restart calls whose backoff has ended, then start new ones, while
         * slots are free.  Only scanned when some call waits on a backoff:
         * a scan per loop over 10,000 calls would make the batch quadratic. */
        for (i = 0; waiting > 0 && i < next && b.in_flight < (size_t)concurrency; i++) {
            batch_call *c = &b.calls[i];
            if (c->handle == NULL && c->ready_at > 0 && c->ready_at <= now) {
                waiting--;
                if (start_call(&b, i) < 0)
                    goto cleanup;
            }
        }
        while (next < n && b.in_flight < (size_t)concurrency) {
            b.calls[next].deadline = gc_now() + gc_request_config(client, &reqs[next])->timeout;
            if (start_call(&b, next) < 0)
                goto cleanup;
            next++;
        }

        curl_multi_perform(b.multi, &running);
        while ((msg = curl_multi_info_read(b.multi, &msgs)) != NULL) {
            batch_call *c = NULL;
            double delay;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            if (c == NULL)
                continue;
            i = (size_t)(c - b.calls);
            curl_multi_remove_handle(b.multi, c->handle);
            b.in_flight--;
            delay = gc_attempt_end(gc_request_config(client, &reqs[i]), &reqs[i], c->handle,
                                   msg->data.result, &c->t, c->attempt, c->attempt_start, c->deadline,
                                   log, i);
            gc_transfer_release(c->handle);
            b.idle[b.n_idle++] = c->handle;
            c->handle = NULL;
            if (delay < 0) {
                finish(&b, c);
            } else {
                c->attempt++;
                c->ready_at = gc_now() + (delay > 0 ? delay : 1e-9);
                waiting++;
            }
        }
        if (progress && gc_now() - last_progress > 0.1) {
            progress_line(b.done, n, start, 0);
            last_progress = gc_now();
        }
        if (b.done >= n)
            break;
        if (gc_interrupted(interrupt)) {
            interrupt_all(&b, n);
            break;
        }
        /* Sleep until there is socket activity or the nearest backoff ends. */
        now = gc_now();
        for (i = 0; waiting > 0 && i < next; i++)
            if (b.calls[i].handle == NULL && b.calls[i].ready_at > 0 && b.calls[i].ready_at - now < wait_s)
                wait_s = b.calls[i].ready_at - now;
        if (next < n && b.in_flight < (size_t)concurrency)
            wait_s = 0;
        if (wait_s < 0)
            wait_s = 0;
        if (watched && wait_s > GC_CHECK_EVERY)
            wait_s = GC_CHECK_EVERY;  /* run signal handlers while calls wait */
        curl_multi_poll(b.multi, NULL, 0, (int)(wait_s * 1000.0), NULL);
    }
    if (progress)
        progress_line(b.done, n, start, 1);
    rc = 0;
cleanup:
    if (b.calls) {
        for (i = 0; i < n; i++) {
            if (b.calls[i].handle) {
                curl_multi_remove_handle(b.multi, b.calls[i].handle);
                gc_transfer_release(b.calls[i].handle);
                curl_easy_cleanup(b.calls[i].handle);
            }
        }
    }
    /* Keep up to pool_size handles for later calls; the connections they
     * used belonged to the multi handle and close with it. */
    while (b.n_idle > 0)
        gc_handle_checkin(client, b.idle[--b.n_idle]);
    if (b.multi)
        curl_multi_cleanup(b.multi);
    free(b.idle);
    free(b.calls);
    return rc;
}
