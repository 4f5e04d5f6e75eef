/*
 * hooks.c - the allocator wrappers of the memory engine (mem.h): what one
 * allocation, reallocation or free costs.
 *
 * Per allocation: the real allocator runs first (with this thread's busy
 * flag set, so the raw-domain call pymalloc makes for a large block passes
 * through untracked instead of being counted twice, as tracemalloc does);
 * then the stack's node is found (mem_stack.h: usually by reading the
 * leaf's instruction alone), the node's counters and the engine's are
 * applied, and the block joins the batch of table work (see "the GIL
 * holder's table work"): most blocks are freed before it is flushed and
 * never touch the table of live blocks. All of that runs under the GIL,
 * which is the only lock on the fast path; the mem and object domains
 * always hold it, and have hooks of their own without the tests the raw
 * domain needs.
 *
 * Raw-domain calls made without the GIL cannot read the Python stack (nor
 * take references to code objects): they are charged to a synthetic
 * "[no GIL]" thread, and queued under a spin lock for the next GIL holder
 * to apply (a free is queued before the real free, an allocation before
 * its pointer is returned, so events on one address apply in order).
 * (Modules/_tracemalloc.c takes the GIL instead; that can deadlock a
 * thread that allocates while another waits for it.) Native allocations
 * (native.c) use the same queue, with their frames.
 *
 * Allocation sizes are the sizes asked for, as tracemalloc counts them.
 */
#include "mem.h"
#include "../pymod/evalhook.h"
#include "mem_stack.h"

/* No SLP vectorization here: GCC turns a pair of adjacent counter updates
 * (live bytes and blocks) into one 16-byte load and store in some places
 * and two 8-byte ones in others, and a 16-byte load of what two 8-byte
 * stores just wrote cannot be forwarded from the store buffer: a stall of
 * a dozen cycles per event, 12% of the batch's time in perf annotate. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-slp-vectorize")
#endif

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CLOCK_EVERY 64 /* events between two reads of the clock */

/* This thread's state for engine m, found in one thread-local read when it
 * was the last engine this thread saw (ids are compared, never a pointer
 * to a freed engine followed). Initial-exec, one load from the thread
 * pointer instead of a call to __tls_get_addr per event: the module's
 * thread-locals are in the static TLS block anyway, since the tracer's
 * are initial-exec (src/tracer/tracer.h), so this adds no way to fail. */
typedef struct {
    uint64_t engine_id;
    hs_mem_tls *tls;
} tls_slot;
static __thread tls_slot last_tls __attribute__((tls_model("initial-exec")));
/* Set while this thread's state is being made: what that allocates (with
 * --native, through malloc) is the engine's. */
static __thread int making_tls __attribute__((tls_model("initial-exec")));

int64_t hs_mem_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void lock(hs_mem *m) {
    while (__atomic_exchange_n(&m->lock, 1, __ATOMIC_ACQUIRE)) {
        unsigned spins = 0;
        while (__atomic_load_n(&m->lock, __ATOMIC_RELAXED))
            if (++spins % 64 == 0)
                sched_yield();
    }
}

static inline void unlock(hs_mem *m) {
    __atomic_store_n(&m->lock, 0, __ATOMIC_RELEASE);
}

/* ---- per-thread state ------------------------------------------------ */

static hs_mem_tls *tls_get(hs_mem *m) {
    hs_mem_tls *tls = pthread_getspecific(m->key);
    if (tls)
        return tls;
    making_tls = 1;
    tls = calloc(1, sizeof *tls);
    if (tls) {
        tls->root = HS_TRIE_NONE;
        tls->ident = PyThread_get_thread_ident();
        tls->os_tid = (uint64_t)syscall(SYS_gettid);
        if (pthread_setspecific(m->key, tls) != 0) {
            free(tls);
            tls = NULL;
        }
    }
    making_tls = 0;
    if (!tls)
        return NULL;
    lock(m);
    tls->next = m->tls_list;
    m->tls_list = tls;
    unlock(m);
    return tls;
}

/* The root node of the thread of `tls` (GIL held). */
static uint32_t thread_root(hs_mem *m, hs_mem_tls *tls) {
    if (tls->root != HS_TRIE_NONE)
        return tls->root;
    if (m->thread_count == m->thread_cap) {
        size_t cap = m->thread_cap ? m->thread_cap * 2 : 8;
        hs_mem_thread *grown = realloc(m->threads, cap * sizeof *grown);
        if (!grown)
            return HS_TRIE_NONE;
        m->threads = grown;
        m->thread_cap = cap;
    }
    int created;
    uint32_t root = hs_stacktrie_child(&m->trie, 0, 0, (int32_t)m->thread_count, &created);
    if (root == HS_TRIE_NONE)
        return root;
    m->threads[m->thread_count++] = (hs_mem_thread){tls->ident, tls->os_tid};
    tls->root = root;
    return root;
}

