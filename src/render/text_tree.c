/*
 * text_tree.c - the call tree as a reader wants it on a terminal, in the
 * manner of pyinstrument's console output: the tree drawing first, then
 * the time and share of each call path, then the function and where it is:
 *
 *     4.210s 100.0%  <module>  app.py:1
 *     └─ 4.180s  99.3%  main  app.py:40
 *        ├─ 3.020s  71.7%  load  app.py:12
 *        │  └─ 2.990s  71.0%  loads  json/__init__.py:299
 *        │        [4 frames hidden]  json, <built-in>
 *        └─ 1.160s  27.6%  sleep  ...
 *
 * This is the default text summary of traces and samples; calltree.c is
 * the plain variant with fixed numeric columns and every frame shown.
 *
 * Library collapsing (opts->show_all == 0). Code the user did not write
 * (standard library, site-packages, builtins: hs_frame_category) is shown
 * where the program enters it, and hidden inside:
 *   - a library frame whose caller is the program's own code (or a thread)
 *     is an entry and is always shown: it is the call the user made;
 *   - a library frame called by library code is hidden, and each shown
 *     line lists how many frames were hidden directly below it and in
 *     which packages, "[N frames hidden]  json, re, <built-in>";
 *   - except that a hidden frame whose own (self) time is at least half of
 *     the time of the line it would be folded into is shown anyway: that
 *     is where the library call spends its time (time.sleep under
 *     subprocess.run, a regex engine under re.sub), and hiding it would
 *     leave the reader guessing;
 *   - the program's own code called back from a library (a key function
 *     given to sorted, a request handler) is shown, under the entry.
 * A shown line's time is its node's total, so the times of a line's
 * children never add up to more than its own; what hidden frames spent on
 * their own stays in the line they were folded into.
 *
 * One line per function along a path: sampled profiles, whose frames carry
 * the line executing, are folded to functions first (merge.h), so "main"
 * calling "a" from two lines is one line, as in pyinstrument.
 *
 * Lines whose total is below opts->min_percent of the whole are left out,
 * as pyinstrument leaves them out. A profile of one thread starts at that
 * thread's code; several threads get a line each.
 *
 * Colors (opts->color, ANSI SGR codes of ECMA-48): the time and share by
 * share of the whole (red from 50%, yellow from 20%, green from 5%, dim
 * below), user functions bold, library functions and file names dim.
 * The caller decides whether colors are wanted (a terminal, NO_COLOR).
 * Names come from profiled programs and files: control characters,
 * escape sequences included, are removed (hs_render_put_text).
 *
 * The walk is iterative: a recursive program gives trees 100,000 deep.
 * Indentation stops growing at MAX_INDENT levels and deeper lines carry
 * "[depth N]", as in calltree.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../model/merge.h"
#include "render.h"
#include "render_util.h"

#define MAX_INDENT 60
#define INDENT_BYTES 5          /* "│  " in UTF-8 */
#define MAX_PACKAGES_LISTED 5   /* "[N frames hidden]  a, b, c, d, e, ..." */
#define CATEGORY_UNKNOWN 0xFF

#define SGR_RESET "\x1b[0m"
#define SGR_BOLD "\x1b[1m"
#define SGR_DIM "\x1b[2m"
#define SGR_RED "\x1b[31m"
#define SGR_GREEN "\x1b[32m"
#define SGR_YELLOW "\x1b[33m"

typedef struct {
    size_t start, count, next; /* this level's lines in the kids arena */
    size_t depth;              /* printed level (0 = top) */
    size_t prefix_len;         /* bytes of the prefix drawn before the connector */
    int connectors;            /* 0 for the top level */
} level;

typedef struct {
    hs_profile *p;
    const hs_text_tree_opts *opts;
    const int64_t *totals;
    int64_t grand;
    unsigned char *category; /* per frame, CATEGORY_UNKNOWN until asked */
    hs_id *kids;             /* arena of the lines of every open level */
    size_t kids_len;
    hs_id *scratch;          /* DFS stack through hidden frames */
    double unit_ns;          /* 1e9 (seconds) or 1e6 (milliseconds) */
    const char *unit;
} tree_ctx;

typedef struct {
    size_t hidden;
    const char *pkg[MAX_PACKAGES_LISTED];
    size_t pkg_len[MAX_PACKAGES_LISTED];
    size_t pkg_count;
    int more_packages;
} hidden_note;

