/*
 * model_json.c - the whole profile model as one JSON document: hotscope's
 * own lossless format. `hotscope view` reads it back (src/read/), and the
 * HTML report embeds it as the data its script draws from, so a saved
 * report can be turned into any other format later.
 *
 * Layout (version 1). Ids are indexes into the arrays they name:
 *   {
 *     "format": "hotscope-profile", "version": 1,
 *     "meta":    {"command": "...", "python": "...", ...},
 *     "weights": ["calls", "wall_ns", ...],      the weights present, in
 *                                                the model's order
 *     "strings": ["", "main", "/app/x.py", ...],
 *     "frames":  [[name, file, first_line, line, kind, category], ...]
 *                name/file: string ids; kind: "python" | "native" |
 *                "thread" | "other"; category: see classify.c
 *     "nodes":   [parent, frame, w..., parent, frame, w..., ...]
 *                flat, one record per node after the root (node 0, which
 *                has no frame); each record holds 2 + len(weights)
 *                numbers: the parent node id, the frame id, and the
 *                node's SELF value of each weight listed. A parent's id
 *                is always smaller than its children's.
 *     "threads": [{"name", "os_tid", "ident", "root", "wall_ns", "cpu_ns",
 *                  "gil_states"}], gil_states optional (written when
 *                counted): [held, running without, GIL wait, other
 *                wait, lock wait], passes of the sampler (model.h,
 *                hs_gil_state); files of earlier versions have the
 *                first four, with lock waits in the third
 *     "series":  [{"name", "unit", "thread", "points": [t_ns, v, t_ns, v, ...]}],
 *     "line_tables": [{"name", "unit", "rows": [frame, v, frame, v, ...]}]
 *                optional (absent in files of earlier versions): figures
 *                per line of chosen functions (model.h, hs_line_table)
 *     "slow_calls": [function, caller, thread, wall_ns, args, ...]
 *                optional (written when there are any): the slowest calls
 *                of traced functions (model.h, hs_slow_call), flat, five
 *                numbers each: the function's frame id, the caller's frame
 *                id or -1, the thread index, the duration in ns, and the
 *                string id of the arguments' text
 *     "functions", "merged"
 *                optional, in HTML reports whose call tree was too big
 *                for a page and had its narrowest paths merged
 *                (narrow_merge.h, function_tables.c): the function tables
 *                computed before merging, and what was merged. The nodes
 *                are then the merged tree, whose merged nodes have a last
 *                frame of kind "other" named "[narrow paths merged]", and
 *                meta "merged" says so in words. Readers that skip
 *                unknown members (src/read does) read the merged tree.
 *   }
 * Flat arrays keep a profile of 100,000 stacks a few megabytes; integers
 * are written exactly (JavaScript reads those below 2^53 exactly: 104
 * days of nanoseconds).
 */
#include <inttypes.h>
#include <string.h>

#include "model_json.h"
#include "render_util.h"

static const char *kind_name(hs_frame_kind kind) {
    switch (kind) {
    case HS_KIND_PYTHON:
        return "python";
    case HS_KIND_NATIVE:
        return "native";
    case HS_KIND_THREAD:
        return "thread";
    case HS_KIND_OTHER:
        break;
    }
    return "other";
}

static void put_string_id(hs_profile *p, hs_buf *out, hs_id id) {
    size_t len = 0;
    const char *s = hs_str(p, id, &len);
    hs_render_put_json_string(out, s ? s : "", s ? len : 0);
}

static int is_merged_key(const hs_profile *p, hs_id key) {
    size_t len = 0;
    const char *s = hs_str(p, key, &len);
    return s && len == 6 && memcmp(s, "merged", 6) == 0;
}

