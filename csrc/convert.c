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

/* Request bodies nest no deeper than cJSON parses, so what we send could
 * be read back.  (Responses need no check of their own: a cJSON tree is
 * never deeper than CJSON_NESTING_LIMIT, gc_json_parse refuses deeper
 * text with "nested more than 1000 levels deep".) */
#define GC_MAX_DEPTH CJSON_NESTING_LIMIT

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

static PyObject *to_py(const cJSON *item)
{
    PyObject *result = NULL, *value = NULL, *key = NULL;
    const cJSON *child;
    Py_ssize_t i = 0, n = 0;

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
            value = to_py(child);
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
            value = to_py(child);
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
    return to_py(item);
}

/* Where the value being converted sits, for error messages:
 * body['items'][2].  Grows as needed; `failed` records out-of-memory. */
typedef struct json_path {
    gc_buf text;
    int failed;
} json_path;

static size_t path_push_key(json_path *p, const char *key)
{
    size_t before = p->text.len;
    if (gc_buf_append_str(&p->text, "['") < 0 || gc_buf_append_str(&p->text, key) < 0 ||
        gc_buf_append_str(&p->text, "']") < 0)
        p->failed = 1;
    return before;
}

static size_t path_push_index(json_path *p, Py_ssize_t index)
{
    char tmp[32];
    size_t before = p->text.len;
    int n = snprintf(tmp, sizeof tmp, "[%zd]", index);
    if (gc_buf_append(&p->text, tmp, (size_t)n) < 0)
        p->failed = 1;
    return before;
}

static void path_pop(json_path *p, size_t len)
{
    if (p->text.data != NULL && len <= p->text.len) {
        p->text.len = len;
        p->text.data[len] = '\0';
    }
}

