/* http.c - gc_client: a lock-protected pool of reused libcurl easy handles,
 * and one call = attempts with retries, all under one deadline.
 *
 * Python-free: the binding releases the GIL around gc_client_perform and
 * gc_client_free.  Handles are reused LIFO, so sequential calls from one
 * thread keep one keep-alive connection.  After fork() the child abandons
 * (never closes or reuses) the parent's handles: see the atfork handlers.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gc.h"

struct gc_client {
    gc_config cfg;
    pthread_mutex_t lock;          /* guards idle/n_idle */
    CURL **idle;
    int n_idle;
    struct curl_slist *headers;       /* GET, DELETE: no body */
    struct curl_slist *headers_empty; /* a POST without a body (activate) */
    struct curl_slist *headers_json;  /* calls with a JSON body */
    struct gc_client *prev, *next;    /* registry, for fork handling */
};

/* ------------------------------------------------------------ fork safety */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static gc_client *registry_head;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Before fork: hold every lock so the child sees consistent pools. */
static void atfork_prepare(void)
{
    gc_client *c;
    pthread_mutex_lock(&registry_lock);
    for (c = registry_head; c; c = c->next)
        pthread_mutex_lock(&c->lock);
}

static void atfork_parent(void)
{
    gc_client *c;
    for (c = registry_head; c; c = c->next)
        pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* In the child the idle handles hold the parent's sockets (and TLS state):
 * closing them could send a TLS close_notify on the parent's connection, and
 * reusing them would interleave bytes with the parent.  Forget them instead;
 * the child opens its own connections on demand. */
static void atfork_child(void)
{
    gc_client *c;
    for (c = registry_head; c; c = c->next) {
        c->n_idle = 0;
        pthread_mutex_init(&c->lock, NULL);
    }
    pthread_mutex_init(&registry_lock, NULL);
}

static void atfork_register(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ------------------------------------------------------------ callbacks */

typedef struct transfer_ctx {
    gc_response *resp;
    size_t max_bytes;
    int too_large;
    int keep_headers;      /* the status line was not 2xx: errors report headers */
    volatile int *abort_flag;
} transfer_ctx;

static int interrupted(const transfer_ctx *ctx)
{
    return ctx->abort_flag != NULL && *ctx->abort_flag;
}

/* libcurl calls this during transfers (and on waking from poll, which a
 * signal interrupts), so a Ctrl-C stops the call promptly. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return interrupted(userdata) ? 1 : 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    transfer_ctx *ctx = userdata;
    size_t n = size * nmemb;
    if (ctx->resp->body.len + n > ctx->max_bytes) {
        ctx->too_large = 1;
        return 0;  /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    if (gc_buf_append(&ctx->resp->body, data, n) < 0)
        return 0;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    transfer_ctx *ctx = userdata;
    size_t n = size * nmemb;
    /* A new status line (e.g. after "100 Continue") starts a new header set.
     * Headers are only read for errors (Retry-After, rate limits), so a 2xx
     * answer's are not copied at all. */
    if (n >= 12 && memcmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', n);
        gc_buf_clear(&ctx->resp->headers);
        ctx->keep_headers = !(sp != NULL && (size_t)(sp - data) + 1 < n && sp[1] == '2');
    }
    if (!ctx->keep_headers || ctx->resp->headers.len + n > 65536)
        return n;  /* keep the first 64 KiB; the rest is not needed */
    if (gc_buf_append(&ctx->resp->headers, data, n) < 0)
        return 0;
    return n;
}

/* ------------------------------------------------------------ handles */

static CURL *new_handle(gc_client *client)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    /* Send the path as built: never let libcurl fold "/./" or "/../". */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, client->cfg.user_agent);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (client->cfg.ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, client->cfg.ca_bundle);
    return h;
}

static CURL *checkout(gc_client *client)
{
    CURL *h = NULL;
    pthread_mutex_lock(&client->lock);
    if (client->n_idle > 0)
        h = client->idle[--client->n_idle];
    pthread_mutex_unlock(&client->lock);
    return h ? h : new_handle(client);
}

static void checkin(gc_client *client, CURL *h)
{
    int kept = 0;
    pthread_mutex_lock(&client->lock);
    if (client->n_idle < client->cfg.pool_size) {
        client->idle[client->n_idle++] = h;
        kept = 1;
    }
    pthread_mutex_unlock(&client->lock);
    if (!kept)
        curl_easy_cleanup(h);
}

int gc_client_idle_handles(gc_client *client)
{
    int n;
    pthread_mutex_lock(&client->lock);
    n = client->n_idle;
    pthread_mutex_unlock(&client->lock);
    return n;
}

