/*
 * model_json.h - the model JSON (model_json.c) as the HTML report writes
 * it: with the call tree cut to a size (narrow_merge.h) and the members
 * that then keep the report exact (function_tables.c). Private to
 * src/render.
 */
#ifndef HOTSCOPE_MODEL_JSON_H
#define HOTSCOPE_MODEL_JSON_H

#include "narrow_merge.h"
#include "render.h"

/* hs_render_model_json with, when `view` has nodes, the nodes taken from
 * it, and one more frame (with two more strings) for its merged nodes:
 * HS_NARROW_MERGED_NAME, kind "other". `members`, when not NULL, is
 * written as more top-level members (",\"name\":value..."). `note`, when
 * not NULL, is the value of a "merged" metadata entry, joined with "; "
 * to one the profile already has (a report of a merged report). */
int hs_render_model_json_view(hs_profile *p, const hs_node_view *view, const hs_buf *members,
                              const char *note, hs_buf *out, char *err);

/* function_tables.c: the "functions" and "merged" members of a report
 * whose tree is `view` (which has nodes), appended to `out`. May intern
 * function frames in p (stats.h), so it comes before the JSON. Returns 0
 * or -1 on allocation failure. */
int hs_render_function_tables(hs_profile *p, const hs_node_view *view, hs_buf *out);

#endif
