/*
 * pprof.c - the profile as pprof's profile.proto, gzip-compressed: the
 * format of `go tool pprof`, Pyroscope and Parca. Read back by
 * read/pprof_read.c, exactly (see pprof_schema.h for hotscope's
 * conventions inside the format).
 *
 * What goes where (field numbers in codec/pprof_schema.h):
 *   - sample_type: one ValueType per weight the profile recorded
 *     (calls/count, wall/nanoseconds, cpu/nanoseconds, samples/count,
 *     alloc_space/bytes, alloc_objects/count), in hs_weight order;
 *   - sample: one per node with a non-zero self weight: its path's
 *     locations, leaf first, and its self weights. The thread frame that
 *     heads every stack becomes "thread"/"thread_index" labels instead of
 *     a location, so Pyroscope and pprof group by thread; a thread's own
 *     time (no frame open) is a sample with no location. Weights recorded
 *     on the root itself have no stack and are left out, as in every
 *     other renderer;
 *   - location: one per distinct frame on the written samples' stacks,
 *     with one Line (function, current line; 0 = not known) and the
 *     mapping of its kind;
 *   - function: one per distinct (name, file, first line);
 *   - mapping: one per frame kind in use, named "[python]", "[native]",
 *     "[thread]" or "[synthetic]", marked as symbolized (has_functions,
 *     has_filenames, has_line_numbers) so no tool tries to symbolize them;
 *   - comment: every metadata entry as "key=value", and each thread of
 *     the thread table as "hotscope.thread=..." (pprof_schema.h);
 *   - time_nanos / duration_nanos: the "start_ns" and "duration_ns"
 *     metadata, when present;
 *   - period_type / period: for sampled profiles (samples recorded), the
 *     clock sampled ("wall" or "cpu", from the "clock" metadata) in
 *     nanoseconds and the sampling interval, 1e9 / "rate_hz" (omitted if
 *     the rate is unknown); for traced profiles, which count every event,
 *     the default sample type with period 1;
 *   - default_sample_type: "samples" for sampled profiles, else the
 *     recorded clock ("wall" or "cpu"), else the first sample type.
 * Fields are written in field-number order; the message is then gzipped
 * (codec/gzip.h), as pprof files are.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/gzip.h"
#include "../codec/pprof_schema.h"
#include "../codec/protowire.h"
#include "render.h"
#include "render_util.h"

/* pprof (type, unit) of each hotscope weight, in hs_weight order. */
/* Memory weights follow Go's heap profiles: alloc_* for all that was
 * allocated, inuse_* for what is still live (here: at the end, the leaks);
 * the peak has no Go name, so it is named after what it is. */
static const char *const weight_type[HS_W_COUNT] = {
    "calls", "wall", "cpu", "samples", "alloc_space", "alloc_objects",
    "peak_space", "peak_objects", "inuse_space", "inuse_objects"};
static const char *const weight_unit[HS_W_COUNT] = {
    "count", "nanoseconds", "nanoseconds", "count", "bytes", "count",
    "bytes", "count", "bytes", "count"};
static const char *const kind_mapping[4] = {HS_PPROF_MAPPING_PYTHON, HS_PPROF_MAPPING_NATIVE,
                                            HS_PPROF_MAPPING_THREAD, HS_PPROF_MAPPING_OTHER};

#define NO_INDEX UINT32_MAX

typedef struct {
    hs_profile *p;
    hs_strtab strings;        /* the pprof string table; "" first */
    uint32_t *string_index;   /* model string id -> pprof index, NO_INDEX unset */
    uint32_t *frame_location; /* frame id -> location id, 0 unset */
    hs_id *location_frame;    /* location id - 1 -> frame id */
    uint32_t *location_function; /* location id - 1 -> function id */
    size_t location_count;
    /* functions: (name, file, first line) -> id, open addressing */
    hs_id *function_frame;    /* function id - 1 -> a frame carrying its fields */
    size_t function_count;
    uint32_t *function_slots; /* function id, 0 = empty */
    size_t function_slot_mask;
    int kind_used[4];
    int failed;
} writer;

/* ---- string table ---------------------------------------------------------- */

static uint64_t text_index(writer *w, const char *s, size_t len) {
    hs_id id = hs_strtab_intern(&w->strings, s, len);
    if (id == HS_NONE)
        w->failed = 1;
    return id == HS_NONE ? 0 : id;
}

static uint64_t cstr_index(writer *w, const char *s) {
    return text_index(w, s, strlen(s));
}

