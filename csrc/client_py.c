/* client_py.c - _core.Client: the Python face of gc_client (http.c).
 *
 * request() converts its arguments into C memory while holding the GIL,
 * releases the GIL for the whole call (attempts, backoff sleeps and JSON
 * parsing), then converts the result to Python objects or raises the one
 * low-level TransportError that gettcommerce.errors maps to the public tree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "gc.h"

#define GC_MAX_LOG 16

typedef struct {
    PyObject_HEAD
    gc_client *client;     /* NULL once closed and freed */
    PyObject *base_url;    /* str, for repr and error messages */
    int inflight;          /* calls running without the GIL (guarded by the GIL) */
    int closed;
    pid_t owner_pid;       /* the process whose threads `inflight` counts */
} CoreClient;

static gc_module_state *state_of_type(PyTypeObject *type)
{
    PyObject *module = PyType_GetModuleByDef(type, &gc_core_module);
    return module ? gc_module_state_of(module) : NULL;
}

static char *dup_utf8(PyObject *obj, const char *what, int allow_none)
{
    const char *s;
    Py_ssize_t len;
    char *copy;

    if (obj == NULL || obj == Py_None) {
        if (allow_none)
            return NULL;
        PyErr_Format(PyExc_TypeError, "%s must be a str", what);
        return NULL;
    }
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (s == NULL)
        return NULL;
    if ((size_t)len != strlen(s) || strpbrk(s, "\r\n") != NULL) {
        PyErr_Format(PyExc_ValueError, "%s must not contain CR, LF or NUL", what);
        return NULL;
    }
    copy = malloc((size_t)len + 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(copy, s, (size_t)len + 1);
    return copy;
}

static int client_init(CoreClient *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"base_url", "api_key", "user_agent", "timeout", "connect_timeout",
                             "max_retries", "max_response_bytes", "ca_bundle", "pool_size", NULL};
    PyObject *base_url, *api_key, *user_agent, *ca_bundle = Py_None;
    double timeout = 30.0, connect_timeout = 10.0;
    int max_retries = 2, pool_size = 8;
    Py_ssize_t max_bytes = 32 * 1024 * 1024;
    gc_config cfg;
    char *key = NULL;
    int rc = -1;

    memset(&cfg, 0, sizeof cfg);
    if (self->client != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Client.__init__ called twice");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UUU|$ddinOi:Client", kwlist, &base_url, &api_key,
                                     &user_agent, &timeout, &connect_timeout, &max_retries,
                                     &max_bytes, &ca_bundle, &pool_size))
        return -1;
    if (!(timeout > 0) || !(connect_timeout > 0) || !isfinite(timeout) || !isfinite(connect_timeout)) {
        PyErr_SetString(PyExc_ValueError, "timeout and connect_timeout must be finite and > 0");
        return -1;
    }
    if (max_retries < 0 || max_bytes <= 0 || pool_size < 1) {
        PyErr_SetString(PyExc_ValueError, "max_retries must be >= 0, max_response_bytes and pool_size > 0");
        return -1;
    }
    cfg.base_url = dup_utf8(base_url, "base_url", 0);
    if (cfg.base_url == NULL)
        goto done;
    /* Strip trailing slashes so paths join with exactly one. */
    for (size_t n = strlen(cfg.base_url); n > 0 && cfg.base_url[n - 1] == '/'; n--)
        cfg.base_url[n - 1] = '\0';
    key = dup_utf8(api_key, "api_key", 0);
    if (key == NULL)
        goto done;
    {
        gc_buf auth = {0};
        if (gc_buf_append_str(&auth, "Authorization: Bearer ") < 0 || gc_buf_append_str(&auth, key) < 0) {
            gc_buf_free(&auth);
            PyErr_NoMemory();
            goto done;
        }
        cfg.auth_header = auth.data;
    }
    cfg.user_agent = dup_utf8(user_agent, "user_agent", 0);
    if (cfg.user_agent == NULL)
        goto done;
    if (ca_bundle != Py_None) {
        cfg.ca_bundle = dup_utf8(ca_bundle, "ca_bundle", 0);
        if (cfg.ca_bundle == NULL)
            goto done;
    }
    cfg.timeout = timeout;
    cfg.connect_timeout = connect_timeout;
    cfg.max_retries = max_retries;
    cfg.max_response_bytes = (size_t)max_bytes;
    cfg.pool_size = pool_size;
    self->client = gc_client_new(&cfg);  /* owns cfg's strings, even on failure */
    memset(&cfg, 0, sizeof cfg);
    if (self->client == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_XSETREF(self->base_url, Py_NewRef(base_url));
    self->owner_pid = getpid();
    rc = 0;
done:
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    if (cfg.auth_header)
        memset(cfg.auth_header, 0, strlen(cfg.auth_header));
    free(cfg.base_url);
    free(cfg.auth_header);
    free(cfg.user_agent);
    free(cfg.ca_bundle);
    return rc;
}

