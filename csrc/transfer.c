/* transfer.c - one call: attempts with retries under one deadline, on one
 * easy handle (gc_client_perform), and the per-attempt steps the batch
 * engine (multi.c) shares: prepare, begin, classify the outcome.
 *
 * Python-free: the binding releases the GIL around gc_client_perform.
 * Each attempt's answer is parsed here once: its JSON tree, retryability
 * and Retry-After all come from that one parse.
 */
#define GC_TRANSPORT_INTERNAL
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gc.h"

double gc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Let the binding run signal handlers, at most every GC_CHECK_EVERY s. */
int gc_interrupted(gc_interrupt *ir)
{
    double now;
    if (ir == NULL || ir->check == NULL)
        return 0;
    if (ir->fired)
        return 1;
    now = gc_now();
    if (now < ir->next)
        return 0;
    ir->next = now + GC_CHECK_EVERY;
    ir->fired = ir->check(ir->arg) != 0;
    return ir->fired;
}

/* ------------------------------------------------------------ callbacks */

/* libcurl calls this during transfers (and on waking from poll, which a
 * signal interrupts), so a raising signal handler stops the call promptly. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    gc_transfer *t = userdata;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return gc_interrupted(t->interrupt);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    gc_transfer *t = userdata;
    size_t n = size * nmemb;
    if (t->resp->body.len + n > t->max_bytes) {
        t->too_large = 1;
        return 0;  /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    if (gc_buf_append(&t->resp->body, data, n) < 0) {
        t->nomem = 1;
        return 0;
    }
    return n;
}

/* 2xx answers whose headers were copied (raw responses, the attempt hook):
 * _core.success_headers_kept(), so a test can show the plain path copies
 * none.  Relaxed atomics: threads share it, nothing orders by it. */
static unsigned long success_headers_kept;

unsigned long gc_success_headers_kept(void)
{
    return __atomic_load_n(&success_headers_kept, __ATOMIC_RELAXED);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    gc_transfer *t = userdata;
    size_t n = size * nmemb;
    /* A new status line (e.g. after "100 Continue") starts a new header set.
     * Headers are only read for errors (Retry-After, rate limits), so a 2xx
     * answer's are not copied at all. */
    if (n >= 12 && memcmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        gc_buf_clear(&t->resp->headers);
        int success = sp != NULL && (size_t)(sp - data) + 1 < n && sp[1] == '2';
        t->keep_headers = t->all_headers || !success;
        if (success && t->all_headers)
            __atomic_fetch_add(&success_headers_kept, 1UL, __ATOMIC_RELAXED);
    }
    if (!t->keep_headers || t->resp->headers.len + n > 65536)
        return n;  /* keep the first 64 KiB; the rest is not needed */
    if (gc_buf_append(&t->resp->headers, data, n) < 0) {
        t->nomem = 1;
        return 0;
    }
    return n;
}

/* ------------------------------------------------------------ steps */

void gc_response_reset(gc_response *resp, gc_kind kind)
{
    resp->kind = kind;
    resp->status = 0;
    resp->attempts = 0;
    resp->ambiguous = 0;
    resp->retry_after = -1;
    resp->error[0] = '\0';
}

void gc_response_free(gc_response *resp)
{
    gc_buf_free(&resp->body);
    gc_buf_free(&resp->headers);
    cJSON_Delete(resp->json);
    resp->json = NULL;
}

/* The request's header lines: its options' or its client's, by body kind. */
static const struct curl_slist *header_list(const gc_client *client, const gc_request *req,
                                            int has_body, int is_post)
{
    if (req->options != NULL)
        return req->options->lists[has_body ? 2 : is_post ? 1 : 0];
    return has_body ? client->headers_json : is_post ? client->headers_empty : client->headers;
}

