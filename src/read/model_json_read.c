/*
 * model_json_read.c - hotscope's own JSON (written by model_json.c, whose
 * header documents the layout) back into a profile, exactly: the same
 * strings, frames, nodes with their self weights, threads, metadata and
 * series, line tables, slow calls.
 *
 * Nothing in the file is trusted. Members may come in any order (each is
 * found first, then read in the order ids depend on: strings, frames,
 * nodes, threads, series, line tables), and every id is checked against what it
 * names: string ids against "strings", frame ids against "frames", a
 * node's parent against the nodes before it (so parent links can form no
 * cycle), thread roots against the nodes under the root, and the node
 * array against its record stride.
 *
 * Ids in the file are mapped to ids in the new profile rather than
 * assumed equal: the model interns, so two equal strings (e.g. two names
 * that differed only in invalid UTF-8, both written as U+FFFD) become one,
 * and stacks that become equal merge, adding their weights.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "read.h"

enum {
    M_FORMAT,
    M_VERSION,
    M_META,
    M_WEIGHTS,
    M_STRINGS,
    M_FRAMES,
    M_NODES,
    M_THREADS,
    M_SERIES,
    M_LINE_TABLES,
    M_SLOW_CALLS,
    M_COUNT
};
static const char *const member_names[M_COUNT] = {"format", "version", "meta", "weights", "strings",
                                                  "frames", "nodes", "threads", "series",
                                                  "line_tables", "slow_calls"};

typedef struct {
    hs_json j;
    hs_profile *p;
    hs_json_mark_t at[M_COUNT];
    int seen[M_COUNT];
    hs_weight weights[HS_W_COUNT]; /* the file's weight columns */
    int weight_count;
    hs_id *string_map; /* file string id -> profile string id */
    size_t string_count;
    hs_id *frame_map;
    size_t frame_count;
    hs_id *node_map;   /* file node id -> profile node id; [0] = root */
    size_t node_count;
} reader;

