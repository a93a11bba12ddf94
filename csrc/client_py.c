/* client_py.c - _core.Client: the Python face of gc_client.
 *
 * Only conversions live here: arguments become C strings (owned while
 * any Python code can run), the core (pool.c, transfer.c, multi.c) runs
 * the call with the GIL released, and its C outcome becomes a value or
 * the one low-level TransportError that gettcommerce.errors maps to the
 * public tree.  URLs, header parsing, JSON parsing, retries and
 * Retry-After are the core's.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gc.h"

#define GC_LOG_INLINE 8      /* attempts of a single call logged without malloc */
#define GC_QUERY_INLINE 8    /* query parameters converted without malloc */

typedef struct {
    PyObject_HEAD
    gc_client *client;     /* NULL once closed and freed */
    PyObject *base_url;    /* str, for repr */
    int inflight;          /* calls running without the GIL (guarded by the GIL) */
    unsigned generation;   /* gc_fork_generation() that `inflight` counts calls of */
    int closed;
    PyObject *attempt_hook; /* NULL, or called once per HTTP attempt (on_attempt) */
} CoreClient;

#define GC_OPTIONS_CAPSULE "gettcommerce._core.options"

static gc_module_state *state_of_type(PyTypeObject *type)
{
    PyObject *module = PyType_GetModuleByDef(type, &gc_core_module);
    return module ? gc_module_state_of(module) : NULL;
}

/* ------------------------------------------------------------ init */

/* UTF-8 of a str argument that goes into a header or URL: no CR, LF, NUL. */
static const char *header_text(PyObject *obj, const char *what, Py_ssize_t *len)
{
    const char *s;

    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(obj, len);
    if (s == NULL)
        return NULL;
    if ((size_t)*len != strlen(s) || strpbrk(s, "\r\n") != NULL) {
        PyErr_Format(PyExc_ValueError, "%s must not contain CR, LF or NUL", what);
        return NULL;
    }
    return s;
}

