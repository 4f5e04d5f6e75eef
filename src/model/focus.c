/*
 * focus.c - the paths of a profile below one function (focus.h).
 *
 * One pass over the nodes in id order (a parent's id is smaller than its
 * children's, model.c), carrying two facts per node: its thread, and its
 * node in the new profile (HS_NONE while outside the focus). A node whose
 * parent is inside the focus goes under its parent's copy; a matching node
 * outside it starts a subtree under its thread's root, so every path that
 * reached the function from anywhere lands on the same node. A thread
 * kept whole has its root mapped from the start, so all of it is "inside".
 */
#include "focus.h"

#include <stdlib.h>
#include <string.h>

static int str_is(const hs_profile *p, hs_id id, const char *s, size_t len) {
    size_t n = 0;
    const char *t = hs_str(p, id, &n);
    return t != NULL && n == len && memcmp(t, s, len) == 0;
}

static hs_id copy_string(hs_profile *dst, const hs_profile *src, hs_id id) {
    size_t len = 0;
    const char *s = hs_str(src, id, &len);
    return hs_intern(dst, s ? s : "", s ? len : 0);
}

static hs_id copy_frame(hs_profile *dst, const hs_profile *src, hs_id frame) {
    const hs_frame *f = hs_frame_get(src, frame);
    hs_id name = copy_string(dst, src, f->name);
    hs_id file = copy_string(dst, src, f->file);
    if (name == HS_NONE || file == HS_NONE)
        return HS_NONE;
    return hs_frame_intern(dst, name, file, f->first_line, f->line, f->kind);
}

/* The root of src thread `index` in dst, the thread added on first use. */
static hs_id thread_root(hs_profile *dst, const hs_profile *src, size_t index, int *dst_index) {
    if (dst_index[index] < 0) {
        const hs_thread *t = &src->threads[index];
        const char *name = hs_str(src, t->name, NULL);
        int added = hs_thread_add(dst, name ? name : "", t->os_tid, t->ident);
        if (added < 0)
            return HS_NONE;
        dst->threads[added].wall_ns = t->wall_ns;
        dst->threads[added].cpu_ns = t->cpu_ns;
        dst_index[index] = added;
    }
    return dst->threads[dst_index[index]].root;
}

static int copy_meta(hs_profile *dst, const hs_profile *src) {
    for (size_t i = 0; i < src->meta_count; i++) {
        const char *k = hs_str(src, src->meta[i].key, NULL);
        const char *v = hs_str(src, src->meta[i].value, NULL);
        if (k && v && hs_meta_set(dst, k, v) != 0)
            return -1;
    }
    return 0;
}

static int is_whole(const hs_thread *t, const uint64_t *whole, size_t whole_count) {
    for (size_t i = 0; i < whole_count; i++)
        if (whole[i] == t->ident)
            return 1;
    return 0;
}

hs_profile *hs_profile_focus(const hs_profile *src, const char *name, size_t name_len, const char *file,
                             size_t file_len, const uint64_t *whole, size_t whole_count) {
    size_t n = src->node_count;
    hs_profile *dst = hs_profile_new();
    hs_id *map = malloc((n ? n : 1) * sizeof *map);
    int32_t *thread = malloc((n ? n : 1) * sizeof *thread);
    hs_id *frame_map = malloc((src->frame_count + 1) * sizeof *frame_map);
    signed char *matches = malloc(src->frame_count + 1);
    int *dst_index = malloc((src->thread_count + 1) * sizeof *dst_index);
    char *label = malloc(name_len + 1);
    int ok = dst && map && thread && frame_map && matches && dst_index && label;
    if (ok) {
        for (size_t i = 0; i < src->frame_count; i++) {
            const hs_frame *f = hs_frame_get(src, (hs_id)i);
            frame_map[i] = HS_NONE;
            matches[i] = f->kind != HS_KIND_THREAD && str_is(src, f->name, name, name_len) &&
                         (file == NULL || str_is(src, f->file, file, file_len));
        }
        for (size_t i = 0; i < src->thread_count; i++)
            dst_index[i] = -1;
        for (size_t i = 0; i < n; i++) {
            map[i] = HS_NONE;
            thread[i] = -1;
        }
        for (size_t i = 0; i < src->thread_count; i++)
            if (src->threads[i].root < n)
                thread[src->threads[i].root] = (int32_t)i;
    }
    for (size_t i = 1; ok && i < n; i++) {
        const hs_node *node = hs_node_get(src, (hs_id)i);
        if (node->parent >= i || node->frame >= src->frame_count) {
            ok = 0; /* not a model this file can walk */
            break;
        }
        if (thread[i] < 0)
            thread[i] = thread[node->parent];
        if (hs_frame_get(src, node->frame)->kind == HS_KIND_THREAD) {
            if (thread[i] >= 0 && is_whole(&src->threads[thread[i]], whole, whole_count)) {
                map[i] = thread_root(dst, src, (size_t)thread[i], dst_index);
                ok = map[i] != HS_NONE;
                for (int w = 0; ok && w < HS_W_COUNT; w++)
                    if (node->self[w])
                        hs_node_add(dst, map[i], (hs_weight)w, node->self[w]);
            }
            continue;
        }
        hs_id parent = map[node->parent];
        if (parent == HS_NONE) {
            if (!matches[node->frame] || thread[i] < 0)
                continue;
            parent = thread_root(dst, src, (size_t)thread[i], dst_index);
            if (parent == HS_NONE) {
                ok = 0;
                break;
            }
        }
        if (frame_map[node->frame] == HS_NONE)
            frame_map[node->frame] = copy_frame(dst, src, node->frame);
        hs_id copy = frame_map[node->frame] == HS_NONE ? HS_NONE : hs_node_child(dst, parent, frame_map[node->frame]);
        if (copy == HS_NONE) {
            ok = 0;
            break;
        }
        map[i] = copy;
        for (int w = 0; w < HS_W_COUNT; w++)
            if (node->self[w])
                hs_node_add(dst, copy, (hs_weight)w, node->self[w]);
    }
    if (ok) {
        dst->weights_present |= src->weights_present;
        memcpy(label, name, name_len);
        label[name_len] = '\0';
        ok = copy_meta(dst, src) == 0 && hs_meta_set(dst, "focus", label) == 0;
    }
    free(map);
    free(thread);
    free(frame_map);
    free(matches);
    free(dst_index);
    free(label);
    if (!ok) {
        hs_profile_free(dst);
        return NULL;
    }
    return dst;
}
