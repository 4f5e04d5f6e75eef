/*
 * flame_fixtures.c - profiles built with the model API whose content is
 * known by construction, rendered by the flame graph and HTML renderers,
 * for the tests (test_flame.py, test_browser.py) and the render bench
 * (bench/bench_render.py).
 *
 * Usage: flame_fixtures KIND OUTDIR [SHAPE]
 *   big      1,000,000 samples over 100,000 distinct stacks, of the shape
 *            named by a third argument (big_profiles.h: realistic,
 *            shared, random; shared when none), rendered to big.FORMAT
 *            for each format below; prints "build seconds nodes", a
 *            "# ..." line describing the profile, then one line per
 *            format: "format seconds bytes"
 *   merge    the realistic profile (big_profiles.h), too big for an HTML
 *            page whole: merge.json, merge.html (its tree merged to fit,
 *            narrow_merge.h), merge.after.json (which must equal
 *            merge.json: the report leaves the profile as it was)
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
#include "big_profiles.h"

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

/* ---- big --------------------------------------------------------------- */

typedef int (*render_fn)(hs_profile *p, hs_buf *out, char *err);

static int render_svg(hs_profile *p, hs_buf *out, char *err) {
    hs_flame_opts o = {.subtree = HS_ROOT, .weight = HS_W_SAMPLES};
    return hs_render_flamegraph_svg(p, &o, out, err);
}
static int render_html(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_html_report(p, HS_W_SAMPLES, NULL, out, err);
}
static int render_json(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_model_json(p, out, err);
}
static int render_speedscope(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_speedscope(p, HS_W_SAMPLES, "hotscope bench", out, err);
}
static int render_pprof(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_pprof(p, out, err);
}
static int render_collapsed(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_collapsed(p, HS_W_SAMPLES, out, err);
}
static int render_prof(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, out, err);
}
static int render_dot(hs_profile *p, hs_buf *out, char *err) {
    /* ProfileData.dot()'s defaults. */
    hs_dot_opts o = {.subtree = HS_ROOT, .weight = HS_W_WALL_NS, .node_threshold = 0.5, .edge_threshold = 0.1};
    return hs_render_dot(p, &o, out, err);
}
/* The text reports with ProfileData's defaults: table(), tree(), text_tree(). */
static int render_table(hs_profile *p, hs_buf *out, char *err) {
    hs_table_opts t = {.subtree = HS_ROOT, .time_weight = HS_W_WALL_NS, .other_weight = HS_W_COUNT};
    return hs_render_pstats_table(p, &t, out, err);
}
static int render_calltree(hs_profile *p, hs_buf *out, char *err) {
    hs_tree_opts tr = {.subtree = HS_ROOT, .weight = HS_W_WALL_NS, .min_percent = 0.5, .unicode = 1};
    return hs_render_call_tree(p, &tr, out, err);
}
static int render_texttree(hs_profile *p, hs_buf *out, char *err) {
    hs_text_tree_opts o = {.subtree = HS_ROOT, .weight = HS_W_WALL_NS, .min_percent = 1.0, .unicode = 1};
    return hs_render_text_tree(p, &o, out, err);
}

/* Stack depths of the profile's leaves with samples: min, mean, max. */
static void print_depths(const hs_profile *p) {
    size_t *depth = calloc(p->node_count, sizeof *depth);
    size_t lo = (size_t)-1, hi = 0, stacks = 0;
    double sum = 0;
    for (size_t i = 1; i < p->node_count; i++) {
        const hs_node *nd = &p->nodes[i];
        depth[i] = depth[nd->parent] + (p->frames[nd->frame].kind == HS_KIND_THREAD ? 0 : 1);
        if (nd->self[HS_W_SAMPLES] > 0) {
            stacks++;
            sum += (double)depth[i];
            lo = depth[i] < lo ? depth[i] : lo;
            hi = depth[i] > hi ? depth[i] : hi;
        }
    }
    printf("# %zu stacks, %zu nodes, %zu frames, %zu threads; depth %zu..%zu, mean %.1f\n", stacks,
           p->node_count, p->frame_count, p->thread_count, lo, hi, stacks ? sum / (double)stacks : 0.0);
    free(depth);
}

static int big(const char *dir, const char *shape) {
    double t0 = now();
    hs_profile *p = big_profile(shape);
    if (!p) {
        fprintf(stderr, "unknown shape %s (realistic, shared, random)\n", shape);
        return 2;
    }
    printf("build %.3f %zu\n", now() - t0, p->node_count);
    print_depths(p);
    static const struct {
        const char *name;
        render_fn fn;
    } formats[] = {{"svg", render_svg},         {"html", render_html},         {"json", render_json},
                   {"speedscope", render_speedscope}, {"pprof", render_pprof}, {"collapsed", render_collapsed},
                   {"prof", render_prof},       {"dot", render_dot},           {"table", render_table},
                   {"calltree", render_calltree}, {"texttree", render_texttree}};
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
        fflush(stdout);
        hs_buf_free(&b);
    }
    hs_profile_free(p);
    return status;
}

/* ---- merge ---------------------------------------------------------------- */

/* The realistic profile, too big for an HTML page whole: merge.json, then
 * merge.html (its tree merged to fit), then merge.after.json, which must
 * equal merge.json: rendering the report leaves the profile as it was. */
static int merge(const char *dir) {
    hs_profile *p = big_profile("realistic");
    static const char *const names[] = {"merge.json", "merge.html", "merge.after.json"};
    int status = 0;
    for (int k = 0; k < 3; k++) {
        hs_buf b;
        hs_buf_init(&b);
        char err[256] = {0};
        int rc = k == 1 ? render_html(p, &b, err) : render_json(p, &b, err);
        if (rc != 0 || b.failed || write_file(dir, names[k], &b) != 0) {
            fprintf(stderr, "%s: %s\n", names[k], err);
            status = 1;
        }
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
    if (argc != 3 && !(argc == 4 && strcmp(argv[1], "big") == 0)) {
        fprintf(stderr, "usage: flame_fixtures big|merge|hostile|diff OUTDIR [realistic|shared|random]\n");
        return 2;
    }
    if (strcmp(argv[1], "big") == 0)
        return big(argv[2], argc == 4 ? argv[3] : "shared");
    if (strcmp(argv[1], "hostile") == 0)
        return hostile(argv[2]);
    if (strcmp(argv[1], "merge") == 0)
        return merge(argv[2]);
    if (strcmp(argv[1], "diff") == 0)
        return diff(argv[2]);
    fprintf(stderr, "unknown fixture %s\n", argv[1]);
    return 2;
}
