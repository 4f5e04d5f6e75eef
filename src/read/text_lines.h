/*
 * text_lines.h - what the readers of hotscope's own text reports share
 * (text_tree_read.c, lines_text_read.c, mem_text_read.c): walking a file
 * line by line, dropping the ANSI colors a report printed on a terminal
 * carries, and fixed-point numbers as printf's %.Nf wrote them, read back
 * exactly into integers (no floating point: a time printed as 12.345 ms
 * comes back as exactly 12,345,000 ns).
 */
#ifndef HOTSCOPE_TEXT_LINES_H
#define HOTSCOPE_TEXT_LINES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *data;
    size_t len;
    size_t pos;
    size_t lineno; /* number of the line last returned, from 1 */
} hs_text_cursor;

void hs_text_cursor_init(hs_text_cursor *c, const char *data, size_t len);

/* The next line, without its "\n" or "\r\n", in *line and *n; 0 at the end. */
int hs_text_next_line(hs_text_cursor *c, const char **line, size_t *n);

/* Checks what every text report hotscope writes has: no NUL byte (text),
 * and a last line that ends with a newline (a file cut short does not).
 * Returns 0, or -1 with the reason in err. `what` names the format. */
int hs_text_check_whole(const char *data, size_t len, const char *what, char *err);

/* Copies s[0..n) to out (n bytes at least) without the ANSI SGR sequences
 * ("ESC [ digits and ';' m") of colored output; returns the length. */
size_t hs_text_strip_sgr(const char *s, size_t n, char *out);

/* A number as %.Nf writes it, "123" or "123.45", at s[*pos..len), scaled
 * by 10^scale_digits into an integer: with scale_digits 6, "61.334" gives
 * 61334000. Digits beyond scale_digits are refused rather than rounded.
 * On success advances *pos past the number, stores the number of decimals
 * written in *decimals (may be NULL) and returns 0; -1 when there is no
 * number there or it does not fit in an int64. */
int hs_text_fixed(const char *s, size_t len, size_t *pos, int scale_digits, int64_t *out,
                  int *decimals);

/* A number as written, "123" or "123.45", at s[*pos..len): all its digits
 * as one integer in *digits (12345) and the count of decimals in
 * *decimals (2). Advances *pos; -1 when there is no number there or it
 * has more digits than an int64 holds. */
int hs_text_decimal(const char *s, size_t len, size_t *pos, int64_t *digits, int *decimals);

/* Skips spaces at s[*pos..len); returns how many were skipped. */
size_t hs_text_skip_spaces(const char *s, size_t len, size_t *pos);

/* Whether s[0..n) starts with the NUL-terminated prefix. */
int hs_text_starts(const char *s, size_t n, const char *prefix);

#endif