static void free_client_nogil(gc_client *client)
{
    Py_BEGIN_ALLOW_THREADS
    gc_client_free(client);  /* closes connections: may block on the network */
    Py_END_ALLOW_THREADS
}

static PyObject *client_close(CoreClient *self, PyObject *Py_UNUSED(ignored))
{
    gc_client *client = self->client;
    /* A child of fork() inherits the count of calls the parent's threads
     * had running; none of those threads exist here. */
    if (self->owner_pid != getpid()) {
        self->inflight = 0;
        self->owner_pid = getpid();
    }
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
    /* inflight > 0 is impossible here: a running call holds a reference. */
    if (self->client != NULL) {
        gc_client *client = self->client;
        self->client = NULL;
        free_client_nogil(client);
    }
    Py_CLEAR(self->base_url);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* Build base_url + path (with encoded params) + ?query into url. */
static int build_url(CoreClient *self, const gc_endpoint *ep, PyObject *params, PyObject *query,
                     gc_buf *url)
{
    const char *base, *p, *mark;
    Py_ssize_t base_len, i = 0, n_params;

    base = PyUnicode_AsUTF8AndSize(self->base_url, &base_len);
    if (base == NULL)
        return -1;
    if (!PyTuple_Check(params)) {
        PyErr_SetString(PyExc_TypeError, "request: params must be a tuple");
        return -1;
    }
    n_params = PyTuple_GET_SIZE(params);
    if (n_params != ep->n_params) {
        PyErr_Format(PyExc_TypeError, "request: %s takes %d path parameter(s), got %zd", ep->name,
                     ep->n_params, n_params);
        return -1;
    }
    /* Trailing slashes were stripped at init; the path starts with one. */
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    if (gc_buf_append(url, base, (size_t)base_len) < 0)
        goto nomem;
    for (p = ep->path; (mark = strstr(p, "{}")) != NULL; p = mark + 2) {
        PyObject *value = PyTuple_GET_ITEM(params, i);
        const char *s, *problem;
        Py_ssize_t len;
        if (gc_buf_append(url, p, (size_t)(mark - p)) < 0)
            goto nomem;
        if (!PyUnicode_Check(value)) {
            PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", ep->param,
                         Py_TYPE(value)->tp_name);
            return -1;
        }
        s = PyUnicode_AsUTF8AndSize(value, &len);
        if (s == NULL)
            return -1;
        problem = gc_path_param_problem(s, (size_t)len);
        if (problem != NULL) {
            PyErr_Format(PyExc_ValueError, "%s %s (got %R)", ep->param, problem, value);
            return -1;
        }
        if (gc_percent_encode(url, s, (size_t)len) < 0)
            goto nomem;
        i++;
    }
    if (gc_buf_append_str(url, p) < 0)
        goto nomem;
    if (query != NULL && query != Py_None) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        char sep = '?';
        if (!PyDict_Check(query)) {
            PyErr_SetString(PyExc_TypeError, "request: query must be a dict or None");
            return -1;
        }
        while (PyDict_Next(query, &pos, &key, &value)) {
            PyObject *text;
            const char *k, *v;
            Py_ssize_t klen, vlen;
            int failed;
            if (value == Py_None)
                continue;
            k = PyUnicode_AsUTF8AndSize(key, &klen);
            if (k == NULL)
                return -1;
            text = PyObject_Str(value);
            if (text == NULL)
                return -1;
            v = PyUnicode_AsUTF8AndSize(text, &vlen);
            failed = v == NULL || gc_buf_append(url, &sep, 1) < 0 ||
                     gc_percent_encode(url, k, (size_t)klen) < 0 || gc_buf_append(url, "=", 1) < 0 ||
                     gc_percent_encode(url, v, (size_t)vlen) < 0;
            Py_DECREF(text);
            if (failed) {
                if (!PyErr_Occurred())
                    PyErr_NoMemory();
                return -1;
            }
            sep = '&';
        }
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

static PyObject *headers_to_dict(const gc_buf *headers)
{
    PyObject *dict = PyDict_New(), *k = NULL, *v = NULL;
    const char *p, *end;

    if (dict == NULL || headers->len == 0)
        return dict;
    p = headers->data;
    end = headers->data + headers->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon != NULL && memcmp(p, "HTTP/", 5) != 0) {
            const char *vs = colon + 1, *ve = line_end;
            while (vs < ve && (*vs == ' ' || *vs == '\t'))
                vs++;
            while (ve > vs && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            k = PyUnicode_DecodeLatin1(p, colon - p, NULL);
            v = PyUnicode_DecodeLatin1(vs, ve - vs, NULL);
            if (k == NULL || v == NULL || PyDict_SetItem(dict, k, v) < 0)
                goto error;
            Py_CLEAR(k);
            Py_CLEAR(v);
        }
        p = eol ? eol + 1 : end;
    }
    return dict;
error:
    Py_XDECREF(k);
    Py_XDECREF(v);
    Py_DECREF(dict);
    return NULL;
}