static char *dup_text(PyObject *obj, const char *what)
{
    Py_ssize_t len;
    const char *s = header_text(obj, what, &len);
    char *copy;

    if (s == NULL)
        return NULL;
    copy = malloc((size_t)len + 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(copy, s, (size_t)len + 1);
    return copy;
}

/* "Authorization: Bearer <key>" in one allocation (a growing buffer would
 * leave copies of the key in memory realloc freed). */
static char *auth_header(PyObject *api_key)
{
    static const char prefix[] = "Authorization: Bearer ";
    Py_ssize_t len;
    const char *key = header_text(api_key, "api_key", &len);
    char *header;

    if (key == NULL)
        return NULL;
    header = malloc(sizeof prefix + (size_t)len);
    if (header == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(header, prefix, sizeof prefix - 1);
    memcpy(header + sizeof prefix - 1, key, (size_t)len + 1);
    return header;
}

static int as_double(PyObject *obj, const char *what, double *out)
{
    *out = PyFloat_AsDouble(obj);
    if (*out == -1.0 && PyErr_Occurred())
        return -1;
    if (!(*out > 0) || !isfinite(*out)) {
        PyErr_Format(PyExc_ValueError, "%s must be finite and > 0", what);
        return -1;
    }
    return 0;
}

static int as_int(PyObject *obj, const char *what, long min, long *out)
{
    *out = PyLong_AsLong(obj);
    if (*out == -1 && PyErr_Occurred())
        return -1;
    if (*out < min || *out > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "%s must be between %ld and %d", what, min, INT_MAX);
        return -1;
    }
    return 0;
}

static int client_init(CoreClient *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"base_url", "api_key", "user_agent", "timeout", "connect_timeout",
                             "max_retries", "max_response_bytes", "ca_bundle", "pool_size", "proxy",
                             NULL};
    PyObject *base_url, *api_key, *user_agent, *kw[7] = {NULL};
    long max_retries = 0, pool_size = 0;
    Py_ssize_t max_bytes = 0;
    gc_config cfg;
    int i, rc = -1;

    memset(&cfg, 0, sizeof cfg);
    if (self->client != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Client.__init__ called twice");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UUU|$OOOOOOO:Client", kwlist, &base_url, &api_key,
                                     &user_agent, &kw[0], &kw[1], &kw[2], &kw[3], &kw[4], &kw[5],
                                     &kw[6]))
        return -1;
    /* Every setting is required: the defaults live once, in gettcommerce/_constants.py. */
    for (i = 0; i < 7; i++) {
        if (kw[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "Client() missing required keyword-only argument: '%s'",
                         kwlist[3 + i]);
            return -1;
        }
    }
    if (as_double(kw[0], "timeout", &cfg.timeout) < 0 ||
        as_double(kw[1], "connect_timeout", &cfg.connect_timeout) < 0 ||
        as_int(kw[2], "max_retries", 0, &max_retries) < 0 ||
        as_int(kw[5], "pool_size", 1, &pool_size) < 0)
        return -1;
    max_bytes = PyNumber_AsSsize_t(kw[3], PyExc_OverflowError);
    if (max_bytes == -1 && PyErr_Occurred())
        return -1;
    if (max_bytes <= 0) {
        PyErr_SetString(PyExc_ValueError, "max_response_bytes must be > 0");
        return -1;
    }
    cfg.base_url = dup_text(base_url, "base_url");
    if (cfg.base_url == NULL)
        goto done;
    /* A '?' or '#' in the base would swallow every path appended to it. */
    if (strpbrk(cfg.base_url, "?#") != NULL) {
        PyErr_SetString(PyExc_ValueError, "base_url must not contain '?' or '#'");
        goto done;
    }
    cfg.auth_header = auth_header(api_key);
    if (cfg.auth_header == NULL)
        goto done;
    cfg.user_agent = dup_text(user_agent, "user_agent");
    if (cfg.user_agent == NULL)
        goto done;
    if (kw[4] != Py_None && (cfg.ca_bundle = dup_text(kw[4], "ca_bundle")) == NULL)
        goto done;
    if (kw[6] != Py_None) {
        cfg.proxy = dup_text(kw[6], "proxy");
        if (cfg.proxy == NULL)
            goto done;
        /* The key must never travel in clear to a proxy. */
        if (cfg.proxy[0] != '\0' && strncasecmp(cfg.base_url, "https://", 8) != 0) {
            PyErr_SetString(PyExc_ValueError, "proxy: a proxy is only used with an https base_url");
            goto done;
        }
    }
    cfg.max_retries = (int)max_retries;
    cfg.max_response_bytes = (size_t)max_bytes;
    cfg.pool_size = (int)pool_size;
    self->client = gc_client_new(&cfg);  /* owns cfg's strings, even on failure */
    memset(&cfg, 0, sizeof cfg);
    if (self->client == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_XSETREF(self->base_url, Py_NewRef(base_url));
    self->generation = gc_fork_generation();
    rc = 0;
done:
    if (cfg.auth_header)
        gc_secure_zero(cfg.auth_header, strlen(cfg.auth_header));
    if (cfg.proxy)
        gc_secure_zero(cfg.proxy, strlen(cfg.proxy));
    free(cfg.base_url);
    free(cfg.auth_header);
    free(cfg.user_agent);
    free(cfg.ca_bundle);
    free(cfg.proxy);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

static void free_client_nogil(gc_client *client)
{
    Py_BEGIN_ALLOW_THREADS
    gc_client_free(client);  /* closes connections: may block on the network */
    Py_END_ALLOW_THREADS
}

/* In a child of fork(), calls counted before the fork belong to threads
 * that do not exist there: start counting afresh, once per generation. */
static void sync_generation(CoreClient *self)
{
    unsigned generation = gc_fork_generation();
    if (self->generation != generation) {
        self->generation = generation;
        self->inflight = 0;
    }
}

static PyObject *client_close(CoreClient *self, PyObject *Py_UNUSED(ignored))
{
    gc_client *client = self->client;
    sync_generation(self);
    self->closed = 1;
    if (client != NULL && self->inflight == 0) {
        self->client = NULL;
        free_client_nogil(client);
    }
    Py_RETURN_NONE;
}

static void client_dealloc(CoreClient *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    /* inflight > 0 is impossible here: a running call holds a reference. */
    if (self->client != NULL) {
        gc_client *client = self->client;
        self->client = NULL;
        free_client_nogil(client);
    }
    Py_CLEAR(self->base_url);
    Py_CLEAR(self->attempt_hook);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* The attempt hook may reference the Python Client that owns this one. */
static int client_traverse(CoreClient *self, visitproc visit, void *arg)
{
    Py_VISIT(self->attempt_hook);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int client_clear(CoreClient *self)
{
    Py_CLEAR(self->attempt_hook);
    return 0;
}

static int check_open(CoreClient *self)
{
    gc_module_state *state;

    if (self->client != NULL && !self->closed)
        return 0;
    /* Only a closed client pays for the state lookup (twice per call otherwise). */
    state = state_of_type(Py_TYPE(self));
    PyErr_SetString(state != NULL ? state->closed_error : PyExc_RuntimeError, "the Client is closed");
    return -1;
}

/* The ValueError/TypeError an argument check just set becomes a LocalError
 * (its message kept, the original as __cause__), so that the Python layer can
 * tell our refusals from a handler's exception.  Anything else is left as is. */
static void localize_error(gc_module_state *state)
{
    PyObject *original, *text, *local = NULL;

    if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError))
        return;
    if (PyErr_ExceptionMatches(state->local_error))
        return;
    original = gc_take_exception();      /* normalized, traceback attached */
    text = original != NULL ? PyObject_Str(original) : NULL;
    if (text != NULL)
        local = PyObject_CallOneArg(state->local_error, text);
    Py_XDECREF(text);
    if (local == NULL) {
        /* Could not build it (no memory): the original error stands. */
        PyErr_Clear();
        gc_give_exception(original);
        return;
    }
    PyException_SetCause(local, original);  /* steals original */
    gc_give_exception(local);               /* steals local */
}

/* Count a call that is about to run without the GIL; returns the client. */
static gc_client *begin_inflight(CoreClient *self, unsigned *generation)
{
    sync_generation(self);
    *generation = self->generation;
    self->inflight++;
    return self->client;
}

/* With the GIL back: free the C client if close() came in meanwhile.  A
 * call begun before a fork() is not counted in the child. */
static void end_inflight(CoreClient *self, gc_client *client, unsigned generation)
{
    if (generation != gc_fork_generation())
        return;
    self->inflight--;
    if (self->closed && self->inflight == 0 && self->client == client && client != NULL) {
        self->client = NULL;
        free_client_nogil(client);
    }
}

/* ------------------------------------------------------------ arguments */

/* One call's arguments in C memory. */
typedef struct prepared {
    const gc_endpoint *ep;
    gc_buf url;
    char *body_text;      /* cJSON_free */
    const gc_options *options; /* a with_options() copy's settings (its capsule is held by the caller) */
    int raw;              /* answer (value, status, headers, attempts): with_raw_response */
    int all_headers;      /* keep 2xx headers: raw, or the attempt hook reads request ids */
} prepared;

static void prepared_free(prepared *p)
{
    gc_buf_free(&p->url);
    if (p->body_text)
        cJSON_free(p->body_text);
    p->body_text = NULL;
}

static int utf8_of(PyObject *obj, const char *what, gc_str *out)
{
    Py_ssize_t len;
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    out->data = PyUnicode_AsUTF8AndSize(obj, &len);
    out->len = (size_t)len;
    return out->data == NULL ? -1 : 0;
}

/* The query dict as (key, str(value)) C strings for gc_build_url.  str()
 * runs Python code that may change the dict: its items are copied first,
 * and every string stays owned (in *held) until the URL is built. */
static int convert_query(PyObject *query, PyObject **items_out, PyObject **held, gc_str *pairs,
                         size_t *n_out)
{
    PyObject *items;
    Py_ssize_t i, n;
    size_t k = 0;

    *n_out = 0;
    if (!PyDict_Check(query)) {
        PyErr_SetString(PyExc_TypeError, "request: query must be a dict or None");
        return -1;
    }
    items = PyDict_Items(query);
    if (items == NULL)
        return -1;
    *items_out = items;
    n = PyList_GET_SIZE(items);
    for (i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        PyObject *key = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1), *text;
        if (value == Py_None)
            continue;
        if (utf8_of(key, "request: query key", &pairs[2 * k]) < 0)
            return -1;
        text = PyObject_Str(value);
        if (text == NULL)
            return -1;
        held[k] = text;
        *n_out = ++k;
        if (utf8_of(text, "request: query value", &pairs[2 * k - 1]) < 0)
            return -1;
    }
    return 0;
}

