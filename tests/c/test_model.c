/*
 * test_model.c - unit tests of the C profile model: buf, strtab, model,
 * stats (src/model/). Built and run by tests/test_c_model.py, under
 * AddressSanitizer and UBSan where the compiler has them.
 *
 * The stats tests use hand-built trees whose cProfile numbers are worked
 * out in the comments; they are the numbers CPython 3.12's cProfile gives
 * for the equivalent program driven by a fake clock (one clock tick per
 * unit of self weight below).
 *
 * A failed CHECK reports and carries on, so one run shows every failure;
 * main() exits 1 if any failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/model/buf.h"
#include "../../src/model/model.h"
#include "../../src/model/stats.h"
#include "../../src/model/strtab.h"

static int passed, failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_I64(a, b)                                                        \
    do {                                                                       \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                          \
        if (a_ == b_) {                                                        \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "%s:%d: %s == %" PRId64 ", expected %s == %" PRId64 \
                    "\n", __FILE__, __LINE__, #a, a_, #b, b_);                 \
        }                                                                      \
    } while (0)

/* ---- helpers --------------------------------------------------------- */

static hs_id py_frame(hs_profile *p, const char *name, int32_t first_line) {
    return hs_frame_intern(p, hs_intern_cstr(p, name), hs_intern_cstr(p, "prog.py"),
                           first_line, 0, HS_KIND_PYTHON);
}

/* Creates the child of `parent` for `frame` with one call and `wall`
 * self nanoseconds, as the tracer would record one completed call. */
static hs_id call(hs_profile *p, hs_id parent, hs_id frame, int64_t wall) {
    hs_id n = hs_node_child(p, parent, frame);
    hs_node_add(p, n, HS_W_CALLS, 1);
    hs_node_add(p, n, HS_W_WALL_NS, wall);
    return n;
}

static const hs_func_stats *find_func(const hs_stats *s, hs_id function) {
    for (size_t i = 0; i < s->func_count; i++)
        if (s->funcs[i].function == function)
            return &s->funcs[i];
    return NULL;
}

static const hs_edge_stats *find_edge(const hs_stats *s, hs_id caller, hs_id callee) {
    for (size_t i = 0; i < s->edge_count; i++)
        if (s->edges[i].caller == caller && s->edges[i].callee == callee)
            return &s->edges[i];
    return NULL;
}

/* Checks calls/primitive/self/total of a function (wall time weight). */
static void check_func(const hs_stats *s, hs_id f, int64_t calls, int64_t prim,
                       int64_t self, int64_t total, int line) {
    const hs_func_stats *fs = find_func(s, f);
    if (fs == NULL) {
        failed++;
        fprintf(stderr, "line %d: function %u missing\n", line, (unsigned)f);
        return;
    }
    int ok = fs->calls == calls && fs->primitive_calls == prim &&
             fs->self[HS_W_WALL_NS] == self && fs->total[HS_W_WALL_NS] == total;
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr,
                "line %d: function %u: got %" PRId64 "/%" PRId64 " self %" PRId64
                " total %" PRId64 ", expected %" PRId64 "/%" PRId64 " self %" PRId64
                " total %" PRId64 "\n",
                line, (unsigned)f, fs->calls, fs->primitive_calls, fs->self[HS_W_WALL_NS],
                fs->total[HS_W_WALL_NS], calls, prim, self, total);
    }
}

static void check_edge(const hs_stats *s, hs_id caller, hs_id callee, int64_t calls,
                       int64_t prim, int64_t self, int64_t total, int line) {
    const hs_edge_stats *e = find_edge(s, caller, callee);
    if (e == NULL) {
        failed++;
        fprintf(stderr, "line %d: edge %u -> %u missing\n", line, (unsigned)caller,
                (unsigned)callee);
        return;
    }
    int ok = e->calls == calls && e->primitive_calls == prim &&
             e->self == self && e->total == total;
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr,
                "line %d: edge %u -> %u: got %" PRId64 "/%" PRId64 " self %" PRId64
                " total %" PRId64 ", expected %" PRId64 "/%" PRId64 " self %" PRId64
                " total %" PRId64 "\n",
                line, (unsigned)caller, (unsigned)callee, e->calls, e->primitive_calls,
                e->self, e->total, calls, prim, self, total);
    }
}

/* Edges must come sorted by (callee, caller). */
static int edges_sorted(const hs_stats *s) {
    for (size_t i = 1; i < s->edge_count; i++) {
        const hs_edge_stats *a = &s->edges[i - 1], *b = &s->edges[i];
        if (a->callee > b->callee || (a->callee == b->callee && a->caller >= b->caller))
            return 0;
    }
    return 1;
}

