/*
 * thread_names.c - Python thread names read from another process (see
 * thread_names.h), with pydict.h's remote dicts and attributes.
 */
#include "thread_names.h"

#include <stdlib.h>
#include <string.h>

#include "pydict.h"
#include "pyobj.h"

int hs_thread_python_name(const hs_target *t, uint64_t *active, uint64_t ident, char *out,
                          size_t outlen) {
    if (!*active)
        *active = hs_py_module_global(t, "threading", "_active");
    hs_py_item *items = NULL;
    long count = *active ? hs_py_dict_items(t, *active, &items) : -1;
    if (count < 0) {
        *active = 0; /* threading not imported yet, or no longer a dict */
        free(items);
        return -1;
    }
    int status = -1;
    for (long i = 0; i < count && status < 0; i++) {
        uint64_t key;
        if (hs_py_u64(t, items[i].key, &key) != 0 || key != ident)
            continue;
        uint64_t name = hs_py_attr(t, items[i].value, "_name");
        if (hs_py_is_type(t, name, "str") && hs_read_str(&t->proc, &t->layout, name, out, outlen) > 0)
            status = 0;
        break;
    }
    free(items);
    return status;
}