/* ---- the memory-over-time series --------------------------------------- */

static int64_t read_rss(hs_mem *m) {
    char buf[128];
    if (m->statm_fd < 0)
        return -1;
    ssize_t n = pread(m->statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    long long size, resident; /* proc(5): /proc/[pid]/statm "size resident shared ..." in pages */
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
        return -1;
    return resident * m->page_size;
}

/* Appends a point (GIL held). */
static void push_point(hs_mem *m, int64_t now) {
    if (m->point_count == m->point_cap) {
        size_t cap = m->point_cap ? m->point_cap * 2 : 256;
        hs_mem_point *grown = realloc(m->points, cap * sizeof *grown);
        if (!grown)
            return;
        m->points = grown;
        m->point_cap = cap;
    }
    m->points[m->point_count++] = (hs_mem_point){now - m->start_ns, m->current_bytes, read_rss(m)};
    m->next_point_ns = now + m->interval_ns;
}

static void flush(hs_mem *m);

/* Every CLOCK_EVERY events, a point if the interval has passed (GIL held),
 * with the deferred frees applied first (see flush). */
static inline void maybe_point(hs_mem *m) {
    if (--m->events_to_clock)
        return;
    m->events_to_clock = CLOCK_EVERY;
    int64_t now = hs_mem_now_ns();
    if (now >= m->next_point_ns) {
        flush(m);
        push_point(m, now);
    }
}

/* ---- counters (GIL held, or the lock while draining) ----------------------- */

static inline void add_live(hs_mem *m, uint32_t node, int64_t bytes, int64_t blocks) {
    hs_trie_counts *c = &m->trie.counts[node];
    c->live_bytes += bytes;
    c->live_count += blocks;
    m->current_bytes += bytes;
    m->current_blocks += blocks;
}

static void new_peak(hs_mem *m) {
    m->peak_bytes = m->current_bytes;
    m->peak_blocks = m->current_blocks;
    /* The stacks holding the peak are copied only when the peak grew by 1%
     * (and at least 16 KiB) since the last copy, so a steadily growing
     * heap costs O(log) copies; hs_mem_finish adds an exact one when the
     * end is the peak. */
    int64_t step = m->snap_bytes / 100;
    if (step < 16384)
        step = 16384;
    if (m->current_bytes >= m->snap_bytes + step || m->snap_bytes == 0) {
        hs_stacktrie_snapshot_peak(&m->trie);
        m->snap_bytes = m->current_bytes;
        m->peak_ns = hs_mem_now_ns() - m->start_ns;
    }
}

/* An allocation's counters: its node's totals and live figures, the
 * engine's, and the peak (exact: current_bytes counts the deferred frees
 * still, so they are applied before it is believed). */
static inline void count_alloc(hs_mem *m, uint32_t node, uint64_t size) {
    hs_trie_counts *c = &m->trie.counts[node];
    c->total_bytes += (int64_t)size;
    c->total_count++;
    m->total_bytes += (int64_t)size;
    m->total_allocs++;
    add_live(m, node, (int64_t)size, 1);
    if (m->current_bytes > m->peak_bytes) {
        if (m->free_count)
            flush(m);
        if (m->current_bytes > m->peak_bytes)
            new_peak(m);
    }
}

static inline void count_free(hs_mem *m, uint32_t node, uint64_t size) {
    add_live(m, node, -(int64_t)size, -1);
    m->frees++;
}

/* Puts a block in the table now (GIL held, or the lock while draining). */
static void record_block(hs_mem *m, uint32_t node, void *ptr, size_t size) {
    hs_ptr_entry old;
    if (node == HS_TRIE_NONE || hs_ptrtable_put(&m->table, (uintptr_t)ptr, size, node, &old) != 0) {
        m->lost++;
        return;
    }
    if (old.addr) /* freed behind our back (a free we never saw) */
        add_live(m, old.node, -(int64_t)old.size, -1);
    count_alloc(m, node, size);
    maybe_point(m);
}

/* Takes a block out of the table now; 1 with its entry, 0 when untraced. */
static int forget_block(hs_mem *m, void *ptr, hs_ptr_entry *e) {
    if (!hs_ptrtable_take(&m->table, (uintptr_t)ptr, e))
        return 0;
    count_free(m, e->node, e->size);
    maybe_point(m);
    return 1;
}

/* ---- the GIL holder's table work, batched ---------------------------------- */

/* The counters of the GIL holder's events are applied at once, in order;
 * their table work waits, HS_MEM_BATCH events at most (mem.h):
 *  - an allocation goes to the batch; its entry is put in the table at
 *    the next flush, unless its block is freed first, which most are
 *    (temporaries): then neither event touches the table, and the free's
 *    node and size are the batch's;
 *  - a free of a block not in the batch waits for the flush too, since
 *    its node and size are in the table; until then current_bytes still
 *    counts it (an upper bound), so whatever needs the exact figures (a
 *    possible new peak, a point of the series, any reader) flushes first.
 * A flush requests all the table lines it will touch, then takes the
 * waiting frees out (blocks from before the batch; a free of a block of
 * the batch never waits), then puts the batch's living blocks in, in
 * order: the table ends as if each event had been applied at once, with
 * the waits for its lines overlapping instead of adding up. */
#define PAIR_SLOTS (2 * HS_MEM_BATCH) /* the batch's index by address, at most half full */

static inline unsigned pair_slot(const hs_mem *m, uintptr_t addr) {
    unsigned h = (unsigned)(((uint64_t)(addr >> 4) * 0x9E3779B97F4A7C15ull) >> 40) & (PAIR_SLOTS - 1);
    while (m->batch_index[h] && m->batch[m->batch_index[h] - 1].addr != addr)
        h = (h + 1) & (PAIR_SLOTS - 1);
    return h;
}

static void flush(hs_mem *m) {
    unsigned n = m->batch_count, nf = m->free_count;
    if (!n && !nf)
        return;
    m->batch_count = m->free_count = 0;
    for (unsigned i = 0; i < nf; i++)
        hs_ptrtable_prefetch(&m->table, m->frees_waiting[i]);
    for (unsigned i = 0; i < n; i++)
        if (!m->batch[i].freed)
            hs_ptrtable_prefetch(&m->table, m->batch[i].addr);
    for (unsigned i = 0; i < nf; i++) {
        hs_ptr_entry e;
        if (hs_ptrtable_take(&m->table, m->frees_waiting[i], &e))
            count_free(m, e.node, e.size);
    }
    for (unsigned i = 0; i < n; i++) {
        const hs_mem_event *e = &m->batch[i];
        hs_ptr_entry old;
        if (e->freed)
            continue;
        if (hs_ptrtable_put(&m->table, e->addr, e->size, e->node, &old) != 0) {
            m->lost++; /* its free will not be seen: not live from here on */
            add_live(m, e->node, -(int64_t)e->size, -1);
            continue;
        }
        if (old.addr) /* freed behind our back (a free we never saw) */
            add_live(m, old.node, -(int64_t)old.size, -1);
    }
    memset(m->batch_index, 0, sizeof m->batch_index);
}

/* An allocation with the GIL. */
static inline void push_block(hs_mem *m, uint32_t node, void *ptr, size_t size) {
    if (node == HS_TRIE_NONE) {
        m->lost++;
        return;
    }
    if (m->batch_count == HS_MEM_BATCH)
        flush(m);
    unsigned h = pair_slot(m, (uintptr_t)ptr);
    m->batch_index[h] = (uint16_t)(m->batch_count + 1);
    m->batch[m->batch_count++] = (hs_mem_event){(uintptr_t)ptr, size, node, 0};
    count_alloc(m, node, size);
    maybe_point(m);
}

/* A free with the GIL. */
static inline void push_free(hs_mem *m, void *ptr) {
    unsigned i = m->batch_index[pair_slot(m, (uintptr_t)ptr)];
    hs_mem_event *e = i ? &m->batch[i - 1] : NULL;
    if (e && !e->freed) {
        e->freed = 1;
        count_free(m, e->node, e->size);
    } else {
        if (m->free_count == HS_MEM_BATCH)
            flush(m);
        m->frees_waiting[m->free_count++] = (uintptr_t)ptr;
    }
    maybe_point(m);
}

/* Takes a block out of the table with the waiting work done first: for
 * the callers that need its entry at once. */
static int forget_block_now(hs_mem *m, void *ptr, hs_ptr_entry *e) {
    flush(m);
    return forget_block(m, ptr, e);
}

/* ---- raw-domain events of threads without the GIL ------------------------ */

/* Queued under the lock; the GIL holder applies them (drain) before its
 * own next event. A free is queued before the real free and an allocation
 * before the pointer is returned, so whoever gets the same address next
 * applies the older event first. */
static void queue_event(hs_mem *m, uintptr_t addr, uint64_t size, int is_free) {
    lock(m);
    if (m->pending_count == m->pending_cap) {
        size_t cap = m->pending_cap ? m->pending_cap * 2 : 64;
        hs_mem_pending *grown = realloc(m->pending, cap * sizeof *grown);
        if (!grown) {
            m->pending_lost++;
            unlock(m);
            return;
        }
        m->pending = grown;
        m->pending_cap = cap;
    }
    m->pending[m->pending_count] = (hs_mem_pending){addr, size, (uint8_t)is_free, 0, 0, 0, 0, NULL, NULL};
    __atomic_store_n(&m->pending_count, m->pending_count + 1, __ATOMIC_RELEASE);
    unlock(m);
}

/* Whether `tstate` (a thread state that queued an event) still exists
 * and its stack still has the queued frames f[0..n) (leaf first) from
 * its root up: then their code objects are alive. GIL held. */
static int frames_still_there(hs_mem *m, PyThreadState *tstate, const hs_frame_key *f, size_t n) {
    PyThreadState *self = _PyThreadState_UncheckedGet();
    if (!tstate || !self)
        return 0;
    PyThreadState *t = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(self));
    while (t && t != tstate)
        t = PyThreadState_Next(t);
    if (!t)
        return 0;
    size_t got = hs_pystack_walk(&m->layout, tstate, &m->live_frames, &m->live_frame_cap, SIZE_MAX);
    if (got == (size_t)-1 || got < n)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        const hs_frame_key *then = &f[n - k], *now = &m->live_frames[got - k];
        if (then->frame != now->frame || then->code != now->code)
            return 0;
    }
    return 1;
}

