/*
 * pprof_read.c - a pprof profile (profile.proto, field numbers in
 * codec/pprof_schema.h) into the profile model.
 *
 * The file is untrusted. It is gunzipped if it starts with the gzip magic
 * (codec/gzip.h, output capped at HS_PPROF_MAX_DECOMPRESSED), else taken as
 * a raw Profile message. Reading then goes in passes:
 *   1. the Profile's top-level fields are split into lists of byte spans
 *      (samples, locations, ...) with the wire format checked
 *      (codec/protowire.h: varints of at most 10 bytes, lengths within
 *      their message, known fields with their declared wire type);
 *   2. string_table[0] must be "" (profile.proto); every string index
 *      used is checked against the table;
 *   3. mappings, functions and locations are decoded and indexed by id
 *      (ids must be non-zero and distinct; every id referred to must
 *      exist);
 *   4. comments restore metadata and hotscope's thread table;
 *   5. each sample becomes a stack, root first: its thread (labels
 *      "thread"/"thread_index") then its locations from the last (the
 *      root) to the first (the leaf); a location's lines are inlined
 *      calls, the last line the caller (profile.proto), so they expand to
 *      several frames in the same order. Repeated fields are accepted
 *      packed and unpacked, as protobuf parsers must.
 * Sample types map to hotscope weights by (type, unit): see weight_of.
 * Foreign types with no counterpart are left out and named in the
 * metadata ("pprof_ignored"); if none has one, the first becomes the
 * sample count ("pprof_samples_from").
 *
 * Frames: a location in one of hotscope's mappings ("[python]", ...,
 * pprof_schema.h) gets that frame kind back, so hotscope's own files read
 * back exactly. Foreign functions become Python-kind frames when they
 * have a file name (shown as "name (file:line)") and synthetic ones
 * otherwise; a location without lines (not symbolized) is named by its
 * address, "0x...".
 */
#include "pprof_read.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/gzip.h"
#include "../codec/pprof_schema.h"
#include "../codec/protowire.h"
#include "../sampler/grow.h"

/* Frames the samples may expand to, per input byte (plus a floor): a
 * location of many inlined lines referred to by many samples could
 * otherwise turn a small file into hours of work. */
#define FRAMES_PER_BYTE 16
#define FRAMES_FLOOR (1u << 20)

typedef struct {
    const uint8_t *data;
    size_t len;
} span;

typedef struct {
    span *items;
    size_t count, cap;
} span_list;

typedef struct {
    uint64_t id;
    uint32_t index;
} id_entry;

/* Ids -> positions: sorted for binary search, or dense (id = position + 1,
 * how pprof writers number things) for direct lookup. */
typedef struct {
    id_entry *sorted;
    size_t count;
    int dense;
} id_index;

typedef struct {
    uint64_t id;
    int64_t name, system_name, filename, start_line;
} pp_function;

typedef struct {
    uint64_t function_id;
    int64_t line;
} pp_line;

typedef struct {
    uint64_t id, mapping_id, address;
    size_t first_line, line_count; /* into lines */
    size_t first_frame, frame_count; /* into frames, root-most first */
} pp_location;

typedef struct {
    uint64_t id;
    int kind; /* hs_frame_kind of a hotscope mapping, -1 for a foreign one */
} pp_mapping;

typedef struct {
    char *err;
    hs_profile *p;
    span *strings;
    size_t string_count, string_cap;
    hs_id *string_ids; /* pprof string index -> model string, HS_NONE until used */
    span_list sample_types, samples, mappings, locations, functions;
    int64_t *comments;
    size_t comment_count, comment_cap;
    int64_t time_nanos, duration_nanos;
    pp_function *fn;
    pp_line *lines;
    size_t line_count, line_cap;
    pp_location *loc;
    pp_mapping *map;
    hs_id *frames; /* every location's frames */
    size_t frame_count, frame_cap;
    id_index fn_index, loc_index, map_index;
    int weight_of_type[64]; /* sample type -> hs_weight, -1 to drop */
    int64_t scale_of_type[64];
    hs_id *thread_by_name; /* pprof string index -> thread frame */
    size_t frame_budget;
} reader;