/* ------------------------------------------------------------ lifecycle */

static void free_config(gc_config *cfg)
{
    free(cfg->base_url);
    if (cfg->auth_header) {
        /* The key is a secret: do not leave it in freed heap memory. */
        volatile char *p = cfg->auth_header;
        while (*p)
            *p++ = 0;
        free(cfg->auth_header);
    }
    free(cfg->user_agent);
    free(cfg->ca_bundle);
    memset(cfg, 0, sizeof *cfg);
}

/* Everything gc_client_new allocates besides handles and the lock. */
static void free_parts(gc_client *client)
{
    curl_slist_free_all(client->headers);
    curl_slist_free_all(client->headers_empty);
    curl_slist_free_all(client->headers_json);
    free(client->idle);
    free_config(&client->cfg);
    free(client);
}

/* Accept + Authorization, then up to two more lines. */
static int append_headers(struct curl_slist **list, const char *auth, const char *extra1,
                          const char *extra2)
{
    const char *lines[] = {"Accept: application/json", auth, extra1, extra2};
    size_t i;
    for (i = 0; i < sizeof lines / sizeof lines[0] && lines[i] != NULL; i++) {
        struct curl_slist *tmp = curl_slist_append(*list, lines[i]);
        if (tmp == NULL)
            return -1;
        *list = tmp;
    }
    return 0;
}

gc_client *gc_client_new(const gc_config *config)
{
    gc_client *client = calloc(1, sizeof *client);

    if (client == NULL)
        goto error;
    client->cfg = *config;
    if (client->cfg.pool_size < 1)
        client->cfg.pool_size = 1;
    client->idle = calloc((size_t)client->cfg.pool_size, sizeof(CURL *));
    if (client->idle == NULL)
        goto error;
    pthread_mutex_init(&client->lock, NULL);

    /* Each custom header costs libcurl a scan per request, so each kind of
     * call gets only what it needs.  "Content-Type:" (empty) stops libcurl
     * labelling a bodyless POST as a form; "Expect:" stops it waiting for
     * 100-continue before sending a larger body. */
    if (append_headers(&client->headers, client->cfg.auth_header, NULL, NULL) < 0 ||
        append_headers(&client->headers_empty, client->cfg.auth_header, "Content-Type:", NULL) < 0 ||
        append_headers(&client->headers_json, client->cfg.auth_header,
                       "Content-Type: application/json", "Expect:") < 0)
        goto error_lock;

    pthread_once(&atfork_once, atfork_register);
    pthread_mutex_lock(&registry_lock);
    client->next = registry_head;
    if (registry_head)
        registry_head->prev = client;
    registry_head = client;
    pthread_mutex_unlock(&registry_lock);
    return client;

error_lock:
    pthread_mutex_destroy(&client->lock);
error:
    if (client) {
        free_parts(client);
    } else {
        gc_config copy = *config;
        free_config(&copy);
    }
    return NULL;
}

void gc_client_free(gc_client *client)
{
    int i;
    if (client == NULL)
        return;
    pthread_mutex_lock(&registry_lock);
    if (client->prev)
        client->prev->next = client->next;
    else
        registry_head = client->next;
    if (client->next)
        client->next->prev = client->prev;
    pthread_mutex_unlock(&registry_lock);

    for (i = 0; i < client->n_idle; i++)
        curl_easy_cleanup(client->idle[i]);
    pthread_mutex_destroy(&client->lock);
    free_parts(client);
}

void gc_response_free(gc_response *resp)
{
    gc_buf_free(&resp->body);
    gc_buf_free(&resp->headers);
}

/* ------------------------------------------------------------ perform */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep in short slices so an abort flag set meanwhile ends the wait. */
static void sleep_seconds(double seconds, const transfer_ctx *ctx)
{
    double end = now_seconds() + seconds, left;
    struct timespec req;
    while (!interrupted(ctx) && (left = end - now_seconds()) > 0) {
        if (left > 0.02)
            left = 0.02;
        req.tv_sec = 0;
        req.tv_nsec = (long)(left * 1e9);
        nanosleep(&req, NULL);
    }
}

static long ms_ceil(double seconds)
{
    double ms = ceil(seconds * 1000.0);
    /* Converting a double beyond LONG_MAX to long is undefined behaviour. */
    if (!(ms < (double)(LONG_MAX / 2)))
        return LONG_MAX / 2;
    return ms < 1 ? 1 : (long)ms;
}