/* ---- buf ------------------------------------------------------------- */

static void test_buf(void) {
    hs_buf b;
    hs_buf_init(&b);
    hs_buf_puts(&b, "ab");
    hs_buf_putc(&b, 'c');
    hs_buf_pad(&b, 2);
    hs_buf_printf(&b, "%d|%s", 42, "x");
    CHECK(b.len == 9);
    CHECK(memcmp(b.data, "abc  42|x", 9) == 0);
    CHECK(b.data[b.len] == '\0');

    /* A printf longer than the spare capacity forces the grow-and-retry path. */
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t before = b.len;
    hs_buf_printf(&b, "<%s>", big);
    CHECK(b.len == before + sizeof big + 1);
    CHECK(b.data[before] == '<' && b.data[b.len - 1] == '>' && b.data[before + 1] == 'z');

    hs_buf_free(&b);
    hs_buf_init(&b);
    hs_buf_put_u32le(&b, 0x01020304u);
    hs_buf_put_u64le(&b, 0x1122334455667788ull);
    static const unsigned char want[] = {4, 3, 2, 1, 0x88, 0x77, 0x66, 0x55,
                                         0x44, 0x33, 0x22, 0x11};
    CHECK(b.len == sizeof want && memcmp(b.data, want, sizeof want) == 0);
    hs_buf_append(&b, "a\0b", 3);
    CHECK(b.len == sizeof want + 3 && b.data[sizeof want + 1] == '\0');

    /* A request that cannot fit in memory fails and stays failed. */
    CHECK(hs_buf_reserve(&b, SIZE_MAX - 1) == -1);
    CHECK(b.failed);
    size_t len = b.len;
    hs_buf_puts(&b, "more");
    CHECK(b.len == len);
    hs_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && !b.failed);
}

/* ---- strtab ---------------------------------------------------------- */

static void test_strtab(void) {
    hs_strtab t;
    hs_strtab_init(&t);
    hs_id a = hs_strtab_intern(&t, "alpha", 5);
    hs_id b = hs_strtab_intern(&t, "beta", 4);
    CHECK(a == 0 && b == 1);
    CHECK(hs_strtab_intern(&t, "alpha", 5) == a);
    CHECK(hs_strtab_intern(&t, "alphabet", 5) == a); /* length-based */
    hs_id empty = hs_strtab_intern(&t, "", 0);
    CHECK(empty != a && hs_strtab_intern(&t, NULL, 0) == empty);

    /* Embedded NULs: distinct from each other and from the prefix. */
    hs_id n1 = hs_strtab_intern(&t, "a\0b", 3);
    hs_id n2 = hs_strtab_intern(&t, "a\0c", 3);
    hs_id n3 = hs_strtab_intern(&t, "a", 1);
    CHECK(n1 != n2 && n1 != n3 && n2 != n3);
    CHECK(hs_strtab_intern(&t, "a\0b", 3) == n1);
    size_t len = 0;
    const char *s = hs_strtab_get(&t, n1, &len);
    CHECK(len == 3 && memcmp(s, "a\0b", 3) == 0 && s[3] == '\0');
    CHECK(hs_strtab_get(&t, 999999, &len) == NULL && len == 0);

    /* Many rehashes: 100,000 strings keep their ids and contents. */
    size_t base = t.count;
    char tmp[32];
    int ok = 1;
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(tmp, sizeof tmp, "str%d", i);
        if (hs_strtab_intern(&t, tmp, (size_t)n) != (hs_id)(base + (size_t)i))
            ok = 0;
    }
    CHECK(ok);
    CHECK(t.count == base + 100000);
    CHECK((t.slot_count & (t.slot_count - 1)) == 0 && t.count * 10 <= t.slot_count * 7);
    ok = 1;
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(tmp, sizeof tmp, "str%d", i);
        hs_id id = hs_strtab_intern(&t, tmp, (size_t)n);
        const char *got = hs_strtab_get(&t, id, &len);
        if (id != (hs_id)(base + (size_t)i) || len != (size_t)n || strcmp(got, tmp) != 0)
            ok = 0;
    }
    CHECK(ok);
    CHECK(hs_strtab_intern(&t, "alpha", 5) == a);
    hs_strtab_free(&t);

    /* The hashes are deterministic and seeded. */
    CHECK(hs_hash_bytes("abc", 3, 0) == hs_hash_bytes("abc", 3, 0));
    CHECK(hs_hash_bytes("abc", 3, 0) != hs_hash_bytes("abc", 3, 1));
    CHECK(hs_hash_bytes("", 0, 0) == 0xcbf29ce484222325ull); /* FNV-1a offset basis */
    CHECK(hs_hash_bytes("a", 1, 0) == 0xaf63dc4c8601ec8cull); /* published FNV-1a 64 vector */
    CHECK(hs_hash_mix(hs_hash_mix(0, 1), 2) != hs_hash_mix(hs_hash_mix(0, 2), 1));
}

