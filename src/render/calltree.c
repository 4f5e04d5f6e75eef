/*
 * calltree.c - the call tree as indented text, in the manner of
 * pyinstrument's console renderer, one line per node:
 *
 *     total    self   share  tree  label
 *     1.234s  0.010s  95.1%  ├─ main  app.py:12
 *
 * The numbers come first, in fixed columns, so they line up however deep
 * the tree goes; the tree drawing sits between them and the label.
 * Children are sorted by total, largest first. A child whose total is
 * below opts->min_percent of the subtree's total is hidden, and one
 * "… N more below X%" line per parent says so. opts->max_depth counts
 * printed levels (1 = the top level only; 0 = unlimited).
 *
 * The walk is iterative with an explicit stack, because a recursive
 * program can give a tree 100,000 frames deep. The drawn indentation
 * stops growing at MAX_INDENT levels; deeper lines carry a "[depth N]"
 * marker instead, so a row never becomes megabytes of "│  ".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

#define MAX_INDENT 60
/* Each level of indentation is "│  " (5 bytes in UTF-8) at most. */
#define INDENT_BYTES 5

typedef struct {
    size_t start;      /* first child in the kids arena */
    size_t count;      /* visible children */
    size_t next;       /* next child to print */
    size_t hidden;     /* children below min_percent */
    size_t depth;      /* printed level of these children (0 = top) */
    size_t prefix_len; /* bytes of the prefix buffer drawn before their connector */
    int connectors;    /* 0 for the top level, which has no ├─ └─ */
} level;

typedef struct {
    const int64_t *totals;
} child_order;

/* Largest total first; the stable sort keeps insertion order for ties. */
static int cmp_child(const void *pa, const void *pb, void *vctx) {
    const child_order *c = vctx;
    int64_t a = c->totals[*(const hs_id *)pa], b = c->totals[*(const hs_id *)pb];
    return a > b ? -1 : a < b ? 1 : 0;
}

static void put_value(hs_buf *out, int64_t v, hs_weight w) {
    if (hs_render_is_time_weight(w))
        hs_buf_printf(out, "%7.3fs", (double)v / 1e9);
    else
        hs_buf_printf(out, "%8" PRId64, v);
}

/* "name  file:line" for Python, "{builtin}" for natives, "Thread NAME". */
static void put_node_label(const hs_profile *p, hs_id node, hs_buf *out) {
    hs_id fid = hs_node_get(p, node)->frame;
    if (fid == HS_NONE || fid >= p->frame_count) {
        hs_buf_puts(out, "<root>");
        return;
    }
    const hs_frame *f = hs_frame_get(p, fid);
    size_t name_len, file_len;
    const char *name = hs_render_str(p, f->name, &name_len);
    switch (f->kind) {
    case HS_KIND_PYTHON: {
        const char *file = hs_render_str(p, f->file, &file_len);
        hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        hs_buf_puts(out, "  ");
        hs_render_put_text(out, file, file_len, HS_TEXT_PLAIN);
        hs_buf_printf(out, ":%d", (int)(f->line ? f->line : f->first_line));
        break;
    }
    case HS_KIND_NATIVE:
        hs_function_label(p, fid, out);
        break;
    case HS_KIND_THREAD:
        hs_buf_puts(out, "Thread ");
        hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        break;
    default:
        hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        break;
    }
}

/* Pushes the visible children of `node`, sorted, onto the kids arena and
 * describes them in *lv. */
static int collect_children(const hs_profile *p, hs_id node, const int64_t *totals,
                            int64_t grand, double min_percent, hs_id *kids, size_t *kids_len,
                            level *lv) {
    lv->start = *kids_len;
    lv->count = 0;
    lv->next = 0;
    lv->hidden = 0;
    for (hs_id c = hs_node_get(p, node)->first_child; c != HS_NONE;
         c = hs_node_get(p, c)->next_sibling) {
        /* Hide when total/grand < min_percent/100; nothing is hidden when
         * the subtree has no weight at all (every share would be 0). */
        if (grand > 0 && (double)totals[c] * 100.0 < min_percent * (double)grand) {
            lv->hidden++;
            continue;
        }
        kids[(*kids_len)++] = c;
        lv->count++;
    }
    child_order ctx = {totals};
    return hs_render_sort(kids + lv->start, lv->count, sizeof *kids, cmp_child, &ctx);
}