/* Raise TransportError with the attributes errors.from_transport_error reads. */
static void raise_transport_error(gc_module_state *state, const gc_endpoint *ep, const char *url,
                                  const gc_response *resp, const char *kind, const char *message,
                                  const cJSON *parsed)
{
    PyObject *exc = NULL, *body = NULL, *headers = NULL, *tmp;

    if (parsed != NULL) {
        body = gc_cjson_to_py(parsed);
        /* Nested deeper than convert.c allows: keep the text instead, so the
         * caller still gets this TransportError rather than a ValueError. */
        if (body == NULL && PyErr_ExceptionMatches(PyExc_ValueError))
            PyErr_Clear();
        else if (body == NULL)
            goto done;
    }
    if (body == NULL && resp->body.len > 0)
        body = PyUnicode_DecodeUTF8(resp->body.data, (Py_ssize_t)resp->body.len, "replace");
    else if (body == NULL)
        body = Py_NewRef(Py_None);
    if (body == NULL)
        goto done;
    headers = headers_to_dict(&resp->headers);
    if (headers == NULL)
        goto done;
    exc = PyObject_CallFunction(state->transport_error, "s", message);
    if (exc == NULL)
        goto done;
#define SET(name, value)                                                   \
    do {                                                                   \
        tmp = (value);                                                     \
        if (tmp == NULL || PyObject_SetAttrString(exc, name, tmp) < 0) {   \
            Py_XDECREF(tmp);                                               \
            goto done;                                                     \
        }                                                                  \
        Py_DECREF(tmp);                                                    \
    } while (0)
    SET("kind", PyUnicode_FromString(kind));
    SET("status", PyLong_FromLong(resp->status));
    SET("attempts", PyLong_FromLong(resp->attempts));
    SET("method", PyUnicode_FromString(ep->method));
    SET("url", PyUnicode_FromString(url));
    SET("endpoint", PyUnicode_FromString(ep->name));
    SET("body", Py_NewRef(body));
    SET("headers", Py_NewRef(headers));
#undef SET
    PyErr_SetObject(state->transport_error, exc);
done:
    Py_XDECREF(exc);
    Py_XDECREF(body);
    Py_XDECREF(headers);
}

