/* gc.h - the one internal header of gettcommerce's C core.
 *
 * Two layers: a Python-free core (buf.c, headers.c, endpoints.c, retry.c,
 * pool.c, transfer.c, multi.c, catalog.c) that takes and returns C structs,
 * and a thin binding (module.c, client_py.c, convert.c, interrupt.c,
 * catalog_py.c) that converts to and from Python.  Every non-static symbol
 * starts with gc_.  Nothing in the Python-free core includes Python.h, so
 * it can be fuzzed and tested from plain C (fuzz/).
 */
#ifndef GC_H
#define GC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

/* ------------------------------------------------------------------ */
/* Python-free core                                                    */
/* ------------------------------------------------------------------ */

/* Growable byte buffer (buf.c). data is always NUL-terminated when len>0. */
typedef struct gc_buf {
    char *data;
    size_t len;
    size_t cap;
} gc_buf;

int gc_buf_reserve(gc_buf *b, size_t extra);           /* 0 ok, -1 ENOMEM */
int gc_buf_append(gc_buf *b, const void *p, size_t n);  /* 0 ok, -1 ENOMEM */
int gc_buf_append_str(gc_buf *b, const char *s);
void gc_buf_clear(gc_buf *b);                          /* len = 0, keeps memory */
void gc_buf_free(gc_buf *b);

/* Overwrite n bytes with zeros in a way the compiler cannot drop (buf.c):
 * for copies of the API key before their memory is freed. */
void gc_secure_zero(void *p, size_t n);

/* A string slice: not NUL-terminated, may hold NUL. */
typedef struct gc_str {
    const char *data;
    size_t len;
} gc_str;

/* JSON parsing (buf.c).  cJSON stops at depth CJSON_NESTING_LIMIT and its
 * strings are C strings, so a NUL (raw or \u0000) would be truncated:
 * gc_json_parse refuses those, and bytes after the document, and says why. */
typedef enum gc_json_problem {
    GC_JSON_OK = 0,
    GC_JSON_SYNTAX,        /* not JSON (or truncated) */
    GC_JSON_TOO_DEEP,      /* nested more than CJSON_NESTING_LIMIT levels */
    GC_JSON_NUL,           /* a NUL byte or \u0000 inside a string */
    GC_JSON_TRAILING       /* something after the document */
} gc_json_problem;

typedef struct gc_json_error {
    gc_json_problem problem;
    size_t offset;         /* byte offset of the problem in the text */
} gc_json_error;

cJSON *gc_json_parse_ex(const char *data, size_t len, gc_json_error *error);
/* The catalog validator's parse: the same, except that NULs are left to
 * cJSON (the validator's own rule), reporting only where it failed. */
cJSON *gc_json_parse(const char *data, size_t len, size_t *error_offset);
/* "not valid JSON", "nested more than 1000 levels deep", ... */
const char *gc_json_problem_text(gc_json_problem problem);

/* ---- raw header lines (headers.c): the one header walker ---------- */

/* Call fn(arg, name, value) for every "Name: value" line of raw header
 * text (status lines skipped, the value trimmed of blanks and CR).  Stops
 * early and returns fn's value when it is not 0; else returns 0. */
typedef int (*gc_header_fn)(void *arg, gc_str name, gc_str value);
int gc_headers_each(const char *headers, size_t len, gc_header_fn fn, void *arg);
/* The value of the first header called `name` (case-insensitive): 1 found, 0 not. */
int gc_header_find(const char *headers, size_t len, const char *name, gc_str *value);

/* ---- CatalogSet validator (catalog.c) ---------------------------- */

typedef enum gc_severity { GC_SEV_ERROR = 0, GC_SEV_WARNING = 1 } gc_severity;

typedef struct gc_issue {
    char *code;      /* e.g. "dangling_reference" */
    char *path;      /* JSON Pointer, e.g. "/sections/s1/itemIds/2" */
    char *message;   /* names the offending id and what to do */
    gc_severity severity;
} gc_issue;

typedef struct gc_issue_list {
    gc_issue *items;
    size_t len;
    size_t cap;
} gc_issue_list;

void gc_issue_list_free(gc_issue_list *list);

/* Validate raw JSON bytes / an already-parsed tree.  Append every issue
 * to out.  Return 0 on success (issues or not), -1 on out-of-memory. */
int gc_catalog_validate_json(const char *data, size_t len, gc_issue_list *out);
int gc_catalog_validate_tree(const cJSON *root, gc_issue_list *out);