static void set_method(CURL *h, const gc_client *client, const gc_request *req)
{
    const char *method = req->endpoint->method;
    int has_body = req->body != NULL;
    int is_post = strcmp(method, "POST") == 0;

    /* A reused handle remembers the last method: reset every time. */
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else if (is_post) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        if (has_body)
            curl_easy_setopt(h, CURLOPT_POST, 1L);
        else
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (has_body || is_post) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? req->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, has_body ? req->body : "");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list(client, req, has_body, is_post));
}

/* The callbacks, the same for every call: set once, when gc_handle_new
 * makes the handle (each setopt is work libcurl does per call otherwise). */
void gc_transfer_configure(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
}

/* Prepare handle h for one call (the same for every attempt). */
void gc_transfer_prepare(gc_client *client, CURL *h, const gc_request *req, gc_transfer *t)
{
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_error);
    t->all_headers = req->all_headers;
    /* Progress callbacks only matter when there is something to watch. */
    if (t->interrupt != NULL && t->interrupt->check != NULL) {
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    set_method(h, client, req);
    /* A non-idempotent call goes on a fresh connection: on a reused one,
     * libcurl silently re-sends a request whose connection died unanswered,
     * which for register-store could register the store twice. */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, req->endpoint->idempotent ? 0L : 1L);
}

/* Drop pointers into one call's memory before the handle is shared again. */
void gc_transfer_release(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
}

/* ------------------------------------------------------------ the sequential path's handles */

gc_handle_state *gc_handle_state_new(CURL *h)
{
    gc_handle_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    /* The callbacks write to the state's transfer record for the handle's
     * life (gc_handle_state_free runs after curl_easy_cleanup); the other
     * options start from known values, whatever another engine left. */
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &st->t);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &st->t);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &st->t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, st->t.curl_error);
    curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    st->postsize = -1;
    st->timeout_ms = st->connect_ms = -1;
    st->noprogress = 1;
    return st;
}

void gc_handle_state_free(gc_handle_state *state)
{
    if (state != NULL) {
        free(state->url);
        free(state);
    }
}

/* Keep a copy of the URL last set on the handle.  -1 out of memory. */
static int remember_url(gc_handle_state *st, const char *url)
{
    size_t len = strlen(url) + 1;
    char *grown = st->url;
    if (len > st->url_cap)
        grown = realloc(st->url, len);
    if (grown == NULL)
        return -1;
    st->url = grown;
    st->url_cap = len > st->url_cap ? len : st->url_cap;
    memcpy(st->url, url, len);
    return 0;
}

/* gc_transfer_prepare for a handle with a state: the same options, each
 * set only when its value differs from the one the previous call set.
 * -1 out of memory (for the copy of the URL). */
static int prepare_cached(gc_client *client, CURL *h, const gc_request *req, gc_handle_state *st)
{
    const char *method = req->endpoint->method;
    int has_body = req->body != NULL;
    int is_get = strcmp(method, "GET") == 0;
    int is_post = !is_get && strcmp(method, "POST") == 0;
    const char *custom = is_get || is_post ? NULL : method;
    const struct curl_slist *headers = header_list(client, req, has_body, is_post);
    long fresh = req->endpoint->idempotent ? 0L : 1L;
    long noprogress = st->t.interrupt != NULL && st->t.interrupt->check != NULL ? 0L : 1L;

    st->t.all_headers = req->all_headers;
    if (st->url == NULL || strcmp(st->url, req->url) != 0) {
        if (remember_url(st, req->url) < 0)
            return -1;
        curl_easy_setopt(h, CURLOPT_URL, req->url);
    }
    if (noprogress != st->noprogress) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, noprogress);
        st->noprogress = noprogress;
    }
    if (has_body || is_post) {
        const char *fields = has_body ? req->body : "";
        curl_off_t size = has_body ? (curl_off_t)req->body_len : 0;
        /* POSTFIELDS also makes libcurl's method POST.  It is set for every
         * new body (its memory is the call's); the same address again is
         * the same setting. */
        if (fields != st->postfields || !st->post)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, fields);
        if (size != st->postsize)
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, size);
        st->postfields = fields;
        st->postsize = size;
        st->post = 1;
    } else {
        /* No pointer into an earlier call's body stays set on the handle. */
        if (st->postfields != NULL) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
            st->postfields = NULL;
            st->postsize = -1;
            st->post = 1;
        }
        if (st->post)
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        st->post = 0;
    }
    if (custom != st->custom) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom);
        st->custom = custom;
    }
    if (headers != st->headers) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        st->headers = headers;
    }
    /* As in gc_transfer_prepare: a non-idempotent call on a fresh connection. */
    if (fresh != st->fresh) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh);
        st->fresh = fresh;
    }
    return 0;
}