static int key_is(const char *key, size_t len, const char *name) {
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

static int goto_member(reader *r, int m) {
    hs_json_seek(&r->j, r->at[m]);
    return 0;
}

static int read_strings(reader *r) {
    hs_json *j = &r->j;
    goto_member(r, M_STRINGS);
    if (hs_json_enter_array(j) < 0)
        return -1;
    size_t cap = 0;
    int more;
    while ((more = hs_json_next_item(j)) == 1) {
        const char *s;
        size_t len;
        if (hs_json_read_string(j, &s, &len) < 0)
            return -1;
        if (r->string_count == cap) {
            cap = cap ? cap * 2 : 256;
            hs_id *grown = realloc(r->string_map, cap * sizeof *grown);
            if (!grown)
                return hs_json_fail(j, "out of memory");
            r->string_map = grown;
        }
        hs_id id = hs_intern(r->p, s, len);
        if (id == HS_NONE)
            return hs_json_fail(j, "out of memory");
        r->string_map[r->string_count++] = id;
    }
    return more;
}

static int read_string_id(reader *r, const char *what, hs_id *out) {
    int64_t v;
    if (hs_json_read_int(&r->j, &v) < 0)
        return -1;
    if (v < 0 || (uint64_t)v >= r->string_count)
        return hs_json_fail(&r->j, "%s: string id %lld is not in \"strings\" (%zu strings)", what,
                            (long long)v, r->string_count);
    *out = r->string_map[v];
    return 0;
}

static int read_int32(hs_json *j, const char *what, int32_t *out) {
    int64_t v;
    if (hs_json_read_int(j, &v) < 0)
        return -1;
    if (v < INT32_MIN || v > INT32_MAX)
        return hs_json_fail(j, "%s %lld is out of range", what, (long long)v);
    *out = (int32_t)v;
    return 0;
}

static int parse_kind(hs_json *j, hs_frame_kind *kind) {
    const char *s;
    size_t len;
    if (hs_json_read_string(j, &s, &len) < 0)
        return -1;
    static const char *const kinds[] = {"python", "native", "thread", "other"};
    for (int k = 0; k < 4; k++)
        if (key_is(s, len, kinds[k])) {
            *kind = (hs_frame_kind)k;
            return 0;
        }
    return hs_json_fail(j, "unknown frame kind (python, native, thread or other)");
}

static int read_frames(reader *r) {
    hs_json *j = &r->j;
    goto_member(r, M_FRAMES);
    if (hs_json_enter_array(j) < 0)
        return -1;
    size_t cap = 0;
    int more;
    while ((more = hs_json_next_item(j)) == 1) {
        hs_id name = HS_NONE, file = HS_NONE;
        int32_t first_line = 0, line = 0;
        hs_frame_kind kind = HS_KIND_OTHER;
        if (hs_json_enter_array(j) < 0 || hs_json_next_item(j) != 1 ||
            read_string_id(r, "frame name", &name) < 0 || hs_json_next_item(j) != 1 ||
            read_string_id(r, "frame file", &file) < 0 || hs_json_next_item(j) != 1 ||
            read_int32(j, "first line", &first_line) < 0 || hs_json_next_item(j) != 1 ||
            read_int32(j, "line", &line) < 0 || hs_json_next_item(j) != 1 || parse_kind(j, &kind) < 0)
            return j->failed ? -1 : hs_json_fail(j, "a frame is [name, file, first_line, line, kind, category]");
        /* The category is derived from the frame (classify.c): checked, not kept. */
        int rest = hs_json_next_item(j);
        if (rest == 1) {
            const char *s;
            size_t len;
            if (hs_json_read_string(j, &s, &len) < 0)
                return -1;
            rest = hs_json_next_item(j);
        }
        if (rest != 0)
            return j->failed ? -1 : hs_json_fail(j, "a frame has at most 6 items");
        if (r->frame_count == cap) {
            cap = cap ? cap * 2 : 256;
            hs_id *grown = realloc(r->frame_map, cap * sizeof *grown);
            if (!grown)
                return hs_json_fail(j, "out of memory");
            r->frame_map = grown;
        }
        hs_id id = hs_frame_intern(r->p, name, file, first_line, line, kind);
        if (id == HS_NONE)
            return hs_json_fail(j, "out of memory");
        r->frame_map[r->frame_count++] = id;
    }
    return more;
}

static int read_weights(reader *r) {
    hs_json *j = &r->j;
    goto_member(r, M_WEIGHTS);
    if (hs_json_enter_array(j) < 0)
        return -1;
    int more;
    unsigned seen = 0;
    while ((more = hs_json_next_item(j)) == 1) {
        const char *s;
        size_t len;
        if (hs_json_read_string(j, &s, &len) < 0)
            return -1;
        hs_weight w = hs_read_weight_named(s, len);
        if (w == HS_W_COUNT)
            return hs_json_fail(j, "unknown weight \"%.40s\"", s);
        if (seen & (1u << w))
            return hs_json_fail(j, "weight \"%.40s\" listed twice", s);
        seen |= 1u << w;
        r->weights[r->weight_count++] = w;
        r->p->weights_present |= 1u << w;
    }
    return more;
}

static int read_nodes(reader *r) {
    hs_json *j = &r->j;
    goto_member(r, M_NODES);
    if (hs_json_enter_array(j) < 0)
        return -1;
    size_t stride = 2 + (size_t)r->weight_count;
    size_t cap = 256, field = 0;
    r->node_map = malloc(cap * sizeof *r->node_map);
    if (!r->node_map)
        return hs_json_fail(j, "out of memory");
    r->node_map[0] = HS_ROOT;
    r->node_count = 1;
    hs_id node = HS_NONE, parent_node = HS_NONE;
    int more;
    while ((more = hs_json_next_item(j)) == 1) {
        int64_t v;
        if (hs_json_read_int(j, &v) < 0)
            return -1;
        size_t id = r->node_count; /* the file id of the record being read */
        if (field == 0) {
            if (v < 0 || (uint64_t)v >= id)
                return hs_json_fail(j, "node %zu: parent %lld is not an earlier node", id, (long long)v);
            parent_node = r->node_map[v];
        } else if (field == 1) {
            if (v < 0 || (uint64_t)v >= r->frame_count)
                return hs_json_fail(j, "node %zu: frame id %lld is not in \"frames\" (%zu frames)", id,
                                    (long long)v, r->frame_count);
            node = hs_node_child(r->p, parent_node, r->frame_map[v]);
            if (node == HS_NONE)
                return hs_json_fail(j, "out of memory");
        } else if (v != 0) {
            hs_node_add(r->p, node, r->weights[field - 2], v);
        }
        if (++field == stride) {
            field = 0;
            if (r->node_count == cap) {
                cap *= 2;
                hs_id *grown = realloc(r->node_map, cap * sizeof *grown);
                if (!grown)
                    return hs_json_fail(j, "out of memory");
                r->node_map = grown;
            }
            r->node_map[r->node_count++] = node;
        }
    }
    if (more == 0 && field != 0)
        return hs_json_fail(j, "\"nodes\" ends inside a record (records are %zu numbers: parent, frame "
                               "and one per weight)", stride);
    return more;
}

/* Reads an object member by member; `member` handles each one and returns
 * 0 when it read the value, 1 when it did not know the name (skipped). */
typedef int (*member_fn)(reader *r, const char *key, size_t len, void *ctx);

static int read_object(reader *r, member_fn member, void *ctx) {
    hs_json *j = &r->j;
    if (hs_json_enter_object(j) < 0)
        return -1;
    const char *key;
    size_t len;
    int more;
    while ((more = hs_json_next_member(j, &key, &len)) == 1) {
        int rc = member(r, key, len, ctx);
        if (rc < 0)
            return -1;
        if (rc == 1 && hs_json_skip(j) < 0)
            return -1;
    }
    return more;
}

typedef struct {
    const char *s;
    size_t len;
    hs_buf name;
    int has_name, has_root;
    uint64_t os_tid, ident, root;
    int64_t wall_ns, cpu_ns;
    int64_t gil_states[HS_GIL_STATE_COUNT];
} thread_fields;

static int thread_member(reader *r, const char *key, size_t len, void *ctx) {
    thread_fields *t = ctx;
    hs_json *j = &r->j;
    if (key_is(key, len, "name")) {
        const char *s;
        size_t n;
        if (hs_json_read_string(j, &s, &n) < 0)
            return -1;
        t->name.len = 0;
        hs_buf_append(&t->name, s, n);
        t->has_name = 1;
        return 0;
    }
    if (key_is(key, len, "os_tid"))
        return hs_json_read_uint(j, &t->os_tid);
    if (key_is(key, len, "ident"))
        return hs_json_read_uint(j, &t->ident);
    if (key_is(key, len, "root")) {
        t->has_root = 1;
        return hs_json_read_uint(j, &t->root);
    }
    if (key_is(key, len, "wall_ns"))
        return hs_json_read_int(j, &t->wall_ns);
    if (key_is(key, len, "cpu_ns"))
        return hs_json_read_int(j, &t->cpu_ns);
    if (key_is(key, len, "gil_states")) {
        if (hs_json_enter_array(j) < 0)
            return -1;
        int more, k = 0;
        while ((more = hs_json_next_item(j)) == 1) {
            if (k == HS_GIL_STATE_COUNT)
                return hs_json_fail(j, "thread %zu: \"gil_states\" has more than %d numbers",
                                    r->p->thread_count, HS_GIL_STATE_COUNT);
            if (hs_json_read_int(j, &t->gil_states[k]) < 0)
                return -1;
            if (t->gil_states[k++] < 0)
                return hs_json_fail(j, "thread %zu: a negative count in \"gil_states\"", r->p->thread_count);
        }
        return more < 0 ? -1 : 0;
    }
    return 1;
}

static int read_threads(reader *r) {
    hs_json *j = &r->j;
    goto_member(r, M_THREADS);
    if (hs_json_enter_array(j) < 0)
        return -1;
    int more;
    thread_fields t;
    memset(&t, 0, sizeof t);
    hs_buf_init(&t.name);
    while ((more = hs_json_next_item(j)) == 1) {
        t.has_name = t.has_root = 0;
        t.os_tid = t.ident = t.root = 0;
        t.wall_ns = t.cpu_ns = 0;
        memset(t.gil_states, 0, sizeof t.gil_states);
        if (read_object(r, thread_member, &t) < 0)
            break;
        if (!t.has_name || !t.has_root) {
            hs_json_fail(j, "thread %zu has no \"%s\"", r->p->thread_count, t.has_name ? "root" : "name");
            break;
        }
        if (t.root == 0 || t.root >= r->node_count ||
            r->p->nodes[r->node_map[t.root]].parent != HS_ROOT) {
            hs_json_fail(j, "thread %zu: root %llu is not a node under the root", r->p->thread_count,
                         (unsigned long long)t.root);
            break;
        }
        hs_id name = hs_intern(r->p, t.name.data ? t.name.data : "", t.name.len);
        if (t.name.failed || name == HS_NONE ||
            hs_read_add_thread(r->p, name, t.os_tid, t.ident, r->node_map[t.root], t.wall_ns, t.cpu_ns) < 0) {
            hs_json_fail(j, "out of memory");
            break;
        }
        memcpy(r->p->threads[r->p->thread_count - 1].gil_states, t.gil_states, sizeof t.gil_states);
    }
    hs_buf_free(&t.name);
    return j->failed ? -1 : more;
}

/* Series and line tables alike: objects with "name", "unit" and an array
 * of number pairs (a series' "points": time, value; a line table's "rows":
 * frame id, value), and for a series a "thread". One reader serves both;
 * `kind` says which. */
typedef struct {
    const char *what;      /* "series" or "line table", for messages */
    const char *pairs_key; /* "points" or "rows" */
    const char *pair_desc; /* "(time, value)" or "(frame, value)" */
    int is_series;
    hs_buf name, unit;
    int has_name, has_unit, has_pairs;
    int64_t thread;
    hs_json_mark_t pairs;
    int index;             /* of the series or line table being filled */
} named_pairs;

static int named_pairs_member(reader *r, const char *key, size_t len, void *ctx) {
    named_pairs *s = ctx;
    hs_json *j = &r->j;
    if (key_is(key, len, "name") || key_is(key, len, "unit")) {
        int is_name = key[0] == 'n';
        const char *v;
        size_t n;
        if (hs_json_read_string(j, &v, &n) < 0)
            return -1;
        hs_buf *b = is_name ? &s->name : &s->unit;
        b->len = 0;
        hs_buf_append(b, v, n);
        hs_buf_putc(b, '\0');
        *(is_name ? &s->has_name : &s->has_unit) = 1;
        return 0;
    }
    if (s->is_series && key_is(key, len, "thread"))
        return hs_json_read_int(j, &s->thread);
    if (key_is(key, len, s->pairs_key)) {
        /* Read once the series or table exists; validated now. */
        s->pairs = hs_json_mark(j);
        s->has_pairs = 1;
        return hs_json_skip(j);
    }
    return 1;
}

/* Makes the series or line table `s` describes; its index, or -1 (failed). */
static int named_pairs_open(reader *r, named_pairs *s) {
    hs_json *j = &r->j;
    if (s->is_series && (s->thread < -1 || s->thread >= (int64_t)r->p->thread_count)) {
        hs_json_fail(j, "series \"%.40s\": thread %lld is not in \"threads\"", s->name.data,
                     (long long)s->thread);
        return -1;
    }
    int index = s->is_series ? hs_series_get(r->p, s->name.data, s->unit.data, (int32_t)s->thread)
                             : hs_line_table_get(r->p, s->name.data, s->unit.data);
    if (index < 0)
        hs_json_fail(j, "out of memory");
    return index;
}

/* One pair: a series' point, or a line table's row (its frame id checked
 * against "frames" and mapped like every other id). */
static int named_pairs_add(reader *r, named_pairs *s, int64_t first, int64_t value) {
    hs_json *j = &r->j;
    int status;
    if (s->is_series) {
        status = hs_series_push(r->p, s->index, first, value);
    } else {
        if (first < 0 || (uint64_t)first >= r->frame_count) {
            hs_json_fail(j, "line table \"%.40s\": frame %lld is not in \"frames\"", s->name.data,
                         (long long)first);
            return -1;
        }
        status = hs_line_table_push(r->p, s->index, r->frame_map[first], value);
    }
    if (status < 0)
        hs_json_fail(j, "out of memory");
    return status < 0 ? -1 : 0;
}

static int read_named_pairs(reader *r, int member, named_pairs *s) {
    hs_json *j = &r->j;
    goto_member(r, member);
    if (hs_json_enter_array(j) < 0)
        return -1;
    int more;
    hs_buf_init(&s->name);
    hs_buf_init(&s->unit);
    while ((more = hs_json_next_item(j)) == 1) {
        s->has_name = s->has_unit = s->has_pairs = 0;
        s->thread = -1;
        if (read_object(r, named_pairs_member, s) < 0)
            break;
        if (!s->has_name || !s->has_unit || !s->has_pairs) {
            hs_json_fail(j, "a %s needs \"name\", \"unit\" and \"%s\"", s->what, s->pairs_key);
            break;
        }
        if (s->name.failed || s->unit.failed) {
            hs_json_fail(j, "out of memory");
            break;
        }
        if ((s->index = named_pairs_open(r, s)) < 0)
            break;
        hs_json_mark_t after = hs_json_mark(j);
        hs_json_seek(j, s->pairs);
        if (hs_json_enter_array(j) < 0)
            break;
        int64_t first = 0, value;
        size_t n = 0;
        while (hs_json_next_item(j) == 1) {
            if (hs_json_read_int(j, n % 2 ? &value : &first) < 0)
                break;
            if (n++ % 2 && named_pairs_add(r, s, first, value) < 0)
                break;
        }
        if (j->failed)
            break;
        if (n % 2) {
            hs_json_fail(j, "%s \"%.40s\": \"%s\" must hold %s pairs", s->what, s->name.data, s->pairs_key,
                         s->pair_desc);
            break;
        }
        hs_json_seek(j, after);
    }
    hs_buf_free(&s->name);
    hs_buf_free(&s->unit);
    return j->failed ? -1 : more;
}

static int read_series(reader *r) {
    named_pairs s = {.what = "series", .pairs_key = "points", .pair_desc = "(time, value)", .is_series = 1};
    return read_named_pairs(r, M_SERIES, &s);
}

static int read_line_tables(reader *r) {
    named_pairs s = {.what = "line table", .pairs_key = "rows", .pair_desc = "(frame, value)"};
    return read_named_pairs(r, M_LINE_TABLES, &s);
}

/* Slow calls are five numbers each (model_json.c): function frame, caller
 * frame or -1, thread index, duration, string id of the arguments; every
 * id is checked against what it names. */
static int read_slow_calls(reader *r) {
    hs_json *j = &r->j;
    goto_member(r, M_SLOW_CALLS);
    if (hs_json_enter_array(j) < 0)
        return -1;
    int64_t v[5];
    size_t n = 0;
    int more;
    while ((more = hs_json_next_item(j)) == 1) {
        if (hs_json_read_int(j, &v[n % 5]) < 0)
            return -1;
        if (++n % 5)
            continue;
        size_t call = n / 5 - 1;
        if (v[0] < 0 || (uint64_t)v[0] >= r->frame_count || v[1] < -1 ||
            (v[1] >= 0 && (uint64_t)v[1] >= r->frame_count))
            return hs_json_fail(j, "slow call %zu: a frame is not in \"frames\"", call);
        if (v[2] < 0 || (uint64_t)v[2] >= r->p->thread_count)
            return hs_json_fail(j, "slow call %zu: thread %lld is not in \"threads\"", call, (long long)v[2]);
        if (v[4] < 0 || (uint64_t)v[4] >= r->string_count)
            return hs_json_fail(j, "slow call %zu: string %lld is not in \"strings\"", call, (long long)v[4]);
        hs_slow_call c = {r->frame_map[v[0]], v[1] < 0 ? HS_NONE : r->frame_map[v[1]], (int32_t)v[2], v[3],
                          r->string_map[v[4]]};
        if (hs_slow_call_add(r->p, &c) < 0)
            return hs_json_fail(j, "out of memory");
    }
    if (more < 0)
        return -1;
    if (n % 5)
        return hs_json_fail(j, "\"slow_calls\" must hold records of five numbers");
    return 0;
}

static int meta_member(reader *r, const char *key, size_t len, void *ctx) {
    (void)ctx;
    (void)len;
    /* The key stays in j->key while the value is decoded into j->scratch;
     * both are NUL-terminated, and meta values are C strings (model.h), so
     * a NUL inside one ends it. */
    const char *v;
    size_t vlen;
    if (hs_json_read_string(&r->j, &v, &vlen) < 0)
        return -1;
    if (hs_meta_set(r->p, key, v) < 0)
        return hs_json_fail(&r->j, "out of memory");
    return 0;
}

static int check_header(reader *r) {
    hs_json *j = &r->j;
    if (!r->seen[M_FORMAT])
        return hs_json_fail(j, "not a hotscope profile: no \"format\" member");
    goto_member(r, M_FORMAT);
    const char *s;
    size_t len;
    if (hs_json_read_string(j, &s, &len) < 0)
        return -1;
    if (!key_is(s, len, "hotscope-profile"))
        return hs_json_fail(j, "not a hotscope profile: \"format\" is not \"hotscope-profile\"");
    if (!r->seen[M_VERSION])
        return hs_json_fail(j, "no \"version\" member");
    goto_member(r, M_VERSION);
    int64_t version;
    if (hs_json_read_int(j, &version) < 0)
        return -1;
    if (version != 1)
        return hs_json_fail(j, "format version %lld: this hotscope reads version 1", (long long)version);
    static const int required[] = {M_WEIGHTS, M_STRINGS, M_FRAMES, M_NODES, M_THREADS};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!r->seen[required[i]])
            return hs_json_fail(j, "no \"%s\" member", member_names[required[i]]);
    return 0;
}

