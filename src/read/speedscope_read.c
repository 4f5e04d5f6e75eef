/*
 * speedscope_read.c - speedscope files (hotscope's own, speedscope.c, and
 * those other tools write: py-spy, rbspy, Austin, speedscope's export)
 * into the model.
 *
 * The format is speedscope's src/lib/file-format-spec.ts: "shared.frames"
 * holds {name, file?, line?, col?}; each of "profiles" is
 *   sampled: "samples" (stacks of frame indexes, root-most first) and
 *            "weights" (one number per sample), or
 *   evented: "events" of {"type": "O" | "C", "at": number, "frame": index},
 *            the spec requiring "at" in non-decreasing order and every
 *            opened frame closed, in balanced order;
 * each with a "unit": none, nanoseconds, microseconds, milliseconds,
 * seconds or bytes. Each profile becomes one thread named after it.
 *
 * Weights: time units become wall nanoseconds (rounded to nearest), "none"
 * becomes samples and "bytes" bytes. An evented profile gives each frame
 * the time it spent on top of the stack as its self weight and counts its
 * openings as calls; times are converted once per event, relative to the
 * first event, so self times add up exactly to the span the events cover.
 * Names: a lone surrogate escape becomes U+FFFD (json.h).
 * Frames: no "file" is a synthetic frame, file "~" a builtin (pstats'
 * convention, which speedscope.c writes), anything else a Python function
 * whose first line is "line".
 *
 * Sampled stacks are walked from the previous sample's path where they
 * share a prefix, since consecutive samples mostly do: a file of a million
 * samples costs one step per frame that changed, not per frame.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "read.h"

/* A weight as written: exact when integral, converted once the unit is known. */
typedef struct {
    int64_t i; /* the value when `exact`, else unused */
    double d;
    int exact;
} raw_amount;

typedef struct {
    hs_json j;
    hs_profile *p;
    hs_id *frames;      /* speedscope frame index -> model frame */
    size_t frame_count;
    /* the previous sample's path, for prefix reuse */
    int64_t *prev_frames;
    hs_id *prev_nodes;
    size_t prev_depth, prev_cap;
    raw_amount *weights; /* the current profile's weights, as written */
    size_t weight_count, weight_cap;
    hs_id *leaves;      /* the current profile's sample nodes */
    size_t leaf_count, leaf_cap;
} reader;

