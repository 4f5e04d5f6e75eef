/*
 * mem_engine.c - setting up and tearing down the memory engine (mem.h);
 * the hot path is in hooks.c.
 */
#include "mem.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hs_mem_init(hs_mem *m, int64_t interval_ns, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    m->statm_fd = -1;
    if (hs_pystack_layout_init(&m->layout, err, errlen) != 0)
        return -1;
    if (hs_stacktrie_init(&m->trie) != 0 || hs_ptrtable_init(&m->table) != 0) {
        snprintf(err, errlen, "out of memory");
        hs_mem_free(m);
        return -1;
    }
    if (pthread_key_create(&m->key, NULL) != 0) {
        snprintf(err, errlen, "cannot create thread-local state");
        hs_mem_free(m);
        return -1;
    }
    /* No destructor: a thread's state stays on the engine's list when the
     * thread ends and is freed with the engine. */
    m->key_created = 1;
    /* Thread slot 0: raw allocations made without the GIL. */
    int created;
    m->threads = calloc(8, sizeof *m->threads);
    m->thread_cap = 8;
    m->nogil_root = m->threads ? hs_stacktrie_child(&m->trie, 0, 0, HS_MEM_NOGIL_SLOT, &created)
                               : HS_TRIE_NONE;
    if (m->nogil_root == HS_TRIE_NONE) {
        snprintf(err, errlen, "out of memory");
        hs_mem_free(m);
        return -1;
    }
    m->thread_count = 1;
    m->interval_ns = interval_ns > 0 ? interval_ns : 10000000;
    m->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    m->page_size = sysconf(_SC_PAGESIZE);
    m->pid = getpid();
    m->id = (uint64_t)hs_mem_now_ns() ^ ((uint64_t)(uintptr_t)m << 16);
    return 0;
}

void hs_mem_release_codes(hs_mem *m) {
    hs_mem_lines_free(&m->lines);
    for (size_t i = 1; i < m->trie.count; i++) {
        const hs_trie_key *k = &m->trie.keys[i];
        if (k->code && k->offset != HS_TRIE_NATIVE) {
            Py_DECREF((PyObject *)k->code);
            m->trie.keys[i].code = 0;
        }
    }
}

void hs_mem_free(hs_mem *m) {
    if (m->key_created)
        pthread_key_delete(m->key);
    for (hs_mem_tls *t = m->tls_list, *next; t; t = next) {
        next = t->next;
        free(t->frames);
        free(t->cache);
        hs_mem_native_free_thread(t);
        free(t);
    }
    hs_stacktrie_free(&m->trie);
    hs_ptrtable_free(&m->table);
    free(m->threads);
    free(m->points);
    free(m->pending);
    free(m->pending_frames);
    free(m->live_frames);
    free(m->held_codes);
    if (m->statm_fd >= 0)
        close(m->statm_fd);
    memset(m, 0, sizeof *m);
    m->statm_fd = -1;
}

void hs_mem_finish(hs_mem *m) {
    /* When the end is the peak, the stacks at the peak are exactly the
     * live ones now. */
    if (m->current_bytes == m->peak_bytes && m->snap_bytes != m->peak_bytes) {
        hs_stacktrie_snapshot_peak(&m->trie);
        m->snap_bytes = m->peak_bytes;
        m->peak_ns = m->stop_ns - m->start_ns;
    }
}