/* base_url + path params + query -> p->url (gc_build_url does the work). */
static int build_url(CoreClient *self, prepared *p, PyObject *params, PyObject *query)
{
    PyObject *items = NULL, *held_inline[GC_QUERY_INLINE], **held = held_inline;
    gc_str base, param_strs[2], pairs_inline[2 * GC_QUERY_INLINE], *pairs = pairs_inline;
    size_t n_query = 0, bad = 0, i;
    const char *problem = NULL;
    Py_ssize_t n_params, n_items = 0;
    int rc = -1, built;

    if (!PyTuple_Check(params)) {
        PyErr_SetString(PyExc_TypeError, "request: params must be a tuple");
        return -1;
    }
    n_params = PyTuple_GET_SIZE(params);
    if (n_params != p->ep->n_params) {
        PyErr_Format(PyExc_TypeError, "request: %s takes %d path parameter(s), got %zd", p->ep->name,
                     p->ep->n_params, n_params);
        return -1;
    }
    for (i = 0; i < (size_t)n_params; i++)
        if (utf8_of(PyTuple_GET_ITEM(params, i), p->ep->param, &param_strs[i]) < 0)
            return -1;
    if (query != Py_None) {
        n_items = PyDict_Check(query) ? PyDict_GET_SIZE(query) : 0;
        if (n_items > GC_QUERY_INLINE) {
            held = PyMem_Calloc((size_t)n_items, sizeof *held);
            pairs = PyMem_Calloc((size_t)n_items * 2, sizeof *pairs);
            if (held == NULL || pairs == NULL) {
                PyErr_NoMemory();
                goto done;
            }
        }
        if (convert_query(query, &items, held, pairs, &n_query) < 0)
            goto done;
        /* str() may have grown the dict: only what was copied is used. */
    }
    if (utf8_of(self->base_url, "base_url", &base) < 0)
        goto done;
    built = gc_build_url(&p->url, base, p->ep, param_strs, pairs, n_query, &bad, &problem);
    if (built < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (built > 0) {
        PyErr_Format(PyExc_ValueError, "%s %s (got %R)", p->ep->param, problem,
                     PyTuple_GET_ITEM(params, bad));
        goto done;
    }
    rc = 0;
done:
    for (i = 0; i < n_query; i++)
        Py_DECREF(held[i]);
    if (held != held_inline)
        PyMem_Free(held);
    if (pairs != pairs_inline)
        PyMem_Free(pairs);
    Py_XDECREF(items);
    return rc;
}

/* Arguments of one call -> C memory.  -1 with an exception set. */
static int prepare_call(CoreClient *self, PyObject *endpoint, PyObject *params, PyObject *query,
                        PyObject *body, prepared *p)
{
    long endpoint_id = PyLong_AsLong(endpoint);
    cJSON *tree;

    if (endpoint_id == -1 && PyErr_Occurred())
        return -1;
    if (endpoint_id < 0 || endpoint_id >= GC_EP_COUNT) {
        PyErr_Format(PyExc_ValueError, "request: unknown endpoint %ld", endpoint_id);
        return -1;
    }
    p->ep = &gc_endpoints[endpoint_id];
    if (p->ep->n_params > 2) {
        PyErr_SetString(PyExc_SystemError, "endpoint with more than two path parameters");
        return -1;
    }
    if (build_url(self, p, params, query) < 0)
        return -1;
    if (body != Py_None) {
        tree = gc_py_to_cjson(body, "body", 0);
        if (tree == NULL)
            return -1;
        p->body_text = cJSON_PrintUnformatted(tree);
        cJSON_Delete(tree);
        if (p->body_text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static void to_request(const prepared *p, gc_request *req)
{
    req->endpoint = p->ep;
    req->url = p->url.data;
    req->body = p->body_text;
    req->body_len = p->body_text ? strlen(p->body_text) : 0;
    req->options = p->options;
    req->all_headers = p->all_headers;
}

/* request()'s optional options (a capsule from Client.options(), or None)
 * and raw flag -> p.  -1 with an exception set. */
static int call_extras(CoreClient *self, PyObject *options, PyObject *raw, prepared *p)
{
    int is_raw = 0;
    p->options = NULL;
    if (options != NULL && options != Py_None) {
        p->options = PyCapsule_GetPointer(options, GC_OPTIONS_CAPSULE);
        if (p->options == NULL)
            return -1;
    }
    if (raw != NULL && (is_raw = PyObject_IsTrue(raw)) < 0)
        return -1;
    p->raw = is_raw;
    p->all_headers = is_raw || self->attempt_hook != NULL;
    return 0;
}

/* ------------------------------------------------------------ results */

typedef struct header_dict {
    PyObject *dict;
} header_dict;

/* A header repeated in one answer keeps every value, joined with ", " in
 * the order they came (RFC 9110 5.3), under the first line's name. */
static int add_header(void *arg, gc_str name, gc_str value)
{
    header_dict *h = arg;
    PyObject *k = PyUnicode_DecodeLatin1(name.data, (Py_ssize_t)name.len, NULL);
    PyObject *v = k ? PyUnicode_DecodeLatin1(value.data, (Py_ssize_t)value.len, NULL) : NULL;
    PyObject *seen = v ? PyDict_GetItemWithError(h->dict, k) : NULL;   /* borrowed */
    int rc = -1;

    if (seen != NULL)
        Py_SETREF(v, PyUnicode_FromFormat("%U, %U", seen, v));
    if (v != NULL && !PyErr_Occurred())
        rc = PyDict_SetItem(h->dict, k, v);
    Py_XDECREF(k);
    Py_XDECREF(v);
    return rc;
}

static PyObject *headers_to_dict(const gc_buf *headers)
{
    header_dict h = {PyDict_New()};
    if (h.dict != NULL && gc_headers_each(headers->data, headers->len, add_header, &h) != 0)
        Py_CLEAR(h.dict);
    return h.dict;
}

static const char *kind_name(gc_kind kind)
{
    switch (kind) {
    case GC_STATUS:
        return "status";
    case GC_TIMEOUT:
        return "timeout";
    case GC_TOO_LARGE:
        return "too_large";
    case GC_NOMEM:
        return "nomem";
    case GC_INTERRUPTED:
        return "interrupted";
    case GC_DECODE:
        return "decode";
    case GC_OK:
        return "ok";
    default:
        return "connection";
    }
}

/* The TransportError for a failed call (a new reference), or NULL with
 * the exception of building it set. */
static PyObject *transport_error(gc_module_state *state, const prepared *p, const gc_response *resp)
{
    static const char *names[] = {"kind", "status", "attempts", "method", "url", "endpoint",
                                  "body", "headers", "retry_after", "ambiguous"};
    enum { N_ATTRS = sizeof names / sizeof names[0] };
    PyObject *values[N_ATTRS] = {NULL}, *exc = NULL, *body = NULL;
    char msg[160];
    const char *text = resp->error;
    size_t i;

    if (resp->kind == GC_STATUS) {
        snprintf(msg, sizeof msg, "HTTP %ld from %s", resp->status, p->ep->name);
        text = msg;
    }
    /* The answer's body: for a status error its JSON, else its text. */
    if (resp->kind == GC_STATUS && resp->json != NULL)
        body = gc_cjson_to_py(resp->json);
    else if ((resp->kind == GC_STATUS || resp->kind == GC_DECODE) && resp->body.len > 0)
        body = PyUnicode_DecodeUTF8(resp->body.data, (Py_ssize_t)resp->body.len, "replace");
    else
        body = Py_NewRef(Py_None);
    values[0] = PyUnicode_FromString(kind_name(resp->kind));
    values[1] = PyLong_FromLong(resp->status);
    values[2] = PyLong_FromLong(resp->attempts);
    values[3] = PyUnicode_FromString(p->ep->method);
    values[4] = PyUnicode_FromString(p->url.data);
    values[5] = PyUnicode_FromString(p->ep->name);
    values[6] = body;
    values[7] = headers_to_dict(&resp->headers);
    values[8] = resp->retry_after >= 0 ? PyFloat_FromDouble(resp->retry_after) : Py_NewRef(Py_None);
    values[9] = PyBool_FromLong(resp->ambiguous);
    for (i = 0; i < N_ATTRS; i++)
        if (values[i] == NULL)
            goto done;
    exc = PyObject_CallFunction(state->transport_error, "s", text);
    for (i = 0; exc != NULL && i < N_ATTRS; i++)
        if (PyObject_SetAttrString(exc, names[i], values[i]) < 0)
            Py_CLEAR(exc);
done:
    for (i = 0; i < N_ATTRS; i++)
        Py_XDECREF(values[i]);
    return exc;
}

/* A raw response's successful outcome: (value, status, headers, attempts). */
static PyObject *raw_outcome(const gc_response *resp)
{
    PyObject *value = resp->json != NULL ? gc_cjson_to_py(resp->json) : Py_NewRef(Py_None);
    PyObject *headers = value != NULL ? headers_to_dict(&resp->headers) : NULL;
    PyObject *result = headers != NULL ? Py_BuildValue("(OlOi)", value, resp->status, headers,
                                                       resp->attempts) : NULL;
    Py_XDECREF(value);
    Py_XDECREF(headers);
    return result;
}

/* A finished call -> its value (new reference) or NULL with *error set to
 * its TransportError (new reference); NULL without *error when converting
 * failed (the exception is set). */
static PyObject *outcome(gc_module_state *state, const prepared *p, const gc_response *resp,
                         PyObject **error)
{
    *error = NULL;
    if (resp->kind == GC_OK && p->raw)
        return raw_outcome(resp);
    if (resp->kind == GC_OK)
        return resp->json != NULL ? gc_cjson_to_py(resp->json) : Py_NewRef(Py_None);
    *error = transport_error(state, p, resp);
    return NULL;
}

/* One attempt for the client's attempt hook:
 * hook(method, url, status, elapsed_s, attempt, started, kind, request_id, error_text),
 * started on the time.monotonic() clock, request_id and error_text None when absent. */
static PyObject *latin1_or_none(const char *text)
{
    /* Latin-1, as header values are everywhere else: bytes from the wire
     * need not be UTF-8, and a strict decode would fail the call. */
    return text[0] != '\0' ? PyUnicode_DecodeLatin1(text, (Py_ssize_t)strlen(text), NULL)
                           : Py_NewRef(Py_None);
}

static PyObject *call_attempt_hook(PyObject *hook, const prepared *p, const gc_attempt_log *a)
{
    return PyObject_CallFunction(hook, "ssldidsNN", p->ep->method, p->url.data, a->status,
                                 a->ms / 1000.0, a->attempt, a->start, kind_name(a->kind),
                                 latin1_or_none(a->request_id), latin1_or_none(a->error));
}

/* Call the DEBUG log hook (module-wide, installed only while DEBUG is on)
 * and the client's attempt hook once per attempt, in the order they
 * happened.  An exception from either (or from a signal handler that runs
 * inside it) is kept in *pending unless one is pending already, and ends
 * the logging. */
static void log_attempts(gc_module_state *state, CoreClient *self, const gc_attempt_list *log,
                         const prepared *calls, PyObject **pending)
{
    size_t i;
    PyObject *hook = state->logger_hook != Py_None ? state->logger_hook : NULL;
    PyObject *attempt_hook = self->attempt_hook;

    if ((hook == NULL && attempt_hook == NULL) || log->len == 0)
        return;
    Py_XINCREF(hook);  /* a hook may replace itself */
    Py_XINCREF(attempt_hook);
    for (i = 0; i < log->len && *pending == NULL; i++) {
        const gc_attempt_log *a = &log->items[i];
        const prepared *p = &calls[a->call];
        PyObject *r = hook == NULL ? Py_NewRef(Py_None)
                                   : PyObject_CallFunction(hook, "ssldi", p->ep->method, p->url.data,
                                                           a->status, a->ms, a->attempt);
        if (r != NULL && attempt_hook != NULL) {
            Py_DECREF(r);
            r = call_attempt_hook(attempt_hook, p, a);
        }
        if (r == NULL)
            *pending = gc_take_exception();
        Py_XDECREF(r);
    }
    Py_XDECREF(hook);
    Py_XDECREF(attempt_hook);
}

/* ------------------------------------------------------------ request */

/* One call: args are (endpoint, params, query, body), options and raw may be
 * NULL (absent), reader NULL or the request's read function: a ModelReader's
 * model is built from the answer's tree here (see gc_reader_from_cjson). */
static PyObject *perform(CoreClient *self, PyObject *const *args, PyObject *options, PyObject *raw,
                         PyObject *reader)
{
    gc_module_state *state = state_of_type(Py_TYPE(self));
    gc_attempt_log log_inline[GC_LOG_INLINE];
    gc_attempt_list log = {log_inline, 0, GC_LOG_INLINE, 0};
    prepared p = {NULL, {0}, NULL, NULL, 0, 0};
    gc_response resp;
    gc_request req;
    gc_signals sig;
    PyObject *result = NULL, *pending = NULL, *error = NULL;
    gc_attempt_list *logp;
    gc_client *client;
    unsigned generation;

    memset(&resp, 0, sizeof resp);
    if (state == NULL || check_open(self) < 0)
        return NULL;
    if (options == NULL && raw == NULL)
        p.all_headers = self->attempt_hook != NULL;  /* the plain path: no options, not raw */
    else if (call_extras(self, options, raw, &p) < 0)
        goto done;
    if (prepare_call(self, args[0], args[1], args[2], args[3], &p) < 0) {
        localize_error(state);
        goto done;
    }
    to_request(&p, &req);
    /* Converting the arguments can run Python code (a __str__, a finalizer,
     * another thread, a signal handler): the client may have been closed
     * meanwhile, and a handler may have raised. */
    if (check_open(self) < 0 || PyErr_CheckSignals() < 0)
        goto done;

    /* Attempts are only recorded for a hook (none while DEBUG is off and no on_attempt). */
    logp = state->logger_hook != Py_None || self->attempt_hook != NULL ? &log : NULL;
    client = begin_inflight(self, &generation);
    gc_signals_release(&sig);
    gc_client_perform(client, &req, &resp, logp, &sig.ir);
    pending = gc_signals_acquire(&sig);
    end_inflight(self, client, generation);

    log_attempts(state, self, &log, &p, &pending);
    if (pending == NULL && PyErr_CheckSignals() < 0)
        goto done;
    if (pending != NULL) {
        gc_give_exception(pending);  /* a signal handler's (or the hook's) exception, unchanged */
        pending = NULL;
        goto done;
    }
    if (reader != NULL && resp.kind == GC_OK && !p.raw && resp.json != NULL && gc_is_reader(reader)) {
        result = gc_reader_from_cjson(reader, resp.json, args[1]);
        if (result != NULL || PyErr_Occurred())
            goto done;
    }
    result = outcome(state, &p, &resp, &error);
    if (error != NULL)
        PyErr_SetObject(state->transport_error, error);
done:
    Py_XDECREF(error);
    if (log.owned)
        free(log.items);
    prepared_free(&p);
    gc_response_free(&resp);
    return result;
}

static PyObject *client_request(CoreClient *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *call[4];

    /* Hot path: a hand-written positional parser
     * (request(endpoint, params, query, body, options, raw)). */
    if (nargs < 2 || nargs > 6) {
        PyErr_SetString(PyExc_TypeError,
                        "request(endpoint, params, query=None, body=None, options=None, raw=False)");
        return NULL;
    }
    call[0] = args[0];
    call[1] = args[1];
    call[2] = nargs > 2 ? args[2] : Py_None;
    call[3] = nargs > 3 ? args[3] : Py_None;
    return perform(self, call, nargs > 4 ? args[4] : NULL, nargs > 5 ? args[5] : NULL, NULL);
}

/* call(request, options=None): a whole Request tuple (endpoint, params,
 * query, body, read, accept); the Client's executor. */
static PyObject *client_call(CoreClient *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *request = nargs >= 1 ? args[0] : NULL;

    if (nargs < 1 || nargs > 2 || !PyTuple_Check(request) || PyTuple_GET_SIZE(request) < 5) {
        PyErr_SetString(PyExc_TypeError,
                        "call(request, options=None): request is (endpoint, params, query, body, "
                        "read, ...)");
        return NULL;
    }
    return perform(self, &PyTuple_GET_ITEM(request, 0),
                   nargs > 1 && args[1] != Py_None ? args[1] : NULL, NULL, PyTuple_GET_ITEM(request, 4));
}

/* discard(raw, request) -> None: the read of calls whose answer carries nothing. */
static PyObject *core_discard(PyObject *Py_UNUSED(module), PyObject *const *Py_UNUSED(args),
                              Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "discard(raw, request) takes two positional arguments");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ run_batch */

/* out[i] = (ok, value), stealing value.  -1 with an exception set. */
static int set_out(PyObject *out, Py_ssize_t i, int ok, PyObject *value)
{
    PyObject *item = value ? Py_BuildValue("(ON)", ok ? Py_True : Py_False, value) : NULL;
    if (item == NULL)
        return -1;
    return PyList_SetItem(out, i, item);  /* steals item; IndexError if out shrank */
}

static PyObject *client_run_batch(CoreClient *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"calls", "out", "concurrency", "progress", "options", NULL};
    gc_module_state *state = state_of_type(Py_TYPE(self));
    PyObject *calls, *out, *seq = NULL, *concurrency_obj = NULL, *progress_obj = NULL;
    PyObject *pending = NULL, *result = NULL, *options = Py_None;
    prepared extras;
    long concurrency = 0;
    int progress = 0, failed = 0;
    Py_ssize_t n = 0, i;
    size_t n_send = 0, k;
    prepared *sent = NULL;
    gc_request *reqs = NULL;
    gc_response *resps = NULL;
    Py_ssize_t *index = NULL;
    gc_attempt_list log = {NULL, 0, 0, 0}, *logp;
    gc_signals sig;
    gc_client *client;
    unsigned generation;

    if (state == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!|$OOO:run_batch", kwlist, &calls, &PyList_Type,
                                     &out, &concurrency_obj, &progress_obj, &options))
        return NULL;
    memset(&extras, 0, sizeof extras);
    if (call_extras(self, options, NULL, &extras) < 0)
        return NULL;
    if (concurrency_obj == NULL || progress_obj == NULL) {
        PyErr_Format(PyExc_TypeError, "run_batch() missing required keyword-only argument: '%s'",
                     concurrency_obj == NULL ? "concurrency" : "progress");
        return NULL;
    }
    if (as_int(concurrency_obj, "run_batch: concurrency", 1, &concurrency) < 0)
        return NULL;
    progress = PyObject_IsTrue(progress_obj);
    if (progress < 0 || check_open(self) < 0)
        return NULL;
    /* A tuple of our own: the caller may change `calls` while Python code
     * runs below (a __str__), and each call tuple keeps its items alive. */
    seq = PySequence_Tuple(calls);
    if (seq == NULL)
        return NULL;
    Py_INCREF(out);
    n = PyTuple_GET_SIZE(seq);
    if (PyList_GET_SIZE(out) != n) {
        PyErr_Format(PyExc_ValueError, "run_batch: out must be a list of %zd None, not of %zd items", n,
                     PyList_GET_SIZE(out));
        goto done;
    }
    sent = PyMem_Calloc((size_t)n + 1, sizeof *sent);
    reqs = PyMem_Calloc((size_t)n + 1, sizeof *reqs);
    resps = PyMem_Calloc((size_t)n + 1, sizeof *resps);
    index = PyMem_Calloc((size_t)n + 1, sizeof *index);
    if (!sent || !reqs || !resps || !index) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        PyObject *call = PyTuple_GET_ITEM(seq, i);
        if (!PyTuple_Check(call) || PyTuple_GET_SIZE(call) != 4) {
            PyErr_Format(PyExc_TypeError, "run_batch: call %zd must be a 4-tuple", i);
            goto done;
        }
        sent[n_send].options = extras.options;
        sent[n_send].all_headers = extras.all_headers;
        if (prepare_call(self, PyTuple_GET_ITEM(call, 0), PyTuple_GET_ITEM(call, 1),
                         PyTuple_GET_ITEM(call, 2), PyTuple_GET_ITEM(call, 3), &sent[n_send]) < 0) {
            /* A call refused locally is that call's result; the others still run. */
            if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError))
                goto done;
            prepared_free(&sent[n_send]);
            if (set_out(out, i, 0, gc_take_exception()) < 0)
                goto done;
            continue;
        }
        to_request(&sent[n_send], &reqs[n_send]);
        index[n_send++] = i;
    }
    /* As in request(): conversion may have run Python code. */
    if (check_open(self) < 0 || PyErr_CheckSignals() < 0)
        goto done;

    /* read with the GIL held */
    logp = state->logger_hook != Py_None || self->attempt_hook != NULL ? &log : NULL;
    client = begin_inflight(self, &generation);
    gc_signals_release(&sig);
    failed = gc_client_perform_batch(client, reqs, resps, n_send, (int)concurrency, progress, logp,
                                     &sig.ir) < 0;
    pending = gc_signals_acquire(&sig);
    end_inflight(self, client, generation);

    /* Every finished call gets its result, whatever else happened. */
    for (k = 0; k < n_send; k++) {
        PyObject *value, *error;
        if (resps[k].kind == GC_NOT_RUN)
            continue;
        value = outcome(state, &sent[k], &resps[k], &error);
        if (value == NULL && error == NULL) {
            if (pending == NULL)
                pending = gc_take_exception();
            else
                PyErr_Clear();
            continue;
        }
        if (set_out(out, index[k], value != NULL, value != NULL ? value : error) < 0) {
            if (pending == NULL)
                pending = gc_take_exception();
            else
                PyErr_Clear();
        }
    }
    log_attempts(state, self, &log, sent, &pending);
    if (failed && pending == NULL) {
        PyErr_NoMemory();
        pending = gc_take_exception();
    }
    if (pending == NULL && PyErr_CheckSignals() < 0)
        goto done;
    if (pending != NULL) {
        gc_give_exception(pending);
        pending = NULL;
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (sent)
        for (k = 0; k < (size_t)n; k++)
            prepared_free(&sent[k]);
    if (resps)
        for (k = 0; k < n_send; k++)
            gc_response_free(&resps[k]);
    free(log.items);
    PyMem_Free(sent);
    PyMem_Free(reqs);
    PyMem_Free(resps);
    PyMem_Free(index);
    Py_XDECREF(out);
    Py_XDECREF(seq);
    return result;
}

