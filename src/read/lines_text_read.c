/*
 * lines_text_read.c - a line profile's text report read back: the layout
 * of kernprof's `python -m line_profiler` that lines_text.c writes (the
 * `.txt` of `hotscope lines`):
 *
 *     Timer unit: 1e-06 s
 *
 *     Total time: 0.336021 s
 *     File: hot.py
 *     Function: crunch at line 9
 *
 *     Line #      Hits         Time  Per Hit   % Time  Line Contents
 *     ==============================================================
 *          9                                           def crunch(n):
 *         10   1200003     188467.3      0.2     56.1      for i in range(n):
 *
 * into the model the line profiler exports (src/lines/lines_type.c): one
 * thread, a node per function (its frame's line 0) and under it a node per
 * line that has figures (calls = hits, wall_ns = time), and the source in
 * meta "source:<file>:<first line>" as the report showed it, so the report,
 * the HTML Lines view and a second round trip show the same code.
 *
 * Hits come back exactly; time as printed, to 0.1 of the timer unit
 * (0.1 us for hotscope's reports: within 50 ns of what was measured).
 * Per hit, % time and the function's total time are derived figures and
 * are checked only for their form. The report's text is the source: it
 * has had control characters (tabs too) turned into spaces; lines printed
 * as "(source not available)" have none.
 */
#include <stdlib.h>
#include <string.h>

#include "../model/buf.h"
#include "read.h"
#include "text_lines.h"

#define NO_SOURCE "(source not available)"
/* The blank figures of a line without a row: "%9s %12s %8s %8s". */
#define FIGURES_WIDTH (9 + 1 + 12 + 1 + 8 + 1 + 8)

typedef struct {
    int64_t num;   /* one timer unit is num / 10^den_pow10 nanoseconds */
    int den_pow10;
} timer_unit;

typedef struct {
    hs_profile *p;
    char *err;
    timer_unit unit;
    hs_id thread;
    /* the function being read */
    hs_id name, file;
    int32_t first_line;
    hs_id fn_node;
    hs_buf source;       /* its lines first_line.. as text, '\n'-separated */
    int32_t source_next; /* the number of the next line `source` would hold */
    int has_source;
} reader;

static int64_t pow10_i64(int k) {
    int64_t v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* "1e-06", "1e-09", "0.000001": the timer unit in seconds, as a fraction
 * of a nanosecond count. */
static int parse_unit(const char *s, size_t len, timer_unit *u) {
    size_t i = 0;
    int64_t mant;
    int dec;
    if (hs_text_decimal(s, len, &i, &mant, &dec) < 0 || mant <= 0)
        return -1;
    int exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int neg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            neg = s[i++] == '-';
        int64_t e;
        int edec;
        if (hs_text_decimal(s, len, &i, &e, &edec) < 0 || edec != 0 || e > 30)
            return -1;
        exp = neg ? -(int)e : (int)e;
    }
    if (i != len)
        return -1;
    /* ns = mant * 10^(exp + 9 - dec) */
    int shift = exp + 9 - dec;
    if (shift >= 0) {
        if (shift > 18)
            return -1;
        int64_t scale = pow10_i64(shift);
        if (mant > INT64_MAX / scale)
            return -1;
        u->num = mant * scale;
        u->den_pow10 = 0;
    } else {
        if (-shift > 18)
            return -1;
        u->num = mant;
        u->den_pow10 = -shift;
    }
    return 0;
}

/* digits / 10^decimals timer units in nanoseconds, rounded half up. */
static int unit_to_ns(const timer_unit *u, int64_t digits, int decimals, int64_t *ns) {
    int pow = decimals + u->den_pow10;
    if (pow > 18)
        return -1;
    int64_t product;
    if (__builtin_mul_overflow(digits, u->num, &product))
        return -1;
    int64_t div = pow10_i64(pow);
    *ns = product / div + (product % div >= (div + 1) / 2 && div > 1);
    return 0;
}

/* ---- one function -------------------------------------------------------- */

static int start_function(reader *r, const char *file, size_t file_len, const char *name,
                          size_t name_len, int32_t first_line) {
    r->name = hs_intern(r->p, name, name_len);
    r->file = hs_intern(r->p, file, file_len);
    if (r->name == HS_NONE || r->file == HS_NONE)
        return -1;
    hs_id frame = hs_frame_intern(r->p, r->name, r->file, first_line, 0, HS_KIND_PYTHON);
    r->fn_node = frame == HS_NONE ? HS_NONE : hs_node_child(r->p, r->thread, frame);
    r->first_line = first_line;
    r->source.len = 0;
    r->source_next = first_line;
    r->has_source = 0;
    return r->fn_node == HS_NONE ? -1 : 0;
}

