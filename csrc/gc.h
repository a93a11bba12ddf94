/* gc.h - the one internal header of gettcommerce's C core.
 *
 * Two layers: a Python-free core (http.c, endpoints.c, retry.c, problem.c,
 * catalog.c, buf.c) that takes and returns C structs, and a thin binding
 * (module.c, client_py.c, convert.c, catalog_py.c) that converts to Python.
 * Every non-static symbol starts with gc_.  Nothing under "Python-free
 * core" may include Python.h, so it can be fuzzed and tested from plain C.
 */
#ifndef GC_H
#define GC_H

#include <stddef.h>
#include <stdint.h>

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

/* JSON parsing with a private end pointer (never cJSON_GetErrorPtr, which
 * is a process global) and a depth check before cJSON's own nesting cap.
 * On failure returns NULL and sets *error_offset to the byte offset. */
cJSON *gc_json_parse(const char *data, size_t len, size_t *error_offset);

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

/* ---- HTTP transport (http.c, endpoints.c, retry.c, problem.c) ----- */

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

/* Validate one path parameter: non-empty, no '/', CR, LF or NUL.
 * Returns NULL when fine, else a static reason string. */
const char *gc_path_param_problem(const char *value, size_t len);

/* Append value percent-encoded (RFC 3986 unreserved kept) to b. */
int gc_percent_encode(gc_buf *b, const char *value, size_t len);

/* Transfer outcome kinds. */
typedef enum gc_kind {
    GC_OK = 0,          /* 2xx */
    GC_STATUS = 1,      /* non-2xx answer */
    GC_TIMEOUT = 2,     /* deadline passed */
    GC_CONNECTION = 3,  /* no HTTP answer */
    GC_TOO_LARGE = 4,   /* body over max_response_bytes */
    GC_NOMEM = 5,
    GC_INTERRUPTED = 6  /* *abort_flag was set (Ctrl-C on the main thread) */
} gc_kind;

typedef struct gc_config {
    char *base_url;            /* no trailing slash */
    char *auth_header;         /* "Authorization: Bearer ..." (secret) */
    char *user_agent;
    char *ca_bundle;           /* NULL: system default */
    double timeout;            /* whole call, retries included, seconds */
    double connect_timeout;
    int max_retries;
    size_t max_response_bytes;
    int pool_size;             /* max idle easy handles kept */
} gc_config;

typedef struct gc_request {
    const gc_endpoint *endpoint;
    const char *url;           /* absolute, already encoded */
    const char *body;          /* NULL: no body */
    size_t body_len;
    volatile int *abort_flag;  /* NULL, or set asynchronously to stop the call */
} gc_request;

typedef struct gc_response {
    gc_kind kind;
    long status;
    gc_buf body;
    gc_buf headers;            /* raw header lines of the last response */
    int attempts;
    char error[256];           /* transport error text for CONNECTION/TIMEOUT */
} gc_response;

typedef struct gc_client gc_client;

/* Per-attempt observer, called without the GIL from the performing thread;
 * used by the binding to log after the call (it only records into C memory). */
typedef struct gc_attempt_log {
    int attempt;
    long status;
    double ms;
} gc_attempt_log;

gc_client *gc_client_new(const gc_config *config);      /* takes ownership of config strings */
void gc_client_free(gc_client *client);
int gc_client_perform(gc_client *client, const gc_request *req, gc_response *resp,
                      gc_attempt_log *log, int log_cap, int *log_len);
void gc_response_free(gc_response *resp);
/* Run n calls with up to `concurrency` in flight on one curl_multi, each with
 * the retries and deadline of a single call.  0, or -1 on out-of-memory. */
int gc_client_perform_batch(gc_client *client, const gc_request *reqs, gc_response *resps,
                            size_t n, int concurrency, int progress);
int gc_client_idle_handles(gc_client *client);

/* Delay before retry n (0-based) in seconds: exponential with jitter, or
 * the server's retry-after when >= 0; capped at 8 s (retry.c). */
double gc_retry_delay(int n, double retry_after);
int gc_status_retryable(long status, const char *body, size_t body_len);
/* Retry-After from raw header lines (seconds) or -1. */
double gc_header_retry_after(const char *headers, size_t len);
double gc_response_retry_after(const gc_response *resp);

/* ------------------------------------------------------------------ */
/* Binding (only seen by files that include Python.h first)            */
/* ------------------------------------------------------------------ */
#ifdef Py_PYTHON_H

typedef struct gc_module_state {
    PyTypeObject *client_type;     /* _core.Client (client_py.c) */
    PyObject *transport_error;     /* _core.TransportError */
    PyObject *logger_hook;         /* None or callable(method, url, status, ms, attempt) */
} gc_module_state;

gc_module_state *gc_module_state_of(PyObject *module);
extern struct PyModuleDef gc_core_module;                 /* module.c */

/* JSON <-> Python (convert.c).  Both set a Python exception on failure;
 * gc_py_to_cjson names the offending value by its path (body['items'][2]).
 * keep_numbers=0 (request bodies) refuses NaN, infinities and ints beyond
 * 2**53; keep_numbers=1 (the validator) keeps them, and Decimals, so they
 * can be reported as issues. */
PyObject *gc_cjson_to_py(const cJSON *item);
cJSON *gc_py_to_cjson(PyObject *obj, const char *what, int keep_numbers);

/* Ctrl-C during a call (interrupt.c): on the main thread, returns a flag a
 * chained SIGINT handler sets, for gc_request.abort_flag; else NULL. */
volatile int *gc_interrupt_arm(void);
int gc_interrupt_init(void);

/* Module pieces, each defined in its own file and added by module.c. */
extern PyMethodDef gc_catalog_methods[];                  /* catalog_py.c */
int gc_client_type_init(PyObject *module, gc_module_state *state); /* client_py.c */

#endif /* Py_PYTHON_H */

#endif /* GC_H */
