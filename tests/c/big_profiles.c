/*
 * big_profiles.c - the bench's profiles of 1,000,000 samples over 100,000
 * distinct stacks (big_profiles.h).
 *
 * What decides a renderer's work is the number of nodes of the call tree,
 * one per distinct call path, and that depends on how much the distinct
 * stacks share. Real programs' stacks share long prefixes (the main loop,
 * a framework, a library's internals) and differ in their last several
 * frames, so `realistic` draws its stacks from the call graph of a
 * made-up server program rather than from thin air:
 *
 *   MainThread  <module> -> main -> serve_forever -> ... (5 frames), then a
 *               web framework's middleware chain (10 frames, 60 functions
 *               in 12 files under site-packages, mostly one way through),
 *               then a router with 400 handlers;
 *   3 workers   threading's bootstrap -> an executor's loop (5 frames),
 *               the framework's last 8 positions, a task runner calling
 *               the same 400 handlers in another order of heat;
 *   app code    2,000 functions in 200 files in 6 levels (the handlers,
 *               then 5 levels of helpers), 2 to 6 call sites each: the
 *               next level's helpers, library and standard-library APIs;
 *   libraries   700 functions in 70 files under site-packages, in 8
 *               ranks, each calling 1 to 3 deeper library functions,
 *               standard-library functions or builtins;
 *   stdlib      400 functions in 40 files under /usr/lib/python3.12;
 *   builtins    200 C functions, where a stack ends.
 *   Some app and library functions call themselves (a visitor, an
 *   encoder): 4% and 3% of them have that call site.
 *
 * A stack is a walk from a thread's entry: at each function it stops
 * there (the sample's own time: 0.2% in the entry frames, 1% in the
 * framework, 12% in app and library code, 20% in the standard library)
 * or takes one of its call sites, the first ones more often (weights
 * 1, 1/2, 1/3, ...: most calls go one way). A frame is the function at
 * the line of the call site taken, as a sampler records it. Walks
 * shallower than 15 frames are drawn again and deeper ones stop at 40;
 * walks that repeat a stack already drawn are drawn again, until there
 * are 100,000. The samples then follow Zipf's law over the stacks in
 * the order they were found (the k-th gets a share 1/k; each at least
 * one): a few hot stacks and a long tail.
 *
 * `shared` is the bench's first fixture, kept for comparison: stacks
 * grown as a random recursive tree over 3,000 functions, about two nodes
 * per stack. `random` is the worst case: each stack 5 to 40 functions
 * drawn at random from the same 3,000, so nearly every frame of every
 * stack is a node of its own.
 */
#include "big_profiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STACKS 100000
#define SAMPLES 1000000
#define MIN_DEPTH 15
#define MAX_DEPTH 40

/* A 64-bit linear congruential generator (Knuth's MMIX constants), reset
 * by each builder so each profile is the same whatever was built before. */
static uint64_t rng_state;
static void rng_seed(uint64_t seed) {
    rng_state = seed;
}
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static double uniform(void) {
    return (double)rnd() / 2147483648.0;
}
static int chance(double p) {
    return uniform() < p;
}

static void set_meta(hs_profile *p, const char *shape) {
    char command[96];
    snprintf(command, sizeof command, "bench: 100000 distinct stacks (%s)", shape);
    hs_meta_set(p, "command", command);
    hs_meta_set(p, "engine", "sample");
    hs_meta_set(p, "samples", "1000000");
}

/* Samples and wall time (1 ms a sample, a 1 kHz sampler) on each stack:
 * one each, and the rest by Zipf's law over their order. */
static void zipf_samples(hs_profile *p, const hs_id *leaves, size_t n) {
    double sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += 1.0 / (double)(k + 1);
    int64_t rest = SAMPLES - (int64_t)n, given = 0;
    int64_t *count = malloc(n * sizeof *count);
    for (size_t k = 0; k < n; k++) {
        count[k] = (int64_t)((double)rest / (double)(k + 1) / sum);
        given += count[k];
    }
    for (size_t k = 0; given < rest; k++, given++)
        count[k % n]++;
    for (size_t k = 0; k < n; k++) {
        hs_node_add(p, leaves[k], HS_W_SAMPLES, 1 + count[k]);
        hs_node_add(p, leaves[k], HS_W_WALL_NS, (1 + count[k]) * 1000000);
    }
    free(count);
}

