/*
 * collapsed_read.c - collapsed stacks, one "frame;frame;frame COUNT" line
 * per stack: the input of Brendan Gregg's flamegraph.pl (its README calls
 * them "folded stacks"), written by its stackcollapse-* scripts, py-spy,
 * Austin, inferno and hotscope (collapsed.c).
 *
 * A line is split at its LAST space or tab: what follows is the count,
 * digits only (speedscope's importer reads /^(.*) (\d+)$/, flamegraph.pl
 * /^(.*)\s+?(\d+(?:\.\d*)?)$/), what precedes it the stack, whose frames
 * may hold spaces. CR before the newline, trailing blanks and blank lines
 * are ignored; a line starting with '#' is a comment. Any other line that
 * does not fit is an error naming its number, since a file that is not
 * collapsed stacks must not be read as an empty profile. Counts above
 * INT64_MAX are refused rather than wrapped.
 *
 * Frame labels are read back into functions where their form says what
 * they are:
 *   "name (file:line)"  a Python function (hotscope, py-spy);
 *   "{label}"           a builtin, as pstats labels ("~", 0, "<label>");
 *   "thread NAME"       as the first frame: hotscope's thread frames. Each
 *                       name becomes a thread; lines without one go to a
 *                       thread named "(collapsed)";
 *   "P<pid>;T<tid>;file:function:line;..."  Austin 3's lines: the first two
 *                       frames name the thread ("P<pid> T<tid>"), and
 *                       "file:function:line" frames are Python functions;
 *   anything else       a frame with just that name.
 *
 * Weights: counts are samples, unless the first line is hotscope's header
 * (collapsed.c), "# hotscope collapsed weight=W" with W one of samples,
 * calls, bytes, allocs, or wall_us / cpu_us (time in microseconds, read
 * back as nanoseconds).
 *
 * Consecutive lines share most of their stack (writers emit them in tree
 * order), so each line's frames are compared as text with the previous
 * line's and only the frames after the first difference are parsed,
 * interned and looked up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

#define HEADER "# hotscope collapsed"

typedef struct {
    const char *text; /* points into the input */
    size_t len;
    hs_id node;
} path_entry;

typedef struct {
    hs_profile *p;
    hs_weight weight;
    int64_t scale;       /* 1, or 1000 for microseconds */
    path_entry *prev;    /* the previous line's frames */
    size_t prev_depth, prev_cap;
    const char *prev_thread;  /* the previous line's thread label text */
    size_t prev_thread_len;
    hs_id prev_thread_root;
    /* thread name (string id) -> root node, open addressing */
    hs_id *thread_keys, *thread_roots;
    size_t thread_slots, thread_used;
    hs_id default_root;
    hs_id empty_string;
} reader;

