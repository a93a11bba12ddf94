/* aio_py.c - _core.AsyncEngine: the asyncio executor's transport, driven
 * by the running event loop (default asyncio loop or uvloop).
 *
 * libcurl's sockets are watched with loop.add_reader/add_writer, its
 * timer is loop.call_later, and every event runs curl_multi_socket_action
 * (aio.c, with the GIL released).  A finished call resolves its future
 * with (True, value) or (False, TransportError); a call to retry waits on
 * loop.call_later, never in C.  cancel() takes the call out of the multi
 * (or the queue, or its backoff) at once and frees it.  No thread, no
 * polling.  One engine serves one loop; the Python layer (gettcommerce/
 * _async.py) makes one per AsyncClient and checks the loop.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GC_TRANSPORT_INTERNAL
#include "gc.h"

typedef struct Engine Engine;

typedef struct {
    PyObject_HEAD
    gc_aio_call c;          /* the Python-free state (aio.c) */
    gc_py_call *args;       /* URL and body in C memory */
    PyObject *future;       /* resolved once; NULL when the call is over */
    PyObject *retry;        /* the loop's TimerHandle during a backoff */
    PyObject *options;      /* a with_options() capsule the request points into, or NULL */
    Engine *engine;         /* borrowed; NULL when the call is over */
    PyObject *prev, *next;  /* the engine's list of live calls (it owns a reference) */
} Call;

struct Engine {
    PyObject_HEAD
    gc_aio *aio;
    gc_client *client;
    unsigned generation;
    PyObject *core;         /* the _core.Client */
    PyObject *loop;
    PyObject *add_reader, *remove_reader, *add_writer, *remove_writer, *call_later, *call_soon;
    PyTypeObject *call_type;
    PyObject *future_type;  /* the type of the calls' futures (loop.create_future()) ... */
    PyObject *future_done, *future_set_result;  /* ... and its unbound methods */
    PyObject *timer;        /* the loop's handle for libcurl's timer, or NULL */
    double timer_at;        /* when it fires (gc_now clock) */
    Call *live;             /* calls not finished (owned references) */
    Py_ssize_t n_live;
    int busy;               /* libcurl is working with the GIL released */
    int closed;
};

static PyMethodDef callback_defs[4];
enum { CB_READ, CB_WRITE, CB_TIMER, CB_RETRY };

/* A built-in function bound to the engine, made when the loop needs one:
 * the loop holds the engine only while it watches or schedules something
 * (an engine holding its own bound callbacks would be a reference cycle). */
static PyObject *callback(Engine *e, int which)
{
    return PyCFunction_New(&callback_defs[which], (PyObject *)e);
}

/* ------------------------------------------------------------ helpers */

static Call *call_of(gc_aio_call *c)
{
    return (Call *)((char *)c - offsetof(Call, c));
}

static void live_add(Engine *e, Call *call)
{
    call->engine = e;
    call->prev = NULL;
    call->next = (PyObject *)e->live;
    if (e->live)
        e->live->prev = (PyObject *)call;
    e->live = call;
    e->n_live++;
    Py_INCREF(call);
}

/* The call is over: free its C memory, drop the engine's reference. */
static void call_release(Engine *e, Call *call)
{
    if (call->engine == NULL)
        return;
    if (call->prev)
        ((Call *)call->prev)->next = call->next;
    else
        e->live = (Call *)call->next;
    if (call->next)
        ((Call *)call->next)->prev = call->prev;
    call->prev = call->next = NULL;
    call->engine = NULL;
    e->n_live--;
    gc_response_free(&call->c.resp);
    if (call->c.log.owned)
        free(call->c.log.items);
    call->c.log.items = NULL;
    call->c.log.owned = 0;
    gc_py_call_free(call->args);
    call->args = NULL;
    Py_CLEAR(call->options);
    Py_CLEAR(call->retry);
    Py_CLEAR(call->future);
    Py_DECREF(call);
}

static int usable(Engine *e)
{
    if (e->closed || e->aio == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the AsyncClient is closed");
        return -1;
    }
    if (e->generation != gc_fork_generation()) {
        PyErr_SetString(PyExc_RuntimeError, "this engine belongs to the parent process (fork)");
        return -1;
    }
    if (e->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "an AsyncClient is used from one event loop thread at a time; "
                        "create one AsyncClient per loop");
        return -1;
    }
    return 0;
}