/* ---- endpoints and URLs (endpoints.c) ----------------------------- */

typedef enum gc_endpoint_id {
    GC_EP_NOTIFY_CATALOG = 0,
    GC_EP_LIST_STORES,
    GC_EP_GET_STORE,
    GC_EP_UPDATE_STORE,
    GC_EP_GET_STORE_STATUS,
    GC_EP_SET_STORE_STATUS,
    GC_EP_ORDER_STATUS,
    GC_EP_REGISTER_STORE,
    GC_EP_GET_ONBOARDING,
    GC_EP_CANCEL_ONBOARDING,
    GC_EP_ACTIVATE_STORE,
    GC_EP_COUNT
} gc_endpoint_id;

typedef struct gc_endpoint {
    const char *name;      /* "get_store" */
    const char *method;    /* "GET" */
    const char *path;      /* "/v1/commerce/stores/{}"; each {} is one path param */
    int n_params;
    const char *param;     /* Python name of the path parameter, for errors */
    long success;          /* documented success status (any 2xx accepted) */
    int idempotent;        /* retried after the request may have reached Gett */
} gc_endpoint;

extern const gc_endpoint gc_endpoints[GC_EP_COUNT];

/* Validate one path parameter: non-empty, not "." or "..", no '/', CR, LF
 * or NUL.  Returns NULL when fine, else a static reason string. */
const char *gc_path_param_problem(const char *value, size_t len);

/* Append value percent-encoded (RFC 3986 unreserved kept) to b. */
int gc_percent_encode(gc_buf *b, const char *value, size_t len);

/* url = base + the endpoint's path with params[i] percent-encoded into its
 * {} + "?k=v&..." for the n_query pairs query[2i] = query[2i + 1], all
 * encoded.  base is
 * used as given.  Returns 0; -1 out of memory; or 1 when params[*bad] is
 * refused, with *problem the reason (gc_path_param_problem). */
int gc_build_url(gc_buf *url, gc_str base, const gc_endpoint *ep, const gc_str *params,
                 const gc_str *query, size_t n_query, size_t *bad, const char **problem);

/* ---- retry policy (retry.c) --------------------------------------- */

/* Delay before retry n (0-based) in seconds: the server's retry_after when
 * >= 0 (honoured as given; the caller bounds it by the call's deadline),
 * else 0.5 s * 2^n with up to 25% jitter, the exponential part capped at 8 s. */
double gc_retry_delay(int n, double retry_after);
/* 429/500/502/503/504, or a problem body (parsed: may be NULL) saying
 * "retryable": true. */
int gc_status_retryable(long status, const cJSON *problem);
/* Seconds the server asks to wait, or -1: the problem body's retryAfter
 * (Gett's documented field) else the Retry-After header, delta-seconds or
 * an HTTP-date (relative to now). */
double gc_retry_after(const cJSON *problem, const char *headers, size_t len, time_t now);
/* One Retry-After header value -> seconds, or -1 when unusable. */
double gc_retry_after_value(gc_str value, time_t now);

/* ---- HTTP transport (pool.c, transfer.c, multi.c) ----------------- */

/* Outcome kinds; the binding names them for TransportError.kind. */
typedef enum gc_kind {
    GC_OK = 0,          /* 2xx with a usable body */
    GC_STATUS = 1,      /* non-2xx answer */
    GC_TIMEOUT = 2,     /* deadline passed */
    GC_CONNECTION = 3,  /* no (usable) HTTP answer */
    GC_TOO_LARGE = 4,   /* body over max_response_bytes */
    GC_NOMEM = 5,
    GC_INTERRUPTED = 6, /* a signal handler raised while the call was in flight */
    GC_DECODE = 7,      /* 2xx whose body is not usable JSON (json_error says why) */
    GC_NOT_RUN = 8      /* a batch call never started */
} gc_kind;

typedef struct gc_config {
    char *base_url;            /* used as given (the Python layer normalises it) */
    char *auth_header;         /* "Authorization: Bearer ..." (secret) */
    char *user_agent;
    char *ca_bundle;           /* NULL: system default */
    char *proxy;               /* NULL: from the environment (https only); "": none */
    double timeout;            /* whole call, retries included, seconds */
    double connect_timeout;
    int max_retries;
    size_t max_response_bytes;
    int pool_size;             /* max idle easy handles kept */
} gc_config;