static int key_is(const char *key, size_t len, const char *name) {
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

/* ---- frames ------------------------------------------------------------ */

static int read_frame(reader *r) {
    hs_json *j = &r->j;
    hs_buf name;
    hs_buf_init(&name);
    int has_name = 0, has_file = 0;
    hs_id file = HS_NONE;
    int64_t line = 0;
    const char *key;
    size_t klen;
    int more;
    if (hs_json_enter_object(j) < 0)
        return -1;
    while ((more = hs_json_next_member(j, &key, &klen)) == 1) {
        if (key_is(key, klen, "name")) {
            const char *s;
            size_t n;
            if (hs_json_read_string(j, &s, &n) < 0)
                break;
            name.len = 0;
            hs_buf_append(&name, s, n);
            has_name = 1;
        } else if (key_is(key, klen, "file")) {
            const char *s;
            size_t n;
            if (hs_json_read_string(j, &s, &n) < 0)
                break;
            file = hs_intern(r->p, s, n);
            has_file = 1;
        } else if (key_is(key, klen, "line")) {
            if (hs_json_read_int(j, &line) < 0)
                break;
            if (line < 0 || line > INT32_MAX) {
                hs_json_fail(j, "frame %zu: line %lld is out of range", r->frame_count, (long long)line);
                break;
            }
        } else if (hs_json_skip(j) < 0) /* "col", and members of later versions */
            break;
    }
    if (more == 0 && !has_name)
        hs_json_fail(j, "frame %zu has no \"name\"", r->frame_count);
    hs_id fid = HS_NONE;
    if (!j->failed) {
        hs_frame_kind kind = HS_KIND_OTHER;
        size_t flen = 0;
        const char *f = has_file ? hs_str(r->p, file, &flen) : NULL;
        if (has_file && file == HS_NONE)
            hs_json_fail(j, "out of memory");
        else if (f && flen == 1 && f[0] == '~')
            kind = HS_KIND_NATIVE;
        else if (f)
            kind = HS_KIND_PYTHON;
        if (!has_file)
            file = hs_intern(r->p, "", 0);
        hs_id nid = hs_intern(r->p, name.data ? name.data : "", name.len);
        if (!j->failed && (nid == HS_NONE || file == HS_NONE || name.failed))
            hs_json_fail(j, "out of memory");
        if (!j->failed) {
            fid = hs_frame_intern(r->p, nid, file, kind == HS_KIND_NATIVE ? 0 : (int32_t)line, 0, kind);
            if (fid == HS_NONE)
                hs_json_fail(j, "out of memory");
        }
    }
    hs_buf_free(&name);
    if (j->failed)
        return -1;
    r->frames[r->frame_count++] = fid;
    return 0;
}

static int read_frames(reader *r, hs_json_mark_t shared) {
    hs_json *j = &r->j;
    hs_json_seek(j, shared);
    if (hs_json_enter_object(j) < 0)
        return -1;
    const char *key;
    size_t klen;
    int more, found = 0;
    size_t cap = 0;
    while ((more = hs_json_next_member(j, &key, &klen)) == 1) {
        if (!key_is(key, klen, "frames")) {
            if (hs_json_skip(j) < 0)
                return -1;
            continue;
        }
        found = 1;
        if (hs_json_enter_array(j) < 0)
            return -1;
        int item;
        while ((item = hs_json_next_item(j)) == 1) {
            if (r->frame_count == cap) {
                cap = cap ? cap * 2 : 256;
                hs_id *grown = realloc(r->frames, cap * sizeof *grown);
                if (!grown)
                    return hs_json_fail(j, "out of memory");
                r->frames = grown;
            }
            if (read_frame(r) < 0)
                return -1;
        }
        if (item < 0)
            return -1;
    }
    if (more < 0)
        return -1;
    if (!found)
        return hs_json_fail(j, "\"shared\" has no \"frames\"");
    return 0;
}

/* ---- units ------------------------------------------------------------- */

typedef struct {
    const char *name;
    double scale;     /* to the model's unit */
    hs_weight weight;
} unit_info;

static const unit_info units[] = {
    {"none", 1, HS_W_SAMPLES},         {"nanoseconds", 1, HS_W_WALL_NS},
    {"microseconds", 1e3, HS_W_WALL_NS}, {"milliseconds", 1e6, HS_W_WALL_NS},
    {"seconds", 1e9, HS_W_WALL_NS},    {"bytes", 1, HS_W_BYTES},
};

/* ---- sampled profiles ---------------------------------------------------- */

static int convert(hs_json *j, const raw_amount *a, double scale, size_t index, size_t n, int64_t *out) {
    if (a->exact && scale == 1) {
        if (a->i < 0)
            return hs_json_fail(j, "profile %zu, sample %zu: negative weight", index, n);
        *out = a->i;
        return 0;
    }
    if (a->d < 0)
        return hs_json_fail(j, "profile %zu, sample %zu: negative weight", index, n);
    if (hs_read_scale(a->d, scale, out) < 0)
        return hs_json_fail(j, "profile %zu, sample %zu: weight out of range", index, n);
    return 0;
}

/* "weights" at the cursor, kept as written in r->weights. */
static int read_weights(reader *r) {
    hs_json *j = &r->j;
    r->weight_count = 0;
    if (hs_json_enter_array(j) < 0)
        return -1;
    int item;
    while ((item = hs_json_next_item(j)) == 1) {
        if (r->weight_count == r->weight_cap) {
            size_t cap = r->weight_cap ? r->weight_cap * 2 : 1024;
            raw_amount *grown = realloc(r->weights, cap * sizeof *grown);
            if (!grown)
                return hs_json_fail(j, "out of memory");
            r->weights = grown;
            r->weight_cap = cap;
        }
        raw_amount *a = &r->weights[r->weight_count];
        int exact = hs_json_read_number(j, &a->i, &a->d);
        if (exact < 0)
            return -1;
        a->exact = exact;
        r->weight_count++;
    }
    return item;
}

static int remember(reader *r, size_t depth, int64_t frame, hs_id node) {
    if (depth >= r->prev_cap) {
        size_t cap = r->prev_cap ? r->prev_cap * 2 : 64;
        int64_t *f = realloc(r->prev_frames, cap * sizeof *f);
        if (!f)
            return -1;
        r->prev_frames = f;
        hs_id *n = realloc(r->prev_nodes, cap * sizeof *n);
        if (!n)
            return -1;
        r->prev_nodes = n;
        r->prev_cap = cap;
    }
    r->prev_frames[depth] = frame;
    r->prev_nodes[depth] = node;
    return 0;
}

/* "samples" at the cursor: each stack's node under root, in r->leaves. */
static int read_samples(reader *r, size_t index, hs_id root) {
    hs_json *j = &r->j;
    if (hs_json_enter_array(j) < 0)
        return -1;
    r->prev_depth = 0;
    r->leaf_count = 0;
    int item;
    while ((item = hs_json_next_item(j)) == 1) {
        if (hs_json_enter_array(j) < 0)
            return -1;
        hs_id node = root;
        size_t depth = 0;
        int same = 1; /* still on the previous sample's path */
        int frame_item;
        while ((frame_item = hs_json_next_item(j)) == 1) {
            int64_t f;
            if (hs_json_read_int(j, &f) < 0)
                return -1;
            if (f < 0 || (uint64_t)f >= r->frame_count)
                return hs_json_fail(j, "profile %zu, sample %zu: frame %lld is not in \"shared.frames\" "
                                       "(%zu frames)", index, r->leaf_count, (long long)f, r->frame_count);
            if (same && depth < r->prev_depth && r->prev_frames[depth] == f) {
                node = r->prev_nodes[depth];
            } else {
                same = 0;
                node = hs_node_child(r->p, node, r->frames[f]);
                if (node == HS_NONE || remember(r, depth, f, node) < 0)
                    return hs_json_fail(j, "out of memory");
            }
            depth++;
        }
        if (frame_item < 0)
            return -1;
        r->prev_depth = depth;
        if (r->leaf_count == r->leaf_cap) {
            size_t cap = r->leaf_cap ? r->leaf_cap * 2 : 1024;
            hs_id *grown = realloc(r->leaves, cap * sizeof *grown);
            if (!grown)
                return hs_json_fail(j, "out of memory");
            r->leaves = grown;
            r->leaf_cap = cap;
        }
        r->leaves[r->leaf_count++] = node;
    }
    return item;
}

/* Adds each weight to its sample's node. */
static int apply_weights(reader *r, size_t index, const unit_info *unit) {
    hs_json *j = &r->j;
    if (r->leaf_count != r->weight_count)
        return hs_json_fail(j, "profile %zu: %zu samples but %zu weights", index, r->leaf_count, r->weight_count);
    for (size_t n = 0; n < r->leaf_count; n++) {
        int64_t v;
        if (convert(j, &r->weights[n], unit->scale, index, n, &v) < 0)
            return -1;
        if (v)
            hs_node_add(r->p, r->leaves[n], unit->weight, v);
    }
    return 0;
}

/* ---- evented profiles ---------------------------------------------------- */

typedef struct {
    char type;
    int has_at, has_frame;
    double at;
    int64_t frame;
} event;

static int read_event(reader *r, event *e) {
    hs_json *j = &r->j;
    e->type = 0;
    e->has_at = e->has_frame = 0;
    if (hs_json_enter_object(j) < 0)
        return -1;
    const char *key;
    size_t klen;
    int more;
    while ((more = hs_json_next_member(j, &key, &klen)) == 1) {
        if (key_is(key, klen, "type")) {
            const char *s;
            size_t n;
            if (hs_json_read_string(j, &s, &n) < 0)
                return -1;
            if (n != 1 || (s[0] != 'O' && s[0] != 'C'))
                return hs_json_fail(j, "an event's \"type\" is \"O\" or \"C\"");
            e->type = s[0];
        } else if (key_is(key, klen, "at")) {
            if (hs_json_read_double(j, &e->at) < 0)
                return -1;
            e->has_at = 1;
        } else if (key_is(key, klen, "frame")) {
            if (hs_json_read_int(j, &e->frame) < 0)
                return -1;
            e->has_frame = 1;
        } else if (hs_json_skip(j) < 0)
            return -1;
    }
    if (more < 0)
        return -1;
    if (!e->type || !e->has_at || !e->has_frame)
        return hs_json_fail(j, "an event needs \"type\", \"at\" and \"frame\"");
    return 0;
}

/* "events" at the cursor, under root. */
static int read_events(reader *r, size_t index, hs_id root, const unit_info *unit) {
    hs_json *j = &r->j;
    if (hs_json_enter_array(j) < 0)
        return -1;
    /* The open frames: r->prev_frames / prev_nodes serve as the stack. */
    size_t depth = 0, n = 0;
    double first_at = 0, last_at = 0;
    int64_t last_t = 0;
    int item;
    event e;
    while ((item = hs_json_next_item(j)) == 1) {
        if (read_event(r, &e) < 0)
            return -1;
        if (e.frame < 0 || (uint64_t)e.frame >= r->frame_count)
            return hs_json_fail(j, "profile %zu, event %zu: frame %lld is not in \"shared.frames\"", index, n,
                                (long long)e.frame);
        if (n == 0)
            first_at = last_at = e.at;
        if (e.at < last_at)
            return hs_json_fail(j, "profile %zu, event %zu: \"at\" goes back in time (%g after %g)", index, n,
                                e.at, last_at);
        int64_t t;
        if (hs_read_scale(e.at - first_at, unit->scale, &t) < 0)
            return hs_json_fail(j, "profile %zu, event %zu: \"at\" out of range", index, n);
        if (depth > 0 && t > last_t)
            hs_node_add(r->p, r->prev_nodes[depth - 1], unit->weight, t - last_t);
        if (e.type == 'O') {
            hs_id parent = depth ? r->prev_nodes[depth - 1] : root;
            hs_id node = hs_node_child(r->p, parent, r->frames[e.frame]);
            if (node == HS_NONE || remember(r, depth, e.frame, node) < 0)
                return hs_json_fail(j, "out of memory");
            hs_node_add(r->p, node, HS_W_CALLS, 1);
            depth++;
        } else {
            if (depth == 0)
                return hs_json_fail(j, "profile %zu, event %zu: closes frame %lld, but no frame is open", index,
                                    n, (long long)e.frame);
            if (r->prev_frames[depth - 1] != e.frame)
                return hs_json_fail(j, "profile %zu, event %zu: closes frame %lld, but frame %lld is the one open",
                                    index, n, (long long)e.frame, (long long)r->prev_frames[depth - 1]);
            depth--;
        }
        last_at = e.at;
        last_t = t;
        n++;
    }
    if (item < 0)
        return -1;
    if (depth)
        return hs_json_fail(j, "profile %zu: frame %lld is opened but never closed", index,
                            (long long)r->prev_frames[depth - 1]);
    r->p->weights_present |= 1u << HS_W_CALLS;
    return 0;
}

/* ---- profiles -------------------------------------------------------------- */

typedef struct {
    int type; /* 's' or 'e' once known */
    const unit_info *unit;
    hs_buf name;
    int has_name, has_start, has_end;
    double start_value, end_value;
    hs_id root;            /* the thread, once created */
    int has_samples, has_weights, has_events;
    /* samples or events met before the type, name and unit: [0] samples, [1] events */
    hs_json_mark_t deferred[2];
    int is_deferred[2];
} profile_state;

/* The profile's thread, created the first time its stacks are needed. */
static int ensure_thread(reader *r, profile_state *ps, size_t index) {
    if (ps->root != HS_NONE)
        return 0;
    char fallback[32];
    snprintf(fallback, sizeof fallback, "profile %zu", index);
    if (ps->name.failed)
        return hs_json_fail(&r->j, "out of memory");
    ps->root = ps->has_name ? hs_read_new_thread(r->p, ps->name.data ? ps->name.data : "", ps->name.len)
                            : hs_read_new_thread(r->p, fallback, strlen(fallback));
    if (ps->root == HS_NONE)
        return hs_json_fail(&r->j, "out of memory");
    return 0;
}

/* Stacks ("samples" or "events") at the cursor: read now if the type, the
 * name and the unit are known (the usual order), else remembered. */
static int stacks_member(reader *r, profile_state *ps, size_t index, int is_events) {
    if (!ps->type || !ps->unit || !ps->has_name) {
        ps->deferred[is_events] = hs_json_mark(&r->j);
        ps->is_deferred[is_events] = 1;
        return hs_json_skip(&r->j);
    }
    if ((ps->type == 'e') != is_events)
        return hs_json_skip(&r->j);
    if (ensure_thread(r, ps, index) < 0)
        return -1;
    return is_events ? read_events(r, index, ps->root, ps->unit) : read_samples(r, index, ps->root);
}

static int read_profile(reader *r, size_t index) {
    hs_json *j = &r->j;
    profile_state ps;
    memset(&ps, 0, sizeof ps);
    ps.root = HS_NONE;
    hs_buf_init(&ps.name);
    r->leaf_count = r->weight_count = 0;
    const char *key;
    size_t klen;
    int more;
    if (hs_json_enter_object(j) < 0) {
        hs_buf_free(&ps.name);
        return -1;
    }
    while ((more = hs_json_next_member(j, &key, &klen)) == 1) {
        const char *s;
        size_t n;
        if (key_is(key, klen, "type")) {
            if (hs_json_read_string(j, &s, &n) < 0)
                break;
            if (key_is(s, n, "sampled"))
                ps.type = 's';
            else if (key_is(s, n, "evented"))
                ps.type = 'e';
            else {
                hs_json_fail(j, "profile %zu: type \"%.40s\" is neither \"sampled\" nor \"evented\"", index, s);
                break;
            }
        } else if (key_is(key, klen, "name")) {
            if (hs_json_read_string(j, &s, &n) < 0)
                break;
            ps.name.len = 0;
            hs_buf_append(&ps.name, s, n);
            ps.has_name = 1;
        } else if (key_is(key, klen, "unit")) {
            if (hs_json_read_string(j, &s, &n) < 0)
                break;
            ps.unit = NULL;
            for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
                if (key_is(s, n, units[u].name))
                    ps.unit = &units[u];
            if (!ps.unit) {
                hs_json_fail(j, "profile %zu: unknown unit \"%.40s\"", index, s);
                break;
            }
        } else if (key_is(key, klen, "startValue")) {
            if (hs_json_read_double(j, &ps.start_value) < 0)
                break;
            ps.has_start = 1;
        } else if (key_is(key, klen, "endValue")) {
            if (hs_json_read_double(j, &ps.end_value) < 0)
                break;
            ps.has_end = 1;
        } else if (key_is(key, klen, "samples") || key_is(key, klen, "events")) {
            int is_events = key[0] == 'e';
            if (*(is_events ? &ps.has_events : &ps.has_samples)) {
                hs_json_fail(j, "profile %zu: member \"%s\" appears twice", index, is_events ? "events" : "samples");
                break;
            }
            *(is_events ? &ps.has_events : &ps.has_samples) = 1;
            if (stacks_member(r, &ps, index, is_events) < 0)
                break;
        } else if (key_is(key, klen, "weights")) {
            if (ps.has_weights) {
                hs_json_fail(j, "profile %zu: member \"weights\" appears twice", index);
                break;
            }
            ps.has_weights = 1;
            if (read_weights(r) < 0)
                break;
        } else if (hs_json_skip(j) < 0)
            break;
    }
    if (!j->failed && !ps.type)
        hs_json_fail(j, "profile %zu has no \"type\"", index);
    if (!j->failed && !ps.unit)
        hs_json_fail(j, "profile %zu has no \"unit\"", index);
    if (!j->failed && ps.type == 's' && !(ps.has_samples && ps.has_weights))
        hs_json_fail(j, "sampled profile %zu needs \"samples\" and \"weights\"", index);
    if (!j->failed && ps.type == 'e' && !ps.has_events)
        hs_json_fail(j, "evented profile %zu has no \"events\"", index);
    int events = ps.type == 'e';
    if (!j->failed && ensure_thread(r, &ps, index) == 0 && ps.is_deferred[events]) {
        /* Stacks that came before the type, name or unit: read them now. */
        hs_json_mark_t after = hs_json_mark(j);
        hs_json_seek(j, ps.deferred[events]);
        if ((events ? read_events(r, index, ps.root, ps.unit) : read_samples(r, index, ps.root)) == 0)
            hs_json_seek(j, after);
    }
    hs_buf_free(&ps.name);
    if (j->failed)
        return -1;
    r->p->weights_present |= 1u << ps.unit->weight;
    if (ps.has_start && ps.has_end && ps.end_value >= ps.start_value && ps.unit->weight == HS_W_WALL_NS) {
        int64_t span;
        if (hs_read_scale(ps.end_value - ps.start_value, ps.unit->scale, &span) == 0)
            r->p->threads[r->p->thread_count - 1].wall_ns = span;
    }
    if (ps.type == 's' && apply_weights(r, index, ps.unit) < 0)
        return -1;
    return 0;
}

static int read_profiles(reader *r, hs_json_mark_t at) {
    hs_json *j = &r->j;
    hs_json_seek(j, at);
    if (hs_json_enter_array(j) < 0)
        return -1;
    size_t index = 0;
    int item;
    while ((item = hs_json_next_item(j)) == 1)
        if (read_profile(r, index++) < 0)
            return -1;
    return item;
}

static int set_meta(reader *r, hs_json_mark_t at, const char *meta_key) {
    hs_json *j = &r->j;
    hs_json_seek(j, at);
    const char *s;
    size_t n;
    if (hs_json_read_string(j, &s, &n) < 0)
        return -1;
    /* Meta values are C strings: kept up to a NUL. scratch is NUL-terminated. */
    if (hs_meta_set(r->p, meta_key, s) < 0)
        return hs_json_fail(j, "out of memory");
    return 0;
}

hs_profile *hs_read_speedscope(const char *data, size_t len, char *err) {
    reader r;
    memset(&r, 0, sizeof r);
    err[0] = '\0';
    hs_json_init(&r.j, data, len, err, HS_READ_ERR_SIZE);
    hs_json *j = &r.j;
    /* Other tools' files: a name with a lone surrogate escape (a JavaScript
     * string cut inside a pair, say) is read with U+FFFD for it, as the
     * writers show a byte that is not UTF-8, not refused whole. */
    j->lone_surrogates_as_fffd = 1;
    r.p = hs_profile_new();
    if (!r.p) {
        hs_json_free(j);
        return hs_read_error(err, "out of memory");
    }
    hs_json_mark_t shared = {0, 0, 0}, profiles = {0, 0, 0}, name = {0, 0, 0}, exporter = {0, 0, 0};
    int has_shared = 0, has_profiles = 0, has_name = 0, has_exporter = 0, profiles_read = 0;
    if (hs_json_peek(j) != HS_JSON_OBJECT)
        hs_json_fail(j, "not a speedscope file: expected a JSON object");
    else if (hs_json_enter_object(j) == 0) {
        const char *key;
        size_t klen;
        int more;
        while ((more = hs_json_next_member(j, &key, &klen)) == 1) {
            hs_json_mark_t *m = NULL;
            int *seen = NULL;
            if (key_is(key, klen, "shared"))
                m = &shared, seen = &has_shared;
            else if (key_is(key, klen, "profiles"))
                m = &profiles, seen = &has_profiles;
            else if (key_is(key, klen, "name"))
                m = &name, seen = &has_name;
            else if (key_is(key, klen, "exporter"))
                m = &exporter, seen = &has_exporter;
            if (m) {
                if (*seen) {
                    hs_json_fail(j, "member \"%.40s\" appears twice", key);
                    break;
                }
                *seen = 1;
                *m = hs_json_mark(j);
            }
            /* The frames first; profiles at once when the frames are known
             * (the usual order), else once they are. */
            int rc = m == &shared ? read_frames(&r, shared)
                     : m == &profiles && has_shared ? (profiles_read = 1, read_profiles(&r, profiles))
                                                    : hs_json_skip(j);
            if (rc < 0)
                break;
        }
        if (more == 0)
            hs_json_finish(j);
    }
    if (!j->failed && (!has_shared || !has_profiles))
        hs_json_fail(j, "not a speedscope file: no \"%s\" member", has_shared ? "profiles" : "shared");
    if (!j->failed)
        (void)((profiles_read || read_profiles(&r, profiles) == 0) &&
               (!has_name || set_meta(&r, name, "command") == 0) &&
               (!has_exporter || set_meta(&r, exporter, "exporter") == 0));
    int ok = !j->failed;
    hs_json_free(j);
    free(r.frames);
    free(r.prev_frames);
    free(r.prev_nodes);
    free(r.weights);
    free(r.leaves);
    if (!ok) {
        if (!err[0])
            hs_read_error(err, "not a valid speedscope file");
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