static int fail(reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(reader *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, 200, fmt, ap);
    va_end(ap);
    /* One line, whatever the message quotes from the file. */
    for (char *c = r->err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    return -1;
}

static int out_of_memory(reader *r) {
    return fail(r, "pprof: out of memory");
}

static int push_span(reader *r, span_list *list, const uint8_t *data, size_t len) {
    if (hs_grow((void **)&list->items, &list->cap, list->count + 1, sizeof *list->items) != 0)
        return out_of_memory(r);
    list->items[list->count].data = data;
    list->items[list->count].len = len;
    list->count++;
    return 0;
}

/* ---- pass 1: the Profile message ----------------------------------------- */

static int wrong_wire(reader *r, const char *message, uint32_t field, int wire) {
    return fail(r, "pprof: %s field %u has wire type %d, not the one profile.proto declares", message, field, wire);
}

/* Appends the int64 values of a repeated field, packed (one
 * length-delimited run of varints) or not (one varint). */
static int read_repeated_int(reader *r, const hs_pb_field *f, int64_t **items, size_t *count, size_t *cap) {
    if (f->wire == HS_PB_VARINT) {
        if (hs_grow((void **)items, cap, *count + 1, sizeof **items) != 0)
            return out_of_memory(r);
        (*items)[(*count)++] = (int64_t)f->u;
        return 0;
    }
    if (f->wire != HS_PB_LEN)
        return fail(r, "pprof: repeated integer field %u has wire type %d", f->field, f->wire);
    hs_pb_reader in = hs_pb_reader_of(f->data, f->len);
    while (in.p < in.end) {
        uint64_t v;
        if (hs_pb_read_varint(&in, &v, r->err) != 0)
            return -1;
        if (hs_grow((void **)items, cap, *count + 1, sizeof **items) != 0)
            return out_of_memory(r);
        (*items)[(*count)++] = (int64_t)v;
    }
    return 0;
}

static int read_profile_fields(reader *r, const uint8_t *data, size_t len) {
    hs_pb_reader in = hs_pb_reader_of(data, len);
    hs_pb_field f;
    int status;
    while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
        span_list *list = NULL;
        switch (f.field) {
        case PPROF_PROFILE_SAMPLE_TYPE: list = &r->sample_types; break;
        case PPROF_PROFILE_SAMPLE: list = &r->samples; break;
        case PPROF_PROFILE_MAPPING: list = &r->mappings; break;
        case PPROF_PROFILE_LOCATION: list = &r->locations; break;
        case PPROF_PROFILE_FUNCTION: list = &r->functions; break;
        case PPROF_PROFILE_STRING_TABLE:
            if (f.wire != HS_PB_LEN)
                return wrong_wire(r, "Profile", f.field, f.wire);
            if (hs_grow((void **)&r->strings, &r->string_cap, r->string_count + 1, sizeof *r->strings) != 0)
                return out_of_memory(r);
            r->strings[r->string_count].data = f.data;
            r->strings[r->string_count].len = f.len;
            r->string_count++;
            continue;
        case PPROF_PROFILE_COMMENT:
            if (read_repeated_int(r, &f, &r->comments, &r->comment_count, &r->comment_cap) != 0)
                return -1;
            continue;
        case PPROF_PROFILE_TIME_NANOS:
        case PPROF_PROFILE_DURATION_NANOS:
        case PPROF_PROFILE_DROP_FRAMES:
        case PPROF_PROFILE_KEEP_FRAMES:
        case PPROF_PROFILE_PERIOD:
        case PPROF_PROFILE_DEFAULT_SAMPLE_TYPE:
            if (f.wire != HS_PB_VARINT)
                return wrong_wire(r, "Profile", f.field, f.wire);
            if (f.field == PPROF_PROFILE_TIME_NANOS)
                r->time_nanos = (int64_t)f.u;
            else if (f.field == PPROF_PROFILE_DURATION_NANOS)
                r->duration_nanos = (int64_t)f.u;
            continue;
        case PPROF_PROFILE_PERIOD_TYPE:
            if (f.wire != HS_PB_LEN)
                return wrong_wire(r, "Profile", f.field, f.wire);
            continue;
        default:
            continue; /* unknown fields are skipped, as protobuf requires */
        }
        if (f.wire != HS_PB_LEN)
            return wrong_wire(r, "Profile", f.field, f.wire);
        if (push_span(r, list, f.data, f.len) != 0)
            return -1;
    }
    return status;
}

/* ---- strings ---------------------------------------------------------------- */

static int check_string(reader *r, int64_t index, const char *what) {
    if (index < 0 || (uint64_t)index >= r->string_count)
        return fail(r, "pprof: %s refers to string %" PRId64 " but the string table has %zu entries", what, index,
                    r->string_count);
    return 0;
}

/* The model id of pprof string `index` (already checked). */
static hs_id model_string(reader *r, int64_t index) {
    hs_id *id = &r->string_ids[index];
    if (*id == HS_NONE)
        *id = hs_intern(r->p, (const char *)r->strings[index].data, r->strings[index].len);
    return *id;
}

static int string_equals(reader *r, int64_t index, const char *s) {
    const span *t = &r->strings[index];
    return t->len == strlen(s) && memcmp(t->data, s, t->len) == 0;
}