/* Call loop.method(args...) ignoring the result; report failures as unraisable. */
static int loop_call(PyObject *method, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *r = PyObject_CallFunctionObjArgs(method, a, b, c, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* loop.add_reader/add_writer(fd, cb, fd), taking cb. */
static int watch_one(PyObject *method, PyObject *fdo, PyObject *cb)
{
    int rc = cb == NULL ? -1 : loop_call(method, fdo, cb, fdo);
    Py_XDECREF(cb);
    return rc;
}

/* Make the loop watch fd for `want` (GC_AIO_READ|WRITE, libcurl's wish).
 * lazy: when libcurl stops watching a keep-alive connection between
 * transfers, it stays watched for reading, marked stale: the next transfer
 * on it then costs no selector change.  A stale socket that turns readable
 * (the server closed it) is unwatched after that one event (engine_on_read),
 * and a closed one before it is closed (flush).  Only connection sockets
 * (GC_AIO_CONN) are kept: libcurl closes others without telling.  A stale
 * registration of a reused fd number is dropped and the watch redone once. */
static void watch(Engine *e, int fd, int want, int lazy)
{
    int have = gc_aio_watched(e->aio, fd), attempt, target = want, reg;
    PyObject *fdo;

    if (lazy && want == 0 && (have & GC_AIO_READ) && (have & GC_AIO_CONN))
        target = GC_AIO_READ | GC_AIO_STALE;
    if ((have & (GC_AIO_READ | GC_AIO_WRITE)) == (target & (GC_AIO_READ | GC_AIO_WRITE))) {
        if (gc_aio_set_watched(e->aio, fd, target | (have & GC_AIO_CONN)) < 0)
            PyErr_WriteUnraisable((PyObject *)e);
        return;
    }
    fdo = PyLong_FromLong(fd);
    if (fdo == NULL) {
        PyErr_WriteUnraisable((PyObject *)e);
        return;
    }
    reg = have;
    for (attempt = 0; attempt < 2; attempt++) {
        int failed = 0;
        if ((target & GC_AIO_READ) && !(reg & GC_AIO_READ))
            failed |= watch_one(e->add_reader, fdo, callback(e, CB_READ)) < 0;
        else if (!(target & GC_AIO_READ) && (reg & GC_AIO_READ))
            failed |= loop_call(e->remove_reader, fdo, NULL, NULL) < 0;
        if (!failed && (target & GC_AIO_WRITE) && !(reg & GC_AIO_WRITE))
            failed |= watch_one(e->add_writer, fdo, callback(e, CB_WRITE)) < 0;
        else if (!failed && !(target & GC_AIO_WRITE) && (reg & GC_AIO_WRITE))
            failed |= loop_call(e->remove_writer, fdo, NULL, NULL) < 0;
        if (!failed)
            break;
        if (attempt == 0 && PyErr_ExceptionMatches(PyExc_OSError)) {
            PyErr_Clear();
            if (loop_call(e->remove_reader, fdo, NULL, NULL) < 0)
                PyErr_Clear();
            if (loop_call(e->remove_writer, fdo, NULL, NULL) < 0)
                PyErr_Clear();
            reg = 0;
            continue;
        }
        /* The transfer on fd then ends by its own timeout. */
        PyErr_WriteUnraisable(e->loop);
        break;
    }
    if (gc_aio_set_watched(e->aio, fd, target | (have & GC_AIO_CONN)) < 0)
        PyErr_WriteUnraisable((PyObject *)e);
    Py_DECREF(fdo);
}

static int loop_closed(Engine *e)
{
    PyObject *r = PyObject_CallMethod(e->loop, "is_closed", NULL);
    int closed = r == NULL ? 1 : PyObject_IsTrue(r) != 0;
    if (r == NULL)
        PyErr_Clear();
    Py_XDECREF(r);
    return closed;
}

static void cancel_timer(Engine *e)
{
    PyObject *r;
    if (e->timer == NULL)
        return;
    r = PyObject_CallMethod(e->timer, "cancel", NULL);
    if (r == NULL)
        PyErr_WriteUnraisable(e->timer);
    Py_XDECREF(r);
    Py_CLEAR(e->timer);
}

/* libcurl's timer -> one loop timer, from curl_multi_timeout after every
 * step.  A pending timer that fires no later is kept (a new handle per
 * call would cost more than an early wake-up, after which this runs again). */
static void apply_timer(Engine *e)
{
    long ms = gc_aio_timeout(e->aio);
    double at;
    PyObject *handle, *delay, *cb;

    if (ms < 0) {
        cancel_timer(e);
        return;
    }
    at = gc_now() + (double)ms / 1000.0;
    if (e->timer != NULL && e->timer_at <= at + 0.0005)
        return;
    cancel_timer(e);
    cb = callback(e, CB_TIMER);
    if (cb == NULL) {
        handle = NULL;
    } else if (ms == 0) {
        handle = PyObject_CallOneArg(e->call_soon, cb);
    } else {
        delay = PyFloat_FromDouble((double)ms / 1000.0);
        handle = delay ? PyObject_CallFunctionObjArgs(e->call_later, delay, cb, NULL) : NULL;
        Py_XDECREF(delay);
    }
    Py_XDECREF(cb);
    if (handle == NULL) {
        PyErr_WriteUnraisable(e->loop);
        return;
    }
    e->timer = handle;
    e->timer_at = at;
}

/* future.done() (arg NULL) or future.set_result(arg) through the unbound
 * methods of its type, looked up once per type: by name per call it costs
 * an attribute lookup and a bound method object each time. */
static PyObject *future_call(Engine *e, PyObject *future, PyObject *arg)
{
    PyObject *args[2] = {future, arg};
    PyObject *type = (PyObject *)Py_TYPE(future);

    if (e->future_type != type) {
        PyObject *done = PyObject_GetAttrString(type, "done");
        PyObject *set_result = done ? PyObject_GetAttrString(type, "set_result") : NULL;
        if (set_result == NULL) {
            Py_XDECREF(done);
            return NULL;
        }
        Py_XSETREF(e->future_done, done);
        Py_XSETREF(e->future_set_result, set_result);
        Py_XSETREF(e->future_type, Py_NewRef(type));
    }
    return arg == NULL ? PyObject_Vectorcall(e->future_done, args, 1, NULL)
                       : PyObject_Vectorcall(e->future_set_result, args, 2, NULL);
}

/* Resolve a finished call's future (unless it was cancelled meanwhile). */
static void resolve(Engine *e, Call *call)
{
    PyObject *value, *error = NULL, *pair = NULL, *exc = NULL, *r;
    PyObject *future = call->future;
    int done;

    value = gc_py_call_outcome(e->core, call->args, &call->c.resp, &call->c.log, &error);
    /* A hook raised (or converting failed): the call's exception is that
     * one.  Taken now: no method of the future may run while it is set. */
    if (value == NULL && error == NULL)
        exc = gc_take_exception();
    if (future == NULL)
        goto out;
    r = future_call(e, future, NULL);
    done = r == NULL ? -1 : PyObject_IsTrue(r);
    Py_XDECREF(r);
    if (done != 0) {
        if (done < 0)
            PyErr_Clear();
        goto out;
    }
    if (value == NULL && error == NULL) {
        r = exc ? PyObject_CallMethod(future, "set_exception", "(O)", exc) : NULL;
    } else {
        pair = PyTuple_Pack(2, value ? Py_True : Py_False, value ? value : error);
        r = pair ? future_call(e, future, pair) : NULL;
    }
    if (r == NULL)
        PyErr_WriteUnraisable(future);
    Py_XDECREF(r);
out:
    Py_XDECREF(pair);
    Py_XDECREF(exc);
    Py_XDECREF(value);
    Py_XDECREF(error);
    call_release(e, call);
}

static void schedule_retry(Engine *e, Call *call)
{
    PyObject *delay = PyFloat_FromDouble(call->c.delay), *cb = callback(e, CB_RETRY);
    PyObject *handle = delay && cb ? PyObject_CallFunctionObjArgs(e->call_later, delay, cb,
                                                                  (PyObject *)call, NULL)
                                   : NULL;
    Py_XDECREF(delay);
    Py_XDECREF(cb);
    if (handle == NULL) {
        /* Cannot wait: end the call with the answer it has. */
        PyErr_WriteUnraisable(e->loop);
        call->c.state = GC_AIO_FINISHED;
        resolve(e, call);
        return;
    }
    Py_XSETREF(call->retry, handle);
}

/* After any engine step: apply libcurl's records to the loop, close the
 * sockets it gave up, then resolve or reschedule the calls it reported. */
static void flush(Engine *e)
{
    gc_aio *aio = e->aio;
    gc_aio_call *c;
    size_t i;

    for (;;) {
        for (i = 0; i < aio->n_ops; i++)
            watch(e, aio->ops[i].fd, aio->ops[i].want, 1);
        aio->n_ops = 0;
        for (i = 0; i < aio->n_closes; i++) {
            int fd = aio->closes[i];
            watch(e, fd, 0, 0);
            gc_aio_set_watched(aio, fd, 0);
            close(fd);
        }
        aio->n_closes = 0;
        c = gc_aio_take_report(aio);
        if (c == NULL) {
            apply_timer(e);
            if (aio->n_ops == 0 && aio->n_closes == 0 && aio->report_head == NULL)
                break;
            continue;
        }
        if (c->state == GC_AIO_BACKOFF)
            schedule_retry(e, call_of(c));
        else
            resolve(e, call_of(c));
    }
}

/* libcurl's work for one event, with the GIL released. */
static void step(Engine *e, int fd, int events)
{
    e->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    gc_aio_step(e->aio, fd, events);
    Py_END_ALLOW_THREADS
    e->busy = 0;
    flush(e);
}

/* ------------------------------------------------------------ loop callbacks */

static int event_usable(Engine *e)
{
    return !e->closed && e->aio != NULL && !e->busy && e->generation == gc_fork_generation();
}

static PyObject *engine_on_read(Engine *e, PyObject *fd)
{
    long n = PyLong_AsLong(fd);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (event_usable(e)) {
        step(e, (int)n, CURL_CSELECT_IN);
        /* Readable while no transfer uses it: closed by the server (or junk);
         * libcurl finds out when it next picks the connection.  Stop watching. */
        if (e->aio != NULL && (gc_aio_watched(e->aio, (int)n) & GC_AIO_STALE))
            watch(e, (int)n, 0, 0);
    }
    Py_RETURN_NONE;
}

static PyObject *engine_on_write(Engine *e, PyObject *fd)
{
    long n = PyLong_AsLong(fd);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (event_usable(e))
        step(e, (int)n, CURL_CSELECT_OUT);
    Py_RETURN_NONE;
}

static PyObject *engine_on_timer(Engine *e, PyObject *Py_UNUSED(ignored))
{
    Py_CLEAR(e->timer);
    if (event_usable(e))
        step(e, -1, 0);
    Py_RETURN_NONE;
}

static PyObject *engine_on_retry(Engine *e, PyObject *arg)
{
    Call *call = (Call *)arg;
    if (call->engine != e || call->c.state != GC_AIO_BACKOFF)
        Py_RETURN_NONE;
    Py_CLEAR(call->retry);
    if (!event_usable(e))
        Py_RETURN_NONE;
    gc_aio_retry(e->aio, &call->c);
    flush(e);
    Py_RETURN_NONE;
}

static PyMethodDef callback_defs[4] = {
    {"_on_read", (PyCFunction)engine_on_read, METH_O, NULL},
    {"_on_write", (PyCFunction)engine_on_write, METH_O, NULL},
    {"_on_timer", (PyCFunction)engine_on_timer, METH_NOARGS, NULL},
    {"_on_retry", (PyCFunction)engine_on_retry, METH_O, NULL},
};

/* ------------------------------------------------------------ methods */

static int engine_init(Engine *e, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"core", "loop", "max_concurrency", NULL};
    PyObject *core, *loop;
    int max_concurrency;
    PyObject **slots[] = {&e->add_reader, &e->remove_reader, &e->add_writer, &e->remove_writer,
                          &e->call_later, &e->call_soon};
    static const char *names[] = {"add_reader", "remove_reader", "add_writer", "remove_writer",
                                  "call_later", "call_soon"};
    size_t i;

    if (e->aio != NULL || e->core != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "AsyncEngine.__init__ called twice");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO$i:AsyncEngine", kwlist, &core, &loop,
                                     &max_concurrency))
        return -1;
    if (max_concurrency < 1) {
        PyErr_SetString(PyExc_ValueError, "max_concurrency must be >= 1");
        return -1;
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        *slots[i] = PyObject_GetAttrString(loop, names[i]);
        if (*slots[i] == NULL)
            return -1;
    }
    e->call_type = (PyTypeObject *)PyObject_GetAttrString(
        PyType_GetModuleByDef(Py_TYPE(e), &gc_core_module), "AsyncCall");
    if (e->call_type == NULL)
        return -1;
    e->client = gc_py_client_acquire(core, &e->generation);
    if (e->client == NULL)
        return -1;
    e->core = Py_NewRef(core);
    e->loop = Py_NewRef(loop);
    e->aio = gc_aio_new(e->client, max_concurrency);
    if (e->aio == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *engine_submit(Engine *e, PyObject *const *args, Py_ssize_t nargs)
{
    Call *call;

    if (nargs != 5 && nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "submit(endpoint, params, query, body, future, [options, raw], /)");
        return NULL;
    }
    if (usable(e) < 0)
        return NULL;
    call = PyObject_New(Call, e->call_type);
    if (call == NULL)
        return NULL;
    memset((char *)call + offsetof(Call, c), 0, sizeof *call - offsetof(Call, c));
    call->args = gc_py_call_prepare(e->core, args[0], args[1], args[2], args[3],
                                    nargs == 7 ? args[5] : NULL, nargs == 7 ? args[6] : NULL,
                                    &call->c.req);
    if (nargs == 7 && args[5] != Py_None)
        call->options = Py_NewRef(args[5]);  /* c.req points into it */
    /* Converting the arguments may run Python code that closed the client. */
    if (call->args == NULL || usable(e) < 0) {
        Py_DECREF(call);
        return NULL;
    }
    call->future = Py_NewRef(args[4]);
    live_add(e, call);
    gc_aio_submit(e->aio, &call->c);
    /* A call that got a slot starts sending now (one loop iteration sooner
     * than waiting for libcurl's "at once" timer). */
    if (call->c.state == GC_AIO_RUNNING)
        step(e, -1, 0);
    else
        flush(e);
    return (PyObject *)call;
}

