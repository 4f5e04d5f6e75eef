/*
 * narrow_merge.c - a call tree cut down to a budget of JSON bytes by
 * merging its narrowest paths (narrow_merge.h).
 *
 * Four linear passes over the nodes in id order (a parent's id is
 * smaller than its children's, model.c), no sort:
 *   1. each node's JSON record size; if they all fit, stop;
 *   2. each node's share of its thread (the root's child it descends
 *      from) in its widest weight, bucketed by quarter powers of two, and
 *      the bytes of each bucket: the threshold is read off those sums;
 *   3. which nodes stay at that threshold: a node stays when its parent
 *      stayed and its share is at least the threshold; the others fold
 *      into one merged node per kept parent, whose records are counted
 *      too (if they tip the total over, the threshold rises a step);
 *   4. the nodes to write, renumbered, with the merged nodes' weights.
 * Shares only shrink going down a path (a child's total is part of its
 * parent's), so the nodes kept are exactly those at or above the
 * threshold; the parent rule keeps the tree whole even if a weight were
 * negative. The root and the threads' nodes always stay; nodes right
 * under the root that are not threads are measured against the root.
 */
#include "narrow_merge.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 256 /* bucket b: shares in [2^-(b+1)/4, 2^-b/4); the last also holds 0 */
#define FORCED 0    /* the bucket of the root and the threads' nodes */

