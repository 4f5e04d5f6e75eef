/*
 * pyobj.c - reading str, bytes, int and float objects from another process
 * (see pyobj.h). String layout: PEP 393 compact objects,
 * Include/cpython/unicodeobject.h: `state` bit-field with interned (2
 * bits), kind (3), compact (1), ascii (1) from the lowest bit, the same in
 * 3.10-3.13; ASCII data follows the PyASCIIObject, other kinds follow the
 * PyCompactUnicodeObject, 1, 2 or 4 bytes per character.
 */
#include "pyobj.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STR_CHARS 4096

/* c (at most 0x10FFFF) as UTF-8; a lone surrogate, which a Python str
 * may hold but UTF-8 may not, as U+FFFD. */
static size_t utf8_encode(uint32_t c, char *out) {
    if (c >= 0xD800 && c <= 0xDFFF)
        c = 0xFFFD;
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

int hs_read_str(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out, size_t outlen) {
    if (!addr || outlen == 0)
        return -1;
    uint8_t head[128];
    size_t head_len = (size_t)l->unicode_compact_size;
    if (head_len > sizeof head || hs_proc_read(p, addr, head, head_len) != 0)
        return -1;
    int64_t length;
    uint32_t state;
    memcpy(&length, head + l->unicode_length, sizeof length);
    memcpy(&state, head + l->unicode_state, sizeof state);
    unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (length < 0 || !compact || (kind != 1 && kind != 2 && kind != 4))
        return -1;
    if (length > MAX_STR_CHARS)
        length = MAX_STR_CHARS;
    uint64_t data = addr + (uint64_t)(ascii ? l->unicode_ascii_size : l->unicode_compact_size);
    size_t raw_len = (size_t)length * kind;
    uint8_t stackbuf[1024];
    uint8_t *raw = raw_len <= sizeof stackbuf ? stackbuf : malloc(raw_len);
    if (!raw)
        return -1;
    int status = -1;
    if (raw_len == 0 || hs_proc_read(p, data, raw, raw_len) == 0) {
        size_t n = 0;
        for (int64_t i = 0; i < length; i++) {
            uint32_t c;
            if (kind == 1) {
                c = raw[i];
            } else if (kind == 2) {
                uint16_t v;
                memcpy(&v, raw + i * 2, 2);
                c = v;
            } else {
                memcpy(&c, raw + i * 4, 4);
                if (c > 0x10FFFF) { /* no str holds that: a torn or freed object */
                    n = 0;
                    status = -2;
                    break;
                }
            }
            char enc[4];
            size_t k = utf8_encode(c, enc);
            if (n + k >= outlen)
                break;
            memcpy(out + n, enc, k);
            n += k;
        }
        out[n] = '\0';
        status = status == -2 ? -1 : (int)n;
    }
    if (raw != stackbuf)
        free(raw);
    return status;
}

int hs_read_bytes(const hs_proc *p, const hs_pylayout *l, uint64_t addr, size_t max,
                  uint8_t **data, size_t *len) {
    int64_t size;
    if (!addr || hs_proc_read(p, addr + (uint64_t)l->varobject_size, &size, sizeof size) != 0)
        return -1;
    if (size < 0 || (uint64_t)size > max)
        return -1;
    uint8_t *buf = malloc((size_t)size + 1);
    if (!buf)
        return -1;
    if (size > 0 && hs_proc_read(p, addr + (uint64_t)l->bytes_sval, buf, (size_t)size) != 0) {
        free(buf);
        return -1;
    }
    *data = buf;
    *len = (size_t)size;
    return 0;
}

int hs_read_type_name(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out,
                      size_t outlen) {
    uint64_t type, name;
    if (!addr || hs_proc_read(p, addr + (uint64_t)l->object_type, &type, sizeof type) != 0 ||
        !type || hs_proc_read(p, type + (uint64_t)l->type_name, &name, sizeof name) != 0 || !name)
        return -1;
    char buf[128];
    if (hs_proc_read(p, name, buf, sizeof buf) != 0) {
        /* tp_name may sit near the end of a mapping: read less */
        if (hs_proc_read(p, name, buf, 32) != 0)
            return -1;
        buf[31] = '\0';
    }
    buf[sizeof buf - 1] = '\0';
    snprintf(out, outlen, "%s", buf);
    return 0;
}

static int read_int(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out, size_t outlen) {
    int64_t size_or_tag;
    int64_t off = l->long_tag >= 0 ? l->long_tag : l->varobject_size;
    if (hs_proc_read(p, addr + (uint64_t)off, &size_or_tag, sizeof size_or_tag) != 0)
        return -1;
    int negative;
    uint64_t ndigits;
    if (l->long_tag >= 0) {
        /* lv_tag: digit count << 3 | sign (0 positive, 1 zero, 2 negative),
         * Include/cpython/longintrepr.h (3.12+) */
        ndigits = (uint64_t)size_or_tag >> 3;
        negative = (size_or_tag & 3) == 2;
    } else {
        negative = size_or_tag < 0;
        ndigits = (uint64_t)(negative ? -size_or_tag : size_or_tag);
    }
    if (ndigits > 2) { /* 30-bit digits: more than 60 bits is shown as its type */
        snprintf(out, outlen, "<int with %" PRIu64 " digits>", ndigits);
        return 0;
    }
    uint32_t digits[2] = {0, 0};
    if (ndigits && hs_proc_read(p, addr + (uint64_t)l->long_digit, digits, ndigits * 4) != 0)
        return -1;
    uint64_t value = (uint64_t)digits[0] | ((uint64_t)digits[1] << 30);
    snprintf(out, outlen, "%s%" PRIu64, negative ? "-" : "", value);
    return 0;
}

/* As Python's repr: the shortest digits that read back as the same
 * double, and a ".0" on integral values. */
static void format_float(double v, char *out, size_t outlen) {
    char buf[64];
    int precision = 1;
    for (; precision <= 17; precision++) {
        snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    double magnitude = fabs(v);
    if (strchr(buf, 'e') && magnitude >= 1e-4 && magnitude < 1e16) {
        /* repr keeps positional notation in this range: 30.0, not 3e+01 */
        int exponent = (int)floor(log10(magnitude));
        int decimals = precision - 1 - exponent;
        snprintf(buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, v);
    }
    if (!strpbrk(buf, ".eninf"))
        strcat(buf, ".0");
    snprintf(out, outlen, "%s", buf);
}

int hs_read_repr(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out, size_t outlen) {
    char type[128];
    if (hs_read_type_name(p, l, addr, type, sizeof type) != 0)
        return -1;
    if (strcmp(type, "str") == 0) {
        char s[256];
        if (hs_read_str(p, l, addr, s, sizeof s) >= 0) {
            snprintf(out, outlen, "'%s'", s);
            return 0;
        }
    } else if (strcmp(type, "int") == 0) {
        if (read_int(p, l, addr, out, outlen) == 0)
            return 0;
    } else if (strcmp(type, "bool") == 0) {
        /* True is the bool object whose value digit is 1 */
        uint32_t digit = 0;
        if (hs_proc_read(p, addr + (uint64_t)l->long_digit, &digit, sizeof digit) == 0) {
            snprintf(out, outlen, "%s", digit ? "True" : "False");
            return 0;
        }
    } else if (strcmp(type, "float") == 0) {
        double v;
        if (hs_proc_read(p, addr + (uint64_t)l->float_fval, &v, sizeof v) == 0) {
            format_float(v, out, outlen);
            return 0;
        }
    } else if (strcmp(type, "NoneType") == 0) {
        snprintf(out, outlen, "None");
        return 0;
    }
    snprintf(out, outlen, "<%s object at 0x%" PRIx64 ">", type, addr);
    return 0;
}
