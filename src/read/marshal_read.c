/*
 * marshal_read.c - decoding the marshal data of pstats files
 * (marshal_read.h).
 *
 * Type codes and layouts are those of CPython's Python/marshal.c (r_object,
 * r_PyLong, r_float_str, r_ref), formats 2 to 4 as marshal.dumps and
 * cProfile write them:
 *   '0' NULL (ends a dict)   'N' None   'F' False   'T' True
 *   'i' int32 LE             'I' int64 LE (old files)
 *   'l' int32 n, then |n| 15-bit digits (u16 LE), least significant first;
 *       the sign of n is the number's
 *   'g' IEEE 754 double LE   'f' u8 length + text of a float (format < 2)
 *   'u' / 't' u32 length + UTF-8 (decoded "surrogatepass")
 *   'a' / 'A' u32 length + ASCII; 'z' / 'Z' u8 length + ASCII
 *   's' u32 length + bytes (Python 2's str)
 *   '(' u32 count + items; ')' u8 count + items; '[' list, as '('
 *   '{' key value ... '0'
 *   'r' u32 index: a reference to the index-th value stored with FLAG_REF
 * FLAG_REF (0x80) on a type code adds the value to the reference table:
 * a tuple, list or dict when it starts (before its items), any other value
 * once read, as r_ref does. Lengths and counts are checked against the
 * bytes left before anything is allocated; nesting is limited (the data
 * pstats needs is 5 deep) so hostile input cannot exhaust the C stack.
 *
 * Strings: the model keeps byte strings, so PEP 383 escapes (U+DC80 to
 * U+DCFF, which hotscope's pstats writer uses for undecodable bytes) turn
 * back into the bytes they stand for; other well-formed UTF-8 and
 * surrogates are kept as they are; malformed UTF-8 is an error, as it is
 * for marshal.loads.
 */
#include "marshal_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

#define MAX_DEPTH 64
#define FLAG_REF 0x80

typedef struct {
    hs_marshal *m;
    const unsigned char *data;
    size_t len, pos;
    char *err;
    int failed;
} rfile;