/* The node of a queued native allocation: its thread's Python stack (or
 * "[no GIL]" when its code objects cannot be vouched for), then its
 * native frames. GIL and lock held. The tree's cache of that thread's
 * last stack is left alone: it describes what the thread read last with
 * the GIL. */
static uint32_t queued_node(hs_mem *m, const hs_mem_pending *e) {
    const hs_frame_key *f = &m->pending_frames[e->frames_at];
    size_t py = e->py_frames;
    if (py && !e->held && !frames_still_there(m, e->tstate, f, py))
        py = 0;
    uint32_t node = py && e->tls ? thread_root(m, e->tls) : m->nogil_root;
    for (size_t k = py; k-- > 0 && node != HS_TRIE_NONE;) {
        int created;
        node = hs_stacktrie_child(&m->trie, node, f[k].code, f[k].offset, &created);
        if (created && node != HS_TRIE_NONE) { /* alive (see above), GIL held */
            Py_INCREF((PyObject *)f[k].code);
            if (hs_mem_hold_code(m, f[k].code) != 0)
                m->lost++;
        }
    }
    if (node == HS_TRIE_NONE)
        return node;
    return hs_mem_native_chain(m, node, f + e->py_frames, e->native_frames);
}

static void drain_slow(hs_mem *m) {
    /* the batch's events are older than the queued ones (each event of
     * the GIL holder drains the queue before it joins the batch) */
    flush(m);
    lock(m);
    for (size_t i = 0; i < m->pending_count; i++) {
        const hs_mem_pending *e = &m->pending[i];
        hs_ptr_entry gone;
        if (e->is_free)
            forget_block(m, (void *)e->addr, &gone);
        else if (e->py_frames || e->native_frames)
            record_block(m, queued_node(m, e), (void *)e->addr, e->size);
        else
            record_block(m, m->nogil_root, (void *)e->addr, e->size);
    }
    m->lost += m->pending_lost;
    m->pending_lost = 0;
    m->pending_frame_count = 0;
    __atomic_store_n(&m->pending_count, 0, __ATOMIC_RELEASE);
    unlock(m);
}