static long ms_ceil(double seconds)
{
    double ms = ceil(seconds * 1000.0);
    /* Converting a double beyond LONG_MAX to long is undefined behaviour. */
    if (!(ms < (double)(LONG_MAX / 2)))
        return LONG_MAX / 2;
    return ms < 1 ? 1 : (long)ms;
}

static void timed_out(const gc_config *cfg, gc_response *resp, int attempts)
{
    resp->kind = GC_TIMEOUT;
    snprintf(resp->error, sizeof resp->error, "timed out after %.3g s (%d attempt%s)", cfg->timeout,
             attempts, attempts == 1 ? "" : "s");
}

/* Start of an attempt: clear the response, bound it by what is left of
 * the deadline (setting only what differs from st's values, when there is
 * a state).  Returns 0, or -1 when the deadline has passed. */
static int attempt_begin(const gc_config *cfg, CURL *h, gc_transfer *t, double deadline, int attempt,
                         gc_handle_state *st)
{
    gc_response *resp = t->resp;
    double remaining = deadline - gc_now();
    long total, connect;
    if (remaining <= 0) {
        timed_out(cfg, resp, attempt);
        return -1;
    }
    gc_buf_clear(&resp->body);
    gc_buf_clear(&resp->headers);
    t->too_large = 0;
    t->nomem = 0;
    t->curl_error[0] = '\0';
    total = ms_ceil(remaining);
    connect = ms_ceil(cfg->connect_timeout < remaining ? cfg->connect_timeout : remaining);
    if (st == NULL || st->timeout_ms != total)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total);
    if (st == NULL || st->connect_ms != connect)
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
    if (st != NULL) {
        st->timeout_ms = total;
        st->connect_ms = connect;
    }
    return 0;
}

int gc_attempt_begin(const gc_config *cfg, CURL *h, gc_transfer *t, double deadline, int attempt)
{
    return attempt_begin(cfg, h, t, deadline, attempt, NULL);
}

/* A connection-level failure: was it safe to send again? */
static int failure_before_send(CURLcode rc, CURL *h)
{
    long sent = 0;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        break;
    }
    if (curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent) != CURLE_OK)
        return 0;
    return sent == 0;
}

static int is_retryable_connection_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:  /* a connect timeout short of the deadline */
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Log one attempt (when someone listens): its outcome as resp holds it now. */
static void record(gc_attempt_list *log, size_t call, int attempt, const gc_response *resp,
                   double start, double ms)
{
    gc_attempt_log *item;
    gc_str id;

    if (log == NULL)
        return;
    if (log->len == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 16;
        gc_attempt_log *items = log->owned ? realloc(log->items, cap * sizeof *items)
                                           : malloc(cap * sizeof *items);
        if (items == NULL)
            return;  /* a debug log line is the one thing dropped under memory pressure */
        if (!log->owned && log->len > 0)
            memcpy(items, log->items, log->len * sizeof *items);
        log->items = items;
        log->cap = cap;
        log->owned = 1;
    }
    item = &log->items[log->len++];
    item->call = call;
    item->attempt = attempt;
    item->status = resp->status;
    item->ms = ms;
    item->start = start;
    item->kind = resp->kind;
    item->request_id[0] = '\0';
    if (gc_header_find(resp->headers.data, resp->headers.len, "X-Request-Id", &id) && id.len > 0)
        snprintf(item->request_id, sizeof item->request_id, "%.*s",
                 (int)(id.len < sizeof item->request_id ? id.len : sizeof item->request_id - 1), id.data);
    snprintf(item->error, sizeof item->error, "%.127s",
             resp->kind == GC_STATUS || resp->kind == GC_OK ? "" : resp->error);
}

