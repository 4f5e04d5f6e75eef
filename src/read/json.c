/*
 * json.c - the strict pull-style JSON reader of json.h.
 *
 * Grammar and escapes are RFC 8259's (sections 2 to 8); UTF-8 is checked
 * with RFC 3629's table (read_util.c). The cursor only moves forward except
 * through hs_json_seek; skipping a value keeps a bit per open container
 * (array or object) instead of recursing, so depth costs no C stack.
 */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

void hs_json_init(hs_json *j, const char *data, size_t len, char *err, size_t err_size) {
    memset(j, 0, sizeof *j);
    j->data = data;
    j->len = len;
    j->err = err;
    j->err_size = err_size;
    if (err && err_size)
        err[0] = '\0';
    hs_buf_init(&j->scratch);
    hs_buf_init(&j->key);
}

void hs_json_free(hs_json *j) {
    hs_buf_free(&j->scratch);
    hs_buf_free(&j->key);
}

int hs_json_fail(hs_json *j, const char *fmt, ...) {
    if (j->failed)
        return -1;
    j->failed = 1;
    if (j->err && j->err_size) {
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(j->err, j->err_size, "%s at byte %zu", msg, j->pos);
        hs_read_one_line(j->err);
    }
    return -1;
}

/* A printable description of the byte at the cursor, for messages. */
static const char *describe_here(const hs_json *j, char *tmp, size_t n) {
    if (j->pos >= j->len)
        return "the end of the input";
    unsigned char c = (unsigned char)j->data[j->pos];
    if (c >= 0x20 && c < 0x7f)
        snprintf(tmp, n, "'%c'", c);
    else
        snprintf(tmp, n, "byte 0x%02x", c);
    return tmp;
}

/* Messages of text that breaks JSON's grammar itself (RFC 8259), rather
 * than a value of the wrong type or range, start so: a file with one byte
 * changed is named damaged JSON, not a profile with a strange value. */
#define DAMAGED "damaged JSON: "

static int fail_unexpected(hs_json *j, const char *expected) {
    char tmp[16];
    return hs_json_fail(j, DAMAGED "expected %s, found %s", expected, describe_here(j, tmp, sizeof tmp));
}

static void skip_ws(hs_json *j) {
    const char *d = j->data;
    size_t i = j->pos, n = j->len;
    while (i < n && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
        i++;
    j->pos = i;
}

const char *hs_json_type_name(hs_json_type t) {
    switch (t) {
    case HS_JSON_NULL:
        return "null";
    case HS_JSON_BOOL:
        return "a boolean";
    case HS_JSON_NUMBER:
        return "a number";
    case HS_JSON_STRING:
        return "a string";
    case HS_JSON_ARRAY:
        return "an array";
    case HS_JSON_OBJECT:
        return "an object";
    case HS_JSON_NONE:
        break;
    }
    return "nothing";
}

hs_json_type hs_json_peek(hs_json *j) {
    if (j->failed)
        return HS_JSON_NONE;
    skip_ws(j);
    if (j->pos >= j->len)
        return HS_JSON_NONE;
    switch (j->data[j->pos]) {
    case '{':
        return HS_JSON_OBJECT;
    case '[':
        return HS_JSON_ARRAY;
    case '"':
        return HS_JSON_STRING;
    case 't':
    case 'f':
        return HS_JSON_BOOL;
    case 'n':
        return HS_JSON_NULL;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return HS_JSON_NUMBER;
    default:
        return HS_JSON_NONE;
    }
}

/* ---- strings ---------------------------------------------------------- */

static int hex4(const char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(hs_buf *out, uint32_t cp) {
    unsigned char b[4];
    size_t n;
    if (cp < 0x80)
        b[0] = (unsigned char)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (unsigned char)(0xC0 | (cp >> 6)), b[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        b[0] = (unsigned char)(0xE0 | (cp >> 12)), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)),
        b[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
    else
        b[0] = (unsigned char)(0xF0 | (cp >> 18)), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F)),
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (unsigned char)(0x80 | (cp & 0x3F)),
        n = 4;
    hs_buf_append(out, b, n);
}

/* The string at the cursor (which is on its '"'): validated, and decoded
 * into `out` when out is not NULL (appended; the caller resets it). */