/* ---- model ----------------------------------------------------------- */

static void test_profile_basics(void) {
    hs_profile *p = hs_profile_new();
    CHECK(p != NULL);
    if (p == NULL)
        return;
    CHECK(p->node_count == 1);
    const hs_node *root = hs_node_get(p, HS_ROOT);
    CHECK(root->parent == HS_NONE && root->frame == HS_NONE);
    CHECK(root->first_child == HS_NONE && root->next_sibling == HS_NONE);

    /* Frames: same fields, same id; any field differing, a new id. */
    hs_id name = hs_intern_cstr(p, "f");
    hs_id file = hs_intern_cstr(p, "prog.py");
    hs_id f = hs_frame_intern(p, name, file, 10, 0, HS_KIND_PYTHON);
    CHECK(f != HS_NONE);
    CHECK(hs_frame_intern(p, name, file, 10, 0, HS_KIND_PYTHON) == f);
    CHECK(hs_frame_intern(p, name, file, 10, 12, HS_KIND_PYTHON) != f);
    CHECK(hs_frame_intern(p, name, file, 11, 0, HS_KIND_PYTHON) != f);
    CHECK(hs_frame_intern(p, name, file, 10, 0, HS_KIND_NATIVE) != f);
    CHECK(hs_frame_intern(p, file, name, 10, 0, HS_KIND_PYTHON) != f);
    const hs_frame *fr = hs_frame_get(p, f);
    CHECK(fr->name == name && fr->file == file && fr->first_line == 10 && fr->line == 0);
    size_t len;
    CHECK(strcmp(hs_str(p, fr->name, &len), "f") == 0 && len == 1);

    /* Children: idempotent, kept in insertion order. */
    hs_id g = py_frame(p, "g", 20), h = py_frame(p, "h", 30);
    hs_id nf = hs_node_child(p, HS_ROOT, f);
    hs_id ng = hs_node_child(p, HS_ROOT, g);
    hs_id nh = hs_node_child(p, HS_ROOT, h);
    CHECK(hs_node_child(p, HS_ROOT, g) == ng);
    CHECK(hs_node_child(p, HS_ROOT, f) == nf);
    CHECK(p->node_count == 4);
    CHECK(hs_node_get(p, HS_ROOT)->first_child == nf);
    CHECK(hs_node_get(p, nf)->next_sibling == ng);
    CHECK(hs_node_get(p, ng)->next_sibling == nh);
    CHECK(hs_node_get(p, nh)->next_sibling == HS_NONE);
    hs_id nff = hs_node_child(p, nf, f);
    CHECK(nff != nf && hs_node_get(p, nff)->parent == nf && nff > nf);
    CHECK(hs_node_child(p, 12345, f) == HS_NONE);
    CHECK(hs_node_child(p, HS_ROOT, 12345) == HS_NONE);

    /* Weights: self only, and the present bits. */
    CHECK(p->weights_present == 0);
    hs_node_add(p, nff, HS_W_SAMPLES, 3);
    hs_node_add(p, nff, HS_W_SAMPLES, 4);
    CHECK(hs_node_get(p, nff)->self[HS_W_SAMPLES] == 7);
    CHECK(p->weights_present == (1u << HS_W_SAMPLES));
    hs_node_add(p, nff, HS_W_SAMPLES, INT64_MAX); /* clamps, never wraps */
    CHECK(hs_node_get(p, nff)->self[HS_W_SAMPLES] == INT64_MAX);

    /* add_stack walks existing nodes and adds only non-zero weights. */
    hs_id stack[] = {f, f, g};
    int64_t w[HS_W_COUNT] = {0};
    w[HS_W_BYTES] = 100;
    hs_id leaf = hs_add_stack(p, stack, 3, w);
    CHECK(leaf != HS_NONE && hs_node_get(p, leaf)->parent == nff);
    CHECK(hs_node_get(p, leaf)->frame == g);
    CHECK(hs_add_stack(p, stack, 3, w) == leaf);
    CHECK(hs_node_get(p, leaf)->self[HS_W_BYTES] == 200);
    CHECK(p->weights_present == ((1u << HS_W_SAMPLES) | (1u << HS_W_BYTES)));
    hs_id bad[] = {f, 999};
    CHECK(hs_add_stack(p, bad, 2, w) == HS_NONE);

    /* Threads: a THREAD frame named after the thread, under the root. */
    int t0 = hs_thread_add(p, "MainThread", 100, 1000);
    int t1 = hs_thread_add(p, "worker", 101, 1001);
    CHECK(t0 == 0 && t1 == 1 && p->thread_count == 2);
    const hs_thread *th = &p->threads[1];
    CHECK(strcmp(hs_str(p, th->name, NULL), "worker") == 0);
    CHECK(th->os_tid == 101 && th->ident == 1001);
    const hs_node *tn = hs_node_get(p, th->root);
    CHECK(tn->parent == HS_ROOT);
    const hs_frame *tf = hs_frame_get(p, tn->frame);
    CHECK(tf->kind == HS_KIND_THREAD && tf->first_line == 1 && tf->line == 0);
    CHECK(tf->name == th->name && strcmp(hs_str(p, tf->file, &len), "") == 0 && len == 0);
    CHECK(p->threads[0].root != p->threads[1].root);

    /* Metadata: set, replace, miss. */
    CHECK(hs_meta_set(p, "command", "python x.py") == 0);
    CHECK(hs_meta_set(p, "python", "3.12.1") == 0);
    CHECK(hs_meta_set(p, "command", "python y.py") == 0);
    CHECK(p->meta_count == 2);
    CHECK(strcmp(hs_meta_get(p, "command"), "python y.py") == 0);
    CHECK(strcmp(hs_meta_get(p, "python"), "3.12.1") == 0);
    CHECK(hs_meta_get(p, "missing") == NULL);

    hs_profile_free(p);
}