/* A NUL-terminated copy of string `index` (malloc'd), for the model
 * calls that take C strings. */
static char *string_copy(reader *r, int64_t index, size_t skip) {
    const span *t = &r->strings[index];
    size_t len = t->len > skip ? t->len - skip : 0;
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, t->data + (t->len - len), len);
        s[len] = '\0';
    }
    return s;
}

/* ---- ids ---------------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b) {
    uint64_t x = ((const id_entry *)a)->id, y = ((const id_entry *)b)->id;
    return x < y ? -1 : x > y;
}

static int build_index(reader *r, id_index *index, size_t count, const uint64_t *ids, size_t stride,
                       const char *what) {
    index->count = count;
    index->dense = 1;
    for (size_t i = 0; i < count; i++) {
        uint64_t id = *(const uint64_t *)((const char *)ids + i * stride);
        if (id == 0)
            return fail(r, "pprof: %s %zu has id 0", what, i);
        if (id != i + 1)
            index->dense = 0;
    }
    if (index->dense)
        return 0;
    index->sorted = malloc((count ? count : 1) * sizeof *index->sorted);
    if (!index->sorted)
        return out_of_memory(r);
    for (size_t i = 0; i < count; i++) {
        index->sorted[i].id = *(const uint64_t *)((const char *)ids + i * stride);
        index->sorted[i].index = (uint32_t)i;
    }
    qsort(index->sorted, count, sizeof *index->sorted, entry_cmp);
    for (size_t i = 1; i < count; i++)
        if (index->sorted[i].id == index->sorted[i - 1].id)
            return fail(r, "pprof: two %ss have id %" PRIu64, what, index->sorted[i].id);
    return 0;
}

/* Position of `id`, or -1. */
static int64_t lookup(const id_index *index, uint64_t id) {
    if (index->dense)
        return id >= 1 && id <= index->count ? (int64_t)(id - 1) : -1;
    size_t lo = 0, hi = index->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (index->sorted[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < index->count && index->sorted[lo].id == id ? (int64_t)index->sorted[lo].index : -1;
}

/* ---- pass 3: mappings, functions, locations ------------------------------- */

static int read_mappings(reader *r) {
    r->map = calloc(r->mappings.count ? r->mappings.count : 1, sizeof *r->map);
    if (!r->map)
        return out_of_memory(r);
    static const char *const names[4] = {HS_PPROF_MAPPING_PYTHON, HS_PPROF_MAPPING_NATIVE,
                                         HS_PPROF_MAPPING_THREAD, HS_PPROF_MAPPING_OTHER};
    for (size_t i = 0; i < r->mappings.count; i++) {
        hs_pb_reader in = hs_pb_reader_of(r->mappings.items[i].data, r->mappings.items[i].len);
        hs_pb_field f;
        int status;
        int64_t filename = 0;
        while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
            if (f.field == PPROF_MAPPING_ID || f.field == PPROF_MAPPING_FILENAME) {
                if (f.wire != HS_PB_VARINT)
                    return wrong_wire(r, "Mapping", f.field, f.wire);
                if (f.field == PPROF_MAPPING_ID)
                    r->map[i].id = f.u;
                else
                    filename = (int64_t)f.u;
            }
        }
        if (status < 0 || check_string(r, filename, "a mapping's file name") != 0)
            return -1;
        r->map[i].kind = -1;
        for (int k = 0; k < 4; k++)
            if (string_equals(r, filename, names[k]))
                r->map[i].kind = k;
    }
    return build_index(r, &r->map_index, r->mappings.count, &r->map[0].id, sizeof *r->map, "mapping");
}

static int read_functions(reader *r) {
    r->fn = calloc(r->functions.count ? r->functions.count : 1, sizeof *r->fn);
    if (!r->fn)
        return out_of_memory(r);
    for (size_t i = 0; i < r->functions.count; i++) {
        hs_pb_reader in = hs_pb_reader_of(r->functions.items[i].data, r->functions.items[i].len);
        hs_pb_field f;
        int status;
        pp_function *fn = &r->fn[i];
        while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
            if (f.field < PPROF_FUNCTION_ID || f.field > PPROF_FUNCTION_START_LINE)
                continue;
            if (f.wire != HS_PB_VARINT)
                return wrong_wire(r, "Function", f.field, f.wire);
            switch (f.field) {
            case PPROF_FUNCTION_ID: fn->id = f.u; break;
            case PPROF_FUNCTION_NAME: fn->name = (int64_t)f.u; break;
            case PPROF_FUNCTION_SYSTEM_NAME: fn->system_name = (int64_t)f.u; break;
            case PPROF_FUNCTION_FILENAME: fn->filename = (int64_t)f.u; break;
            default: fn->start_line = (int64_t)f.u; break;
            }
        }
        if (status < 0 || check_string(r, fn->name, "a function's name") != 0 ||
            check_string(r, fn->system_name, "a function's system name") != 0 ||
            check_string(r, fn->filename, "a function's file name") != 0)
            return -1;
        if (fn->start_line < INT32_MIN || fn->start_line > INT32_MAX)
            return fail(r, "pprof: function %" PRIu64 " starts at line %" PRId64 ", out of range", fn->id,
                        fn->start_line);
    }
    return build_index(r, &r->fn_index, r->functions.count, &r->fn[0].id, sizeof *r->fn, "function");
}

