/*
 * pstats_table.c - the text table of pstats.Stats.print_stats(), and
 * optionally the section of print_callers(), from the profile model.
 *
 * The layout is Lib/pstats.py's, character for character (print_stats,
 * get_print_list, eval_print_amount, print_title, print_line, f8,
 * print_call_heading, print_call_line), so users' eyes and scripts that
 * parse pstats output keep working. Differences, all deliberate:
 *   - no file name / top-level lines at the top (there is no .prof file);
 *   - one optional extra column after the second percall ("cumcpu" or
 *     "cumwall"): the function's cumulative total of opts->other_weight;
 *     and, after it, "cumwait": cumulative wall minus cumulative CPU time,
 *     the time spent off the CPU under the function (opts->show_waiting);
 *   - control characters in names print as spaces, so a row stays a row.
 * Per-function numbers come from hs_stats_compute (stats.h): ncalls is
 * calls/primitive_calls, tottime is self, cumtime is total, in seconds.
 * "in X seconds" is the sum of tottime over functions, as pstats computes
 * it from a .prof (time in synthetic frames is not any function's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

/* Indices into pstats' sort tuple (cc, nc, tt, ct, file, line, name,
 * stdname), the numbering of Stats.sort_arg_dict_default. */
enum {
    COL_PCALLS = 0,
    COL_CALLS = 1,
    COL_TT = 2,
    COL_CT = 3,
    COL_FILE = 4,
    COL_LINE = 5,
    COL_NAME = 6,
    COL_STDNAME = 7
};

typedef struct {
    int index;
    int direction; /* 1 ascending, -1 descending (TupleComp) */
} sort_field;

typedef struct {
    const char *word;
    const char *description; /* what "Ordered by:" prints */
    int nfields;
    sort_field fields[3];
} sort_def;

/* Stats.sort_arg_dict_default, in its order (the order matters for the
 * abbreviation rule below). */
static const sort_def SORT_DEFS[] = {
    {"calls", "call count", 1, {{COL_CALLS, -1}}},
    {"ncalls", "call count", 1, {{COL_CALLS, -1}}},
    {"cumtime", "cumulative time", 1, {{COL_CT, -1}}},
    {"cumulative", "cumulative time", 1, {{COL_CT, -1}}},
    {"filename", "file name", 1, {{COL_FILE, 1}}},
    {"line", "line number", 1, {{COL_LINE, 1}}},
    {"module", "file name", 1, {{COL_FILE, 1}}},
    {"name", "function name", 1, {{COL_NAME, 1}}},
    {"nfl", "name/file/line", 3, {{COL_NAME, 1}, {COL_FILE, 1}, {COL_LINE, 1}}},
    {"pcalls", "primitive call count", 1, {{COL_PCALLS, -1}}},
    {"stdname", "standard name", 1, {{COL_STDNAME, 1}}},
    {"time", "internal time", 1, {{COL_TT, -1}}},
    {"tottime", "internal time", 1, {{COL_TT, -1}}},
};
#define N_SORT_DEFS (sizeof SORT_DEFS / sizeof SORT_DEFS[0])

/* Resolves a key as Stats.get_sort_arg_defs() does: every word and each of
 * its prefixes is a key, walking from the full word down and stopping at
 * the first prefix already taken by an earlier word; taken prefixes are
 * then dropped altogether. So "file" means filename, "cumu" cumulative,
 * but "c" or "cum" nothing. Replayed here rather than approximated so a
 * key works in hotscope exactly when it works in pstats. */