static void log_attempts(gc_module_state *state, const gc_endpoint *ep, const char *url,
                         const gc_attempt_log *log, int n)
{
    int i;
    PyObject *exc_type, *exc_value, *exc_tb;

    if (state->logger_hook == NULL || state->logger_hook == Py_None || n == 0)
        return;
    /* Logging must never replace the call's own outcome. */
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    for (i = 0; i < n; i++) {
        PyObject *r = PyObject_CallFunction(state->logger_hook, "ssldi", ep->method, url,
                                            log[i].status, log[i].ms, log[i].attempt);
        if (r == NULL)
            PyErr_WriteUnraisable(state->logger_hook);
        Py_XDECREF(r);
    }
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

/* Arguments of one call -> C memory (URL and JSON body text).  The caller
 * frees url and *body_text (cJSON_free).  -1 with an exception set. */
static int prepare_call(CoreClient *self, PyObject *endpoint, PyObject *params, PyObject *query,
                        PyObject *body, const gc_endpoint **ep_out, gc_buf *url, char **body_text)
{
    long endpoint_id = PyLong_AsLong(endpoint);
    cJSON *tree;

    *body_text = NULL;
    if (endpoint_id == -1 && PyErr_Occurred())
        return -1;
    if (endpoint_id < 0 || endpoint_id >= GC_EP_COUNT) {
        PyErr_Format(PyExc_ValueError, "request: unknown endpoint %ld", endpoint_id);
        return -1;
    }
    *ep_out = &gc_endpoints[endpoint_id];
    if (build_url(self, *ep_out, params, query, url) < 0)
        return -1;
    if (body != Py_None) {
        tree = gc_py_to_cjson(body, "body", 0);
        if (tree == NULL)
            return -1;
        *body_text = cJSON_PrintUnformatted(tree);
        cJSON_Delete(tree);
        if (*body_text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

/* A finished call -> its Python result, or NULL with the exception set. */
static PyObject *finish_call(gc_module_state *state, const gc_endpoint *ep, const char *url,
                             const gc_response *resp, const cJSON *parsed, size_t error_offset)
{
    char msg[160];

    switch (resp->kind) {
    case GC_OK:
        if (resp->body.len == 0)
            return Py_NewRef(Py_None);
        if (parsed != NULL) {
            PyObject *value = gc_cjson_to_py(parsed);
            /* A body the converter refuses (should its depth cap ever be
             * below cJSON's) is the answer's fault: a typed decode error,
             * not a bare ValueError that Client reports as a local refusal
             * and that aborts a whole run_batch. */
            if (value == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
                PyErr_Clear();
                snprintf(msg, sizeof msg, "Gett answered %ld with JSON nested too deeply to convert",
                         resp->status);
                raise_transport_error(state, ep, url, resp, "decode", msg, NULL);
            }
            return value;
        }
        snprintf(msg, sizeof msg, "Gett answered %ld with a body that is not valid JSON (at byte %zu)",
                 resp->status, error_offset);
        raise_transport_error(state, ep, url, resp, "decode", msg, NULL);
        return NULL;
    case GC_STATUS:
        snprintf(msg, sizeof msg, "HTTP %ld from %s", resp->status, ep->name);
        raise_transport_error(state, ep, url, resp, "status", msg, parsed);
        return NULL;
    case GC_TIMEOUT:
        raise_transport_error(state, ep, url, resp, "timeout", resp->error, NULL);
        return NULL;
    case GC_NOMEM:
        PyErr_NoMemory();
        return NULL;
    case GC_INTERRUPTED:
        /* CPython's handler ran too: this raises KeyboardInterrupt (or what
         * a Python-level SIGINT handler raises). */
        if (PyErr_CheckSignals() < 0)
            return NULL;
        raise_transport_error(state, ep, url, resp, "connection", "interrupted by a signal", NULL);
        return NULL;
    default:
        raise_transport_error(state, ep, url, resp, "connection", resp->error, NULL);
        return NULL;
    }
}

static cJSON *parse_body(const gc_response *resp, size_t *error_offset)
{
    if (resp->body.len > 0 && (resp->kind == GC_OK || resp->kind == GC_STATUS))
        return gc_json_parse(resp->body.data, resp->body.len, error_offset);
    return NULL;
}

/* Called with the GIL after a call ran without it: free the C client if
 * close() came in meanwhile. */
static void end_inflight(CoreClient *self, gc_client *client)
{
    self->inflight--;
    if (self->closed && self->inflight == 0 && self->client != NULL) {
        self->client = NULL;
        free_client_nogil(client);
    }
}

static int check_open(CoreClient *self)
{
    if (self->client == NULL || self->closed) {
        PyErr_SetString(PyExc_RuntimeError, "the Client is closed");
        return -1;
    }
    return 0;
}

static PyObject *client_request(CoreClient *self, PyObject *const *args, Py_ssize_t nargs)
{
    gc_module_state *state = state_of_type(Py_TYPE(self));
    gc_buf url = {0};
    gc_response resp;
    gc_request req;
    gc_attempt_log log[GC_MAX_LOG];
    int log_len = 0;
    cJSON *parsed = NULL;
    char *body_text = NULL;
    size_t error_offset = 0;
    PyObject *result = NULL;
    const gc_endpoint *ep = NULL;
    gc_client *client;

    memset(&resp, 0, sizeof resp);
    if (state == NULL)
        return NULL;
    /* Hot path: a hand-written positional parser (request(endpoint, params, query, body)). */
    if (nargs < 2 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "request(endpoint, params, query=None, body=None)");
        return NULL;
    }
    if (check_open(self) < 0)
        return NULL;
    if (prepare_call(self, args[0], args[1], nargs > 2 ? args[2] : Py_None,
                     nargs > 3 ? args[3] : Py_None, &ep, &url, &body_text) < 0)
        goto done;
    req.endpoint = ep;
    req.url = url.data;
    req.body = body_text;
    req.body_len = body_text ? strlen(body_text) : 0;
    req.abort_flag = gc_interrupt_arm();
    /* Converting the arguments can run Python code (a __str__, a finalizer,
     * another thread): the client may have been closed meanwhile, and a
     * Ctrl-C may have come in before the flag was armed. */
    if (check_open(self) < 0 || PyErr_CheckSignals() < 0)
        goto done;

    client = self->client;
    self->inflight++;
    Py_BEGIN_ALLOW_THREADS
    gc_client_perform(client, &req, &resp, log, GC_MAX_LOG, &log_len);
    parsed = parse_body(&resp, &error_offset);
    Py_END_ALLOW_THREADS
    end_inflight(self, client);

    log_attempts(state, ep, url.data, log, log_len);
    if (PyErr_CheckSignals() < 0)
        goto done;
    result = finish_call(state, ep, url.data, &resp, parsed, error_offset);
done:
    cJSON_Delete(parsed);
    if (body_text)
        cJSON_free(body_text);
    gc_buf_free(&url);
    gc_response_free(&resp);
    return result;
}

/* One queued call of run_batch, in C memory. */
typedef struct batch_slot {
    const gc_endpoint *ep;
    gc_buf url;
    char *body_text;
    cJSON *parsed;
    size_t error_offset;
    PyObject *local_error;   /* refused before sending: the exception */
    size_t resp_index;       /* its gc_response when sent */
} batch_slot;

static PyObject *pop_exception(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

static PyObject *client_run_batch(CoreClient *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"calls", "concurrency", "progress", NULL};
    gc_module_state *state = state_of_type(Py_TYPE(self));
    PyObject *calls, *seq = NULL, *results = NULL;
    int concurrency = 32, progress = 0, failed = 0;
    Py_ssize_t n = 0, i, n_send = 0;
    batch_slot *slots = NULL;
    gc_request *reqs = NULL;
    gc_response *resps = NULL;
    size_t *index = NULL;
    gc_client *client;
    volatile int *abort_flag = gc_interrupt_arm();

    if (state == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$ip:run_batch", kwlist, &calls, &concurrency,
                                     &progress))
        return NULL;
    if (concurrency < 1) {
        PyErr_SetString(PyExc_ValueError, "run_batch: concurrency must be >= 1");
        return NULL;
    }
    if (check_open(self) < 0)
        return NULL;
    seq = PySequence_Fast(calls, "run_batch: calls must be a sequence of (endpoint, params, query, body)");
    if (seq == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    slots = calloc((size_t)n + 1, sizeof *slots);
    reqs = calloc((size_t)n + 1, sizeof *reqs);
    resps = calloc((size_t)n + 1, sizeof *resps);
    index = calloc((size_t)n + 1, sizeof *index);
    if (!slots || !reqs || !resps || !index) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        PyObject *call = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(call) || PyTuple_GET_SIZE(call) != 4) {
            PyErr_Format(PyExc_TypeError, "run_batch: call %zd must be a 4-tuple", i);
            goto done;
        }
        if (prepare_call(self, PyTuple_GET_ITEM(call, 0), PyTuple_GET_ITEM(call, 1),
                         PyTuple_GET_ITEM(call, 2), PyTuple_GET_ITEM(call, 3), &slots[i].ep,
                         &slots[i].url, &slots[i].body_text) < 0) {
            /* A call refused locally is that call's result; the others still run. */
            if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError))
                goto done;
            slots[i].local_error = pop_exception();
            continue;
        }
        reqs[n_send].endpoint = slots[i].ep;
        reqs[n_send].url = slots[i].url.data;
        reqs[n_send].body = slots[i].body_text;
        reqs[n_send].body_len = slots[i].body_text ? strlen(slots[i].body_text) : 0;
        reqs[n_send].abort_flag = abort_flag;
        slots[i].resp_index = (size_t)n_send;
        index[n_send++] = (size_t)i;
    }

    /* As in request(): conversion may have run Python code. */
    if (check_open(self) < 0 || PyErr_CheckSignals() < 0)
        goto done;
    client = self->client;
    self->inflight++;
    Py_BEGIN_ALLOW_THREADS
    failed = gc_client_perform_batch(client, reqs, resps, (size_t)n_send, concurrency, progress) < 0;
    if (!failed)
        for (i = 0; i < n_send; i++)
            slots[index[i]].parsed = parse_body(&resps[i], &slots[index[i]].error_offset);
    Py_END_ALLOW_THREADS
    end_inflight(self, client);
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    if (PyErr_CheckSignals() < 0)
        goto done;

    results = PyList_New(n);
    if (results == NULL)
        goto done;
    for (i = 0; i < n; i++)
        PyList_SET_ITEM(results, i, Py_NewRef(Py_None));
    for (i = 0; i < n; i++) {
        PyObject *item;
        if (slots[i].local_error != NULL) {
            item = Py_BuildValue("(OO)", Py_False, slots[i].local_error);
        } else {
            PyObject *value = finish_call(state, slots[i].ep, slots[i].url.data,
                                          &resps[slots[i].resp_index], slots[i].parsed,
                                slots[i].error_offset);
            if (value != NULL) {
                item = Py_BuildValue("(ON)", Py_True, value);
            } else {
                if (!PyErr_ExceptionMatches(state->transport_error))
                    goto error_results;
                value = pop_exception();
                item = Py_BuildValue("(ON)", Py_False, value);
            }
        }
        if (item == NULL)
            goto error_results;
        PyList_SetItem(results, i, item);
    }
    goto done;