/* Stop a call now and free it; its future is left as it is (the caller
 * was cancelled).  Returns True when the call was still running. */
static int cancel_call(Engine *e, Call *call)
{
    if (call->engine != e)
        return 0;
    if (call->retry != NULL) {
        PyObject *r = PyObject_CallMethod(call->retry, "cancel", NULL);
        if (r == NULL)
            PyErr_WriteUnraisable(call->retry);
        Py_XDECREF(r);
    }
    if (e->aio != NULL)
        gc_aio_cancel(e->aio, &call->c);
    call_release(e, call);
    return 1;
}

static PyObject *engine_cancel(Engine *e, PyObject *arg)
{
    int was_live;
    if (!PyObject_TypeCheck(arg, e->call_type)) {
        PyErr_SetString(PyExc_TypeError, "cancel(call): not an AsyncEngine call");
        return NULL;
    }
    if (e->busy) {
        PyErr_SetString(PyExc_RuntimeError, "AsyncEngine.cancel: the engine is busy in another thread");
        return NULL;
    }
    Py_INCREF(arg);
    was_live = cancel_call(e, (Call *)arg);
    if (e->aio != NULL && !e->closed)
        flush(e);
    Py_DECREF(arg);
    return PyBool_FromLong(was_live);
}

/* Close the engine: calls still live get (False, RuntimeError) when their
 * future waits; with_loop: stop the loop watching our sockets first. */