/* Signals during a call.  While the GIL is released, the core calls
 * check(arg) from the waiting thread at most every GC_CHECK_EVERY seconds
 * (during a transfer, a backoff sleep and the batch loop); the binding
 * takes the GIL there and runs Python's signal handlers.  check returns
 * non-zero when a handler raised: the call stops (GC_INTERRUPTED). */
#define GC_CHECK_EVERY 0.02
typedef struct gc_interrupt {
    int (*check)(void *arg);
    void *arg;
    double next;               /* monotonic time of the next check */
    int fired;
} gc_interrupt;

/* Per-call settings of a with_options() copy (gc_options_new, transfer.c):
 * the client's configuration with timeout, connect_timeout and max_retries
 * replaced (no strings: those stay the client's), and the client's three
 * header lists with the extra headers added. */
struct curl_slist;
typedef struct gc_options {
    gc_config cfg;
    struct curl_slist *lists[3];   /* no body, bodyless POST, JSON body */
} gc_options;

typedef struct gc_request {
    const gc_endpoint *endpoint;
    const char *url;           /* absolute, already encoded */
    const char *body;          /* NULL: no body */
    size_t body_len;
    const gc_options *options; /* NULL: the client's settings */
    int all_headers;           /* keep a 2xx answer's headers too (raw responses, attempt hook) */
} gc_request;

typedef struct gc_response {
    gc_kind kind;
    long status;
    int attempts;
    int ambiguous;             /* an earlier attempt may have reached Gett (then retried) */
    double retry_after;        /* seconds the last answer asked to wait, or -1 */
    gc_buf body;
    gc_buf headers;            /* raw header lines of the last non-2xx answer (any answer
                                * when the request asked for all_headers) */
    cJSON *json;               /* the last answer's body parsed once, or NULL */
    gc_json_error json_error;  /* why a non-empty body did not parse */
    char error[256];           /* transport error text */
} gc_response;

/* One HTTP attempt, for the log and attempt hooks (called by the binding afterwards). */
typedef struct gc_attempt_log {
    size_t call;               /* index of the call in a batch (0 for a single call) */
    int attempt;               /* 1-based */
    long status;               /* 0: no answer */
    double ms;
    double start;              /* gc_now() when the attempt began */
    gc_kind kind;              /* how it ended (GC_OK, GC_STATUS, GC_CONNECTION, ...) */
    char request_id[256];      /* its answer's X-Request-Id ("" none, or headers not kept;
                                * a longer one is cut to 255 bytes) */
    char error[128];           /* what went wrong without an answer ("" none) */
} gc_attempt_log;

/* Grows as needed; items may start as caller memory (owned 0), which is
 * copied to the heap when it fills up.  Free items when owned. */
typedef struct gc_attempt_list {
    gc_attempt_log *items;
    size_t len;
    size_t cap;
    int owned;
} gc_attempt_list;

typedef struct gc_client gc_client;

gc_client *gc_client_new(const gc_config *config);      /* takes ownership of config strings */
void gc_client_free(gc_client *client);
int gc_client_idle_handles(gc_client *client);
/* The proxy the client's transfers use ("" none), for tests and repr. */
const char *gc_client_proxy(const gc_client *client);
/* Incremented in the child after every fork(): the binding's in-flight
 * counts belong to the process generation that started the calls. */
unsigned gc_fork_generation(void);
/* 2xx answers whose headers were copied in this process (transfer.c). */
unsigned long gc_success_headers_kept(void);

/* One call (attempts, backoff, deadline).  0 when resp->kind is GC_OK. */
int gc_client_perform(gc_client *client, const gc_request *req, gc_response *resp,
                      gc_attempt_list *log, gc_interrupt *interrupt);
void gc_response_free(gc_response *resp);
/* A with_options() copy's settings: the client's, with these replaced and
 * the n_extra "Name: value" lines added to every request (a line replaces a
 * client line of the same name).  NULL out of memory.  Free with
 * gc_options_free (which zeroes the copied Authorization lines). */
gc_options *gc_options_new(const gc_client *client, double timeout, double connect_timeout,
                           int max_retries, const char *const *extra, size_t n_extra);
void gc_options_free(gc_options *options);
/* Run n calls with up to `concurrency` in flight on one curl_multi, each
 * with the retries and deadline of a single call.  Attempts are appended
 * to log with their call index.  0, or -1 on out-of-memory. */
int gc_client_perform_batch(gc_client *client, const gc_request *reqs, gc_response *resps,
                            size_t n, int concurrency, int progress, gc_attempt_list *log,
                            gc_interrupt *interrupt);