/* Applies queued events (GIL held). One load when there are none. */
static inline void drain(hs_mem *m) {
    if (__atomic_load_n(&m->pending_count, __ATOMIC_ACQUIRE))
        drain_slow(m);
}

void hs_mem_drain(hs_mem *m) {
    drain_slow(m);
}

/* ---- the stack of an allocation (mem_stack.h) ---------------------------- */

/* The node of the current Python stack (GIL held). */
static uint32_t stack_node(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate) {
    uint32_t root = thread_root(m, tls);
    if (root == HS_TRIE_NONE || !tstate)
        return root;
    return hs_mem_read_stack(m, tls, tstate, root);
}

void hs_mem_note_exit(hs_mem *m, PyThreadState *tstate, PyObject *code) {
    hs_mem_tls *tls = last_tls.engine_id == m->id ? last_tls.tls : pthread_getspecific(m->key);
    if (!tls)
        return;
    if (tls->chosen_depth > 0 && hs_mem_lines_find(&m->lines, (uintptr_t)code))
        tls->chosen_depth--;
    if (tls->low <= 0)
        return;
    /* The exiting frame's caller runs again; one more level of margin. */
    int low = hs_pystack_depth(tstate) - 2;
    if (low < tls->low)
        tls->low = low;
}

void hs_mem_note_entry(hs_mem *m, PyObject *code) {
    if (!hs_mem_lines_find(&m->lines, (uintptr_t)code))
        return;
    hs_mem_tls *tls = last_tls.engine_id == m->id ? last_tls.tls : tls_get(m);
    if (tls)
        tls->chosen_depth++;
}