static int read_line(reader *r, const uint8_t *data, size_t len) {
    if (hs_grow((void **)&r->lines, &r->line_cap, r->line_count + 1, sizeof *r->lines) != 0)
        return out_of_memory(r);
    pp_line *line = &r->lines[r->line_count++];
    line->function_id = 0;
    line->line = 0;
    hs_pb_reader in = hs_pb_reader_of(data, len);
    hs_pb_field f;
    int status;
    while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
        if (f.field != PPROF_LINE_FUNCTION_ID && f.field != PPROF_LINE_LINE)
            continue;
        if (f.wire != HS_PB_VARINT)
            return wrong_wire(r, "Line", f.field, f.wire);
        if (f.field == PPROF_LINE_FUNCTION_ID)
            line->function_id = f.u;
        else
            line->line = (int64_t)f.u;
    }
    if (status < 0)
        return -1;
    if (line->line < INT32_MIN || line->line > INT32_MAX)
        return fail(r, "pprof: line number %" PRId64 " out of range", line->line);
    return 0;
}

static int read_locations(reader *r) {
    r->loc = calloc(r->locations.count ? r->locations.count : 1, sizeof *r->loc);
    if (!r->loc)
        return out_of_memory(r);
    for (size_t i = 0; i < r->locations.count; i++) {
        hs_pb_reader in = hs_pb_reader_of(r->locations.items[i].data, r->locations.items[i].len);
        hs_pb_field f;
        int status;
        pp_location *loc = &r->loc[i];
        loc->first_line = r->line_count;
        while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
            switch (f.field) {
            case PPROF_LOCATION_ID:
            case PPROF_LOCATION_MAPPING_ID:
            case PPROF_LOCATION_ADDRESS:
            case PPROF_LOCATION_IS_FOLDED:
                if (f.wire != HS_PB_VARINT)
                    return wrong_wire(r, "Location", f.field, f.wire);
                if (f.field == PPROF_LOCATION_ID)
                    loc->id = f.u;
                else if (f.field == PPROF_LOCATION_MAPPING_ID)
                    loc->mapping_id = f.u;
                else if (f.field == PPROF_LOCATION_ADDRESS)
                    loc->address = f.u;
                break;
            case PPROF_LOCATION_LINE:
                if (f.wire != HS_PB_LEN)
                    return wrong_wire(r, "Location", f.field, f.wire);
                if (read_line(r, f.data, f.len) != 0)
                    return -1;
                break;
            default:
                break;
            }
        }
        if (status < 0)
            return -1;
        loc->line_count = r->line_count - loc->first_line;
    }
    return build_index(r, &r->loc_index, r->locations.count, &r->loc[0].id, sizeof *r->loc, "location");
}

static int push_frame(reader *r, hs_id frame) {
    if (frame == HS_NONE)
        return out_of_memory(r);
    if (hs_grow((void **)&r->frames, &r->frame_cap, r->frame_count + 1, sizeof *r->frames) != 0)
        return out_of_memory(r);
    r->frames[r->frame_count++] = frame;
    return 0;
}

