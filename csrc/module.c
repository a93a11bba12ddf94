/* module.c - gettcommerce._core: multi-phase init, module state, GC hooks.
 *
 * The module owns no process-wide Python objects: types and the exception
 * live in module state, reached from methods via PyType_GetModuleByDef.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <curl/curl.h>

#include "gc.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code = CURLE_OK;

/* curl_global_init is process-wide and not thread-safe: run it exactly once
 * and never clean it up from module teardown (other modules may use curl). */
static void curl_init_once(void)
{
    curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

gc_module_state *gc_module_state_of(PyObject *module)
{
    return (gc_module_state *)PyModule_GetState(module);
}

PyDoc_STRVAR(transport_error_doc,
"Low-level error raised by the C core.\n\n"
"Attributes: kind (one of 'status', 'timeout', 'connection', 'too_large',\n"
"'decode', 'nomem', 'interrupted'), status, attempts, method, url,\n"
"endpoint, body (parsed problem JSON, text or None), headers (dict),\n"
"retry_after (seconds the server asked to wait, or None).\n"
"gettcommerce.errors maps it to the public exception tree; user code\n"
"never needs to catch it.");

PyDoc_STRVAR(local_error_doc,
"The C core refusing a call itself, before anything is sent (a bad\n"
"argument); ClientClosedError is the closed-client case.  Any other\n"
"exception from a request (a signal or logging handler's) is not one.");

PyDoc_STRVAR(closed_error_doc, "The Client is closed (a LocalError; also a RuntimeError).");

static int core_exec(PyObject *module)
{
    gc_module_state *state = gc_module_state_of(module);
    curl_version_info_data *info;
    PyObject *bases;

    pthread_once(&curl_once, curl_init_once);
    if (curl_init_code != CURLE_OK) {
        PyErr_Format(PyExc_ImportError, "curl_global_init failed: %s",
                     curl_easy_strerror(curl_init_code));
        return -1;
    }
    state->transport_error = PyErr_NewExceptionWithDoc(
        "gettcommerce._core.TransportError", transport_error_doc, NULL, NULL);
    if (state->transport_error == NULL)
        return -1;
    if (PyModule_AddObjectRef(module, "TransportError", state->transport_error) < 0)
        return -1;
    state->local_error = PyErr_NewExceptionWithDoc(
        "gettcommerce._core.LocalError", local_error_doc, PyExc_ValueError, NULL);
    if (state->local_error == NULL)
        return -1;
    if (PyModule_AddObjectRef(module, "LocalError", state->local_error) < 0)
        return -1;
    bases = PyTuple_Pack(2, state->local_error, PyExc_RuntimeError);
    if (bases == NULL)
        return -1;
    state->closed_error = PyErr_NewExceptionWithDoc(
        "gettcommerce._core.ClientClosedError", closed_error_doc, bases, NULL);
    Py_DECREF(bases);
    if (state->closed_error == NULL)
        return -1;
    if (PyModule_AddObjectRef(module, "ClientClosedError", state->closed_error) < 0)
        return -1;
    state->logger_hook = Py_NewRef(Py_None);
    if (gc_interrupt_init() < 0)
        return -1;
    if (PyModule_AddFunctions(module, gc_catalog_methods) < 0)
        return -1;
    if (gc_client_type_init(module, state) < 0 || gc_aio_type_init(module, state) < 0)
        return -1;
    info = curl_version_info(CURLVERSION_NOW);
    if (PyModule_AddStringConstant(module, "curl_version", info->version) < 0)
        return -1;
    if (PyModule_AddStringConstant(module, "cjson_version", cJSON_Version()) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "curl_has_ssl", info->ssl_version != NULL) < 0)
        return -1;
    return 0;
}

static int core_traverse(PyObject *module, visitproc visit, void *arg)
{
    gc_module_state *state = gc_module_state_of(module);
    Py_VISIT(state->client_type);
    Py_VISIT(state->transport_error);
    Py_VISIT(state->logger_hook);
    Py_VISIT(state->local_error);
    Py_VISIT(state->closed_error);
    return 0;
}

static int core_clear(PyObject *module)
{
    gc_module_state *state = gc_module_state_of(module);
    Py_CLEAR(state->client_type);
    Py_CLEAR(state->transport_error);
    Py_CLEAR(state->logger_hook);
    Py_CLEAR(state->local_error);
    Py_CLEAR(state->closed_error);
    return 0;
}

static void core_free(void *module)
{
    core_clear((PyObject *)module);
}

static PyObject *set_logger_hook(PyObject *module, PyObject *hook)
{
    gc_module_state *state = gc_module_state_of(module);
    if (hook != Py_None && !PyCallable_Check(hook)) {
        PyErr_SetString(PyExc_TypeError, "set_logger_hook: hook must be callable or None");
        return NULL;
    }
    Py_SETREF(state->logger_hook, Py_NewRef(hook));
    Py_RETURN_NONE;
}

static PyObject *check_path_param(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const char *field, *value, *problem;
    Py_ssize_t len;

    (void)module;
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "check_path_param(field: str, value: str, /)");
        return NULL;
    }
    field = PyUnicode_AsUTF8(args[0]);
    value = PyUnicode_AsUTF8AndSize(args[1], &len);
    if (field == NULL || value == NULL)
        return NULL;
    problem = gc_path_param_problem(value, (size_t)len);
    if (problem != NULL) {
        PyErr_Format(PyExc_ValueError, "%s %s (got %R)", field, problem, args[1]);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *success_headers_kept(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromUnsignedLong(gc_success_headers_kept());
}

static PyMethodDef core_methods[] = {
    {"success_headers_kept", success_headers_kept, METH_NOARGS,
     "success_headers_kept(/)\n--\n\n"
     "How many 2xx answers had their headers copied, in this process: only\n"
     "raw responses and clients with an attempt hook copy them."},
    {"check_path_param", (PyCFunction)(void (*)(void))check_path_param, METH_FASTCALL,
     "check_path_param(field, value, /)\n--\n\n"
     "Raise ValueError naming `field` if `value` cannot be a path parameter\n"
     "(empty, '.', '..', or holding '/', CR, LF or NUL): the rule every request\n"
     "applies, for ids checked before any request (client.order())."},
    {"set_logger_hook", set_logger_hook, METH_O,
     "set_logger_hook(hook, /)\n--\n\n"
     "Set the callable(method, path, status, ms, attempt) called once per\n"
     "HTTP attempt after a call returns, or None to disable it."},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
    {0, NULL}
};

struct PyModuleDef gc_core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gettcommerce._core",
    .m_doc = "C core of gettcommerce: HTTP over libcurl, JSON via cJSON, "
             "retries, problem+json, CatalogSet validation.",
    .m_size = sizeof(gc_module_state),
    .m_methods = core_methods,
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&gc_core_module);
}