int hs_mem_chosen_depth(hs_mem *m) {
    hs_mem_tls *tls = pthread_getspecific(m->key);
    return tls ? tls->chosen_depth : 0;
}

void hs_mem_recount_chosen(hs_mem *m) {
    hs_mem_tls *tls = tls_get(m);
    PyThreadState *tstate = _PyThreadState_UncheckedGet();
    if (!tls || !tstate)
        return;
    size_t got = hs_pystack_walk_matching(&m->layout, tstate, m->lines.filter, &tls->frames,
                                          &tls->frame_cap);
    tls->chosen_depth = got == (size_t)-1 ? 0 : (int)hs_mem_lines_count_frames(&m->lines, tls->frames, got);
}

/* Whether a free now charges the chosen lines on this thread's stack
 * (mem_lines.h): only while a chosen frame runs here when the threads
 * count them; else whenever code is chosen. */
static inline int lines_charged(const hs_mem *m, const hs_mem_tls *tls) {
    return m->lines.count && !(m->lines_gated && tls->chosen_depth <= 0);
}

/* A traced block of `size` bytes was freed: the chosen lines on this
 * thread's stack are charged, when lines_charged. */
static inline void charge_free(hs_mem *m, hs_mem_tls *tls, uint64_t size) {
    if (!lines_charged(m, tls))
        return;
    PyThreadState *tstate = _PyThreadState_UncheckedGet();
    if (!tstate)
        return;
    size_t got = hs_pystack_walk_matching(&m->layout, tstate, m->lines.filter, &tls->frames,
                                          &tls->frame_cap);
    if (got == (size_t)-1) {
        m->lost++;
        return;
    }
    if (got)
        hs_mem_lines_charge_free(&m->lines, tls->frames, got, (int64_t)size);
}

/* Whether this call holds the GIL: always for the mem and object domains. */
static inline int has_gil(int raw) {
    return !raw || PyGILState_Check();
}

static inline __attribute__((always_inline)) void on_alloc(hs_mem *m, int gil, hs_mem_tls *tls,
                                                            void *ptr, size_t size) {
    if (!gil) {
        queue_event(m, (uintptr_t)ptr, size, 0);
        return;
    }
    drain(m);
    PyThreadState *tstate = _PyThreadState_UncheckedGet();
    uint32_t node = hs_mem_fast_node(m, tls, tstate);
    if (node == HS_MEM_NOT_FAST)
        node = stack_node(m, tls, tstate);
    push_block(m, node, ptr, size);
}

/* ---- the hooks ----------------------------------------------------------- */

/* Raw-domain calls may come from threads without the GIL, even while the
 * engine is being stopped: they count themselves in `inflight` before
 * they read the engine pointer, and stopping waits for the count to drop
 * after clearing that pointer (the domain blocks themselves are never
 * freed, see hs_mem_install). */
static inline hs_mem *begin(hs_mem_domain *d, int raw) {
    if (raw)
        __atomic_add_fetch(&d->inflight, 1, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&d->engine, __ATOMIC_SEQ_CST);
}

static inline void end(hs_mem_domain *d, int raw) {
    if (raw)
        __atomic_sub_fetch(&d->inflight, 1, __ATOMIC_SEQ_CST);
}


/* The thread's state when this event is to be recorded, else NULL (a
 * nested call from inside a hook or the allocator it wraps, a detached
 * engine, or no memory for the thread's state). */
static inline hs_mem_tls *enter(hs_mem *m) {
    if (!m || making_tls)
        return NULL;
    hs_mem_tls *tls;
    if (last_tls.engine_id == m->id) {
        tls = last_tls.tls;
    } else {
        if (!(tls = tls_get(m)))
            return NULL;
        last_tls = (tls_slot){m->id, tls};
    }
    if (tls->busy)
        return NULL;
    tls->busy = 1;
    return tls;
}