/* Each location's frames, root-most first. */
static int resolve_locations(reader *r) {
    for (size_t i = 0; i < r->locations.count; i++) {
        pp_location *loc = &r->loc[i];
        int kind = -1;
        if (loc->mapping_id) {
            int64_t m = lookup(&r->map_index, loc->mapping_id);
            if (m < 0)
                return fail(r, "pprof: location %" PRIu64 " refers to mapping %" PRIu64 ", which does not exist",
                            loc->id, loc->mapping_id);
            kind = r->map[m].kind;
        }
        loc->first_frame = r->frame_count;
        if (loc->line_count == 0) {
            char name[32];
            snprintf(name, sizeof name, "0x%" PRIx64, loc->address);
            hs_id name_id = hs_intern_cstr(r->p, name), file_id = hs_intern(r->p, "", 0);
            if (name_id == HS_NONE || file_id == HS_NONE)
                return out_of_memory(r);
            if (push_frame(r, hs_frame_intern(r->p, name_id, file_id, 0, 0,
                                              kind >= 0 ? (hs_frame_kind)kind : HS_KIND_OTHER)) != 0)
                return -1;
        }
        /* The last line is the caller the others were inlined into. */
        for (size_t k = loc->line_count; k-- > 0;) {
            const pp_line *line = &r->lines[loc->first_line + k];
            int64_t fi = lookup(&r->fn_index, line->function_id);
            if (fi < 0)
                return fail(r, "pprof: location %" PRIu64 " refers to function %" PRIu64 ", which does not exist",
                            loc->id, line->function_id);
            const pp_function *fn = &r->fn[fi];
            int64_t name = r->strings[fn->name].len ? fn->name : fn->system_name;
            hs_id name_id = model_string(r, name), file_id = model_string(r, fn->filename);
            if (name_id == HS_NONE || file_id == HS_NONE)
                return out_of_memory(r);
            hs_frame_kind frame_kind = kind >= 0                          ? (hs_frame_kind)kind
                                       : r->strings[fn->filename].len ? HS_KIND_PYTHON
                                                                          : HS_KIND_OTHER;
            if (push_frame(r, hs_frame_intern(r->p, name_id, file_id, (int32_t)fn->start_line,
                                              (int32_t)line->line, frame_kind)) != 0)
                return -1;
        }
        loc->frame_count = r->frame_count - loc->first_frame;
    }
    return 0;
}

/* ---- pass 4: comments (metadata, threads) -------------------------------- */

static int read_thread_comment(reader *r, int64_t index) {
    char *text = string_copy(r, index, strlen(HS_PPROF_THREAD_COMMENT));
    if (!text)
        return out_of_memory(r);
    unsigned long long thread_index, os_tid, ident;
    long long wall_ns, cpu_ns;
    int name_at = -1;
    int ok = sscanf(text, "%llu %llu %llu %lld %lld %n", &thread_index, &os_tid, &ident, &wall_ns, &cpu_ns,
                    &name_at) == 5 &&
             name_at >= 0 && thread_index == r->p->thread_count;
    int t = ok ? hs_thread_add(r->p, text + name_at, os_tid, ident) : -1;
    free(text);
    if (!ok)
        return fail(r, "pprof: malformed thread comment (string %" PRId64 ")", index);
    if (t < 0)
        return out_of_memory(r);
    r->p->threads[t].wall_ns = wall_ns;
    r->p->threads[t].cpu_ns = cpu_ns;
    return 0;
}

static int read_comments(reader *r) {
    size_t plain = 0;
    for (size_t i = 0; i < r->comment_count; i++) {
        int64_t index = r->comments[i];
        if (check_string(r, index, "a comment") != 0)
            return -1;
        const span *s = &r->strings[index];
        size_t prefix = strlen(HS_PPROF_THREAD_COMMENT);
        if (s->len >= prefix && memcmp(s->data, HS_PPROF_THREAD_COMMENT, prefix) == 0) {
            if (read_thread_comment(r, index) != 0)
                return -1;
            continue;
        }
        char *text = string_copy(r, index, 0);
        if (!text)
            return out_of_memory(r);
        char *eq = strchr(text, '=');
        int rc;
        if (eq && eq != text) {
            *eq = '\0';
            rc = hs_meta_set(r->p, text, eq + 1);
        } else {
            char key[32];
            snprintf(key, sizeof key, plain ? "comment.%zu" : "comment", plain + 1);
            plain++;
            rc = hs_meta_set(r->p, key, text);
        }
        free(text);
        if (rc != 0)
            return out_of_memory(r);
    }
    return 0;
}

/* ---- sample types ------------------------------------------------------------ */

/* The hotscope weight of a pprof (type, unit), with the factor that turns
 * the unit into the weight's; -1 if none fits. */
