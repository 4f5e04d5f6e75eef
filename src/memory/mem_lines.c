/*
 * mem_lines.c - per-line allocations and frees of chosen functions (see
 * mem_lines.h): choosing code objects, charging frees, and summing the
 * engine's tree per line when the profile is built.
 */
#include "mem_lines.h"

#include <stdlib.h>
#include <string.h>

/* ---- choosing ---------------------------------------------------------- */

/* The code's (start, end, line) ranges in bytes (PEP 626, co_lines()) as a
 * line per 2-byte code unit, and the lowest and highest line. */
static int map_lines(hs_mem_chosen *c) {
    PyObject *ranges = PyObject_CallMethod(c->code, "co_lines", NULL);
    PyObject *it = ranges ? PyObject_GetIter(ranges) : NULL;
    Py_XDECREF(ranges);
    if (!it)
        return -1;
    int32_t lo = ((PyCodeObject *)c->code)->co_firstlineno, hi = lo;
    PyObject *item;
    while ((item = PyIter_Next(it)) != NULL) {
        long start = -1, end = -1, line = -1;
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3) {
            start = PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
            end = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
            PyObject *l = PyTuple_GET_ITEM(item, 2);
            line = PyLong_Check(l) ? PyLong_AsLong(l) : 0; /* None: no line */
        }
        Py_DECREF(item);
        if (PyErr_Occurred())
            break;
        if (start < 0 || end < start || end > (1L << 30) || line < 0 || line >= INT32_MAX)
            continue;
        size_t units = (size_t)end / 2;
        if (units > c->unit_count) {
            int32_t *grown = realloc(c->line_of_unit, units * sizeof *grown);
            if (!grown) {
                PyErr_NoMemory();
                break;
            }
            memset(grown + c->unit_count, 0, (units - c->unit_count) * sizeof *grown);
            c->line_of_unit = grown;
            c->unit_count = units;
        }
        for (size_t u = (size_t)start / 2; u < units; u++)
            c->line_of_unit[u] = (int32_t)line;
        if (line > 0 && line < lo)
            lo = (int32_t)line;
        if (line > hi)
            hi = (int32_t)line;
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return -1;
    c->lo = lo;
    c->line_count = hi - lo + 1;
    return 0;
}

static void chosen_free(hs_mem_chosen *c) {
    if (!c)
        return;
    Py_XDECREF(c->code);
    free(c->line_of_unit);
    free(c->lines);
    free(c);
}

static int index_insert(hs_mem_lines *l, hs_mem_chosen *c) {
    if ((l->count + 1) * 2 > l->slot_count) {
        size_t n = l->slot_count ? l->slot_count * 2 : 16;
        hs_mem_chosen **slots = calloc(n, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < l->count; i++) {
            size_t j = ((uintptr_t)l->codes[i]->code >> 4) & (n - 1);
            while (slots[j])
                j = (j + 1) & (n - 1);
            slots[j] = l->codes[i];
        }
        free(l->slots);
        l->slots = slots;
        l->slot_count = n;
    }
    size_t mask = l->slot_count - 1;
    size_t j = ((uintptr_t)c->code >> 4) & mask;
    while (l->slots[j])
        j = (j + 1) & mask;
    l->slots[j] = c;
    l->filter |= 1ull << (((uintptr_t)c->code >> 4) & 63);
    return 0;
}

int hs_mem_lines_choose(hs_mem_lines *l, PyObject *code) {
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "expected a code object");
        return -1;
    }
    if (l->count && hs_mem_lines_find(l, (uintptr_t)code))
        return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        hs_mem_chosen **grown = realloc(l->codes, cap * sizeof *grown);
        if (!grown)
            return PyErr_NoMemory(), -1;
        l->codes = grown;
        l->cap = cap;
    }
    hs_mem_chosen *c = calloc(1, sizeof *c);
    if (!c)
        return PyErr_NoMemory(), -1;
    c->code = Py_NewRef(code);
    if (map_lines(c) < 0) {
        chosen_free(c);
        return -1;
    }
    c->lines = calloc((size_t)c->line_count, sizeof *c->lines);
    if (!c->lines || index_insert(l, c) < 0) {
        chosen_free(c);
        return PyErr_NoMemory(), -1;
    }
    l->codes[l->count++] = c;
    return 1;
}

void hs_mem_lines_free(hs_mem_lines *l) {
    for (size_t i = 0; i < l->count; i++)
        chosen_free(l->codes[i]);
    free(l->codes);
    free(l->slots);
    memset(l, 0, sizeof *l);
}

/* ---- charging ---------------------------------------------------------- */

/* The counters of the line a frame of `c` is at: the line of its
 * instruction, or the first line before it has run one (as the tree's
 * frames are resolved, mem_export.c). */
static hs_mem_line_counts *line_at(hs_mem_chosen *c, int32_t offset) {
    int32_t line;
    if (offset < 0)
        line = ((PyCodeObject *)c->code)->co_firstlineno;
    else if ((size_t)offset / 2 < c->unit_count && c->line_of_unit[offset / 2] > 0)
        line = c->line_of_unit[offset / 2];
    else
        line = PyCode_Addr2Line((PyCodeObject *)c->code, offset);
    int64_t i = (int64_t)line - c->lo;
    return i >= 0 && i < c->line_count ? &c->lines[i] : NULL;
}

size_t hs_mem_lines_count_frames(const hs_mem_lines *l, const hs_frame_key *frames, size_t n) {
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        found += hs_mem_lines_find(l, frames[i].code) != NULL;
    return found;
}