/* Appends a line of source at its number (the function's lines from its
 * first one; lines before it have no place in the captured source). */
static void add_source(reader *r, int32_t line, const char *text, size_t len) {
    if (line < r->source_next)
        return;
    while (r->source_next < line) {
        if (r->source_next > r->first_line)
            hs_buf_putc(&r->source, '\n');
        r->source_next++;
    }
    if (line > r->first_line)
        hs_buf_putc(&r->source, '\n');
    hs_buf_append(&r->source, text, len);
    r->source_next = line + 1;
    r->has_source = 1;
}

static int end_function(reader *r) {
    if (r->fn_node == HS_NONE || !r->has_source)
        return 0;
    size_t file_len;
    const char *file = hs_str(r->p, r->file, &file_len);
    hs_buf key;
    hs_buf_init(&key);
    hs_buf_puts(&key, "source:");
    hs_buf_append(&key, file, file_len);
    hs_buf_printf(&key, ":%d", (int)r->first_line);
    hs_buf_putc(&key, '\0');
    hs_buf_putc(&r->source, '\0');
    int rc = key.failed || r->source.failed || hs_meta_set(r->p, key.data, r->source.data) < 0 ? -1 : 0;
    hs_buf_free(&key);
    r->fn_node = HS_NONE;
    return rc;
}

/* "    10   1200003     188467.3      0.2     56.1      for i in ...":
 * 1 for a row read, 0 when the line is not a row, -1 out of memory. */
static int parse_row(reader *r, const char *s, size_t len) {
    size_t i = 0;
    int64_t line, hits = 0, time_digits = 0, ignored;
    int time_dec = 0, dec;
    hs_text_skip_spaces(s, len, &i);
    if (hs_text_decimal(s, len, &i, &line, &dec) < 0 || dec != 0 || line > INT32_MAX ||
        i >= len || s[i] != ' ')
        return 0;
    i++;
    size_t blank = 0;
    while (i + blank < len && blank < FIGURES_WIDTH + 2 && s[i + blank] == ' ')
        blank++;
    int has_figures = !(blank == FIGURES_WIDTH + 2 || i + blank == len);
    if (has_figures) {
        hs_text_skip_spaces(s, len, &i);
        if (hs_text_decimal(s, len, &i, &hits, &dec) < 0 || dec != 0 || !hs_text_skip_spaces(s, len, &i) ||
            hs_text_decimal(s, len, &i, &time_digits, &time_dec) < 0 || !hs_text_skip_spaces(s, len, &i) ||
            hs_text_decimal(s, len, &i, &ignored, &dec) < 0 || !hs_text_skip_spaces(s, len, &i) ||
            hs_text_decimal(s, len, &i, &ignored, &dec) < 0)
            return 0;
        /* Then two spaces and the text, or nothing when the text is empty
         * and the spaces were trimmed. */
        if (i < len && !hs_text_starts(s + i, len - i, "  "))
            return 0;
        i = i + 2 < len ? i + 2 : len;
    } else {
        i += blank;
    }
    const char *text = s + i;
    size_t text_len = len - i;
    if (has_figures) {
        int64_t ns;
        if (unit_to_ns(&r->unit, time_digits, time_dec, &ns) < 0)
            return 0;
        hs_id frame = hs_frame_intern(r->p, r->name, r->file, r->first_line, (int32_t)line, HS_KIND_PYTHON);
        hs_id node = frame == HS_NONE ? HS_NONE : hs_node_child(r->p, r->fn_node, frame);
        if (node == HS_NONE)
            return -1;
        hs_node_add(r->p, node, HS_W_CALLS, hits);
        hs_node_add(r->p, node, HS_W_WALL_NS, ns);
    }
    if (!(text_len == strlen(NO_SOURCE) && memcmp(text, NO_SOURCE, text_len) == 0))
        add_source(r, (int32_t)line, text, text_len);
    return 1;
}

/* "Function: NAME at line N" (maybe with " (never called)"). */
static int parse_function_line(const char *s, size_t len, const char **name, size_t *name_len,
                               int32_t *first_line) {
    static const char never[] = " (never called)";
    size_t n = len;
    if (n >= sizeof never - 1 && memcmp(s + n - (sizeof never - 1), never, sizeof never - 1) == 0)
        n -= sizeof never - 1;
    size_t digits = n;
    while (digits > 0 && s[digits - 1] >= '0' && s[digits - 1] <= '9')
        digits--;
    static const char at_line[] = " at line ";
    size_t k = sizeof at_line - 1;
    if (digits == n || n - digits > 10 || digits < 10 + k || memcmp(s + digits - k, at_line, k) != 0)
        return -1;
    size_t i = digits;
    int64_t v;
    int dec;
    if (hs_text_decimal(s, n, &i, &v, &dec) < 0 || v > INT32_MAX)
        return -1;
    *name = s + 10; /* after "Function: " */
    *name_len = digits - k - 10;
    *first_line = (int32_t)v;
    return 0;
}