static int weight_of(reader *r, int64_t type, int64_t unit, int64_t *scale) {
    static const struct {
        const char *unit;
        int64_t ns;
    } time_units[] = {{"nanoseconds", 1}, {"microseconds", 1000}, {"milliseconds", 1000000}, {"seconds", 1000000000}};
    *scale = 1;
    int is_count = string_equals(r, unit, "count");
    if (string_equals(r, type, "calls") && is_count)
        return HS_W_CALLS;
    if (string_equals(r, type, "samples") && is_count)
        return HS_W_SAMPLES;
    if (string_equals(r, type, "alloc_objects") && is_count)
        return HS_W_ALLOCS;
    if (string_equals(r, type, "alloc_space") && string_equals(r, unit, "bytes"))
        return HS_W_BYTES;
    if (string_equals(r, type, "peak_objects") && is_count)
        return HS_W_PEAK_ALLOCS;
    if (string_equals(r, type, "peak_space") && string_equals(r, unit, "bytes"))
        return HS_W_PEAK_BYTES;
    if (string_equals(r, type, "inuse_objects") && is_count)
        return HS_W_LEAK_ALLOCS;
    if (string_equals(r, type, "inuse_space") && string_equals(r, unit, "bytes"))
        return HS_W_LEAK_BYTES;
    int wall = string_equals(r, type, "wall"), cpu = string_equals(r, type, "cpu");
    if (wall || cpu)
        for (size_t i = 0; i < sizeof time_units / sizeof *time_units; i++)
            if (string_equals(r, unit, time_units[i].unit)) {
                *scale = time_units[i].ns;
                return wall ? HS_W_WALL_NS : HS_W_CPU_NS;
            }
    return -1;
}

static void describe_type(reader *r, size_t i, int64_t type, int64_t unit, hs_buf *out) {
    if (out->len)
        hs_buf_puts(out, ", ");
    hs_buf_append(out, r->strings[type].data, r->strings[type].len);
    hs_buf_putc(out, '/');
    hs_buf_append(out, r->strings[unit].data, r->strings[unit].len);
    (void)i;
}

static int read_sample_types(reader *r) {
    if (r->sample_types.count > 64)
        return fail(r, "pprof: %zu sample types; at most 64 are read", r->sample_types.count);
    int64_t types[64], units[64];
    unsigned used = 0;
    hs_buf ignored;
    hs_buf_init(&ignored);
    for (size_t i = 0; i < r->sample_types.count; i++) {
        hs_pb_reader in = hs_pb_reader_of(r->sample_types.items[i].data, r->sample_types.items[i].len);
        hs_pb_field f;
        int status;
        types[i] = units[i] = 0;
        while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
            if (f.field != PPROF_VALUETYPE_TYPE && f.field != PPROF_VALUETYPE_UNIT)
                continue;
            if (f.wire != HS_PB_VARINT) {
                hs_buf_free(&ignored);
                return wrong_wire(r, "ValueType", f.field, f.wire);
            }
            (f.field == PPROF_VALUETYPE_TYPE ? types : units)[i] = (int64_t)f.u;
        }
        if (status < 0 || check_string(r, types[i], "a sample type") != 0 ||
            check_string(r, units[i], "a sample unit") != 0) {
            hs_buf_free(&ignored);
            return -1;
        }
        int w = weight_of(r, types[i], units[i], &r->scale_of_type[i]);
        if (w >= 0 && (used & (1u << w)))
            w = -1; /* a second type for the same weight: keep the first */
        r->weight_of_type[i] = w;
        if (w >= 0)
            used |= 1u << w;
        else
            describe_type(r, i, types[i], units[i], &ignored);
    }
    int rc = 0;
    if (used == 0 && r->sample_types.count > 0) {
        /* Nothing hotscope knows: count the first value as samples. */
        r->weight_of_type[0] = HS_W_SAMPLES;
        r->scale_of_type[0] = 1;
        used = 1u << HS_W_SAMPLES;
        hs_buf first;
        hs_buf_init(&first);
        describe_type(r, 0, types[0], units[0], &first);
        hs_buf_putc(&first, '\0');
        if (first.failed || hs_meta_set(r->p, "pprof_samples_from", first.data) != 0)
            rc = out_of_memory(r);
        hs_buf_free(&first);
    } else if (ignored.len) {
        hs_buf_putc(&ignored, '\0');
        if (ignored.failed || hs_meta_set(r->p, "pprof_ignored", ignored.data) != 0)
            rc = out_of_memory(r);
    }
    hs_buf_free(&ignored);
    r->p->weights_present |= used;
    return rc;
}

/* ---- pass 5: samples ------------------------------------------------------ */

/* The frame heading a stack with thread label `name` (a string index) and
 * thread_index `index` (-1 when absent). */
