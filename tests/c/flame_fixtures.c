/*
 * flame_fixtures.c - profiles built with the model API whose content is
 * known by construction, rendered by the flame graph and HTML renderers,
 * for the tests (test_flame.py, test_browser.py) and the render bench
 * (bench/bench_render.py).
 *
 * Usage: flame_fixtures KIND OUTDIR
 *   big      1,000,000 samples over 100,000 distinct stacks (a fixed
 *            pseudo-random generator: the same profile on every run),
 *            rendered to big.svg, big.html, big.collapsed, big.prof,
 *            big.txt; prints one line per format: "format seconds bytes"
 *   hostile  two threads whose function, file, thread and command names
 *            hold markup, quotes, &, newlines, "]]>", "</script>" and
 *            invalid UTF-8, with a per-thread "samples" series:
 *            hostile.svg, hostile.html, hostile.icicle.svg
 *   diff     a small profile and a baseline of it: diff.svg is the
 *            differential flame graph (see expected values below)
 * Exit status 0 when everything rendered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/render/render.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *dir, const char *name, const hs_buf *b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

/* A 64-bit linear congruential generator (Knuth's MMIX constants). */
static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static double uniform(void) {
    return (double)rnd() / 2147483648.0;
}

/* ---- big --------------------------------------------------------------- */

#define FUNCTIONS 3000
#define STACKS 100000
#define SAMPLES 1000000

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

static hs_profile *build_big(void) {
    hs_profile *p = hs_profile_new();
    hs_meta_set(p, "command", "bench: 100000 distinct stacks");
    hs_meta_set(p, "engine", "sample");
    hs_meta_set(p, "samples", "1000000");
    int main_thread = hs_thread_add(p, "MainThread", 1, 1);
    int worker = hs_thread_add(p, "worker", 2, 2);
    hs_id *frames = malloc(FUNCTIONS * sizeof *frames);
    hs_id *leaves = malloc(STACKS * sizeof *leaves);
    for (int f = 0; f < FUNCTIONS; f++)
        frames[f] = pool_frame(p, f);
    /* The tree grows as a random recursive tree: each new stack extends
     * a node picked at random (a thread root to begin with) by one to
     * three calls, and its last call is the new stack's leaf. So stacks
     * share their callers as real ones do (about two nodes per stack)
     * and the deepest run to about 40 frames. */
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
     * hot paths and a long tail, as in real profiles. */
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

typedef int (*render_fn)(hs_profile *p, hs_buf *out, char *err);

static int render_svg(hs_profile *p, hs_buf *out, char *err) {
    hs_flame_opts o = {.subtree = HS_ROOT, .weight = HS_W_SAMPLES};
    return hs_render_flamegraph_svg(p, &o, out, err);
}
static int render_html(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_html_report(p, HS_W_SAMPLES, NULL, out, err);
}
static int render_collapsed(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_collapsed(p, HS_W_SAMPLES, out, err);
}
static int render_prof(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, out, err);
}
static int render_txt(hs_profile *p, hs_buf *out, char *err) {
    hs_table_opts t = {.subtree = HS_ROOT, .time_weight = HS_W_WALL_NS, .other_weight = HS_W_COUNT};
    hs_tree_opts tr = {.subtree = HS_ROOT, .weight = HS_W_WALL_NS, .min_percent = 0.5, .unicode = 1};
    return hs_render_pstats_table(p, &t, out, err) || hs_render_call_tree(p, &tr, out, err) ? -1 : 0;
}

static int big(const char *dir) {
    double t0 = now();
    hs_profile *p = build_big();
    printf("build %.3f %zu\n", now() - t0, p->node_count);
    static const struct {
        const char *name;
        render_fn fn;
    } formats[] = {{"svg", render_svg},   {"html", render_html}, {"collapsed", render_collapsed},
                   {"prof", render_prof}, {"txt", render_txt}};
    int status = 0;
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        hs_buf b;
        hs_buf_init(&b);
        char err[256] = {0}, name[64];
        double start = now();
        int rc = formats[k].fn(p, &b, err);
        double took = now() - start;
        snprintf(name, sizeof name, "big.%s", formats[k].name);
        if (rc != 0 || b.failed || write_file(dir, name, &b) != 0) {
            fprintf(stderr, "%s: %s\n", formats[k].name, err);
            status = 1;
        }
        printf("%s %.4f %zu\n", formats[k].name, took, b.len);
        hs_buf_free(&b);
    }
    hs_profile_free(p);
    return status;
}

/* ---- hostile ------------------------------------------------------------ */