/* Marks `node` as a stack's leaf: 1 the first time, 0 when that stack was
 * drawn already. `*used` grows with the tree. */
static int first_use(unsigned char **used, size_t *cap, const hs_profile *p, hs_id node) {
    if (p->node_count > *cap) {
        size_t n = *cap ? *cap : 1 << 16;
        while (n < p->node_count)
            n *= 2;
        *used = realloc(*used, n);
        memset(*used + *cap, 0, n - *cap);
        *cap = n;
    }
    if ((*used)[node])
        return 0;
    (*used)[node] = 1;
    return 1;
}

/* ---- realistic ---------------------------------------------------------- */

enum { ENTRY, FRAMEWORK, DISPATCH, APP, LIB, STD, NATIVE };

typedef struct {
    hs_id name, file;
    int32_t first_line;
    int layer;
    int site_start, site_count; /* into program.sites */
} function;

typedef struct {
    int callee;
    int32_t line;
} call_site;

typedef struct {
    hs_profile *p;
    function *funcs;
    int func_count;
    call_site *sites;
    int site_count, site_cap;
} program;

static int add_function(program *g, const char *name, const char *file, int layer) {
    function *f = &g->funcs[g->func_count];
    f->name = hs_intern_cstr(g->p, name);
    f->file = hs_intern_cstr(g->p, file);
    f->first_line = layer == NATIVE ? 0 : 10 + (int32_t)(rnd() % 400);
    f->layer = layer;
    f->site_start = 0;
    f->site_count = 0;
    return g->func_count++;
}

/* A function's call sites are added together, so they are contiguous. */
static void add_site(program *g, int caller, int callee) {
    function *f = &g->funcs[caller];
    if (f->site_count == 0)
        f->site_start = g->site_count;
    if (g->site_count == g->site_cap) {
        g->site_cap = g->site_cap ? 2 * g->site_cap : 1024;
        g->sites = realloc(g->sites, (size_t)g->site_cap * sizeof *g->sites);
    }
    g->sites[g->site_count].callee = callee;
    g->sites[g->site_count].line = f->first_line + 2 + 3 * f->site_count;
    g->site_count++;
    f->site_count++;
}

/* The frame of function f at `line`, as a sampler interns it. */
static hs_id frame_at(program *g, int f, int32_t line) {
    const function *fn = &g->funcs[f];
    if (fn->layer == NATIVE) /* C functions have no lines */
        return hs_frame_intern(g->p, fn->name, fn->file, 0, 0, HS_KIND_NATIVE);
    return hs_frame_intern(g->p, fn->name, fn->file, fn->first_line, line, HS_KIND_PYTHON);
}

/* Indexes of a range of functions: [first, first + count). */
typedef struct {
    int first, count;
} span;

static int pick(span s) {
    return s.first + (int)(rnd() % (unsigned)s.count);
}

static span add_layer(program *g, int layer, int count, int files, const char *name_fmt,
                      const char *file_fmt) {
    span s = {g->func_count, count};
    char name[128], file[160];
    for (int i = 0; i < count; i++) {
        int file_no = i % files;
        snprintf(name, sizeof name, name_fmt, i / 7, i);
        snprintf(file, sizeof file, file_fmt, file_no / 10, file_no);
        add_function(g, name, file, layer);
    }
    return s;
}

/* Layered functions (`ranks` ranks, rank 0 first) whose call sites go to
 * later ranks of the same span or to `below`: returns nothing, fills
 * the sites. */
static void ranked_calls(program *g, span s, int ranks, int min_sites, int max_sites,
                         double inside, span below, span natives, double recursive) {
    int per_rank = s.count / ranks;
    for (int i = 0; i < s.count; i++) {
        int f = s.first + i, rank = i / per_rank;
        int sites = min_sites + (int)(rnd() % (unsigned)(max_sites - min_sites + 1));
        if (chance(recursive))
            add_site(g, f, f);
        for (int k = 0; k < sites; k++) {
            int deeper = s.count - (rank + 1) * per_rank;
            if (deeper > 0 && chance(inside)) {
                span next = {s.first + (rank + 1) * per_rank, per_rank};
                add_site(g, f, pick(next));
            } else if (chance(0.8)) {
                add_site(g, f, pick(below));
            } else {
                add_site(g, f, pick(natives));
            }
        }
    }
}

