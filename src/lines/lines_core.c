/*
 * lines_core.c - the line profiler's bookkeeping (lines.h): the index of
 * selected code objects, per-thread activation stacks, and charging time
 * to lines. Called with the GIL held, from the hooks of either mechanism.
 */
#include "lines.h"
#include "../sampler/grow.h"

#include <stdlib.h>

/* ---- per-thread stacks ----------------------------------------------- */

/* Each OS thread remembers the stack it used last, and for which profiler
 * (lines.h, hs_lines_thread): every event needs the calling thread's stack,
 * and a lookup by thread state (a function call, then a search) was a
 * fifth of the engine's own cost on call-heavy code. The cache is valid
 * while `epoch` is still that profiler's: every profiler draws a new one
 * when its stacks are first made, and again after hs_lines_clear frees
 * them, so neither a second profiler nor one allocated where a freed one
 * was can meet a stale entry. The cache's address is the thread's key: a
 * thread keeps one stack even where C code gives it a new thread state for
 * each call into Python (PyGILState_Ensure/Release). */
__thread hs_lines_thread_cache hs_lines_this_thread;

/* Epochs drawn so far; changed with the GIL held. */
static uint64_t epochs_drawn;

hs_line_thread *hs_lines_thread_slow(LineProfilerObject *lp) {
    const void *key = &hs_lines_this_thread;
    if (!lp->epoch)
        lp->epoch = ++epochs_drawn;
    hs_line_thread *t = NULL;
    for (size_t i = 0; i < lp->thread_count && !t; i++) {
        if (lp->threads[i]->key == key)
            t = lp->threads[i];
    }
    if (!t) {
        if (hs_grow((void **)&lp->threads, &lp->thread_cap, lp->thread_count + 1, sizeof *lp->threads) != 0 ||
            !(t = calloc(1, sizeof *t)))
            return NULL;
        t->key = key;
        lp->threads[lp->thread_count++] = t;
    }
    hs_lines_this_thread = (hs_lines_thread_cache){lp, lp->epoch, t};
    return t;
}

static hs_activation *push(hs_line_thread *t) {
    if (hs_grow((void **)&t->stack, &t->cap, t->depth + 1, sizeof *t->stack) != 0)
        return NULL;
    return &t->stack[t->depth++];
}

/* No clock read: until its first line event a frame times nothing (a
 * reading here would be charged to no line, see hs_lines_charge()). */
void hs_lines_enter(LineProfilerObject *lp, hs_code_lines *entry, int is_start) {
    hs_line_thread *t = hs_lines_thread(lp);
    hs_activation *a = t ? push(t) : NULL;
    if (!a)
        return;
    a->entry = entry;
    a->line = 0;
    a->since = 0;
    if (is_start)
        entry->calls++;
}

void hs_lines_line_slow(LineProfilerObject *lp, const void *code, int line, int repeat, uint64_t now) {
    hs_line_thread *t = hs_lines_thread(lp);
    hs_activation *a = t && t->depth ? &t->stack[t->depth - 1] : NULL;
    hs_code_lines *entry;
    if (a && a->entry->code == code) {
        entry = a->entry;
        if (!repeat && a->line == line)
            return;
        hs_lines_charge(a, now);
    } else {
        entry = hs_lines_find(lp, code);
        if (!entry)
            return;
        /* A frame that was already running when profiling began: it had
         * no start event, so it begins here. */
        a = t ? push(t) : NULL;
        if (a)
            a->entry = entry;
    }
    int i = line - entry->first_line;
    if (i >= 0 && i < entry->line_count)
        entry->hits[i]++;
    if (a) {
        a->line = line;
        a->since = now;
    }
}

void hs_lines_leave(LineProfilerObject *lp, hs_code_lines *entry, uint64_t now) {
    hs_line_thread *t = hs_lines_thread(lp);
    if (!t)
        return;
    /* Normally the top; if frames above it left without an event (profiling
     * switched on mid-call), they are closed here too. */
    size_t k = t->depth;
    while (k > 0 && t->stack[k - 1].entry != entry)
        k--;
    if (k == 0)
        return; /* it started before profiling did: nothing to close */
    while (t->depth >= k) {
        hs_lines_charge(&t->stack[t->depth - 1], now);
        t->depth--;
    }
}

void hs_lines_close_all(LineProfilerObject *lp, uint64_t now) {
    for (size_t i = 0; i < lp->thread_count; i++) {
        hs_line_thread *t = lp->threads[i];
        while (t->depth > 0)
            hs_lines_charge(&t->stack[--t->depth], now);
    }
}

