/* catalog_py.c - Python binding of the CatalogSet validator (catalog.c).
 *
 * validate_catalogset(data) takes JSON text (bytes-like or str) or an
 * already-decoded dict and returns [(code, severity, path, message), ...].
 * The GIL is released while the Python-free core parses and validates.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"

/* Matches cJSON's parse cap, so a dict and its JSON text are refused alike. */
#define GC_CATALOG_MAX_DEPTH 1000

typedef struct tree_path {
    gc_buf text;
    int failed;
} tree_path;

static size_t tree_path_push_key(tree_path *p, const char *key)
{
    size_t before = p->text.len;
    if (gc_buf_append_str(&p->text, "[") < 0 || gc_buf_append_str(&p->text, "'") < 0 ||
        gc_buf_append_str(&p->text, key) < 0 || gc_buf_append_str(&p->text, "']") < 0)
        p->failed = 1;
    return before;
}

static size_t tree_path_push_index(tree_path *p, Py_ssize_t index)
{
    char tmp[32];
    size_t before = p->text.len;
    int n = snprintf(tmp, sizeof tmp, "[%zd]", index);
    if (gc_buf_append(&p->text, tmp, (size_t)n) < 0)
        p->failed = 1;
    return before;
}

static void tree_path_pop(tree_path *p, size_t len)
{
    if (p->text.data != NULL && len <= p->text.len) {
        p->text.len = len;
        p->text.data[len] = '\0';
    }
}

static const char *tree_path_str(tree_path *p)
{
    return p->text.data ? p->text.data : "data";
}

/* Sign of an int too large for a double (errors count as positive). */
static int sign_of_big_int(PyObject *obj)
{
    PyObject *zero = PyLong_FromLong(0);
    int negative = zero ? PyObject_RichCompareBool(obj, zero, Py_LT) : 0;
    Py_XDECREF(zero);
    if (negative < 0)
        PyErr_Clear();
    return negative > 0 ? -1 : 1;
}

/* A Python value as a cJSON tree for the validator.  Unlike gc_py_to_cjson
 * (made for request bodies, where NaN or a Decimal must be refused), this
 * keeps every number, Decimal and non-finite ones included, so the validator
 * can *report* a bad price instead of the conversion raising. */
static cJSON *tree_from_py(PyObject *obj, tree_path *path, int depth)
{
    cJSON *out = NULL, *child = NULL;
    PyObject *key, *value, *seq = NULL, *as_float = NULL;
    Py_ssize_t pos = 0, i, n, len;
    const char *s;
    size_t saved;
    double number;

    if (depth > GC_CATALOG_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "%s is nested more than %d levels deep",
                     tree_path_str(path), GC_CATALOG_MAX_DEPTH);
        goto error;
    }
    if (obj == Py_None) {
        out = cJSON_CreateNull();
    } else if (obj == Py_True || obj == Py_False) {
        out = cJSON_CreateBool(obj == Py_True);
    } else if (PyUnicode_Check(obj)) {
        s = PyUnicode_AsUTF8AndSize(obj, &len);
        if (s == NULL)
            goto error;
        if ((size_t)len != strlen(s)) {
            PyErr_Format(PyExc_ValueError, "%s contains a NUL character", tree_path_str(path));
            goto error;
        }
        out = cJSON_CreateString(s);
    } else if (PyFloat_Check(obj)) {
        out = cJSON_CreateNumber(PyFloat_AS_DOUBLE(obj));
    } else if (PyLong_Check(obj)) {
        /* A huge int becomes +-inf (reported as a bad price or limit). */
        number = PyLong_AsDouble(obj);
        if (number == -1.0 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                goto error;
            PyErr_Clear();
            number = sign_of_big_int(obj) < 0 ? -HUGE_VAL : HUGE_VAL;
        }
        out = cJSON_CreateNumber(number);
    } else if (PyDict_Check(obj)) {
        out = cJSON_CreateObject();
        if (out == NULL)
            goto nomem;
        while (PyDict_Next(obj, &pos, &key, &value)) {
            if (!PyUnicode_Check(key)) {
                PyErr_Format(PyExc_TypeError, "%s: keys must be str, not %.100s",
                             tree_path_str(path), Py_TYPE(key)->tp_name);
                goto error;
            }
            s = PyUnicode_AsUTF8AndSize(key, &len);
            if (s == NULL)
                goto error;
            saved = tree_path_push_key(path, s);
            if (path->failed)
                goto nomem;
            child = tree_from_py(value, path, depth + 1);
            tree_path_pop(path, saved);
            if (child == NULL)
                goto error;
            if (!cJSON_AddItemToObject(out, s, child))
                goto nomem;
            child = NULL;
        }
    } else if (PyList_Check(obj) || PyTuple_Check(obj)) {
        seq = PySequence_Fast(obj, "expected a sequence");
        if (seq == NULL)
            goto error;
        out = cJSON_CreateArray();
        if (out == NULL)
            goto nomem;
        n = PySequence_Fast_GET_SIZE(seq);
        for (i = 0; i < n; i++) {
            saved = tree_path_push_index(path, i);
            if (path->failed)
                goto nomem;
            child = tree_from_py(PySequence_Fast_GET_ITEM(seq, i), path, depth + 1);
            tree_path_pop(path, saved);
            if (child == NULL)
                goto error;
            if (!cJSON_AddItemToArray(out, child))
                goto nomem;
            child = NULL;
        }
    } else if (PyNumber_Check(obj) && Py_TYPE(obj)->tp_as_number->nb_float != NULL) {
        /* decimal.Decimal, fractions.Fraction, numpy scalars... */
        as_float = PyNumber_Float(obj);
        if (as_float == NULL)
            goto error;
        out = cJSON_CreateNumber(PyFloat_AS_DOUBLE(as_float));
    } else {
        PyErr_Format(PyExc_TypeError, "%s: a CatalogSet holds only JSON values, not %.100s",
                     tree_path_str(path), Py_TYPE(obj)->tp_name);
        goto error;
    }
    if (out == NULL)
        goto nomem;
    Py_XDECREF(seq);
    Py_XDECREF(as_float);
    return out;
nomem:
    PyErr_NoMemory();
error:
    Py_XDECREF(seq);
    Py_XDECREF(as_float);
    cJSON_Delete(child);
    cJSON_Delete(out);
    return NULL;
}

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
    tree_path path = {{NULL, 0, 0}, 0};
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
        if (gc_buf_append_str(&path.text, "data") < 0) {
            PyErr_NoMemory();
            goto cleanup;
        }
        tree = tree_from_py(data, &path, 0);
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
    gc_buf_free(&path.text);
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