/* The answer of one attempt: parse its body once; the tree, the retry
 * decision and Retry-After all come from it. */
static void read_answer(CURL *h, gc_response *resp)
{
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    cJSON_Delete(resp->json);
    resp->json = NULL;
    resp->json_error.problem = GC_JSON_OK;
    resp->json_error.offset = 0;
    if (resp->body.len > 0)
        resp->json = gc_json_parse_ex(resp->body.data, resp->body.len, &resp->json_error);
    if (resp->status >= 200 && resp->status < 300) {
        resp->retry_after = -1;
        resp->kind = GC_OK;
        if (resp->body.len > 0 && resp->json == NULL) {
            resp->kind = GC_DECODE;
            snprintf(resp->error, sizeof resp->error, "Gett answered %ld with %s (at byte %zu)",
                     resp->status, gc_json_problem_text(resp->json_error.problem),
                     resp->json_error.offset);
        }
        return;
    }
    resp->kind = GC_STATUS;
    resp->retry_after = gc_retry_after(resp->json, resp->headers.data, resp->headers.len, time(NULL));
}

/* A libcurl failure as text: its detailed message when it left one. */
static void failure_text(gc_response *resp, const gc_transfer *t, CURLcode rc)
{
    snprintf(resp->error, sizeof resp->error, "%s", t->curl_error[0] ? t->curl_error : curl_easy_strerror(rc));
}

/* After attempt number `attempt` (0-based) ended with rc: classify it into
 * resp and decide.  Returns the delay before the next attempt (>= 0), or
 * -1 when the call is finished (successfully or not).  One policy for the
 * sequential and the batch engine (DESIGN §2 "Retries"). */
double gc_attempt_end(const gc_config *cfg, const gc_request *req, CURL *h, CURLcode rc,
                      gc_transfer *t, int attempt, double attempt_start, double deadline,
                      gc_attempt_list *log, size_t call)
{
    gc_response *resp = t->resp;
    int may_retry = attempt < cfg->max_retries;
    double now = gc_now(), ms = (now - attempt_start) * 1000.0, delay;

    resp->attempts = attempt + 1;
    if (rc == CURLE_ABORTED_BY_CALLBACK || (t->interrupt != NULL && t->interrupt->fired)) {
        resp->kind = GC_INTERRUPTED;
        snprintf(resp->error, sizeof resp->error,
                 "interrupted by a signal while in flight (the request may have reached Gett)");
        return -1;
    }
    if (rc == CURLE_OK) {
        read_answer(h, resp);
        record(log, call, attempt + 1, resp, attempt_start, ms);
        if (resp->kind != GC_STATUS || !may_retry || !gc_status_retryable(resp->status, resp->json))
            return -1;
        /* Any other answer may come after the request was acted on (a 500
         * after the store was registered): only 429 and 503 say it was not,
         * so only they are retried for a call that must not run twice. */
        if (!req->endpoint->idempotent && resp->status != 429 && resp->status != 503)
            return -1;
        delay = gc_retry_delay(attempt, resp->retry_after);
        /* Waiting past the deadline cannot succeed: fail now with this answer. */
        if (now + delay >= deadline)
            return -1;
        /* Retrying after an answer other than 429/503: Gett may have acted on
         * this attempt, so a later "already done" answer may be our own doing. */
        if (resp->status != 429 && resp->status != 503)
            resp->ambiguous = 1;
        return delay;
    }
    resp->retry_after = -1;
    if (rc == CURLE_WRITE_ERROR && t->too_large) {
        resp->kind = GC_TOO_LARGE;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        snprintf(resp->error, sizeof resp->error,
                 "response body larger than max_response_bytes (%zu bytes)", cfg->max_response_bytes);
        record(log, call, attempt + 1, resp, attempt_start, ms);
        return -1;
    }
    resp->status = 0;
    if (rc == CURLE_OPERATION_TIMEDOUT && now >= deadline - 0.001) {
        timed_out(cfg, resp, attempt + 1);
        record(log, call, attempt + 1, resp, attempt_start, ms);
        return -1;
    }
    if (t->nomem) {
        resp->kind = GC_NOMEM;
        snprintf(resp->error, sizeof resp->error, "out of memory while reading the answer");
        return -1;
    }
    resp->kind = GC_CONNECTION;
    if (rc == CURLE_OUT_OF_MEMORY && t->curl_error[0] == '\0') {
        /* What libcurl reports, without a message, for a header line over
         * CURL_MAX_HTTP_HEADER (100 KB) it refuses to buffer: a hostile
         * answer far more often than a process out of memory. */
        snprintf(resp->error, sizeof resp->error,
                 "the answer could not be read: a header line over 100 KB (or libcurl ran out of memory)");
    } else {
        failure_text(resp, t, rc);
    }
    record(log, call, attempt + 1, resp, attempt_start, ms);
    if (!may_retry || !is_retryable_connection_error(rc))
        return -1;
    if (failure_before_send(rc, h)) {
        delay = gc_retry_delay(attempt, -1);
        return now + delay >= deadline ? -1 : delay;
    }
    if (!req->endpoint->idempotent)
        return -1;
    delay = gc_retry_delay(attempt, -1);
    if (now + delay >= deadline)
        return -1;
    resp->ambiguous = 1;   /* the request was sent and its answer lost */
    return delay;
}