static int thread_frame(reader *r, int64_t name, int64_t index, hs_id *frame) {
    hs_profile *p = r->p;
    if (index >= 0) {
        if (index > INT32_MAX)
            return fail(r, "pprof: thread_index %" PRId64 " out of range", index);
        if ((uint64_t)index == p->thread_count) {
            /* A thread the thread comments did not list: add it. */
            char *text = string_copy(r, name, 0);
            int t = text ? hs_thread_add(p, text, 0, 0) : -1;
            free(text);
            if (t < 0)
                return out_of_memory(r);
        }
        hs_id name_id = model_string(r, name), file_id = hs_intern(p, "", 0);
        if (name_id == HS_NONE || file_id == HS_NONE)
            return out_of_memory(r);
        *frame = hs_frame_intern(p, name_id, file_id, (int32_t)index, 0, HS_KIND_THREAD);
        return *frame == HS_NONE ? out_of_memory(r) : 0;
    }
    /* By name only (a foreign file): one thread per distinct name. */
    if (r->thread_by_name[name] == HS_NONE) {
        char *text = string_copy(r, name, 0);
        int t = text ? hs_thread_add(p, text, 0, 0) : -1;
        free(text);
        if (t < 0)
            return out_of_memory(r);
        r->thread_by_name[name] = hs_node_get(p, p->threads[t].root)->frame;
    }
    *frame = r->thread_by_name[name];
    return 0;
}

typedef struct {
    int64_t *ids, *values;
    size_t id_count, id_cap, value_count, value_cap;
    hs_id *stack;
    size_t stack_cap;
} sample_scratch;

static int read_label(reader *r, const hs_pb_field *label, int64_t *thread_name, int64_t *thread_index) {
    hs_pb_reader in = hs_pb_reader_of(label->data, label->len);
    hs_pb_field f;
    int status;
    int64_t key = 0, str = 0, num = 0, num_unit = 0;
    int has_num = 0;
    while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
        if (f.field < PPROF_LABEL_KEY || f.field > PPROF_LABEL_NUM_UNIT)
            continue;
        if (f.wire != HS_PB_VARINT)
            return wrong_wire(r, "Label", f.field, f.wire);
        switch (f.field) {
        case PPROF_LABEL_KEY: key = (int64_t)f.u; break;
        case PPROF_LABEL_STR: str = (int64_t)f.u; break;
        case PPROF_LABEL_NUM: num = (int64_t)f.u, has_num = 1; break;
        default: num_unit = (int64_t)f.u; break;
        }
    }
    if (status < 0 || check_string(r, key, "a label key") != 0 || check_string(r, str, "a label value") != 0 ||
        check_string(r, num_unit, "a label unit") != 0)
        return -1;
    if (str && string_equals(r, key, HS_PPROF_LABEL_THREAD))
        *thread_name = str;
    else if (has_num && string_equals(r, key, HS_PPROF_LABEL_THREAD_INDEX))
        *thread_index = num < 0 ? -2 : num;
    return 0;
}

static int read_sample(reader *r, size_t number, const span *sample, sample_scratch *s) {
    hs_pb_reader in = hs_pb_reader_of(sample->data, sample->len);
    hs_pb_field f;
    int status;
    int64_t thread_name = 0, thread_index = -1;
    s->id_count = s->value_count = 0;
    while ((status = hs_pb_next(&in, &f, r->err)) == 1) {
        if (f.field == PPROF_SAMPLE_LOCATION_ID) {
            if (read_repeated_int(r, &f, &s->ids, &s->id_count, &s->id_cap) != 0)
                return -1;
        } else if (f.field == PPROF_SAMPLE_VALUE) {
            if (read_repeated_int(r, &f, &s->values, &s->value_count, &s->value_cap) != 0)
                return -1;
        } else if (f.field == PPROF_SAMPLE_LABEL) {
            if (f.wire != HS_PB_LEN)
                return wrong_wire(r, "Sample", f.field, f.wire);
            if (read_label(r, &f, &thread_name, &thread_index) != 0)
                return -1;
        }
    }
    if (status < 0)
        return -1;
    if (s->value_count != r->sample_types.count)
        return fail(r, "pprof: sample %zu has %zu values but there are %zu sample types", number, s->value_count,
                    r->sample_types.count);
    if (thread_index == -2)
        return fail(r, "pprof: sample %zu has a negative thread_index", number);

    size_t depth = 0;
    hs_id head = HS_NONE;
    if (thread_name && thread_frame(r, thread_name, thread_index, &head) != 0)
        return -1;
    size_t need = head != HS_NONE;
    for (size_t i = 0; i < s->id_count; i++) {
        int64_t li = lookup(&r->loc_index, (uint64_t)s->ids[i]);
        if (li < 0)
            return fail(r, "pprof: sample %zu refers to location %" PRIu64 ", which does not exist", number,
                        (uint64_t)s->ids[i]);
        need += r->loc[li].frame_count;
    }
    if (need > r->frame_budget)
        return fail(r, "pprof: the samples expand to too many frames (locations with many inlined lines, "
                       "used over and over)");
    r->frame_budget -= need;
    if (hs_grow((void **)&s->stack, &s->stack_cap, need + 1, sizeof *s->stack) != 0)
        return out_of_memory(r);
    if (head != HS_NONE)
        s->stack[depth++] = head;
    /* location_id[0] is the leaf (profile.proto): walk from the root. */
    for (size_t i = s->id_count; i-- > 0;) {
        const pp_location *loc = &r->loc[lookup(&r->loc_index, (uint64_t)s->ids[i])];
        memcpy(s->stack + depth, r->frames + loc->first_frame, loc->frame_count * sizeof *s->stack);
        depth += loc->frame_count;
    }
    int64_t weights[HS_W_COUNT] = {0};
    for (size_t i = 0; i < s->value_count; i++) {
        int w = r->weight_of_type[i];
        if (w < 0)
            continue;
        int64_t v = s->values[i], scale = r->scale_of_type[i];
        if (scale != 1)
            v = v > INT64_MAX / scale ? INT64_MAX : v < INT64_MIN / scale ? INT64_MIN : v * scale;
        weights[w] = hs_sat_add(weights[w], v);
    }
    if (hs_add_stack(r->p, s->stack, depth, weights) == HS_NONE)
        return out_of_memory(r);
    return 0;
}

