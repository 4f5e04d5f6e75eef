/*
 * text_tree_read.c - hotscope's text report read back: the `.txt` that
 * `hotscope trace` and `hotscope record` write (and `hotscope view -o
 * x.txt`), whose call tree is text_tree.c's, pyinstrument's layout:
 *
 *     Threads (wall / CPU):                     (only with several threads)
 *       MainThread                0.061s      0.006s
 *     ...a pstats table (trace) or hottest functions (record)...
 *     61.334ms  50.5%  Thread MainThread        (a line per thread, or the
 *     └─ 61.314ms  50.5%  {built-in method builtins.exec}    only thread's
 *        └─ 47.336ms  39.0%  a  w.py:4                       code at once)
 *           │  [3 frames hidden]  json, <built-in>
 *
 * What comes back is what the tree shows, per line: the call path (by
 * indentation: "│  ", "   ", "├─ ", "└─ " or their ASCII forms, and the
 * "[depth N]" marker of lines deeper than the drawing goes), the frame
 * (Python "name  file:line", builtin "{label}", "Thread NAME" at the top
 * level, anything else a frame of that name) and
 * the total. A top-level line that is not a thread (the tree of a single
 * thread starts at its code) hangs under a thread named "(text)". Each
 * node's self weight is its total less the totals of the
 * lines under it, so every total is the printed one. The tables before the
 * tree are summaries: only the per-thread wall and CPU times are taken
 * from them, and the clock (a pstats table whose extra column is "cumwall"
 * was printed by CPU time; otherwise times are wall time). Counts without
 * a unit (a tree of samples) are read as samples.
 *
 * What the text does not hold cannot come back: frames the tree folded
 * ("[N frames hidden]") are not in it, so their time stays in the line
 * above them and the lines below them hang directly under it; paths below
 * the tree's 1% are left out and their time is their parent's self; a
 * single thread's name is not printed (it is read as "(text)"); library
 * files are printed by import path ("json/__init__.py"); calls per
 * function are only in the pstats table, not read. Times are printed to
 * 3 decimals of the tree's unit (ms, or s from one second up), so each
 * total is within half of 0.001 ms (0.001 s) of the recorded one, and a
 * self time within that much per line (it is never made negative).
 *
 * Checks: the lines under a line may add up to more than its total only
 * by what the rounding allows (half a unit per printed figure); the
 * indentation may grow by one level at a time; the file must end with a
 * newline (a file cut mid-line is refused). A file cut exactly at the end
 * of a line cannot be told from a smaller tree.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "read.h"
#include "text_lines.h"

#define VERT_UTF8 "\xe2\x94\x82  "          /* "│  " */
#define TEE_UTF8 "\xe2\x94\x9c\xe2\x94\x80 " /* "├─ " */
#define ELBOW_UTF8 "\xe2\x94\x94\xe2\x94\x80 " /* "└─ " */

typedef enum { AMOUNT_NONE = 0, AMOUNT_TIME = 1, AMOUNT_COUNT = 2 } amount_kind;

/* A line of the tree whose children may still follow. */
typedef struct {
    hs_id node;
    int64_t total;          /* as printed, in the weight's unit (ns or count) */
    int64_t half_unit;      /* the printed total is within this of the true one */
    int64_t children;       /* sum of the printed totals of the lines under it */
    int64_t children_slack; /* sum of their half units */
    size_t lineno;
} open_line;

/* A thread listed in the "Threads (...)" table before the tree: created
 * when listed, so threads keep the table's order. */
typedef struct {
    hs_id name; /* interned */
    hs_id root;
    int in_tree; /* a "Thread NAME" line of the tree has claimed it */
} listed_thread;

typedef struct {
    hs_profile *p;
    char *err;
    open_line *open;
    size_t depth, cap; /* open[0..depth) is the current path */
    listed_thread *listed;
    size_t nlisted, listed_cap;
    hs_weight time_weight;
    amount_kind kind;
    hs_id single_root; /* the thread of top-level lines that are not threads */
    size_t tree_lines;
} reader;