static int has_prefix(const char *s, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static int all_digits(const char *s, size_t len) {
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int parse_line_number(const char *s, size_t len, int32_t *out) {
    if (!all_digits(s, len) || len > 10)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    if (v > INT32_MAX)
        return 0;
    *out = (int32_t)v;
    return 1;
}

/* ---- frames ------------------------------------------------------------- */

static hs_id intern_frame(reader *r, const char *name, size_t name_len, const char *file, size_t file_len,
                          int32_t line, hs_frame_kind kind) {
    hs_id n = hs_intern(r->p, name, name_len);
    hs_id f = file ? hs_intern(r->p, file, file_len) : r->empty_string;
    if (n == HS_NONE || f == HS_NONE)
        return HS_NONE;
    return hs_frame_intern(r->p, n, f, line, 0, kind);
}

/* The model frame of one label (see the header for the forms). */
static hs_id parse_frame(reader *r, const char *s, size_t len, int austin) {
    /* "{label}": a builtin, stored as pstats stores it: ("~", 0, "<label>"). */
    if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
        char *name = malloc(len);
        if (!name)
            return HS_NONE;
        name[0] = '<';
        memcpy(name + 1, s + 1, len - 2);
        name[len - 1] = '>';
        hs_id id = intern_frame(r, name, len, "~", 1, 0, HS_KIND_NATIVE);
        free(name);
        return id;
    }
    /* "name (file:line)": from the right, so names and files may hold
     * " (" and ':' themselves. */
    if (len >= 5 && s[len - 1] == ')') {
        size_t colon = len - 1;
        while (colon > 0 && s[colon - 1] >= '0' && s[colon - 1] <= '9')
            colon--;
        int32_t line;
        if (colon > 0 && colon < len - 1 && s[colon - 1] == ':' &&
            parse_line_number(s + colon, len - 1 - colon, &line)) {
            colon--;
            /* The " (" that opens the file: the last one before the colon. */
            for (size_t open = colon; open-- > 0;) {
                if (s[open] == '(' && open > 0 && s[open - 1] == ' ')
                    return intern_frame(r, s, open - 1, s + open + 1, colon - open - 1, line,
                                        HS_KIND_PYTHON);
            }
        }
    }
    /* Austin: "file:function:line". */
    if (austin) {
        size_t last = len;
        while (last > 0 && s[last - 1] != ':')
            last--;
        int32_t line;
        if (last > 1 && parse_line_number(s + last, len - last, &line)) {
            size_t mid = last - 1;
            while (mid > 0 && s[mid - 1] != ':')
                mid--;
            if (mid > 1)
                return intern_frame(r, s + mid, last - 1 - mid, s, mid - 1, line, HS_KIND_PYTHON);
        }
    }
    return intern_frame(r, s, len, NULL, 0, 0, HS_KIND_OTHER);
}

/* ---- threads --------------------------------------------------------------- */

static hs_id thread_root(reader *r, const char *name, size_t len) {
    hs_id key = hs_intern(r->p, name, len);
    if (key == HS_NONE)
        return HS_NONE;
    if ((r->thread_used + 1) * 2 > r->thread_slots) {
        size_t n = r->thread_slots ? r->thread_slots * 2 : 16;
        hs_id *keys = malloc(n * sizeof *keys), *roots = malloc(n * sizeof *roots);
        if (!keys || !roots) {
            free(keys);
            free(roots);
            return HS_NONE;
        }
        memset(keys, 0xff, n * sizeof *keys);
        for (size_t i = 0; i < r->thread_slots; i++) {
            if (r->thread_keys[i] == HS_NONE)
                continue;
            size_t k = (size_t)hs_hash_mix(0, r->thread_keys[i]) & (n - 1);
            while (keys[k] != HS_NONE)
                k = (k + 1) & (n - 1);
            keys[k] = r->thread_keys[i];
            roots[k] = r->thread_roots[i];
        }
        free(r->thread_keys);
        free(r->thread_roots);
        r->thread_keys = keys;
        r->thread_roots = roots;
        r->thread_slots = n;
    }
    size_t mask = r->thread_slots - 1;
    size_t k = (size_t)hs_hash_mix(0, key) & mask;
    while (r->thread_keys[k] != HS_NONE) {
        if (r->thread_keys[k] == key)
            return r->thread_roots[k];
        k = (k + 1) & mask;
    }
    hs_id root = hs_read_new_thread(r->p, name, len);
    if (root == HS_NONE)
        return HS_NONE;
    r->thread_keys[k] = key;
    r->thread_roots[k] = root;
    r->thread_used++;
    return root;
}

/* ---- lines ------------------------------------------------------------------ */

static int parse_header(reader *r, const char *s, size_t len, char *err, size_t lineno) {
    const char *w = NULL;
    for (size_t i = 0; i + 7 <= len; i++)
        if (memcmp(s + i, "weight=", 7) == 0)
            w = s + i + 7;
    if (!w)
        return 0; /* a header without a weight: the default */
    size_t n = (size_t)(s + len - w);
    for (size_t i = 0; i < n; i++)
        if (w[i] == ' ' || w[i] == '\t')
            n = i;
    static const struct {
        const char *name;
        hs_weight weight;
        int64_t scale;
    } known[] = {{"samples", HS_W_SAMPLES, 1}, {"calls", HS_W_CALLS, 1},     {"bytes", HS_W_BYTES, 1},
                 {"allocs", HS_W_ALLOCS, 1},   {"wall_us", HS_W_WALL_NS, 1000}, {"cpu_us", HS_W_CPU_NS, 1000},
                 {"peak_bytes", HS_W_PEAK_BYTES, 1}, {"peak_allocs", HS_W_PEAK_ALLOCS, 1},
                 {"leak_bytes", HS_W_LEAK_BYTES, 1}, {"leak_allocs", HS_W_LEAK_ALLOCS, 1}};
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        if (strlen(known[k].name) == n && memcmp(w, known[k].name, n) == 0) {
            r->weight = known[k].weight;
            r->scale = known[k].scale;
            return 0;
        }
    }
    hs_read_error(err, "line %zu: unknown weight \"%.*s\" in the hotscope header", lineno, (int)(n > 40 ? 40 : n), w);
    return -1;
}