static uint64_t model_string_index(writer *w, hs_id id) {
    if (w->string_index[id] == NO_INDEX) {
        size_t len = 0;
        const char *s = hs_str(w->p, id, &len);
        w->string_index[id] = (uint32_t)text_index(w, s ? s : "", s ? len : 0);
    }
    return w->string_index[id];
}

/* ---- locations and functions -------------------------------------------- */

static uint64_t function_hash(const hs_frame *f) {
    return hs_hash_mix(hs_hash_mix(hs_hash_mix(0, f->name), f->file), (uint32_t)f->first_line);
}

static uint32_t function_of(writer *w, hs_id frame) {
    const hs_frame *f = hs_frame_get(w->p, frame);
    size_t slot = function_hash(f) & w->function_slot_mask;
    for (;;) {
        uint32_t id = w->function_slots[slot];
        if (id == 0)
            break;
        const hs_frame *g = hs_frame_get(w->p, w->function_frame[id - 1]);
        if (g->name == f->name && g->file == f->file && g->first_line == f->first_line)
            return id;
        slot = (slot + 1) & w->function_slot_mask;
    }
    /* At most one function per frame, and the table has twice as many
     * slots as frames, so there is always an empty slot. */
    w->function_frame[w->function_count++] = frame;
    w->function_slots[slot] = (uint32_t)w->function_count;
    return (uint32_t)w->function_count;
}

static uint32_t location_of(writer *w, hs_id frame) {
    if (w->frame_location[frame] == 0) {
        w->location_frame[w->location_count] = frame;
        w->location_function[w->location_count] = function_of(w, frame);
        w->frame_location[frame] = (uint32_t)++w->location_count;
        w->kind_used[hs_frame_get(w->p, frame)->kind & 3] = 1;
    }
    return w->frame_location[frame];
}

/* ---- messages -------------------------------------------------------------- */

static void put_value_type(writer *w, hs_buf *out, uint32_t field, const char *type, const char *unit,
                           hs_buf *tmp) {
    tmp->len = 0;
    hs_pb_put_uint_field(tmp, PPROF_VALUETYPE_TYPE, cstr_index(w, type));
    hs_pb_put_uint_field(tmp, PPROF_VALUETYPE_UNIT, cstr_index(w, unit));
    hs_pb_put_bytes_field(out, field, tmp->data, tmp->len);
}

typedef struct {
    hs_buf sample, ids, values, label;
} scratch;

/* One Sample: the locations of the path's frames (path[1..depth], leaf
 * first; path[1] is HS_NONE for a thread frame, which becomes labels), the
 * node's self weights. Locations are numbered as samples first use them,
 * so frames that carry no weight anywhere below get none, and writing a
 * profile read back from this output gives the same bytes. */
static void put_sample(writer *w, hs_buf *out, const hs_id *path, size_t depth, const hs_node *node,
                       hs_id thread_frame, scratch *s) {
    s->sample.len = s->ids.len = s->values.len = 0;
    for (size_t d = depth; d >= 1; d--)
        if (path[d] != HS_NONE)
            hs_pb_put_varint(&s->ids, location_of(w, path[d]));
    if (s->ids.len)
        hs_pb_put_bytes_field(&s->sample, PPROF_SAMPLE_LOCATION_ID, s->ids.data, s->ids.len);
    for (int k = 0; k < HS_W_COUNT; k++)
        if (w->p->weights_present & (1u << k))
            hs_pb_put_varint(&s->values, (uint64_t)node->self[k]);
    hs_pb_put_bytes_field(&s->sample, PPROF_SAMPLE_VALUE, s->values.data, s->values.len);
    if (thread_frame != HS_NONE) {
        const hs_frame *t = hs_frame_get(w->p, thread_frame);
        s->label.len = 0;
        hs_pb_put_uint_field(&s->label, PPROF_LABEL_KEY, cstr_index(w, HS_PPROF_LABEL_THREAD));
        hs_pb_put_uint_field(&s->label, PPROF_LABEL_STR, model_string_index(w, t->name));
        hs_pb_put_bytes_field(&s->sample, PPROF_SAMPLE_LABEL, s->label.data, s->label.len);
        s->label.len = 0;
        hs_pb_put_uint_field(&s->label, PPROF_LABEL_KEY, cstr_index(w, HS_PPROF_LABEL_THREAD_INDEX));
        hs_pb_put_uint_field(&s->label, PPROF_LABEL_NUM, (uint64_t)(int64_t)t->first_line);
        hs_pb_put_bytes_field(&s->sample, PPROF_SAMPLE_LABEL, s->label.data, s->label.len);
    }
    hs_pb_put_bytes_field(out, PPROF_PROFILE_SAMPLE, s->sample.data, s->sample.len);
}

