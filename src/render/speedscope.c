/*
 * speedscope.c - the model in speedscope's file format, which
 * https://www.speedscope.app opens directly.
 *
 * The format is speedscope's src/lib/file-format-spec.ts (published as
 * https://www.speedscope.app/file-format-schema.json):
 *   {"$schema": "https://www.speedscope.app/file-format-schema.json",
 *    "shared": {"frames": [{"name", "file"?, "line"?, "col"?}, ...]},
 *    "profiles": [{"type": "sampled", "name", "unit", "startValue",
 *                  "endValue", "samples": [[frame index, ...], ...],
 *                  "weights": [number, ...]}, ...],
 *    "name"?, "activeProfileIndex"?, "exporter"?}
 * with unit one of "none", "nanoseconds", "microseconds", "milliseconds",
 * "seconds", "bytes". A sample is a stack, root-most frame first.
 *
 * What hotscope writes:
 *   - one "sampled" profile per thread, named after the thread; the thread
 *     frame itself is not a frame of the stacks. Stacks under the root that
 *     belong to no thread (no engine makes them today) form one more
 *     profile, "(no thread)", with their top frame kept;
 *   - one sample per distinct stack whose own (self) weight is positive,
 *     weighted by that self weight: the same numbers the collapsed format
 *     carries, in the profile's unit: nanoseconds for wall and CPU time
 *     (exact, not rounded), "bytes" for bytes, "none" for samples, calls
 *     and allocations;
 *   - frames as {"name", "file", "line"} for Python functions (the line
 *     executing when known, else the first line), {"name", "file": "~"} for
 *     builtins (pstats' convention, which speedscope_read.c recognises),
 *     {"name"} for other synthetic frames;
 *   - "name" is the profiled command (meta "command"), "exporter" the
 *     caller's string ("hotscope 0.1.0"), "activeProfileIndex" the busiest
 *     thread, so speedscope opens on it.
 * Names go through hs_render_put_json_string, so any bytes make valid JSON.
 * Like collapsed.c, the walk is iterative and keeps the text of the current
 * stack with an end offset per depth: each frame index is formatted once
 * per node, not once per sample.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

static void put_u64(hs_buf *out, uint64_t v) {
    char tmp[24];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    hs_buf_append(out, tmp + n, sizeof tmp - n);
}

static void put_frame(const hs_profile *p, hs_id fid, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, fid);
    size_t name_len = 0, file_len = 0;
    const char *name = hs_str(p, f->name, &name_len);
    const char *file = hs_str(p, f->file, &file_len);
    hs_buf_puts(out, "{\"name\":");
    hs_render_put_json_string(out, name ? name : "", name ? name_len : 0);
    if (f->kind == HS_KIND_PYTHON) {
        hs_buf_puts(out, ",\"file\":");
        hs_render_put_json_string(out, file ? file : "", file ? file_len : 0);
        int32_t line = f->line ? f->line : f->first_line;
        if (line > 0) {
            hs_buf_puts(out, ",\"line\":");
            put_u64(out, (uint64_t)line);
        }
    } else if (f->kind == HS_KIND_NATIVE) {
        hs_buf_puts(out, ",\"file\":\"~\"");
    }
    hs_buf_putc(out, '}');
}

static const char *unit_of(hs_weight w) {
    switch (w) {
    case HS_W_WALL_NS:
    case HS_W_CPU_NS:
        return "nanoseconds";
    case HS_W_BYTES:
        return "bytes";
    default:
        return "none";
    }
}

typedef struct {
    hs_profile *p;
    hs_weight weight;
    int32_t *frame_index; /* model frame id -> speedscope index, -1 if not yet used */
    size_t frames_used;
    hs_buf frames;        /* the "frames" array's items */
    hs_buf path;          /* "i,j,k" of the current stack */
    size_t *ends;         /* path.len after each depth */
    hs_buf samples;       /* the current profile's samples */
    hs_buf weights;
} writer;

static int32_t frame_index(writer *w, hs_id fid) {
    if (w->frame_index[fid] < 0) {
        if (w->frames_used)
            hs_buf_putc(&w->frames, ',');
        put_frame(w->p, fid, &w->frames);
        w->frame_index[fid] = (int32_t)w->frames_used++;
    }
    return w->frame_index[fid];
}

/* One profile: the stacks under `top`, without top's own frame when it is
 * a thread frame. Returns the total weight written. */