static void engine_shutdown(Engine *e, int with_loop)
{
    gc_aio *aio = e->aio;
    size_t i;
    int forked = e->generation != gc_fork_generation();

    e->closed = 1;
    if (aio == NULL)
        return;
    while (e->live != NULL) {
        Call *call = e->live;
        PyObject *future = call->future ? Py_NewRef(call->future) : NULL;
        Py_INCREF(call);
        if (!forked)
            cancel_call(e, call);
        else
            call_release(e, call);
        if (future != NULL && with_loop) {
            PyObject *r = PyObject_CallMethod(future, "done", NULL);
            if (r != NULL && !PyObject_IsTrue(r)) {
                PyObject *exc = PyObject_CallFunction(
                    PyExc_RuntimeError, "s", "the AsyncClient was closed while this call was in flight");
                PyObject *pair = exc ? Py_BuildValue("(ON)", Py_False, exc) : NULL;
                Py_XDECREF(r);
                r = pair ? PyObject_CallMethod(future, "set_result", "(O)", pair) : NULL;
                Py_XDECREF(pair);
            }
            if (r == NULL)
                PyErr_WriteUnraisable(future);
            Py_XDECREF(r);
        }
        Py_XDECREF(future);
        Py_DECREF(call);
    }
    if (e->timer != NULL) {
        PyObject *r = PyObject_CallMethod(e->timer, "cancel", NULL);
        if (r == NULL)
            PyErr_Clear();
        Py_XDECREF(r);
        Py_CLEAR(e->timer);
    }
    if (forked) {
        e->aio = NULL;
        gc_aio_free(aio, 0);  /* the parent's sockets: abandoned, never closed */
        return;
    }
    gc_aio_shutdown(aio);  /* its sockets stay open (closes) until after this */
    if (with_loop)
        for (i = 0; i < aio->n_watched; i++)
            if (aio->watched[i] & (GC_AIO_READ | GC_AIO_WRITE))
                watch(e, (int)i, 0, 0);
    aio->n_ops = 0;
    e->aio = NULL;
    gc_aio_free(aio, 1);  /* closes the sockets libcurl gave up */
    gc_py_client_release(e->core, e->client, e->generation);
    e->client = NULL;
}

