/*
 * read.h - profiles from files: every format hotscope writes, and the
 * common formats other tools write, back into the model of model.h.
 *
 * Each reader takes the whole file as bytes (it need not be NUL-terminated)
 * and returns a new profile the caller frees with hs_profile_free, or NULL
 * with one line in `err` (HS_READ_ERR_SIZE bytes) saying what is wrong and
 * where ("line 12: ...", "... at byte 3456"). Input is untrusted: every
 * length, index and count is checked before use, nothing recurses on the
 * input's nesting, and no input makes a reader crash or leak.
 *
 * Every stack a reader builds hangs under a thread (model.h): formats with
 * threads (hotscope's JSON, speedscope's profiles, hotscope's collapsed
 * "thread NAME" frames) keep theirs, others get one thread.
 */
#ifndef HOTSCOPE_READ_H
#define HOTSCOPE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"

#define HS_READ_ERR_SIZE 256

/* hotscope's own JSON (layout in src/render/model_json.c). */
hs_profile *hs_read_model_json(const char *data, size_t len, char *err);

/* The model JSON embedded in an HTML report or an SVG flame graph: the one
 * <script type="application/json" id="hotscope-profile"> element. */
hs_profile *hs_read_embedded(const char *data, size_t len, char *err);

/* A speedscope file (https://www.speedscope.app/file-format-schema.json):
 * sampled and evented profiles, one thread each. */
hs_profile *hs_read_speedscope(const char *data, size_t len, char *err);

/* Collapsed stacks ("a;b;c 42" lines): FlameGraph, py-spy, Austin, hotscope. */
hs_profile *hs_read_collapsed(const char *data, size_t len, char *err);

/* A pstats .prof file (marshal of cProfile's stats dict); the call tree is
 * estimated from the per-caller figures (pstats_read.c). */
hs_profile *hs_read_pstats(const char *data, size_t len, char *err);

/* hotscope's text reports, the `.txt` files it writes, read back as far
 * as the text carries the profile: the call tree of trace and record
 * reports (text_tree_read.c), kernprof's line report (lines_text_read.c),
 * the memory report (mem_text_read.c). Each file says what comes back. */
hs_profile *hs_read_text_tree(const char *data, size_t len, char *err);
hs_profile *hs_read_lines_text(const char *data, size_t len, char *err);
hs_profile *hs_read_mem_text(const char *data, size_t len, char *err);

/* ---- helpers shared by the readers (read_util.c) ---------------------- */

/* Formats the message into err (HS_READ_ERR_SIZE bytes); returns NULL so a
 * reader can `return hs_read_error(...)`. */
/* Makes an error message one line: control characters (a newline quoted
 * from the file being read, say) become spaces. hs_read_error does it;
 * readers that format their own messages call it. */
void hs_read_one_line(char *msg);

void *hs_read_error(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
size_t hs_read_utf8_seq(const unsigned char *s, size_t len, size_t i);

/* Appends a thread whose root node already exists (a reader that rebuilds
 * a saved thread table); returns its index or -1. */
int hs_read_add_thread(hs_profile *p, hs_id name, uint64_t os_tid, uint64_t ident, hs_id root,
                       int64_t wall_ns, int64_t cpu_ns);

/* A thread for imported stacks: hs_thread_add with a name of given length.
 * Returns the thread's root node, or HS_NONE. */
hs_id hs_read_new_thread(hs_profile *p, const char *name, size_t name_len);

/* The weight names of model_json.c ("calls", "wall_ns", ...): the weight,
 * or HS_W_COUNT when the name is none of them. */
hs_weight hs_read_weight_named(const char *name, size_t len);

/* A value scaled by `scale` (e.g. microseconds to nanoseconds), rounded
 * to nearest; -1 when the result is not a finite value in [0, INT64_MAX]. */
int hs_read_scale(double value, double scale, int64_t *out);

#endif