/* ---- transport internals (pool.c, transfer.c, multi.c only) ------ */
#ifdef GC_TRANSPORT_INTERNAL
#include <pthread.h>
#include <curl/curl.h>

/* What a client's easy handles share through libcurl's share interface:
 * the TLS session cache (a new connection resumes instead of a full
 * handshake) and the DNS cache, each kind behind its own mutex. */
typedef struct gc_share {
    CURLSH *sh;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
} gc_share;

struct gc_client {
    gc_config cfg;                    /* cfg.proxy resolved: never NULL */
    gc_share *share;                  /* NULL: nothing shared (out of memory after a fork) */
    char *noproxy;                    /* hosts that bypass the proxy ("" none) */
    pthread_mutex_t lock;             /* guards idle/n_idle */
    CURL **idle;
    int n_idle;
    struct curl_slist *headers;       /* GET, DELETE: no body */
    struct curl_slist *headers_empty; /* a POST without a body (activate) */
    struct curl_slist *headers_json;  /* calls with a JSON body */
    struct gc_handle_state **idle_state; /* idle[i]'s sequential-path state, or NULL */
    struct gc_client *prev, *next;    /* registry, for fork handling */
};

/* The settings a request runs with: its options', else its client's. */
static inline const gc_config *gc_request_config(const gc_client *client, const gc_request *req)
{
    return req->options != NULL ? &req->options->cfg : &client->cfg;
}

/* What libcurl's callbacks of one in-flight call write to. */
typedef struct gc_transfer {
    gc_response *resp;
    size_t max_bytes;
    int too_large;
    int nomem;                        /* a callback could not grow a buffer */
    int keep_headers;                 /* the status line was not 2xx: errors report headers */
    int all_headers;                  /* keep 2xx headers too (gc_request.all_headers) */
    gc_interrupt *interrupt;          /* NULL: nothing to watch */
    char curl_error[CURL_ERROR_SIZE];
} gc_transfer;

/* What the sequential path (gc_client_perform) last set on one of its
 * pooled handles, so that a call sets only the options whose values differ
 * from the previous call's on that handle (each curl_easy_setopt is work
 * libcurl does per call).  The callbacks' data is the state's own transfer
 * record, set once: the state lives as long as its handle (transfer.c). */
typedef struct gc_handle_state {
    gc_transfer t;
    char *url;                        /* CURLOPT_URL last set (a copy), or NULL */
    size_t url_cap;
    const char *custom;               /* CURLOPT_CUSTOMREQUEST (an endpoint's method) or NULL */
    const struct curl_slist *headers; /* CURLOPT_HTTPHEADER */
    const char *postfields;           /* CURLOPT_POSTFIELDS, or NULL */
    curl_off_t postsize;              /* CURLOPT_POSTFIELDSIZE_LARGE */
    long timeout_ms, connect_ms;      /* CURLOPT_TIMEOUT_MS, CURLOPT_CONNECTTIMEOUT_MS (-1 unset) */
    long fresh, noprogress;           /* CURLOPT_FRESH_CONNECT, CURLOPT_NOPROGRESS */
    int post;                         /* libcurl's method is POST (else GET) */
} gc_handle_state;

/* pool.c */
CURL *gc_handle_new(gc_client *client);
/* A pooled handle (or a new one) and its sequential-path state (NULL: none yet). */
CURL *gc_handle_checkout(gc_client *client, gc_handle_state **state);
void gc_handle_checkin(gc_client *client, CURL *h);
/* Back to the pool with its state (freed with the handle when not kept). */
void gc_handle_checkin_state(gc_client *client, CURL *h, gc_handle_state *state);
/* transfer.c: a handle's sequential-path state (NULL out of memory), and its end. */
gc_handle_state *gc_handle_state_new(CURL *h);
void gc_handle_state_free(gc_handle_state *state);
/* transfer.c: the steps a single call and the batch engine share. */
double gc_now(void);
int gc_interrupted(gc_interrupt *ir);
void gc_response_reset(gc_response *resp, gc_kind kind);
void gc_transfer_configure(CURL *h);
void gc_transfer_prepare(gc_client *client, CURL *h, const gc_request *req, gc_transfer *t);
void gc_transfer_release(CURL *h);
int gc_attempt_begin(const gc_config *cfg, CURL *h, gc_transfer *t, double deadline, int attempt);
double gc_attempt_end(const gc_config *cfg, const gc_request *req, CURL *h, CURLcode rc,
                      gc_transfer *t, int attempt, double attempt_start, double deadline,
                      gc_attempt_list *log, size_t call);
