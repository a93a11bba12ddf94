/* convert.c - cJSON trees to Python objects and back, without text in between.
 *
 * Responses become dict/list/str/int/float/bool/None directly from the parsed
 * tree (or, for a ModelReader's call, a model straight from the tree);
 * request bodies go from Python containers straight into cJSON.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

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

/* ------------------------------------------------------------ model readers */

/* A ModelReader reads a 2xx answer into a model whose fields are slots,
 * with no Python frame: the C core builds the model straight from the
 * parsed cJSON tree (gc_reader_from_cjson, no dict in between), and as a
 * `read(raw, request)` it builds one from a dict (a batch's or a raw
 * response's answer).  Anything but the plain case -- not an object, the
 * required field empty or missing, no path id -- goes to the fallback, the
 * Python reader, which says what is wrong (or reads it as it always did). */
#define GC_READER_FIELDS 16

typedef struct reader_field {
    PyObject *descr;      /* the slot's descriptor on the model class */
    PyObject *key;        /* the answer's key (a str), or NULL: the slot is set to None */
    const char *key_c;    /* its UTF-8 (owned by key) */
} reader_field;

typedef struct model_reader {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    PyObject *fallback;   /* fallback(raw, request) */
    PyObject *id_descr;   /* the slot set to request[1][0], or NULL */
    Py_ssize_t required;  /* index of the field whose value must be truthy */
    Py_ssize_t n;
    reader_field fields[GC_READER_FIELDS];
} model_reader;

static int reader_traverse(model_reader *r, visitproc visit, void *arg)
{
    Py_ssize_t i;
    Py_VISIT(r->cls);
    Py_VISIT(r->fallback);
    Py_VISIT(r->id_descr);
    for (i = 0; i < r->n; i++) {
        Py_VISIT(r->fields[i].descr);
        Py_VISIT(r->fields[i].key);
    }
    Py_VISIT(Py_TYPE(r));
    return 0;
}

static int reader_clear(model_reader *r)
{
    Py_ssize_t i = r->n;
    r->n = 0;
    Py_CLEAR(r->cls);
    Py_CLEAR(r->fallback);
    Py_CLEAR(r->id_descr);
    while (i-- > 0) {
        r->fields[i].key_c = NULL;
        Py_CLEAR(r->fields[i].key);
        Py_CLEAR(r->fields[i].descr);
    }
    return 0;
}

static void reader_dealloc(model_reader *r)
{
    PyTypeObject *type = Py_TYPE(r);
    PyObject_GC_UnTrack(r);
    reader_clear(r);
    type->tp_free((PyObject *)r);
    Py_DECREF(type);
}

/* The model: values[i] (borrowed; NULL is None) into field i's slot, id into the id slot. */
static PyObject *reader_build(const model_reader *r, PyObject *const *values, PyObject *id)
{
    PyObject *obj = r->cls->tp_alloc(r->cls, 0);
    Py_ssize_t i;

    for (i = 0; obj != NULL && i < r->n; i++) {
        PyObject *descr = r->fields[i].descr;
        if (Py_TYPE(descr)->tp_descr_set(descr, obj, values[i] ? values[i] : Py_None) < 0)
            Py_CLEAR(obj);
    }
    if (obj != NULL && r->id_descr != NULL &&
        Py_TYPE(r->id_descr)->tp_descr_set(r->id_descr, obj, id) < 0)
        Py_CLEAR(obj);
    return obj;
}

/* request[1][0] (borrowed) of a request tuple's params, or NULL (no exception). */
static PyObject *first_param(PyObject *params)
{
    return PyTuple_CheckExact(params) && PyTuple_GET_SIZE(params) > 0 ? PyTuple_GET_ITEM(params, 0)
                                                                        : NULL;
}

/* read(raw, request) */
static PyObject *reader_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    model_reader *r = (model_reader *)self;
    PyObject *values[GC_READER_FIELDS] = {NULL}, *raw, *id = NULL, *request, *result = NULL;
    Py_ssize_t i;
    int truth = 0;

    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "read(raw, request) takes two positional arguments");
        return NULL;
    }
    raw = args[0];
    request = args[1];
    /* Already read by the C core (Client.call): a JSON answer is never a model. */
    if (Py_TYPE(raw) == r->cls)
        return Py_NewRef(raw);
    if (PyDict_CheckExact(raw) && PyTuple_CheckExact(request) && PyTuple_GET_SIZE(request) > 1)
        id = first_param(PyTuple_GET_ITEM(request, 1));
    for (i = 0; id != NULL && i < r->n; i++) {
        if (r->fields[i].key == NULL)
            continue;
        values[i] = PyDict_GetItemWithError(raw, r->fields[i].key);  /* borrowed */
        if (values[i] == NULL && PyErr_Occurred())
            return NULL;
    }
    if (id != NULL && values[r->required] != NULL) {
        truth = PyObject_IsTrue(values[r->required]);
        if (truth < 0)
            return NULL;
    }
    if (truth)
        result = reader_build(r, values, id);
    else
        result = PyObject_Vectorcall(r->fallback, args, 2, NULL);
    return result;
}