/* ------------------------------------------------------------ one call */

/* Sleep, in slices when signals are watched so a raising handler ends the wait. */
static void sleep_seconds(double seconds, gc_interrupt *ir)
{
    double end = gc_now() + seconds, left;
    struct timespec req;
    int watched = ir != NULL && ir->check != NULL;
    while (!gc_interrupted(ir) && (left = end - gc_now()) > 0) {
        if (watched && left > GC_CHECK_EVERY)
            left = GC_CHECK_EVERY;
        req.tv_sec = (time_t)left;
        req.tv_nsec = (long)((left - (double)req.tv_sec) * 1e9);
        nanosleep(&req, NULL);
    }
}

/* The attempts of one call on handle h (prepared), until one is final. */
static void run_attempts(const gc_config *cfg, const gc_request *req, CURL *h, gc_handle_state *st,
                         double deadline, gc_attempt_list *log, gc_interrupt *interrupt)
{
    gc_transfer *t = &st->t;
    int attempt;

    for (attempt = 0;; attempt++) {
        double attempt_start, delay;
        if (attempt_begin(cfg, h, t, deadline, attempt, st) < 0)
            break;
        attempt_start = gc_now();
        delay = gc_attempt_end(cfg, req, h, curl_easy_perform(h), t, attempt, attempt_start,
                               deadline, log, 0);
        if (delay < 0)
            break;
        sleep_seconds(delay, interrupt);
        if (gc_interrupted(interrupt)) {
            /* The last answer said "retry": the call did not finish. */
            t->resp->kind = GC_INTERRUPTED;
            snprintf(t->resp->error, sizeof t->resp->error,
                     "interrupted by a signal during a retry backoff");
            break;
        }
    }
}