#endif /* GC_TRANSPORT_INTERNAL */

#ifdef GC_TRANSPORT_INTERNAL
/* ---- the asyncio engine's Python-free part (aio.c) ----------------
 * One curl_multi driven by an event loop through libcurl's multi_socket
 * API: libcurl's socket, timer and close-socket callbacks only RECORD
 * what the loop must watch (ops), when to call back (timer_ms) and which
 * sockets to close (closes); the binding (aio_py.c) applies them to the
 * loop after each step, with the GIL held, and closes a socket only after
 * it stopped watching it (so a reused fd number never meets a stale
 * registration).  Retries follow transfer.c's gc_attempt_end; the wait
 * before a retry is the loop's (the binding schedules gc_aio_retry). */
#define GC_AIO_READ 1
#define GC_AIO_WRITE 2
#define GC_AIO_STALE 4   /* still watched for reading though libcurl no longer asks (binding) */
#define GC_AIO_CONN 8    /* a connection socket libcurl made (closed through on_close) */
#define GC_AIO_LOG_INLINE 4

typedef enum gc_aio_state {
    GC_AIO_NEW = 0,
    GC_AIO_QUEUED,      /* waiting for a free slot (max_concurrency) */
    GC_AIO_RUNNING,     /* on a handle in the multi */
    GC_AIO_BACKOFF,     /* waiting `delay` s before the next attempt */
    GC_AIO_FINISHED,    /* resp holds the outcome */
    GC_AIO_CANCELLED
} gc_aio_state;

typedef struct gc_aio_call {
    gc_request req;
    gc_response resp;
    gc_transfer t;
    CURL *handle;
    double deadline, attempt_start, delay;
    int attempt;
    gc_aio_state state;
    struct gc_aio_call *prev, *next;  /* queue, or the list of calls to report */
    gc_attempt_log log_inline[GC_AIO_LOG_INLINE];
    gc_attempt_list log;
} gc_aio_call;

typedef struct gc_aio_op {
    int fd;
    int want;           /* GC_AIO_READ | GC_AIO_WRITE, 0: stop watching */
} gc_aio_op;

typedef struct gc_aio {
    gc_client *client;
    CURLM *multi;
    int max_concurrency, in_flight, n_idle;
    CURL **idle;
    gc_aio_call *queue_head, *queue_tail;   /* GC_AIO_QUEUED, in call order */
    gc_aio_call *report_head, *report_tail; /* FINISHED or BACKOFF, for the binding */
    gc_aio_op *ops;
    size_t n_ops, cap_ops;
    int *closes;
    size_t n_closes, cap_closes;
    unsigned char *watched;                 /* per fd: what the loop watches now */
    size_t n_watched;
    long timer_ms;                          /* libcurl's last timer request */
    int timer_changed;
} gc_aio;

gc_aio *gc_aio_new(gc_client *client, int max_concurrency);
/* Start the call (or queue it when max_concurrency transfers are in flight). */
void gc_aio_submit(gc_aio *aio, gc_aio_call *call);
/* fd readable/writable (events: CURL_CSELECT_*), or fd < 0: libcurl's timer. */
void gc_aio_step(gc_aio *aio, int fd, int events);
/* A call's backoff ended: run its next attempt (first in line for a slot). */
void gc_aio_retry(gc_aio *aio, gc_aio_call *call);
/* Stop the call now, wherever it is (queue, multi, backoff): never retried. */
void gc_aio_cancel(gc_aio *aio, gc_aio_call *call);
/* The next call whose attempt ended (FINISHED, or BACKOFF with ->delay), or NULL. */
gc_aio_call *gc_aio_take_report(gc_aio *aio);
/* When libcurl wants gc_aio_step(aio, -1, 0): in ms from now (0: at once), or -1
 * never.  Asked after every step rather than trusted from the timer callback
 * alone: libcurl reports a timeout once, and a loop timer kept because it
 * fires earlier would otherwise leave the later one unscheduled. */
long gc_aio_timeout(gc_aio *aio);
/* Close the multi (its connections' sockets land in closes) and the handles. */
void gc_aio_shutdown(gc_aio *aio);
/* Free what is left; close_fds: close sockets still listed (not in a fork child). */
void gc_aio_free(gc_aio *aio, int close_fds);
/* What the loop watches on fd (the binding keeps it current). */
int gc_aio_watched(const gc_aio *aio, int fd);
int gc_aio_set_watched(gc_aio *aio, int fd, int want);
#endif /* GC_TRANSPORT_INTERNAL (aio) */