hs_profile *hs_read_model_json(const char *data, size_t len, char *err) {
    reader r;
    memset(&r, 0, sizeof r);
    err[0] = '\0';
    hs_json_init(&r.j, data, len, err, HS_READ_ERR_SIZE);
    hs_json *j = &r.j;
    r.p = hs_profile_new();
    if (!r.p) {
        hs_json_free(j);
        return hs_read_error(err, "out of memory");
    }
    /* First pass: where each member is; every value is validated on the way. */
    if (hs_json_peek(j) != HS_JSON_OBJECT)
        hs_json_fail(j, "not a hotscope profile: expected a JSON object");
    else if (hs_json_enter_object(j) == 0) {
        const char *key;
        size_t klen;
        int more;
        while ((more = hs_json_next_member(j, &key, &klen)) == 1) {
            int m = 0;
            while (m < M_COUNT && !key_is(key, klen, member_names[m]))
                m++;
            if (m < M_COUNT) {
                if (r.seen[m]) {
                    hs_json_fail(j, "member \"%s\" appears twice", member_names[m]);
                    break;
                }
                r.seen[m] = 1;
                r.at[m] = hs_json_mark(j);
            }
            if (hs_json_skip(j) < 0)
                break;
        }
        if (more == 0)
            hs_json_finish(j);
    }
    /* Second pass, in the order ids depend on; each step stops at the first error. */
    if (!j->failed)
        (void)(check_header(&r) == 0 && read_strings(&r) == 0 && read_weights(&r) == 0 &&
               read_frames(&r) == 0 && read_nodes(&r) == 0 && read_threads(&r) == 0 &&
               (!r.seen[M_META] || (goto_member(&r, M_META), read_object(&r, meta_member, NULL)) == 0) &&
               (!r.seen[M_SERIES] || read_series(&r) == 0) &&
               (!r.seen[M_LINE_TABLES] || read_line_tables(&r) == 0) &&
               (!r.seen[M_SLOW_CALLS] || read_slow_calls(&r) == 0));
    int ok = !j->failed;
    hs_json_free(j);
    free(r.string_map);
    free(r.frame_map);
    free(r.node_map);
    if (!ok) {
        if (!err[0])
            hs_read_error(err, "not a valid hotscope profile");
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