/* ------------------------------------------------------------ with_options */

static void options_capsule_free(PyObject *capsule)
{
    gc_options_free(PyCapsule_GetPointer(capsule, GC_OPTIONS_CAPSULE));
}

/* options(timeout, connect_timeout, max_retries, extra_headers) -> the
 * settings of a with_options() copy, as an opaque capsule that request(),
 * run_batch() and AsyncEngine.submit() take.  extra_headers: a tuple of
 * "Name: value" lines (checked by the Python layer; CR/LF refused here too). */
static PyObject *client_options(CoreClient *self, PyObject *args)
{
    PyObject *timeout, *connect_timeout, *max_retries, *extra, *capsule = NULL;
    const char **lines = NULL;
    double t, ct;
    long retries;
    Py_ssize_t n, i, len;
    gc_options *o;

    if (!PyArg_ParseTuple(args, "OOOO!:options", &timeout, &connect_timeout, &max_retries,
                          &PyTuple_Type, &extra))
        return NULL;
    if (check_open(self) < 0 || as_double(timeout, "timeout", &t) < 0 ||
        as_double(connect_timeout, "connect_timeout", &ct) < 0 ||
        as_int(max_retries, "max_retries", 0, &retries) < 0)
        return NULL;
    n = PyTuple_GET_SIZE(extra);
    lines = PyMem_Calloc((size_t)n + 1, sizeof *lines);
    if (lines == NULL)
        return PyErr_NoMemory();
    for (i = 0; i < n; i++) {
        lines[i] = header_text(PyTuple_GET_ITEM(extra, i), "extra_headers", &len);
        if (lines[i] == NULL)
            goto done;
        if (strchr(lines[i], ':') == NULL) {
            PyErr_SetString(PyExc_ValueError, "extra_headers: each line must be 'Name: value'");
            goto done;
        }
    }
    o = gc_options_new(self->client, t, ct, (int)retries, lines, (size_t)n);
    if (o == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    capsule = PyCapsule_New(o, GC_OPTIONS_CAPSULE, options_capsule_free);
    if (capsule == NULL)
        gc_options_free(o);
done:
    PyMem_Free(lines);
    return capsule;
}

/* ------------------------------------------------------------ type */

static PyObject *client_idle_handles(CoreClient *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(self->client ? gc_client_idle_handles(self->client) : 0);
}

static PyObject *client_get_attempt_hook(CoreClient *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->attempt_hook != NULL ? self->attempt_hook : Py_None);
}

