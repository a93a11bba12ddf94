/* catalog_py.c - Python binding of the CatalogSet validator (catalog.c). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "gc.h"

PyMethodDef gc_catalog_methods[] = {
    {NULL, NULL, 0, NULL}
};