/* ---- the whole report ---------------------------------------------------- */

typedef enum { WANT_UNIT, BETWEEN, HEADER, ROWS } state;

static int read_report(reader *r, const char *data, size_t len) {
    hs_text_cursor c;
    const char *s, *file = NULL;
    size_t n, file_len = 0;
    state st = WANT_UNIT;
    int header_lines = 0;
    hs_text_cursor_init(&c, data, len);
    while (hs_text_next_line(&c, &s, &n)) {
        switch (st) {
        case WANT_UNIT:
            if (n == 0)
                continue;
            if (!hs_text_starts(s, n, "Timer unit: ") || n < 14 || s[n - 2] != ' ' || s[n - 1] != 's' ||
                parse_unit(s + 12, n - 14, &r->unit) < 0) {
                hs_read_error(r->err, "line %zu: expected \"Timer unit: 1e-06 s\"", c.lineno);
                return -1;
            }
            st = BETWEEN;
            continue;
        case BETWEEN:
            if (n == 0 || hs_text_starts(s, n, "No functions were selected"))
                continue;
            if (!hs_text_starts(s, n, "Total time: ")) {
                hs_read_error(r->err, "line %zu: expected a function's \"Total time: ...\"", c.lineno);
                return -1;
            }
            st = HEADER;
            header_lines = 0;
            file = NULL;
            continue;
        case HEADER:
            header_lines++;
            if (hs_text_starts(s, n, "File: ")) {
                file = s + 6;
                file_len = n - 6;
            } else if (hs_text_starts(s, n, "Function: ")) {
                const char *name;
                size_t name_len;
                int32_t first_line;
                if (!file || parse_function_line(s, n, &name, &name_len, &first_line) < 0) {
                    hs_read_error(r->err, "line %zu: expected \"Function: NAME at line N\" after \"File: ...\"",
                                  c.lineno);
                    return -1;
                }
                if (start_function(r, file, file_len, name, name_len, first_line) < 0)
                    return -2;
            } else if (n > 0 && s[0] == '=' && r->fn_node != HS_NONE) {
                st = ROWS;
            } else if (!(n == 0 || hs_text_starts(s, n, "Line #")) || header_lines > 8) {
                hs_read_error(r->err, "line %zu: not a line of a function's header", c.lineno);
                return -1;
            }
            continue;
        case ROWS:
            if (n == 0) {
                if (end_function(r) < 0)
                    return -2;
                st = BETWEEN;
                continue;
            }
            int rc = parse_row(r, s, n);
            if (rc < 0)
                return -2;
            if (rc == 0) {
                hs_read_error(r->err, "line %zu: not a row of the report (\"LINE  HITS  TIME  PER HIT  %%  TEXT\")",
                              c.lineno);
                return -1;
            }
            continue;
        }
    }
    if (st == WANT_UNIT) {
        hs_read_error(r->err, "no \"Timer unit:\" line: not a line profile report");
        return -1;
    }
    if (st == HEADER) {
        hs_read_error(r->err, "the report ends inside a function's header");
        return -1;
    }
    return st == ROWS && end_function(r) < 0 ? -2 : 0;
}

hs_profile *hs_read_lines_text(const char *data, size_t len, char *err) {
    err[0] = '\0';
    if (hs_text_check_whole(data, len, "a line profile report", err) < 0)
        return NULL;
    reader r;
    memset(&r, 0, sizeof r);
    r.err = err;
    r.fn_node = HS_NONE;
    hs_buf_init(&r.source);
    r.p = hs_profile_new();
    int rc = -2;
    if (r.p) {
        r.thread = hs_read_new_thread(r.p, "all threads", 11);
        if (r.thread != HS_NONE)
            rc = read_report(&r, data, len);
    }
    if (rc == 0) {
        r.p->weights_present |= (1u << HS_W_CALLS) | (1u << HS_W_WALL_NS);
        if (hs_meta_set(r.p, "engine", "lines") < 0 || hs_meta_set(r.p, "clock", "wall") < 0 ||
            hs_meta_set(r.p, "source", "text") < 0)
            rc = -2;
    }
    hs_buf_free(&r.source);
    if (rc < 0) {
        if (rc == -2)
            hs_read_error(err, "out of memory");
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
