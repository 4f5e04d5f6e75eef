/*
 * marshal_read.h - a strict decoder for the subset of Python's marshal
 * format that pstats files use (marshal_read.c), into a small tree of
 * values the pstats reader walks.
 *
 * Values live in one array and refer to each other by index; a
 * container's items are a contiguous run of `items` (a dict's as key,
 * value, key, value, ...). marshal's back-references (TYPE_REF) resolve to
 * the index of the value they name, so shared values are stored once.
 */
#ifndef HOTSCOPE_READ_MARSHAL_H
#define HOTSCOPE_READ_MARSHAL_H

#include <stddef.h>
#include <stdint.h>

#include "../model/buf.h"

typedef enum {
    HS_MV_NONE,
    HS_MV_BOOL,
    HS_MV_INT,    /* fits int64 */
    HS_MV_BIGINT, /* an int outside int64: kept only to say so */
    HS_MV_FLOAT,
    HS_MV_STR,    /* str: UTF-8 bytes, PEP 383 escapes turned back into bytes */
    HS_MV_BYTES,
    HS_MV_TUPLE,
    HS_MV_LIST,
    HS_MV_DICT,
} hs_mv_type;

typedef struct {
    hs_mv_type type;
    union {
        int64_t i;
        double f;
        struct {
            size_t off, len; /* into hs_marshal.text */
        } s;
        struct {
            size_t first, count; /* into hs_marshal.items; dicts: 2 per entry */
        } c;
    } u;
} hs_mv;

typedef struct {
    hs_mv *values;
    size_t value_count, value_cap;
    uint32_t *items;
    size_t item_count, item_cap;
    uint32_t *pending; /* items of containers still being read */
    size_t pending_count, pending_cap;
    uint32_t *refs;    /* FLAG_REF'd values, in the order marshal numbers them */
    size_t ref_count, ref_cap;
    hs_buf text;
} hs_marshal;

/* Decodes one object filling all of data[0..len); returns the index of the
 * top value, or -1 with a message in err (HS_READ_ERR_SIZE bytes). */
long hs_marshal_load(hs_marshal *m, const char *data, size_t len, char *err);
void hs_marshal_free(hs_marshal *m);

const char *hs_mv_type_name(hs_mv_type t);

#endif
