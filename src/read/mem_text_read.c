/*
 * mem_text_read.c - the memory report read back: the `.txt` of `hotscope
 * mem` (mem_text.c). That report is a summary, and what comes back is the
 * summary, not the recording:
 *   - the heading figures into the meta mem_text.c reads them from
 *     (peak_bytes, peak_blocks, peak_time_ns, allocated_bytes,
 *     allocations, frees, live_bytes, live_blocks, peak_snapshot_bytes,
 *     interval_ns, unrecorded_events, command);
 *   - each row of "Memory at the peak, by stack" and "Still allocated at
 *     the end (leaks), by stack" as its stack, with the row's figures as
 *     peak_bytes/peak_allocs or leak_bytes/leak_allocs of the innermost
 *     frame. A stack printed to its thread ("thread NAME") is a path of
 *     that thread; one cut short ("... N more") has its N outer frames
 *     replaced by one frame "[N more frames]", under a thread named
 *     "(stacks cut short)";
 *   - each row of "Allocated over the whole run, by line" (the report has
 *     no stacks for it) as bytes/allocs of a one-frame path under a thread
 *     "(allocated, by line)", or of the thread itself for a thread's row.
 * The by-line tables of the peak and the leaks are the by-stack rows
 * summed by line, so they are not read (re-rendering derives them again,
 * from the rows the report showed). Rows a table left out ("... N more"),
 * the RSS series (only its highest value is printed) and the frames'
 * first lines (only the line running is printed) are not in the text.
 * Sizes are printed with one decimal of KiB, MiB, ... so they come back
 * within 0.05 of that unit; counts are exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"
#include "text_lines.h"

#define STACK_INDENT 25 /* continuation lines: the size and count columns, blank */

typedef enum {
    SEC_HEAD,      /* the figures before the first table */
    SEC_PEAK_STACK,
    SEC_PEAK_LINE,
    SEC_RUN_LINE,
    SEC_LEAK_LINE,
    SEC_LEAK_STACK,
} section;

typedef struct {
    hs_id frame;
    int is_thread;
    const char *name; /* a thread's name, in the input */
    size_t name_len;
} stack_frame;

typedef struct {
    hs_profile *p;
    char *err;
    section sec;
    int table_header_seen;
    /* the stack row being read: innermost frame first */
    stack_frame *frames;
    size_t nframes, cap;
    int64_t bytes, count, cut; /* cut: "... N more" frames left out */
    int open_row;
    hs_id cut_thread, line_thread;
    hs_id more_frame_name;
} reader;

/* ---- numbers ------------------------------------------------------------- */

/* "419.2 KiB", "560 B": bytes, rounded to nearest. */
static int parse_size(const char *s, size_t len, size_t *pos, int64_t *bytes) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int64_t digits;
    int dec;
    size_t i = *pos;
    if (hs_text_decimal(s, len, &i, &digits, &dec) < 0 || i >= len || s[i] != ' ' || dec > 3)
        return -1;
    i++;
    for (int u = 4; u >= 0; u--) {
        size_t k = strlen(units[u]);
        if (i + k > len || memcmp(s + i, units[u], k) != 0)
            continue;
        /* digits / 10^dec * 1024^u, exactly, then rounded */
        int64_t v = digits, div = 1;
        for (int d = 0; d < dec; d++)
            div *= 10;
        for (int m = 0; m < u; m++)
            if (__builtin_mul_overflow(v, 1024, &v))
                return -1;
        *bytes = v / div + (v % div * 2 >= div && div > 1);
        *pos = i + k;
        return 0;
    }
    return -1;
}

/* Matches a whole line against fmt: literal bytes, and %S a size (bytes),
 * %I a whole number, %T seconds and %M milliseconds (both as ns), each
 * stored in the next vals[]. 0 on a match. */
static int scan(const char *s, size_t len, const char *fmt, int64_t *vals) {
    size_t i = 0;
    int v = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (i >= len || s[i] != *f)
                return -1;
            i++;
            continue;
        }
        f++;
        int rc;
        switch (*f) {
        case 'S':
            rc = parse_size(s, len, &i, &vals[v]);
            break;
        case 'I':
            rc = hs_text_fixed(s, len, &i, 0, &vals[v], NULL);
            break;
        case 'T':
            rc = hs_text_fixed(s, len, &i, 9, &vals[v], NULL);
            break;
        case 'M':
            rc = hs_text_fixed(s, len, &i, 6, &vals[v], NULL);
            break;
        default:
            return -1;
        }
        if (rc < 0)
            return -1;
        v++;
    }
    return i == len ? 0 : -1;
}