static program build_program(hs_profile *p) {
    program g = {.p = p, .funcs = calloc(4000, sizeof(function))};
    static const char *const main_chain[][2] = {
        {"<module>", "/srv/app/manage.py"},
        {"main", "/srv/app/manage.py"},
        {"BaseServer.serve_forever", "/usr/lib/python3.12/socketserver.py"},
        {"BaseServer._handle_request_noblock", "/usr/lib/python3.12/socketserver.py"},
        {"ThreadingMixIn.process_request_thread", "/usr/lib/python3.12/socketserver.py"},
    };
    static const char *const worker_chain[][2] = {
        {"Thread._bootstrap", "/usr/lib/python3.12/threading.py"},
        {"Thread._bootstrap_inner", "/usr/lib/python3.12/threading.py"},
        {"Thread.run", "/usr/lib/python3.12/threading.py"},
        {"_worker", "/usr/lib/python3.12/concurrent/futures/thread.py"},
        {"_WorkItem.run", "/usr/lib/python3.12/concurrent/futures/thread.py"},
    };
    int main_entry = g.func_count;
    for (int i = 0; i < 5; i++)
        add_function(&g, main_chain[i][0], main_chain[i][1], ENTRY);
    int worker_entry = g.func_count;
    for (int i = 0; i < 5; i++)
        add_function(&g, worker_chain[i][0], worker_chain[i][1], ENTRY);
    span fw = add_layer(&g, FRAMEWORK, 60, 12, "Middleware%d.__call__%d",
                        "/srv/app/.venv/lib/python3.12/site-packages/webframe/core%d/handlers%d.py");
    int router = add_function(&g, "URLRouter.dispatch", "/srv/app/.venv/lib/python3.12/site-packages/webframe/urls.py",
                              DISPATCH);
    int runner = add_function(&g, "TaskRunner.run_task", "/srv/app/.venv/lib/python3.12/site-packages/webframe/tasks.py",
                              DISPATCH);
    span app = add_layer(&g, APP, 2000, 200, "Service%d.handle_%d", "/srv/app/src/shop/pkg%d/views%d.py");
    span lib = add_layer(&g, LIB, 700, 70, "Query%d._execute_%d",
                         "/srv/app/.venv/lib/python3.12/site-packages/orm/backend%d/compiler%d.py");
    span std = add_layer(&g, STD, 400, 40, "JSONEncoder%d.iterencode_%d", "/usr/lib/python3.12/json%d/encoder%d.py");
    span natives = add_layer(&g, NATIVE, 200, 1, "<built-in method m%d_%d>", "~");

    /* Entry chains: one way through; the last frame enters the framework. */
    for (int i = 0; i < 4; i++) {
        add_site(&g, main_entry + i, main_entry + i + 1);
        add_site(&g, worker_entry + i, worker_entry + i + 1);
    }
    /* The framework: 10 positions of 6 variants; each variant calls the
     * first variant of the next position, and a third of them another
     * variant too (a sync or async path, a feature flag). */
    add_site(&g, main_entry + 4, fw.first);
    add_site(&g, worker_entry + 4, fw.first + 2 * 6);
    for (int pos = 0; pos < 10; pos++) {
        for (int v = 0; v < 6; v++) {
            int f = fw.first + pos * 6 + v;
            if (pos == 9) {
                add_site(&g, f, v % 2 ? runner : router);
                continue;
            }
            add_site(&g, f, fw.first + (pos + 1) * 6);
            if (chance(0.35))
                add_site(&g, f, fw.first + (pos + 1) * 6 + 1 + (int)(rnd() % 5));
        }
    }
    /* The router and the task runner: 400 handlers each, hottest first,
     * in different orders. */
    for (int h = 0; h < 400; h++)
        add_site(&g, router, app.first + h);
    for (int h = 0; h < 400; h++)
        add_site(&g, runner, app.first + (h * 7 + 123) % 400);
    /* App code: handlers (level 0) and 5 levels of helpers. */
    for (int i = 0; i < app.count; i++) {
        int f = app.first + i;
        int level = i < 400 ? 0 : 1 + (i - 400) / 200;
        int sites = 2 + (int)(rnd() % 5);
        if (level > 0 && chance(0.04))
            add_site(&g, f, f);
        for (int k = 0; k < sites; k++) {
            double u = uniform();
            if (level < 8 && u < 0.8) {
                span next = {app.first + 400 + level * 200, 200};
                add_site(&g, f, pick(next));
            } else if (u < 0.95) {
                span api = {lib.first, 150};
                add_site(&g, f, pick(api));
            } else {
                span api = {std.first, 80};
                add_site(&g, f, pick(api));
            }
        }
    }
    ranked_calls(&g, lib, 10, 1, 3, 0.75, std, natives, 0.03);
    ranked_calls(&g, std, 5, 1, 3, 0.6, natives, natives, 0.0);
    return g;
}