static void test_many_frames(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    hs_id name = hs_intern_cstr(p, "f"), file = hs_intern_cstr(p, "big.py");
    int ok = 1;
    for (int32_t i = 0; i < 100000; i++)
        if (hs_frame_intern(p, name, file, i, i % 7, HS_KIND_PYTHON) != (hs_id)i)
            ok = 0;
    CHECK(ok);
    ok = 1;
    for (int32_t i = 0; i < 100000; i++)
        if (hs_frame_intern(p, name, file, i, i % 7, HS_KIND_PYTHON) != (hs_id)i)
            ok = 0;
    CHECK(ok);
    CHECK(p->frame_count == 100000);

    /* 100,000 children of one node: each found again, order kept. */
    ok = 1;
    for (hs_id i = 0; i < 100000; i++)
        if (hs_node_child(p, HS_ROOT, i) != i + 1)
            ok = 0;
    CHECK(ok);
    ok = 1;
    for (hs_id i = 0; i < 100000; i++)
        if (hs_node_child(p, HS_ROOT, i) != i + 1)
            ok = 0;
    CHECK(ok);
    hs_id n = hs_node_get(p, HS_ROOT)->first_child;
    size_t count = 0;
    ok = 1;
    while (n != HS_NONE) {
        if (hs_node_get(p, n)->frame != (hs_id)count)
            ok = 0;
        count++;
        n = hs_node_get(p, n)->next_sibling;
    }
    CHECK(ok && count == 100000);
    hs_profile_free(p);
}

typedef struct {
    size_t visits, max_depth;
    hs_id order[16];
    size_t depths[16];
    hs_id skip;
} walk_log;

static int log_visit(const hs_profile *p, hs_id node, size_t depth, void *ctx) {
    (void)p;
    walk_log *log = ctx;
    if (log->visits < 16) {
        log->order[log->visits] = node;
        log->depths[log->visits] = depth;
    }
    log->visits++;
    if (depth > log->max_depth)
        log->max_depth = depth;
    return node == log->skip;
}