const char *hs_mv_type_name(hs_mv_type t) {
    static const char *const names[] = {"None", "bool", "int", "int", "float", "str",
                                        "bytes", "tuple", "list", "dict"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "value";
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static long fail(rfile *r, const char *fmt, ...) {
    if (!r->failed) {
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        hs_read_error(r->err, "bad marshal data: %s at byte %zu", msg, r->pos);
        r->failed = 1;
    }
    return -1;
}

static int need(rfile *r, size_t n) {
    if (r->len - r->pos < n) {
        fail(r, "the data ends in the middle of a value");
        return -1;
    }
    return 0;
}

static uint32_t u32le(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int grow(void **arr, size_t *cap, size_t count, size_t elem) {
    if (count < *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    void *grown = realloc(*arr, n * elem);
    if (!grown)
        return -1;
    *arr = grown;
    *cap = n;
    return 0;
}

static long new_value(rfile *r, hs_mv_type type) {
    hs_marshal *m = r->m;
    if (grow((void **)&m->values, &m->value_cap, m->value_count, sizeof *m->values) < 0)
        return fail(r, "out of memory");
    hs_mv *v = &m->values[m->value_count];
    memset(v, 0, sizeof *v);
    v->type = type;
    return (long)m->value_count++;
}

static int add_ref(rfile *r, long index) {
    hs_marshal *m = r->m;
    if (grow((void **)&m->refs, &m->ref_cap, m->ref_count, sizeof *m->refs) < 0)
        return (int)fail(r, "out of memory");
    m->refs[m->ref_count++] = (uint32_t)index;
    return 0;
}

/* A str's bytes into m->text: UTF-8 checked, PEP 383 escapes decoded. */
static long read_utf8(rfile *r, size_t n, long index) {
    hs_marshal *m = r->m;
    const unsigned char *s = r->data + r->pos;
    size_t off = m->text.len;
    for (size_t i = 0; i < n;) {
        size_t k = hs_read_utf8_seq(s, n, i);
        if (k == 0 && s[i] == 0xED && n - i >= 3 && s[i + 1] >= 0xA0 && s[i + 1] <= 0xBF &&
            (s[i + 2] & 0xC0) == 0x80) {
            /* An encoded surrogate ("surrogatepass"). */
            unsigned cp = 0xD000u | (unsigned)(s[i + 1] & 0x3F) << 6 | (unsigned)(s[i + 2] & 0x3F);
            if (cp >= 0xDC80 && cp <= 0xDCFF)
                hs_buf_putc(&m->text, (char)(cp - 0xDC00));
            else
                hs_buf_append(&m->text, s + i, 3);
            i += 3;
            continue;
        }
        if (k == 0) {
            r->pos += i;
            return fail(r, "a string is not valid UTF-8");
        }
        hs_buf_append(&m->text, s + i, k);
        i += k;
    }
    r->pos += n;
    m->values[index].u.s.off = off;
    m->values[index].u.s.len = m->text.len - off;
    return index;
}

/* Latin-1 (what marshal makes of 'a'/'z' bytes) to UTF-8. */
static long read_latin1(rfile *r, size_t n, long index) {
    hs_marshal *m = r->m;
    const unsigned char *s = r->data + r->pos;
    size_t off = m->text.len;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80)
            hs_buf_putc(&m->text, (char)s[i]);
        else {
            hs_buf_putc(&m->text, (char)(0xC0 | (s[i] >> 6)));
            hs_buf_putc(&m->text, (char)(0x80 | (s[i] & 0x3F)));
        }
    }
    r->pos += n;
    m->values[index].u.s.off = off;
    m->values[index].u.s.len = m->text.len - off;
    return index;
}

static long read_object(rfile *r, int depth);

/* Items of a container: read onto the pending stack, then moved to one
 * contiguous run of m->items. */
static long read_items(rfile *r, long index, size_t count, int is_dict, int depth) {
    hs_marshal *m = r->m;
    size_t base = m->pending_count;
    for (size_t i = 0; is_dict || i < count; i++) {
        long item = read_object(r, depth + 1);
        if (item == -2) { /* NULL: the end of a dict, an error anywhere else */
            if (is_dict && i % 2 == 0)
                break;
            return fail(r, "NULL object inside a %s", is_dict ? "dict" : "tuple or list");
        }
        if (item < 0)
            return -1;
        if (grow((void **)&m->pending, &m->pending_cap, m->pending_count, sizeof *m->pending) < 0)
            return fail(r, "out of memory");
        m->pending[m->pending_count++] = (uint32_t)item;
    }
    size_t n = m->pending_count - base;
    while (m->item_count + n > m->item_cap) {
        if (grow((void **)&m->items, &m->item_cap, m->item_cap, sizeof *m->items) < 0)
            return fail(r, "out of memory");
    }
    if (n)
        memcpy(m->items + m->item_count, m->pending + base, n * sizeof *m->items);
    m->values[index].u.c.first = m->item_count;
    m->values[index].u.c.count = n;
    m->item_count += n;
    m->pending_count = base;
    return index;
}

/* Returns the value's index, -2 for TYPE_NULL, -1 on error. */
static long read_object(rfile *r, int depth) {
    if (depth > MAX_DEPTH)
        return fail(r, "nested more than %d deep", MAX_DEPTH);
    if (need(r, 1) < 0)
        return -1;
    int code = r->data[r->pos++];
    int flag = code & FLAG_REF;
    int type = code & ~FLAG_REF;
    long index;
    switch (type) {
    case '0':
        return -2;
    case 'N':
        return new_value(r, HS_MV_NONE);
    case 'F':
    case 'T':
        index = new_value(r, HS_MV_BOOL);
        if (index >= 0)
            r->m->values[index].u.i = type == 'T';
        return index;
    case 'i': {
        if (need(r, 4) < 0)
            return -1;
        int32_t v = (int32_t)u32le(r->data + r->pos);
        r->pos += 4;
        index = new_value(r, HS_MV_INT);
        if (index < 0)
            return -1;
        r->m->values[index].u.i = v;
        break;
    }
    case 'I': {
        if (need(r, 8) < 0)
            return -1;
        uint64_t v = (uint64_t)u32le(r->data + r->pos) | (uint64_t)u32le(r->data + r->pos + 4) << 32;
        r->pos += 8;
        index = new_value(r, HS_MV_INT);
        if (index < 0)
            return -1;
        r->m->values[index].u.i = (int64_t)v;
        break;
    }
    case 'l': {
        if (need(r, 4) < 0)
            return -1;
        int32_t n = (int32_t)u32le(r->data + r->pos);
        r->pos += 4;
        uint64_t ndigits = n < 0 ? (uint64_t)(-(int64_t)n) : (uint64_t)n;
        if (ndigits > (r->len - r->pos) / 2)
            return fail(r, "an int longer than the data");
        index = new_value(r, HS_MV_INT);
        if (index < 0)
            return -1;
        uint64_t mag = 0;
        int big = 0;
        for (uint64_t k = 0; k < ndigits; k++) {
            unsigned d = (unsigned)r->data[r->pos] | (unsigned)r->data[r->pos + 1] << 8;
            r->pos += 2;
            if (d > 0x7FFF)
                return fail(r, "digit out of range in an int");
            if (k == ndigits - 1 && d == 0)
                return fail(r, "unnormalized int");
            if (d && (k >= 5 || (k == 4 && d >> 3))) /* beyond 63 bits */
                big = 1;
            else if (d)
                mag |= (uint64_t)d << (15 * k);
        }
        if (big || mag > (uint64_t)INT64_MAX) {
            r->m->values[index].type = HS_MV_BIGINT;
        } else
            r->m->values[index].u.i = n < 0 ? -(int64_t)mag : (int64_t)mag;
        break;
    }
    case 'g': {
        if (need(r, 8) < 0)
            return -1;
        uint64_t bits = (uint64_t)u32le(r->data + r->pos) | (uint64_t)u32le(r->data + r->pos + 4) << 32;
        r->pos += 8;
        double d;
        memcpy(&d, &bits, sizeof d); /* IEEE 754, as on every supported platform */
        index = new_value(r, HS_MV_FLOAT);
        if (index < 0)
            return -1;
        r->m->values[index].u.f = d;
        break;
    }
    case 'f': {
        if (need(r, 1) < 0)
            return -1;
        size_t n = r->data[r->pos++];
        if (need(r, n) < 0)
            return -1;
        char text[257];
        memcpy(text, r->data + r->pos, n);
        text[n] = '\0';
        char *end = NULL;
        double d = strtod(text, &end);
        if (n == 0 || end != text + n)
            return fail(r, "a float written as text is not a number");
        r->pos += n;
        index = new_value(r, HS_MV_FLOAT);
        if (index < 0)
            return -1;
        r->m->values[index].u.f = d;
        break;
    }
    case 'u':
    case 't':
    case 'a':
    case 'A':
    case 's':
    case 'z':
    case 'Z': {
        size_t n;
        if (type == 'z' || type == 'Z') {
            if (need(r, 1) < 0)
                return -1;
            n = r->data[r->pos++];
        } else {
            if (need(r, 4) < 0)
                return -1;
            uint32_t v = u32le(r->data + r->pos);
            r->pos += 4;
            if (v > 0x7FFFFFFF)
                return fail(r, "string size out of range");
            n = v;
        }
        if (need(r, n) < 0)
            return -1;
        index = new_value(r, type == 's' ? HS_MV_BYTES : HS_MV_STR);
        if (index < 0)
            return -1;
        if (type == 'u' || type == 't')
            index = read_utf8(r, n, index);
        else if (type == 's') {
            hs_marshal *m = r->m;
            m->values[index].u.s.off = m->text.len;
            m->values[index].u.s.len = n;
            hs_buf_append(&m->text, r->data + r->pos, n);
            r->pos += n;
        } else
            index = read_latin1(r, n, index);
        if (index < 0)
            return -1;
        if (r->m->text.failed)
            return fail(r, "out of memory");
        break;
    }
    case '(':
    case ')':
    case '[':
    case '{': {
        size_t n = 0;
        if (type == ')') {
            if (need(r, 1) < 0)
                return -1;
            n = r->data[r->pos++];
        } else if (type != '{') {
            if (need(r, 4) < 0)
                return -1;
            uint32_t v = u32le(r->data + r->pos);
            r->pos += 4;
            if (v > r->len - r->pos) /* every item takes at least a byte */
                return fail(r, "a %s longer than the data", type == '[' ? "list" : "tuple");
            n = v;
        }
        index = new_value(r, type == '{' ? HS_MV_DICT : type == '[' ? HS_MV_LIST : HS_MV_TUPLE);
        if (index < 0)
            return -1;
        /* Containers join the reference table before their items (r_ref). */
        if (flag && add_ref(r, index) < 0)
            return -1;
        return read_items(r, index, n, type == '{', depth);
    }
    case 'r': {
        if (need(r, 4) < 0)
            return -1;
        uint32_t n = u32le(r->data + r->pos);
        r->pos += 4;
        if (n >= r->m->ref_count)
            return fail(r, "invalid reference %u", (unsigned)n);
        return (long)r->m->refs[n];
    }
    default:
        r->pos--;
        if (type >= 0x20 && type < 0x7f)
            return fail(r, "type code '%c' is not one pstats files use", type);
        return fail(r, "unknown type code 0x%02x", (unsigned)code);
    }
    if (flag && add_ref(r, index) < 0)
        return -1;
    return index;
}

long hs_marshal_load(hs_marshal *m, const char *data, size_t len, char *err) {
    memset(m, 0, sizeof *m);
    hs_buf_init(&m->text);
    rfile r = {m, (const unsigned char *)data, len, 0, err, 0};
    long top = read_object(&r, 0);
    if (top == -2)
        return fail(&r, "a NULL object at the top");
    if (top < 0)
        return -1;
    if (r.pos != len)
        return fail(&r, "%zu bytes left over after the object", len - r.pos);
    return top;
}

void hs_marshal_free(hs_marshal *m) {
    free(m->values);
    free(m->items);
    free(m->pending);
    free(m->refs);
    hs_buf_free(&m->text);
    memset(m, 0, sizeof *m);
}