static void set_method(CURL *h, const gc_client *client, const gc_request *req)
{
    const char *method = req->endpoint->method;
    int has_body = req->body != NULL;

    /* A reused handle remembers the last method: reset every time. */
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        if (has_body)
            curl_easy_setopt(h, CURLOPT_POST, 1L);
        else
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (has_body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? req->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, has_body ? req->body : "");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER,
                     has_body ? client->headers_json
                              : strcmp(method, "POST") == 0 ? client->headers_empty : client->headers);
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

static void record(gc_attempt_log *log, int log_cap, int *log_len, int attempt, long status,
                   double ms)
{
    if (log == NULL || log_len == NULL || *log_len >= log_cap)
        return;
    log[*log_len].attempt = attempt;
    log[*log_len].status = status;
    log[*log_len].ms = ms;
    (*log_len)++;
}

/* Prepare handle h for one call (the same for every attempt). */
static void prepare_handle(gc_client *client, CURL *h, const gc_request *req, transfer_ctx *ctx)
{
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ctx);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, ctx);
    curl_easy_setopt(h, CURLOPT_PRIVATE, ctx);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, ctx);
    ctx->abort_flag = req->abort_flag;
    set_method(h, client, req);
    /* A non-idempotent call goes on a fresh connection: on a reused one,
     * libcurl silently re-sends a request whose connection died unanswered,
     * which for register-store could register the store twice. */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, req->endpoint->idempotent ? 0L : 1L);
}

/* Drop pointers into one call's memory before the handle is shared again. */
static void release_handle(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
}

/* Start of an attempt: clear the response, bound it by what is left of
 * the deadline.  Returns 0, or -1 when the deadline has passed. */
static int begin_attempt(const gc_config *cfg, CURL *h, transfer_ctx *ctx, double deadline, int attempt)
{
    gc_response *resp = ctx->resp;
    double remaining = deadline - now_seconds();
    if (remaining <= 0) {
        resp->kind = GC_TIMEOUT;
        snprintf(resp->error, sizeof resp->error, "timed out after %.3g s (%d attempt%s)",
                 cfg->timeout, attempt, attempt == 1 ? "" : "s");
        return -1;
    }
    gc_buf_clear(&resp->body);
    gc_buf_clear(&resp->headers);
    ctx->too_large = 0;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms_ceil(remaining));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     ms_ceil(cfg->connect_timeout < remaining ? cfg->connect_timeout : remaining));
    return 0;
}

/* After attempt number `attempt` (0-based) ended with rc: classify it into
 * resp and decide.  Returns the delay before the next attempt (>= 0), or
 * -1 when the call is finished (successfully or not).  One policy for the
 * sequential and the batch engine (DESIGN §2 "Retries"). */
static double attempt_outcome(const gc_config *cfg, const gc_request *req, CURL *h, CURLcode rc,
                              transfer_ctx *ctx, int attempt, double attempt_start, double deadline,
                              gc_attempt_log *log, int log_cap, int *log_len)
{
    gc_response *resp = ctx->resp;
    int may_retry = attempt < cfg->max_retries;
    double ms = (now_seconds() - attempt_start) * 1000.0, delay;

    resp->attempts = attempt + 1;
    if (rc == CURLE_ABORTED_BY_CALLBACK || interrupted(ctx)) {
        resp->kind = GC_INTERRUPTED;
        snprintf(resp->error, sizeof resp->error, "interrupted");
        return -1;
    }
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->kind = (resp->status >= 200 && resp->status < 300) ? GC_OK : GC_STATUS;
        record(log, log_cap, log_len, attempt + 1, resp->status, ms);
        if (resp->kind == GC_OK || !may_retry ||
            !gc_status_retryable(resp->status, resp->body.data, resp->body.len))
            return -1;
        /* Any other answer may come after the request was acted on (a 500
         * after the store was registered): only 429 and 503 say it was not,
         * so only they are retried for a call that must not run twice. */
        if (!req->endpoint->idempotent && resp->status != 429 && resp->status != 503)
            return -1;
        delay = gc_retry_delay(attempt, gc_response_retry_after(resp));
        /* Waiting past the deadline cannot succeed: fail now with this answer. */
        return now_seconds() + delay >= deadline ? -1 : delay;
    }
    if (rc == CURLE_WRITE_ERROR && ctx->too_large) {
        resp->kind = GC_TOO_LARGE;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        snprintf(resp->error, sizeof resp->error,
                 "response body larger than max_response_bytes (%zu bytes)", cfg->max_response_bytes);
        record(log, log_cap, log_len, attempt + 1, resp->status, ms);
        return -1;
    }
    if (rc == CURLE_OUT_OF_MEMORY) {
        resp->kind = GC_NOMEM;
        snprintf(resp->error, sizeof resp->error, "out of memory");
        return -1;
    }
    resp->status = 0;
    if (rc == CURLE_OPERATION_TIMEDOUT && now_seconds() >= deadline - 0.001) {
        resp->kind = GC_TIMEOUT;
        snprintf(resp->error, sizeof resp->error, "timed out after %.3g s (%d attempt%s)",
                 cfg->timeout, attempt + 1, attempt == 0 ? "" : "s");
        record(log, log_cap, log_len, attempt + 1, 0, ms);
        return -1;
    }
    resp->kind = GC_CONNECTION;
    snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(rc));
    record(log, log_cap, log_len, attempt + 1, 0, ms);
    if (!may_retry || !is_retryable_connection_error(rc))
        return -1;
    if (!failure_before_send(rc, h) && !req->endpoint->idempotent)
        return -1;
    delay = gc_retry_delay(attempt, -1);
    return now_seconds() + delay >= deadline ? -1 : delay;
}