size_t hs_lines_depth(LineProfilerObject *lp) {
    hs_line_thread *t = hs_lines_thread(lp);
    return t ? t->depth : 0;
}

/* ---- selection ------------------------------------------------------- */

/* The lowest and highest line numbers the code object's instructions map
 * to (PEP 626 co_lines(): (start, end, line) triples, line may be None). */
static int line_range(PyObject *code, int *lo, int *hi) {
    PyObject *it = PyObject_CallMethod(code, "co_lines", NULL);
    if (!it)
        return -1;
    PyObject *iter = PyObject_GetIter(it);
    Py_DECREF(it);
    if (!iter)
        return -1;
    PyObject *item;
    while ((item = PyIter_Next(iter)) != NULL) {
        PyObject *line = PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3 ? PyTuple_GET_ITEM(item, 2) : NULL;
        if (line && PyLong_Check(line)) {
            long v = PyLong_AsLong(line);
            if (v > 0 && v < INT32_MAX) {
                if (v < *lo)
                    *lo = (int)v;
                if (v > *hi)
                    *hi = (int)v;
            }
        }
        Py_DECREF(item);
    }
    Py_DECREF(iter);
    return PyErr_Occurred() ? -1 : 0;
}

static int index_insert(LineProfilerObject *lp, hs_code_lines *entry) {
    if ((lp->code_count + 1) * 2 > lp->code_slot_count) {
        size_t n = lp->code_slot_count ? lp->code_slot_count * 2 : 16;
        hs_code_lines **slots = calloc(n, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < lp->code_count; i++) {
            size_t j = ((uintptr_t)lp->codes[i]->code >> 4) & (n - 1);
            while (slots[j])
                j = (j + 1) & (n - 1);
            slots[j] = lp->codes[i];
        }
        free(lp->code_slots);
        lp->code_slots = slots;
        lp->code_slot_count = n;
    }
    size_t mask = lp->code_slot_count - 1;
    size_t j = ((uintptr_t)entry->code >> 4) & mask;
    while (lp->code_slots[j])
        j = (j + 1) & mask;
    lp->code_slots[j] = entry;
    return 0;
}

int hs_lines_select(LineProfilerObject *lp, PyObject *code) {
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "expected a code object");
        return -1;
    }
    if (hs_lines_find(lp, code))
        return 0;
    int lo = ((PyCodeObject *)code)->co_firstlineno, hi = lo;
    if (line_range(code, &lo, &hi) < 0)
        return -1;
    if (hs_grow((void **)&lp->codes, &lp->code_cap, lp->code_count + 1, sizeof *lp->codes) != 0)
        return PyErr_NoMemory(), -1;
    hs_code_lines *entry = calloc(1, sizeof *entry);
    size_t n = (size_t)(hi - lo + 1);
    if (entry) {
        entry->hits = calloc(n, sizeof *entry->hits);
        entry->ticks = calloc(n, sizeof *entry->ticks);
    }
    if (!entry || !entry->hits || !entry->ticks) {
        if (entry)
            free(entry->hits), free(entry->ticks);
        free(entry);
        PyErr_NoMemory();
        return -1;
    }
    entry->code = Py_NewRef(code);
    entry->first_line = lo;
    entry->line_count = (int)n;
    if (index_insert(lp, entry) < 0) {
        Py_DECREF(entry->code);
        free(entry->hits), free(entry->ticks), free(entry);
        PyErr_NoMemory();
        return -1;
    }
    lp->codes[lp->code_count++] = entry;
    return 1;
}

void hs_lines_clear(LineProfilerObject *lp) {
    for (size_t i = 0; i < lp->code_count; i++) {
        Py_CLEAR(lp->codes[i]->code);
        free(lp->codes[i]->hits);
        free(lp->codes[i]->ticks);
        free(lp->codes[i]);
    }
    free(lp->codes);
    free(lp->code_slots);
    for (size_t i = 0; i < lp->thread_count; i++) {
        free(lp->threads[i]->stack);
        free(lp->threads[i]);
    }
    free(lp->threads);
    lp->codes = NULL;
    lp->code_slots = NULL;
    lp->threads = NULL;
    lp->code_count = lp->code_cap = lp->code_slot_count = 0;
    lp->thread_count = lp->thread_cap = 0;
    lp->epoch = 0; /* threads' caches may name the stacks just freed */
    lp->last_code = NULL;
}
