/*
 * model.c - the profile model every engine fills and every renderer reads
 * (model.h): frames, the call tree, threads and metadata.
 *
 * Two choices shape this file:
 *   - Frames and (parent, frame) children are found through open-addressing
 *     indexes of ids, as in strtab.c, so engines intern a frame and step to
 *     a child in O(1) on every call event or sample.
 *   - Node ids are handed out in creation order and a node is only created
 *     under an existing parent, so a parent's id is always smaller than its
 *     children's. Totals are then one backwards pass over the node array,
 *     and walks follow parent/sibling links: nothing recurses, because
 *     real profiles (deep recursion, sampled C stacks) reach 100,000 frames.
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define HS_MIN_SLOTS 64

/* Returns `arr` grown to hold at least `count + 1` elements of `elem`
 * bytes (updating *cap), `arr` itself when it already does, or NULL on
 * failure with `arr` and *cap untouched. */
static void *grow_array(void *arr, size_t *cap, size_t elem, size_t count) {
    if (count < *cap)
        return arr;
    size_t n = *cap ? *cap * 2 : 16;
    if (n < *cap || n > SIZE_MAX / elem)
        return NULL;
    void *grown = realloc(arr, n * elem);
    if (grown == NULL)
        return NULL;
    *cap = n;
    return grown;
}