static int64_t put_profile(writer *w, hs_id top, hs_buf *out) {
    const hs_profile *p = w->p;
    int keep_top = hs_frame_get(p, hs_node_get(p, top)->frame)->kind != HS_KIND_THREAD;
    w->samples.len = 0;
    w->weights.len = 0;
    int64_t total = 0;
    size_t count = 0;
    hs_id node = top;
    size_t depth = 0; /* frames in the current stack */
    w->ends[0] = 0;
    for (;;) {
        const hs_node *nd = hs_node_get(p, node);
        if (node != top || keep_top) {
            depth++;
            w->path.len = w->ends[depth - 1];
            if (depth > 1)
                hs_buf_putc(&w->path, ',');
            put_u64(&w->path, (uint64_t)frame_index(w, nd->frame));
            w->ends[depth] = w->path.len;
        }
        int64_t v = nd->self[w->weight];
        if (v > 0) {
            hs_buf_puts(&w->samples, count ? ",[" : "[");
            hs_buf_append(&w->samples, w->path.data, w->ends[depth]);
            hs_buf_putc(&w->samples, ']');
            if (count)
                hs_buf_putc(&w->weights, ',');
            put_u64(&w->weights, (uint64_t)v);
            total = hs_sat_add(total, v);
            count++;
        }
        if (nd->first_child != HS_NONE) {
            node = nd->first_child;
            continue;
        }
        /* Climb to the nearest node with a next sibling, never above top. */
        while (node != top && hs_node_get(p, node)->next_sibling == HS_NONE) {
            node = hs_node_get(p, node)->parent;
            depth--;
        }
        if (node == top)
            break;
        node = hs_node_get(p, node)->next_sibling;
        depth--; /* the sibling takes the place of the node at this depth */
    }

    const hs_frame *tf = hs_frame_get(p, hs_node_get(p, top)->frame);
    size_t name_len = 0;
    const char *name = hs_str(p, tf->name, &name_len);
    if (keep_top || !name)
        name = "(no thread)", name_len = strlen(name);
    hs_buf_puts(out, "{\"type\":\"sampled\",\"name\":");
    hs_render_put_json_string(out, name, name_len);
    hs_buf_printf(out, ",\"unit\":\"%s\",\"startValue\":0,\"endValue\":", unit_of(w->weight));
    put_u64(out, (uint64_t)total);
    hs_buf_puts(out, ",\n\"samples\":[");
    hs_buf_append(out, w->samples.data ? w->samples.data : "", w->samples.len);
    hs_buf_puts(out, "],\n\"weights\":[");
    hs_buf_append(out, w->weights.data ? w->weights.data : "", w->weights.len);
    hs_buf_puts(out, "]}");
    if (w->samples.failed || w->path.failed || w->weights.failed || w->frames.failed)
        out->failed = 1;
    return total;
}

int hs_render_speedscope(hs_profile *p, hs_weight weight, const char *exporter, hs_buf *out, char *err) {
    if (!p || !out) {
        hs_render_error(err, "speedscope: missing argument");
        return -1;
    }
    if ((unsigned)weight >= HS_W_COUNT) {
        hs_render_error(err, "speedscope: unknown weight");
        return -1;
    }
    writer w;
    memset(&w, 0, sizeof w);
    w.p = p;
    w.weight = weight;
    hs_buf_init(&w.frames);
    hs_buf_init(&w.path);
    hs_buf_init(&w.weights);
    hs_buf_init(&w.samples);
    hs_buf profiles;
    hs_buf_init(&profiles);
    w.frame_index = malloc((p->frame_count ? p->frame_count : 1) * sizeof *w.frame_index);
    w.ends = malloc((p->node_count + 1) * sizeof *w.ends);
    int rc = -1;
    if (!w.frame_index || !w.ends)
        goto done;
    memset(w.frame_index, 0xff, (p->frame_count ? p->frame_count : 1) * sizeof *w.frame_index);

    size_t nprofiles = 0, busiest = 0;
    int64_t busiest_total = -1;
    for (hs_id top = hs_node_get(p, HS_ROOT)->first_child; top != HS_NONE;
         top = hs_node_get(p, top)->next_sibling) {
        if (nprofiles)
            hs_buf_putc(&profiles, ',');
        int64_t total = put_profile(&w, top, &profiles);
        if (total > busiest_total)
            busiest_total = total, busiest = nprofiles;
        nprofiles++;
    }

    hs_buf_puts(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n\"name\":");
    const char *command = hs_meta_get(p, "command");
    if (!command)
        command = "hotscope profile";
    hs_render_put_json_string(out, command, strlen(command));
    hs_buf_puts(out, ",\"exporter\":");
    exporter = exporter ? exporter : "hotscope";
    hs_render_put_json_string(out, exporter, strlen(exporter));
    hs_buf_printf(out, ",\"activeProfileIndex\":%zu,\n\"shared\":{\"frames\":[", busiest);
    hs_buf_append(out, w.frames.data ? w.frames.data : "", w.frames.len);
    hs_buf_puts(out, "]},\n\"profiles\":[");
    hs_buf_append(out, profiles.data ? profiles.data : "", profiles.len);
    hs_buf_puts(out, "]}\n");
    if (!w.frames.failed && !profiles.failed)
        rc = 0;

done:
    if (rc < 0 || out->failed) {
        hs_render_error(err, "speedscope: out of memory");
        rc = -1;
    }
    free(w.frame_index);
    free(w.ends);
    hs_buf_free(&w.frames);
    hs_buf_free(&w.path);
    hs_buf_free(&w.weights);
    hs_buf_free(&w.samples);
    hs_buf_free(&profiles);
    return rc;
}