static int scan_string(hs_json *j, hs_buf *out) {
    const unsigned char *d = (const unsigned char *)j->data;
    size_t n = j->len, i = j->pos + 1, run = i;
    for (;;) {
        /* Runs of plain ASCII need no work but the scan. */
        while (i < n && d[i] >= 0x20 && d[i] < 0x80 && d[i] != '"' && d[i] != '\\')
            i++;
        if (i >= n) {
            j->pos = i;
            return hs_json_fail(j, DAMAGED "unterminated string");
        }
        unsigned char c = d[i];
        if (c == '"')
            break;
        if (c < 0x20) {
            j->pos = i;
            return hs_json_fail(j, DAMAGED "control character 0x%02x in a string (must be escaped)", c);
        }
        if (c >= 0x80) {
            size_t k = hs_read_utf8_seq(d, n, i);
            if (k == 0) {
                j->pos = i;
                return hs_json_fail(j, DAMAGED "invalid UTF-8 in a string");
            }
            i += k;
            continue;
        }
        /* A backslash escape. */
        if (out)
            hs_buf_append(out, d + run, i - run);
        if (i + 1 >= n) {
            j->pos = i;
            return hs_json_fail(j, DAMAGED "unterminated string");
        }
        char e = (char)d[i + 1];
        const char *simple = NULL;
        switch (e) {
        case '"': simple = "\""; break;
        case '\\': simple = "\\"; break;
        case '/': simple = "/"; break;
        case 'b': simple = "\b"; break;
        case 'f': simple = "\f"; break;
        case 'n': simple = "\n"; break;
        case 'r': simple = "\r"; break;
        case 't': simple = "\t"; break;
        case 'u': break;
        default:
            j->pos = i;
            return hs_json_fail(j, DAMAGED "invalid escape '\\%c' in a string", e >= 0x20 && e < 0x7f ? e : '?');
        }
        if (simple) {
            if (out)
                hs_buf_putc(out, simple[0]);
            i += 2;
            run = i;
            continue;
        }
        uint32_t cp;
        if (i + 6 > n || hex4((const char *)d + i + 2, &cp) < 0) {
            j->pos = i;
            return hs_json_fail(j, DAMAGED "invalid \\u escape in a string");
        }
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate must be followed by an escaped low one. */
            uint32_t lo;
            if (i + 6 <= n && d[i] == '\\' && d[i + 1] == 'u' &&
                hex4((const char *)d + i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (j->lone_surrogates_as_fffd) {
                cp = 0xFFFD; /* what follows is read on its own */
            } else {
                j->pos = i - 6;
                return hs_json_fail(j, "unpaired surrogate \\u%04x in a string", (unsigned)cp);
            }
        } else if (cp >= 0xDC80 && cp <= 0xDCFF) {
            /* PEP 383: U+DC80..U+DCFF carry the undecodable byte 0x80..0xFF. */
            if (out)
                hs_buf_putc(out, (char)(cp - 0xDC00));
            run = i;
            continue;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            if (!j->lone_surrogates_as_fffd) {
                j->pos = i - 6;
                return hs_json_fail(j, "unpaired surrogate \\u%04x in a string", (unsigned)cp);
            }
            cp = 0xFFFD;
        }
        if (out)
            put_utf8(out, cp);
        run = i;
    }
    if (out)
        hs_buf_append(out, d + run, i - run);
    j->pos = i + 1;
    return 0;
}

int hs_json_read_string(hs_json *j, const char **s, size_t *len) {
    hs_json_type t = hs_json_peek(j);
    if (t != HS_JSON_STRING) {
        if (j->failed)
            return -1;
        return t == HS_JSON_NONE ? fail_unexpected(j, "a string")
                                 : hs_json_fail(j, "expected a string, found %s", hs_json_type_name(t));
    }
    j->scratch.len = 0;
    if (scan_string(j, &j->scratch) < 0)
        return -1;
    if (j->scratch.failed)
        return hs_json_fail(j, "out of memory");
    if (j->scratch.data)
        j->scratch.data[j->scratch.len] = '\0'; /* hs_buf keeps room for it */
    *s = j->scratch.data ? j->scratch.data : "";
    *len = j->scratch.len;
    return 0;
}

/* ---- numbers ------------------------------------------------------------ */

/* Steps over a number (RFC 8259 section 6); *integral says whether it had
 * neither a fraction nor an exponent. */
static int scan_number(hs_json *j, size_t *start, int *integral) {
    const char *d = j->data;
    size_t n = j->len, i = j->pos;
    *start = i;
    *integral = 1;
    if (i < n && d[i] == '-')
        i++;
    if (i < n && d[i] == '0')
        i++;
    else if (i < n && d[i] >= '1' && d[i] <= '9')
        while (i < n && d[i] >= '0' && d[i] <= '9')
            i++;
    else {
        j->pos = i;
        return fail_unexpected(j, "a digit");
    }
    if (i < n && d[i] == '.') {
        *integral = 0;
        i++;
        if (i >= n || d[i] < '0' || d[i] > '9') {
            j->pos = i;
            return fail_unexpected(j, "a digit after '.'");
        }
        while (i < n && d[i] >= '0' && d[i] <= '9')
            i++;
    }
    if (i < n && (d[i] == 'e' || d[i] == 'E')) {
        *integral = 0;
        i++;
        if (i < n && (d[i] == '+' || d[i] == '-'))
            i++;
        if (i >= n || d[i] < '0' || d[i] > '9') {
            j->pos = i;
            return fail_unexpected(j, "a digit in the exponent");
        }
        while (i < n && d[i] >= '0' && d[i] <= '9')
            i++;
    }
    j->pos = i;
    return 0;
}

/* strtod on a copy: the input is not NUL-terminated. */
static int number_to_double(hs_json *j, size_t start, double *v) {
    size_t len = j->pos - start;
    char small[64];
    char *text = len < sizeof small ? small : malloc(len + 1);
    if (!text)
        return hs_json_fail(j, "out of memory");
    memcpy(text, j->data + start, len);
    text[len] = '\0';
    errno = 0;
    double d = strtod(text, NULL);
    if (text != small)
        free(text);
    if (!isfinite(d)) {
        size_t here = j->pos;
        j->pos = start;
        hs_json_fail(j, "number out of range");
        j->pos = here;
        return -1;
    }
    *v = d;
    return 0;
}

static int expect_number(hs_json *j) {
    hs_json_type t = hs_json_peek(j);
    if (t == HS_JSON_NUMBER)
        return 0;
    if (j->failed)
        return -1;
    return t == HS_JSON_NONE ? fail_unexpected(j, "a number")
                             : hs_json_fail(j, "expected a number, found %s", hs_json_type_name(t));
}

int hs_json_read_int(hs_json *j, int64_t *v) {
    /* Fast path, for the millions of small integers of stacks and nodes:
     * up to 18 digits (no overflow possible) followed by neither a fraction
     * nor an exponent. Anything else takes the general path below. */
    if (!j->failed) {
        skip_ws(j);
        const char *d = j->data;
        size_t i = j->pos, n = j->len;
        int neg = i < n && d[i] == '-';
        size_t start = i + (size_t)neg, k = start;
        int64_t acc = 0;
        while (k < n && k - start < 18 && d[k] >= '0' && d[k] <= '9')
            acc = acc * 10 + (d[k++] - '0');
        if (k > start && (k - start == 1 || d[start] != '0') &&
            (k >= n || (d[k] != '.' && d[k] != 'e' && d[k] != 'E' && (d[k] < '0' || d[k] > '9')))) {
            j->pos = k;
            *v = neg ? -acc : acc;
            return 0;
        }
    }
    if (expect_number(j) < 0)
        return -1;
    size_t start;
    int integral;
    if (scan_number(j, &start, &integral) < 0)
        return -1;
    if (integral) {
        const char *d = j->data + start;
        size_t len = j->pos - start, i = 0;
        int neg = d[0] == '-';
        i = (size_t)neg;
        /* Accumulate as a negative number: INT64_MIN has no positive twin. */
        int64_t acc = 0;
        for (; i < len; i++) {
            int digit = d[i] - '0';
            if (acc < (INT64_MIN + digit) / 10) {
                j->pos = start;
                return hs_json_fail(j, "integer out of the 64-bit range");
            }
            acc = acc * 10 - digit;
        }
        if (!neg) {
            if (acc == INT64_MIN) {
                j->pos = start;
                return hs_json_fail(j, "integer out of the 64-bit range");
            }
            acc = -acc;
        }
        *v = acc;
        return 0;
    }
    /* 1.0 or 1e3 are integers written another way: accept them when exact. */
    double d;
    if (number_to_double(j, start, &d) < 0)
        return -1;
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        j->pos = start;
        return hs_json_fail(j, "expected an integer");
    }
    *v = (int64_t)d;
    return 0;
}