static const sort_def *find_sort_def(const char *key) {
    struct {
        const char *s;
        size_t n;
        const sort_def *def;
        int bad;
    } frags[128];
    size_t nfrags = 0;
    for (size_t d = 0; d < N_SORT_DEFS; d++) {
        const char *w = SORT_DEFS[d].word;
        for (size_t n = strlen(w); n > 0; n--) {
            size_t k;
            for (k = 0; k < nfrags; k++)
                if (frags[k].n == n && memcmp(frags[k].s, w, n) == 0)
                    break;
            if (k < nfrags) {
                frags[k].bad = 1;
                break;
            }
            if (nfrags == sizeof frags / sizeof frags[0])
                break; /* cannot happen with the table above */
            frags[nfrags].s = w;
            frags[nfrags].n = n;
            frags[nfrags].def = &SORT_DEFS[d];
            frags[nfrags].bad = 0;
            nfrags++;
        }
    }
    size_t klen = strlen(key);
    for (size_t k = 0; k < nfrags; k++)
        if (!frags[k].bad && frags[k].n == klen && memcmp(frags[k].s, key, klen) == 0)
            return frags[k].def;
    return NULL;
}

typedef struct {
    const hs_func_stats *fs;
    const char *file, *name;
    size_t file_len, name_len;
    int32_t line;
    size_t label_off, label_len; /* into the labels buffer */
    size_t width;                /* label length in characters */
} row;