static void test_walk_and_totals(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    /*   root
     *    a (1)
     *      b (2)
     *        c (4)
     *      d (8)
     *    e (16)                  numbers: wall self weights */
    hs_id fa = py_frame(p, "a", 1), fb = py_frame(p, "b", 2), fc = py_frame(p, "c", 3);
    hs_id fd = py_frame(p, "d", 4), fe = py_frame(p, "e", 5);
    hs_id a = call(p, HS_ROOT, fa, 1), b = call(p, a, fb, 2), c = call(p, b, fc, 4);
    hs_id d = call(p, a, fd, 8), e = call(p, HS_ROOT, fe, 16);

    int64_t totals[6];
    CHECK(p->node_count == 6);
    hs_node_totals(p, HS_W_WALL_NS, totals);
    CHECK_I64(totals[c], 4);
    CHECK_I64(totals[b], 6);
    CHECK_I64(totals[d], 8);
    CHECK_I64(totals[a], 15);
    CHECK_I64(totals[e], 16);
    CHECK_I64(totals[HS_ROOT], 31);
    hs_node_totals(p, HS_W_CALLS, totals);
    CHECK_I64(totals[HS_ROOT], 5);

    walk_log log = {0};
    log.skip = HS_NONE;
    CHECK(hs_walk(p, HS_ROOT, log_visit, &log) == 0);
    hs_id want[] = {HS_ROOT, a, b, c, d, e};
    size_t want_depth[] = {0, 1, 2, 3, 2, 1};
    CHECK(log.visits == 6);
    for (size_t i = 0; i < 6; i++)
        CHECK(log.order[i] == want[i] && log.depths[i] == want_depth[i]);

    /* Skipping b's subtree; walking from a subtree stays inside it. */
    memset(&log, 0, sizeof log);
    log.skip = b;
    CHECK(hs_walk(p, HS_ROOT, log_visit, &log) == 0);
    CHECK(log.visits == 5 && log.order[3] == d);
    memset(&log, 0, sizeof log);
    log.skip = HS_NONE;
    CHECK(hs_walk(p, a, log_visit, &log) == 0);
    CHECK(log.visits == 4 && log.order[0] == a && log.depths[0] == 0 && log.order[3] == d);
    memset(&log, 0, sizeof log);
    log.skip = HS_NONE;
    CHECK(hs_walk(p, c, log_visit, &log) == 0);
    CHECK(log.visits == 1);
    CHECK(hs_walk(p, 99, log_visit, &log) == -1);
    hs_profile_free(p);
}

enum { DEEP = 100000 };

static void test_deep_chain(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    /* A thread running f recursively DEEP times, each call 1 ns of self
     * time, then g once at the bottom (5 ns). */
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id f = py_frame(p, "f", 1), g = py_frame(p, "g", 9);
    hs_id n = p->threads[t].root;
    hs_id outer = HS_NONE;
    for (int i = 0; i < DEEP; i++) {
        n = call(p, n, f, 1);
        if (i == 0)
            outer = n;
    }
    hs_id leaf = call(p, n, g, 5);
    CHECK(p->node_count == (size_t)DEEP + 3);

    int64_t *totals = malloc(p->node_count * sizeof *totals);
    if (totals == NULL) {
        CHECK(totals != NULL);
        hs_profile_free(p);
        return;
    }
    hs_node_totals(p, HS_W_WALL_NS, totals);
    CHECK_I64(totals[leaf], 5);
    CHECK_I64(totals[outer], DEEP + 5);
    CHECK_I64(totals[HS_ROOT], DEEP + 5);
    free(totals);

    walk_log log = {0};
    log.skip = HS_NONE;
    CHECK(hs_walk(p, HS_ROOT, log_visit, &log) == 0);
    CHECK(log.visits == (size_t)DEEP + 3);
    CHECK(log.max_depth == (size_t)DEEP + 2); /* root, thread, DEEP f's, g */

    /* cProfile: f is "100000/1" calls, tottime 100000, cumtime 100005 (the
     * outermost call only); f -> f is 99999/1 calls with cumtime 100004 (the
     * second call, the outermost reached through f -> f). */
    hs_stats s;
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_WALL_NS, &s) == 0);
    check_func(&s, f, DEEP, 1, DEEP, DEEP + 5, __LINE__);
    check_func(&s, g, 1, 1, 5, 5, __LINE__);
    check_edge(&s, f, f, DEEP - 1, 1, DEEP - 1, DEEP + 4, __LINE__);
    check_edge(&s, f, g, 1, 1, 5, 5, __LINE__);
    CHECK(s.func_count == 2 && s.edge_count == 2);
    CHECK_I64(s.total[HS_W_WALL_NS], DEEP + 5);
    hs_stats_free(&s);
    hs_profile_free(p);
}

/* ---- stats ----------------------------------------------------------- */