typedef struct {
    size_t depth;
    int64_t total, half_unit;
    amount_kind kind;
    const char *label;
    size_t label_len;
} tree_line;

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int at(const char *s, size_t len, size_t i, const char *lit) {
    size_t k = strlen(lit);
    return i + k <= len && memcmp(s + i, lit, k) == 0;
}

/* ---- parsing one line ---------------------------------------------------- */

/* "12.345ms", "1.234s" or "42", then spaces, "12.3%", two spaces. */
static int parse_figures(const char *s, size_t len, size_t *pos, tree_line *t) {
    size_t i = *pos;
    int64_t v, unit_ns;
    int decimals;
    if (hs_text_fixed(s, len, &i, 0, &v, NULL) == 0 && at(s, len, i, " ")) {
        t->total = v; /* a count: exact */
        t->kind = AMOUNT_COUNT;
        t->half_unit = 0;
    } else {
        /* Nanoseconds from seconds need 9 decimals, from milliseconds 6:
         * read with 9 and scale milliseconds down, which is exact. */
        i = *pos;
        if (hs_text_fixed(s, len, &i, 9, &v, &decimals) < 0)
            return -1;
        if (at(s, len, i, "ms")) {
            if (decimals > 6)
                return -1;
            v /= 1000;
            unit_ns = 1000000;
            i += 2;
        } else if (at(s, len, i, "s")) {
            unit_ns = 1000000000;
            i += 1;
        } else {
            return -1;
        }
        /* printf rounds to nearest: the true value is within half of the
         * last printed digit. */
        for (int k = 0; k < decimals; k++)
            unit_ns /= 10;
        t->total = v;
        t->kind = AMOUNT_TIME;
        t->half_unit = unit_ns / 2;
    }
    if (hs_text_skip_spaces(s, len, &i) == 0)
        return -1;
    int64_t share;
    if (hs_text_fixed(s, len, &i, 1, &share, NULL) < 0 || !at(s, len, i, "%  "))
        return -1;
    *pos = i + 3;
    return 0;
}

/* A hidden-frames note: "[N frames hidden]  ..." or "[1 frame hidden]". */
static int is_hidden_note(const char *s, size_t len, size_t i) {
    if (!at(s, len, i, "["))
        return 0;
    i++;
    if (i >= len || !is_digit(s[i]))
        return 0;
    while (i < len && is_digit(s[i]))
        i++;
    return at(s, len, i, " frames hidden]") || at(s, len, i, " frame hidden]");
}

/* 1 for a line of the tree (in *t), 0 for a hidden-frames note, -1 for
 * anything else. */
static int parse_tree_line(const char *s, size_t len, tree_line *t) {
    size_t i = 0, groups = 0;
    for (;;) {
        if (at(s, len, i, VERT_UTF8))
            i += strlen(VERT_UTF8);
        else if (at(s, len, i, "|  ") || at(s, len, i, "   "))
            i += 3;
        else
            break;
        groups++;
    }
    int connector = 0;
    if (at(s, len, i, TEE_UTF8) || at(s, len, i, ELBOW_UTF8)) {
        i += strlen(TEE_UTF8);
        connector = 1;
    } else if (at(s, len, i, "|- ") || at(s, len, i, "`- ")) {
        i += 3;
        connector = 1;
    }
    if (!connector) {
        if (groups > 0)
            return is_hidden_note(s, len, i) ? 0 : -1;
        if (!is_digit(s[0]))
            return -1;
    }
    t->depth = connector ? groups + 1 : 0;
    if (connector && at(s, len, i, "[depth ")) {
        /* Deeper than the drawing goes: the level is written out. */
        i += 7;
        int64_t depth;
        if (hs_text_fixed(s, len, &i, 0, &depth, NULL) < 0 || !at(s, len, i, "] ") || depth < 1 ||
            (uint64_t)depth > SIZE_MAX / 2)
            return -1;
        t->depth = (size_t)depth;
        i += 2;
    }
    if (parse_figures(s, len, &i, t) < 0)
        return -1;
    t->label = s + i;
    t->label_len = len - i;
    return 1;
}

/* ---- frames -------------------------------------------------------------- */

