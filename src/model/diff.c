/*
 * diff.c - two profiles merged for comparison (diff.h).
 *
 * AFTER is merged first, with its weights, so the tree's frames carry
 * AFTER's first lines; BEFORE's paths are then added without weights and
 * the node map it returns says where each BEFORE node landed. The tree is
 * complete at that point, so a clone of it with every self weight zeroed
 * and BEFORE's weights put back through the map is the "before" profile
 * with the same ids.
 */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "stats.h"

int hs_diff_build(const hs_profile *before, const hs_profile *after, hs_diff *out) {
    memset(out, 0, sizeof *out);
    hs_profile *merged = hs_profile_new();
    hs_merger *m = merged ? hs_merger_new(merged, 0) : NULL;
    hs_id *map = malloc((before->node_count ? before->node_count : 1) * sizeof *map);
    hs_profile *copy = NULL;
    int ok = m && map && hs_merger_add(m, after, 1, NULL) == 0 && hs_merger_add(m, before, 0, map) == 0;
    if (ok)
        copy = hs_profile_clone(merged);
    if (ok && copy) {
        for (size_t i = 0; i < copy->node_count; i++)
            memset(copy->nodes[i].self, 0, sizeof copy->nodes[i].self);
        for (size_t i = 0; i < before->node_count; i++)
            for (int w = 0; w < HS_W_COUNT; w++)
                copy->nodes[map[i]].self[w] =
                    hs_sat_add(copy->nodes[map[i]].self[w], before->nodes[i].self[w]);
        copy->weights_present = before->weights_present;
        for (size_t t = 0; t < copy->thread_count; t++)
            copy->threads[t].wall_ns = copy->threads[t].cpu_ns = 0;
        out->after = merged;
        out->before = copy;
        merged = NULL;
    } else {
        ok = 0;
    }
    hs_merger_free(m);
    hs_profile_free(merged);
    free(map);
    return ok ? 0 : -1;
}

void hs_diff_free(hs_diff *d) {
    if (d->after)
        hs_profile_free(d->after);
    if (d->before)
        hs_profile_free(d->before);
    memset(d, 0, sizeof *d);
}

static int64_t magnitude(int64_t v) {
    return v < 0 ? (v == INT64_MIN ? INT64_MAX : -v) : v;
}

static int cmp_rows(const void *pa, const void *pb) {
    const hs_diff_row *a = pa, *b = pb;
    int64_t da = magnitude(a->self_after - a->self_before), db = magnitude(b->self_after - b->self_before);
    if (da != db)
        return da > db ? -1 : 1;
    da = magnitude(a->total_after - a->total_before);
    db = magnitude(b->total_after - b->total_before);
    if (da != db)
        return da > db ? -1 : 1;
    /* Equal changes: the bigger function first, then a fixed order. */
    if (a->total_after != b->total_after)
        return a->total_after > b->total_after ? -1 : 1;
    return a->function < b->function ? -1 : a->function > b->function;
}

int hs_diff_rows(hs_diff *d, hs_weight w, hs_diff_row **rows, size_t *count, int64_t *whole_before,
                 int64_t *whole_after) {
    *rows = NULL;
    *count = 0;
    hs_stats sa, sb;
    if (hs_stats_compute(d->after, HS_ROOT, HS_W_COUNT, &sa) != 0)
        return -1;
    if (hs_stats_compute(d->before, HS_ROOT, HS_W_COUNT, &sb) != 0) {
        hs_stats_free(&sa);
        return -1;
    }
    /* Same tree, same walk: the two function lists are the same list. */
    int rc = -1;
    hs_diff_row *out = malloc((sa.func_count ? sa.func_count : 1) * sizeof *out);
    if (out && sa.func_count == sb.func_count) {
        size_t n = 0;
        for (size_t i = 0; i < sa.func_count; i++) {
            const hs_func_stats *a = &sa.funcs[i], *b = &sb.funcs[i];
            if (a->function != b->function)
                goto done;
            if (a->total[w] == 0 && b->total[w] == 0 && a->self[w] == 0 && b->self[w] == 0)
                continue;
            hs_diff_row *r = &out[n++];
            r->function = a->function;
            r->self_before = b->self[w];
            r->self_after = a->self[w];
            r->total_before = b->total[w];
            r->total_after = a->total[w];
            r->calls_before = b->calls;
            r->calls_after = a->calls;
        }
        qsort(out, n, sizeof *out, cmp_rows);
        *whole_before = sb.total[w];
        *whole_after = sa.total[w];
        *rows = out;
        *count = n;
        out = NULL;
        rc = 0;
    }
done:
    free(out);
    hs_stats_free(&sa);
    hs_stats_free(&sb);
    return rc;
}