static hs_category node_category(tree_ctx *c, hs_id node) {
    hs_id frame = hs_node_get(c->p, node)->frame;
    if (frame == HS_NONE || frame >= c->p->frame_count)
        return HS_CAT_SYNTHETIC;
    if (c->category[frame] == CATEGORY_UNKNOWN)
        c->category[frame] = (unsigned char)hs_frame_category(c->p, frame);
    return (hs_category)c->category[frame];
}

static int is_library(hs_category cat) {
    return cat == HS_CAT_STDLIB || cat == HS_CAT_LIBRARY || cat == HS_CAT_NATIVE;
}

static void note_package(tree_ctx *c, hidden_note *note, hs_id node) {
    const char *s;
    size_t len;
    hs_render_package_name(c->p, hs_node_get(c->p, node)->frame, &s, &len);
    for (size_t i = 0; i < note->pkg_count; i++)
        if (note->pkg_len[i] == len && memcmp(note->pkg[i], s, len) == 0)
            return;
    if (note->pkg_count == MAX_PACKAGES_LISTED) {
        note->more_packages = 1;
        return;
    }
    note->pkg[note->pkg_count] = s;
    note->pkg_len[note->pkg_count++] = len;
}

static int cmp_by_total(const void *pa, const void *pb, void *vctx) {
    const int64_t *totals = vctx;
    int64_t a = totals[*(const hs_id *)pa], b = totals[*(const hs_id *)pb];
    return a > b ? -1 : a < b ? 1 : 0;
}

static int big_enough(const tree_ctx *c, hs_id node) {
    /* total/grand >= min_percent/100; with no weight at all, every line
     * would be 0% and all are shown. */
    return c->grand <= 0 ||
           (double)c->totals[node] * 100.0 >= c->opts->min_percent * (double)c->grand;
}

/* The lines shown below `shown`: its children, or, through hidden library
 * frames, its nearest shown descendants (the rule at the top of the file).
 * Appends them to the kids arena, sorted by total, and describes the
 * frames hidden on the way in *note. */
static int collect_lines(tree_ctx *c, hs_id shown, level *lv, hidden_note *note) {
    const hs_profile *p = c->p;
    int shown_is_library = is_library(node_category(c, shown));
    int64_t fold_total = c->totals[shown];
    hs_weight w = c->opts->weight;
    size_t sp = 0;
    memset(note, 0, sizeof *note);
    lv->start = c->kids_len;
    lv->count = 0;
    lv->next = 0;
    for (hs_id k = hs_node_get(p, shown)->first_child; k != HS_NONE; k = hs_node_get(p, k)->next_sibling)
        c->scratch[sp++] = k;
    /* Children were pushed in order; popping reverses it, and the stable
     * sort below restores an order by total anyway. */
    while (sp > 0) {
        hs_id node = c->scratch[--sp];
        const hs_node *nd = hs_node_get(p, node);
        int caller_is_library = nd->parent == shown ? shown_is_library : 1;
        int hide = !c->opts->show_all && caller_is_library && is_library(node_category(c, node));
        if (hide && nd->self[w] > 0 && nd->self[w] >= fold_total - nd->self[w])
            hide = 0; /* where the library call spends its time */
        if (hide) {
            note->hidden++;
            note_package(c, note, node);
            for (hs_id k = nd->first_child; k != HS_NONE; k = hs_node_get(p, k)->next_sibling)
                c->scratch[sp++] = k;
            continue;
        }
        if (big_enough(c, node)) {
            c->kids[c->kids_len++] = node;
            lv->count++;
        }
    }
    return hs_render_sort(c->kids + lv->start, lv->count, sizeof *c->kids, cmp_by_total,
                          (void *)c->totals);
}

static void sgr(tree_ctx *c, hs_buf *out, const char *code) {
    if (c->opts->color)
        hs_buf_puts(out, code);
}

static void put_amount(tree_ctx *c, hs_buf *out, hs_id node) {
    int64_t v = c->totals[node];
    double share = c->grand > 0 ? 100.0 * (double)v / (double)c->grand : 0.0;
    sgr(c, out, share >= 50.0 ? SGR_RED : share >= 20.0 ? SGR_YELLOW : share >= 5.0 ? SGR_GREEN : SGR_DIM);
    if (c->unit)
        hs_buf_printf(out, "%.3f%s", (double)v / c->unit_ns, c->unit);
    else
        hs_buf_printf(out, "%lld", (long long)v);
    hs_buf_printf(out, " %5.1f%%", share);
    sgr(c, out, SGR_RESET);
    hs_buf_puts(out, "  ");
}

