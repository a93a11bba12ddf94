/* aio.c - the asyncio engine's Python-free part: calls on one curl_multi
 * driven by an event loop (libcurl's multi_socket API), at most
 * max_concurrency transfers in flight, the rest queued in call order.
 *
 * Nothing here waits: libcurl's callbacks record what the loop must do
 * (gc.h, "the asyncio engine"), gc_aio_step does libcurl's work for one
 * event and classifies finished attempts with transfer.c's
 * gc_attempt_end (one retry policy for every engine), and the binding
 * (aio_py.c) applies the records to the loop and resolves futures.  The
 * binding releases the GIL around gc_aio_step.
 */
#define GC_TRANSPORT_INTERNAL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gc.h"

/* ------------------------------------------------------------ records */

static int grow(void **items, size_t *cap, size_t len, size_t size)
{
    size_t n = *cap ? *cap * 2 : 16;
    void *p;
    if (len < *cap)
        return 0;
    p = realloc(*items, n * size);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = n;
    return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    gc_aio *aio = userp;
    int want = 0;
    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        want |= GC_AIO_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        want |= GC_AIO_WRITE;
    if (grow((void **)&aio->ops, &aio->cap_ops, aio->n_ops, sizeof *aio->ops) < 0)
        return -1;  /* libcurl fails the transfer: better than a socket never watched */
    aio->ops[aio->n_ops].fd = (int)fd;
    aio->ops[aio->n_ops].want = want;
    aio->n_ops++;
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    gc_aio *aio = userp;
    (void)multi;
    aio->timer_ms = timeout_ms;
    aio->timer_changed = 1;
    return 0;
}

/* libcurl is done with fd: it is closed only after the loop stops
 * watching it (the binding), so its number cannot be reused meanwhile. */
static int on_close(void *clientp, curl_socket_t fd)
{
    gc_aio *aio = clientp;
    if (grow((void **)&aio->closes, &aio->cap_closes, aio->n_closes, sizeof *aio->closes) < 0)
        return close((int)fd);
    aio->closes[aio->n_closes++] = (int)fd;
    return 0;
}

/* Every connection socket libcurl makes comes through here (not its
 * resolver's internal sockets): the binding may keep such a socket watched
 * between transfers, because it learns of its close (on_close). */
static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    gc_aio *aio = clientp;
    (void)purpose;
    gc_aio_set_watched(aio, (int)fd, GC_AIO_CONN);
    return CURL_SOCKOPT_OK;
}

int gc_aio_watched(const gc_aio *aio, int fd)
{
    return fd >= 0 && (size_t)fd < aio->n_watched ? aio->watched[fd] : 0;
}

int gc_aio_set_watched(gc_aio *aio, int fd, int want)
{
    if (fd < 0)
        return -1;
    if ((size_t)fd >= aio->n_watched) {
        size_t n = (size_t)fd * 2 + 16;
        unsigned char *p;
        if (want == 0)
            return 0;
        p = realloc(aio->watched, n);
        if (p == NULL)
            return -1;
        memset(p + aio->n_watched, 0, n - aio->n_watched);
        aio->watched = p;
        aio->n_watched = n;
    }
    aio->watched[fd] = (unsigned char)want;
    return 0;
}

/* ------------------------------------------------------------ calls */

static void report(gc_aio *aio, gc_aio_call *c)
{
    c->next = NULL;
    c->prev = aio->report_tail;
    if (aio->report_tail)
        aio->report_tail->next = c;
    else
        aio->report_head = c;
    aio->report_tail = c;
}

gc_aio_call *gc_aio_take_report(gc_aio *aio)
{
    gc_aio_call *c = aio->report_head;
    if (c != NULL) {
        aio->report_head = c->next;
        if (aio->report_head)
            aio->report_head->prev = NULL;
        else
            aio->report_tail = NULL;
        c->next = c->prev = NULL;
    }
    return c;
}

static void unlink_call(gc_aio_call **head, gc_aio_call **tail, gc_aio_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        *tail = c->prev;
    c->next = c->prev = NULL;
}

static void release_handle(gc_aio *aio, CURL *h)
{
    gc_transfer_release(h);
    if (aio->n_idle < aio->max_concurrency)
        aio->idle[aio->n_idle++] = h;
    else
        curl_easy_cleanup(h);
}

static void finished(gc_aio *aio, gc_aio_call *c)
{
    c->state = GC_AIO_FINISHED;
    c->delay = -1;
    report(aio, c);
}