/* The "meta" object: the profile's entries, and the note of a merge. */
static void put_meta(hs_profile *p, const char *note, hs_buf *out) {
    hs_buf_puts(out, "{");
    const char *earlier = NULL;
    size_t written = 0;
    for (size_t i = 0; i < p->meta_count; i++) {
        if (note && is_merged_key(p, p->meta[i].key)) {
            earlier = hs_str(p, p->meta[i].value, NULL);
            continue;
        }
        if (written++)
            hs_buf_putc(out, ',');
        put_string_id(p, out, p->meta[i].key);
        hs_buf_putc(out, ':');
        put_string_id(p, out, p->meta[i].value);
    }
    if (note) {
        hs_buf text;
        hs_buf_init(&text);
        if (earlier && earlier[0]) {
            hs_buf_puts(&text, earlier);
            hs_buf_puts(&text, "; ");
        }
        hs_buf_puts(&text, note);
        hs_buf_puts(out, written ? ",\"merged\":" : "\"merged\":");
        hs_render_put_json_string(out, text.data ? text.data : "", text.len);
        if (text.failed)
            out->failed = 1;
        hs_buf_free(&text);
    }
    hs_buf_puts(out, "}");
}

/* The "nodes" array: the profile's, or a view's (narrow_merge.h), whose
 * merged nodes have the frame after the profile's. */
static void put_nodes(const hs_profile *p, const hs_node_view *view, const int *present, int npresent,
                      hs_buf *out) {
    if (!view) {
        for (size_t i = 1; i < p->node_count; i++) {
            const hs_node *nd = &p->nodes[i];
            hs_buf_printf(out, "%s%" PRIu32 ",%" PRIu32, i > 1 ? (i % 16 ? "," : ",\n") : "",
                          nd->parent, nd->frame);
            for (int k = 0; k < npresent; k++)
                hs_buf_printf(out, ",%" PRId64, nd->self[present[k]]);
        }
        return;
    }
    size_t np = (size_t)view->npresent;
    for (size_t j = 1; j < view->count; j++) {
        hs_id frame = view->frame[j] == HS_NONE ? (hs_id)p->frame_count : view->frame[j];
        hs_buf_printf(out, "%s%" PRIu32 ",%" PRIu32, j > 1 ? (j % 16 ? "," : ",\n") : "", view->parent[j],
                      frame);
        for (size_t k = 0; k < np; k++)
            hs_buf_printf(out, ",%" PRId64, view->self[j * np + k]);
    }
}

int hs_render_model_json(hs_profile *p, hs_buf *out, char *err) {
    return hs_render_model_json_view(p, NULL, NULL, NULL, out, err);
}