/* Where a walk stops in a function: its own time's share of its visits. */
static double stop_chance(int layer) {
    switch (layer) {
    case ENTRY:
        return 0.002;
    case FRAMEWORK:
    case DISPATCH:
        return 0.01;
    case APP:
    case LIB:
        return 0.04;
    case STD:
        return 0.15;
    default:
        return 1.0;
    }
}

/* Call site k of n with weight 1/(k+1). */
static int pick_site(int n) {
    double sum = 0;
    for (int k = 0; k < n; k++)
        sum += 1.0 / (k + 1);
    double u = uniform() * sum;
    for (int k = 0; k < n; k++) {
        u -= 1.0 / (k + 1);
        if (u < 0)
            return k;
    }
    return n - 1;
}

hs_profile *big_profile_realistic(void) {
    rng_seed(20240601);
    hs_profile *p = hs_profile_new();
    set_meta(p, "realistic");
    program g = build_program(p);
    int threads[4];
    threads[0] = hs_thread_add(p, "MainThread", 1, 1);
    for (int t = 1; t < 4; t++) {
        char name[40];
        snprintf(name, sizeof name, "ThreadPoolExecutor-0_%d", t - 1);
        threads[t] = hs_thread_add(p, name, (uint64_t)(100 + t), (uint64_t)(100 + t));
    }
    int main_entry = 0, worker_entry = 5;
    hs_id *leaves = malloc(STACKS * sizeof *leaves);
    unsigned char *used = NULL;
    size_t used_cap = 0;
    size_t made = 0;
    hs_id path[MAX_DEPTH];
    while (made < STACKS) {
        /* The main thread serves 40% of the time, each worker 20%. */
        int t = chance(0.4) ? 0 : 1 + (int)(rnd() % 3);
        int f = t == 0 ? main_entry : worker_entry;
        int depth = 0;
        for (;;) {
            const function *fn = &g.funcs[f];
            if (depth == MAX_DEPTH - 1 || fn->site_count == 0 || chance(stop_chance(fn->layer))) {
                /* It runs here: the line of its own work. */
                path[depth++] = frame_at(&g, f, fn->first_line + 1 + (int32_t)(rnd() % 2));
                break;
            }
            const call_site *s = &g.sites[fn->site_start + pick_site(fn->site_count)];
            path[depth++] = frame_at(&g, f, s->line);
            f = s->callee;
        }
        if (depth < MIN_DEPTH)
            continue;
        hs_id node = p->threads[threads[t]].root;
        for (int k = 0; k < depth; k++)
            node = hs_node_child(p, node, path[k]);
        if (first_use(&used, &used_cap, p, node)) /* else: drawn already, draw again */
            leaves[made++] = node;
    }
    zipf_samples(p, leaves, made);
    free(used);
    free(leaves);
    free(g.funcs);
    free(g.sites);
    return p;
}

/* ---- shared and random: 3,000 functions without a program ---------------- */

#define FUNCTIONS 3000