int gc_client_perform(gc_client *client, const gc_request *req, gc_response *resp,
                      gc_attempt_list *log, gc_interrupt *interrupt)
{
    const gc_config *cfg = gc_request_config(client, req);
    double deadline = gc_now() + cfg->timeout;
    gc_handle_state *st = NULL;
    gc_transfer *t;
    CURL *h;

    gc_response_reset(resp, GC_CONNECTION);
    if (interrupt != NULL)
        interrupt->next = deadline - cfg->timeout + GC_CHECK_EVERY;
    h = gc_handle_checkout(client, &st);
    if (h != NULL && st == NULL && (st = gc_handle_state_new(h)) == NULL) {
        gc_handle_checkin(client, h);
        h = NULL;
    }
    if (h == NULL) {
        resp->kind = GC_NOMEM;
        snprintf(resp->error, sizeof resp->error, "could not create a libcurl handle");
        goto done;
    }
    t = &st->t;
    t->resp = resp;
    t->max_bytes = cfg->max_response_bytes;
    t->too_large = 0;
    t->nomem = 0;
    t->keep_headers = 0;
    t->interrupt = interrupt;
    t->curl_error[0] = '\0';
    if (prepare_cached(client, h, req, st) < 0) {
        resp->kind = GC_NOMEM;
        snprintf(resp->error, sizeof resp->error, "out of memory before sending");
    } else {
        run_attempts(cfg, req, h, st, deadline, log, interrupt);
    }
    /* The handle keeps its options (prepare_cached compares with them next
     * time); only the pointers into this call's memory are dropped. */
    t->resp = NULL;
    t->interrupt = NULL;
    gc_handle_checkin_state(client, h, st);
done:
    return resp->kind == GC_OK ? 0 : -1;
}

/* ------------------------------------------------------------ with_options */

/* Length of the name of a "Name: value" line (up to the ':'). */
static size_t line_name_len(const char *line)
{
    const char *colon = strchr(line, ':');
    return colon != NULL ? (size_t)(colon - line) : strlen(line);
}

static int replaced(const char *line, const char *const *extra, size_t n_extra)
{
    size_t i, len = line_name_len(line);
    for (i = 0; i < n_extra; i++)
        if (line_name_len(extra[i]) == len && strncasecmp(line, extra[i], len) == 0)
            return 1;
    return 0;
}

/* base's lines (those no extra line replaces), then the extra lines. */
static struct curl_slist *merged_list(const struct curl_slist *base, const char *const *extra,
                                      size_t n_extra, int *failed)
{
    struct curl_slist *list = NULL, *tmp;
    const struct curl_slist *item;
    size_t i;

    for (item = base; item != NULL && !*failed; item = item->next) {
        if (replaced(item->data, extra, n_extra))
            continue;
        tmp = curl_slist_append(list, item->data);
        *failed = tmp == NULL;
        list = tmp != NULL ? tmp : list;
    }
    for (i = 0; i < n_extra && !*failed; i++) {
        tmp = curl_slist_append(list, extra[i]);
        *failed = tmp == NULL;
        list = tmp != NULL ? tmp : list;
    }
    return list;
}

gc_options *gc_options_new(const gc_client *client, double timeout, double connect_timeout,
                           int max_retries, const char *const *extra, size_t n_extra)
{
    gc_options *o = calloc(1, sizeof *o);
    const struct curl_slist *bases[3];
    int failed = 0, i;

    if (o == NULL)
        return NULL;
    bases[0] = client->headers;
    bases[1] = client->headers_empty;
    bases[2] = client->headers_json;
    o->cfg.timeout = timeout;
    o->cfg.connect_timeout = connect_timeout;
    o->cfg.max_retries = max_retries;
    o->cfg.max_response_bytes = client->cfg.max_response_bytes;
    o->cfg.pool_size = client->cfg.pool_size;
    for (i = 0; i < 3 && !failed; i++)
        o->lists[i] = merged_list(bases[i], extra, n_extra, &failed);
    if (failed) {
        gc_options_free(o);
        o = NULL;
    }
    return o;
}

void gc_options_free(gc_options *options)
{
    int i;
    if (options == NULL)
        return;
    for (i = 0; i < 3; i++) {
        struct curl_slist *item;
        /* The lists hold copies of the Authorization line: zero them first. */
        for (item = options->lists[i]; item != NULL; item = item->next)
            gc_secure_zero(item->data, strlen(item->data));
        curl_slist_free_all(options->lists[i]);
    }
    free(options);
}