/* Put the call on a handle in the multi, or finish it (deadline passed,
 * no memory for a handle). */
static void start(gc_aio *aio, gc_aio_call *c)
{
    CURL *h = aio->n_idle > 0 ? aio->idle[--aio->n_idle] : gc_handle_new(aio->client);
    if (h == NULL) {
        c->resp.kind = GC_NOMEM;
        snprintf(c->resp.error, sizeof c->resp.error, "could not create a libcurl handle");
        finished(aio, c);
        return;
    }
    gc_transfer_prepare(aio->client, h, &c->req, &c->t);
    curl_easy_setopt(h, CURLOPT_PRIVATE, c);
    /* Over TLS (ALPN h2) calls multiplex on few connections: wait for one
     * being set up to say whether it multiplexes rather than open one each
     * (as the batch engine, multi.c, which says why not over plain HTTP). */
    curl_easy_setopt(h, CURLOPT_PIPEWAIT,
                     strncasecmp(aio->client->cfg.base_url, "https://", 8) == 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, aio);
    curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, aio);
    if (gc_attempt_begin(gc_request_config(aio->client, &c->req), h, &c->t, c->deadline,
                         c->attempt) < 0) {
        release_handle(aio, h);
        finished(aio, c);
        return;
    }
    c->attempt_start = gc_now();
    if (curl_multi_add_handle(aio->multi, h) != CURLM_OK) {
        release_handle(aio, h);
        c->resp.kind = GC_NOMEM;
        snprintf(c->resp.error, sizeof c->resp.error, "libcurl refused the transfer");
        finished(aio, c);
        return;
    }
    c->handle = h;
    c->state = GC_AIO_RUNNING;
    aio->in_flight++;
}

/* Start queued calls while slots are free; how many went into the multi. */
static int fill(gc_aio *aio)
{
    int started = 0;
    while (aio->queue_head != NULL && aio->in_flight < aio->max_concurrency) {
        gc_aio_call *c = aio->queue_head;
        unlink_call(&aio->queue_head, &aio->queue_tail, c);
        start(aio, c);
        started += c->state == GC_AIO_RUNNING;
    }
    return started;
}

void gc_aio_submit(gc_aio *aio, gc_aio_call *c)
{
    gc_response_reset(&c->resp, GC_CONNECTION);
    c->t.resp = &c->resp;
    c->t.max_bytes = aio->client->cfg.max_response_bytes;
    c->t.too_large = 0;
    c->t.nomem = 0;
    c->t.keep_headers = 0;
    c->t.interrupt = NULL;
    c->t.curl_error[0] = '\0';
    c->log.items = c->log_inline;
    c->log.len = 0;
    c->log.cap = GC_AIO_LOG_INLINE;
    c->log.owned = 0;
    c->handle = NULL;
    c->attempt = 0;
    c->delay = -1;
    c->next = c->prev = NULL;
    /* timeout bounds the whole call, from when it was made (queueing included). */
    c->deadline = gc_now() + gc_request_config(aio->client, &c->req)->timeout;
    if (aio->queue_head == NULL && aio->in_flight < aio->max_concurrency) {
        start(aio, c);
    } else {
        c->state = GC_AIO_QUEUED;
        c->prev = aio->queue_tail;
        if (aio->queue_tail)
            aio->queue_tail->next = c;
        else
            aio->queue_head = c;
        aio->queue_tail = c;
    }
}

void gc_aio_retry(gc_aio *aio, gc_aio_call *c)
{
    if (c->state != GC_AIO_BACKOFF)
        return;
    c->attempt++;
    if (aio->in_flight < aio->max_concurrency) {
        start(aio, c);
        return;
    }
    /* First in line: it was sent before anything still queued. */
    c->state = GC_AIO_QUEUED;
    c->prev = NULL;
    c->next = aio->queue_head;
    if (aio->queue_head)
        aio->queue_head->prev = c;
    else
        aio->queue_tail = c;
    aio->queue_head = c;
}

