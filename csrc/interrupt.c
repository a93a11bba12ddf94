/* interrupt.c - make Ctrl-C stop a call that runs without the GIL.
 *
 * CPython's SIGINT handler only sets a flag that the interpreter checks
 * once it runs Python again, which a 30 s transfer would delay.  We chain a
 * handler in front of it: it sets our flag (the transfer's progress
 * callback and backoff sleeps watch it) and then calls CPython's handler,
 * so KeyboardInterrupt is raised as usual when the call returns.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "gc.h"

static volatile int sigint_flag;
static struct sigaction python_action;   /* the handler we chain to */
static pthread_t main_thread;
static int have_main_thread;

static void on_sigint(int signo, siginfo_t *info, void *context)
{
    sigint_flag = 1;
    if (python_action.sa_flags & SA_SIGINFO)
        python_action.sa_sigaction(signo, info, context);
    else if (python_action.sa_handler != SIG_DFL && python_action.sa_handler != SIG_IGN)
        python_action.sa_handler(signo);
}

int gc_interrupt_init(void)
{
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
    rc = 0;
done:
    Py_XDECREF(ident);
    Py_XDECREF(main);
    Py_XDECREF(threading);
    return rc;
}

volatile int *gc_interrupt_arm(void)
{
    struct sigaction current, ours;

    if (!have_main_thread) {
        /* Imported from another thread: learn the main thread when it calls. */
        return NULL;
    }
    if (!pthread_equal(pthread_self(), main_thread))
        return NULL;
    if (sigaction(SIGINT, NULL, &current) != 0)
        return NULL;
    if (!((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigint)) {
        /* SIGINT ignored or default: nothing in Python would react to it. */
        if (!(current.sa_flags & SA_SIGINFO) &&
            (current.sa_handler == SIG_IGN || current.sa_handler == SIG_DFL))
            return NULL;
        /* Python (re)installed its handler since we last looked: chain again. */
        python_action = current;
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = on_sigint;
        ours.sa_mask = current.sa_mask;
        ours.sa_flags = (current.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
        if (sigaction(SIGINT, &ours, NULL) != 0)
            return NULL;
    }
    sigint_flag = 0;
    return &sigint_flag;
}