int hs_json_read_uint(hs_json *j, uint64_t *v) {
    if (expect_number(j) < 0)
        return -1;
    size_t here = j->pos;
    if (j->data[here] != '-') {
        size_t start;
        int integral;
        if (scan_number(j, &start, &integral) < 0)
            return -1;
        if (integral) {
            uint64_t acc = 0;
            for (size_t i = start; i < j->pos; i++) {
                unsigned digit = (unsigned)(j->data[i] - '0');
                if (acc > (UINT64_MAX - digit) / 10) {
                    j->pos = start;
                    return hs_json_fail(j, "integer out of the 64-bit range");
                }
                acc = acc * 10 + digit;
            }
            *v = acc;
            return 0;
        }
        j->pos = here;
    }
    int64_t s;
    if (hs_json_read_int(j, &s) < 0)
        return -1;
    if (s < 0) {
        j->pos = here;
        return hs_json_fail(j, "expected a non-negative integer");
    }
    *v = (uint64_t)s;
    return 0;
}

int hs_json_read_double(hs_json *j, double *v) {
    if (expect_number(j) < 0)
        return -1;
    size_t start;
    int integral;
    if (scan_number(j, &start, &integral) < 0)
        return -1;
    return number_to_double(j, start, v);
}

int hs_json_read_number(hs_json *j, int64_t *i, double *d) {
    if (expect_number(j) < 0)
        return -1;
    size_t here = j->pos, start;
    int integral;
    if (scan_number(j, &start, &integral) < 0)
        return -1;
    /* Integers of up to 18 digits cannot overflow int64: parse them exactly. */
    size_t digits = j->pos - start - (j->data[start] == '-');
    if (integral && digits <= 18) {
        j->pos = here;
        if (hs_json_read_int(j, i) < 0)
            return -1;
        *d = (double)*i;
        return 1;
    }
    return number_to_double(j, start, d) < 0 ? -1 : 0;
}

