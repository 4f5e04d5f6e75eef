/*
 * merge.c - adding one profile's call paths into another (merge.h).
 *
 * Node ids grow from parent to child (model.c), so one pass over src's
 * nodes in id order always finds a node's parent already placed in dst.
 * Each src frame is translated to a dst frame once (frame_map) and the
 * result reused for every node of that frame.
 *
 * Matching without the first line needs an index keyed by (kind, name,
 * file) alone. Rather than a second hash table, the keys are interned as
 * frames of a private key profile (first line and line 0), whose frame
 * index then hands out one dense id per key; key_to_frame maps that id to
 * the dst frame first seen with the key.
 */
#include "merge.h"

#include <stdlib.h>
#include <string.h>

struct hs_merger {
    hs_profile *dst;
    int match_first_line;
    int threads_by_name;  /* threads of every src matched by name, even with match_first_line */
    hs_profile *keys;     /* frames only: (kind, dst name, dst file) */
    hs_id *key_to_frame;  /* key frame id -> dst frame id */
    size_t key_cap;
};

hs_merger *hs_merger_new(hs_profile *dst, int match_first_line) {
    hs_merger *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->dst = dst;
    m->match_first_line = match_first_line;
    if (!match_first_line) {
        m->keys = hs_profile_new();
        if (!m->keys) {
            free(m);
            return NULL;
        }
    }
    return m;
}

int hs_merger_match_threads_by_name(hs_merger *m) {
    if (!m->keys && !(m->keys = hs_profile_new()))
        return -1;
    m->threads_by_name = 1;
    return 0;
}

void hs_merger_free(hs_merger *m) {
    if (!m)
        return;
    if (m->keys)
        hs_profile_free(m->keys);
    free(m->key_to_frame);
    free(m);
}

static hs_id copy_string(hs_profile *dst, const hs_profile *src, hs_id id) {
    size_t len = 0;
    const char *s = hs_str(src, id, &len);
    return hs_intern(dst, s ? s : "", s ? len : 0);
}

/* The slot of key_to_frame for (kind, name, file), grown as keys appear;
 * NULL on allocation failure. */
static hs_id *key_slot(hs_merger *m, hs_id name, hs_id file, hs_frame_kind kind) {
    hs_id key = hs_frame_intern(m->keys, name, file, 0, 0, kind);
    if (key == HS_NONE)
        return NULL;
    if (key >= m->key_cap) {
        size_t cap = m->key_cap ? m->key_cap * 2 : 256;
        while (cap <= key)
            cap *= 2;
        hs_id *grown = realloc(m->key_to_frame, cap * sizeof *grown);
        if (!grown)
            return NULL;
        for (size_t i = m->key_cap; i < cap; i++)
            grown[i] = HS_NONE;
        m->key_to_frame = grown;
        m->key_cap = cap;
    }
    return &m->key_to_frame[key];
}

static const hs_thread *thread_of_node(const hs_profile *p, hs_id node) {
    for (size_t i = 0; i < p->thread_count; i++)
        if (p->threads[i].root == node)
            return &p->threads[i];
    return NULL;
}

/* dst's node for a src thread node under the root: a thread of dst, added
 * when new. *dst_thread is set to it. HS_NONE on failure. */
static hs_id thread_node(hs_merger *m, const hs_profile *src, hs_id src_node, hs_id *frame_cache,
                         hs_thread **dst_thread) {
    hs_profile *dst = m->dst;
    const hs_frame *f = hs_frame_get(src, hs_node_get(src, src_node)->frame);
    hs_id name = copy_string(dst, src, f->name);
    if (name == HS_NONE)
        return HS_NONE;
    /* With match_first_line threads stay apart by index: frame_cache
     * (per src frame) finds a thread seen before. Without, or when asked
     * (hs_merger_match_threads_by_name), by name. */
    hs_id *slot = m->match_first_line && !m->threads_by_name ? &frame_cache[hs_node_get(src, src_node)->frame]
                                                              : key_slot(m, name, HS_NONE, HS_KIND_THREAD);
    if (!slot)
        return HS_NONE;
    if (*slot == HS_NONE) {
        const hs_thread *t = thread_of_node(src, src_node);
        size_t len = 0;
        const char *s = hs_str(dst, name, &len);
        int index = hs_thread_add(dst, s, t ? t->os_tid : 0, t ? t->ident : 0);
        if (index < 0)
            return HS_NONE;
        *slot = hs_node_get(dst, dst->threads[index].root)->frame;
    }
    hs_id node = hs_node_child(dst, HS_ROOT, *slot);
    *dst_thread = NULL;
    for (size_t i = 0; node != HS_NONE && i < dst->thread_count; i++)
        if (dst->threads[i].root == node)
            *dst_thread = &dst->threads[i];
    return node;
}