static hs_id *new_slots(size_t n) {
    if (n > SIZE_MAX / sizeof(hs_id))
        return NULL;
    hs_id *slots = malloc(n * sizeof(hs_id));
    if (slots == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        slots[i] = HS_NONE;
    return slots;
}

/* Whether an index holding `count` ids needs to grow before one more is
 * added (kept at most 2/3 full). */
static int index_full(size_t count, size_t slot_count) {
    return slot_count == 0 || (count + 1) * 3 > slot_count * 2;
}

/* ---- frames ---------------------------------------------------------- */

static uint64_t frame_hash(hs_id name, hs_id file, int32_t first_line, int32_t line,
                           hs_frame_kind kind) {
    uint64_t h = hs_hash_mix(0, name);
    h = hs_hash_mix(h, file);
    h = hs_hash_mix(h, (uint32_t)first_line);
    h = hs_hash_mix(h, (uint32_t)line);
    return hs_hash_mix(h, (uint64_t)kind);
}

/* Builds the frame index afresh with n slots (a power of two). */
static int frame_index_build(hs_profile *p, size_t n) {
    hs_id *slots = new_slots(n);
    if (slots == NULL)
        return -1;
    size_t mask = n - 1;
    for (size_t id = 0; id < p->frame_count; id++) {
        const hs_frame *f = &p->frames[id];
        size_t i = (size_t)frame_hash(f->name, f->file, f->first_line, f->line, f->kind) & mask;
        while (slots[i] != HS_NONE)
            i = (i + 1) & mask;
        slots[i] = (hs_id)id;
    }
    free(p->frame_slots);
    p->frame_slots = slots;
    p->frame_slot_count = n;
    return 0;
}

static int frame_index_grow(hs_profile *p) {
    size_t n = p->frame_slot_count ? p->frame_slot_count * 2 : HS_MIN_SLOTS;
    if (n < p->frame_slot_count)
        return -1;
    return frame_index_build(p, n);
}

hs_id hs_frame_intern(hs_profile *p, hs_id name, hs_id file, int32_t first_line,
                      int32_t line, hs_frame_kind kind) {
    uint64_t h = frame_hash(name, file, first_line, line, kind);
    if (p->frame_slot_count) {
        size_t mask = p->frame_slot_count - 1;
        for (size_t i = (size_t)h & mask; p->frame_slots[i] != HS_NONE; i = (i + 1) & mask) {
            const hs_frame *f = &p->frames[p->frame_slots[i]];
            if (f->name == name && f->file == file && f->first_line == first_line &&
                f->line == line && f->kind == kind)
                return p->frame_slots[i];
        }
    }
    if (p->frame_count >= (size_t)HS_NONE)
        return HS_NONE;
    hs_frame *frames = grow_array(p->frames, &p->frame_cap, sizeof *frames, p->frame_count);
    if (frames == NULL)
        return HS_NONE;
    p->frames = frames;
    if (index_full(p->frame_count, p->frame_slot_count) && frame_index_grow(p) != 0)
        return HS_NONE;
    hs_id id = (hs_id)p->frame_count++;
    hs_frame *f = &p->frames[id];
    f->name = name;
    f->file = file;
    f->first_line = first_line;
    f->line = line;
    f->kind = kind;
    size_t mask = p->frame_slot_count - 1;
    size_t i = (size_t)h & mask;
    while (p->frame_slots[i] != HS_NONE)
        i = (i + 1) & mask;
    p->frame_slots[i] = id;
    return id;
}

int hs_frames_truncate(hs_profile *p, size_t count) {
    if (count >= p->frame_count)
        return 0;
    size_t was = p->frame_count;
    p->frame_count = count;
    /* Open addressing cannot drop entries in place: index afresh. */
    if (frame_index_build(p, p->frame_slot_count ? p->frame_slot_count : HS_MIN_SLOTS) != 0) {
        p->frame_count = was;
        return -1;
    }
    return 0;
}

/* ---- nodes ----------------------------------------------------------- */

static uint64_t child_hash(hs_id parent, hs_id frame) {
    return hs_hash_mix(hs_hash_mix(0, parent), frame);
}

static void child_slot_put(hs_child_slot *slots, size_t mask, hs_child_slot e) {
    size_t i = (size_t)child_hash(e.parent, e.frame) & mask;
    while (slots[i].node != HS_NONE)
        i = (i + 1) & mask;
    slots[i] = e;
}

static int child_index_grow(hs_profile *p) {
    size_t n = p->child_slot_count ? p->child_slot_count * 2 : HS_MIN_SLOTS;
    if (n < p->child_slot_count || n > SIZE_MAX / sizeof(hs_child_slot))
        return -1;
    hs_child_slot *slots = malloc(n * sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        slots[i].node = HS_NONE;
    /* The old slots hold the keys: the nodes need not be read. */
    for (size_t i = 0; i < p->child_slot_count; i++)
        if (p->child_slots[i].node != HS_NONE)
            child_slot_put(slots, n - 1, p->child_slots[i]);
    free(p->child_slots);
    p->child_slots = slots;
    p->child_slot_count = n;
    return 0;
}

/* Appends a node without indexing it; HS_NONE on failure. */
static hs_id node_append(hs_profile *p, hs_id parent, hs_id frame) {
    if (p->node_count >= (size_t)HS_NONE)
        return HS_NONE;
    hs_node *nodes = grow_array(p->nodes, &p->node_cap, sizeof *nodes, p->node_count);
    if (nodes == NULL)
        return HS_NONE;
    p->nodes = nodes;
    hs_id id = (hs_id)p->node_count++;
    hs_node *nd = &p->nodes[id];
    memset(nd, 0, sizeof *nd);
    nd->parent = parent;
    nd->frame = frame;
    nd->first_child = HS_NONE;
    nd->next_sibling = HS_NONE;
    nd->last_child = HS_NONE;
    if (parent != HS_NONE) {
        hs_node *pn = &p->nodes[parent];
        if (pn->last_child == HS_NONE)
            pn->first_child = id;
        else
            p->nodes[pn->last_child].next_sibling = id;
        pn->last_child = id;
    }
    return id;
}

hs_id hs_node_child(hs_profile *p, hs_id parent, hs_id frame) {
    if (parent >= p->node_count || frame >= p->frame_count)
        return HS_NONE;
    uint64_t h = child_hash(parent, frame);
    if (p->child_slot_count) {
        size_t mask = p->child_slot_count - 1;
        for (size_t i = (size_t)h & mask; p->child_slots[i].node != HS_NONE; i = (i + 1) & mask) {
            if (p->child_slots[i].parent == parent && p->child_slots[i].frame == frame)
                return p->child_slots[i].node;
        }
    }
    /* Grow the index before creating the node, so a failure leaves no
     * node that the index cannot find. */
    if (index_full(p->node_count, p->child_slot_count) && child_index_grow(p) != 0)
        return HS_NONE;
    hs_id id = node_append(p, parent, frame);
    if (id == HS_NONE)
        return HS_NONE;
    child_slot_put(p->child_slots, p->child_slot_count - 1, (hs_child_slot){parent, frame, id});
    return id;
}

void hs_node_add(hs_profile *p, hs_id node, hs_weight w, int64_t value) {
    if (node >= p->node_count || (unsigned)w >= HS_W_COUNT)
        return;
    hs_node *nd = &p->nodes[node];
    nd->self[w] = hs_sat_add(nd->self[w], value);
    p->weights_present |= 1u << w;
}

hs_id hs_add_stack(hs_profile *p, const hs_id *frames, size_t depth,
                   const int64_t weights[HS_W_COUNT]) {
    hs_id node = HS_ROOT;
    for (size_t i = 0; i < depth; i++) {
        node = hs_node_child(p, node, frames[i]);
        if (node == HS_NONE)
            return HS_NONE;
    }
    if (weights != NULL) {
        for (int w = 0; w < HS_W_COUNT; w++)
            if (weights[w] != 0)
                hs_node_add(p, node, (hs_weight)w, weights[w]);
    }
    return node;
}

void hs_node_totals(const hs_profile *p, hs_weight w, int64_t *totals) {
    if ((unsigned)w >= HS_W_COUNT)
        return;
    size_t n = p->node_count;
    for (size_t i = 0; i < n; i++)
        totals[i] = p->nodes[i].self[w];
    /* Children have larger ids than their parent, so by the time node i is
     * reached going down, all its descendants have been folded into it. */
    for (size_t i = n; i-- > 1;) {
        hs_id parent = p->nodes[i].parent;
        totals[parent] = hs_sat_add(totals[parent], totals[i]);
    }
}

int hs_walk(const hs_profile *p, hs_id start, hs_visit_fn visit, void *ctx) {
    if (start >= p->node_count)
        return -1;
    /* Parent and sibling links are the stack: no allocation, no recursion. */
    hs_id n = start;
    size_t depth = 0;
    for (;;) {
        int skip = visit(p, n, depth, ctx);
        const hs_node *nd = &p->nodes[n];
        if (!skip && nd->first_child != HS_NONE) {
            n = nd->first_child;
            depth++;
            continue;
        }
        /* Climb until a node has a next sibling, never above `start`. */
        while (n != start && p->nodes[n].next_sibling == HS_NONE) {
            n = p->nodes[n].parent;
            depth--;
        }
        if (n == start)
            return 0;
        n = p->nodes[n].next_sibling;
    }
}

/* ---- profile, strings, threads, metadata ----------------------------- */

hs_profile *hs_profile_new(void) {
    hs_profile *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    hs_strtab_init(&p->strings);
    if (node_append(p, HS_NONE, HS_NONE) != HS_ROOT) {
        hs_profile_free(p);
        return NULL;
    }
    return p;
}

/* A copy of `count` items of `size` bytes, keeping capacity `cap`; NULL
 * when there is nothing to copy (then *ok stays set) or on failure. */
static void *copy_array(const void *src, size_t count, size_t cap, size_t size, int *ok) {
    if (!src || cap == 0)
        return NULL;
    void *dst = malloc(cap * size);
    if (!dst) {
        *ok = 0;
        return NULL;
    }
    memcpy(dst, src, count * size);
    return dst;
}

/* A new profile with src's strings and frames under the same ids (and
 * nothing else), or NULL; *ok cleared on failure. */
static hs_profile *copy_tables(const hs_profile *src, int *ok) {
    hs_profile *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    hs_strtab_init(&p->strings);
    /* Interning in id order into an empty table gives the same ids. */
    for (size_t i = 0; i < src->strings.count && *ok; i++)
        *ok = hs_strtab_intern(&p->strings, src->strings.strings[i], src->strings.lengths[i]) == (hs_id)i;
    p->frames = copy_array(src->frames, src->frame_count, src->frame_cap, sizeof *p->frames, ok);
    p->frame_count = src->frame_count;
    p->frame_cap = p->frames ? src->frame_cap : 0;
    p->frame_slots = copy_array(src->frame_slots, src->frame_slot_count, src->frame_slot_count,
                                sizeof *p->frame_slots, ok);
    p->frame_slot_count = p->frame_slots ? src->frame_slot_count : 0;
    return p;
}

hs_profile *hs_profile_tables_copy(const hs_profile *src) {
    int ok = 1;
    hs_profile *p = copy_tables(src, &ok);
    if (p != NULL && ok && node_append(p, HS_NONE, HS_NONE) == HS_ROOT)
        return p;
    hs_profile_free(p);
    return NULL;
}

hs_profile *hs_profile_clone(const hs_profile *src) {
    int ok = 1;
    hs_profile *p = copy_tables(src, &ok);
    if (p == NULL)
        return NULL;
    p->nodes = copy_array(src->nodes, src->node_count, src->node_cap, sizeof *p->nodes, &ok);
    p->node_count = src->node_count;
    p->node_cap = p->nodes ? src->node_cap : 0;
    p->child_slots = copy_array(src->child_slots, src->child_slot_count, src->child_slot_count,
                                sizeof *p->child_slots, &ok);
    p->child_slot_count = p->child_slots ? src->child_slot_count : 0;
    p->threads = copy_array(src->threads, src->thread_count, src->thread_cap, sizeof *p->threads, &ok);
    p->thread_count = src->thread_count;
    p->thread_cap = p->threads ? src->thread_cap : 0;
    p->meta = copy_array(src->meta, src->meta_count, src->meta_cap, sizeof *p->meta, &ok);
    p->meta_count = src->meta_count;
    p->meta_cap = p->meta ? src->meta_cap : 0;
    p->weights_present = src->weights_present;
    if (src->series_count) {
        p->series = calloc(src->series_count, sizeof *p->series);
        ok = ok && p->series != NULL;
        for (size_t i = 0; ok && i < src->series_count; i++) {
            const hs_series *from = &src->series[i];
            hs_series *to = &p->series[p->series_count++];
            *to = *from;
            to->points = copy_array(from->points, from->count, from->count, sizeof *to->points, &ok);
            to->cap = to->points ? from->count : 0;
            if (!to->points)
                to->count = 0;
        }
        p->series_cap = p->series_count;
    }
    if (ok && src->line_table_count) {
        p->line_tables = calloc(src->line_table_count, sizeof *p->line_tables);
        ok = p->line_tables != NULL;
        for (size_t i = 0; ok && i < src->line_table_count; i++) {
            const hs_line_table *from = &src->line_tables[i];
            hs_line_table *to = &p->line_tables[p->line_table_count++];
            *to = *from;
            to->rows = copy_array(from->rows, from->count, from->count, sizeof *to->rows, &ok);
            to->cap = to->rows ? from->count : 0;
            if (!to->rows)
                to->count = 0;
        }
        p->line_table_cap = p->line_table_count;
    }
    p->slow_calls = copy_array(src->slow_calls, src->slow_call_count, src->slow_call_count,
                               sizeof *p->slow_calls, &ok);
    p->slow_call_count = p->slow_calls ? src->slow_call_count : 0;
    p->slow_call_cap = p->slow_call_count;
    if (!ok) {
        hs_profile_free(p);
        return NULL;
    }
    return p;
}

void hs_profile_free(hs_profile *p) {
    if (p == NULL)
        return;
    hs_strtab_free(&p->strings);
    free(p->frames);
    free(p->frame_slots);
    free(p->nodes);
    free(p->child_slots);
    free(p->threads);
    free(p->meta);
    for (size_t i = 0; i < p->series_count; i++)
        free(p->series[i].points);
    free(p->series);
    for (size_t i = 0; i < p->line_table_count; i++)
        free(p->line_tables[i].rows);
    free(p->line_tables);
    free(p->slow_calls);
    free(p);
}

hs_id hs_intern(hs_profile *p, const char *s, size_t len) {
    return hs_strtab_intern(&p->strings, s, len);
}

hs_id hs_intern_cstr(hs_profile *p, const char *s) {
    if (s == NULL)
        return HS_NONE;
    return hs_strtab_intern(&p->strings, s, strlen(s));
}

const char *hs_str(const hs_profile *p, hs_id id, size_t *len) {
    return hs_strtab_get(&p->strings, id, len);
}

int hs_thread_add(hs_profile *p, const char *name, uint64_t os_tid, uint64_t ident) {
    if (p->thread_count >= INT32_MAX)
        return -1;
    int index = (int)p->thread_count;
    /* Room first: a failure after the node exists would leave a thread
     * frame with no thread entry. */
    hs_thread *threads = grow_array(p->threads, &p->thread_cap, sizeof *threads, p->thread_count);
    if (threads == NULL)
        return -1;
    p->threads = threads;
    hs_id name_id = hs_intern_cstr(p, name ? name : "");
    hs_id file_id = hs_intern(p, "", 0);
    if (name_id == HS_NONE || file_id == HS_NONE)
        return -1;
    hs_id frame = hs_frame_intern(p, name_id, file_id, (int32_t)index, 0, HS_KIND_THREAD);
    if (frame == HS_NONE)
        return -1;
    hs_id node = hs_node_child(p, HS_ROOT, frame);
    if (node == HS_NONE)
        return -1;
    hs_thread *t = &p->threads[p->thread_count++];
    t->name = name_id;
    t->os_tid = os_tid;
    t->ident = ident;
    t->root = node;
    t->wall_ns = 0;
    t->cpu_ns = 0;
    memset(t->gil_states, 0, sizeof t->gil_states);
    return index;
}

int hs_thread_rename(hs_profile *p, int index, const char *name, uint64_t os_tid) {
    if (index < 0 || (size_t)index >= p->thread_count)
        return -1;
    hs_id name_id = hs_intern_cstr(p, name ? name : "");
    if (name_id == HS_NONE)
        return -1;
    hs_thread *t = &p->threads[index];
    hs_frame *frame = &p->frames[p->nodes[t->root].frame];
    t->name = frame->name = name_id;
    t->os_tid = os_tid;
    /* the frame's name is part of its key in the index: rehash (rare) */
    return frame_index_build(p, p->frame_slot_count);
}

static int str_equals(const hs_profile *p, hs_id id, const char *s, size_t len) {
    size_t n;
    const char *t = hs_str(p, id, &n);
    return t != NULL && n == len && memcmp(t, s, len) == 0;
}

int hs_meta_set(hs_profile *p, const char *key, const char *value) {
    if (key == NULL || value == NULL)
        return -1;
    hs_id k = hs_intern_cstr(p, key);
    hs_id v = hs_intern_cstr(p, value);
    if (k == HS_NONE || v == HS_NONE)
        return -1;
    /* A handful of keys: a linear scan beats another index. */
    for (size_t i = 0; i < p->meta_count; i++) {
        if (p->meta[i].key == k) {
            p->meta[i].value = v;
            return 0;
        }
    }
    hs_meta *meta = grow_array(p->meta, &p->meta_cap, sizeof *meta, p->meta_count);
    if (meta == NULL)
        return -1;
    p->meta = meta;
    p->meta[p->meta_count].key = k;
    p->meta[p->meta_count].value = v;
    p->meta_count++;
    return 0;
}

const char *hs_meta_get(const hs_profile *p, const char *key) {
    if (key == NULL)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < p->meta_count; i++)
        if (str_equals(p, p->meta[i].key, key, len))
            return hs_str(p, p->meta[i].value, NULL);
    return NULL;
}

/* ---- slow calls ------------------------------------------------------ */

int hs_slow_call_add(hs_profile *p, const hs_slow_call *call) {
    hs_slow_call *calls = grow_array(p->slow_calls, &p->slow_call_cap, sizeof *calls, p->slow_call_count);
    if (calls == NULL)
        return -1;
    p->slow_calls = calls;
    p->slow_calls[p->slow_call_count++] = *call;
    return 0;
}

/* ---- series ---------------------------------------------------------- */

int hs_series_get(hs_profile *p, const char *name, const char *unit, int32_t thread) {
    hs_id name_id = hs_intern_cstr(p, name);
    hs_id unit_id = hs_intern_cstr(p, unit);
    if (name_id == HS_NONE || unit_id == HS_NONE || p->series_count >= INT32_MAX)
        return -1;
    /* A few series per thread at most: a scan is enough. */
    for (size_t i = 0; i < p->series_count; i++) {
        const hs_series *s = &p->series[i];
        if (s->name == name_id && s->unit == unit_id && s->thread == thread)
            return (int)i;
    }
    hs_series *series = grow_array(p->series, &p->series_cap, sizeof *series, p->series_count);
    if (series == NULL)
        return -1;
    p->series = series;
    hs_series *s = &p->series[p->series_count];
    memset(s, 0, sizeof *s);
    s->name = name_id;
    s->unit = unit_id;
    s->thread = thread;
    return (int)p->series_count++;
}

int hs_series_push(hs_profile *p, int index, int64_t t_ns, int64_t value) {
    if (index < 0 || (size_t)index >= p->series_count)
        return -1;
    hs_series *s = &p->series[index];
    hs_point *points = grow_array(s->points, &s->cap, sizeof *points, s->count);
    if (points == NULL)
        return -1;
    s->points = points;
    s->points[s->count].t_ns = t_ns;
    s->points[s->count].value = value;
    s->count++;
    return 0;
}

/* ---- weight names ----------------------------------------------------- */

const char *hs_weight_name(hs_weight w) {
    /* In hs_weight order: the names hotscope's JSON, the readers and the
     * Python API use for the weights. */
    static const char *const names[HS_W_COUNT] = {
        "calls", "wall_ns", "cpu_ns", "samples", "bytes", "allocs",
        "peak_bytes", "peak_allocs", "leak_bytes", "leak_allocs"};
    return (unsigned)w < HS_W_COUNT ? names[w] : NULL;
}

/* ---- line tables ------------------------------------------------------ */

int hs_line_table_get(hs_profile *p, const char *name, const char *unit) {
    hs_id name_id = hs_intern_cstr(p, name);
    hs_id unit_id = hs_intern_cstr(p, unit);
    if (name_id == HS_NONE || unit_id == HS_NONE || p->line_table_count >= INT32_MAX)
        return -1;
    for (size_t i = 0; i < p->line_table_count; i++) {
        const hs_line_table *t = &p->line_tables[i];
        if (t->name == name_id && t->unit == unit_id)
            return (int)i;
    }
    hs_line_table *tables = grow_array(p->line_tables, &p->line_table_cap, sizeof *tables,
                                       p->line_table_count);
    if (tables == NULL)
        return -1;
    p->line_tables = tables;
    hs_line_table *t = &p->line_tables[p->line_table_count];
    memset(t, 0, sizeof *t);
    t->name = name_id;
    t->unit = unit_id;
    return (int)p->line_table_count++;
}

int hs_line_table_push(hs_profile *p, int index, hs_id frame, int64_t value) {
    if (index < 0 || (size_t)index >= p->line_table_count || frame >= p->frame_count)
        return -1;
    hs_line_table *t = &p->line_tables[index];
    hs_line_value *rows = grow_array(t->rows, &t->cap, sizeof *rows, t->count);
    if (rows == NULL)
        return -1;
    t->rows = rows;
    t->rows[t->count].frame = frame;
    t->rows[t->count].value = value;
    t->count++;
    return 0;
}

int hs_line_table_find(const hs_profile *p, const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < p->line_table_count; i++)
        if (str_equals(p, p->line_tables[i].name, name, len))
            return (int)i;
    return -1;
}