static void reset_response(gc_response *resp)
{
    resp->kind = GC_CONNECTION;
    resp->status = 0;
    resp->attempts = 0;
    resp->error[0] = '\0';
}

int gc_client_perform(gc_client *client, const gc_request *req, gc_response *resp,
                      gc_attempt_log *log, int log_cap, int *log_len)
{
    const gc_config *cfg = &client->cfg;
    double deadline = now_seconds() + cfg->timeout;
    transfer_ctx ctx = {resp, cfg->max_response_bytes, 0};
    CURL *h;
    int attempt;

    if (log_len)
        *log_len = 0;
    reset_response(resp);
    h = checkout(client);
    if (h == NULL) {
        resp->kind = GC_NOMEM;
        snprintf(resp->error, sizeof resp->error, "could not create a libcurl handle");
        return -1;
    }
    prepare_handle(client, h, req, &ctx);
    for (attempt = 0;; attempt++) {
        double attempt_start, delay;
        if (begin_attempt(cfg, h, &ctx, deadline, attempt) < 0)
            break;
        attempt_start = now_seconds();
        delay = attempt_outcome(cfg, req, h, curl_easy_perform(h), &ctx, attempt, attempt_start,
                                deadline, log, log_cap, log_len);
        if (delay < 0)
            break;
        sleep_seconds(delay, &ctx);
        if (interrupted(&ctx)) {
            resp->kind = GC_INTERRUPTED;
            break;
        }
    }
    release_handle(h);
    checkin(client, h);
    return resp->kind == GC_OK ? 0 : -1;
}

/* ------------------------------------------------------------ batch */

/* One call of a batch: its own deadline, attempts and backoff timer. */
typedef struct batch_call {
    transfer_ctx ctx;
    CURL *handle;          /* while in flight */
    double deadline;       /* set when first started */
    double attempt_start;
    double ready_at;       /* earliest start of the next attempt */
    int attempt;
} batch_call;

/* Put call c on a handle and into the multi; a call whose deadline has
 * passed is finished instead.  -1 only when no handle can be created. */
static int start_call(gc_client *client, CURLM *multi, batch_call *c, const gc_request *req,
                      CURL **idle, int *n_idle, size_t *in_flight, size_t *done)
{
    if (*n_idle == 0) {
        idle[0] = new_handle(client);
        if (idle[0] == NULL)
            return -1;
        *n_idle = 1;
    }
    c->handle = idle[--*n_idle];
    c->ready_at = 0;
    prepare_handle(client, c->handle, req, &c->ctx);
    if (begin_attempt(&client->cfg, c->handle, &c->ctx, c->deadline, c->attempt) < 0) {
        release_handle(c->handle);
        idle[(*n_idle)++] = c->handle;
        c->handle = NULL;
        (*done)++;
        return 0;
    }
    c->attempt_start = now_seconds();
    curl_multi_add_handle(multi, c->handle);
    (*in_flight)++;
    return 0;
}

static void progress_line(size_t done, size_t total, double start, int final)
{
    char line[96];
    int n = snprintf(line, sizeof line, "\r  batch: %zu/%zu calls (%.1f s)%s", done, total,
                     now_seconds() - start, final ? "\n" : "");
    if (n > 0) {
        ssize_t ignored = write(2, line, (size_t)n);
        (void)ignored;
    }
}