static hs_id intern_frame(hs_profile *p, const char *name, size_t name_len, const char *file,
                          size_t file_len, int32_t line, hs_frame_kind kind) {
    hs_id n = hs_intern(p, name, name_len);
    hs_id f = hs_intern(p, file, file_len);
    if (n == HS_NONE || f == HS_NONE)
        return HS_NONE;
    return hs_frame_intern(p, n, f, line, 0, kind);
}

/* The frame a label names (the forms at the top of the file). */
static hs_id label_frame(hs_profile *p, const char *s, size_t len) {
    if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
        /* A builtin, stored as cProfile stores it: ("~", 0, "<label>"). */
        char *name = malloc(len);
        if (!name)
            return HS_NONE;
        name[0] = '<';
        memcpy(name + 1, s + 1, len - 2);
        name[len - 1] = '>';
        hs_id id = intern_frame(p, name, len, "~", 1, 0, HS_KIND_NATIVE);
        free(name);
        return id;
    }
    /* "name  file:line", split at the line number's colon and the last
     * two spaces before it. */
    size_t colon = len;
    while (colon > 0 && is_digit(s[colon - 1]))
        colon--;
    if (colon < len && colon > 0 && s[colon - 1] == ':' && len - colon <= 10) {
        int64_t line = 0;
        for (size_t k = colon; k < len; k++)
            line = line * 10 + (s[k] - '0');
        colon--;
        for (size_t sp = colon; line <= INT32_MAX && sp >= 2; sp--) {
            if (s[sp - 1] == ' ' && s[sp - 2] == ' ')
                return intern_frame(p, s, sp - 2, s + sp, colon - sp, (int32_t)line, HS_KIND_PYTHON);
        }
    }
    return intern_frame(p, s, len, "", 0, 0, HS_KIND_OTHER);
}

/* ---- threads ------------------------------------------------------------- */

