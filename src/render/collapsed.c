/*
 * collapsed.c - collapsed stacks, the input of Brendan Gregg's
 * flamegraph.pl, inferno and speedscope's importer:
 *
 *     thread MainThread;main (app.py:3);work (app.py:10) 1500
 *
 * One line per node whose own (self) weight is non-zero: the frames from
 * the first one under the root down to the node, joined by ';', a space,
 * and the weight. Time weights are written in whole microseconds, rounded
 * to nearest; a node whose rounded value is 0 is left out, because readers
 * expect positive integer counts (and "0" lines only add noise). Other
 * weights (samples, calls, bytes, ...) are written as they are.
 *
 * Frame text: "name (file:line)" for Python frames (the executing line when
 * known, else the function's first line), pstats' "{...}" label for
 * builtins, "thread NAME" for thread frames. ';' in a name becomes ':' and
 * control characters (newline, '\r', ...) become spaces, so no name can
 * split a stack or a line.
 *
 * Which weight the counts are: sample counts, what every collapsed reader
 * assumes, are written bare. Any other weight is announced by one first
 * line, "# hotscope collapsed weight=W" (W: wall_us, cpu_us, calls, bytes,
 * allocs), which hotscope's reader (src/read/collapsed_read.c) uses to
 * read the counts back as what they were. Other tools skip it: it does not
 * end in a number, and both flamegraph.pl (which matches each line against
 * /^(.*)\s+?(\d+(?:\.\d*)?)$/ and skips, counting in its "Ignored N lines
 * with invalid format" warning, those that do not match) and speedscope's
 * importer (/^(.*) (\d+)$/, non-matching lines skipped) pass over it
 * (flamegraph.pl, run on such a file, draws the stacks and prints
 * "Ignored 1 lines with invalid format" once).
 *
 * The traversal is iterative: it follows parent /
 * first-child / next-sibling links, so a 100,000-deep stack costs no C
 * stack. The text of the current path is kept with one end offset per
 * depth, so each frame is formatted once per node, not once per line.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "render.h"
#include "render_util.h"

static void put_frame(const hs_profile *p, hs_id fid, hs_buf *tmp, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, fid);
    size_t name_len = 0, file_len = 0;
    const char *name = hs_str(p, f->name, &name_len);
    if (!name)
        name = "", name_len = 0;
    switch (f->kind) {
    case HS_KIND_PYTHON: {
        const char *file = hs_str(p, f->file, &file_len);
        if (!file)
            file = "", file_len = 0;
        hs_render_put_text(out, name, name_len, HS_TEXT_NO_SEMICOLON);
        hs_buf_puts(out, " (");
        hs_render_put_text(out, file, file_len, HS_TEXT_NO_SEMICOLON);
        hs_buf_printf(out, ":%d)", (int)(f->line ? f->line : f->first_line));
        break;
    }
    case HS_KIND_NATIVE:
        /* The pstats label, then made safe for ';'. */
        tmp->len = 0;
        hs_function_label(p, fid, tmp);
        hs_render_put_text(out, tmp->data ? tmp->data : "", tmp->len, HS_TEXT_NO_SEMICOLON);
        break;
    case HS_KIND_THREAD:
        hs_buf_puts(out, "thread ");
        hs_render_put_text(out, name, name_len, HS_TEXT_NO_SEMICOLON);
        break;
    default:
        hs_render_put_text(out, name, name_len, HS_TEXT_NO_SEMICOLON);
        break;
    }
}

/* The value written for a self weight; 0 means "emit nothing". */
static int64_t line_value(int64_t v, hs_weight w) {
    if (v <= 0)
        return 0;
    if (hs_render_is_time_weight(w))
        return v / 1000 + (v % 1000 >= 500); /* ns -> us, half up */
    return v;
}

int hs_render_collapsed(hs_profile *p, hs_weight weight, hs_buf *out, char *err) {
    if (!p || !out) {
        hs_render_error(err, "collapsed: missing argument");
        return -1;
    }
    if ((unsigned)weight >= HS_W_COUNT) {
        hs_render_error(err, "collapsed: unknown weight");
        return -1;
    }
    /* ends[d] = length of path's text through the frame at depth d
     * (depth 1 = first frame under the root; ends[0] = 0). */
    size_t *ends = malloc((p->node_count + 1) * sizeof *ends);
    hs_buf path, tmp;
    hs_buf_init(&path);
    hs_buf_init(&tmp);
    int rc = -1;
    if (!ends)
        goto done;
    ends[0] = 0;
    static const char *const header_names[HS_W_COUNT] = {
        "calls", "wall_us", "cpu_us", NULL, "bytes", "allocs",
        "peak_bytes", "peak_allocs", "leak_bytes", "leak_allocs"};
    if (header_names[weight])
        hs_buf_printf(out, "# hotscope collapsed weight=%s\n", header_names[weight]);

    /* The root carries no frame, so a weight recorded on it has no stack
     * to be written under and is skipped. */
    hs_id node = hs_node_get(p, HS_ROOT)->first_child;
    size_t depth = 1;
    while (node != HS_NONE) {
        const hs_node *nd = hs_node_get(p, node);
        path.len = ends[depth - 1];
        if (depth > 1)
            hs_buf_putc(&path, ';');
        put_frame(p, nd->frame, &tmp, &path);
        ends[depth] = path.len;
        if (path.failed || tmp.failed)
            goto done;
        int64_t v = line_value(nd->self[weight], weight);
        if (v > 0) {
            hs_buf_append(out, path.data, path.len);
            hs_buf_printf(out, " %" PRId64 "\n", v);
        }
        /* Next in depth-first order: first child, else the next sibling
         * of the nearest node (self or ancestor) that has one. */
        if (nd->first_child != HS_NONE) {
            node = nd->first_child;
            depth++;
            continue;
        }
        while (node != HS_NONE && node != HS_ROOT &&
               hs_node_get(p, node)->next_sibling == HS_NONE) {
            node = hs_node_get(p, node)->parent;
            depth--;
        }
        if (node == HS_NONE || node == HS_ROOT)
            break;
        node = hs_node_get(p, node)->next_sibling;
    }
    rc = 0;

done:
    if (rc < 0 || out->failed) {
        hs_render_error(err, "collapsed: out of memory");
        rc = -1;
    }
    free(ends);
    hs_buf_free(&path);
    hs_buf_free(&tmp);
    return rc;
}