static PyObject *engine_close(Engine *e, PyObject *Py_UNUSED(ignored))
{
    if (e->busy) {
        PyErr_SetString(PyExc_RuntimeError, "AsyncEngine.close: the engine is busy in another thread");
        return NULL;
    }
    engine_shutdown(e, e->loop != NULL && !loop_closed(e));
    Py_RETURN_NONE;
}

static PyObject *engine_live(Engine *e, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(e->n_live);
}

static PyObject *engine_closed(Engine *e, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(e->closed);
}

static PyObject *engine_in_flight(Engine *e, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(e->aio ? e->aio->in_flight : 0);
}

static PyObject *engine_watched(Engine *e, void *Py_UNUSED(closure))
{
    size_t i;
    long n = 0;
    if (e->aio != NULL)
        for (i = 0; i < e->aio->n_watched; i++)
            n += (e->aio->watched[i] & (GC_AIO_READ | GC_AIO_WRITE)) != 0 &&
                 !(e->aio->watched[i] & GC_AIO_STALE);
    return PyLong_FromLong(n);
}

/* The engine holds the core client, whose attempt hook may lead back to
 * the object owning the AsyncClient: the collector must see that edge, or
 * such a cycle is never freed (and an unclosed client never warns).  No
 * tp_clear: the cycle is broken at the Python objects in it (their
 * __dict__), and the engine then goes by dealloc as usual. */