static int add_listed(reader *r, const char *name, size_t name_len, int64_t wall_ns, int64_t cpu_ns) {
    hs_id root = hs_read_new_thread(r->p, name, name_len);
    if (root == HS_NONE)
        return -1;
    hs_thread *thread = &r->p->threads[r->p->thread_count - 1];
    thread->wall_ns = wall_ns;
    thread->cpu_ns = cpu_ns;
    if (r->nlisted == r->listed_cap) {
        size_t cap = r->listed_cap ? r->listed_cap * 2 : 8;
        listed_thread *grown = realloc(r->listed, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->listed = grown;
        r->listed_cap = cap;
    }
    listed_thread *t = &r->listed[r->nlisted++];
    t->name = thread->name;
    t->root = root;
    t->in_tree = 0;
    return 0;
}

/* The last space-separated word of s[0..*len), removed from it (with the
 * spaces before it) into *word and *word_len. 0, or -1 if there is none. */
static int pop_word(const char *s, size_t *len, const char **word, size_t *word_len) {
    size_t end = *len;
    while (end > 0 && s[end - 1] == ' ')
        end--;
    size_t start = end;
    while (start > 0 && s[start - 1] != ' ')
        start--;
    if (start == end || start == 0)
        return -1;
    *word = s + start;
    *word_len = end - start;
    while (start > 0 && s[start - 1] == ' ')
        start--;
    *len = start;
    return 0;
}

/* A row of "Threads (wall / CPU):" ("  NAME  0.061s  0.006s") or of
 * "Threads (samples):" ("  NAME  19  76.0%"). */
static int parse_thread_row(reader *r, const char *s, size_t len, int times) {
    if (!hs_text_starts(s, len, "  "))
        return -1;
    const char *w2, *w1;
    size_t n2, n1;
    if (pop_word(s, &len, &w2, &n2) < 0 || pop_word(s, &len, &w1, &n1) < 0 || len < 2)
        return -1;
    int64_t wall = 0, cpu = 0;
    size_t i = 0;
    if (times) {
        if (hs_text_fixed(w1, n1, &i, 9, &wall, NULL) < 0 || !at(w1, n1, i, "s") || i + 1 != n1)
            return -1;
        i = 0;
        if (hs_text_fixed(w2, n2, &i, 9, &cpu, NULL) < 0 || !at(w2, n2, i, "s") || i + 1 != n2)
            return -1;
    } else {
        int64_t count, share;
        if (hs_text_fixed(w1, n1, &i, 0, &count, NULL) < 0 || i != n1)
            return -1;
        i = 0;
        if (hs_text_fixed(w2, n2, &i, 1, &share, NULL) < 0 || !at(w2, n2, i, "%") || i + 1 != n2)
            return -1;
    }
    return add_listed(r, s + 2, len - 2, wall, cpu) < 0 ? -2 : 0;
}

/* The root of the thread a top-level "Thread NAME" line names: the first
 * listed thread of that name not yet in the tree, or a new thread. */
static hs_id thread_for(reader *r, const char *name, size_t len) {
    hs_id name_id = hs_intern(r->p, name, len);
    if (name_id == HS_NONE)
        return HS_NONE;
    for (size_t i = 0; i < r->nlisted; i++) {
        listed_thread *t = &r->listed[i];
        if (!t->in_tree && t->name == name_id) {
            t->in_tree = 1;
            return t->root;
        }
    }
    return hs_read_new_thread(r->p, name, len);
}

/* ---- the tree ------------------------------------------------------------ */

/* Closes the innermost open line: its self is its total less its lines. */
static int close_line(reader *r) {
    open_line *o = &r->open[--r->depth];
    int64_t allowed = hs_sat_add(hs_sat_add(o->total, o->half_unit), o->children_slack);
    if (o->children > allowed) {
        hs_read_error(r->err, "line %zu: the lines under it add up to more than its own total", o->lineno);
        return -1;
    }
    int64_t self = o->total - o->children;
    if (self > 0)
        hs_node_add(r->p, o->node, r->kind == AMOUNT_TIME ? r->time_weight : HS_W_SAMPLES, self);
    return 0;
}

static int add_tree_line(reader *r, const tree_line *t, size_t lineno) {
    if (r->kind == AMOUNT_NONE)
        r->kind = t->kind;
    else if (r->kind != t->kind) {
        hs_read_error(r->err, "line %zu: %s among %s", lineno, t->kind == AMOUNT_TIME ? "a time" : "a count",
                      r->kind == AMOUNT_TIME ? "times" : "counts");
        return -1;
    }
    /* A line at depth d hangs under the open line at depth d - 1. */
    if (t->depth > r->depth) {
        hs_read_error(r->err, "line %zu: indented deeper than the line above it", lineno);
        return -1;
    }
    while (r->depth > t->depth)
        if (close_line(r) < 0)
            return -1;

    hs_id node;
    if (t->depth == 0 && hs_text_starts(t->label, t->label_len, "Thread ")) {
        node = thread_for(r, t->label + 7, t->label_len - 7);
    } else {
        hs_id parent;
        if (t->depth > 0) {
            open_line *up = &r->open[t->depth - 1];
            parent = up->node;
            up->children = hs_sat_add(up->children, t->total);
            up->children_slack = hs_sat_add(up->children_slack, t->half_unit);
        } else {
            if (r->single_root == HS_NONE)
                r->single_root = hs_read_new_thread(r->p, "(text)", 6);
            parent = r->single_root;
        }
        hs_id frame = parent == HS_NONE ? HS_NONE : label_frame(r->p, t->label, t->label_len);
        node = frame == HS_NONE ? HS_NONE : hs_node_child(r->p, parent, frame);
    }
    if (node == HS_NONE) {
        hs_read_error(r->err, "out of memory");
        return -1;
    }
    if (r->depth == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        open_line *grown = realloc(r->open, cap * sizeof *grown);
        if (!grown) {
            hs_read_error(r->err, "out of memory");
            return -1;
        }
        r->open = grown;
        r->cap = cap;
    }
    open_line *o = &r->open[r->depth++];
    o->node = node;
    o->total = t->total;
    o->half_unit = t->half_unit;
    o->children = 0;
    o->children_slack = 0;
    o->lineno = lineno;
    r->tree_lines++;
    return 0;
}

/* ---- the whole file ------------------------------------------------------ */

static int read_text(reader *r, const char *data, size_t len, char *line_buf) {
    hs_text_cursor c;
    const char *raw;
    size_t n;
    int section = 0; /* 1: rows of "Threads (wall / CPU):", 2: of "Threads (samples):" */
    int in_tree = 0, seen_report = 0;
    hs_text_cursor_init(&c, data, len);
    while (hs_text_next_line(&c, &raw, &n)) {
        n = hs_text_strip_sgr(raw, n, line_buf);
        const char *s = line_buf;
        tree_line t;
        int kind = n ? parse_tree_line(s, n, &t) : -1;
        if (in_tree || (kind == 1 && t.depth == 0)) {
            in_tree = 1;
            if (n == 0 || kind == 0)
                continue;
            if (kind < 0) {
                hs_read_error(r->err, "line %zu: not a line of the call tree (\"time  share%%  function\")",
                              c.lineno);
                return -1;
            }
            if (add_tree_line(r, &t, c.lineno) < 0)
                return -1;
            continue;
        }
        /* Before the tree: the thread table, the table's clock. */
        if (n == 0) {
            section = 0;
            continue;
        }
        if (section) {
            int rc = parse_thread_row(r, s, n, section == 1);
            if (rc == -2) {
                hs_read_error(r->err, "out of memory");
                return -1;
            }
            if (rc < 0) {
                hs_read_error(r->err, "line %zu: not a row of the threads table (\"  NAME  %s\")", c.lineno,
                              section == 1 ? "WALLs  CPUs" : "SAMPLES  SHARE%");
                return -1;
            }
            continue;
        }
        if (hs_text_starts(s, n, "Threads (wall / CPU):")) {
            section = 1;
            seen_report = 1;
        } else if (hs_text_starts(s, n, "Threads (samples):")) {
            section = 2;
            seen_report = 1;
        } else if (memmem(s, n, "ncalls", 6) && memmem(s, n, "tottime", 7)) {
            seen_report = 1;
            if (memmem(s, n, "cumwall", 7))
                r->time_weight = HS_W_CPU_NS;
        } else if (memmem(s, n, "function calls", 14) || memmem(s, n, "%Own", 4)) {
            seen_report = 1;
        }
    }
    if (!r->tree_lines && !seen_report) {
        hs_read_error(r->err, "no call tree: expected lines like \"12.345ms  67.8%%  main  app.py:12\"");
        return -1;
    }
    while (r->depth > 0)
        if (close_line(r) < 0)
            return -1;
    return 0;
}

hs_profile *hs_read_text_tree(const char *data, size_t len, char *err) {
    err[0] = '\0';
    if (hs_text_check_whole(data, len, "a text report", err) < 0)
        return NULL;
    reader r;
    memset(&r, 0, sizeof r);
    r.err = err;
    r.time_weight = HS_W_WALL_NS;
    r.single_root = HS_NONE;
    r.p = hs_profile_new();
    char *line_buf = malloc(len);
    int rc = -1;
    if (!r.p || !line_buf) {
        hs_read_error(err, "out of memory");
        goto done;
    }
    rc = read_text(&r, data, len, line_buf);
    if (rc == 0) {
        /* Threads the table lists but the tree left out (under 1%) stay,
         * with no stacks, so the thread list is whole. */
        if (r.p->thread_count == 0 && hs_read_new_thread(r.p, "(text)", 6) == HS_NONE) {
            hs_read_error(err, "out of memory");
            rc = -1;
        }
        r.p->weights_present |= 1u << (r.kind == AMOUNT_COUNT ? HS_W_SAMPLES : r.time_weight);
        if (rc == 0 && (hs_meta_set(r.p, "source", "text") < 0 ||
                        hs_meta_set(r.p, "clock", r.time_weight == HS_W_CPU_NS ? "cpu" : "wall") < 0 ||
                        hs_meta_set(r.p, "stacks", "as the text tree shows them: folded library frames and "
                                                   "paths under its threshold are in their caller's self") < 0)) {
            hs_read_error(err, "out of memory");
            rc = -1;
        }
    }
done:
    free(line_buf);
    free(r.open);
    free(r.listed);
    if (rc < 0) {
        if (!err[0])
            hs_read_error(err, "out of memory");
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