static int set_meta_int(hs_profile *p, const char *key, int64_t v) {
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)v);
    return hs_meta_set(p, key, text);
}

/* ---- frames and threads -------------------------------------------------- */

/* A thread's root by name: the first thread of that name, else a new one. */
static hs_id thread_named(reader *r, const char *name, size_t len) {
    hs_id id = hs_intern(r->p, name, len);
    if (id == HS_NONE)
        return HS_NONE;
    for (size_t t = 0; t < r->p->thread_count; t++)
        if (r->p->threads[t].name == id)
            return r->p->threads[t].root;
    return hs_read_new_thread(r->p, name, len);
}

/* "file:LINE  name" (at the first ":digits  "), "thread NAME", or a name. */
static int parse_frame(reader *r, const char *s, size_t len, stack_frame *out) {
    out->is_thread = 0;
    out->frame = HS_NONE;
    if (hs_text_starts(s, len, "thread ")) {
        out->is_thread = 1;
        out->name = s + 7;
        out->name_len = len - 7;
        return 0;
    }
    for (size_t colon = 0; colon < len; colon++) {
        if (s[colon] != ':')
            continue;
        size_t i = colon + 1;
        int64_t line;
        if (hs_text_fixed(s, len, &i, 0, &line, NULL) < 0 || line > INT32_MAX || !hs_text_starts(s + i, len - i, "  "))
            continue;
        hs_id name = hs_intern(r->p, s + i + 2, len - i - 2);
        hs_id file = hs_intern(r->p, s, colon);
        out->frame = name == HS_NONE || file == HS_NONE
                         ? HS_NONE
                         : hs_frame_intern(r->p, name, file, 0, (int32_t)line, HS_KIND_PYTHON);
        return out->frame == HS_NONE ? -2 : 0;
    }
    hs_id name = hs_intern(r->p, s, len);
    hs_id file = hs_intern(r->p, "", 0);
    out->frame = name == HS_NONE || file == HS_NONE ? HS_NONE : hs_frame_intern(r->p, name, file, 0, 0, HS_KIND_OTHER);
    return out->frame == HS_NONE ? -2 : 0;
}