static void test_stats_direct_recursion(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    /* def f(n): <n ticks...>; f(n - 1) while n > 1;  def main(): f(3)
     *
     *   MainThread
     *     main  self 10
     *       f1  self 5
     *         f2  self 3
     *           f3  self 2
     *
     * Node totals: f3 2, f2 5, f1 10, main 20.
     * cProfile (checked against CPython's cProfile with a fake timer):
     *   main  ncalls 1     tottime 10  cumtime 20
     *   f     ncalls 3/1   tottime 10  cumtime 10   (f1's total only)
     *   callers of f: main 1 call, tottime 5, cumtime 10;
     *                 f    2/1 calls (f3 runs inside f2's f->f call),
     *                      tottime 3 + 2 = 5, cumtime 5 (f2's total). */
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id main_f = py_frame(p, "main", 1), f = py_frame(p, "f", 5);
    hs_id m = call(p, p->threads[t].root, main_f, 10);
    hs_id f1 = call(p, m, f, 5), f2 = call(p, f1, f, 3);
    call(p, f2, f, 2);

    hs_stats s;
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_WALL_NS, &s) == 0);
    CHECK(s.func_count == 2);
    CHECK(s.edge_count == 2);
    check_func(&s, main_f, 1, 1, 10, 20, __LINE__);
    check_func(&s, f, 3, 1, 10, 10, __LINE__);
    check_edge(&s, main_f, f, 1, 1, 5, 10, __LINE__);
    check_edge(&s, f, f, 2, 1, 5, 5, __LINE__);
    CHECK(edges_sorted(&s));
    CHECK_I64(s.total[HS_W_WALL_NS], 20);
    CHECK_I64(s.total[HS_W_CALLS], 4);
    /* Thread frames are never functions, and nothing calls main. */
    CHECK(find_func(&s, hs_node_get(p, p->threads[t].root)->frame) == NULL);
    hs_stats_free(&s);
    hs_profile_free(p);
}

static void test_stats_mutual_recursion(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    /* main -> a -> b -> a -> b:
     *
     *   MainThread
     *     main  self 1
     *       a1  self 2
     *         b1  self 3
     *           a2  self 4
     *             b2  self 5
     *
     * Node totals: b2 5, a2 9, b1 12, a1 14, main 15.
     *   main  1     tottime 1  cumtime 15
     *   a     2/1   tottime 6  cumtime 14  (a2 is inside a1)
     *   b     2/1   tottime 8  cumtime 12  (b2 is inside b1)
     * Edges (calls, primitive, tottime, cumtime):
     *   main -> a  1, 1, 2, 14
     *   a -> b     2, 1, 8, 12  (b2 is reached through a -> b inside b1's a -> b)
     *   b -> a     1, 1, 4, 9   (primitive for the edge though a2 is recursive for a)
     * These are the numbers CPython's cProfile reports for the same program. */
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id fm = py_frame(p, "main", 1), fa = py_frame(p, "a", 5), fb = py_frame(p, "b", 9);
    hs_id m = call(p, p->threads[t].root, fm, 1);
    hs_id a1 = call(p, m, fa, 2), b1 = call(p, a1, fb, 3), a2 = call(p, b1, fa, 4);
    call(p, a2, fb, 5);

    hs_stats s;
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_WALL_NS, &s) == 0);
    CHECK(s.func_count == 3 && s.edge_count == 3);
    check_func(&s, fm, 1, 1, 1, 15, __LINE__);
    check_func(&s, fa, 2, 1, 6, 14, __LINE__);
    check_func(&s, fb, 2, 1, 8, 12, __LINE__);
    check_edge(&s, fm, fa, 1, 1, 2, 14, __LINE__);
    check_edge(&s, fa, fb, 2, 1, 8, 12, __LINE__);
    check_edge(&s, fb, fa, 1, 1, 4, 9, __LINE__);
    CHECK(edges_sorted(&s));
    CHECK_I64(s.total[HS_W_WALL_NS], 15);
    /* Functions are listed in order of first appearance. */
    CHECK(s.funcs[0].function == fm && s.funcs[1].function == fa && s.funcs[2].function == fb);

    /* From a subtree: start at b1. Its caller edge (a -> b from a1) lies
     * outside and is not counted; a2 and b2 are now the outermost. */
    hs_stats sub;
    CHECK(hs_stats_compute(p, b1, HS_W_WALL_NS, &sub) == 0);
    check_func(&sub, fb, 2, 1, 8, 12, __LINE__);
    check_func(&sub, fa, 1, 1, 4, 9, __LINE__);
    check_edge(&sub, fb, fa, 1, 1, 4, 9, __LINE__);
    check_edge(&sub, fa, fb, 1, 1, 5, 5, __LINE__);
    CHECK(sub.edge_count == 2);
    CHECK_I64(sub.total[HS_W_WALL_NS], 12);
    hs_stats_free(&sub);
    hs_stats_free(&s);

    CHECK(hs_stats_compute(p, 12345, HS_W_WALL_NS, &s) == -1);
    CHECK(s.funcs == NULL && s.edges == NULL && s.func_count == 0);
    hs_profile_free(p);
}