static const char *path_str(const json_path *p)
{
    return p->text.data ? p->text.data : "value";
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

/* A number as cJSON.  Strict mode (request bodies) refuses what JSON cannot
 * carry exactly; keep_numbers mode (the validator) keeps NaN, infinities,
 * huge ints and Decimals so a bad price is reported, not raised. */
static cJSON *number_from_py(PyObject *obj, const json_path *path, int keep_numbers)
{
    double v;
    if (PyLong_Check(obj)) {
        int overflow = 0;
        long long i = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        if (overflow || i > 9007199254740992LL || i < -9007199254740992LL) {
            if (!keep_numbers) {
                PyErr_Format(PyExc_ValueError, "%s: integer too large for JSON", path_str(path));
                return NULL;
            }
            v = PyLong_AsDouble(obj);
            if (v == -1.0 && PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                    return NULL;
                PyErr_Clear();
                v = sign_of_big_int(obj) < 0 ? -HUGE_VAL : HUGE_VAL;
            }
            return cJSON_CreateNumber(v);
        }
        return cJSON_CreateNumber((double)i);
    }
    if (PyFloat_Check(obj)) {
        v = PyFloat_AS_DOUBLE(obj);
    } else {
        /* decimal.Decimal, fractions.Fraction, numpy scalars... (keep mode only) */
        PyObject *as_float = PyNumber_Float(obj);
        if (as_float == NULL)
            return NULL;
        v = PyFloat_AS_DOUBLE(as_float);
        Py_DECREF(as_float);
    }
    if (!keep_numbers && !isfinite(v)) {
        PyErr_Format(PyExc_ValueError, "%s must be a finite number, not %R", path_str(path), obj);
        return NULL;
    }
    return cJSON_CreateNumber(v);
}

static cJSON *from_py(PyObject *obj, json_path *path, int depth, int keep_numbers)
{
    cJSON *out = NULL, *child = NULL;
    PyObject *key, *value, *seq = NULL, *held_key = NULL, *held_value = NULL;
    Py_ssize_t pos = 0, i, len;
    const char *s;
    size_t saved;

    if (depth > GC_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "%s is nested more than %d levels deep", path_str(path),
                     GC_MAX_DEPTH);
        return NULL;
    }
    if (obj == Py_None) {
        out = cJSON_CreateNull();
    } else if (obj == Py_True || obj == Py_False) {
        out = cJSON_CreateBool(obj == Py_True);
    } else if (PyUnicode_Check(obj)) {
        s = PyUnicode_AsUTF8AndSize(obj, &len);
        if (s == NULL)
            return NULL;
        if ((size_t)len != strlen(s)) {
            PyErr_Format(PyExc_ValueError, "%s contains a NUL character", path_str(path));
            return NULL;
        }
        out = cJSON_CreateString(s);
    } else if (PyLong_Check(obj) || PyFloat_Check(obj)) {
        out = number_from_py(obj, path, keep_numbers);
        if (out == NULL)
            return NULL;
    } else if (PyDict_Check(obj)) {
        out = cJSON_CreateObject();
        if (out == NULL)
            goto nomem;
        while (PyDict_Next(obj, &pos, &key, &value)) {
            /* Borrowed from the dict, which a __float__ further down may
             * mutate: hold both (the key owns `s`) until this entry is done. */
            Py_INCREF(key);
            Py_INCREF(value);
            held_key = key;
            held_value = value;
            if (!PyUnicode_Check(key)) {
                PyErr_Format(PyExc_TypeError, "%s: keys must be str, not %.100s", path_str(path),
                             Py_TYPE(key)->tp_name);
                goto error;
            }
            s = PyUnicode_AsUTF8AndSize(key, &len);
            if (s == NULL)
                goto error;
            /* cJSON keys are C strings: "a\0b" would go out as "a". */
            if ((size_t)len != strlen(s)) {
                PyErr_Format(PyExc_ValueError, "%s: key %R contains a NUL character", path_str(path),
                             key);
                goto error;
            }
            saved = path_push_key(path, s);
            if (path->failed)
                goto nomem;
            child = from_py(value, path, depth + 1, keep_numbers);
            path_pop(path, saved);
            if (child == NULL)
                goto error;
            if (!cJSON_AddItemToObject(out, s, child))
                goto nomem;
            child = NULL;
            Py_CLEAR(held_key);
            Py_CLEAR(held_value);
        }
    } else if (PyList_Check(obj) || PyTuple_Check(obj)) {
        seq = PySequence_Fast(obj, "expected a sequence");
        if (seq == NULL)
            goto error;
        out = cJSON_CreateArray();
        if (out == NULL)
            goto nomem;
        /* The length is read each time: a __float__ further down may shrink
         * the list, and the item is held for the same reason. */
        for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            held_value = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
            saved = path_push_index(path, i);
            if (path->failed)
                goto nomem;
            child = from_py(held_value, path, depth + 1, keep_numbers);
            Py_CLEAR(held_value);
            path_pop(path, saved);
            if (child == NULL)
                goto error;
            if (!cJSON_AddItemToArray(out, child))
                goto nomem;
            child = NULL;
        }
        Py_CLEAR(seq);
    } else if (keep_numbers && PyNumber_Check(obj) && Py_TYPE(obj)->tp_as_number->nb_float != NULL) {
        out = number_from_py(obj, path, keep_numbers);
        if (out == NULL)
            return NULL;
    } else {
        PyErr_Format(PyExc_TypeError, "%s: cannot send a %.100s as JSON", path_str(path),
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (out == NULL)
        goto nomem;
    return out;
nomem:
    PyErr_NoMemory();
error:
    Py_XDECREF(held_key);
    Py_XDECREF(held_value);
    Py_XDECREF(seq);
    cJSON_Delete(child);
    cJSON_Delete(out);
    return NULL;
}

cJSON *gc_py_to_cjson(PyObject *obj, const char *what, int keep_numbers)
{
    json_path path = {{0}, 0};
    cJSON *result = NULL;

    if (gc_buf_append_str(&path.text, what ? what : "value") < 0) {
        PyErr_NoMemory();
        return NULL;
    }
    result = from_py(obj, &path, 0, keep_numbers);
    gc_buf_free(&path.text);
    return result;
}