static hs_profile *build_hostile(void) {
    hs_profile *p = hs_profile_new();
    hs_meta_set(p, "command", "<img src=x onerror=alert(5)> & \"quoted\" 'x'");
    hs_meta_set(p, "python", "3.12.1 </script><script>alert(6)</script>");
    hs_meta_set(p, "engine", "sample");
    int t0 = hs_thread_add(p, "MainThread", 100, 1);
    int t1 = hs_thread_add(p, "worker <b>&\"'", 101, 2);
    static const char *const names[][2] = {
        {"<script>alert(1)</script>", "/tmp/<script>alert(2)</script>.py"},
        {"quote\"s'and&amp;", "a&b\"c'.py"},
        {"new\nline", "x\ny.py"},
        {"bad\xff\xfename", "f\xc3(.py"},
        {"</script><script>alert(3)</script>", "s.py"},
        {"]]><script>alert(4)</script>", "c.py"},
        {"line\xe2\x80\xa8separator", "u.py"},
        {"not\xef\xbf\xbexml", "nx.py"}, /* U+FFFE: valid UTF-8, not allowed in XML */
    };
    size_t n = sizeof names / sizeof names[0];
    hs_id frames[16];
    for (size_t i = 0; i < n; i++)
        frames[i] = hs_frame_intern(p, hs_intern_cstr(p, names[i][0]), hs_intern_cstr(p, names[i][1]),
                                    (int32_t)(i + 1), 0, HS_KIND_PYTHON);
    /* Thread 0: the first name calls each other name once, weight 10 * i;
     * thread 1: the same with weight 5 * i. */
    for (int t = 0; t < 2; t++) {
        hs_id root = p->threads[t == 0 ? t0 : t1].root;
        hs_id top = hs_node_child(p, root, frames[0]);
        hs_node_add(p, top, HS_W_SAMPLES, 3);
        for (size_t i = 1; i < n; i++) {
            hs_id node = hs_node_child(p, top, frames[i]);
            hs_node_add(p, node, HS_W_SAMPLES, (int64_t)((t == 0 ? 10 : 5) * i));
        }
        int series = hs_series_get(p, "samples", "count", t == 0 ? t0 : t1);
        for (int k = 0; k < 50; k++)
            hs_series_push(p, series, (int64_t)k * 10000000, t == 0 ? k % 7 : 3);
    }
    return p;
}

static int render_to(hs_profile *p, const char *dir, const char *name, int kind, int icicle,
                     const int64_t *baseline) {
    hs_buf b;
    hs_buf_init(&b);
    char err[256] = {0};
    int rc;
    if (kind == 0) {
        hs_flame_opts o = {.subtree = HS_ROOT, .weight = HS_W_SAMPLES, .icicle = icicle,
                           .baseline_totals = baseline};
        rc = hs_render_flamegraph_svg(p, &o, &b, err);
    } else {
        rc = hs_render_html_report(p, HS_W_COUNT, NULL, &b, err);
    }
    if (rc != 0 || b.failed || write_file(dir, name, &b) != 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        rc = -1;
    }
    hs_buf_free(&b);
    return rc;
}

static int hostile(const char *dir) {
    hs_profile *p = build_hostile();
    int rc = render_to(p, dir, "hostile.svg", 0, 0, NULL) | render_to(p, dir, "hostile.icicle.svg", 0, 1, NULL) |
             render_to(p, dir, "hostile.html", 1, 0, NULL);
    hs_profile_free(p);
    return rc ? 1 : 0;
}

/* ---- diff ----------------------------------------------------------------- */

/* After: main 100 (self 10) -> grow 60, shrink 20, same 10, new 0.
 * Before at the same paths: main 100 (self 20) -> grow 30, shrink 40, same 10:
 * so main 0%, grow +100%, shrink -50%, same 0%. */
static int diff(const char *dir) {
    hs_profile *p = hs_profile_new();
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id root = p->threads[t].root;
    const char *names[] = {"main", "grow", "shrink", "same"};
    int64_t after[] = {10, 60, 20, 10}, before[] = {20, 30, 40, 10};
    hs_id nodes[4];
    int64_t *baseline = NULL;
    for (int i = 0; i < 4; i++) {
        hs_id f = hs_frame_intern(p, hs_intern_cstr(p, names[i]), hs_intern_cstr(p, "d.py"), i + 1, 0,
                                  HS_KIND_PYTHON);
        nodes[i] = hs_node_child(p, i == 0 ? root : nodes[0], f);
        hs_node_add(p, nodes[i], HS_W_SAMPLES, after[i]);
    }
    baseline = calloc(p->node_count, sizeof *baseline);
    for (int i = 1; i < 4; i++)
        baseline[nodes[i]] = before[i];
    baseline[nodes[0]] = before[0] + before[1] + before[2] + before[3];
    baseline[root] = baseline[nodes[0]];
    baseline[HS_ROOT] = baseline[nodes[0]];
    int rc = render_to(p, dir, "diff.svg", 0, 0, baseline);
    free(baseline);
    hs_profile_free(p);
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: flame_fixtures big|hostile|diff OUTDIR\n");
        return 2;
    }
    if (strcmp(argv[1], "big") == 0)
        return big(argv[2]);
    if (strcmp(argv[1], "hostile") == 0)
        return hostile(argv[2]);
    if (strcmp(argv[1], "diff") == 0)
        return diff(argv[2]);
    fprintf(stderr, "unknown fixture %s\n", argv[1]);
    return 2;
}