typedef struct {
    sort_field fields[HS_MAX_SORT_KEYS * 3];
    int nfields;
    hs_weight tw;
    const char *labels;
} sort_ctx;

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen) {
    /* Byte order of UTF-8 is code point order: Python's str order. */
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int cmp_i64(int64_t a, int64_t b) {
    return a < b ? -1 : a > b ? 1 : 0;
}

/* TupleComp.compare of Lib/pstats.py over the requested fields. */
static int cmp_rows(const void *pa, const void *pb, void *vctx) {
    const row *a = pa, *b = pb;
    const sort_ctx *ctx = vctx;
    for (int i = 0; i < ctx->nfields; i++) {
        int c = 0;
        switch (ctx->fields[i].index) {
        case COL_PCALLS: c = cmp_i64(a->fs->primitive_calls, b->fs->primitive_calls); break;
        case COL_CALLS: c = cmp_i64(a->fs->calls, b->fs->calls); break;
        case COL_TT: c = cmp_i64(a->fs->self[ctx->tw], b->fs->self[ctx->tw]); break;
        case COL_CT: c = cmp_i64(a->fs->total[ctx->tw], b->fs->total[ctx->tw]); break;
        case COL_FILE: c = cmp_bytes(a->file, a->file_len, b->file, b->file_len); break;
        case COL_LINE: c = cmp_i64(a->line, b->line); break;
        case COL_NAME: c = cmp_bytes(a->name, a->name_len, b->name, b->name_len); break;
        default:
            c = cmp_bytes(ctx->labels + a->label_off, a->label_len,
                          ctx->labels + b->label_off, b->label_len);
            break;
        }
        if (c)
            return c * ctx->fields[i].direction;
    }
    return 0;
}

/* One caller of a function in the "was called by" section. */
typedef struct {
    const hs_edge_stats *es;
    const char *file, *name;
    size_t file_len, name_len;
    int32_t line;
} caller_ref;

/* Callers print in sorted(call_dict.keys()) order: (file, line, name). */
static int cmp_callers(const void *pa, const void *pb, void *vctx) {
    const caller_ref *a = pa, *b = pb;
    (void)vctx;
    int c = cmp_bytes(a->file, a->file_len, b->file, b->file_len);
    if (!c)
        c = cmp_i64(a->line, b->line);
    if (!c)
        c = cmp_bytes(a->name, a->name_len, b->name, b->name_len);
    return c;
}

/* Seconds for time weights; other weights are shown as plain numbers. */
static double in_units(int64_t v, hs_weight w) {
    return hs_render_is_time_weight(w) ? (double)v / 1e9 : (double)v;
}

/* pstats' f8: "%8.3f". */
static void put_f8(hs_buf *out, double x) {
    hs_buf_printf(out, "%8.3f", x);
}

static const char *other_title(hs_weight w) {
    switch (w) {
    case HS_W_CPU_NS: return "cumcpu";
    case HS_W_WALL_NS: return "cumwall";
    case HS_W_CALLS: return "calls";
    case HS_W_SAMPLES: return "samples";
    case HS_W_BYTES: return "bytes";
    case HS_W_ALLOCS: return "allocs";
    default: return "other";
    }
}

/* "   Ordered by: ..." and eval_print_amount's note, then the blank line
 * print(msg) adds. Printed before the table and again before callers. */
static void put_print_list_msg(hs_buf *out, const char *sort_desc, size_t count, size_t shown,
                               long limit) {
    hs_buf_printf(out, "   Ordered by: %s\n", sort_desc);
    if (shown != count)
        hs_buf_printf(out, "   List reduced from %zu to %zu due to restriction <%ld>\n", count,
                      shown, limit);
    hs_buf_putc(out, '\n');
}

static void put_label_padded(hs_buf *out, const hs_buf *labels, const row *r, size_t width) {
    hs_buf_append(out, labels->data + r->label_off, r->label_len);
    if (r->width < width)
        hs_buf_pad(out, width - r->width);
}

/* print_callers(): heading, then per function its callers with the edge's
 * ncalls, tottime and cumtime. */
static int put_callers(hs_profile *p, const hs_stats *st, const row *rows, size_t shown,
                       size_t name_size, hs_weight tw, const hs_buf *labels, hs_buf *out) {
    caller_ref *refs = malloc((st->edge_count ? st->edge_count : 1) * sizeof *refs);
    hs_buf callerlabel;
    if (!refs)
        return -1;
    hs_buf_init(&callerlabel);

    hs_buf_puts(out, "Function ");
    if (name_size > 9)
        hs_buf_pad(out, name_size - 9);
    hs_buf_puts(out, "was called by...\n");
    /* pstats prints the sub-header only for cProfile-style (tuple) callers,
     * which needs at least one caller somewhere. */
    if (st->edge_count > 0) {
        hs_buf_pad(out, name_size);
        hs_buf_puts(out, "    ncalls  tottime  cumtime\n");
    }

    int rc = 0;
    for (size_t i = 0; i < shown; i++) {
        const row *r = &rows[i];
        hs_id callee = r->fs->function;
        /* Edges are sorted by (callee, caller): binary-search the run. */
        size_t lo = 0, hi = st->edge_count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (st->edges[mid].callee < callee)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t n = 0;
        for (size_t e = lo; e < st->edge_count && st->edges[e].callee == callee; e++) {
            const hs_frame *cf = hs_frame_get(p, st->edges[e].caller);
            refs[n].es = &st->edges[e];
            refs[n].file = hs_render_str(p, cf->file, &refs[n].file_len);
            refs[n].name = hs_render_str(p, cf->name, &refs[n].name_len);
            refs[n].line = cf->first_line;
            n++;
        }
        if (hs_render_sort(refs, n, sizeof *refs, cmp_callers, NULL) < 0) {
            rc = -1;
            break;
        }
        put_label_padded(out, labels, r, name_size);
        hs_buf_puts(out, "<- ");
        if (n == 0)
            hs_buf_putc(out, '\n');
        for (size_t k = 0; k < n; k++) {
            const hs_edge_stats *es = refs[k].es;
            char calls[64];
            if (es->calls != es->primitive_calls)
                snprintf(calls, sizeof calls, "%" PRId64 "/%" PRId64, es->calls,
                         es->primitive_calls);
            else
                snprintf(calls, sizeof calls, "%" PRId64, es->calls);
            /* print_call_line: the first caller follows "<- "; later ones
             * are indented by name_size + 1 and right-justified in 9
             * (7 + 2 * len(indent)), which lines the columns up. */
            if (k == 0) {
                hs_buf_printf(out, "%7s ", calls);
            } else {
                hs_buf_pad(out, name_size + 1);
                hs_buf_printf(out, "%9s ", calls);
            }
            put_f8(out, in_units(es->self, tw));
            hs_buf_putc(out, ' ');
            put_f8(out, in_units(es->total, tw));
            hs_buf_puts(out, "  ");
            callerlabel.len = 0;
            hs_function_label(p, es->caller, &callerlabel);
            hs_buf_append(out, callerlabel.data, callerlabel.len);
            hs_buf_putc(out, '\n');
        }
    }
    if (rc == 0)
        hs_buf_puts(out, "\n\n");
    if (callerlabel.failed)
        rc = -1;
    hs_buf_free(&callerlabel);
    free(refs);
    return rc;
}

int hs_render_pstats_table(hs_profile *p, const hs_table_opts *opts, hs_buf *out, char *err) {
    if (!p || !opts || !out) {
        hs_render_error(err, "pstats table: missing argument");
        return -1;
    }
    if (opts->subtree >= p->node_count) {
        hs_render_error(err, "pstats table: no node %u in the profile", (unsigned)opts->subtree);
        return -1;
    }
    if ((unsigned)opts->time_weight >= HS_W_COUNT || (unsigned)opts->other_weight > HS_W_COUNT) {
        hs_render_error(err, "pstats table: unknown weight");
        return -1;
    }

    /* Sort keys first: a bad key must fail before any work. */
    sort_ctx ctx;
    char sort_desc[HS_MAX_SORT_KEYS * 32];
    size_t desc_len = 0;
    ctx.nfields = 0;
    ctx.tw = opts->time_weight;
    sort_desc[0] = '\0';
    for (int i = 0; i < HS_MAX_SORT_KEYS; i++) {
        const char *key = opts->sort_keys[i];
        if (!key) {
            if (i > 0)
                break;
            key = "stdname"; /* cProfile's command line default (sort=-1) */
        }
        const sort_def *def = find_sort_def(key);
        if (!def) {
            hs_render_error(err,
                            "unknown sort key '%.60s' (use one of: calls, cumulative, cumtime, "
                            "file, filename, module, ncalls, pcalls, line, name, nfl, "
                            "stdname, time, tottime)",
                            key);
            return -1;
        }
        for (int f = 0; f < def->nfields; f++)
            ctx.fields[ctx.nfields++] = def->fields[f];
        desc_len += (size_t)snprintf(sort_desc + desc_len, sizeof sort_desc - desc_len, "%s%s",
                                     i ? ", " : "", def->description);
        if (!opts->sort_keys[i])
            break;
    }

    hs_stats st;
    if (hs_stats_compute(p, opts->subtree,
                         opts->show_callers ? opts->time_weight : HS_W_COUNT, &st) < 0) {
        hs_render_error(err, "pstats table: out of memory");
        return -1;
    }
    hs_weight tw = opts->time_weight;
    row *rows = malloc((st.func_count ? st.func_count : 1) * sizeof *rows);
    hs_buf labels;
    hs_buf_init(&labels);
    if (!rows)
        goto oom;

    int64_t total_calls = 0, prim_calls = 0, total_tt = 0;
    size_t max_width = 0;
    for (size_t i = 0; i < st.func_count; i++) {
        const hs_func_stats *fs = &st.funcs[i];
        const hs_frame *f = hs_frame_get(p, fs->function);
        row *r = &rows[i];
        r->fs = fs;
        r->file = hs_render_str(p, f->file, &r->file_len);
        r->name = hs_render_str(p, f->name, &r->name_len);
        r->line = f->first_line;
        r->label_off = labels.len;
        hs_function_label(p, fs->function, &labels);
        r->label_len = labels.len - r->label_off;
        total_calls += fs->calls;
        prim_calls += fs->primitive_calls;
        total_tt += fs->self[tw];
    }
    if (labels.failed)
        goto oom;
    for (size_t i = 0; i < st.func_count; i++) {
        rows[i].width = hs_render_text_width(labels.data + rows[i].label_off, rows[i].label_len);
        if (rows[i].width > max_width)
            max_width = rows[i].width;
    }
    ctx.labels = labels.data;
    if (hs_render_sort(rows, st.func_count, sizeof *rows, cmp_rows, &ctx) < 0)
        goto oom;

    /* print_stats(): "<8 spaces> <N> function calls [(M primitive calls)] in X seconds". */
    hs_buf_printf(out, "         %" PRId64 " function calls ", total_calls);
    if (total_calls != prim_calls)
        hs_buf_printf(out, "(%" PRId64 " primitive calls) ", prim_calls);
    hs_buf_printf(out, "in %.3f seconds\n\n", in_units(total_tt, tw));

    size_t count = st.func_count;
    size_t shown = count;
    if (opts->limit > 0 && (size_t)opts->limit < count)
        shown = (size_t)opts->limit;
    /* get_print_list prints nothing more for an empty list. */
    if (shown > 0) {
        put_print_list_msg(out, sort_desc, count, shown, opts->limit);
        int extra = opts->other_weight != HS_W_COUNT;
        int waiting = opts->show_waiting && (p->weights_present & (1u << HS_W_WALL_NS)) &&
                      (p->weights_present & (1u << HS_W_CPU_NS));
        hs_buf_puts(out, "   ncalls  tottime  percall  cumtime  percall ");
        if (extra)
            hs_buf_printf(out, "%8s ", other_title(opts->other_weight));
        if (waiting)
            hs_buf_printf(out, "%8s ", "cumwait");
        hs_buf_puts(out, "filename:lineno(function)\n");
        for (size_t i = 0; i < shown; i++) {
            const row *r = &rows[i];
            const hs_func_stats *fs = r->fs;
            char calls[64];
            double tt = in_units(fs->self[tw], tw), ct = in_units(fs->total[tw], tw);
            if (fs->calls != fs->primitive_calls)
                snprintf(calls, sizeof calls, "%" PRId64 "/%" PRId64, fs->calls,
                         fs->primitive_calls);
            else
                snprintf(calls, sizeof calls, "%" PRId64, fs->calls);
            hs_buf_printf(out, "%9s ", calls);
            put_f8(out, tt);
            hs_buf_putc(out, ' ');
            if (fs->calls == 0)
                hs_buf_pad(out, 8);
            else
                put_f8(out, tt / (double)fs->calls);
            hs_buf_putc(out, ' ');
            put_f8(out, ct);
            hs_buf_putc(out, ' ');
            if (fs->primitive_calls == 0)
                hs_buf_pad(out, 8);
            else
                put_f8(out, ct / (double)fs->primitive_calls);
            hs_buf_putc(out, ' ');
            if (extra) {
                hs_weight ow = opts->other_weight;
                if (hs_render_is_time_weight(ow))
                    put_f8(out, in_units(fs->total[ow], ow));
                else
                    hs_buf_printf(out, "%8" PRId64, fs->total[ow]);
                hs_buf_putc(out, ' ');
            }
            if (waiting) {
                int64_t off_cpu = fs->total[HS_W_WALL_NS] - fs->total[HS_W_CPU_NS];
                put_f8(out, in_units(off_cpu > 0 ? off_cpu : 0, HS_W_WALL_NS));
                hs_buf_putc(out, ' ');
            }
            hs_buf_append(out, labels.data + r->label_off, r->label_len);
            hs_buf_putc(out, '\n');
        }
        hs_buf_puts(out, "\n\n");

        if (opts->show_callers) {
            /* get_print_list: width is max_name_len + 2, measured over the
             * shown rows only when the list was cut. */
            size_t width = max_width;
            if (shown < count) {
                width = 0;
                for (size_t i = 0; i < shown; i++)
                    if (rows[i].width > width)
                        width = rows[i].width;
            }
            put_print_list_msg(out, sort_desc, count, shown, opts->limit);
            if (put_callers(p, &st, rows, shown, width + 2, tw, &labels, out) < 0)
                goto oom;
        }
    }
    if (out->failed)
        goto oom;
    hs_buf_free(&labels);
    free(rows);
    hs_stats_free(&st);
    return 0;

oom:
    hs_render_error(err, "pstats table: out of memory");
    hs_buf_free(&labels);
    free(rows);
    hs_stats_free(&st);
    return -1;
}