/* ---- literals ----------------------------------------------------------- */

static int scan_literal(hs_json *j) {
    static const char *const words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(words[k]);
        if (j->len - j->pos >= n && memcmp(j->data + j->pos, words[k], n) == 0) {
            j->pos += n;
            return k;
        }
    }
    return fail_unexpected(j, "a value");
}

int hs_json_read_bool(hs_json *j, int *v) {
    hs_json_type t = hs_json_peek(j);
    if (t != HS_JSON_BOOL) {
        if (j->failed)
            return -1;
        return hs_json_fail(j, "expected a boolean, found %s", hs_json_type_name(t));
    }
    int k = scan_literal(j);
    if (k < 0)
        return -1;
    *v = k == 0;
    return 0;
}

int hs_json_read_null(hs_json *j) {
    hs_json_type t = hs_json_peek(j);
    if (t != HS_JSON_NULL) {
        if (j->failed)
            return -1;
        return hs_json_fail(j, "expected null, found %s", hs_json_type_name(t));
    }
    return scan_literal(j) == 2 ? 0 : (j->failed ? -1 : fail_unexpected(j, "null"));
}

/* ---- containers --------------------------------------------------------- */

static int enter(hs_json *j, hs_json_type t, const char *what) {
    hs_json_type got = hs_json_peek(j);
    if (got != t) {
        if (j->failed)
            return -1;
        return got == HS_JSON_NONE ? fail_unexpected(j, what)
                                   : hs_json_fail(j, "expected %s, found %s", what, hs_json_type_name(got));
    }
    if (j->depth >= HS_JSON_MAX_DEPTH)
        return hs_json_fail(j, "nesting deeper than %d levels", HS_JSON_MAX_DEPTH);
    j->pos++;
    j->depth++;
    j->first = 1;
    return 0;
}

int hs_json_enter_object(hs_json *j) {
    return enter(j, HS_JSON_OBJECT, "an object");
}

int hs_json_enter_array(hs_json *j) {
    return enter(j, HS_JSON_ARRAY, "an array");
}

/* After an item: ',' then more, or the closing bracket. Returns 1 when an
 * item follows, 0 when the container was closed. */
static int next_in(hs_json *j, char close) {
    if (j->failed)
        return -1;
    skip_ws(j);
    if (j->pos < j->len && j->data[j->pos] == close) {
        j->pos++;
        j->depth--;
        j->first = 0;
        return 0;
    }
    if (!j->first) {
        if (j->pos >= j->len || j->data[j->pos] != ',')
            return fail_unexpected(j, close == ']' ? "',' or ']'" : "',' or '}'");
        j->pos++;
        skip_ws(j);
    }
    j->first = 0;
    return 1;
}