/* Every node with a self weight, depth first (the traversal of
 * collapsed.c: iterative, so deep stacks cost no C stack). */
static int put_samples(writer *w, hs_buf *out) {
    hs_profile *p = w->p;
    hs_id *path = malloc((p->node_count + 1) * sizeof *path);
    if (!path)
        return -1;
    scratch s;
    hs_buf_init(&s.sample);
    hs_buf_init(&s.ids);
    hs_buf_init(&s.values);
    hs_buf_init(&s.label);
    hs_id thread_frame = HS_NONE;
    hs_id node = hs_node_get(p, HS_ROOT)->first_child;
    size_t depth = 1;
    while (node != HS_NONE && !w->failed) {
        const hs_node *nd = hs_node_get(p, node);
        if (depth == 1) {
            int is_thread = hs_frame_get(p, nd->frame)->kind == HS_KIND_THREAD;
            thread_frame = is_thread ? nd->frame : HS_NONE;
            path[1] = is_thread ? HS_NONE : nd->frame;
        } else {
            path[depth] = nd->frame;
        }
        int any = 0;
        for (int k = 0; k < HS_W_COUNT; k++)
            if ((p->weights_present & (1u << k)) && nd->self[k] != 0)
                any = 1;
        if (any)
            put_sample(w, out, path, depth, nd, thread_frame, &s);
        if (nd->first_child != HS_NONE) {
            node = nd->first_child;
            depth++;
            continue;
        }
        while (node != HS_NONE && node != HS_ROOT && hs_node_get(p, node)->next_sibling == HS_NONE) {
            node = hs_node_get(p, node)->parent;
            depth--;
        }
        if (node == HS_NONE || node == HS_ROOT)
            break;
        node = hs_node_get(p, node)->next_sibling;
    }
    int failed = s.sample.failed || s.ids.failed || s.values.failed || s.label.failed;
    hs_buf_free(&s.sample);
    hs_buf_free(&s.ids);
    hs_buf_free(&s.values);
    hs_buf_free(&s.label);
    free(path);
    return failed ? -1 : 0;
}

static void put_mappings(writer *w, hs_buf *out, hs_buf *tmp) {
    for (int kind = 0; kind < 4; kind++) {
        if (!w->kind_used[kind])
            continue;
        tmp->len = 0;
        hs_pb_put_uint_field(tmp, PPROF_MAPPING_ID, (uint64_t)kind + 1);
        hs_pb_put_uint_field(tmp, PPROF_MAPPING_FILENAME, cstr_index(w, kind_mapping[kind]));
        hs_pb_put_uint_field(tmp, PPROF_MAPPING_HAS_FUNCTIONS, 1);
        hs_pb_put_uint_field(tmp, PPROF_MAPPING_HAS_FILENAMES, 1);
        hs_pb_put_uint_field(tmp, PPROF_MAPPING_HAS_LINE_NUMBERS, 1);
        hs_pb_put_bytes_field(out, PPROF_PROFILE_MAPPING, tmp->data, tmp->len);
    }
}

static void put_locations(writer *w, hs_buf *out, hs_buf *tmp, hs_buf *line) {
    for (size_t i = 0; i < w->location_count; i++) {
        const hs_frame *f = hs_frame_get(w->p, w->location_frame[i]);
        line->len = 0;
        hs_pb_put_uint_field(line, PPROF_LINE_FUNCTION_ID, w->location_function[i]);
        if (f->line)
            hs_pb_put_uint_field(line, PPROF_LINE_LINE, (uint64_t)(int64_t)f->line);
        tmp->len = 0;
        hs_pb_put_uint_field(tmp, PPROF_LOCATION_ID, i + 1);
        hs_pb_put_uint_field(tmp, PPROF_LOCATION_MAPPING_ID, (uint64_t)(f->kind & 3) + 1);
        hs_pb_put_bytes_field(tmp, PPROF_LOCATION_LINE, line->data, line->len);
        hs_pb_put_bytes_field(out, PPROF_PROFILE_LOCATION, tmp->data, tmp->len);
    }
}

