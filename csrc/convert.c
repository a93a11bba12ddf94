/* convert.c - cJSON trees to Python objects and back, without text in between.
 *
 * Responses become dict/list/str/int/float/bool/None directly from the parsed
 * tree; request bodies go from Python containers straight into cJSON.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <string.h>

#include "gc.h"

#define GC_MAX_DEPTH 512

/* Keys repeat across objects ("storeId", "status"...); interning them makes
 * every dict share one string object and speeds later lookups. */
static PyObject *key_to_py(const char *key)
{
    /* cJSON does not check UTF-8: invalid bytes become U+FFFD (as in strings). */
    PyObject *s = key ? PyUnicode_DecodeUTF8(key, (Py_ssize_t)strlen(key), "replace")
                      : PyUnicode_FromString("");
    if (s != NULL)
        PyUnicode_InternInPlace(&s);
    return s;
}

static PyObject *number_to_py(const cJSON *item)
{
    double v = item->valuedouble;
    /* An integral value in the exactly-representable range becomes an int. */
    if (isfinite(v) && v == floor(v) && fabs(v) <= 9007199254740992.0)
        return PyLong_FromLongLong((long long)v);
    return PyFloat_FromDouble(v);
}

static PyObject *to_py(const cJSON *item, int depth)
{
    PyObject *result = NULL, *value = NULL, *key = NULL;
    const cJSON *child;
    Py_ssize_t i = 0, n = 0;

    if (depth > GC_MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "JSON nested too deeply");
        return NULL;
    }
    /* cJSON copies string bytes without checking UTF-8.  A stray invalid
     * byte in one field becomes U+FFFD, as the error path already does for
     * bodies, instead of a UnicodeDecodeError that would lose the whole
     * answer (and, in run_batch, every other call's result too). */
    if (cJSON_IsString(item))
        return item->valuestring ? PyUnicode_DecodeUTF8(item->valuestring,
                                                        (Py_ssize_t)strlen(item->valuestring), "replace")
                                 : PyUnicode_FromString("");
    if (cJSON_IsNumber(item))
        return number_to_py(item);
    if (cJSON_IsTrue(item))
        Py_RETURN_TRUE;
    if (cJSON_IsFalse(item))
        Py_RETURN_FALSE;
    if (cJSON_IsNull(item))
        Py_RETURN_NONE;
    if (cJSON_IsArray(item)) {
        for (child = item->child; child; child = child->next)
            n++;
        result = PyList_New(n);
        if (result == NULL)
            goto error;
        for (child = item->child; child; child = child->next) {
            value = to_py(child, depth + 1);
            if (value == NULL)
                goto error;
            PyList_SET_ITEM(result, i++, value);
            value = NULL;
        }
        return result;
    }
    if (cJSON_IsObject(item)) {
        result = PyDict_New();
        if (result == NULL)
            goto error;
        for (child = item->child; child; child = child->next) {
            key = key_to_py(child->string);
            if (key == NULL)
                goto error;
            value = to_py(child, depth + 1);
            if (value == NULL)
                goto error;
            if (PyDict_SetItem(result, key, value) < 0)
                goto error;
            Py_CLEAR(key);
            Py_CLEAR(value);
        }
        return result;
    }
    PyErr_SetString(PyExc_ValueError, "invalid JSON value");
error:
    Py_XDECREF(key);
    Py_XDECREF(value);
    Py_XDECREF(result);
    return NULL;
}

PyObject *gc_cjson_to_py(const cJSON *item)
{
    return to_py(item, 0);
}

/* Path of the value being converted, for error messages: "body.items[2]". */
typedef struct path_buf {
    char text[256];
    size_t len;
} path_buf;

static void path_advance(path_buf *p, int n)
{
    if (n > 0)
        p->len = p->len + (size_t)n < sizeof p->text ? p->len + (size_t)n : sizeof p->text - 1;
}

static size_t path_push_key(path_buf *p, PyObject *key)
{
    size_t before = p->len;
    const char *k = PyUnicode_AsUTF8(key);
    if (k == NULL) {
        PyErr_Clear();
        k = "?";
    }
    path_advance(p, snprintf(p->text + p->len, sizeof p->text - p->len, ".%s", k));
    return before;
}

static size_t path_push_index(path_buf *p, Py_ssize_t index)
{
    size_t before = p->len;
    path_advance(p, snprintf(p->text + p->len, sizeof p->text - p->len, "[%lld]", (long long)index));
    return before;
}

static cJSON *from_py(PyObject *obj, path_buf *path, int depth)
{
    cJSON *out = NULL, *child = NULL;
    PyObject *key, *value, *seq = NULL;
    Py_ssize_t pos = 0, i, n;
    size_t saved;

    if (depth > GC_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "%s is nested too deeply", path->text);
        return NULL;
    }
    if (obj == Py_None)
        out = cJSON_CreateNull();
    else if (obj == Py_True)
        out = cJSON_CreateTrue();
    else if (obj == Py_False)
        out = cJSON_CreateFalse();
    else if (PyUnicode_Check(obj)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
        if (s == NULL)
            return NULL;
        if ((size_t)len != strlen(s)) {
            PyErr_Format(PyExc_ValueError, "%s contains a NUL character", path->text);
            return NULL;
        }
        out = cJSON_CreateString(s);
    } else if (PyLong_Check(obj)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (overflow || v > 9007199254740992LL || v < -9007199254740992LL) {
            PyErr_Format(PyExc_ValueError, "%s: integer too large for JSON", path->text);
            return NULL;
        }
        out = cJSON_CreateNumber((double)v);
    } else if (PyFloat_Check(obj)) {
        double v = PyFloat_AS_DOUBLE(obj);
        if (!isfinite(v)) {
            PyErr_Format(PyExc_ValueError, "%s must be a finite number, not %R", path->text, obj);
            return NULL;
        }
        out = cJSON_CreateNumber(v);
    } else if (PyDict_Check(obj)) {
        out = cJSON_CreateObject();
        if (out == NULL)
            goto nomem;
        while (PyDict_Next(obj, &pos, &key, &value)) {
            const char *k;
            if (!PyUnicode_Check(key)) {
                PyErr_Format(PyExc_TypeError, "%s: keys must be str, not %.100s",
                             path->text, Py_TYPE(key)->tp_name);
                goto error;
            }
            k = PyUnicode_AsUTF8(key);
            if (k == NULL)
                goto error;
            saved = path_push_key(path, key);
            child = from_py(value, path, depth + 1);
            path->len = saved;
            path->text[saved] = '\0';
            if (child == NULL)
                goto error;
            if (!cJSON_AddItemToObject(out, k, child))
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
            saved = path_push_index(path, i);
            child = from_py(PySequence_Fast_GET_ITEM(seq, i), path, depth + 1);
            path->len = saved;
            path->text[saved] = '\0';
            if (child == NULL)
                goto error;
            if (!cJSON_AddItemToArray(out, child))
                goto nomem;
            child = NULL;
        }
        Py_CLEAR(seq);
    } else {
        PyErr_Format(PyExc_TypeError, "%s: cannot send a %.100s as JSON", path->text,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (out == NULL)
        goto nomem;
    return out;
nomem:
    PyErr_NoMemory();
error:
    Py_XDECREF(seq);
    cJSON_Delete(child);
    cJSON_Delete(out);
    return NULL;
}

cJSON *gc_py_to_cjson(PyObject *obj, const char *what)
{
    path_buf path;
    snprintf(path.text, sizeof path.text, "%s", what ? what : "value");
    path.len = strlen(path.text);
    return from_py(obj, &path, 0);
}
