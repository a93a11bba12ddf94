/* http.c - gc_client: a lock-protected pool of reused libcurl easy handles,
 * and one call = attempts with retries, all under one deadline.
 *
 * Python-free: the binding releases the GIL around gc_client_perform and
 * gc_client_free.  Handles are reused LIFO, so sequential calls from one
 * thread keep one keep-alive connection.  After fork() the child abandons
 * (never closes or reuses) the parent's handles: see the atfork handlers.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "gc.h"

struct gc_client {
    gc_config cfg;
    pthread_mutex_t lock;          /* guards idle/n_idle */
    CURL **idle;
    int n_idle;
    struct curl_slist *headers;       /* for calls without a body */
    struct curl_slist *headers_json;  /* for calls with a JSON body */
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
} transfer_ctx;

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
    /* A new status line (e.g. after "100 Continue") starts a new header set. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        gc_buf_clear(&ctx->resp->headers);
    if (ctx->resp->headers.len + n > 65536)
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
    curl_easy_setopt(h, CURLOPT_USERAGENT, client->cfg.user_agent);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
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

gc_client *gc_client_new(const gc_config *config)
{
    gc_client *client = calloc(1, sizeof *client);
    struct curl_slist *tmp;

    if (client == NULL)
        goto error;
    client->cfg = *config;
    if (client->cfg.pool_size < 1)
        client->cfg.pool_size = 1;
    client->idle = calloc((size_t)client->cfg.pool_size, sizeof(CURL *));
    if (client->idle == NULL)
        goto error;
    pthread_mutex_init(&client->lock, NULL);

    /* "Expect:" stops libcurl waiting for 100-continue on larger bodies. */
    const char *common[] = {"Accept: application/json", "Expect:", client->cfg.auth_header};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        tmp = curl_slist_append(client->headers, common[i]);
        if (tmp == NULL)
            goto error_lock;
        client->headers = tmp;
        tmp = curl_slist_append(client->headers_json, common[i]);
        if (tmp == NULL)
            goto error_lock;
        client->headers_json = tmp;
    }
    /* A bodyless POST (activate) must not claim a form-encoded body. */
    tmp = curl_slist_append(client->headers, "Content-Type:");
    if (tmp == NULL)
        goto error_lock;
    client->headers = tmp;
    tmp = curl_slist_append(client->headers_json, "Content-Type: application/json");
    if (tmp == NULL)
        goto error_lock;
    client->headers_json = tmp;

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
        curl_slist_free_all(client->headers);
        curl_slist_free_all(client->headers_json);
        free(client->idle);
        free_config(&client->cfg);
        free(client);
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
    curl_slist_free_all(client->headers);
    curl_slist_free_all(client->headers_json);
    free(client->idle);
    free_config(&client->cfg);
    free(client);
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

static void sleep_seconds(double seconds)
{
    struct timespec req, rem;
    if (seconds <= 0)
        return;
    req.tv_sec = (time_t)seconds;
    req.tv_nsec = (long)((seconds - (double)req.tv_sec) * 1e9);
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}

static long ms_ceil(double seconds)
{
    long ms = (long)ceil(seconds * 1000.0);
    return ms < 1 ? 1 : ms;
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
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, has_body ? client->headers_json : client->headers);
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
                   double ms, gc_kind kind)
{
    if (log == NULL || log_len == NULL || *log_len >= log_cap)
        return;
    log[*log_len].attempt = attempt;
    log[*log_len].status = status;
    log[*log_len].ms = ms;
    log[*log_len].kind = kind;
    (*log_len)++;
}