static void put_functions(writer *w, hs_buf *out, hs_buf *tmp) {
    for (size_t i = 0; i < w->function_count; i++) {
        const hs_frame *f = hs_frame_get(w->p, w->function_frame[i]);
        uint64_t name = model_string_index(w, f->name);
        tmp->len = 0;
        hs_pb_put_uint_field(tmp, PPROF_FUNCTION_ID, i + 1);
        hs_pb_put_uint_field(tmp, PPROF_FUNCTION_NAME, name);
        hs_pb_put_uint_field(tmp, PPROF_FUNCTION_SYSTEM_NAME, name);
        hs_pb_put_uint_field(tmp, PPROF_FUNCTION_FILENAME, model_string_index(w, f->file));
        if (f->first_line)
            hs_pb_put_uint_field(tmp, PPROF_FUNCTION_START_LINE, (uint64_t)(int64_t)f->first_line);
        hs_pb_put_bytes_field(out, PPROF_PROFILE_FUNCTION, tmp->data, tmp->len);
    }
}

/* Comment string indexes (packed): metadata, then the thread table. */
static void put_comments(writer *w, hs_buf *out, hs_buf *tmp, hs_buf *text) {
    hs_profile *p = w->p;
    tmp->len = 0;
    for (size_t i = 0; i < p->meta_count; i++) {
        size_t klen = 0, vlen = 0;
        const char *k = hs_str(p, p->meta[i].key, &klen), *v = hs_str(p, p->meta[i].value, &vlen);
        text->len = 0;
        hs_buf_append(text, k ? k : "", k ? klen : 0);
        hs_buf_putc(text, '=');
        hs_buf_append(text, v ? v : "", v ? vlen : 0);
        hs_pb_put_varint(tmp, text_index(w, text->data, text->len));
    }
    for (size_t i = 0; i < p->thread_count; i++) {
        const hs_thread *t = &p->threads[i];
        size_t len = 0;
        const char *name = hs_str(p, t->name, &len);
        text->len = 0;
        hs_buf_printf(text, "%s%zu %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " ", HS_PPROF_THREAD_COMMENT, i,
                      t->os_tid, t->ident, t->wall_ns, t->cpu_ns);
        hs_buf_append(text, name ? name : "", name ? len : 0);
        hs_pb_put_varint(tmp, text_index(w, text->data, text->len));
    }
    if (tmp->len)
        hs_pb_put_bytes_field(out, PPROF_PROFILE_COMMENT, tmp->data, tmp->len);
}

/* A metadata value as an integer; 0 with *ok = 0 when absent or not one. */
static int64_t meta_int(const hs_profile *p, const char *key, int *ok) {
    const char *v = hs_meta_get(p, key);
    char *end = NULL;
    *ok = 0;
    if (!v || !*v)
        return 0;
    long long n = strtoll(v, &end, 10);
    *ok = end && *end == '\0';
    return *ok ? (int64_t)n : 0;
}

static double meta_double(const hs_profile *p, const char *key) {
    const char *v = hs_meta_get(p, key);
    char *end = NULL;
    if (!v || !*v)
        return 0;
    double d = strtod(v, &end);
    return end && *end == '\0' ? d : 0;
}

/* The weight shown by default, as the comment at the top says. */
static int default_weight(const hs_profile *p) {
    unsigned present = p->weights_present;
    if (present & (1u << HS_W_SAMPLES))
        return HS_W_SAMPLES;
    const char *clock = hs_meta_get(p, "clock");
    int clock_weight = clock && strcmp(clock, "cpu") == 0 ? HS_W_CPU_NS : HS_W_WALL_NS;
    if (present & (1u << clock_weight))
        return clock_weight;
    for (int k = 0; k < HS_W_COUNT; k++)
        if (present & (1u << k))
            return k;
    return -1;
}

static void put_header_fields(writer *w, hs_buf *out, hs_buf *tmp) {
    hs_profile *p = w->p;
    int ok;
    int64_t start = meta_int(p, "start_ns", &ok);
    if (ok)
        hs_pb_put_uint_field(out, PPROF_PROFILE_TIME_NANOS, (uint64_t)start);
    int64_t duration = meta_int(p, "duration_ns", &ok);
    if (ok)
        hs_pb_put_uint_field(out, PPROF_PROFILE_DURATION_NANOS, (uint64_t)duration);
    int def = default_weight(p);
    if (def == HS_W_SAMPLES) {
        const char *clock = hs_meta_get(p, "clock");
        put_value_type(w, out, PPROF_PROFILE_PERIOD_TYPE, clock && strcmp(clock, "cpu") == 0 ? "cpu" : "wall",
                       "nanoseconds", tmp);
        double rate = meta_double(p, "rate_hz");
        if (rate <= 0)
            rate = meta_double(p, "rate");
        if (rate > 0 && 1e9 / rate >= 1 && 1e9 / rate < 9e18)
            hs_pb_put_uint_field(out, PPROF_PROFILE_PERIOD, (uint64_t)(int64_t)(1e9 / rate + 0.5));
    } else if (def >= 0) {
        put_value_type(w, out, PPROF_PROFILE_PERIOD_TYPE, weight_type[def], weight_unit[def], tmp);
        hs_pb_put_uint_field(out, PPROF_PROFILE_PERIOD, 1);
    }
}

