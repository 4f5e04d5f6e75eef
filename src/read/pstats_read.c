/*
 * pstats_read.c - pstats .prof files (cProfile's, profile.py's, hotscope's,
 * any tool's that writes them) into the model.
 *
 * The file is marshal.dumps of the dict Lib/cProfile.py's snapshot_stats()
 * builds (decoded by marshal_read.c):
 *   {(file, line, name): (cc, nc, tt, ct, callers)}
 *   callers = {(file, line, name): (nc, cc, tt, ct)}
 * (Lib/profile.py writes a plain call count instead of each callers tuple;
 * both are read.) cc counts primitive (non-recursive) calls, nc all calls,
 * tt is the time in the function itself and ct with its callees, in
 * seconds. Builtins are keyed ("~", 0, "<built-in ...>").
 *
 * pstats has per-function and per-edge totals but no stacks, so the call
 * tree is ESTIMATED, the way snakeviz draws its sunburst: starting from the
 * functions called from the top level (no callers, or more calls than
 * their callers account for), each function's callees are hung under it,
 * each callee node getting the part of the edge's figures that matches
 * the part of the caller this node stands for ("share": a node for g that
 * carries 30% of g's cumulative time gets 30% of each g -> c edge, and
 * that child carries edge_ct / ct_c of c). Recursion is cut after one
 * level: a callee already on the path once is hung again (the node where
 * recursive calls go, with the function above it, as stats.h counts
 * primitive calls), a callee on it twice is not.
 * Stacks through a function called from several places are therefore
 * estimates, and meta "stacks" says so.
 *
 * What is NOT estimated: once the tree is built, every function's own
 * figures are apportioned over its nodes in proportion to the estimates
 * (largest-remainder style, on integers), so that per function
 *   calls over all its nodes           == nc   (HS_W_CALLS)
 *   calls over nodes with no ancestor
 *     running the same function        == cc   (stats.h's primitive calls)
 *   self time over all its nodes       == tt, rounded to the nanosecond
 * exactly, and pstats of the model (hs_render_pstats_marshal) gives back
 * the file's calls and tottime. Cumulative times and per-caller figures
 * follow from the estimated tree.
 *
 * Expansion is depth-first with an explicit stack (call chains can be
 * thousands deep), expands only nodes carrying at least MIN_SHARE of
 * their function, and stops growing the tree at MAX_NODES, so a call
 * graph with exponentially many paths still gives a bounded tree.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "marshal_read.h"
#include "read.h"

#define MIN_SHARE 1e-4
#define MAX_NODES 1000000

typedef struct {
    hs_id frame;
    int64_t cc, nc;
    double tt, ct;
    size_t out_first, out_count; /* edges where this is the caller */
    size_t in_count;
    int64_t in_calls;            /* calls its known callers account for */
    uint32_t on_path;
    int has_node;
} func;

typedef struct {
    uint32_t caller, callee;
    int64_t nc, cc;
    double tt, ct;
} edge;

typedef struct {
    hs_id node;
    uint32_t func;
    double share;
    size_t next; /* next out-edge to visit */
} open_node;

typedef struct {
    hs_profile *p;
    hs_marshal m;
    char *err;
    func *funcs;
    size_t func_count;
    int32_t *func_of_frame; /* model frame id -> function index, -1 for none */
    size_t frame_map_size;
    edge *edges;
    size_t edge_count, edge_cap;
    edge *out;              /* edges sorted by caller */
    hs_id thread;
    /* per model node */
    uint32_t *node_func;
    uint8_t *node_inner;
    double *prov_calls, *prov_self;
    size_t node_cap;
    open_node *stack;
    size_t stack_cap;
} reader;

static const hs_mv *value(reader *r, size_t index) {
    return &r->m.values[index];
}

static const hs_mv *item(reader *r, const hs_mv *container, size_t i) {
    return &r->m.values[r->m.items[container->u.c.first + i]];
}

static int is_text(const hs_mv *v) {
    return v->type == HS_MV_STR || v->type == HS_MV_BYTES;
}

