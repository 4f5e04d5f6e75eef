/*
 * mem_export.c - the memory engine's recording call tree turned into the
 * profile model (model.h): each (code object, instruction offset) is
 * resolved once to its qualified name, file, first line and line
 * (PyCode_Addr2Line), and each node's counters become weights:
 *   bytes, allocs            everything allocated at that stack
 *   peak_bytes, peak_allocs  what was live there at the peak (snapshot)
 *   leak_bytes, leak_allocs  what is still live now
 * Chosen functions get their line tables (mem_lines.c). Native frames
 * (return addresses, native.c) are named by native_symbols.c.
 * Frames whose file starts with `hide_prefix` (hotscope's own package)
 * are left out, their children joined to their parent. Runs with the GIL
 * held; this thread's allocations made while exporting are not recorded.
 */
#include "mem.h"
#include "mem_export.h"
#include "native_symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uintptr_t code;
    int32_t offset;
    hs_id frame;   /* HS_NONE: a hidden frame */
    int used;
} frame_slot;

typedef struct {
    frame_slot *slots;
    size_t mask;
    hs_native_symbols natives;
} frame_cache;

static int utf8_of(PyObject *s, const char **out, Py_ssize_t *len) {
    if (!s || !PyUnicode_Check(s)) {
        *out = "?";
        *len = 1;
        return 0;
    }
    *out = PyUnicode_AsUTF8AndSize(s, len);
    if (!*out) {
        PyErr_Clear();
        *out = "?";
        *len = 1;
    }
    return 0;
}

/* The model frame of (code, offset); HS_NONE for a hidden frame. Sets
 * *failed on an allocation failure. */
static hs_id resolve(hs_profile *p, frame_cache *fc, uintptr_t code, int32_t offset,
                     const char *hide_prefix, int *failed) {
    size_t h = (size_t)(((uint64_t)code * 0x9E3779B97F4A7C15ull) ^ (uint32_t)offset);
    size_t i = (h ^ (h >> 31)) & fc->mask;
    while (fc->slots[i].used) {
        if (fc->slots[i].code == code && fc->slots[i].offset == offset)
            return fc->slots[i].frame;
        i = (i + 1) & fc->mask;
    }
    if (offset == HS_TRIE_NATIVE) {
        hs_id frame = hs_native_frame(&fc->natives, p, code);
        if (frame == HS_NONE)
            *failed = 1;
        fc->slots[i] = (frame_slot){code, offset, frame, 1};
        return frame;
    }
    PyCodeObject *co = (PyCodeObject *)code;
    const char *file, *name;
    Py_ssize_t file_len, name_len;
    utf8_of(co->co_filename, &file, &file_len);
#if HS_HAVE_CO_QUALNAME
    utf8_of(co->co_qualname, &name, &name_len);
#else
    utf8_of(co->co_name, &name, &name_len);
#endif
    hs_id frame = HS_NONE;
    size_t hide_len = hide_prefix ? strlen(hide_prefix) : 0;
    if (!hide_len || (size_t)file_len < hide_len || memcmp(file, hide_prefix, hide_len) != 0) {
        int line = offset >= 0 ? PyCode_Addr2Line(co, offset) : co->co_firstlineno;
        if (line < 0)
            line = co->co_firstlineno;
        hs_id name_id = hs_intern(p, name, (size_t)name_len);
        hs_id file_id = hs_intern(p, file, (size_t)file_len);
        frame = name_id == HS_NONE || file_id == HS_NONE
                    ? HS_NONE
                    : hs_frame_intern(p, name_id, file_id, co->co_firstlineno, line, HS_KIND_PYTHON);
        if (frame == HS_NONE)
            *failed = 1;
    }
    fc->slots[i] = (frame_slot){code, offset, frame, 1};
    return frame;
}

static void meta_int(hs_profile *p, const char *key, int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    hs_meta_set(p, key, buf);
}

static int add_thread(hs_profile *p, const hs_mem *m, int32_t slot, PyObject *names) {
    if (slot == HS_MEM_NOGIL_SLOT)
        return hs_thread_add(p, "[no GIL]", 0, 0);
    const hs_mem_thread *t = &m->threads[slot];
    char fallback[64];
    const char *name = NULL;
    if (names && PyDict_Check(names)) {
        PyObject *key = PyLong_FromUnsignedLongLong(t->os_tid);
        PyObject *value = key ? PyDict_GetItemWithError(names, key) : NULL;
        Py_XDECREF(key);
        if (value && PyUnicode_Check(value))
            name = PyUnicode_AsUTF8(value);
        if (!name)
            PyErr_Clear();
    }
    if (!name) {
        snprintf(fallback, sizeof fallback, "%lu", t->ident);
        name = fallback;
    }
    return hs_thread_add(p, name, t->os_tid, t->ident);
}