/* "name  file:line" (library files by import path), "{builtin}", or
 * "Thread NAME". */
static void put_label(tree_ctx *c, hs_buf *out, hs_id node) {
    const hs_profile *p = c->p;
    hs_id fid = hs_node_get(p, node)->frame;
    if (fid == HS_NONE || fid >= p->frame_count) {
        hs_buf_puts(out, "<root>");
        return;
    }
    const hs_frame *f = hs_frame_get(p, fid);
    hs_category cat = node_category(c, node);
    size_t name_len, file_len;
    const char *name = hs_render_str(p, f->name, &name_len);
    sgr(c, out, cat == HS_CAT_USER || cat == HS_CAT_SYNTHETIC ? SGR_BOLD : SGR_DIM);
    switch (f->kind) {
    case HS_KIND_PYTHON: {
        const char *file = hs_render_str(p, f->file, &file_len);
        size_t off = cat == HS_CAT_USER ? 0 : hs_render_module_path_offset(file, file_len);
        hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        sgr(c, out, SGR_RESET);
        hs_buf_puts(out, "  ");
        sgr(c, out, SGR_DIM);
        hs_render_put_text(out, file + off, file_len - off, HS_TEXT_PLAIN);
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
    sgr(c, out, SGR_RESET);
}

static void put_hidden_note(tree_ctx *c, hs_buf *out, const hidden_note *note) {
    sgr(c, out, SGR_DIM);
    hs_buf_printf(out, "[%zu frame%s hidden]  ", note->hidden, note->hidden == 1 ? "" : "s");
    for (size_t i = 0; i < note->pkg_count; i++) {
        if (i)
            hs_buf_puts(out, ", ");
        hs_render_put_text(out, note->pkg[i], note->pkg_len[i], HS_TEXT_PLAIN);
    }
    if (note->more_packages)
        hs_buf_puts(out, ", ...");
    sgr(c, out, SGR_RESET);
    hs_buf_putc(out, '\n');
}

/* The node whose lines form the top level: the subtree, or for the whole
 * profile the root (one line per thread), or the only thread's node. */
static hs_id top_parent(const hs_profile *p, hs_id subtree) {
    if (subtree != HS_ROOT)
        return HS_NONE;
    const hs_node *root = hs_node_get(p, HS_ROOT);
    hs_id only = root->first_child;
    if (only != HS_NONE && hs_node_get(p, only)->next_sibling == HS_NONE) {
        hs_id frame = hs_node_get(p, only)->frame;
        if (frame != HS_NONE && frame < p->frame_count &&
            hs_frame_get(p, frame)->kind == HS_KIND_THREAD)
            return only;
    }
    return HS_ROOT;
}

static int render(tree_ctx *c, hs_buf *out, level *stack) {
    const hs_text_tree_opts *o = c->opts;
    const char *vert = o->unicode ? "\xe2\x94\x82  " : "|  ";                  /* │ */
    const char *tee = o->unicode ? "\xe2\x94\x9c\xe2\x94\x80 " : "|- ";        /* ├─ */
    const char *elbow = o->unicode ? "\xe2\x94\x94\xe2\x94\x80 " : "`- ";      /* └─ */
    char prefix[MAX_INDENT * INDENT_BYTES + 1];
    size_t sp = 0;
    hidden_note note;

    level *top = &stack[sp++];
    hs_id parent = top_parent(c->p, o->subtree);
    if (parent == HS_NONE) {
        c->kids[c->kids_len++] = o->subtree;
        top->start = 0;
        top->count = 1;
        top->next = 0;
    } else if (collect_lines(c, parent, top, &note) < 0) {
        return -1;
    }
    top->depth = 0;
    top->prefix_len = 0;
    top->connectors = 0;

    while (sp > 0) {
        level *lv = &stack[sp - 1];
        if (lv->next == lv->count) {
            c->kids_len = lv->start;
            sp--;
            continue;
        }
        hs_id node = c->kids[lv->start + lv->next++];
        int last = lv->next == lv->count;
        hs_buf_append(out, prefix, lv->prefix_len);
        if (lv->connectors)
            hs_buf_puts(out, last ? elbow : tee);
        if (lv->depth > MAX_INDENT)
            hs_buf_printf(out, "[depth %zu] ", lv->depth);
        put_amount(c, out, node);
        put_label(c, out, node);
        hs_buf_putc(out, '\n');
        if (out->failed)
            return -1;

        /* The children's prefix: ours plus "│  " (more siblings follow) or
         * blanks (we were the last), frozen once MAX_INDENT is reached. */
        size_t child_prefix = lv->prefix_len;
        if (lv->connectors && lv->depth < MAX_INDENT) {
            const char *cont = last ? "   " : vert;
            size_t len = strlen(cont);
            memcpy(prefix + child_prefix, cont, len);
            child_prefix += len;
        }
        level *child = &stack[sp];
        if (collect_lines(c, node, child, &note) < 0)
            return -1;
        if (note.hidden > 0) {
            hs_buf_append(out, prefix, child_prefix);
            hs_buf_puts(out, child->count > 0 ? vert : "   ");
            put_hidden_note(c, out, &note);
        }
        child->depth = lv->depth + 1;
        child->prefix_len = child_prefix;
        child->connectors = 1;
        sp++;
    }
    return 0;
}

static int has_lines(const hs_profile *p) {
    for (size_t i = 0; i < p->frame_count; i++)
        if (p->frames[i].line != 0)
            return 1;
    return 0;
}

static int render_folded(hs_profile *p, const hs_text_tree_opts *opts, hs_buf *out, char *err);

int hs_render_text_tree(hs_profile *p, const hs_text_tree_opts *opts, hs_buf *out, char *err) {
    if (p && opts && out && opts->subtree < p->node_count && has_lines(p)) {
        hs_id *map = malloc(p->node_count * sizeof *map);
        hs_profile *folded = map ? hs_profile_fold_lines(p, map) : NULL;
        int rc = -1;
        if (folded) {
            hs_text_tree_opts o = *opts;
            o.subtree = map[opts->subtree];
            rc = render_folded(folded, &o, out, err);
            hs_profile_free(folded);
        } else {
            hs_render_error(err, "text tree: out of memory");
        }
        free(map);
        return rc;
    }
    return render_folded(p, opts, out, err);
}

/* The tree of a profile whose frames have no lines. */
static int render_folded(hs_profile *p, const hs_text_tree_opts *opts, hs_buf *out, char *err) {
    if (!p || !opts || !out) {
        hs_render_error(err, "text tree: missing argument");
        return -1;
    }
    if (opts->subtree >= p->node_count) {
        hs_render_error(err, "text tree: no node %u in the profile", (unsigned)opts->subtree);
        return -1;
    }
    if ((unsigned)opts->weight >= HS_W_COUNT) {
        hs_render_error(err, "text tree: unknown weight");
        return -1;
    }
    size_t n = p->node_count;
    tree_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.opts = opts;
    int64_t *totals = malloc(n * sizeof *totals);
    c.category = malloc(p->frame_count + 1);
    /* A node is in the arena at most once while its parent's level is
     * open, and on the DFS stack at most once per collection. */
    c.kids = malloc((n + 1) * sizeof *c.kids);
    c.scratch = malloc((n + 1) * sizeof *c.scratch);
    level *stack = malloc((n + 1) * sizeof *stack);
    int rc = -1;
    if (totals && c.category && c.kids && c.scratch && stack) {
        memset(c.category, CATEGORY_UNKNOWN, p->frame_count + 1);
        hs_node_totals(p, opts->weight, totals);
        c.totals = totals;
        c.grand = totals[opts->subtree];
        if (hs_render_is_time_weight(opts->weight)) {
            /* One unit for the whole tree, so lines compare at a glance. */
            int seconds = c.grand >= 1000000000;
            c.unit_ns = seconds ? 1e9 : 1e6;
            c.unit = seconds ? "s" : "ms";
        }
        rc = render(&c, out, stack);
    }
    if (rc < 0 || out->failed) {
        hs_render_error(err, "text tree: out of memory");
        rc = -1;
    }
    free(totals);
    free(c.category);
    free(c.kids);
    free(c.scratch);
    free(stack);
    return rc;
}