void hs_mem_lines_charge_free(hs_mem_lines *l, const hs_frame_key *frames, size_t n, int64_t size) {
    uint64_t event = ++l->event;
    for (size_t i = 0; i < n; i++) {
        hs_mem_chosen *c = hs_mem_lines_find(l, frames[i].code);
        if (!c)
            continue;
        hs_mem_line_counts *at = line_at(c, frames[i].offset);
        if (at && at->stamp != event) {
            at->stamp = event;
            at->freed_bytes += size;
            at->frees++;
        }
        if (c->whole.stamp != event) {
            c->whole.stamp = event;
            c->whole.freed_bytes += size;
            c->whole.frees++;
        }
    }
}

/* ---- export ------------------------------------------------------------- */

static void charge_alloc(hs_mem_line_counts *at, uint64_t event, const hs_trie_counts *n) {
    if (at && at->stamp != event) {
        at->stamp = event;
        at->alloc_bytes += n->total_bytes;
        at->allocs += n->total_count;
    }
}

/* Every node's allocations, to each chosen (code, line) on its path once.
 * chosen_above[i]: the nearest node at or above i whose frame is chosen
 * code (node ids grow from parent to child, stacktrie.c), so a node's
 * chosen frames are found without walking the frames between them. */
static int sum_allocations(hs_mem_lines *l, const hs_stacktrie *t) {
    for (size_t k = 0; k < l->count; k++) {
        hs_mem_chosen *c = l->codes[k];
        for (int32_t i = 0; i < c->line_count; i++)
            c->lines[i].alloc_bytes = c->lines[i].allocs = 0;
        c->whole.alloc_bytes = c->whole.allocs = 0;
    }
    uint32_t *chosen_above = malloc((t->count ? t->count : 1) * sizeof *chosen_above);
    if (!chosen_above)
        return -1;
    chosen_above[0] = HS_TRIE_NONE;
    for (size_t i = 1; i < t->count; i++) {
        const hs_trie_key *k = &t->keys[i];
        if (k->code && k->offset != HS_TRIE_NATIVE && hs_mem_lines_find(l, k->code))
            chosen_above[i] = (uint32_t)i;
        else
            chosen_above[i] = chosen_above[k->parent];
    }
    for (size_t i = 1; i < t->count; i++) {
        const hs_trie_counts *n = &t->counts[i];
        if (!n->total_count || chosen_above[i] == HS_TRIE_NONE)
            continue;
        uint64_t event = ++l->event;
        for (uint32_t a = chosen_above[i]; a != HS_TRIE_NONE; a = chosen_above[t->keys[a].parent]) {
            hs_mem_chosen *c = hs_mem_lines_find(l, t->keys[a].code);
            charge_alloc(line_at(c, t->keys[a].offset), event, n);
            charge_alloc(&c->whole, event, n);
        }
    }
    free(chosen_above);
    return 0;
}

enum { T_ALLOC_BYTES, T_ALLOCS, T_FREED_BYTES, T_FREES, T_COUNT };

static int put_row(hs_profile *p, const int tables[T_COUNT], hs_id frame, const hs_mem_line_counts *n) {
    const int64_t values[T_COUNT] = {n->alloc_bytes, n->allocs, n->freed_bytes, n->frees};
    for (int k = 0; k < T_COUNT; k++)
        if (hs_line_table_push(p, tables[k], frame, values[k]) != 0)
            return -1;
    return 0;
}

static int export_code(hs_profile *p, const int tables[T_COUNT], const hs_mem_chosen *c) {
    PyCodeObject *co = (PyCodeObject *)c->code;
#if HS_HAVE_CO_QUALNAME
    PyObject *name_obj = co->co_qualname;
#else
    PyObject *name_obj = co->co_name;
#endif
    Py_ssize_t name_len = 0, file_len = 0;
    const char *name = PyUnicode_Check(name_obj) ? PyUnicode_AsUTF8AndSize(name_obj, &name_len) : NULL;
    const char *file = PyUnicode_Check(co->co_filename) ? PyUnicode_AsUTF8AndSize(co->co_filename, &file_len) : NULL;
    PyErr_Clear(); /* a name that cannot be encoded is shown as "?" */
    if (!name)
        name = "?", name_len = 1;
    if (!file)
        file = "?", file_len = 1;
    hs_id name_id = hs_intern(p, name, (size_t)name_len);
    hs_id file_id = hs_intern(p, file, (size_t)file_len);
    if (name_id == HS_NONE || file_id == HS_NONE)
        return -1;
    int32_t first = co->co_firstlineno;
    hs_id fn = hs_frame_intern(p, name_id, file_id, first, 0, HS_KIND_PYTHON);
    if (fn == HS_NONE || put_row(p, tables, fn, &c->whole) != 0)
        return -1;
    for (int32_t i = 0; i < c->line_count; i++) {
        const hs_mem_line_counts *n = &c->lines[i];
        if (!n->allocs && !n->frees)
            continue;
        hs_id frame = hs_frame_intern(p, name_id, file_id, first, c->lo + i, HS_KIND_PYTHON);
        if (frame == HS_NONE || put_row(p, tables, frame, n) != 0)
            return -1;
    }
    return 0;
}

int hs_mem_lines_export(hs_mem_lines *l, const hs_stacktrie *trie, hs_profile *p) {
    if (!l->count)
        return 0;
    if (sum_allocations(l, trie) != 0)
        return -1;
    static const char *const names[T_COUNT] = {"alloc_bytes", "allocs", "freed_bytes", "frees"};
    static const char *const units[T_COUNT] = {"bytes", "count", "bytes", "count"};
    int tables[T_COUNT];
    for (int k = 0; k < T_COUNT; k++)
        if ((tables[k] = hs_line_table_get(p, names[k], units[k])) < 0)
            return -1;
    for (size_t k = 0; k < l->count; k++)
        if (export_code(p, tables, l->codes[k]) != 0)
            return -1;
    return 0;
}
