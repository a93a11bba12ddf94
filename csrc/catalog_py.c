/* catalog_py.c - Python binding of the CatalogSet validator (catalog.c).
 *
 * validate_catalogset(data) takes JSON text (bytes-like or str) or an
 * already-decoded dict and returns [(code, severity, path, message), ...].
 * The GIL is released while the Python-free core parses and validates.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "gc.h"

/* Issue text may hold ids from undecoded input bytes: decode with
 * replacement so a bad UTF-8 id cannot turn a report into an exception. */
static PyObject *text_to_py(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *issues_to_py(const gc_issue_list *issues)
{
    PyObject *result = NULL, *tuple = NULL, *code = NULL, *path = NULL, *message = NULL;
    PyObject *error_str = NULL, *warning_str = NULL;
    size_t i;

    result = PyList_New((Py_ssize_t)issues->len);
    error_str = PyUnicode_InternFromString("error");
    warning_str = PyUnicode_InternFromString("warning");
    if (result == NULL || error_str == NULL || warning_str == NULL)
        goto error;
    for (i = 0; i < issues->len; i++) {
        const gc_issue *it = &issues->items[i];
        code = PyUnicode_InternFromString(it->code);
        path = text_to_py(it->path);
        message = text_to_py(it->message);
        if (code == NULL || path == NULL || message == NULL)
            goto error;
        tuple = PyTuple_Pack(4, code,
                             it->severity == GC_SEV_WARNING ? warning_str : error_str,
                             path, message);
        if (tuple == NULL)
            goto error;
        Py_CLEAR(code);
        Py_CLEAR(path);
        Py_CLEAR(message);
        PyList_SET_ITEM(result, (Py_ssize_t)i, tuple);
        tuple = NULL;
    }
    Py_DECREF(error_str);
    Py_DECREF(warning_str);
    return result;
error:
    Py_XDECREF(code);
    Py_XDECREF(path);
    Py_XDECREF(message);
    Py_XDECREF(tuple);
    Py_XDECREF(error_str);
    Py_XDECREF(warning_str);
    Py_XDECREF(result);
    return NULL;
}

static PyObject *validate_catalogset(PyObject *module, PyObject *data)
{
    gc_issue_list issues = {NULL, 0, 0};
    Py_buffer view = {0};
    cJSON *tree = NULL;
    char *copy = NULL;
    const char *text = NULL;
    Py_ssize_t text_len = 0;
    PyObject *result = NULL;
    int rc;

    (void)module;
    if (PyBytes_Check(data)) {
        /* bytes are immutable and the caller holds a reference for the
         * whole call: safe to read without the GIL. */
        text = PyBytes_AS_STRING(data);
        text_len = PyBytes_GET_SIZE(data);
    } else if (PyUnicode_Check(data)) {
        /* The UTF-8 form is cached inside the (immutable) str. */
        text = PyUnicode_AsUTF8AndSize(data, &text_len);
        if (text == NULL)
            goto cleanup;
    } else if (PyDict_Check(data)) {
        /* Straight to a cJSON tree, no JSON text in between; numbers are
         * kept as they are so a bad price is reported, not raised. */
        tree = gc_py_to_cjson(data, "data", 1);
        if (tree == NULL)
            goto cleanup;
    } else if (PyObject_CheckBuffer(data)) {
        /* bytearray/memoryview can change under us once the GIL is gone,
         * so validate a private copy. */
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
            goto cleanup;
        copy = malloc((size_t)view.len + 1);
        if (copy == NULL) {
            PyErr_NoMemory();
            goto cleanup;
        }
        memcpy(copy, view.buf, (size_t)view.len);
        copy[view.len] = '\0';
        text = copy;
        text_len = view.len;
        PyBuffer_Release(&view);
    } else {
        PyErr_Format(PyExc_TypeError,
                     "validate_catalogset: data must be bytes, bytearray, memoryview, str or "
                     "dict, not %.100s", Py_TYPE(data)->tp_name);
        goto cleanup;
    }

    Py_BEGIN_ALLOW_THREADS
    if (tree != NULL)
        rc = gc_catalog_validate_tree(tree, &issues);
    else
        rc = gc_catalog_validate_json(text, (size_t)text_len, &issues);
    Py_END_ALLOW_THREADS

    if (rc < 0) {
        PyErr_NoMemory();
        goto cleanup;
    }
    result = issues_to_py(&issues);
cleanup:
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    gc_issue_list_free(&issues);
    cJSON_Delete(tree);
    free(copy);
    return result;
}

PyMethodDef gc_catalog_methods[] = {
    {"validate_catalogset", validate_catalogset, METH_O,
     "validate_catalogset(data, /)\n--\n\n"
     "Check a CatalogSet against every rule of the validator and return all\n"
     "issues as a list of (code, severity, path, message) tuples; severity is\n"
     "'error' or 'warning', path a JSON Pointer.  data is the JSON text\n"
     "(bytes, bytearray, memoryview or str) or an already-decoded dict.  The\n"
     "GIL is released while validating.  An empty list means valid.\n\n"
     ">>> validate_catalogset(b'[]')[0][:3]\n"
     "('wrong_type', 'error', '')"},
    {NULL, NULL, 0, NULL}
};