static void test_stats_threads(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    /*   MainThread: main (1) -> work (10)           one call each
     *   worker:     run (2)  -> work (20, 2 calls)
     *               run      -> [gc] (7)            an OTHER frame: still a function
     *
     * start = root: work merges: 3 calls, 3 primitive, tottime 30, cumtime 30;
     *   edges main -> work (1, 1, 10, 10), run -> work (2, 2, 20, 20),
     *   run -> [gc] (1, 1, 7, 7); total 1 + 10 + 2 + 20 + 7 = 40.
     * start = MainThread: work 1 call, 10/10; total 11.
     * start = worker: work 2 calls, 20/20; run 1, 2 self, 29 cumulative; total 29. */
    int t0 = hs_thread_add(p, "MainThread", 1, 1);
    int t1 = hs_thread_add(p, "worker", 2, 2);
    hs_id fm = py_frame(p, "main", 1), fr = py_frame(p, "run", 20);
    hs_id fw = py_frame(p, "work", 10);
    hs_id gc = hs_frame_intern(p, hs_intern_cstr(p, "[gc]"), hs_intern_cstr(p, ""), 0, 0,
                               HS_KIND_OTHER);
    hs_id m = call(p, p->threads[t0].root, fm, 1);
    call(p, m, fw, 10);
    hs_id r = call(p, p->threads[t1].root, fr, 2);
    hs_id w2 = call(p, r, fw, 20);
    hs_node_add(p, w2, HS_W_CALLS, 1);
    call(p, r, gc, 7);

    hs_stats s;
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_WALL_NS, &s) == 0);
    CHECK(s.func_count == 4 && s.edge_count == 3);
    check_func(&s, fw, 3, 3, 30, 30, __LINE__);
    check_func(&s, fm, 1, 1, 1, 11, __LINE__);
    check_func(&s, fr, 1, 1, 2, 29, __LINE__);
    check_func(&s, gc, 1, 1, 7, 7, __LINE__);
    check_edge(&s, fm, fw, 1, 1, 10, 10, __LINE__);
    check_edge(&s, fr, fw, 2, 2, 20, 20, __LINE__);
    check_edge(&s, fr, gc, 1, 1, 7, 7, __LINE__);
    CHECK(edges_sorted(&s));
    CHECK_I64(s.total[HS_W_WALL_NS], 40);

    /* Without edges: the same functions, in the same order, and no edges. */
    hs_stats f;
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_COUNT, &f) == 0);
    CHECK(f.edge_count == 0 && f.func_count == s.func_count);
    for (size_t i = 0; i < f.func_count && i < s.func_count; i++)
        CHECK(memcmp(&f.funcs[i], &s.funcs[i], sizeof f.funcs[i]) == 0);
    hs_stats_free(&f);
    /* Edges of CPU time, which this profile has none of: zero, counted calls. */
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_CPU_NS, &f) == 0);
    CHECK(f.edge_count == 3 && f.edges[0].self == 0 && f.edges[0].total == 0);
    hs_stats_free(&f);
    CHECK(hs_stats_compute(p, HS_ROOT, (hs_weight)(HS_W_COUNT + 1), &f) == -1);
    hs_stats_free(&s);

    CHECK(hs_stats_compute(p, p->threads[t0].root, HS_W_WALL_NS, &s) == 0);
    CHECK(s.func_count == 2 && s.edge_count == 1);
    check_func(&s, fw, 1, 1, 10, 10, __LINE__);
    check_edge(&s, fm, fw, 1, 1, 10, 10, __LINE__);
    CHECK_I64(s.total[HS_W_WALL_NS], 11);
    hs_stats_free(&s);

    CHECK(hs_stats_compute(p, p->threads[t1].root, HS_W_WALL_NS, &s) == 0);
    CHECK(s.func_count == 3 && s.edge_count == 2);
    check_func(&s, fw, 2, 2, 20, 20, __LINE__);
    check_func(&s, fr, 1, 1, 2, 29, __LINE__);
    CHECK(find_func(&s, fm) == NULL);
    CHECK_I64(s.total[HS_W_WALL_NS], 29);
    hs_stats_free(&s);
    hs_profile_free(p);
}

