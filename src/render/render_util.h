/*
 * render_util.h - small helpers shared by the renderers of src/render/,
 * implemented in label.c next to hs_function_label. Private to src/render:
 * nothing outside the renderers includes this header.
 */
#ifndef HOTSCOPE_RENDER_UTIL_H
#define HOTSCOPE_RENDER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "render.h"

/* hs_render_put_text flags. */
#define HS_TEXT_PLAIN 0
#define HS_TEXT_NO_SEMICOLON 1 /* also turn ';' into ':' (collapsed stacks) */

/* Appends s[0..len) with every control character (bytes < 0x20 and 0x7f,
 * NUL included) replaced by a space, so a name never breaks a row of a
 * line-oriented output. Other bytes, UTF-8 included, are kept as they are. */
void hs_render_put_text(hs_buf *out, const char *s, size_t len, int flags);

/* The number of characters (UTF-8 code points) in s[0..len): what Python's
 * len() gives for the decoded string, used for pstats' column padding. */
size_t hs_render_text_width(const char *s, size_t len);

/* The UTF-8 sequence at s[i] (i < len): its length, with its code point
 * in *code_point, or 0 when the bytes there are not well-formed UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t hs_utf8_next(const char *s, size_t len, size_t i, uint32_t *code_point);

/* Appends s[0..len) as a quoted JSON string (RFC 8259). Invalid UTF-8
 * becomes \ufffd; <, > and & are escaped too, so the JSON can be placed
 * inside an HTML <script> element as it is (escape.c). */
void hs_render_put_json_string(hs_buf *out, const char *s, size_t len);

/* Appends s[0..len) as XML/HTML text or attribute content: & < > " '
 * escaped, control characters turned into spaces, invalid UTF-8 into
 * U+FFFD (escape.c). */
void hs_render_put_xml_text(hs_buf *out, const char *s, size_t len);

/* The string `id` of the profile, or "" (length 0) when there is none. */
const char *hs_render_str(const hs_profile *p, hs_id id, size_t *len);

/* True for weights measured in nanoseconds (shown as seconds). */
int hs_render_is_time_weight(hs_weight w);

/* A stable merge sort with a context argument (qsort has neither).
 * Returns 0, or -1 when the scratch space cannot be allocated. */
typedef int (*hs_render_cmp_fn)(const void *a, const void *b, void *ctx);
int hs_render_sort(void *base, size_t n, size_t size, hs_render_cmp_fn cmp, void *ctx);

/* Sets err (at least 200 bytes, per render.h) to the message, truncated. */
void hs_render_error(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* short_path.c: the offset in a file name where its import path starts
 * ("json/encoder.py" in ".../lib/python3.12/json/encoder.py", after
 * site-packages/ for third-party code), or 0 for the program's own files. */
size_t hs_render_module_path_offset(const char *file, size_t len);
/* The package a library frame belongs to ("json", "requests", "importlib",
 * "<built-in>"), as a pointer into the string table (or a literal). */
void hs_render_package_name(const hs_profile *p, hs_id frame, const char **s, size_t *len);

/* source_text.c: the source of one profiled function, for the per-line
 * reports (lines_text.c, mem_lines_text.c): an array of lines pointing
 * into `text`, lines[0] being line number `first`. */
typedef struct {
    char *text;
    const char **lines;
    size_t *lengths;
    size_t count;
    int32_t first;
} hs_source_block;

/* Loads the source of the function at (file, first line): from the
 * profile's metadata "source:<file>:<first>" (captured when it was
 * recorded, so a later edit of the file cannot misalign it), else the
 * whole file from disk; an empty block when neither can be read. 0, or -1
 * when memory runs out. Free the block with hs_source_free either way. */
int hs_source_load(const hs_profile *p, const char *file, size_t file_len, int32_t first,
                   hs_source_block *s);
void hs_source_free(hs_source_block *s);
int hs_source_has_line(const hs_source_block *s, int32_t line);
/* Appends the text of `line`, or "(source not available)". */
void hs_source_put_line(hs_buf *out, const hs_source_block *s, int32_t line);

#endif