static unsigned digits(uint64_t v) {
    unsigned n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static unsigned int_digits(int64_t v) {
    return v < 0 ? 1 + digits((uint64_t)0 - (uint64_t)v) : digits((uint64_t)v);
}

/* The length of a node's record in the "nodes" array of model_json.c:
 * ",parent,frame" then ",value" per weight. */
static unsigned record_bytes(hs_id parent, hs_id frame, const int64_t *self, const hs_weight *present,
                             int np) {
    unsigned n = 3 + digits(parent) + digits(frame);
    for (int k = 0; k < np; k++)
        n += 1 + int_digits(self[present[k]]);
    return n;
}

/* t[b], the smallest share of bucket b; t[BUCKETS - 1] = 0. Repeated
 * multiplication rather than pow(): no libm for one table. */
static void fill_thresholds(double *t) {
    double s = 1.0;
    for (int b = 0; b < BUCKETS - 1; b++) {
        s *= 0.8408964152537145; /* 2^-1/4 */
        t[b] = s;
    }
    t[BUCKETS - 1] = 0.0;
}

/* The first bucket whose threshold the share reaches (t decreases). */
static unsigned char bucket_of(double share, const double *t) {
    if (!(share > 0.0))
        return BUCKETS - 1;
    int lo = 0, hi = BUCKETS - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (share >= t[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return (unsigned char)lo;
}

typedef struct {
    const hs_profile *p;
    const hs_weight *present;
    int np;
    int64_t *totals;      /* node by node, np apiece */
    unsigned char *bucket;
    unsigned short *bytes; /* each node's record, capped (a record is under 300 bytes) */
    unsigned char *kept;
    unsigned char *has_merged;
    size_t kept_count, merged_count;
} fit_ctx;

/* Pass 3: which nodes stay when buckets up to `last` do; the bytes of the
 * records written then. */
static size_t keep(fit_ctx *c, int last) {
    const hs_profile *p = c->p;
    size_t n = p->node_count, total = 0;
    memset(c->has_merged, 0, n);
    c->kept[0] = 1;
    c->kept_count = 1;
    c->merged_count = 0;
    for (size_t i = 1; i < n; i++) {
        hs_id parent = p->nodes[i].parent;
        if (c->kept[parent] && c->bucket[i] <= last) {
            c->kept[i] = 1;
            c->kept_count++;
            total += c->bytes[i];
            continue;
        }
        c->kept[i] = 0;
        if (c->kept[parent] && !c->has_merged[parent]) {
            c->has_merged[parent] = 1;
            c->merged_count++;
            /* A merged node's weights are at most its parent's totals. */
            unsigned rec = 3 + digits(parent) + digits(p->frame_count);
            for (int k = 0; k < c->np; k++)
                rec += 1 + int_digits(c->totals[(size_t)parent * (size_t)c->np + (size_t)k]);
            total += rec;
        }
    }
    return total;
}

/* Pass 4: the nodes to write. */
static int build(fit_ctx *c, hs_node_view *v) {
    const hs_profile *p = c->p;
    size_t n = p->node_count, count = c->kept_count + c->merged_count;
    size_t np = (size_t)c->np;
    hs_id *merged_of = malloc(n * sizeof *merged_of), *owner = malloc(n * sizeof *owner);
    v->parent = malloc(count * sizeof *v->parent);
    v->frame = malloc(count * sizeof *v->frame);
    v->self = calloc(count * np + 1, sizeof *v->self);
    v->written = malloc(n * sizeof *v->written);
    int rc = -1;
    if (!merged_of || !owner || !v->parent || !v->frame || !v->self || !v->written)
        goto done;
    memset(merged_of, 0xFF, n * sizeof *merged_of); /* HS_NONE */
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        const hs_node *nd = &p->nodes[i];
        if (c->kept[i]) {
            v->written[i] = (hs_id)j;
            v->parent[j] = i ? v->written[nd->parent] : HS_NONE;
            v->frame[j] = nd->frame;
            for (size_t k = 0; k < np; k++)
                v->self[j * np + k] = nd->self[c->present[k]];
            j++;
            continue;
        }
        v->written[i] = HS_NONE;
        hs_id o;
        if (c->kept[nd->parent]) {
            o = merged_of[nd->parent];
            if (o == HS_NONE) {
                o = (hs_id)j++;
                merged_of[nd->parent] = o;
                v->parent[o] = v->written[nd->parent];
                v->frame[o] = HS_NONE;
                v->merged_nodes++;
            }
        } else {
            o = owner[nd->parent];
        }
        owner[i] = o;
        for (size_t k = 0; k < np; k++)
            v->self[(size_t)o * np + k] = hs_sat_add(v->self[(size_t)o * np + k], nd->self[c->present[k]]);
        v->merged_away++;
    }
    v->count = j;
    rc = 0;
done:
    free(merged_of);
    free(owner);
    return rc;
}

void hs_node_view_free(hs_node_view *v) {
    free(v->parent);
    free(v->frame);
    free(v->self);
    free(v->written);
    memset(v, 0, sizeof *v);
}

int hs_node_view_fit(const hs_profile *p, size_t budget, hs_node_view *v) {
    memset(v, 0, sizeof *v);
    for (int w = 0; w < HS_W_COUNT; w++)
        if (p->weights_present & (1u << w))
            v->present[v->npresent++] = (hs_weight)w;
    size_t n = p->node_count, np = (size_t)v->npresent;
    fit_ctx c = {.p = p, .present = v->present, .np = v->npresent};

    /* Pass 1: does it fit as it is? (The common case: stop here.) */
    size_t all = 0;
    for (size_t i = 1; i < n; i++)
        all += record_bytes(p->nodes[i].parent, p->nodes[i].frame, p->nodes[i].self, v->present, v->npresent);
    if (all <= budget)
        return 0;

    int rc = -1;
    c.totals = calloc(n * np + 1, sizeof *c.totals);
    hs_id *top = malloc(n * sizeof *top);
    c.bucket = malloc(n);
    c.bytes = malloc(n * sizeof *c.bytes);
    c.kept = malloc(n);
    c.has_merged = malloc(n);
    if (!c.totals || !top || !c.bucket || !c.bytes || !c.kept || !c.has_merged)
        goto done;

    /* Pass 2: totals (children after parents, so backwards), each node's
     * thread, share, bucket, and the bytes per bucket. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < np; k++)
            c.totals[i * np + k] = p->nodes[i].self[v->present[k]];
    for (size_t i = n; i-- > 1;)
        for (size_t k = 0; k < np; k++) {
            int64_t *to = &c.totals[(size_t)p->nodes[i].parent * np + k];
            *to = hs_sat_add(*to, c.totals[i * np + k]);
        }
    double t[BUCKETS];
    fill_thresholds(t);
    size_t in_bucket[BUCKETS] = {0};
    top[0] = 0;
    c.bucket[0] = FORCED;
    for (size_t i = 1; i < n; i++) {
        hs_id parent = p->nodes[i].parent;
        /* A thread's node is its own top; anything else right under the
         * root is measured against the whole profile. */
        int thread = parent == HS_ROOT && p->frames[p->nodes[i].frame].kind == HS_KIND_THREAD;
        top[i] = thread ? (hs_id)i : top[parent];
        unsigned rec = record_bytes(parent, p->nodes[i].frame, p->nodes[i].self, v->present, v->npresent);
        c.bytes[i] = (unsigned short)(rec < 65535 ? rec : 65535);
        double share = 0.0;
        for (size_t k = 0; k < np; k++) {
            int64_t whole = c.totals[(size_t)top[i] * np + k];
            if (whole > 0) {
                double s = (double)c.totals[i * np + k] / (double)whole;
                share = s > share ? s : share;
            }
        }
        c.bucket[i] = thread ? FORCED : bucket_of(share, t);
    }
    /* Threads' nodes stay whatever a reader made of them (the JSON names
     * them), and so do the nodes above them. */
    for (size_t k = 0; k < p->thread_count; k++)
        for (hs_id a = p->threads[k].root; a != HS_ROOT && a < n; a = p->nodes[a].parent)
            c.bucket[a] = FORCED;
    for (size_t i = 1; i < n; i++)
        in_bucket[c.bucket[i]] += c.bytes[i];

    /* The widest buckets whose records fit, then (pass 3) narrower
     * thresholds until the merged nodes fit too. */
    int last = 0;
    size_t sum = in_bucket[0];
    while (last + 1 < BUCKETS && sum + in_bucket[last + 1] <= budget)
        sum += in_bucket[++last];
    while (keep(&c, last) > budget && last > 0)
        last--;
    v->share = t[last];
    rc = build(&c, v);

done:
    free(c.totals);
    free(top);
    free(c.bucket);
    free(c.bytes);
    free(c.kept);
    free(c.has_merged);
    if (rc != 0)
        hs_node_view_free(v);
    return rc;
}