/* Classify every transfer libcurl finished. */
static void collect(gc_aio *aio)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(aio->multi, &left)) != NULL) {
        gc_aio_call *c = NULL;
        CURL *h = msg->easy_handle;
        CURLcode rc = msg->data.result;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
        curl_multi_remove_handle(aio->multi, h);
        aio->in_flight--;
        if (c == NULL) {
            release_handle(aio, h);
            continue;
        }
        c->delay = gc_attempt_end(gc_request_config(aio->client, &c->req), &c->req, h, rc, &c->t,
                                  c->attempt, c->attempt_start, c->deadline, &c->log, 0);
        c->handle = NULL;
        release_handle(aio, h);
        if (c->delay < 0) {
            finished(aio, c);
        } else {
            c->state = GC_AIO_BACKOFF;
            report(aio, c);
        }
    }
}

void gc_aio_step(gc_aio *aio, int fd, int events)
{
    int running = 0;
    curl_multi_socket_action(aio->multi, fd < 0 ? CURL_SOCKET_TIMEOUT : (curl_socket_t)fd,
                             fd < 0 ? 0 : events, &running);
    collect(aio);
    /* Calls that took the freed slots start sending now, not on the next
     * loop iteration (libcurl's timer would say "at once"); one that ends
     * at once frees its slot again, so until nothing more starts. */
    while (fill(aio) > 0) {
        curl_multi_socket_action(aio->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        collect(aio);
    }
}

long gc_aio_timeout(gc_aio *aio)
{
    long ms = -1;
    aio->timer_changed = 0;
    if (aio->multi == NULL || curl_multi_timeout(aio->multi, &ms) != CURLM_OK)
        return -1;
    return ms;
}

void gc_aio_cancel(gc_aio *aio, gc_aio_call *c)
{
    switch (c->state) {
    case GC_AIO_QUEUED:
        unlink_call(&aio->queue_head, &aio->queue_tail, c);
        break;
    case GC_AIO_RUNNING:
        /* Aborts the transfer at once; its connection is closed (on_close). */
        curl_multi_remove_handle(aio->multi, c->handle);
        aio->in_flight--;
        release_handle(aio, c->handle);
        c->handle = NULL;
        break;
    case GC_AIO_BACKOFF:
    case GC_AIO_FINISHED:
        /* Reported but not yet taken: drop the report. */
        if (c->prev != NULL || aio->report_head == c)
            unlink_call(&aio->report_head, &aio->report_tail, c);
        break;
    default:
        break;
    }
    c->state = GC_AIO_CANCELLED;
    fill(aio);
}

/* ------------------------------------------------------------ lifecycle */

gc_aio *gc_aio_new(gc_client *client, int max_concurrency)
{
    gc_aio *aio = calloc(1, sizeof *aio);
    if (aio == NULL)
        return NULL;
    aio->client = client;
    aio->max_concurrency = max_concurrency < 1 ? 1 : max_concurrency;
    aio->timer_ms = -1;
    aio->idle = calloc((size_t)aio->max_concurrency, sizeof *aio->idle);
    aio->multi = curl_multi_init();
    if (aio->idle == NULL || aio->multi == NULL) {
        if (aio->multi)
            curl_multi_cleanup(aio->multi);
        free(aio->idle);
        free(aio);
        return NULL;
    }
    curl_multi_setopt(aio->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(aio->multi, CURLMOPT_SOCKETDATA, aio);
    curl_multi_setopt(aio->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(aio->multi, CURLMOPT_TIMERDATA, aio);
    curl_multi_setopt(aio->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)aio->max_concurrency);
    curl_multi_setopt(aio->multi, CURLMOPT_MAXCONNECTS, (long)aio->max_concurrency);
    return aio;
}

void gc_aio_shutdown(gc_aio *aio)
{
    gc_aio_call *c;
    if (aio->multi == NULL)
        return;
    /* The binding cancelled every call; drop whatever is left, then the multi. */
    while ((c = aio->queue_head) != NULL)
        gc_aio_cancel(aio, c);
    while (gc_aio_take_report(aio) != NULL)
        ;
    curl_multi_cleanup(aio->multi);
    aio->multi = NULL;
    while (aio->n_idle > 0)
        curl_easy_cleanup(aio->idle[--aio->n_idle]);
}

void gc_aio_free(gc_aio *aio, int close_fds)
{
    size_t i;
    if (aio == NULL)
        return;
    if (close_fds) {
        gc_aio_shutdown(aio);
        for (i = 0; i < aio->n_closes; i++)
            close(aio->closes[i]);
    }
    /* In a fork child the multi and handles hold the parent's sockets (and
     * TLS state): they are abandoned, never closed (as pool.c does). */
    free(aio->idle);
    free(aio->ops);
    free(aio->closes);
    free(aio->watched);
    free(aio);
}