int hs_render_model_json_view(hs_profile *p, const hs_node_view *view, const hs_buf *members,
                              const char *note, hs_buf *out, char *err) {
    if (view && view->count == 0)
        view = NULL;
    int extra_frame = view && view->merged_nodes > 0;
    hs_buf_puts(out, "{\"format\":\"hotscope-profile\",\"version\":1,\n\"meta\":");
    put_meta(p, note, out);
    hs_buf_puts(out, ",\n\"weights\":[");
    int present[HS_W_COUNT];
    int npresent = 0;
    for (int w = 0; w < HS_W_COUNT; w++) {
        if (p->weights_present & (1u << w)) {
            hs_buf_printf(out, "%s\"%s\"", npresent ? "," : "", hs_weight_name((hs_weight)w));
            present[npresent++] = w;
        }
    }
    hs_buf_puts(out, "],\n\"strings\":[");
    for (size_t i = 0; i < p->strings.count; i++) {
        if (i)
            hs_buf_puts(out, i % 16 ? "," : ",\n");
        hs_render_put_json_string(out, p->strings.strings[i], p->strings.lengths[i]);
    }
    if (extra_frame) /* the merged nodes' name and file */
        hs_buf_printf(out, "%s\"" HS_NARROW_MERGED_NAME "\",\"\"", p->strings.count ? "," : "");
    hs_buf_puts(out, "],\n\"frames\":[");
    for (size_t i = 0; i < p->frame_count; i++) {
        const hs_frame *f = &p->frames[i];
        hs_buf_printf(out, "%s[%" PRIu32 ",%" PRIu32 ",%" PRId32 ",%" PRId32 ",\"%s\",\"%s\"]",
                      i ? (i % 8 ? "," : ",\n") : "", f->name, f->file, f->first_line, f->line,
                      kind_name(f->kind), hs_category_name(hs_frame_category(p, (hs_id)i)));
    }
    if (extra_frame)
        hs_buf_printf(out, "%s[%zu,%zu,0,0,\"other\",\"synthetic\"]", p->frame_count ? "," : "",
                      p->strings.count, p->strings.count + 1);
    hs_buf_puts(out, "],\n\"nodes\":[");
    put_nodes(p, view, present, npresent, out);
    hs_buf_puts(out, "],\n\"threads\":[");
    for (size_t i = 0; i < p->thread_count; i++) {
        const hs_thread *t = &p->threads[i];
        hs_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        put_string_id(p, out, t->name);
        hs_buf_printf(out,
                      ",\"os_tid\":%" PRIu64 ",\"ident\":%" PRIu64 ",\"root\":%" PRIu32
                      ",\"wall_ns\":%" PRId64 ",\"cpu_ns\":%" PRId64 "}",
                      t->os_tid, t->ident, view ? view->written[t->root] : t->root, t->wall_ns, t->cpu_ns);
        int64_t states = 0;
        for (int k = 0; k < HS_GIL_STATE_COUNT; k++)
            states |= t->gil_states[k];
        if (states) {
            out->len--; /* reopen the object */
            hs_buf_puts(out, ",\"gil_states\":[");
            for (int k = 0; k < HS_GIL_STATE_COUNT; k++)
                hs_buf_printf(out, "%s%" PRId64, k ? "," : "", t->gil_states[k]);
            hs_buf_puts(out, "]}");
        }
    }
    hs_buf_puts(out, "],\n\"series\":[");
    for (size_t i = 0; i < p->series_count; i++) {
        const hs_series *s = &p->series[i];
        hs_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        put_string_id(p, out, s->name);
        hs_buf_puts(out, ",\"unit\":");
        put_string_id(p, out, s->unit);
        hs_buf_printf(out, ",\"thread\":%" PRId32 ",\"points\":[", s->thread);
        for (size_t k = 0; k < s->count; k++)
            hs_buf_printf(out, "%s%" PRId64 ",%" PRId64, k ? "," : "", s->points[k].t_ns,
                          s->points[k].value);
        hs_buf_puts(out, "]}");
    }
    hs_buf_puts(out, "],\n\"line_tables\":[");
    for (size_t i = 0; i < p->line_table_count; i++) {
        const hs_line_table *t = &p->line_tables[i];
        hs_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        put_string_id(p, out, t->name);
        hs_buf_puts(out, ",\"unit\":");
        put_string_id(p, out, t->unit);
        hs_buf_puts(out, ",\"rows\":[");
        for (size_t k = 0; k < t->count; k++)
            hs_buf_printf(out, "%s%" PRIu32 ",%" PRId64, k ? "," : "", t->rows[k].frame,
                          t->rows[k].value);
        hs_buf_puts(out, "]}");
    }
    hs_buf_puts(out, "]");
    if (p->slow_call_count) {
        hs_buf_puts(out, ",\n\"slow_calls\":[");
        for (size_t i = 0; i < p->slow_call_count; i++) {
            const hs_slow_call *c = &p->slow_calls[i];
            hs_buf_printf(out, "%s%" PRIu32 ",%lld,%" PRId32 ",%" PRId64 ",%" PRIu32, i ? ",\n" : "",
                          c->function, c->caller == HS_NONE ? -1LL : (long long)c->caller, c->thread,
                          c->wall_ns, c->args);
        }
        hs_buf_puts(out, "]");
    }
    if (members)
        hs_buf_append(out, members->data, members->len);
    hs_buf_puts(out, "}\n");
    if (out->failed) {
        hs_render_error(err, "out of memory writing the profile as JSON");
        return -1;
    }
    return 0;
}