static inline __attribute__((always_inline)) void *do_malloc(void *ctx, size_t size, int raw) {
    hs_mem_domain *d = ctx;
    hs_mem *m = begin(d, raw);
    hs_mem_tls *tls = enter(m);
    void *ptr = d->prev.malloc(d->prev.ctx, size);
    if (tls) {
        if (ptr)
            on_alloc(m, has_gil(raw), tls, ptr, size);
        tls->busy = 0;
    }
    end(d, raw);
    return ptr;
}

static inline __attribute__((always_inline)) void *do_calloc(void *ctx, size_t nelem, size_t elsize,
                                                            int raw) {
    hs_mem_domain *d = ctx;
    hs_mem *m = begin(d, raw);
    hs_mem_tls *tls = enter(m);
    void *ptr = d->prev.calloc(d->prev.ctx, nelem, elsize);
    if (tls) {
        size_t size;
        if (ptr && !__builtin_mul_overflow(nelem, elsize, &size))
            on_alloc(m, has_gil(raw), tls, ptr, size);
        tls->busy = 0;
    }
    end(d, raw);
    return ptr;
}

static inline __attribute__((always_inline)) void *do_realloc(void *ctx, void *old, size_t size,
                                                             int raw) {
    hs_mem_domain *d = ctx;
    hs_mem *m = begin(d, raw);
    hs_mem_tls *tls = enter(m);
    if (!tls) {
        void *ptr = d->prev.realloc(d->prev.ctx, old, size);
        end(d, raw);
        return ptr;
    }
    int gil = has_gil(raw);
    if (gil && !lines_charged(m, tls)) {
        /* The old block leaves the table only once the real realloc
         * succeeded (it stays when it fails), through the batch, before the
         * new one joins it. */
        void *ptr = d->prev.realloc(d->prev.ctx, old, size);
        if (ptr) {
            if (old)
                push_free(m, old);
            on_alloc(m, gil, tls, ptr, size);
        }
        tls->busy = 0;
        end(d, raw);
        return ptr;
    }
    hs_ptr_entry was = {0, 0, 0};
    int had = 0;
    if (old) {
        if (gil) {
            drain(m);
            had = forget_block_now(m, old, &was);
        } else {
            queue_event(m, (uintptr_t)old, 0, 1);
        }
    }
    void *ptr = d->prev.realloc(d->prev.ctx, old, size);
    if (ptr) {
        if (had)
            charge_free(m, tls, was.size);
        on_alloc(m, gil, tls, ptr, size);
    } else if (had) {
        hs_mem_restore_block(m, &was); /* the old block is still there */
    } else if (old && !gil) {
        /* Without the GIL the old block's size is unknown here: it stays
         * untracked from now on. */
        lock(m);
        m->pending_lost++;
        unlock(m);
    }
    tls->busy = 0;
    end(d, raw);
    return ptr;
}

static inline __attribute__((always_inline)) void do_free(void *ctx, void *ptr, int raw) {
    hs_mem_domain *d = ctx;
    if (!ptr) {
        d->prev.free(d->prev.ctx, ptr);
        return;
    }
    if (!raw) {
        /* With the GIL, no chosen lines to charge and no --native, a free
         * needs no thread state: not even the busy flag, which keeps a
         * nested raw allocation from being counted twice and, with
         * --native, the engine's own malloc calls (a flush may grow the
         * table) from re-entering it (and its lock). A raw free nested in
         * this one (pymalloc handing a large block back) is recorded as a
         * second free of the same address, which finds nothing to take. */
        hs_mem *m = __atomic_load_n(&d->engine, __ATOMIC_RELAXED);
        if (m && !m->lines.count && !m->native) {
            drain(m);
            push_free(m, ptr);
            d->prev.free(d->prev.ctx, ptr);
            return;
        }
    }
    hs_mem *m = begin(d, raw);
    hs_mem_tls *tls = enter(m);
    if (!tls) {
        d->prev.free(d->prev.ctx, ptr);
    } else if (has_gil(raw)) {
        /* The block leaves the table after the real free, whose work hides
         * the wait for the table's cache line. Nothing can record the
         * address again in between: with the GIL held here, an allocation
         * that another thread makes meanwhile is queued, and the queue is
         * applied only at this thread's next event (drain). */
        drain(m);
        d->prev.free(d->prev.ctx, ptr);
        hs_ptr_entry e;
        if (!lines_charged(m, tls))
            push_free(m, ptr);
        else if (forget_block_now(m, ptr, &e))
            charge_free(m, tls, e.size);
    } else {
        queue_event(m, (uintptr_t)ptr, 0, 1);
        d->prev.free(d->prev.ctx, ptr);
    }
    if (tls)
        tls->busy = 0;
    end(d, raw);
}

