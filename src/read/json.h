/*
 * json.h - a strict, pull-style JSON reader (RFC 8259) for the profile
 * readers of src/read/.
 *
 * Why a pull parser rather than a tree: the files read here are hotscope's
 * model JSON and speedscope files of 100,000 stacks, i.e. millions of small
 * numbers. Building a node per number would cost more memory than the
 * profile itself; a cursor that the reader steps through costs nothing
 * beyond the input. Readers that need one member before another (speedscope
 * may put "profiles" before "shared") remember a member's position with
 * hs_json_mark() and come back to it with hs_json_seek().
 *
 * Every value the cursor passes over is validated, whether the reader
 * looks at it or skips it (hs_json_skip), so a document that is not valid
 * JSON is always rejected, never half-read:
 *   - nesting is bounded (HS_JSON_MAX_DEPTH) and nothing recurses, so
 *     "[[[[..." of any depth costs no C stack;
 *   - strings must be well-formed UTF-8 (RFC 3629) and use only the escapes
 *     of RFC 8259 section 7; \u escapes of surrogate pairs are combined.
 *     A lone surrogate cannot be UTF-8: U+DC80..U+DCFF (how Python carries
 *     undecodable bytes, PEP 383) become the byte they stand for, since
 *     profile strings are byte strings; other lone surrogates are errors,
 *     or U+FFFD with lone_surrogates_as_fffd set (RFC 8259 section 8.2
 *     allows them in the grammar; JavaScript's JSON.stringify writes them
 *     as escapes, ECMA-262 "QuoteJSONString");
 *   - numbers follow the grammar of RFC 8259 section 6 exactly.
 * Errors are one line with the byte offset: "... at byte 1234"; those of
 * text that breaks the grammar (not a value of the wrong type or range)
 * start "damaged JSON: ".
 *
 * The first error is sticky: every later call fails at once, so a reader
 * may check once after a loop.
 */
#ifndef HOTSCOPE_READ_JSON_H
#define HOTSCOPE_READ_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "../model/buf.h"

#define HS_JSON_MAX_DEPTH 256

typedef enum {
    HS_JSON_NONE = 0, /* no value here (end of input, or an error) */
    HS_JSON_NULL,
    HS_JSON_BOOL,
    HS_JSON_NUMBER,
    HS_JSON_STRING,
    HS_JSON_ARRAY,
    HS_JSON_OBJECT,
} hs_json_type;

typedef struct {
    const char *data;
    size_t len;
    size_t pos;
    int depth;       /* containers entered and not yet left */
    int first;       /* the container just entered has had no item yet */
    int failed;
    char *err;       /* message buffer of err_size bytes */
    size_t err_size;
    hs_buf scratch;  /* decoded strings live here until the next read */
    hs_buf key;      /* the last member name */
    int lone_surrogates_as_fffd; /* set after hs_json_init: see above */
} hs_json;

/* A position to come back to (hs_json_mark / hs_json_seek). */
typedef struct {
    size_t pos;
    int depth;
    int first;
} hs_json_mark_t;

void hs_json_init(hs_json *j, const char *data, size_t len, char *err, size_t err_size);
void hs_json_free(hs_json *j);

/* Records a message (with the byte offset of the cursor) and returns -1.
 * Only the first failure is kept. */
int hs_json_fail(hs_json *j, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The type of the value at the cursor (after whitespace); NONE on error or
 * at the end of the input. Does not consume anything. */
hs_json_type hs_json_peek(hs_json *j);
const char *hs_json_type_name(hs_json_type t);

/* Objects: enter, then hs_json_next_member() until it returns 0. It
 * returns 1 with the cursor on the member's value (which the caller must
 * read or skip), 0 once '}' is consumed, -1 on error. The key is decoded
 * into j->key (valid until the next member). */
int hs_json_enter_object(hs_json *j);
int hs_json_next_member(hs_json *j, const char **key, size_t *key_len);

/* Arrays: enter, then hs_json_next_item() until it returns 0; 1 means the
 * cursor is on an item, which the caller must read or skip. */
int hs_json_enter_array(hs_json *j);
int hs_json_next_item(hs_json *j);

/* Scalars. Each returns 0, or -1 (with a message) when the value at the
 * cursor is of another type or out of range. */
/* Strings are decoded into j->scratch (keys into j->key), NUL-terminated
 * after *len bytes; they may hold NULs themselves. */
int hs_json_read_string(hs_json *j, const char **s, size_t *len);
int hs_json_read_int(hs_json *j, int64_t *v);    /* an integral number in int64 range */
int hs_json_read_uint(hs_json *j, uint64_t *v);  /* a non-negative integer in uint64 range */
int hs_json_read_double(hs_json *j, double *v);  /* any finite number */
/* Any finite number: returns 1 when it is written as an integer that fits
 * int64 (*i exact, *d approximate), 0 otherwise (*d only), -1 on error. */
int hs_json_read_number(hs_json *j, int64_t *i, double *d);
int hs_json_read_bool(hs_json *j, int *v);
int hs_json_read_null(hs_json *j);

/* Validates and steps over one value of any type. */
int hs_json_skip(hs_json *j);
/* Checks that only whitespace is left after the top-level value. */
int hs_json_finish(hs_json *j);

hs_json_mark_t hs_json_mark(const hs_json *j);
void hs_json_seek(hs_json *j, hs_json_mark_t m);

#endif