static hs_id pool_frame(hs_profile *p, int f) {
    char name[64], file[128];
    int kind = f % 10;
    snprintf(name, sizeof name, kind == 9 ? "<built-in method m%d>" : "func_%d", f);
    if (kind <= 5)
        snprintf(file, sizeof file, "/srv/app/mod%d.py", f % 40);
    else if (kind <= 7)
        snprintf(file, sizeof file, "/usr/lib/python3.12/std%d.py", f % 25);
    else if (kind == 8)
        snprintf(file, sizeof file, "/venv/lib/python3.12/site-packages/pkg%d/m.py", f % 7);
    else
        snprintf(file, sizeof file, "~");
    return hs_frame_intern(p, hs_intern_cstr(p, name), hs_intern_cstr(p, file),
                           kind == 9 ? 0 : 10 + f % 500, 0, kind == 9 ? HS_KIND_NATIVE : HS_KIND_PYTHON);
}

hs_profile *big_profile_shared(void) {
    rng_seed(88172645463325252ull);
    hs_profile *p = hs_profile_new();
    set_meta(p, "shared");
    int main_thread = hs_thread_add(p, "MainThread", 1, 1);
    int worker = hs_thread_add(p, "worker", 2, 2);
    hs_id *frames = malloc(FUNCTIONS * sizeof *frames);
    hs_id *leaves = malloc(STACKS * sizeof *leaves);
    for (int f = 0; f < FUNCTIONS; f++)
        frames[f] = pool_frame(p, f);
    /* The tree grows as a random recursive tree: each new stack extends
     * a node picked at random (a thread root to begin with) by one to
     * three calls, and its last call is the new stack's leaf. So stacks
     * share their callers (about two nodes per stack) and the deepest
     * run to about 40 frames. */
    hs_id *grown = malloc((size_t)STACKS * 4 * sizeof *grown);
    size_t grown_count = 0;
    grown[grown_count++] = p->threads[main_thread].root;
    grown[grown_count++] = p->threads[worker].root;
    int made = 0;
    while (made < STACKS) {
        hs_id node = grown[rnd() % grown_count];
        int extend = 1 + (int)(rnd() % 3);
        size_t before = p->node_count;
        for (int k = 0; k < extend; k++) {
            node = hs_node_child(p, node, frames[rnd() % FUNCTIONS]);
            if (p->node_count > before + (size_t)k)
                grown[grown_count++] = node;
        }
        if (hs_node_get(p, node)->self[HS_W_SAMPLES] > 0)
            continue; /* that stack exists already: draw again */
        hs_node_add(p, node, HS_W_SAMPLES, 1);
        leaves[made++] = node;
    }
    free(grown);
    /* The other 900,000 samples, skewed towards the first stacks: a few
     * hot paths and a long tail. */
    for (int s = STACKS; s < SAMPLES; s++) {
        double u = uniform();
        hs_node_add(p, leaves[(int)(u * u * u * STACKS) % STACKS], HS_W_SAMPLES, 1);
    }
    for (size_t i = 1; i < p->node_count; i++) {
        int64_t n = p->nodes[i].self[HS_W_SAMPLES];
        if (n)
            hs_node_add(p, (hs_id)i, HS_W_WALL_NS, n * 1000000);
    }
    free(frames);
    free(leaves);
    return p;
}

hs_profile *big_profile_random(void) {
    rng_seed(12345);
    hs_profile *p = hs_profile_new();
    set_meta(p, "random");
    int threads[2] = {hs_thread_add(p, "MainThread", 1, 1), hs_thread_add(p, "worker", 2, 2)};
    hs_id *frames = malloc(FUNCTIONS * sizeof *frames);
    hs_id *leaves = malloc(STACKS * sizeof *leaves);
    for (int f = 0; f < FUNCTIONS; f++)
        frames[f] = pool_frame(p, f);
    unsigned char *used = NULL;
    size_t used_cap = 0, made = 0;
    while (made < STACKS) {
        hs_id node = p->threads[threads[rnd() % 2]].root;
        int depth = 5 + (int)(rnd() % 36);
        for (int k = 0; k < depth; k++)
            node = hs_node_child(p, node, frames[rnd() % FUNCTIONS]);
        if (first_use(&used, &used_cap, p, node))
            leaves[made++] = node;
    }
    zipf_samples(p, leaves, made);
    free(used);
    free(frames);
    free(leaves);
    return p;
}

hs_profile *big_profile(const char *shape) {
    if (strcmp(shape, "realistic") == 0)
        return big_profile_realistic();
    if (strcmp(shape, "shared") == 0)
        return big_profile_shared();
    if (strcmp(shape, "random") == 0)
        return big_profile_random();
    return NULL;
}
