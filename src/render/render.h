/*
 * render.h - every output format, each written by one file of src/render/
 * from the profile model alone (model.h, stats.h). Engines never format.
 *
 * All renderers append to an hs_buf and return 0, or -1 with a short
 * message in `err` (at least 200 bytes) when they cannot: an unknown sort
 * key, an allocation failure.
 */
#ifndef HOTSCOPE_RENDER_H
#define HOTSCOPE_RENDER_H

#include "../model/buf.h"
#include "../model/diff.h"
#include "../model/model.h"
#include "../model/stats.h"

#define HS_MAX_SORT_KEYS 8

typedef struct {
    hs_id subtree;        /* HS_ROOT for every thread, or one thread's node */
    hs_weight time_weight;  /* HS_W_WALL_NS or HS_W_CPU_NS: the "time" columns */
    hs_weight other_weight; /* shown in the extra column, or HS_W_COUNT for none */
    const char *sort_keys[HS_MAX_SORT_KEYS]; /* pstats names; NULL-terminated */
    long limit;           /* rows to print; <= 0 for all */
    int show_callers;     /* append a pstats-style "called by" section */
    int show_waiting;     /* a "cumwait" column: total wall minus total CPU time
                           * (sleeps, I/O, locks, the GIL); needs both weights */
} hs_table_opts;

/* pstats.Stats.print_stats() layout: header, "Ordered by", the table. */
int hs_render_pstats_table(hs_profile *p, const hs_table_opts *opts, hs_buf *out, char *err);

typedef struct {
    hs_id subtree;
    hs_weight weight;      /* what the percentages and times are of */
    double min_percent;    /* hide nodes below this share of the total */
    size_t max_depth;      /* 0 = unlimited */
    int unicode;           /* box-drawing characters rather than ASCII */
} hs_tree_opts;

/* An indented call tree: "total  self  %  name  file:line" per node. */
int hs_render_call_tree(hs_profile *p, const hs_tree_opts *opts, hs_buf *out, char *err);

typedef struct {
    hs_id subtree;      /* HS_ROOT for every thread, or one thread's node */
    hs_weight weight;   /* what the times and percentages are of */
    double min_percent; /* leave out lines below this share of the total */
    int show_all;       /* 0: collapse library frames (rule in text_tree.c) */
    int color;          /* ANSI colors: the caller checks the terminal and NO_COLOR */
    int unicode;        /* box-drawing characters rather than ASCII */
} hs_text_tree_opts;

/* pyinstrument-style tree: "├─ 1.234s  45.6%  name  file:line" per call
 * path, library frames collapsed (text_tree.c): the default text summary. */
int hs_render_text_tree(hs_profile *p, const hs_text_tree_opts *opts, hs_buf *out, char *err);

typedef struct {
    hs_id subtree;         /* HS_ROOT for every thread, or one thread's node */
    hs_weight weight;      /* what the percentages are of */
    double node_threshold; /* leave out functions below this total % (0.5) */
    double edge_threshold; /* leave out calls below this % (0.1) */
} hs_dot_opts;

/* The call graph in Graphviz DOT (dot_callgraph.c): functions with total
 * and self %, calls; caller -> callee edges with % and calls; heat colors. */
int hs_render_dot(hs_profile *p, const hs_dot_opts *opts, hs_buf *out, char *err);

/* hotscope diff (diff.h): the table of the largest changes by function
 * (diff_table.c), the differential flame graph (diff_svg.c: AFTER's tree
 * colored by the change from BEFORE) and both in one HTML page
 * (diff_html.c). limit <= 0: every function. title may be NULL. icicle:
 * the graph top-down, root at the top (hs_flame_opts.icicle). */
int hs_render_diff_table(hs_diff *d, hs_weight w, long limit, hs_buf *out, char *err);
int hs_render_diff_svg(hs_diff *d, hs_weight w, const char *title, int icicle, hs_buf *out, char *err);
int hs_render_diff_html(hs_diff *d, hs_weight w, long limit, const char *title, int icicle, hs_buf *out,
                        char *err);
/* A function as the diff names it: "name  file:line" or a builtin's label. */
void hs_render_diff_function_name(const hs_profile *p, hs_id function, hs_buf *out);

/* The hottest functions by own (self) weight, with their inclusive
 * weight: the text summary of sampled profiles (top_table.c). limit <= 0:
 * every function. Returns 0 or -1 (message in err). */
int hs_render_top(hs_profile *p, hs_id subtree, hs_weight weight, long limit, hs_buf *out,
                  char *err);

/* The "Slowest calls" section of a trace's text report (slow_calls_text.c):
 * each function's kept calls (model.h, hs_slow_call) with their duration,
 * arguments and caller; at most `limit` functions (<= 0: all). Nothing
 * when the profile has none. */
int hs_render_slow_calls_text(hs_profile *p, long limit, hs_buf *out, char *err);

/* Collapsed stacks ("a;b;c 42" per distinct stack), FlameGraph's input.
 * Weight values are self weights; time weights are written in microseconds.
 * Weights other than samples are named by a first comment line,
 * "# hotscope collapsed weight=wall_us" (see collapsed.c). */
int hs_render_collapsed(hs_profile *p, hs_weight weight, hs_buf *out, char *err);

/* A pstats .prof file: marshal of {(file, line, name): (cc, nc, tt, ct, callers)},
 * the format pstats.Stats(path) and snakeviz read. */