static int engine_traverse(Engine *e, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(e));
    Py_VISIT(e->core);
    Py_VISIT(e->loop);
    Py_VISIT(e->add_reader);
    Py_VISIT(e->remove_reader);
    Py_VISIT(e->add_writer);
    Py_VISIT(e->remove_writer);
    Py_VISIT(e->call_later);
    Py_VISIT(e->call_soon);
    Py_VISIT(e->future_type);
    Py_VISIT(e->future_done);
    Py_VISIT(e->future_set_result);
    Py_VISIT(e->timer);
    return 0;
}

static void engine_dealloc(Engine *e)
{
    PyTypeObject *type = Py_TYPE(e);
    PyObject_GC_UnTrack(e);
    /* No loop calls here: the loop may be closed, or run by another thread.
     * Nothing is watched any more (the loop would hold a reference). */
    if (e->aio != NULL && e->busy == 0)
        engine_shutdown(e, 0);
    Py_CLEAR(e->add_reader);
    Py_CLEAR(e->remove_reader);
    Py_CLEAR(e->add_writer);
    Py_CLEAR(e->remove_writer);
    Py_CLEAR(e->call_later);
    Py_CLEAR(e->call_soon);
    Py_CLEAR(e->call_type);
    Py_CLEAR(e->future_type);
    Py_CLEAR(e->future_done);
    Py_CLEAR(e->future_set_result);
    Py_CLEAR(e->timer);
    Py_CLEAR(e->loop);
    Py_CLEAR(e->core);
    type->tp_free((PyObject *)e);
    Py_DECREF(type);
}

