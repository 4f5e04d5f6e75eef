/*
 * merge_threads.c - one profile with every thread folded into one
 * (merge.h, hs_profile_merge_threads): what `--threads merged` shows.
 *
 * The copy has the same strings and frames (interned in the same order,
 * so with the same ids) and a single thread, "all threads", under whose
 * root the subtrees of every thread of the source are laid on top of each
 * other, path by path, their weights added. Everything that names a
 * thread follows: the thread's times (wall: the longest of them, since
 * they overlap; CPU and sampled states: summed), per-thread series
 * (summed point by point at equal times; the sampler's buckets are
 * aligned across threads) and slow calls. Line tables name frames only
 * and are copied as they are.
 */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_time(const void *a, const void *b) {
    const hs_point *x = a, *y = b;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

/* Series of the whole process are copied; those of threads are summed
 * into one series of thread 0 per (name, unit). 0 or -1. */
static int merge_series(hs_profile *p, const hs_profile *src) {
    for (size_t i = 0; i < src->series_count; i++) {
        const hs_series *s = &src->series[i];
        size_t name_len = 0, unit_len = 0;
        const char *name = hs_str(src, s->name, &name_len);
        const char *unit = hs_str(src, s->unit, &unit_len);
        if (s->thread < 0) {
            int index = hs_series_get(p, name, unit, -1);
            for (size_t k = 0; index >= 0 && k < s->count; k++)
                if (hs_series_push(p, index, s->points[k].t_ns, s->points[k].value) != 0)
                    return -1;
            if (index < 0)
                return -1;
            continue;
        }
        /* The first thread series of its (name, unit) gathers all of them. */
        int first = 1;
        size_t total = 0;
        for (size_t j = 0; j < src->series_count && first; j++) {
            const hs_series *o = &src->series[j];
            if (o->thread >= 0 && o->name == s->name && o->unit == s->unit) {
                if (j < i)
                    first = 0;
                total += o->count;
            }
        }
        if (!first)
            continue;
        hs_point *points = malloc((total ? total : 1) * sizeof *points);
        if (!points)
            return -1;
        size_t n = 0;
        for (size_t j = i; j < src->series_count; j++) {
            const hs_series *o = &src->series[j];
            if (o->thread >= 0 && o->name == s->name && o->unit == s->unit) {
                memcpy(points + n, o->points, o->count * sizeof *points);
                n += o->count;
            }
        }
        qsort(points, n, sizeof *points, by_time);
        int index = hs_series_get(p, name, unit, 0);
        int status = index < 0 ? -1 : 0;
        for (size_t k = 0; k < n && status == 0; k++) {
            int64_t value = points[k].value;
            while (k + 1 < n && points[k + 1].t_ns == points[k].t_ns)
                value = hs_sat_add(value, points[++k].value);
            status = hs_series_push(p, index, points[k].t_ns, value);
        }
        free(points);
        if (status != 0)
            return -1;
    }
    return 0;
}

hs_profile *hs_profile_merge_threads(const hs_profile *src) {
    hs_profile *p = hs_profile_new();
    hs_id *node_map = malloc((src->node_count ? src->node_count : 1) * sizeof *node_map);
    if (!p || !node_map)
        goto fail;
    for (size_t i = 0; i < src->strings.count; i++)
        if (hs_intern(p, src->strings.strings[i], src->strings.lengths[i]) != (hs_id)i)
            goto fail;
    for (size_t f = 0; f < src->frame_count; f++) {
        const hs_frame *fr = &src->frames[f];
        if (hs_frame_intern(p, fr->name, fr->file, fr->first_line, fr->line, fr->kind) != (hs_id)f)
            goto fail;
    }
    if (hs_thread_add(p, "all threads", 0, 0) != 0)
        goto fail;
    hs_thread *all = &p->threads[0];
    hs_id root = all->root;
    node_map[0] = HS_ROOT;
    for (size_t n = 1; n < src->node_count; n++) {
        const hs_node *nd = &src->nodes[n];
        int thread_root = nd->parent == HS_ROOT && src->frames[nd->frame].kind == HS_KIND_THREAD;
        hs_id parent = nd->parent == HS_ROOT ? root : node_map[nd->parent];
        hs_id m = thread_root ? root : hs_node_child(p, parent, nd->frame);
        if (m == HS_NONE)
            goto fail;
        node_map[n] = m;
        for (int w = 0; w < HS_W_COUNT; w++)
            if (nd->self[w])
                hs_node_add(p, m, (hs_weight)w, nd->self[w]);
    }
    p->weights_present |= src->weights_present;
    all = &p->threads[0];
    for (size_t t = 0; t < src->thread_count; t++) {
        const hs_thread *from = &src->threads[t];
        if (from->wall_ns > all->wall_ns)
            all->wall_ns = from->wall_ns;
        all->cpu_ns = hs_sat_add(all->cpu_ns, from->cpu_ns);
        for (int k = 0; k < HS_GIL_STATE_COUNT; k++)
            all->gil_states[k] = hs_sat_add(all->gil_states[k], from->gil_states[k]);
    }
    for (size_t i = 0; i < src->meta_count; i++) {
        size_t len = 0;
        const char *key = hs_str(src, src->meta[i].key, &len);
        const char *value = hs_str(src, src->meta[i].value, &len);
        if (hs_meta_set(p, key, value) != 0)
            goto fail;
    }
    char count[32];
    snprintf(count, sizeof count, "%zu", src->thread_count);
    if (hs_meta_set(p, "threads", "merged") != 0 || hs_meta_set(p, "threads_merged", count) != 0)
        goto fail;
    if (merge_series(p, src) != 0)
        goto fail;
    for (size_t i = 0; i < src->line_table_count; i++) {
        const hs_line_table *t = &src->line_tables[i];
        int index = hs_line_table_get(p, hs_str(src, t->name, NULL), hs_str(src, t->unit, NULL));
        if (index < 0)
            goto fail;
        for (size_t k = 0; k < t->count; k++)
            if (hs_line_table_push(p, index, t->rows[k].frame, t->rows[k].value) != 0)
                goto fail;
    }
    for (size_t i = 0; i < src->slow_call_count; i++) {
        hs_slow_call c = src->slow_calls[i];
        c.thread = 0;
        if (hs_slow_call_add(p, &c) != 0)
            goto fail;
    }
    free(node_map);
    return p;
fail:
    free(node_map);
    hs_profile_free(p);
    return NULL;
}