int hs_json_next_item(hs_json *j) {
    return next_in(j, ']');
}

int hs_json_next_member(hs_json *j, const char **key, size_t *key_len) {
    int r = next_in(j, '}');
    if (r <= 0)
        return r;
    if (j->pos >= j->len || j->data[j->pos] != '"')
        return fail_unexpected(j, "a member name (a string)");
    j->key.len = 0;
    if (scan_string(j, &j->key) < 0)
        return -1;
    skip_ws(j);
    if (j->pos >= j->len || j->data[j->pos] != ':')
        return fail_unexpected(j, "':'");
    j->pos++;
    if (j->key.failed)
        return hs_json_fail(j, "out of memory");
    if (j->key.data)
        j->key.data[j->key.len] = '\0';
    *key = j->key.data ? j->key.data : "";
    *key_len = j->key.len;
    return 1;
}

/* ---- skipping ------------------------------------------------------------ */

int hs_json_skip(hs_json *j) {
    /* One bit per open container: 1 = object, 0 = array. */
    uint64_t kinds[(HS_JSON_MAX_DEPTH + 63) / 64];
    int depth = 0;
    const char *d = j->data;
    if (j->failed)
        return -1;
    for (;;) {
        /* A value starts here. */
        skip_ws(j);
        if (j->pos >= j->len)
            return fail_unexpected(j, "a value");
        char c = d[j->pos];
        if (c == '{' || c == '[') {
            if (j->depth + depth >= HS_JSON_MAX_DEPTH)
                return hs_json_fail(j, "nesting deeper than %d levels", HS_JSON_MAX_DEPTH);
            uint64_t bit = (uint64_t)1 << (depth % 64);
            if (c == '{')
                kinds[depth / 64] |= bit;
            else
                kinds[depth / 64] &= ~bit;
            depth++;
            j->pos++;
            skip_ws(j);
            if (j->pos < j->len && d[j->pos] == (c == '{' ? '}' : ']')) {
                j->pos++;
                depth--;
            } else if (c == '{') {
                if (j->pos >= j->len || d[j->pos] != '"')
                    return fail_unexpected(j, "a member name (a string)");
                if (scan_string(j, NULL) < 0)
                    return -1;
                skip_ws(j);
                if (j->pos >= j->len || d[j->pos] != ':')
                    return fail_unexpected(j, "':'");
                j->pos++;
                continue;
            } else
                continue;
        } else if (c == '"') {
            if (scan_string(j, NULL) < 0)
                return -1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start;
            int integral;
            if (scan_number(j, &start, &integral) < 0)
                return -1;
        } else if (scan_literal(j) < 0)
            return -1;

        /* After a value: close containers, or go on to the next item. */
        for (;;) {
            if (depth == 0)
                return 0;
            int is_object = (int)((kinds[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1);
            skip_ws(j);
            if (j->pos >= j->len)
                return fail_unexpected(j, is_object ? "',' or '}'" : "',' or ']'");
            c = d[j->pos];
            if (c == (is_object ? '}' : ']')) {
                j->pos++;
                depth--;
                continue;
            }
            if (c != ',')
                return fail_unexpected(j, is_object ? "',' or '}'" : "',' or ']'");
            j->pos++;
            if (is_object) {
                skip_ws(j);
                if (j->pos >= j->len || d[j->pos] != '"')
                    return fail_unexpected(j, "a member name (a string)");
                if (scan_string(j, NULL) < 0)
                    return -1;
                skip_ws(j);
                if (j->pos >= j->len || d[j->pos] != ':')
                    return fail_unexpected(j, "':'");
                j->pos++;
            }
            break;
        }
    }
}

int hs_json_finish(hs_json *j) {
    if (j->failed)
        return -1;
    skip_ws(j);
    if (j->pos != j->len)
        return fail_unexpected(j, "the end of the input");
    return 0;
}

hs_json_mark_t hs_json_mark(const hs_json *j) {
    hs_json_mark_t m = {j->pos, j->depth, j->first};
    return m;
}

void hs_json_seek(hs_json *j, hs_json_mark_t m) {
    j->pos = m.pos;
    j->depth = m.depth;
    j->first = m.first;
}
