/* interrupt.c - Python signal handlers while a call runs without the GIL.
 *
 * CPython runs a signal's Python handler only in the main thread, holding
 * the GIL, once the interpreter checks; a 30 s transfer with the GIL
 * released would delay that (and a handler that raises, e.g. SIGTERM ->
 * sys.exit, would be lost or late).  So on the main thread the core calls
 * back here every GC_CHECK_EVERY seconds: we take the GIL, let CPython run
 * pending handlers (PyErr_CheckSignals), keep what one raised, release the
 * GIL again.  A handler that returns normally does not disturb the call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>

#include "gc.h"

static pthread_t main_thread;
static int have_main_thread;

/* After fork() the thread that forked is the child's main thread (CPython
 * makes it so); remember that for calls made in the child. */
static void atfork_child(void)
{
    main_thread = pthread_self();
    have_main_thread = 1;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
}

int gc_interrupt_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    PyObject *threading = NULL, *main = NULL, *ident = NULL;
    int rc = -1;

    /* Signals reach Python handlers only in the main thread: remember it. */
    threading = PyImport_ImportModule("threading");
    if (threading == NULL)
        goto done;
    main = PyObject_CallMethod(threading, "main_thread", NULL);
    if (main == NULL)
        goto done;
    ident = PyObject_GetAttrString(main, "ident");
    if (ident == NULL)
        goto done;
    if (PyLong_AsUnsignedLong(ident) == PyThread_get_thread_ident()) {
        main_thread = pthread_self();
        have_main_thread = 1;
    }
    if (PyErr_Occurred())
        goto done;
    pthread_once(&once, register_atfork);
    rc = 0;
done:
    Py_XDECREF(ident);
    Py_XDECREF(main);
    Py_XDECREF(threading);
    return rc;
}

PyObject *gc_take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

void gc_give_exception(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    if (exc == NULL)
        return;
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* Called by the core without the GIL, on the thread that released it. */
static int check_signals(void *arg)
{
    gc_signals *s = arg;
    int raised;

    PyEval_RestoreThread(s->tstate);
    raised = PyErr_CheckSignals() < 0;
    if (raised && s->raised == NULL)
        s->raised = gc_take_exception();
    else if (raised)
        PyErr_Clear();
    s->tstate = PyEval_SaveThread();
    return raised;
}

void gc_signals_release(gc_signals *s)
{
    s->raised = NULL;
    s->ir.check = NULL;
    s->ir.arg = s;
    s->ir.fired = 0;
    s->ir.next = 0;  /* the core sets the first check GC_CHECK_EVERY after it starts */
    if (have_main_thread && pthread_equal(pthread_self(), main_thread))
        s->ir.check = check_signals;
    s->tstate = PyEval_SaveThread();
}

PyObject *gc_signals_acquire(gc_signals *s)
{
    PyEval_RestoreThread(s->tstate);
    return s->raised;
}