/* (file, line, name) -> the function's model frame. */
static hs_id key_frame(reader *r, const hs_mv *key, const char *where) {
    if (key->type != HS_MV_TUPLE || key->u.c.count != 3 || !is_text(item(r, key, 0)) ||
        item(r, key, 1)->type != HS_MV_INT || !is_text(item(r, key, 2))) {
        hs_read_error(r->err, "not a pstats file: %s is a %s, not a (file, line, name) tuple", where,
                      hs_mv_type_name(key->type));
        return HS_NONE;
    }
    const hs_mv *file = item(r, key, 0), *name = item(r, key, 2);
    int64_t line = item(r, key, 1)->u.i;
    if (line < 0 || line > INT32_MAX) {
        hs_read_error(r->err, "%s: line %lld is out of range", where, (long long)line);
        return HS_NONE;
    }
    const char *text = r->m.text.data ? r->m.text.data : "";
    hs_id file_id = hs_intern(r->p, text + file->u.s.off, file->u.s.len);
    hs_id name_id = hs_intern(r->p, text + name->u.s.off, name->u.s.len);
    if (file_id == HS_NONE || name_id == HS_NONE) {
        hs_read_error(r->err, "out of memory");
        return HS_NONE;
    }
    int builtin = file->u.s.len == 1 && text[file->u.s.off] == '~' && line == 0;
    hs_id f = hs_frame_intern(r->p, name_id, file_id, (int32_t)line, 0,
                              builtin ? HS_KIND_NATIVE : HS_KIND_PYTHON);
    if (f == HS_NONE)
        hs_read_error(r->err, "out of memory");
    return f;
}

static int get_count(reader *r, const hs_mv *v, const char *what, int64_t *out) {
    if (v->type != HS_MV_INT || v->u.i < 0) {
        hs_read_error(r->err, "%s is not a call count (a non-negative int)", what);
        return -1;
    }
    *out = v->u.i;
    return 0;
}

static int get_seconds(reader *r, const hs_mv *v, const char *what, double *out) {
    double d = v->type == HS_MV_FLOAT ? v->u.f : v->type == HS_MV_INT ? (double)v->u.i : NAN;
    if (!isfinite(d) || fabs(d) * 1e9 >= 9.2e18) {
        hs_read_error(r->err, "%s is not a time in seconds", what);
        return -1;
    }
    *out = d;
    return 0;
}

/* The function whose frame is f, or -1. */
static long func_of(reader *r, hs_id f) {
    return f < r->frame_map_size ? r->func_of_frame[f] : -1;
}