error_results:
    Py_CLEAR(results);
done:
    if (slots) {
        for (i = 0; i < n; i++) {
            gc_buf_free(&slots[i].url);
            if (slots[i].body_text)
                cJSON_free(slots[i].body_text);
            cJSON_Delete(slots[i].parsed);
            Py_XDECREF(slots[i].local_error);
        }
    }
    if (resps)
        for (i = 0; i < n_send; i++)
            gc_response_free(&resps[i]);
    free(slots);
    free(reqs);
    free(resps);
    free(index);
    Py_XDECREF(seq);
    return results;
}

static PyObject *client_idle_handles(CoreClient *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(self->client ? gc_client_idle_handles(self->client) : 0);
}

static PyObject *client_closed(CoreClient *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->closed);
}

static PyObject *client_repr(CoreClient *self)
{
    return PyUnicode_FromFormat("<gettcommerce._core.Client base_url=%R%s>",
                                self->base_url ? self->base_url : Py_None,
                                self->closed ? " closed" : "");
}

static PyMethodDef client_methods[] = {
    {"request", (PyCFunction)(void (*)(void))client_request, METH_FASTCALL,
     "request($self, endpoint, params, query=None, body=None, /)\n--\n\n"
     "Perform one API call (endpoint index from ENDPOINTS), retries included.\n"
     "Returns the parsed JSON body (None when empty); raises TransportError."},
    {"run_batch", (PyCFunction)(void (*)(void))client_run_batch, METH_VARARGS | METH_KEYWORDS,
     "run_batch($self, /, calls, *, concurrency=32, progress=False)\n--\n\n"
     "Run (endpoint, params, query, body) calls concurrently on curl_multi with\n"
     "the GIL released.  Returns [(ok, value_or_exception), ...] in call order."},
    {"close", (PyCFunction)client_close, METH_NOARGS,
     "close($self, /)\n--\n\nClose pooled connections; idempotent."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef client_getset[] = {
    {"idle_handles", (getter)client_idle_handles, NULL, "Pooled idle libcurl handles.", NULL},
    {"closed", (getter)client_closed, NULL, "True once close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot client_slots[] = {
    {Py_tp_doc, "Client(base_url, api_key, user_agent, *, timeout=30.0, connect_timeout=10.0, "
                "max_retries=2, max_response_bytes=33554432, ca_bundle=None, pool_size=8)\n--\n\n"
                "Low-level HTTP client of the C core; use gettcommerce.Client instead."},
    {Py_tp_init, client_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_repr, client_repr},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
    {0, NULL}
};

static PyType_Spec client_spec = {
    .name = "gettcommerce._core.Client",
    .basicsize = sizeof(CoreClient),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = client_slots,
};

int gc_client_type_init(PyObject *module, gc_module_state *state)
{
    PyObject *endpoints = NULL;
    int i, rc = -1;

    state->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_spec, NULL);
    if (state->client_type == NULL)
        return -1;
    if (PyModule_AddType(module, state->client_type) < 0)
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