/* One set of hooks for the raw domain, one for the mem and object
 * domains, which always hold the GIL: the domain tests fold away. */
static void *raw_malloc(void *ctx, size_t size) {
    return do_malloc(ctx, size, 1);
}
static void *raw_calloc(void *ctx, size_t nelem, size_t elsize) {
    return do_calloc(ctx, nelem, elsize, 1);
}
static void *raw_realloc(void *ctx, void *old, size_t size) {
    return do_realloc(ctx, old, size, 1);
}
static void raw_free(void *ctx, void *ptr) {
    do_free(ctx, ptr, 1);
}
static void *gil_malloc(void *ctx, size_t size) {
    return do_malloc(ctx, size, 0);
}
static void *gil_calloc(void *ctx, size_t nelem, size_t elsize) {
    return do_calloc(ctx, nelem, elsize, 0);
}
static void *gil_realloc(void *ctx, void *old, size_t size) {
    return do_realloc(ctx, old, size, 0);
}
static void gil_free(void *ctx, void *ptr) {
    do_free(ctx, ptr, 0);
}

/* ---- for native allocations (native.c) ------------------------------------- */

hs_mem_tls *hs_mem_enter(hs_mem *m) {
    return enter(m);
}

void hs_mem_leave(hs_mem_tls *tls) {
    tls->busy = 0;
}

void hs_mem_lock(hs_mem *m) {
    lock(m);
}

void hs_mem_unlock(hs_mem *m) {
    unlock(m);
}

void hs_mem_record_native(hs_mem *m, hs_mem_tls *tls, void *ptr, size_t size,
                          const hs_frame_key *native, size_t n) {
    drain(m);
    uint32_t node = stack_node(m, tls, _PyThreadState_UncheckedGet());
    if (node != HS_TRIE_NONE)
        node = hs_mem_native_chain(m, node, native, n);
    push_block(m, node, ptr, size);
}

int hs_mem_forget_native(hs_mem *m, hs_mem_tls *tls, void *ptr, hs_ptr_entry *was) {
    (void)tls;
    drain(m);
    return forget_block_now(m, ptr, was);
}

void hs_mem_charge_free_native(hs_mem *m, hs_mem_tls *tls, uint64_t size) {
    charge_free(m, tls, size);
}

void hs_mem_restore_block(hs_mem *m, const hs_ptr_entry *was) {
    hs_ptr_entry replaced;
    flush(m);
    if (hs_ptrtable_put(&m->table, was->addr, was->size, was->node, &replaced) == 0) {
        add_live(m, was->node, (int64_t)was->size, 1);
        m->frees--;
    } else {
        m->lost++;
    }
}

/* Makes room for `n` more queued frames (lock held). 0 or -1. */
static int reserve_pending_frames(hs_mem *m, size_t n) {
    size_t need = m->pending_frame_count + n;
    if (need <= m->pending_frame_cap)
        return 0;
    if (need > UINT32_MAX)
        return -1;
    size_t cap = m->pending_frame_cap ? m->pending_frame_cap : 256;
    while (cap < need)
        cap *= 2;
    hs_frame_key *grown = realloc(m->pending_frames, cap * sizeof *grown);
    if (!grown)
        return -1;
    m->pending_frames = grown;
    m->pending_frame_cap = cap;
    return 0;
}

void hs_mem_queue_native(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate, uintptr_t addr,
                         uint64_t size, int is_free, const hs_frame_key *py, size_t py_n,
                         const hs_frame_key *native, size_t native_n) {
    if (is_free) {
        queue_event(m, addr, 0, 1);
        return;
    }
    lock(m);
    if (py_n > UINT16_MAX)
        py_n = 0;
    int held = hs_mem_codes_held(m, py, py_n);
    if (native_n > UINT16_MAX)
        native_n = UINT16_MAX;
    if (m->pending_count == m->pending_cap) {
        size_t cap = m->pending_cap ? m->pending_cap * 2 : 64;
        hs_mem_pending *grown = realloc(m->pending, cap * sizeof *grown);
        if (!grown) {
            m->pending_lost++;
            unlock(m);
            return;
        }
        m->pending = grown;
        m->pending_cap = cap;
    }
    if (reserve_pending_frames(m, py_n + native_n) != 0) {
        py_n = native_n = 0; /* still counted, as "[no GIL]" */
    }
    uint32_t at = (uint32_t)m->pending_frame_count;
    memcpy(m->pending_frames + at, py, py_n * sizeof *py);
    memcpy(m->pending_frames + at + py_n, native, native_n * sizeof *native);
    m->pending_frame_count += py_n + native_n;
    m->pending[m->pending_count] = (hs_mem_pending){
        addr, size, 0, (uint8_t)held, (uint16_t)py_n, (uint16_t)native_n, at, tls, tstate};
    __atomic_store_n(&m->pending_count, m->pending_count + 1, __ATOMIC_RELEASE);
    unlock(m);
}