static int client_set_attempt_hook(CoreClient *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value != NULL && value != Py_None && !PyCallable_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "attempt_hook must be callable or None");
        return -1;
    }
    Py_XSETREF(self->attempt_hook, value != NULL && value != Py_None ? Py_NewRef(value) : NULL);
    return 0;
}

static PyObject *client_closed(CoreClient *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->closed);
}

static PyObject *client_proxy(CoreClient *self, void *Py_UNUSED(closure))
{
    if (self->client == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(gc_client_proxy(self->client));
}

static PyObject *client_repr(CoreClient *self)
{
    return PyUnicode_FromFormat("<gettcommerce._core.Client base_url=%R%s>",
                                self->base_url ? self->base_url : Py_None,
                                self->closed ? " closed" : "");
}

static PyMethodDef client_methods[] = {
    {"request", (PyCFunction)(void (*)(void))client_request, METH_FASTCALL,
     "request($self, endpoint, params, query=None, body=None, options=None, raw=False, /)\n--\n\n"
     "Perform one API call (endpoint index from ENDPOINTS), retries included.\n"
     "Returns the parsed JSON body (None when empty); raises TransportError.\n"
     "options: None or a capsule from options() (a with_options() copy's\n"
     "settings).  raw: return (value, status, headers, attempts) instead, the\n"
     "answer's headers copied (only on this path).\n"
     "An exception raised by a Python signal handler during the call (or by\n"
     "the log hook) propagates unchanged; a handler that returns does not\n"
     "disturb the call."},
    {"call", (PyCFunction)(void (*)(void))client_call, METH_FASTCALL,
     "call($self, request, options=None, /)\n--\n\n"
     "request() for a whole Request tuple (endpoint, params, query, body, read,\n"
     "accept): the parsed answer, or, when read is a ModelReader and the answer\n"
     "its plain case, the model read from the answer directly (read returns it\n"
     "as it is).  Raises as request() does."},
    {"run_batch", (PyCFunction)(void (*)(void))client_run_batch, METH_VARARGS | METH_KEYWORDS,
     "run_batch($self, /, calls, out, *, concurrency, progress, options=None)\n--\n\n"
     "Run (endpoint, params, query, body) calls concurrently on curl_multi with\n"
     "the GIL released.  out is a list of len(calls) None: every call that\n"
     "finished gets out[i] = (True, value) or (False, exception); calls never\n"
     "started stay None; calls in flight when a signal handler raised get\n"
     "(False, TransportError(kind='interrupted')).  Then that exception is\n"
     "re-raised; else returns None."},
    {"options", (PyCFunction)client_options, METH_VARARGS,
     "options($self, timeout, connect_timeout, max_retries, extra_headers, /)\n--\n\n"
     "Settings for request()/run_batch()/AsyncEngine.submit() of a with_options()\n"
     "copy: an opaque capsule.  extra_headers: a tuple of 'Name: value' lines,\n"
     "each replacing a default line of the same name."},
    {"close", (PyCFunction)client_close, METH_NOARGS,
     "close($self, /)\n--\n\nClose pooled connections; idempotent."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef client_getset[] = {
    {"idle_handles", (getter)client_idle_handles, NULL, "Pooled idle libcurl handles.", NULL},
    {"closed", (getter)client_closed, NULL, "True once close() was called.", NULL},
    {"attempt_hook", (getter)client_get_attempt_hook, (setter)client_set_attempt_hook,
     "None, or hook(method, url, status, elapsed_s, attempt, started, kind, request_id, error)\n"
     "called once per HTTP attempt after each call (started: time.monotonic() clock).", NULL},
    {"proxy", (getter)client_proxy, NULL,
     "The proxy calls go through ('' none), as decided when the client was made.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMethodDef client_functions[] = {
    {"discard", (PyCFunction)(void (*)(void))core_discard, METH_FASTCALL,
     "discard($module, raw, request, /)\n--\n\n"
     "A request's read for calls whose answer carries nothing: returns None."},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot client_slots[] = {
    {Py_tp_doc, "Client(base_url, api_key, user_agent, *, timeout, connect_timeout, max_retries, "
                "max_response_bytes, ca_bundle, pool_size, proxy)\n--\n\n"
                "Low-level HTTP client of the C core; use gettcommerce.Client instead.\n"
                "Every keyword is required (the defaults live in gettcommerce._constants).\n"
                "proxy: None = https_proxy/all_proxy/no_proxy from the environment, read\n"
                "now and used only for an https base_url; '' = none; a URL = that proxy."},
    {Py_tp_init, client_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_traverse, client_traverse},
    {Py_tp_clear, client_clear},
    {Py_tp_repr, client_repr},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
    {0, NULL}
};

static PyType_Spec client_spec = {
    .name = "gettcommerce._core.Client",
    .basicsize = sizeof(CoreClient),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = client_slots,
};

int gc_client_type_init(PyObject *module, gc_module_state *state)
{
    PyObject *endpoints = NULL;
    int i, rc = -1;

    state->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_spec, NULL);
    if (state->client_type == NULL)
        return -1;
    if (PyModule_AddType(module, state->client_type) < 0 || gc_reader_type_init(module) < 0 ||
        PyModule_AddFunctions(module, client_functions) < 0)
        return -1;
    /* ENDPOINTS: name -> (index, method, path template, success, idempotent) */
    endpoints = PyDict_New();
    if (endpoints == NULL)
        return -1;
    for (i = 0; i < GC_EP_COUNT; i++) {
        const gc_endpoint *ep = &gc_endpoints[i];
        PyObject *entry = Py_BuildValue("(isslN)", i, ep->method, ep->path, ep->success,
                                        PyBool_FromLong(ep->idempotent));
        if (entry == NULL || PyDict_SetItemString(endpoints, ep->name, entry) < 0) {
            Py_XDECREF(entry);
            goto done;
        }
        Py_DECREF(entry);
    }
    if (PyModule_AddObjectRef(module, "ENDPOINTS", endpoints) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(endpoints);
    return rc;
}

/* ------------------------------------------------------------ asyncio engine */
/* What aio_py.c (the asyncio executor) shares with request(): the same
 * argument conversion, outcome and log hook, and the in-flight count that
 * keeps the gc_client alive while an engine uses it. */

gc_client *gc_py_client_acquire(PyObject *obj, unsigned *generation)
{
    gc_module_state *state = state_of_type(Py_TYPE(obj));
    if (state == NULL)
        return NULL;
    if (!PyObject_TypeCheck(obj, state->client_type)) {
        PyErr_SetString(PyExc_TypeError, "expected a gettcommerce._core.Client");
        return NULL;
    }
    if (check_open((CoreClient *)obj) < 0)
        return NULL;
    return begin_inflight((CoreClient *)obj, generation);
}

void gc_py_client_release(PyObject *obj, gc_client *client, unsigned generation)
{
    end_inflight((CoreClient *)obj, client, generation);
}

gc_py_call *gc_py_call_prepare(PyObject *obj, PyObject *endpoint, PyObject *params, PyObject *query,
                               PyObject *body, PyObject *options, PyObject *raw, gc_request *req)
{
    prepared *p = PyMem_Calloc(1, sizeof *p);
    if (p == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (check_open((CoreClient *)obj) < 0 || call_extras((CoreClient *)obj, options, raw, p) < 0)
        goto error;
    if (prepare_call((CoreClient *)obj, endpoint, params, query, body, p) < 0) {
        /* A refusal of ours, as for a single call (LocalError). */
        gc_module_state *state = state_of_type(Py_TYPE(obj));
        if (state != NULL)
            localize_error(state);
        goto error;
    }
    to_request(p, req);
    return (gc_py_call *)p;
error:
    prepared_free(p);
    PyMem_Free(p);
    return NULL;
}

void gc_py_call_free(gc_py_call *call)
{
    if (call != NULL) {
        prepared_free((prepared *)call);
        PyMem_Free(call);
    }
}

PyObject *gc_py_call_outcome(PyObject *obj, const gc_py_call *call, const gc_response *resp,
                             const gc_attempt_list *log, PyObject **error)
{
    gc_module_state *state = state_of_type(Py_TYPE(obj));
    PyObject *pending = NULL, *value;
    *error = NULL;
    if (state == NULL)
        return NULL;
    log_attempts(state, (CoreClient *)obj, log, (const prepared *)call, &pending);
    if (pending != NULL) {
        gc_give_exception(pending);
        return NULL;
    }
    value = outcome(state, (const prepared *)call, resp, error);
    if (value == NULL && *error == NULL)
        return NULL;
    return value;
}