int hs_render_call_tree(hs_profile *p, const hs_tree_opts *opts, hs_buf *out, char *err) {
    if (!p || !opts || !out) {
        hs_render_error(err, "call tree: missing argument");
        return -1;
    }
    if (opts->subtree >= p->node_count) {
        hs_render_error(err, "call tree: no node %u in the profile", (unsigned)opts->subtree);
        return -1;
    }
    if ((unsigned)opts->weight >= HS_W_COUNT) {
        hs_render_error(err, "call tree: unknown weight");
        return -1;
    }
    hs_weight w = opts->weight;
    size_t n = p->node_count;
    int64_t *totals = malloc(n * sizeof *totals);
    /* Every node is pushed at most once while its parent is on the stack,
     * so node_count bounds both the arena and the stack. */
    hs_id *kids = malloc((n + 1) * sizeof *kids);
    level *stack = malloc((n + 1) * sizeof *stack);
    char prefix[MAX_INDENT * INDENT_BYTES + 1];
    const char *vert = opts->unicode ? "\xe2\x94\x82  " : "|  ";   /* │ */
    const char *tee = opts->unicode ? "\xe2\x94\x9c\xe2\x94\x80 " : "|- ";  /* ├─ */
    const char *elbow = opts->unicode ? "\xe2\x94\x94\xe2\x94\x80 " : "`- "; /* └─ */
    const char *ellipsis = opts->unicode ? "\xe2\x80\xa6" : "...";   /* … */
    size_t kids_len = 0, sp = 0;
    int rc = -1;
    if (!totals || !kids || !stack)
        goto done;
    hs_node_totals(p, w, totals);
    int64_t grand = totals[opts->subtree];

    /* The top level: the subtree node itself, or every thread under the
     * root (the root has no frame of its own to print). */
    level *top = &stack[sp++];
    if (opts->subtree == HS_ROOT) {
        if (collect_children(p, HS_ROOT, totals, grand, opts->min_percent, kids, &kids_len,
                             top) < 0)
            goto done;
    } else {
        kids[kids_len++] = opts->subtree;
        top->start = 0;
        top->count = 1;
        top->next = 0;
        top->hidden = 0;
    }
    top->depth = 0;
    top->prefix_len = 0;
    top->connectors = 0;

    while (sp > 0) {
        level *lv = &stack[sp - 1];
        const char *connector = "";
        if (lv->next == lv->count) {
            if (lv->hidden > 0) {
                /* Blank numeric columns (25 wide), then the note. */
                hs_buf_pad(out, 25);
                hs_buf_append(out, prefix, lv->prefix_len);
                if (lv->connectors)
                    hs_buf_puts(out, elbow);
                if (lv->depth > MAX_INDENT)
                    hs_buf_printf(out, "[depth %zu] ", lv->depth);
                hs_buf_printf(out, "%s %zu more below %.1f%%\n", ellipsis, lv->hidden,
                              opts->min_percent);
            }
            kids_len = lv->start;
            sp--;
            continue;
        }
        hs_id node = kids[lv->start + lv->next++];
        int last = lv->next == lv->count && lv->hidden == 0;
        if (lv->connectors)
            connector = last ? elbow : tee;

        const hs_node *nd = hs_node_get(p, node);
        put_value(out, totals[node], w);
        put_value(out, nd->self[w], w);
        hs_buf_printf(out, "%6.1f%%  ", grand > 0 ? 100.0 * (double)totals[node] / (double)grand
                                                  : 0.0);
        hs_buf_append(out, prefix, lv->prefix_len);
        hs_buf_puts(out, connector);
        if (lv->depth > MAX_INDENT)
            hs_buf_printf(out, "[depth %zu] ", lv->depth);
        put_node_label(p, node, out);
        hs_buf_putc(out, '\n');
        if (out->failed)
            goto done;

        if (nd->first_child == HS_NONE)
            continue;
        if (opts->max_depth && lv->depth + 1 >= opts->max_depth)
            continue;
        /* The children's prefix: ours plus "│  " (more siblings follow) or
         * "   " (we were the last), frozen once MAX_INDENT is reached. */
        size_t child_prefix = lv->prefix_len;
        if (lv->connectors && lv->depth < MAX_INDENT) {
            const char *cont = last ? "   " : vert;
            size_t cl = strlen(cont);
            memcpy(prefix + child_prefix, cont, cl);
            child_prefix += cl;
        }
        level *child = &stack[sp];
        if (collect_children(p, node, totals, grand, opts->min_percent, kids, &kids_len, child) <
            0)
            goto done;
        child->depth = lv->depth + 1;
        child->prefix_len = child_prefix;
        child->connectors = 1;
        sp++;
    }
    rc = 0;

done:
    if (rc < 0 || out->failed) {
        hs_render_error(err, "call tree: out of memory");
        rc = -1;
    }
    free(totals);
    free(kids);
    free(stack);
    return rc;
}