static int add_line(reader *r, const char *stack, size_t stack_len, int64_t value, char *err, size_t lineno) {
    size_t depth = 0;
    const char *s = stack, *end = stack + stack_len;
    hs_id root;
    size_t skip = 0; /* leading frames that name the thread */
    int austin = 0;
    /* The thread: "thread NAME", or Austin's "P<pid>;T<tid>". */
    const char *semi = memchr(s, ';', stack_len);
    size_t first_len = semi ? (size_t)(semi - s) : stack_len;
    const char *label = NULL;
    size_t label_len = 0;
    if (has_prefix(s, first_len, "thread ")) {
        label = s + 7;
        label_len = first_len - 7;
        skip = first_len + (semi ? 1 : 0);
    } else if (first_len > 1 && s[0] == 'P' && all_digits(s + 1, first_len - 1) && semi &&
               end - semi > 2 && semi[1] == 'T') {
        const char *semi2 = memchr(semi + 1, ';', (size_t)(end - semi - 1));
        label = s;
        label_len = semi2 ? (size_t)(semi2 - s) : stack_len;
        skip = label_len + (semi2 ? 1 : 0);
        austin = 1;
    }
    if (label) {
        if (r->prev_thread && r->prev_thread_len == label_len && memcmp(r->prev_thread, label, label_len) == 0) {
            root = r->prev_thread_root;
        } else {
            if (austin) {
                /* "P123;T0:456" -> thread "P123 T0:456" */
                char *name = malloc(label_len);
                if (!name)
                    return -1;
                memcpy(name, label, label_len);
                name[first_len] = ' ';
                root = thread_root(r, name, label_len);
                free(name);
            } else
                root = thread_root(r, label, label_len);
            r->prev_depth = 0; /* another thread: nothing shared */
        }
    } else {
        if (r->default_root == HS_NONE)
            r->default_root = hs_read_new_thread(r->p, "(collapsed)", 11);
        root = r->default_root;
        if (r->prev_thread)
            r->prev_depth = 0;
    }
    if (root == HS_NONE)
        return -1;
    r->prev_thread = label;
    r->prev_thread_len = label_len;
    r->prev_thread_root = root;
    s += skip;

    hs_id node = root;
    int same = 1;
    while (s < end) {
        const char *next = memchr(s, ';', (size_t)(end - s));
        size_t flen = next ? (size_t)(next - s) : (size_t)(end - s);
        if (same && depth < r->prev_depth && r->prev[depth].len == flen && memcmp(r->prev[depth].text, s, flen) == 0) {
            node = r->prev[depth].node;
        } else {
            same = 0;
            hs_id frame = parse_frame(r, s, flen, austin);
            if (frame == HS_NONE)
                return -1;
            node = hs_node_child(r->p, node, frame);
            if (node == HS_NONE)
                return -1;
            if (depth >= r->prev_cap) {
                size_t cap = r->prev_cap ? r->prev_cap * 2 : 64;
                path_entry *grown = realloc(r->prev, cap * sizeof *grown);
                if (!grown)
                    return -1;
                r->prev = grown;
                r->prev_cap = cap;
            }
            r->prev[depth].text = s;
            r->prev[depth].len = flen;
            r->prev[depth].node = node;
        }
        depth++;
        if (!next)
            break;
        s = next + 1;
        if (s == end) {
            hs_read_error(err, "line %zu: the stack ends with ';'", lineno);
            return -2;
        }
    }
    r->prev_depth = depth;
    if (value) {
        if (value > INT64_MAX / r->scale) {
            hs_read_error(err, "line %zu: count too large", lineno);
            return -2;
        }
        hs_node_add(r->p, node, r->weight, value * r->scale);
    }
    return 0;
}

hs_profile *hs_read_collapsed(const char *data, size_t len, char *err) {
    reader r;
    memset(&r, 0, sizeof r);
    err[0] = '\0';
    r.weight = HS_W_SAMPLES;
    r.scale = 1;
    r.default_root = HS_NONE;
    r.p = hs_profile_new();
    if (!r.p)
        return hs_read_error(err, "out of memory");
    r.empty_string = hs_intern(r.p, "", 0);
    size_t pos = 0, lineno = 0, stacks = 0;
    int failed = 0, seen_content = 0;
    while (pos < len && !failed) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (memchr(line, '\0', n)) {
            hs_read_error(err, "line %zu: binary data (a NUL byte), not collapsed stacks", lineno);
            failed = 1;
            break;
        }
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        if (line[0] == '#') {
            if (!seen_content && has_prefix(line, n, HEADER) &&
                parse_header(&r, line, n, err, lineno) < 0)
                failed = 1;
            seen_content = 1;
            continue;
        }
        seen_content = 1;
        size_t sep = n;
        while (sep > 0 && line[sep - 1] != ' ' && line[sep - 1] != '\t')
            sep--;
        if (sep == 0 || !all_digits(line + sep, n - sep)) {
            hs_read_error(err, "line %zu: expected 'frame;frame;... COUNT' (a stack, a space, a whole number)",
                          lineno);
            failed = 1;
            break;
        }
        const char *digits = line + sep;
        size_t ndigits = n - sep;
        int64_t value = 0;
        for (size_t i = 0; i < ndigits && !failed; i++) {
            int d = digits[i] - '0';
            if (value > (INT64_MAX - d) / 10) {
                hs_read_error(err, "line %zu: count too large", lineno);
                failed = 1;
                break; /* before the multiplication overflows */
            }
            value = value * 10 + d;
        }
        if (failed)
            break;
        /* An empty stack (" 4"): samples that had no frame to show, as
         * py-spy 0.4.3 writes them; they stay at the thread's root, so they
         * count in its total and in no function. */
        int rc = add_line(&r, line, sep - 1, value, err, lineno);
        if (rc < 0) {
            if (rc == -1)
                hs_read_error(err, "out of memory");
            failed = 1;
            break;
        }
        stacks++;
    }
    if (!failed && stacks == 0) {
        hs_read_error(err, len ? "no stacks: expected lines like 'main;work;compute 42'" : "empty file");
        failed = 1;
    }
    if (!failed)
        r.p->weights_present |= 1u << r.weight;
    free(r.prev);
    free(r.thread_keys);
    free(r.thread_roots);
    if (failed) {
        hs_profile_free(r.p);
        return NULL;
    }
    return r.p;
}