/* The field spec: ((slot, key or None), ...) -> r->fields.  -1 with an exception set. */
static int reader_fields(model_reader *r, PyObject *fields, PyObject *required)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(fields);

    if (n < 1 || n > GC_READER_FIELDS) {
        PyErr_Format(PyExc_ValueError, "ModelReader: 1 to %d fields", GC_READER_FIELDS);
        return -1;
    }
    r->required = -1;
    for (i = 0; i < n; i++) {
        PyObject *spec = PyTuple_GET_ITEM(fields, i), *slot, *key;
        if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 2 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(spec, 0)) ||
            (PyTuple_GET_ITEM(spec, 1) != Py_None && !PyUnicode_Check(PyTuple_GET_ITEM(spec, 1)))) {
            PyErr_SetString(PyExc_TypeError, "ModelReader: each field is (slot name, key or None)");
            return -1;
        }
        slot = PyTuple_GET_ITEM(spec, 0);
        key = PyTuple_GET_ITEM(spec, 1);
        r->fields[i].descr = PyObject_GetAttr((PyObject *)r->cls, slot);
        r->n = i + 1;
        if (r->fields[i].descr == NULL)
            return -1;
        if (Py_TYPE(r->fields[i].descr)->tp_descr_set == NULL) {
            PyErr_Format(PyExc_TypeError, "ModelReader: %R is not a settable slot", slot);
            return -1;
        }
        if (key != Py_None) {
            r->fields[i].key = Py_NewRef(key);
            r->fields[i].key_c = PyUnicode_AsUTF8(key);
            if (r->fields[i].key_c == NULL)
                return -1;
            if (PyUnicode_Compare(key, required) == 0)
                r->required = i;
        }
    }
    if (r->required < 0) {
        PyErr_Format(PyExc_ValueError, "ModelReader: the required key %R is not a field's", required);
        return -1;
    }
    return 0;
}

/* ModelReader(model, fields, required, id_slot, fallback) */
static PyObject *reader_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"model", "fields", "required", "id_slot", "fallback", NULL};
    PyObject *cls, *fields, *required, *id_slot, *fallback;
    model_reader *r;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!UOO:ModelReader", kwlist, &PyType_Type, &cls,
                                     &PyTuple_Type, &fields, &required, &id_slot, &fallback))
        return NULL;
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "ModelReader: fallback must be callable");
        return NULL;
    }
    r = (model_reader *)type->tp_alloc(type, 0);
    if (r == NULL)
        return NULL;
    r->vectorcall = reader_vectorcall;
    r->cls = (PyTypeObject *)Py_NewRef(cls);
    r->fallback = Py_NewRef(fallback);
    if (reader_fields(r, fields, required) < 0)
        goto error;
    if (id_slot != Py_None) {
        r->id_descr = PyObject_GetAttr(cls, id_slot);
        if (r->id_descr == NULL)
            goto error;
        if (Py_TYPE(r->id_descr)->tp_descr_set == NULL) {
            PyErr_Format(PyExc_TypeError, "ModelReader: %R is not a settable slot", id_slot);
            goto error;
        }
    }
    return (PyObject *)r;
error:
    Py_DECREF(r);
    return NULL;
}

static PyMemberDef reader_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(model_reader, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}
};

static PyType_Slot reader_slots[] = {
    {Py_tp_new, reader_new},
    {Py_tp_dealloc, reader_dealloc},
    {Py_tp_traverse, reader_traverse},
    {Py_tp_doc, "ModelReader(model, fields, required, id_slot, fallback)\n--\n\n"
                "read(raw, request) for `model`, a class of slots: fields is ((slot, answer key or None),\n"
                "...); when the answer is a dict whose `required` key is truthy and the request\n"
                "has a path id, the model is built here (id_slot = request[1][0]); otherwise\n"
                "fallback(raw, request) reads it.  A model already built by Client.call is\n"
                "returned as it is."},
    {Py_tp_clear, reader_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, reader_members},
    {0, NULL}
};

int gc_is_reader(PyObject *obj)
{
    return Py_TYPE(obj)->tp_dealloc == (destructor)reader_dealloc;
}

static PyType_Spec reader_spec = {
    .slots = reader_slots,
    .name = "gettcommerce._core.ModelReader",
    .basicsize = sizeof(model_reader),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_HAVE_VECTORCALL,
};

int gc_reader_type_init(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &reader_spec, NULL);
    int rc = type != NULL ? PyModule_AddType(module, (PyTypeObject *)type) : -1;
    Py_XDECREF(type);
    return rc;
}

PyObject *gc_reader_from_cjson(PyObject *reader, const cJSON *json, PyObject *params)
{
    const model_reader *r = (const model_reader *)reader;
    const cJSON *found[GC_READER_FIELDS] = {NULL}, *child;
    PyObject *values[GC_READER_FIELDS] = {NULL}, *id = first_param(params), *result = NULL;
    Py_ssize_t i;
    int truth = 0, failed = 0;

    if (id == NULL || !cJSON_IsObject(json))
        return NULL;
    /* The last of repeated keys wins, as in the dict the answer would make. */
    for (child = json->child; child != NULL; child = child->next)
        for (i = 0; child->string != NULL && i < r->n; i++)
            if (r->fields[i].key_c != NULL && strcmp(child->string, r->fields[i].key_c) == 0)
                found[i] = child;
    for (i = 0; i < r->n && !failed; i++)
        if (found[i] != NULL)
            failed = (values[i] = to_py(found[i])) == NULL;
    if (!failed && values[r->required] != NULL)
        failed = (truth = PyObject_IsTrue(values[r->required])) < 0;
    if (!failed && truth)
        result = reader_build(r, values, id);
    for (i = 0; i < r->n; i++)
        Py_XDECREF(values[i]);
    return result;
}