int hs_render_pstats_marshal(hs_profile *p, hs_id subtree, hs_weight time_weight,
                             hs_buf *out, char *err);

/* pprof's profile.proto, gzip-compressed (pprof.c): what `go tool pprof`,
 * Pyroscope and Parca read; read back exactly by hs_read_pprof. The
 * mapping of the model onto the format is documented in pprof.c. */
int hs_render_pprof(hs_profile *p, hs_buf *out, char *err);
/* The same Profile message, not compressed. */
int hs_render_pprof_proto(hs_profile *p, hs_buf *out, char *err);

/* speedscope's JSON file format (speedscope.c): shared frames and one
 * "sampled" profile per thread, weighted by `weight`. `exporter` names
 * the writer ("hotscope 0.1.0"). */
int hs_render_speedscope(hs_profile *p, hs_weight weight, const char *exporter, hs_buf *out,
                         char *err);

/* Which kind of code a frame is (classify.c): colors in flame graphs, and
 * what the text and HTML trees collapse as library code. */
typedef enum {
    HS_CAT_USER = 0,      /* the program's own code */
    HS_CAT_STDLIB = 1,    /* the standard library */
    HS_CAT_LIBRARY = 2,   /* third-party packages (site-packages) */
    HS_CAT_NATIVE = 3,    /* builtins and C functions */
    HS_CAT_SYNTHETIC = 4, /* threads, processes, [gc], the root */
} hs_category;
hs_category hs_frame_category(const hs_profile *p, hs_id frame);
/* "user", "stdlib", "library", "native" or "synthetic". */
const char *hs_category_name(hs_category c);

/* The whole model as JSON (model_json.c): hotscope's own lossless
 * interchange, read back by `hotscope view` and embedded as the data of
 * the HTML report. The layout is documented in model_json.c. */
int hs_render_model_json(hs_profile *p, hs_buf *out, char *err);

/* A line profile (src/lines/) as kernprof's text report (lines_text.c). */
int hs_render_lines_text(hs_profile *p, hs_buf *out, char *err);

/* A memory profile (src/memory/) summed by line or by stack (mem_rows.c):
 * rows of (frame id, or node id when by_stack; bytes; count) with a
 * non-zero weight, most bytes first (most blocks first when by_count).
 * bytes_w/count_w: HS_W_BYTES/HS_W_ALLOCS (allocated), HS_W_PEAK_* (live
 * at the peak) or HS_W_LEAK_* (live at the end). 0, or -1 out of memory;
 * the caller frees *rows. */
typedef struct {
    hs_id id;
    int64_t bytes, count;
} hs_mem_row;
int hs_mem_rows(const hs_profile *p, hs_weight bytes_w, hs_weight count_w, int by_stack,
                int by_count, hs_mem_row **rows, size_t *n);

/* A memory profile as a text report (mem_text.c): peak, the stacks and
 * lines holding memory at the peak, allocations by line, what was still
 * allocated at the end. limit: rows per section (<= 0: 10). */
int hs_render_mem_text(hs_profile *p, long limit, hs_buf *out, char *err);
/* The per-line figures of chosen functions (line tables alloc_bytes,
 * allocs, freed_bytes, frees) as memory_profiler-style tables
 * (mem_lines_text.c); nothing when the profile has none. The last part
 * of hs_render_mem_text. */
int hs_render_mem_lines_text(const hs_profile *p, hs_buf *out, char *err);

/* cProfile's label of a function: "file:line(name)", "{builtin label}", or
 * the name alone for synthetic frames. */
void hs_function_label(const hs_profile *p, hs_id frame, hs_buf *out);

/* The name pstats knows a function by: the code object's co_name. The
 * model keeps qualified names ("Class.method", "f.<locals>.g") for Python
 * functions, whose last dotted part is co_name; other frames keep theirs.
 * Returns a pointer into the string table and its length. */
const char *hs_pstats_name(const hs_profile *p, hs_id frame, size_t *len);

/* The flame graph as one standalone, interactive SVG (flamegraph_svg.c):
 * layout in C, click to zoom, search, tooltips from an embedded script. */
typedef struct {
    hs_id subtree;         /* HS_ROOT for every thread, or one thread's node */
    hs_weight weight;      /* what the widths are of */
    int icicle;            /* 1: root at the top, growing down */
    const char *title;     /* NULL: "Flame graph" */
    double min_width_px;   /* frames narrower are merged per parent; <= 0: 0.1 */
    /* NULL, or per node of p: the BEFORE total at the same call path. Then
     * the graph is differential: red where a node grew, blue where it shrank,
     * teal where only BEFORE had it (removed). */
    const int64_t *baseline_totals;
    /* NULL, or per node of p: the totals the widths follow instead of
     * `weight`'s, which still gives every figure shown (the differential
     * graph's widths, diff_svg.c). A node's must not be less than the sum
     * of its children's. */
    const int64_t *width_totals;
    int omit_model;        /* 1: leave out the embedded model JSON (smaller file) */
} hs_flame_opts;

int hs_render_flamegraph_svg(hs_profile *p, const hs_flame_opts *opts, hs_buf *out, char *err);

/* The self-contained HTML report (html_report.c): the model JSON plus the
 * script and styles of src/render/assets/, which draw everything in the
 * browser. `default_weight` is the weight shown first (HS_W_COUNT: let the
 * report choose from the profile's metadata). */
int hs_render_html_report(hs_profile *p, hs_weight default_weight, const char *title, hs_buf *out,
                          char *err);

#endif