static int read_functions(reader *r, const hs_mv *top) {
    size_t n = top->u.c.count / 2;
    r->funcs = calloc(n ? n : 1, sizeof *r->funcs);
    if (!r->funcs) {
        hs_read_error(r->err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const hs_mv *key = item(r, top, 2 * i), *val = item(r, top, 2 * i + 1);
        hs_id frame = key_frame(r, key, "a function's key");
        if (frame == HS_NONE)
            return -1;
        if (val->type != HS_MV_TUPLE || val->u.c.count != 5 || item(r, val, 4)->type != HS_MV_DICT) {
            hs_read_error(r->err, "not a pstats file: function %zu's figures are not (cc, nc, tt, ct, callers)", i);
            return -1;
        }
        func *f = &r->funcs[i];
        f->frame = frame;
        if (get_count(r, item(r, val, 0), "a primitive call count", &f->cc) < 0 ||
            get_count(r, item(r, val, 1), "a call count", &f->nc) < 0 ||
            get_seconds(r, item(r, val, 2), "a function's tottime", &f->tt) < 0 ||
            get_seconds(r, item(r, val, 3), "a function's cumtime", &f->ct) < 0)
            return -1;
        if (f->cc > f->nc)
            f->cc = f->nc; /* more primitive calls than calls: not possible, read as all primitive */
    }
    r->func_count = n;
    /* frame -> function */
    r->frame_map_size = r->p->frame_count;
    r->func_of_frame = malloc((r->frame_map_size ? r->frame_map_size : 1) * sizeof *r->func_of_frame);
    if (!r->func_of_frame) {
        hs_read_error(r->err, "out of memory");
        return -1;
    }
    memset(r->func_of_frame, 0xff, (r->frame_map_size ? r->frame_map_size : 1) * sizeof *r->func_of_frame);
    for (size_t i = 0; i < n; i++) {
        if (r->func_of_frame[r->funcs[i].frame] >= 0) {
            hs_read_error(r->err, "function %zu appears twice", i);
            return -1;
        }
        r->func_of_frame[r->funcs[i].frame] = (int32_t)i;
    }
    return 0;
}

static int read_edges(reader *r, const hs_mv *top) {
    for (size_t i = 0; i < r->func_count; i++) {
        const hs_mv *callers = item(r, item(r, top, 2 * i + 1), 4);
        for (size_t k = 0; k < callers->u.c.count / 2; k++) {
            hs_id frame = key_frame(r, item(r, callers, 2 * k), "a caller's key");
            if (frame == HS_NONE)
                return -1;
            long caller = func_of(r, frame);
            const hs_mv *v = item(r, callers, 2 * k + 1);
            edge e = {0, (uint32_t)i, 0, 0, 0, 0};
            if (v->type == HS_MV_INT) {
                /* profile.py: just the number of calls. */
                if (get_count(r, v, "a caller's call count", &e.nc) < 0)
                    return -1;
                e.cc = e.nc;
                double part = r->funcs[i].nc ? (double)e.nc / (double)r->funcs[i].nc : 0;
                e.tt = r->funcs[i].tt * part;
                e.ct = r->funcs[i].ct * part;
            } else if (v->type == HS_MV_TUPLE && v->u.c.count == 4) {
                if (get_count(r, item(r, v, 0), "a caller's call count", &e.nc) < 0 ||
                    get_count(r, item(r, v, 1), "a caller's primitive call count", &e.cc) < 0 ||
                    get_seconds(r, item(r, v, 2), "a caller's tottime", &e.tt) < 0 ||
                    get_seconds(r, item(r, v, 3), "a caller's cumtime", &e.ct) < 0)
                    return -1;
            } else {
                hs_read_error(r->err, "not a pstats file: a caller's figures are a %s, not (nc, cc, tt, ct)",
                              hs_mv_type_name(v->type));
                return -1;
            }
            /* A caller that is not itself in the file has nothing to hang
             * the edge under: the callee is then also a top-level function. */
            if (caller < 0)
                continue;
            e.caller = (uint32_t)caller;
            if (r->edge_count == r->edge_cap) {
                size_t cap = r->edge_cap ? r->edge_cap * 2 : 256;
                edge *grown = realloc(r->edges, cap * sizeof *grown);
                if (!grown) {
                    hs_read_error(r->err, "out of memory");
                    return -1;
                }
                r->edges = grown;
                r->edge_cap = cap;
            }
            r->edges[r->edge_count++] = e;
            func *callee = &r->funcs[i];
            callee->in_count++;
            callee->in_calls = hs_sat_add(callee->in_calls, e.nc);
        }
    }
    /* Out-edges grouped by caller (a counting sort keeps the file's order). */
    r->out = malloc((r->edge_count ? r->edge_count : 1) * sizeof *r->out);
    if (!r->out) {
        hs_read_error(r->err, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < r->edge_count; k++)
        r->funcs[r->edges[k].caller].out_count++;
    size_t at = 0;
    for (size_t i = 0; i < r->func_count; i++) {
        r->funcs[i].out_first = at;
        at += r->funcs[i].out_count;
        r->funcs[i].out_count = 0;
    }
    for (size_t k = 0; k < r->edge_count; k++) {
        func *g = &r->funcs[r->edges[k].caller];
        r->out[g->out_first + g->out_count++] = r->edges[k];
    }
    return 0;
}

/* ---- building the tree --------------------------------------------------- */

static int ensure_node_arrays(reader *r) {
    size_t need = r->p->node_count;
    if (need <= r->node_cap)
        return 0;
    size_t cap = r->node_cap ? r->node_cap : 1024;
    while (cap < need)
        cap *= 2;
    uint32_t *nf = realloc(r->node_func, cap * sizeof *nf);
    if (nf)
        r->node_func = nf;
    uint8_t *ni = realloc(r->node_inner, cap * sizeof *ni);
    if (ni)
        r->node_inner = ni;
    double *pc = realloc(r->prov_calls, cap * sizeof *pc);
    if (pc)
        r->prov_calls = pc;
    double *ps = realloc(r->prov_self, cap * sizeof *ps);
    if (ps)
        r->prov_self = ps;
    if (!nf || !ni || !pc || !ps)
        return -1;
    for (size_t i = r->node_cap; i < cap; i++) {
        r->node_func[i] = UINT32_MAX;
        r->node_inner[i] = 0;
        r->prov_calls[i] = 0;
        r->prov_self[i] = 0;
    }
    r->node_cap = cap;
    return 0;
}

/* The node of function f under parent, with provisional figures added.
 * *is_new tells whether it was just created. HS_NONE on failure. */
static hs_id add_node(reader *r, hs_id parent, uint32_t f, double calls, double self, int inner, int *is_new) {
    size_t before = r->p->node_count;
    hs_id node = hs_node_child(r->p, parent, r->funcs[f].frame);
    if (node == HS_NONE || ensure_node_arrays(r) < 0)
        return HS_NONE;
    *is_new = r->p->node_count > before;
    r->node_func[node] = f;
    if (*is_new)
        r->node_inner[node] = (uint8_t)inner;
    r->prov_calls[node] += calls;
    r->prov_self[node] += self;
    r->funcs[f].has_node = 1;
    return node;
}

/* How much of callee c one edge into it carries, in [0, 1]. */
static double edge_share(const func *c, const edge *e) {
    double s = c->ct > 0 ? e->ct / c->ct : c->nc > 0 ? (double)e->nc / (double)c->nc : 0;
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

static int push(reader *r, size_t *depth, hs_id node, uint32_t f, double share) {
    if (*depth == r->stack_cap) {
        size_t cap = r->stack_cap ? r->stack_cap * 2 : 256;
        open_node *grown = realloc(r->stack, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->stack = grown;
        r->stack_cap = cap;
    }
    open_node *o = &r->stack[(*depth)++];
    o->node = node;
    o->func = f;
    o->share = share;
    o->next = 0;
    r->funcs[f].on_path++;
    return 0;
}

/* Hangs function f under the thread with the given share and expands it. */
static int expand_root(reader *r, uint32_t f, double share, double calls) {
    int is_new;
    hs_id node = add_node(r, r->thread, f, calls, r->funcs[f].tt * share, 0, &is_new);
    if (node == HS_NONE)
        return -1;
    if (!is_new)
        return 0;
    size_t depth = 0;
    if (push(r, &depth, node, f, share) < 0)
        return -1;
    while (depth > 0) {
        open_node *top = &r->stack[depth - 1];
        func *g = &r->funcs[top->func];
        if (top->next == g->out_count) {
            g->on_path--;
            depth--;
            continue;
        }
        const edge *e = &r->out[g->out_first + top->next++];
        func *c = &r->funcs[e->callee];
        /* A callee already on the path twice is not hung again: recursion
         * is shown one level deep, which gives recursive calls (and each
         * function of a cycle) a node with the function above it. */
        if (c->on_path >= 2)
            continue;
        double calls_here = (double)e->nc * top->share, self_here = e->tt * top->share;
        int recursive = c->on_path > 0;
        double child_share = top->share * edge_share(c, e);
        hs_id child = add_node(r, top->node, e->callee, calls_here, self_here, recursive, &is_new);
        if (child == HS_NONE)
            return -1;
        /* `top` may be stale after a push reallocates the stack: not used below. */
        if (is_new && c->out_count && child_share >= MIN_SHARE && r->p->node_count < MAX_NODES &&
            push(r, &depth, child, e->callee, child_share) < 0)
            return -1;
    }
    return 0;
}

/* Splits the integer total over n nodes in proportion to weights w (equal
 * shares when they sum to nothing): cumulative rounding, so the parts are
 * non-negative for total >= 0 and add up to total exactly. */
static void apportion(reader *r, const hs_id *nodes, size_t n, const double *w, int64_t total, hs_weight weight) {
    if (n == 0 || total == 0)
        return;
    int negative = total < 0;
    int64_t magnitude = negative ? -total : total;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += w[nodes[i]] > 0 ? w[nodes[i]] : 0;
    int equal = !(sum > 0) || !isfinite(sum);
    double cum = 0;
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        cum += equal ? 1 : (w[nodes[i]] > 0 ? w[nodes[i]] : 0);
        int64_t upto;
        if (i == n - 1)
            upto = magnitude;
        else {
            double t = (double)magnitude * (cum / (equal ? (double)n : sum));
            upto = t >= (double)magnitude ? magnitude : (int64_t)llround(t);
        }
        if (upto < given)
            upto = given;
        int64_t part = upto - given;
        given = upto;
        if (part)
            hs_node_add(r->p, nodes[i], weight, negative ? -part : part);
    }
}

static int fix_totals(reader *r) {
    size_t nodes = r->p->node_count;
    /* Nodes grouped by function: counting sort. */
    size_t *start = calloc(r->func_count + 1, sizeof *start);
    hs_id *sorted = malloc((nodes ? nodes : 1) * sizeof *sorted);
    hs_id *outer = malloc((nodes ? nodes : 1) * sizeof *outer);
    hs_id *inner = malloc((nodes ? nodes : 1) * sizeof *inner);
    int rc = -1;
    if (!start || !sorted || !outer || !inner)
        goto done;
    for (size_t i = 0; i < nodes; i++)
        if (i < r->node_cap && r->node_func[i] != UINT32_MAX)
            start[r->node_func[i] + 1]++;
    for (size_t f = 0; f < r->func_count; f++)
        start[f + 1] += start[f];
    {
        size_t *fill = calloc(r->func_count + 1, sizeof *fill);
        if (!fill)
            goto done;
        for (size_t i = 0; i < nodes; i++)
            if (i < r->node_cap && r->node_func[i] != UINT32_MAX) {
                uint32_t f = r->node_func[i];
                sorted[start[f] + fill[f]++] = (hs_id)i;
            }
        free(fill);
    }
    for (size_t f = 0; f < r->func_count; f++) {
        const func *fn = &r->funcs[f];
        size_t no = 0, ni = 0;
        for (size_t k = start[f]; k < start[f + 1]; k++) {
            hs_id n = sorted[k];
            if (r->node_inner[n])
                inner[ni++] = n;
            else
                outer[no++] = n;
        }
        int64_t primitive = ni ? fn->cc : fn->nc;
        apportion(r, outer, no, r->prov_calls, primitive, HS_W_CALLS);
        apportion(r, inner, ni, r->prov_calls, fn->nc - primitive, HS_W_CALLS);
        int64_t self_ns = (int64_t)llround(fn->tt * 1e9);
        /* all of the function's nodes, in one list */
        apportion(r, sorted + start[f], start[f + 1] - start[f], r->prov_self, self_ns, HS_W_WALL_NS);
    }
    rc = 0;
done:
    free(start);
    free(sorted);
    free(outer);
    free(inner);
    return rc;
}

static int build_tree(reader *r) {
    r->thread = hs_read_new_thread(r->p, "(pstats)", 8);
    if (r->thread == HS_NONE || ensure_node_arrays(r) < 0)
        return -1;
    /* Top-level functions: no known callers, or calls their callers do not
     * account for (a function called both from the top and from others). */
    for (size_t f = 0; f < r->func_count; f++) {
        const func *fn = &r->funcs[f];
        if (fn->in_count == 0) {
            if (expand_root(r, (uint32_t)f, 1.0, (double)fn->nc) < 0)
                return -1;
        } else if (fn->nc > fn->in_calls) {
            double top_calls = (double)(fn->nc - fn->in_calls);
            if (expand_root(r, (uint32_t)f, top_calls / (double)fn->nc, top_calls) < 0)
                return -1;
        }
    }
    /* Functions the expansion did not reach (only through cut branches, or
     * in a cycle nothing else calls) hang under the thread themselves. */
    for (size_t f = 0; f < r->func_count; f++)
        if (!r->funcs[f].has_node && expand_root(r, (uint32_t)f, 1.0, (double)r->funcs[f].nc) < 0)
            return -1;
    if (fix_totals(r) < 0)
        return -1;
    r->p->weights_present |= (1u << HS_W_CALLS) | (1u << HS_W_WALL_NS);
    if (hs_meta_set(r->p, "stacks", "estimated from pstats callers") < 0 ||
        hs_meta_set(r->p, "source", "pstats") < 0)
        return -1;
    return 0;
}

hs_profile *hs_read_pstats(const char *data, size_t len, char *err) {
    reader r;
    memset(&r, 0, sizeof r);
    err[0] = '\0';
    r.err = err;
    if (len == 0)
        return hs_read_error(err, "empty file");
    long top = hs_marshal_load(&r.m, data, len, err);
    hs_profile *result = NULL;
    if (top < 0)
        goto done;
    if (value(&r, (size_t)top)->type != HS_MV_DICT) {
        hs_read_error(err, "not a pstats file: the marshal data is a %s, not a dict",
                      hs_mv_type_name(value(&r, (size_t)top)->type));
        goto done;
    }
    r.p = hs_profile_new();
    if (!r.p) {
        hs_read_error(err, "out of memory");
        goto done;
    }
    const hs_mv *stats = value(&r, (size_t)top);
    if (read_functions(&r, stats) < 0 || read_edges(&r, stats) < 0)
        goto done;
    if (build_tree(&r) < 0) {
        if (!err[0])
            hs_read_error(err, "out of memory");
        goto done;
    }
    result = r.p;
    r.p = NULL;
done:
    hs_profile_free(r.p);
    hs_marshal_free(&r.m);
    free(r.funcs);
    free(r.func_of_frame);
    free(r.edges);
    free(r.out);
    free(r.node_func);
    free(r.node_inner);
    free(r.prov_calls);
    free(r.prov_self);
    free(r.stack);
    return result;
}