int gc_client_perform(gc_client *client, const gc_request *req, gc_response *resp,
                      gc_attempt_log *log, int log_cap, int *log_len)
{
    const gc_config *cfg = &client->cfg;
    double start = now_seconds();
    double deadline = start + cfg->timeout;
    transfer_ctx ctx = {resp, cfg->max_response_bytes, 0};
    CURL *h;
    int attempt;

    if (log_len)
        *log_len = 0;
    resp->kind = GC_CONNECTION;
    resp->status = 0;
    resp->attempts = 0;
    resp->error[0] = '\0';

    h = checkout(client);
    if (h == NULL) {
        resp->kind = GC_NOMEM;
        snprintf(resp->error, sizeof resp->error, "could not create a libcurl handle");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ctx);
    set_method(h, client, req);
    /* A non-idempotent call goes on a fresh connection: on a reused one,
     * libcurl silently re-sends a request whose connection died unanswered,
     * which for register-store could register the store twice. */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, req->endpoint->idempotent ? 0L : 1L);

    for (attempt = 0;; attempt++) {
        double remaining = deadline - now_seconds();
        double attempt_start, delay, retry_after;
        CURLcode rc;
        int may_retry = attempt < cfg->max_retries;

        if (remaining <= 0) {
            resp->kind = GC_TIMEOUT;
            snprintf(resp->error, sizeof resp->error, "timed out after %.3g s (%d attempt%s)",
                     cfg->timeout, attempt, attempt == 1 ? "" : "s");
            break;
        }
        gc_buf_clear(&resp->body);
        gc_buf_clear(&resp->headers);
        ctx.too_large = 0;
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms_ceil(remaining));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         ms_ceil(cfg->connect_timeout < remaining ? cfg->connect_timeout : remaining));
        attempt_start = now_seconds();
        rc = curl_easy_perform(h);
        resp->attempts = attempt + 1;

        if (rc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
            if (resp->status >= 200 && resp->status < 300) {
                resp->kind = GC_OK;
                record(log, log_cap, log_len, attempt + 1, resp->status,
                       (now_seconds() - attempt_start) * 1000.0, GC_OK);
                break;
            }
            resp->kind = GC_STATUS;
            record(log, log_cap, log_len, attempt + 1, resp->status,
                   (now_seconds() - attempt_start) * 1000.0, GC_STATUS);
            if (!may_retry || !gc_status_retryable(resp->status, resp->body.data, resp->body.len))
                break;
            retry_after = gc_response_retry_after(resp);
            delay = gc_retry_delay(attempt, retry_after);
            /* Waiting past the deadline cannot succeed: fail now with this answer. */
            if (now_seconds() + delay >= deadline)
                break;
            sleep_seconds(delay);
            continue;
        }

        if (rc == CURLE_WRITE_ERROR && ctx.too_large) {
            resp->kind = GC_TOO_LARGE;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
            snprintf(resp->error, sizeof resp->error,
                     "response body larger than max_response_bytes (%zu bytes)", cfg->max_response_bytes);
            record(log, log_cap, log_len, attempt + 1, resp->status,
                   (now_seconds() - attempt_start) * 1000.0, GC_TOO_LARGE);
            break;
        }
        if (rc == CURLE_OUT_OF_MEMORY) {
            resp->kind = GC_NOMEM;
            snprintf(resp->error, sizeof resp->error, "out of memory");
            break;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT && now_seconds() >= deadline - 0.001) {
            resp->kind = GC_TIMEOUT;
            snprintf(resp->error, sizeof resp->error, "timed out after %.3g s (%d attempt%s)",
                     cfg->timeout, attempt + 1, attempt == 0 ? "" : "s");
            record(log, log_cap, log_len, attempt + 1, 0,
                   (now_seconds() - attempt_start) * 1000.0, GC_TIMEOUT);
            break;
        }
        resp->kind = GC_CONNECTION;
        resp->status = 0;
        snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(rc));
        record(log, log_cap, log_len, attempt + 1, 0, (now_seconds() - attempt_start) * 1000.0,
               GC_CONNECTION);
        if (!may_retry || !is_retryable_connection_error(rc))
            break;
        if (!failure_before_send(rc, h) && !req->endpoint->idempotent)
            break;
        delay = gc_retry_delay(attempt, -1);
        if (now_seconds() + delay >= deadline)
            break;
        sleep_seconds(delay);
    }

    /* Drop pointers into this call's memory before the handle is shared again. */
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    checkin(client, h);
    resp->elapsed = now_seconds() - start;
    return resp->kind == GC_OK ? 0 : -1;
}