int hs_mem_export(hs_mem *m, hs_profile *p, const hs_mem_export_opts *opts, char *err,
                  size_t errlen) {
    const hs_stacktrie *t = &m->trie;
    const char *hide_prefix = opts->hide_prefix;
    size_t n = t->count;
    hs_id *map = malloc(n * sizeof *map);
    /* depth[i]: frames from the thread root to node i (1 for the first
     * frame), and whether the node is in the thread whose base is cut. */
    uint32_t *depth = malloc(n * sizeof *depth);
    unsigned char *cut = calloc(n, 1);
    frame_cache fc;
    size_t slots = 64;
    while (slots < 2 * n)
        slots *= 2;
    fc.slots = calloc(slots, sizeof *fc.slots);
    fc.mask = slots - 1;
    hs_native_symbols_init(&fc.natives);
    int failed = !map || !fc.slots || !depth || !cut;
    if (!failed)
        map[0] = HS_ROOT, depth[0] = 0;
    /* "[no GIL]" is shown when something was charged to it or under it
     * (native frames of threads without the GIL). */
    int nogil_used = t->counts[m->nogil_root].total_count != 0;
    for (size_t i = 1; i < n && !nogil_used; i++)
        nogil_used = t->keys[i].parent == m->nogil_root;
    for (size_t i = 1; i < n && !failed; i++) {
        const hs_trie_key *k = &t->keys[i];
        const hs_trie_counts *c = &t->counts[i];
        hs_id node;
        if (k->parent == 0 && k->code == 0) {
            if (k->offset == HS_MEM_NOGIL_SLOT && !nogil_used) {
                map[i] = HS_ROOT;
                continue;
            }
            int index = add_thread(p, m, k->offset, opts->thread_names);
            if (index < 0) {
                failed = 1;
                break;
            }
            node = p->threads[index].root;
            depth[i] = 0;
            cut[i] = k->offset != HS_MEM_NOGIL_SLOT && opts->base_frames &&
                     m->threads[k->offset].ident == opts->base_thread;
        } else if (!k->code || (cut[k->parent] && depth[k->parent] + 1 <= opts->base_frames)) {
            /* a code reference already dropped, or below the cut */
            node = map[k->parent];
        } else {
            hs_id frame = resolve(p, &fc, k->code, k->offset, hide_prefix, &failed);
            node = frame == HS_NONE ? map[k->parent] : hs_node_child(p, map[k->parent], frame);
            if (node == HS_NONE)
                failed = 1;
        }
        map[i] = node;
        if (k->parent != 0) {
            depth[i] = depth[k->parent] + 1;
            cut[i] = cut[k->parent];
        }
        if (failed)
            break;
        if (c->total_count) {
            hs_node_add(p, node, HS_W_BYTES, c->total_bytes);
            hs_node_add(p, node, HS_W_ALLOCS, c->total_count);
        }
        if (t->peak_count[i]) {
            hs_node_add(p, node, HS_W_PEAK_BYTES, t->peak_bytes[i]);
            hs_node_add(p, node, HS_W_PEAK_ALLOCS, t->peak_count[i]);
        }
        if (c->live_count) {
            hs_node_add(p, node, HS_W_LEAK_BYTES, c->live_bytes);
            hs_node_add(p, node, HS_W_LEAK_ALLOCS, c->live_count);
        }
    }
    if (!failed) {
        int heap = hs_series_get(p, "heap_bytes", "bytes", -1);
        int rss = hs_series_get(p, "rss_bytes", "bytes", -1);
        failed = heap < 0 || rss < 0;
        for (size_t i = 0; !failed && i < m->point_count; i++) {
            const hs_mem_point *pt = &m->points[i];
            failed = hs_series_push(p, heap, pt->t_ns, pt->heap) != 0 ||
                     (pt->rss >= 0 && hs_series_push(p, rss, pt->t_ns, pt->rss) != 0);
        }
    }
    if (!failed)
        failed = hs_mem_lines_export(&m->lines, t, p) != 0;
    if (!failed) {
        int64_t stop = m->stop_ns ? m->stop_ns : hs_mem_now_ns();
        hs_meta_set(p, "engine", "memory");
        meta_int(p, "peak_bytes", m->peak_bytes);
        meta_int(p, "peak_blocks", m->peak_blocks);
        meta_int(p, "peak_snapshot_bytes", m->snap_bytes);
        meta_int(p, "peak_time_ns", m->peak_ns);
        meta_int(p, "allocated_bytes", m->total_bytes);
        meta_int(p, "allocations", m->total_allocs);
        meta_int(p, "frees", m->frees);
        meta_int(p, "live_bytes", m->current_bytes);
        meta_int(p, "live_blocks", m->current_blocks);
        meta_int(p, "unrecorded_events", m->lost);
        meta_int(p, "duration_ns", stop - m->start_ns);
        meta_int(p, "interval_ns", m->interval_ns);
        if (m->native) {
            uint64_t unwinds[3];
            hs_mem_lock(m);
            hs_mem_native_unwind_counts(m, unwinds);
            hs_mem_unlock(m);
            hs_meta_set(p, "native", "1");
            meta_int(p, "native_unwinds_cached", (int64_t)unwinds[0]);
            meta_int(p, "native_unwinds_libgcc", (int64_t)unwinds[1]);
            if (m->verify_unwind)
                meta_int(p, "native_unwind_mismatches", (int64_t)unwinds[2]);
        }
        hs_meta_set(p, "python", Py_GetVersion());
    }
    free(map);
    free(depth);
    free(cut);
    free(fc.slots);
    hs_native_symbols_free(&fc.natives);
    if (failed) {
        snprintf(err, errlen, "out of memory while building the memory profile");
        return -1;
    }
    return 0;
}
