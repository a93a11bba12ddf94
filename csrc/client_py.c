/* client_py.c - _core.Client: the Python face of gc_client (http.c). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "gc.h"

int gc_client_type_init(PyObject *module, gc_module_state *state)
{
    (void)module;
    (void)state;
    return 0;
}
