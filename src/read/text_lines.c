/*
 * text_lines.c - line walking, color stripping and exact fixed-point
 * numbers for the readers of hotscope's text reports (text_lines.h).
 */
#include <string.h>

#include "read.h"
#include "text_lines.h"

void hs_text_cursor_init(hs_text_cursor *c, const char *data, size_t len) {
    c->data = data;
    c->len = len;
    c->pos = 0;
    c->lineno = 0;
}

int hs_text_next_line(hs_text_cursor *c, const char **line, size_t *n) {
    if (c->pos >= c->len)
        return 0;
    const char *s = c->data + c->pos;
    const char *nl = memchr(s, '\n', c->len - c->pos);
    size_t len = nl ? (size_t)(nl - s) : c->len - c->pos;
    c->pos += len + (nl ? 1 : 0);
    c->lineno++;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    *line = s;
    *n = len;
    return 1;
}

int hs_text_check_whole(const char *data, size_t len, const char *what, char *err) {
    if (len == 0) {
        hs_read_error(err, "empty file");
        return -1;
    }
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        hs_read_error(err, "binary data (a NUL byte at byte %zu), not %s", (size_t)(nul - data), what);
        return -1;
    }
    if (data[len - 1] != '\n') {
        hs_read_error(err, "the last line has no newline: the file was cut short");
        return -1;
    }
    return 0;
}

size_t hs_text_strip_sgr(const char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\x1b' && i + 1 < n && s[i + 1] == '[') {
            size_t j = i + 2;
            while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';'))
                j++;
            if (j < n && s[j] == 'm') {
                i = j + 1;
                continue;
            }
        }
        out[o++] = s[i++];
    }
    return o;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* v * 10 + d, or -1 past INT64_MAX. */
static int push_digit(int64_t *v, int d) {
    if (*v > (INT64_MAX - d) / 10)
        return -1;
    *v = *v * 10 + d;
    return 0;
}

int hs_text_fixed(const char *s, size_t len, size_t *pos, int scale_digits, int64_t *out,
                  int *decimals) {
    size_t i = *pos;
    int64_t v = 0;
    if (i >= len || !is_digit(s[i]))
        return -1;
    for (; i < len && is_digit(s[i]); i++)
        if (push_digit(&v, s[i] - '0') < 0)
            return -1;
    int frac = 0;
    if (i + 1 < len && s[i] == '.' && is_digit(s[i + 1])) {
        for (i++; i < len && is_digit(s[i]); i++) {
            if (frac == scale_digits)
                return -1;
            if (push_digit(&v, s[i] - '0') < 0)
                return -1;
            frac++;
        }
    }
    for (int k = frac; k < scale_digits; k++)
        if (push_digit(&v, 0) < 0)
            return -1;
    *pos = i;
    *out = v;
    if (decimals)
        *decimals = frac;
    return 0;
}

int hs_text_decimal(const char *s, size_t len, size_t *pos, int64_t *digits, int *decimals) {
    size_t i = *pos;
    int64_t v = 0;
    int frac = 0;
    if (i >= len || !is_digit(s[i]))
        return -1;
    for (; i < len && is_digit(s[i]); i++)
        if (push_digit(&v, s[i] - '0') < 0)
            return -1;
    if (i + 1 < len && s[i] == '.' && is_digit(s[i + 1]))
        for (i++; i < len && is_digit(s[i]); i++, frac++)
            if (push_digit(&v, s[i] - '0') < 0)
                return -1;
    *pos = i;
    *digits = v;
    *decimals = frac;
    return 0;
}

size_t hs_text_skip_spaces(const char *s, size_t len, size_t *pos) {
    size_t start = *pos;
    while (*pos < len && s[*pos] == ' ')
        (*pos)++;
    return *pos - start;
}

int hs_text_starts(const char *s, size_t n, const char *prefix) {
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}
