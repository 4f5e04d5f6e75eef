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

/* The hottest functions by own (self) weight, with their inclusive
 * weight: the text summary of sampled profiles (top_table.c). limit <= 0:
 * every function. Returns 0 or -1 (message in err). */
int hs_render_top(hs_profile *p, hs_id subtree, hs_weight weight, long limit, hs_buf *out,
                  char *err);

/* Collapsed stacks ("a;b;c 42" per distinct stack), FlameGraph's input.
 * Weight values are self weights; time weights are written in microseconds. */
int hs_render_collapsed(hs_profile *p, hs_weight weight, hs_buf *out, char *err);

/* A pstats .prof file: marshal of {(file, line, name): (cc, nc, tt, ct, callers)},
 * the format pstats.Stats(path) and snakeviz read. */
int hs_render_pstats_marshal(hs_profile *p, hs_id subtree, hs_weight time_weight,
                             hs_buf *out, char *err);

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

/* cProfile's label of a function: "file:line(name)", "{builtin label}", or
 * the name alone for synthetic frames. */
void hs_function_label(const hs_profile *p, hs_id frame, hs_buf *out);

/* The name pstats knows a function by: the code object's co_name. The
 * model keeps qualified names ("Class.method", "f.<locals>.g") for Python
 * functions, whose last dotted part is co_name; other frames keep theirs.
 * Returns a pointer into the string table and its length. */
const char *hs_pstats_name(const hs_profile *p, hs_id frame, size_t *len);

#endif