/* dst's frame for a (non-thread) src frame. HS_NONE on failure. */
static hs_id translate_frame(hs_merger *m, const hs_profile *src, hs_id frame) {
    hs_profile *dst = m->dst;
    hs_frame f = *hs_frame_get(src, frame);
    hs_id name = copy_string(dst, src, f.name);
    hs_id file = copy_string(dst, src, f.file);
    if (name == HS_NONE || file == HS_NONE)
        return HS_NONE;
    if (m->match_first_line)
        return hs_frame_intern(dst, name, file, f.first_line, 0, f.kind);
    hs_id *slot = key_slot(m, name, file, f.kind);
    if (!slot)
        return HS_NONE;
    if (*slot == HS_NONE)
        *slot = hs_frame_intern(dst, name, file, f.first_line, 0, f.kind);
    return *slot;
}

static int copy_meta(hs_profile *dst, const hs_profile *src) {
    for (size_t i = 0; i < src->meta_count; i++) {
        size_t klen, vlen;
        const char *k = hs_str(src, src->meta[i].key, &klen);
        const char *v = hs_str(src, src->meta[i].value, &vlen);
        if (k && v && !hs_meta_get(dst, k) && hs_meta_set(dst, k, v) != 0)
            return -1;
    }
    return 0;
}

int hs_merger_add(hs_merger *m, const hs_profile *src, int add_weights, hs_id *node_map) {
    hs_profile *dst = m->dst;
    size_t n = src->node_count;
    hs_id *map = node_map ? node_map : malloc((n ? n : 1) * sizeof *map);
    hs_id *frame_cache = malloc((src->frame_count + 1) * sizeof *frame_cache);
    int rc = -1;
    if (!map || !frame_cache)
        goto done;
    for (size_t i = 0; i <= src->frame_count; i++)
        frame_cache[i] = HS_NONE;
    map[HS_ROOT] = HS_ROOT;
    for (size_t i = 1; i < n; i++) {
        const hs_node *nd = hs_node_get(src, (hs_id)i);
        hs_id parent = map[nd->parent];
        hs_id node;
        hs_thread *thread = NULL;
        if (nd->frame >= src->frame_count)
            goto done;
        if (nd->parent == HS_ROOT && hs_frame_get(src, nd->frame)->kind == HS_KIND_THREAD) {
            node = thread_node(m, src, (hs_id)i, frame_cache, &thread);
            if (thread && add_weights) {
                const hs_thread *from = thread_of_node(src, (hs_id)i);
                if (from) {
                    thread->wall_ns = hs_sat_add(thread->wall_ns, from->wall_ns);
                    thread->cpu_ns = hs_sat_add(thread->cpu_ns, from->cpu_ns);
                    for (int k = 0; k < HS_GIL_STATE_COUNT; k++)
                        thread->gil_states[k] = hs_sat_add(thread->gil_states[k], from->gil_states[k]);
                }
            }
        } else {
            if (frame_cache[nd->frame] == HS_NONE)
                frame_cache[nd->frame] = translate_frame(m, src, nd->frame);
            if (frame_cache[nd->frame] == HS_NONE)
                goto done;
            node = hs_node_child(dst, parent, frame_cache[nd->frame]);
        }
        if (node == HS_NONE)
            goto done;
        map[i] = node;
        if (add_weights)
            for (int w = 0; w < HS_W_COUNT; w++)
                if (nd->self[w])
                    hs_node_add(dst, node, (hs_weight)w, nd->self[w]);
    }
    if (add_weights) {
        dst->weights_present |= src->weights_present;
        if (copy_meta(dst, src) != 0)
            goto done;
    }
    rc = 0;
done:
    if (map != node_map)
        free(map);
    free(frame_cache);
    return rc;
}

hs_profile *hs_profile_fold_lines(const hs_profile *src, hs_id *node_map) {
    hs_profile *dst = hs_profile_new();
    hs_merger *m = dst ? hs_merger_new(dst, 1) : NULL;
    if (!m || hs_merger_add(m, src, 1, node_map) != 0) {
        hs_merger_free(m);
        hs_profile_free(dst);
        return NULL;
    }
    hs_merger_free(m);
    return dst;
}