int gc_client_perform_batch(gc_client *client, const gc_request *reqs, gc_response *resps,
                            size_t n, int concurrency, int progress)
{
    volatile int *abort_flag = n ? reqs[0].abort_flag : NULL;
    const gc_config *cfg = &client->cfg;
    batch_call *calls = NULL;
    CURL **idle = NULL;
    CURLM *multi = NULL;
    size_t next = 0, done = 0, in_flight = 0, waiting = 0, i;
    int n_idle = 0, rc = -1;
    double start = now_seconds(), last_progress = 0;

    if (n == 0)
        return 0;
    if (concurrency < 1)
        concurrency = 1;
    if ((size_t)concurrency > n)
        concurrency = (int)n;
    calls = calloc(n, sizeof *calls);
    idle = calloc((size_t)concurrency, sizeof *idle);
    multi = curl_multi_init();
    if (calls == NULL || idle == NULL || multi == NULL)
        goto cleanup;
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    for (i = 0; i < n; i++) {
        calls[i].ctx.resp = &resps[i];
        calls[i].ctx.max_bytes = cfg->max_response_bytes;
        reset_response(&resps[i]);
    }

    while (done < n) {
        double now = now_seconds(), wait_s = 1.0;
        int running = 0, msgs = 0;
        CURLMsg *msg;

        /* Restart calls whose backoff has ended, then start new ones, while
         * slots are free.  Only scanned when some call waits on a backoff:
         * a scan per loop over 10,000 calls would make the batch quadratic. */
        for (i = 0; waiting > 0 && i < next && in_flight < (size_t)concurrency; i++) {
            batch_call *c = &calls[i];
            if (c->handle == NULL && c->ready_at > 0 && c->ready_at <= now) {
                waiting--;
                if (start_call(client, multi, c, &reqs[i], idle, &n_idle, &in_flight, &done) < 0)
                    goto cleanup;
            }
        }
        while (next < n && in_flight < (size_t)concurrency) {
            batch_call *c = &calls[next];
            c->deadline = now_seconds() + cfg->timeout;
            if (start_call(client, multi, c, &reqs[next], idle, &n_idle, &in_flight, &done) < 0)
                goto cleanup;
            next++;
        }

        curl_multi_perform(multi, &running);
        while ((msg = curl_multi_info_read(multi, &msgs)) != NULL) {
            batch_call *c = NULL;
            double delay;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            if (c == NULL)
                continue;
            i = (size_t)(c - calls);
            curl_multi_remove_handle(multi, c->handle);
            in_flight--;
            delay = attempt_outcome(cfg, &reqs[i], c->handle, msg->data.result, &c->ctx, c->attempt,
                                    c->attempt_start, c->deadline, NULL, 0, NULL);
            release_handle(c->handle);
            idle[n_idle++] = c->handle;
            c->handle = NULL;
            if (delay < 0) {
                done++;
            } else {
                c->attempt++;
                c->ready_at = now_seconds() + (delay > 0 ? delay : 1e-9);
                waiting++;
            }
        }
        if (progress && now_seconds() - last_progress > 0.1) {
            progress_line(done, n, start, 0);
            last_progress = now_seconds();
        }
        if (done >= n)
            break;
        if (abort_flag != NULL && *abort_flag) {
            for (i = 0; i < n; i++)
                if (resps[i].attempts == 0 || calls[i].handle != NULL || calls[i].ready_at > 0)
                    resps[i].kind = GC_INTERRUPTED;
            break;
        }
        /* Sleep until there is socket activity or the nearest backoff ends. */
        now = now_seconds();
        for (i = 0; waiting > 0 && i < next; i++)
            if (calls[i].handle == NULL && calls[i].ready_at > 0 && calls[i].ready_at - now < wait_s)
                wait_s = calls[i].ready_at - now;
        if (next < n && in_flight < (size_t)concurrency)
            wait_s = 0;
        if (wait_s < 0)
            wait_s = 0;
        if (abort_flag != NULL && wait_s > 0.05)
            wait_s = 0.05;  /* notice Ctrl-C while calls wait on backoff */
        curl_multi_poll(multi, NULL, 0, (int)(wait_s * 1000.0), NULL);
    }
    if (progress)
        progress_line(done, n, start, 1);
    rc = 0;
cleanup:
    if (calls) {
        for (i = 0; i < n; i++) {
            if (calls[i].handle) {
                curl_multi_remove_handle(multi, calls[i].handle);
                release_handle(calls[i].handle);
                curl_easy_cleanup(calls[i].handle);
            }
        }
    }
    /* Keep up to pool_size handles (with their connections) for later calls. */
    while (n_idle > 0)
        checkin(client, idle[--n_idle]);
    if (multi)
        curl_multi_cleanup(multi);
    free(idle);
    free(calls);
    return rc;
}