static int read_samples(reader *r) {
    sample_scratch s;
    memset(&s, 0, sizeof s);
    int rc = 0;
    for (size_t i = 0; i < r->samples.count && rc == 0; i++)
        rc = read_sample(r, i, &r->samples.items[i], &s);
    free(s.ids);
    free(s.values);
    free(s.stack);
    return rc;
}

/* ---- the whole file ------------------------------------------------------ */

static int read_profile(reader *r, const uint8_t *data, size_t len) {
    if (len == 0)
        return fail(r, "pprof: empty profile");
    if (read_profile_fields(r, data, len) != 0)
        return -1;
    if (r->string_count == 0)
        return fail(r, "pprof: not a pprof profile (no string table)");
    if (r->strings[0].len != 0)
        return fail(r, "pprof: not a pprof profile (string_table[0] is not empty)");
    r->string_ids = malloc(r->string_count * sizeof *r->string_ids);
    r->thread_by_name = malloc(r->string_count * sizeof *r->thread_by_name);
    if (!r->string_ids || !r->thread_by_name)
        return out_of_memory(r);
    memset(r->string_ids, 0xFF, r->string_count * sizeof *r->string_ids);
    memset(r->thread_by_name, 0xFF, r->string_count * sizeof *r->thread_by_name);
    r->frame_budget = len * FRAMES_PER_BYTE + FRAMES_FLOOR;
    if (read_sample_types(r) != 0 || read_mappings(r) != 0 || read_functions(r) != 0 ||
        read_locations(r) != 0 || resolve_locations(r) != 0 || read_comments(r) != 0)
        return -1;
    if (r->time_nanos && !hs_meta_get(r->p, "start_ns")) {
        char value[32];
        snprintf(value, sizeof value, "%" PRId64, r->time_nanos);
        if (hs_meta_set(r->p, "start_ns", value) != 0)
            return out_of_memory(r);
    }
    if (r->duration_nanos && !hs_meta_get(r->p, "duration_ns")) {
        char value[32];
        snprintf(value, sizeof value, "%" PRId64, r->duration_nanos);
        if (hs_meta_set(r->p, "duration_ns", value) != 0)
            return out_of_memory(r);
    }
    return read_samples(r);
}

static void reader_free(reader *r) {
    free(r->strings);
    free(r->string_ids);
    free(r->sample_types.items);
    free(r->samples.items);
    free(r->mappings.items);
    free(r->locations.items);
    free(r->functions.items);
    free(r->comments);
    free(r->fn);
    free(r->lines);
    free(r->loc);
    free(r->map);
    free(r->frames);
    free(r->fn_index.sorted);
    free(r->loc_index.sorted);
    free(r->map_index.sorted);
    free(r->thread_by_name);
}

hs_profile *hs_read_pprof(const void *data, size_t n, char *err) {
    reader r;
    memset(&r, 0, sizeof r);
    r.err = err;
    err[0] = '\0';
    if (n == 0) {
        fail(&r, "pprof: empty file");
        return NULL;
    }
    hs_buf plain;
    hs_buf_init(&plain);
    const uint8_t *proto = data;
    size_t len = n;
    if (hs_gzip_detect(data, n)) {
        if (hs_gzip_decompress(data, n, &plain, HS_PPROF_MAX_DECOMPRESSED, err) != 0) {
            hs_buf_free(&plain);
            return NULL;
        }
        proto = (const uint8_t *)plain.data;
        len = plain.len;
    }
    r.p = hs_profile_new();
    int rc = r.p ? read_profile(&r, proto, len) : out_of_memory(&r);
    reader_free(&r);
    hs_buf_free(&plain);
    if (rc != 0) {
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