/* ------------------------------------------------------------------ */
/* Binding (only seen by files that include Python.h first)            */
/* ------------------------------------------------------------------ */
#ifdef Py_PYTHON_H

typedef struct gc_module_state {
    PyTypeObject *client_type;     /* _core.Client (client_py.c) */
    PyObject *transport_error;     /* _core.TransportError */
    PyObject *logger_hook;         /* None or callable(method, url, status, ms, attempt) */
    PyObject *local_error;         /* _core.LocalError(ValueError): a refusal of our own */
    PyObject *closed_error;        /* _core.ClientClosedError(LocalError, RuntimeError) */
} gc_module_state;

gc_module_state *gc_module_state_of(PyObject *module);
extern struct PyModuleDef gc_core_module;                 /* module.c */

/* JSON <-> Python (convert.c).  Both set a Python exception on failure;
 * gc_py_to_cjson names the offending value by its path (body['items'][2]).
 * keep_numbers=0 (request bodies) refuses NaN, infinities and ints beyond
 * 2**53; keep_numbers=1 (the validator) keeps them, and Decimals, so they
 * can be reported as issues. */
PyObject *gc_cjson_to_py(const cJSON *item);
/* _core.ModelReader (convert.c): read(raw, request) building a model of
 * slots.  gc_reader_from_cjson builds it from the parsed answer itself
 * (params: the call's path parameters): a new reference; NULL with an
 * exception set on failure; NULL without one when the answer is not the
 * plain case (the caller converts it as usual and the reader reads that). */
int gc_reader_type_init(PyObject *module);
int gc_is_reader(PyObject *obj);
PyObject *gc_reader_from_cjson(PyObject *reader, const cJSON *json, PyObject *params);
cJSON *gc_py_to_cjson(PyObject *obj, const char *what, int keep_numbers);

/* The pending exception, taken (NULL if none) / given back (interrupt.c):
 * PyErr_GetRaisedException on 3.12+, PyErr_Fetch before. */
PyObject *gc_take_exception(void);
void gc_give_exception(PyObject *exc);

/* Signal handling while the GIL is released (interrupt.c).  On the main
 * thread, gc_signals_release releases the GIL and arms `ir` so the core
 * runs Python's signal handlers during the call; elsewhere it only
 * releases the GIL (ir->check NULL).  gc_signals_acquire takes the GIL
 * back and returns the exception a handler raised (new reference), or NULL. */
typedef struct gc_signals {
    gc_interrupt ir;
    PyThreadState *tstate;
    PyObject *raised;
} gc_signals;
void gc_signals_release(gc_signals *s);
PyObject *gc_signals_acquire(gc_signals *s);
int gc_interrupt_init(void);

/* Shared with the asyncio engine (client_py.c, used by aio_py.c).  A
 * gc_py_call is one call's arguments in C memory (URL, body), as request()
 * prepares them; acquire counts an engine as a call in flight on the
 * _core.Client `obj` (so close() cannot free the gc_client under it). */
typedef struct gc_py_call gc_py_call;
gc_client *gc_py_client_acquire(PyObject *obj, unsigned *generation);
void gc_py_client_release(PyObject *obj, gc_client *client, unsigned generation);
/* options: None or a capsule from _core.Client.options(); raw: truthy for
 * a raw response ((value, status, headers, attempts) on success). */
gc_py_call *gc_py_call_prepare(PyObject *obj, PyObject *endpoint, PyObject *params, PyObject *query,
                               PyObject *body, PyObject *options, PyObject *raw, gc_request *req);
void gc_py_call_free(gc_py_call *call);
/* The log hook for each attempt, then the value (new reference) or NULL
 * with *error the TransportError; NULL without *error: exception set. */
PyObject *gc_py_call_outcome(PyObject *obj, const gc_py_call *call, const gc_response *resp,
                             const gc_attempt_list *log, PyObject **error);
int gc_aio_type_init(PyObject *module, gc_module_state *state);  /* aio_py.c */

/* Module pieces, each defined in its own file and added by module.c. */
extern PyMethodDef gc_catalog_methods[];                  /* catalog_py.c */
int gc_client_type_init(PyObject *module, gc_module_state *state); /* client_py.c */

#endif /* Py_PYTHON_H */

#endif /* GC_H */