static PyMethodDef engine_methods[] = {
    {"submit", (PyCFunction)(void (*)(void))engine_submit, METH_FASTCALL,
     "submit($self, endpoint, params, query, body, future, options=None, raw=False, /)\n--\n\n"
     "Start one call (or queue it behind max_concurrency transfers).  The future\n"
     "gets (True, value) or (False, TransportError); value is (value, status,\n"
     "headers, attempts) when raw.  options: a capsule from Client.options().\n"
     "Bad arguments raise\n"
     "ValueError/TypeError now.  Returns the call, for cancel()."},
    {"cancel", (PyCFunction)engine_cancel, METH_O,
     "cancel($self, call, /)\n--\n\n"
     "Stop the call at once (out of the multi, the queue or its backoff) and\n"
     "free it; it is never retried.  True if it was still running."},
    {"close", (PyCFunction)engine_close, METH_NOARGS,
     "close($self, /)\n--\n\nEnd every call and close the connections; idempotent."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef engine_getset[] = {
    {"live", (getter)engine_live, NULL, "Calls not finished (queued, in flight, in backoff).", NULL},
    {"in_flight", (getter)engine_in_flight, NULL, "Transfers in the multi now.", NULL},
    {"watched", (getter)engine_watched, NULL,
     "Sockets the loop watches for a transfer (idle keep-alive connections not counted).", NULL},
    {"closed", (getter)engine_closed, NULL, "True once closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot engine_slots[] = {
    {Py_tp_doc, "AsyncEngine(core, loop, *, max_concurrency)\n--\n\n"
                "The asyncio transport of the C core; use gettcommerce.AsyncClient."},
    {Py_tp_init, engine_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, engine_dealloc},
    {Py_tp_traverse, engine_traverse},
    {Py_tp_methods, engine_methods},
    {Py_tp_getset, engine_getset},
    {0, NULL}
};

static PyType_Spec engine_spec = {
    .name = "gettcommerce._core.AsyncEngine",
    .basicsize = sizeof(Engine),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = engine_slots,
};

/* ------------------------------------------------------------ calls */

static void call_dealloc(Call *call)
{
    PyTypeObject *type = Py_TYPE(call);
    /* A live call is owned by its engine: here it is over. */
    gc_py_call_free(call->args);
    Py_CLEAR(call->options);
    Py_CLEAR(call->retry);
    Py_CLEAR(call->future);
    type->tp_free((PyObject *)call);
    Py_DECREF(type);
}

static PyObject *call_live(Call *call, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(call->engine != NULL);
}

static PyGetSetDef call_getset[] = {
    {"live", (getter)call_live, NULL, "True until the call finished or was cancelled.", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot call_slots[] = {
    {Py_tp_doc, "One call of an AsyncEngine (pass it to AsyncEngine.cancel)."},
    {Py_tp_dealloc, call_dealloc},
    {Py_tp_getset, call_getset},
    {0, NULL}
};

static PyType_Spec call_spec = {
    .name = "gettcommerce._core.AsyncCall",
    .basicsize = sizeof(Call),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = call_slots,
};

int gc_aio_type_init(PyObject *module, gc_module_state *state)
{
    PyObject *engine, *call;
    int rc;
    (void)state;
    engine = PyType_FromModuleAndSpec(module, &engine_spec, NULL);
    if (engine == NULL)
        return -1;
    rc = PyModule_AddType(module, (PyTypeObject *)engine);
    Py_DECREF(engine);
    if (rc < 0)
        return -1;
    call = PyType_FromModuleAndSpec(module, &call_spec, NULL);
    if (call == NULL)
        return -1;
    rc = PyModule_AddType(module, (PyTypeObject *)call);
    Py_DECREF(call);
    return rc;
}