int hs_render_pprof_proto(hs_profile *p, hs_buf *out, char *err) {
    if (!p || !out) {
        hs_render_error(err, "pprof: missing argument");
        return -1;
    }
    writer w;
    memset(&w, 0, sizeof w);
    w.p = p;
    hs_strtab_init(&w.strings);
    size_t slots = 16;
    while (slots < 2 * p->frame_count)
        slots *= 2;
    size_t frames = p->frame_count ? p->frame_count : 1;
    w.string_index = malloc((p->strings.count ? p->strings.count : 1) * sizeof *w.string_index);
    w.frame_location = calloc(frames, sizeof *w.frame_location);
    w.location_frame = malloc(frames * sizeof *w.location_frame);
    w.location_function = malloc(frames * sizeof *w.location_function);
    w.function_frame = malloc(frames * sizeof *w.function_frame);
    w.function_slots = calloc(slots, sizeof *w.function_slots);
    w.function_slot_mask = slots - 1;
    hs_buf samples, mappings, locations, functions, rest, tmp, tmp2;
    hs_buf *bufs[] = {&samples, &mappings, &locations, &functions, &rest, &tmp, &tmp2};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hs_buf_init(bufs[i]);
    int rc = -1;
    if (!w.string_index || !w.frame_location || !w.location_frame || !w.location_function || !w.function_frame ||
        !w.function_slots)
        goto done;
    memset(w.string_index, 0xFF, (p->strings.count ? p->strings.count : 1) * sizeof *w.string_index);
    text_index(&w, "", 0); /* string_table[0] must be "" (profile.proto) */

    /* Samples first: they decide which locations, functions and strings
     * exist. */
    if (put_samples(&w, &samples) != 0)
        goto done;
    put_mappings(&w, &mappings, &tmp);
    put_locations(&w, &locations, &tmp, &tmp2);
    put_functions(&w, &functions, &tmp);
    put_header_fields(&w, &rest, &tmp);
    put_comments(&w, &rest, &tmp, &tmp2);
    int def = default_weight(p);
    if (def >= 0)
        hs_pb_put_uint_field(&rest, PPROF_PROFILE_DEFAULT_SAMPLE_TYPE, cstr_index(&w, weight_type[def]));
    for (int k = 0; k < HS_W_COUNT; k++)
        if (p->weights_present & (1u << k))
            put_value_type(&w, out, PPROF_PROFILE_SAMPLE_TYPE, weight_type[k], weight_unit[k], &tmp);
    hs_buf_append(out, samples.data, samples.len);
    hs_buf_append(out, mappings.data, mappings.len);
    hs_buf_append(out, locations.data, locations.len);
    hs_buf_append(out, functions.data, functions.len);
    /* The string table last of the interning, first of the fields after
     * functions: nothing is interned after this point. */
    for (size_t i = 0; i < w.strings.count; i++) {
        size_t len = 0;
        const char *s = hs_strtab_get(&w.strings, (hs_id)i, &len);
        hs_pb_put_bytes_field(out, PPROF_PROFILE_STRING_TABLE, s, len);
    }
    hs_buf_append(out, rest.data, rest.len);
    rc = 0;
done:
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) {
        if (bufs[i]->failed)
            rc = -1;
        hs_buf_free(bufs[i]);
    }
    if (w.failed || out->failed)
        rc = -1;
    if (rc != 0)
        hs_render_error(err, "pprof: out of memory");
    hs_strtab_free(&w.strings);
    free(w.string_index);
    free(w.frame_location);
    free(w.location_frame);
    free(w.location_function);
    free(w.function_frame);
    free(w.function_slots);
    return rc;
}

int hs_render_pprof(hs_profile *p, hs_buf *out, char *err) {
    hs_buf proto;
    hs_buf_init(&proto);
    int rc = hs_render_pprof_proto(p, &proto, err);
    if (rc == 0 && hs_gzip_compress(proto.data ? proto.data : "", proto.len, out) != 0) {
        hs_render_error(err, "pprof: out of memory");
        rc = -1;
    }
    hs_buf_free(&proto);
    return rc;
}