static void test_stats_line_folding(void) {
    hs_profile *p = hs_profile_new();
    if (p == NULL) {
        CHECK(p != NULL);
        return;
    }
    /* Sampled frames carry lines; stats fold them into functions.
     *   T: f@12 (1 sample) -> g@30 (3 samples)
     *      f@14 (0)        -> g@31 (2 samples)
     *      f@14            -> f@2 (4 samples)   recursion through another line
     * f: self 1 + 4 = 5, total 4 + 6 = 10 (node totals of f@12 and f@14, the
     *    outermost; f@2 is inside f@14); g: self 5, total 5; f -> f: 4/4. */
    int t = hs_thread_add(p, "T", 1, 1);
    hs_id name_f = hs_intern_cstr(p, "f"), name_g = hs_intern_cstr(p, "g");
    hs_id file = hs_intern_cstr(p, "s.py");
    hs_id f12 = hs_frame_intern(p, name_f, file, 10, 12, HS_KIND_PYTHON);
    hs_id f14 = hs_frame_intern(p, name_f, file, 10, 14, HS_KIND_PYTHON);
    hs_id f2 = hs_frame_intern(p, name_f, file, 10, 2, HS_KIND_PYTHON);
    hs_id g30 = hs_frame_intern(p, name_g, file, 29, 30, HS_KIND_PYTHON);
    hs_id g31 = hs_frame_intern(p, name_g, file, 29, 31, HS_KIND_PYTHON);
    hs_id thread_frame = hs_node_get(p, p->threads[t].root)->frame;
    hs_id st1[] = {thread_frame, f12, g30}, st2[] = {thread_frame, f12};
    hs_id st3[] = {thread_frame, f14, g31}, st4[] = {thread_frame, f14, f2};
    int64_t w[HS_W_COUNT] = {0};
    w[HS_W_SAMPLES] = 3;
    hs_add_stack(p, st1, 3, w);
    w[HS_W_SAMPLES] = 1;
    hs_add_stack(p, st2, 2, w);
    w[HS_W_SAMPLES] = 2;
    hs_add_stack(p, st3, 3, w);
    w[HS_W_SAMPLES] = 4;
    hs_add_stack(p, st4, 3, w);
    CHECK(p->weights_present == (1u << HS_W_SAMPLES));

    hs_id ff = hs_function_of(p, f12), fg = hs_function_of(p, g31);
    CHECK(ff != HS_NONE && ff == hs_function_of(p, f14) && ff != f12);
    CHECK(hs_frame_get(p, ff)->line == 0 && hs_frame_get(p, ff)->first_line == 10);
    CHECK(hs_function_of(p, ff) == ff);
    CHECK(hs_function_of(p, 99999) == HS_NONE);

    hs_stats s;
    CHECK(hs_stats_compute(p, HS_ROOT, HS_W_SAMPLES, &s) == 0);
    CHECK(s.func_count == 2 && s.edge_count == 2);
    const hs_func_stats *sf = find_func(&s, ff), *sg = find_func(&s, fg);
    CHECK(sf && sf->self[HS_W_SAMPLES] == 5 && sf->total[HS_W_SAMPLES] == 10);
    CHECK(sg && sg->self[HS_W_SAMPLES] == 5 && sg->total[HS_W_SAMPLES] == 5);
    const hs_edge_stats *e = find_edge(&s, ff, ff);
    CHECK(e && e->self == 4 && e->total == 4);
    CHECK_I64(s.total[HS_W_SAMPLES], 10);
    CHECK(edges_sorted(&s));
    hs_stats_free(&s);

    /* An empty profile has no functions and zero totals. */
    hs_profile *empty = hs_profile_new();
    if (empty != NULL) {
        CHECK(hs_stats_compute(empty, HS_ROOT, HS_W_WALL_NS, &s) == 0);
        CHECK(s.func_count == 0 && s.edge_count == 0 && s.total[HS_W_CALLS] == 0);
        hs_stats_free(&s);
        hs_profile_free(empty);
    }
    hs_profile_free(p);
}

int main(void) {
    test_buf();
    test_strtab();
    test_profile_basics();
    test_many_frames();
    test_walk_and_totals();
    test_deep_chain();
    test_stats_direct_recursion();
    test_stats_mutual_recursion();
    test_stats_threads();
    test_stats_line_folding();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