static int push_frame(reader *r, const stack_frame *f) {
    if (r->nframes == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        stack_frame *grown = realloc(r->frames, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->frames = grown;
        r->cap = cap;
    }
    r->frames[r->nframes++] = *f;
    return 0;
}

/* ---- rows ---------------------------------------------------------------- */

/* The stack row read so far, into the model. 0, -1 (message set) or -2. */
static int close_row(reader *r, size_t lineno) {
    if (!r->open_row)
        return 0;
    r->open_row = 0;
    if (r->nframes == 0) /* (only after a failure to push its first frame) */
        return 0;
    hs_id node;
    size_t n = r->nframes;
    if (r->cut > 0) {
        if (r->cut_thread == HS_NONE)
            r->cut_thread = hs_read_new_thread(r->p, "(stacks cut short)", 18);
        char text[48];
        snprintf(text, sizeof text, "[%lld more frames]", (long long)r->cut);
        hs_id name = hs_intern(r->p, text, strlen(text));
        hs_id file = hs_intern(r->p, "", 0);
        hs_id frame = name == HS_NONE || file == HS_NONE ? HS_NONE : hs_frame_intern(r->p, name, file, 0, 0, HS_KIND_OTHER);
        node = r->cut_thread == HS_NONE || frame == HS_NONE ? HS_NONE : hs_node_child(r->p, r->cut_thread, frame);
    } else {
        const stack_frame *outer = &r->frames[n - 1];
        if (!outer->is_thread) {
            hs_read_error(r->err, "line %zu: a stack that neither reaches its thread nor says how many frames are left out",
                          lineno);
            return -1;
        }
        node = thread_named(r, outer->name, outer->name_len);
        n--;
    }
    for (size_t k = n; k-- > 0 && node != HS_NONE;) {
        if (r->frames[k].is_thread) {
            hs_read_error(r->err, "line %zu: a thread in the middle of a stack", lineno);
            return -1;
        }
        node = hs_node_child(r->p, node, r->frames[k].frame);
    }
    if (node == HS_NONE)
        return -2;
    int leak = r->sec == SEC_LEAK_STACK;
    hs_node_add(r->p, node, leak ? HS_W_LEAK_BYTES : HS_W_PEAK_BYTES, r->bytes);
    hs_node_add(r->p, node, leak ? HS_W_LEAK_ALLOCS : HS_W_PEAK_ALLOCS, r->count);
    return 0;
}

/* A row of "Allocated over the whole run, by line". */
static int add_line_row(reader *r, const stack_frame *f) {
    hs_id node;
    if (f->is_thread) {
        node = thread_named(r, f->name, f->name_len);
    } else {
        if (r->line_thread == HS_NONE)
            r->line_thread = hs_read_new_thread(r->p, "(allocated, by line)", 20);
        node = r->line_thread == HS_NONE ? HS_NONE : hs_node_child(r->p, r->line_thread, f->frame);
    }
    if (node == HS_NONE)
        return -2;
    hs_node_add(r->p, node, HS_W_BYTES, r->bytes);
    hs_node_add(r->p, node, HS_W_ALLOCS, r->count);
    return 0;
}

/* A line inside a table. 0, -1 (message set) or -2. */
static int table_line(reader *r, const char *s, size_t n, size_t lineno) {
    int stacks = r->sec == SEC_PEAK_STACK || r->sec == SEC_LEAK_STACK;
    if (!r->table_header_seen) {
        static const char *const headers[] = {"size     blocks  stack (innermost frame first)",
                                              "size     blocks  line", "size     allocs  line"};
        size_t i = 0;
        hs_text_skip_spaces(s, n, &i);
        for (size_t k = 0; k < 3; k++)
            if (n - i == strlen(headers[k]) && memcmp(s + i, headers[k], n - i) == 0)
                r->table_header_seen = 1;
        if (r->table_header_seen || (n == 11 && memcmp(s, "  (nothing)", 11) == 0))
            return 0;
        hs_read_error(r->err, "line %zu: expected the table's header (\"size  blocks  ...\")", lineno);
        return -1;
    }
    int64_t more;
    if (scan(s, n, "  ... %I more", &more) == 0)
        return close_row(r, lineno);
    size_t i = 0;
    if (stacks && n > STACK_INDENT && hs_text_skip_spaces(s, n, &i) == STACK_INDENT) {
        /* A stack's next frame, or how many more it has. */
        if (!r->open_row || r->cut) {
            hs_read_error(r->err, "line %zu: a frame outside a stack", lineno);
            return -1;
        }
        if (scan(s + i, n - i, "... %I more", &more) == 0) {
            r->cut = more > 0 ? more : 1;
            return 0;
        }
        stack_frame f;
        int rc = parse_frame(r, s + i, n - i, &f);
        return rc < 0 ? rc : push_frame(r, &f) < 0 ? -2 : 0;
    }
    int rc = close_row(r, lineno);
    if (rc < 0)
        return rc;
    i = 0;
    hs_text_skip_spaces(s, n, &i);
    if (parse_size(s, n, &i, &r->bytes) < 0 || !hs_text_starts(s + i, n - i, "  ")) {
        hs_read_error(r->err, "line %zu: expected a row (\"SIZE  COUNT  %s\")", lineno, stacks ? "STACK" : "LINE");
        return -1;
    }
    hs_text_skip_spaces(s, n, &i);
    if (hs_text_fixed(s, n, &i, 0, &r->count, NULL) < 0 || !hs_text_starts(s + i, n - i, "  ")) {
        hs_read_error(r->err, "line %zu: expected a row (\"SIZE  COUNT  %s\")", lineno, stacks ? "STACK" : "LINE");
        return -1;
    }
    i += 2;
    stack_frame f;
    rc = parse_frame(r, s + i, n - i, &f);
    if (rc < 0)
        return rc;
    if (stacks) {
        r->nframes = 0;
        r->cut = 0;
        r->open_row = 1;
        return push_frame(r, &f) < 0 ? -2 : 0;
    }
    return r->sec == SEC_RUN_LINE ? add_line_row(r, &f) : 0;
}

/* The figures before the tables. */
static int head_line(reader *r, const char *s, size_t n, size_t lineno) {
    int64_t v[4];
    int rc = 0;
    if (n == 0 || hs_text_starts(s, n, "Python heap (sizes asked"))
        return 0;
    if (scan(s, n, "  peak                  %S in %I blocks, %T s after the start", v) == 0)
        rc = set_meta_int(r->p, "peak_bytes", v[0]) | set_meta_int(r->p, "peak_blocks", v[1]) |
             set_meta_int(r->p, "peak_time_ns", v[2]);
    else if (scan(s, n, "  allocated in total    %S in %I allocations (%I frees)", v) == 0)
        rc = set_meta_int(r->p, "allocated_bytes", v[0]) | set_meta_int(r->p, "allocations", v[1]) |
             set_meta_int(r->p, "frees", v[2]);
    else if (scan(s, n, "  still allocated, end  %S in %I blocks", v) == 0)
        rc = set_meta_int(r->p, "live_bytes", v[0]) | set_meta_int(r->p, "live_blocks", v[1]);
    else if (scan(s, n, "Process RSS: highest seen %S (%I samples, at most one per %M ms, taken on allocations)", v) == 0)
        rc = set_meta_int(r->p, "interval_ns", v[2]);
    else if (scan(s, n, "Warning: %I events were not recorded (hotscope ran out of memory)", v) == 0)
        rc = set_meta_int(r->p, "unrecorded_events", v[0]);
    else {
        hs_read_error(r->err, "line %zu: not a line of the memory report's heading", lineno);
        return -1;
    }
    return rc < 0 ? -2 : 0;
}

/* A table's title: which section starts (and, at the peak, the size of
 * the snapshot shown). -1 when the line is not a title. */
static int title_line(reader *r, const char *s, size_t n) {
    int64_t snap;
    if (scan(s, n, "Memory at the peak, by stack", NULL) == 0)
        r->sec = SEC_PEAK_STACK;
    else if (scan(s, n, "Memory at the peak, by stack (as of %S, the last snapshot before the peak)", &snap) == 0) {
        r->sec = SEC_PEAK_STACK;
        if (set_meta_int(r->p, "peak_snapshot_bytes", snap) < 0)
            return -2;
    } else if (scan(s, n, "Memory at the peak, by line", NULL) == 0)
        r->sec = SEC_PEAK_LINE;
    else if (scan(s, n, "Allocated over the whole run, by line", NULL) == 0)
        r->sec = SEC_RUN_LINE;
    else if (scan(s, n, "Still allocated at the end (leaks), by line", NULL) == 0)
        r->sec = SEC_LEAK_LINE;
    else if (scan(s, n, "Still allocated at the end (leaks), by stack", NULL) == 0)
        r->sec = SEC_LEAK_STACK;
    else
        return -1;
    r->table_header_seen = 0;
    return 0;
}

static int read_report(reader *r, const char *data, size_t len) {
    hs_text_cursor c;
    const char *s;
    size_t n;
    hs_text_cursor_init(&c, data, len);
    if (!hs_text_next_line(&c, &s, &n) || !hs_text_starts(s, n, "hotscope mem")) {
        hs_read_error(r->err, "line 1: expected \"hotscope mem\"");
        return -1;
    }
    if (hs_text_starts(s, n, "hotscope mem: ")) {
        char *command = strndup(s + 14, n - 14);
        int rc = command ? hs_meta_set(r->p, "command", command) : -1;
        free(command);
        if (rc < 0)
            return -2;
    } else if (n != 12) {
        hs_read_error(r->err, "line 1: expected \"hotscope mem\"");
        return -1;
    }
    int in_table = 0;
    while (hs_text_next_line(&c, &s, &n)) {
        int rc;
        if (n == 0) {
            rc = close_row(r, c.lineno);
            in_table = 0;
        } else if (!in_table && (rc = title_line(r, s, n)) != -1) {
            in_table = 1;
        } else if (in_table) {
            rc = table_line(r, s, n, c.lineno);
        } else if (r->sec == SEC_HEAD) {
            rc = head_line(r, s, n, c.lineno);
        } else {
            hs_read_error(r->err, "line %zu: expected the title of a table", c.lineno);
            rc = -1;
        }
        if (rc < 0)
            return rc;
    }
    return close_row(r, c.lineno);
}

hs_profile *hs_read_mem_text(const char *data, size_t len, char *err) {
    err[0] = '\0';
    if (hs_text_check_whole(data, len, "a memory report", err) < 0)
        return NULL;
    reader r;
    memset(&r, 0, sizeof r);
    r.err = err;
    r.sec = SEC_HEAD;
    r.cut_thread = r.line_thread = HS_NONE;
    r.p = hs_profile_new();
    int rc = r.p ? read_report(&r, data, len) : -2;
    if (rc == 0) {
        for (int w = HS_W_BYTES; w <= HS_W_LEAK_ALLOCS; w++)
            r.p->weights_present |= 1u << w;
        if (r.p->thread_count == 0 && hs_read_new_thread(r.p, "(text)", 6) == HS_NONE)
            rc = -2;
        else if (hs_meta_set(r.p, "engine", "memory") < 0 || hs_meta_set(r.p, "source", "text") < 0)
            rc = -2;
    }
    free(r.frames);
    if (rc < 0) {
        if (rc == -2 || !err[0])
            hs_read_error(err, "out of memory");
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