void hs_mem_queue_lost(hs_mem *m) {
    lock(m);
    m->pending_lost++;
    unlock(m);
}

/* ---- installing ------------------------------------------------------------ */

static const PyMemAllocatorDomain domain_ids[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                   PYMEM_DOMAIN_OBJ};

int hs_mem_hooks_active(void) {
    PyMemAllocatorEx a;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &a);
    /* hooks of a stopped engine that a wrapper put back (tracemalloc.stop()
     * restores what it wrapped) only pass calls through */
    return a.malloc == gil_malloc &&
           __atomic_load_n(&((hs_mem_domain *)a.ctx)->engine, __ATOMIC_SEQ_CST) != NULL;
}

int hs_mem_install(hs_mem *m, char *err, size_t errlen) {
    if (hs_mem_hooks_active()) {
        snprintf(err, errlen, "another hotscope memory profile is already recording");
        return -1;
    }
    m->start_ns = hs_mem_now_ns();
    m->next_point_ns = m->start_ns;
    m->events_to_clock = 1;
    push_point(m, m->start_ns);
    /* malloc first: what the Python allocators then ask of it is theirs */
    if (m->native && hs_mem_native_start(m, err, errlen) != 0)
        return -1;
    /* The hooks' context blocks outlive the engine: a wrapper installed on
     * top of ours later (tracemalloc.start()) keeps calling them, and a
     * raw-domain call without the GIL may still be entering one. They are
     * a few hundred bytes per recording, never freed. */
    hs_mem_domain *domains = calloc(3, sizeof *domains);
    if (!domains) {
        hs_mem_native_stop(m);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->domains = domains;
    for (int i = 0; i < 3; i++) {
        hs_mem_domain *d = &domains[i];
        d->engine = m;
        d->domain = domain_ids[i];
        PyMem_GetAllocator(d->domain, &d->prev);
    }
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx hook = domain_ids[i] == PYMEM_DOMAIN_RAW
            ? (PyMemAllocatorEx){&domains[i], raw_malloc, raw_calloc, raw_realloc, raw_free}
            : (PyMemAllocatorEx){&domains[i], gil_malloc, gil_calloc, gil_realloc, gil_free};
        PyMem_SetAllocator(domain_ids[i], &hook);
    }
    m->installed = 1;
    return 0;
}

/* Whether every domain still has this engine's hooks on top. */
static int hooks_on_top(hs_mem *m) {
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx a;
        PyMem_GetAllocator(domain_ids[i], &a);
        void *(*ours)(void *, size_t) = domain_ids[i] == PYMEM_DOMAIN_RAW ? raw_malloc : gil_malloc;
        if (a.malloc != ours || a.ctx != &m->domains[i])
            return 0;
    }
    return 1;
}

void hs_mem_uninstall(hs_mem *m) {
    if (!m->installed)
        return;
    m->installed = 0;
    m->stop_ns = hs_mem_now_ns();
    hs_mem_native_stop(m); /* returns once no report is running */
    /* If someone wrapped our hooks (tracemalloc.start()), they stay in
     * place as pass-throughs: the allocator on top calls them still. */
    if (hooks_on_top(m))
        for (int i = 0; i < 3; i++)
            PyMem_SetAllocator(domain_ids[i], &m->domains[i].prev);
    for (int i = 0; i < 3; i++)
        __atomic_store_n(&m->domains[i].engine, NULL, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&m->domains[0].inflight, __ATOMIC_SEQ_CST))
        sched_yield();
    drain_slow(m);
    push_point(m, m->stop_ns);
}

void hs_mem_forget_after_fork(hs_mem *m) {
    /* Only this thread exists in the child; a lock another thread held at
     * the fork stays held forever, so it is reset, and nothing more is
     * recorded here. */
    m->lock = 0;
    if (m->domains)
        m->domains[0].inflight = 0;
    hs_mem_uninstall(m);
    m->pid = 0;
}

void hs_mem_set_busy(hs_mem *m, int busy) {
    hs_mem_tls *tls = tls_get(m);
    if (tls)
        tls->busy = busy;
}
