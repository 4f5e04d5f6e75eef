/*
 * test_render.c - unit test of the renderers (src/render/) on profiles
 * built by hand with the model API, so every expected number is known by
 * construction.
 *
 * Usage: test_render OUT.prof
 * Asserts the exact text of the table, tree and collapsed outputs and the
 * exact bytes of a tiny marshal file, then writes files for
 * tests/test_c_render.py to check with Python's own pstats/marshal:
 *   OUT.prof              pstats file of profile A (wall time)
 *   OUT.prof.weird.prof   pstats file of profile B (odd names, bad UTF-8)
 *   OUT.prof.table.N.txt  hotscope's table for case N of TABLE_CASES,
 *                         to compare with pstats' print_stats output
 * Exit status 0 when every check passed.
 *
 * Profile A (calls, wall ms; CPU is half the wall time everywhere):
 *   Thread MainThread
 *     main   app.py:1         1  100
 *       fib  app.py:10        1   10
 *         fib                 2   20
 *           fib               4   40
 *       {builtins.len}        3    3
 *       helper lib.py:20      2    5
 *         {builtins.len}      2    2
 *         {list.append}  3e9        1    (more calls than int32 holds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/render/narrow_merge.h"
#include "../../src/render/render.h"

static int failures;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            failures++;                                                                \
        }                                                                              \
    } while (0)

#define MS 1000000LL

static void check_text(int line, const char *what, const hs_buf *b, const char *expected) {
    size_t n = strlen(expected);
    if (b->len == n && (n == 0 || memcmp(b->data, expected, n) == 0))
        return;
    fprintf(stderr, "%s:%d: %s differs.\n--- expected ---\n%s--- actual ---\n%.*s--- end ---\n",
            __FILE__, line, what, expected, (int)b->len, b->data ? b->data : "");
    failures++;
}
#define CHECK_TEXT(what, buf, expected) check_text(__LINE__, what, buf, expected)

static int contains(const hs_buf *b, const char *needle) {
    size_t n = strlen(needle);
    if (n > b->len)
        return 0;
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, needle, n) == 0)
            return 1;
    return 0;
}

static hs_id frame(hs_profile *p, const char *name, const char *file, int first_line,
                   hs_frame_kind kind) {
    hs_id f = hs_frame_intern(p, hs_intern_cstr(p, name), hs_intern_cstr(p, file), first_line, 0,
                              kind);
    CHECK(f != HS_NONE);
    return f;
}

static hs_id add(hs_profile *p, hs_id parent, hs_id f, int64_t calls, int64_t wall_ns) {
    hs_id n = hs_node_child(p, parent, f);
    CHECK(n != HS_NONE);
    hs_node_add(p, n, HS_W_CALLS, calls);
    hs_node_add(p, n, HS_W_WALL_NS, wall_ns);
    hs_node_add(p, n, HS_W_CPU_NS, wall_ns / 2);
    return n;
}

static int write_file(const char *path, const hs_buf *b) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t w = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int rc = fclose(f);
    return w == b->len && rc == 0 ? 0 : -1;
}

/* Profile A; *thread_node receives the MainThread node. */
static hs_profile *build_a(hs_id *thread_node) {
    hs_profile *p = hs_profile_new();
    CHECK(p != NULL);
    int t = hs_thread_add(p, "MainThread", 100, 200);
    CHECK(t == 0);
    hs_id th = p->threads[t].root;
    hs_id f_main = frame(p, "main", "app.py", 1, HS_KIND_PYTHON);
    hs_id f_fib = frame(p, "fib", "app.py", 10, HS_KIND_PYTHON);
    hs_id f_helper = frame(p, "helper", "lib.py", 20, HS_KIND_PYTHON);
    hs_id f_len = frame(p, "<built-in method builtins.len>", "~", 0, HS_KIND_NATIVE);
    hs_id f_append = frame(p, "<method 'append' of 'list' objects>", "~", 0, HS_KIND_NATIVE);

    hs_id main_n = add(p, th, f_main, 1, 100 * MS);
    hs_id fib1 = add(p, main_n, f_fib, 1, 10 * MS);
    hs_id fib2 = add(p, fib1, f_fib, 2, 20 * MS);
    add(p, fib2, f_fib, 4, 40 * MS);
    add(p, main_n, f_len, 3, 3 * MS);
    hs_id helper = add(p, main_n, f_helper, 2, 5 * MS);
    add(p, helper, f_len, 2, 2 * MS);
    add(p, helper, f_append, 3000000000LL, 1 * MS);
    *thread_node = th;
    return p;
}

static void test_labels(void) {
    hs_profile *p = hs_profile_new();
    hs_buf b;
    hs_buf_init(&b);
    struct {
        const char *name, *file;
        int line;
        hs_frame_kind kind;
        const char *expected;
    } cases[] = {
        {"main", "app.py", 12, HS_KIND_PYTHON, "app.py:12(main)"},
        {"<built-in method builtins.len>", "~", 0, HS_KIND_NATIVE,
         "{built-in method builtins.len}"},
        {"<method 'append' of 'list' objects>", "~", 0, HS_KIND_NATIVE,
         "{method 'append' of 'list' objects}"},
        {"plain", "~", 0, HS_KIND_NATIVE, "plain"},
        {"<lambda>", "~", 3, HS_KIND_PYTHON, "~:3(<lambda>)"}, /* pstats: only ("~", 0) */
        {"<genexpr>", "x.py", 4, HS_KIND_PYTHON, "x.py:4(<genexpr>)"},
        {"<>", "~", 0, HS_KIND_NATIVE, "{}"},
        {"two\nlines\r", "f.py", 1, HS_KIND_PYTHON, "f.py:1(two lines )"},
        {"[gc]", "", 0, HS_KIND_OTHER, "[gc]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b.len = 0;
        hs_function_label(p, frame(p, cases[i].name, cases[i].file, cases[i].line, cases[i].kind),
                          &b);
        CHECK_TEXT(cases[i].expected, &b, cases[i].expected);
    }
    b.len = 0;
    int t = hs_thread_add(p, "Worker-1", 1, 2);
    hs_function_label(p, hs_node_get(p, p->threads[t].root)->frame, &b);
    CHECK_TEXT("thread label", &b, "Worker-1");
    hs_buf_free(&b);
    hs_profile_free(p);
}

static const char TABLE_A[] =
    "         3000000015 function calls (3000000009 primitive calls) in 0.181 seconds\n"
    "\n"
    "   Ordered by: standard name\n"
    "\n"
    "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n"
    "        1    0.100    0.100    0.181    0.181 app.py:1(main)\n"
    "      7/1    0.070    0.010    0.070    0.070 app.py:10(fib)\n"
    "        2    0.005    0.003    0.008    0.004 lib.py:20(helper)\n"
    "        5    0.005    0.001    0.005    0.001 {built-in method builtins.len}\n"
    "3000000000    0.001    0.000    0.001    0.000 {method 'append' of 'list' objects}\n"
    "\n"
    "\n"
    "   Ordered by: standard name\n"
    "\n"
    "Function                             was called by...\n"
    "                                         ncalls  tottime  cumtime\n"
    "app.py:1(main)                       <- \n"
    "app.py:10(fib)                       <-       1    0.010    0.070  app.py:1(main)\n"
    "                                            6/2    0.060    0.060  app.py:10(fib)\n"
    "lib.py:20(helper)                    <-       2    0.005    0.008  app.py:1(main)\n"
    "{built-in method builtins.len}       <-       3    0.003    0.003  app.py:1(main)\n"
    "                                              2    0.002    0.002  lib.py:20(helper)\n"
    "{method 'append' of 'list' objects}  <- 3000000000    0.001    0.001  lib.py:20(helper)\n"
    "\n"
    "\n";

static const char TABLE_A_CPU[] =
    "         3000000015 function calls (3000000009 primitive calls) in 0.181 seconds\n"
    "\n"
    "   Ordered by: cumulative time\n"
    "   List reduced from 5 to 2 due to restriction <2>\n"
    "\n"
    "   ncalls  tottime  percall  cumtime  percall   cumcpu filename:lineno(function)\n"
    "        1    0.100    0.100    0.181    0.181    0.090 app.py:1(main)\n"
    "      7/1    0.070    0.010    0.070    0.070    0.035 app.py:10(fib)\n"
    "\n"
    "\n";

/* Cases the Python test re-renders with pstats and compares line for line. */
typedef struct {
    const char *keys[4];
    long limit;
    int callers;
} table_case;
static const table_case TABLE_CASES[] = {
    {{NULL}, 0, 1},
    {{"cumulative", NULL}, 0, 1},
    {{"time", "name", NULL}, 0, 0},
    {{"calls", NULL}, 3, 1},
    {{"nfl", NULL}, 0, 0},
    {{"pcalls", "file", NULL}, 0, 0},
    {{"line", "stdname", NULL}, 0, 0},
    {{"tottime", "cumu", "module", NULL}, 0, 0},
};

static void test_table(const char *out_prefix) {
    hs_id th;
    hs_profile *p = build_a(&th);
    hs_buf b;
    char err[256];
    hs_buf_init(&b);

    hs_table_opts o;
    memset(&o, 0, sizeof o);
    o.subtree = HS_ROOT;
    o.time_weight = HS_W_WALL_NS;
    o.other_weight = HS_W_COUNT;
    o.show_callers = 1;
    CHECK(hs_render_pstats_table(p, &o, &b, err) == 0);
    CHECK_TEXT("pstats table, stdname, callers", &b, TABLE_A);

    b.len = 0;
    o.subtree = th; /* one thread: the same numbers here */
    o.other_weight = HS_W_CPU_NS;
    o.sort_keys[0] = "cumulative";
    o.limit = 2;
    o.show_callers = 0;
    CHECK(hs_render_pstats_table(p, &o, &b, err) == 0);
    CHECK_TEXT("pstats table, cumulative, cumcpu, limit", &b, TABLE_A_CPU);

    b.len = 0;
    o.other_weight = HS_W_WALL_NS;
    o.time_weight = HS_W_CPU_NS;
    CHECK(hs_render_pstats_table(p, &o, &b, err) == 0);
    CHECK(contains(&b, "  cumwall filename"));
    CHECK(contains(&b, "    0.050    0.050    0.090    0.090    0.181 app.py:1(main)\n"));

    /* Unknown and ambiguous keys fail before any output. */
    const char *bad[] = {"bogus", "cum", "c", "-1", "", "timex"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b.len = 0;
        o.sort_keys[0] = "name";
        o.sort_keys[1] = bad[i];
        o.sort_keys[2] = NULL;
        err[0] = '\0';
        CHECK(hs_render_pstats_table(p, &o, &b, err) == -1);
        char want[64];
        snprintf(want, sizeof want, "unknown sort key '%s' (use one of: ", bad[i]);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        CHECK(b.len == 0);
    }
    /* pstats' abbreviations: a unique prefix works. */
    const char *abbrev[] = {"cumu", "cumt", "cu", "file", "tot", "std", "pc", "nf", "mod"};
    for (size_t i = 0; i < sizeof abbrev / sizeof abbrev[0]; i++) {
        b.len = 0;
        o.sort_keys[0] = abbrev[i];
        o.sort_keys[1] = NULL;
        CHECK(hs_render_pstats_table(p, &o, &b, err) == 0);
    }

    /* The cases the Python side compares with pstats itself. */
    for (size_t c = 0; c < sizeof TABLE_CASES / sizeof TABLE_CASES[0]; c++) {
        memset(&o, 0, sizeof o);
        o.subtree = HS_ROOT;
        o.time_weight = HS_W_WALL_NS;
        o.other_weight = HS_W_COUNT;
        for (int k = 0; k < 4 && TABLE_CASES[c].keys[k]; k++)
            o.sort_keys[k] = TABLE_CASES[c].keys[k];
        o.limit = TABLE_CASES[c].limit;
        o.show_callers = TABLE_CASES[c].callers;
        b.len = 0;
        CHECK(hs_render_pstats_table(p, &o, &b, err) == 0);
        char path[4096];
        snprintf(path, sizeof path, "%s.table.%zu.txt", out_prefix, c);
        CHECK(write_file(path, &b) == 0);
    }

    /* An empty profile: pstats prints the header only. */
    hs_profile *empty = hs_profile_new();
    memset(&o, 0, sizeof o);
    o.other_weight = HS_W_COUNT;
    o.time_weight = HS_W_WALL_NS;
    b.len = 0;
    CHECK(hs_render_pstats_table(empty, &o, &b, err) == 0);
    CHECK_TEXT("empty table", &b, "         0 function calls in 0.000 seconds\n\n");
    hs_profile_free(empty);

    hs_buf_free(&b);
    hs_profile_free(p);
}

static const char TREE_A_UNICODE[] =
    "  0.181s  0.000s 100.0%  Thread MainThread\n"
    "  0.181s  0.100s 100.0%  \xe2\x94\x94\xe2\x94\x80 main  app.py:1\n"
    "  0.070s  0.010s  38.7%     \xe2\x94\x9c\xe2\x94\x80 fib  app.py:10\n"
    "  0.060s  0.020s  33.1%     \xe2\x94\x82  \xe2\x94\x94\xe2\x94\x80 fib  app.py:10\n"
    "  0.040s  0.040s  22.1%     \xe2\x94\x82     \xe2\x94\x94\xe2\x94\x80 fib  app.py:10\n"
    "  0.008s  0.005s   4.4%     \xe2\x94\x9c\xe2\x94\x80 helper  lib.py:20\n"
    "  0.002s  0.002s   1.1%     \xe2\x94\x82  \xe2\x94\x9c\xe2\x94\x80 {built-in method builtins.len}\n"
    "  0.001s  0.001s   0.6%     \xe2\x94\x82  \xe2\x94\x94\xe2\x94\x80 {method 'append' of 'list' "
    "objects}\n"
    "  0.003s  0.003s   1.7%     \xe2\x94\x94\xe2\x94\x80 {built-in method builtins.len}\n";

static const char TREE_A_ASCII_MIN[] =
    "  0.181s  0.000s 100.0%  Thread MainThread\n"
    "  0.181s  0.100s 100.0%  `- main  app.py:1\n"
    "  0.070s  0.010s  38.7%     |- fib  app.py:10\n"
    "  0.060s  0.020s  33.1%     |  `- fib  app.py:10\n"
    "  0.040s  0.040s  22.1%     |     `- fib  app.py:10\n"
    "  0.008s  0.005s   4.4%     |- helper  lib.py:20\n"
    "                            |  `- ... 2 more below 2.0%\n"
    "                            `- ... 1 more below 2.0%\n";

static const char TREE_A_DEPTH2_CALLS[] =
    "3000000015       0 100.0%  Thread MainThread\n"
    "3000000015       1 100.0%  `- main  app.py:1\n";

static void test_tree(void) {
    hs_id th;
    hs_profile *p = build_a(&th);
    hs_buf b;
    char err[256];
    hs_buf_init(&b);
    hs_tree_opts o;
    memset(&o, 0, sizeof o);
    o.subtree = HS_ROOT;
    o.weight = HS_W_WALL_NS;
    o.unicode = 1;
    CHECK(hs_render_call_tree(p, &o, &b, err) == 0);
    CHECK_TEXT("call tree, unicode", &b, TREE_A_UNICODE);

    b.len = 0;
    o.subtree = th;
    o.unicode = 0;
    o.min_percent = 2.0;
    CHECK(hs_render_call_tree(p, &o, &b, err) == 0);
    CHECK_TEXT("call tree, ascii, min 2%", &b, TREE_A_ASCII_MIN);

    b.len = 0;
    o.min_percent = 0;
    o.max_depth = 2;
    o.weight = HS_W_CALLS;
    CHECK(hs_render_call_tree(p, &o, &b, err) == 0);
    CHECK_TEXT("call tree, calls, depth 2", &b, TREE_A_DEPTH2_CALLS);

    b.len = 0;
    o.subtree = (hs_id)p->node_count;
    CHECK(hs_render_call_tree(p, &o, &b, err) == -1);
    hs_buf_free(&b);
    hs_profile_free(p);
}

static const char COLLAPSED_A_WALL[] =
    "# hotscope collapsed weight=wall_us\n"
    "thread MainThread;main (app.py:1) 100000\n"
    "thread MainThread;main (app.py:1);fib (app.py:10) 10000\n"
    "thread MainThread;main (app.py:1);fib (app.py:10);fib (app.py:10) 20000\n"
    "thread MainThread;main (app.py:1);fib (app.py:10);fib (app.py:10);fib (app.py:10) 40000\n"
    "thread MainThread;main (app.py:1);{built-in method builtins.len} 3000\n"
    "thread MainThread;main (app.py:1);helper (lib.py:20) 5000\n"
    "thread MainThread;main (app.py:1);helper (lib.py:20);{built-in method builtins.len} 2000\n"
    "thread MainThread;main (app.py:1);helper (lib.py:20);{method 'append' of 'list' objects} "
    "1000\n";

static void test_collapsed(void) {
    hs_id th;
    hs_profile *p = build_a(&th);
    hs_buf b;
    char err[256];
    hs_buf_init(&b);
    CHECK(hs_render_collapsed(p, HS_W_WALL_NS, &b, err) == 0);
    CHECK_TEXT("collapsed, wall", &b, COLLAPSED_A_WALL);
    b.len = 0;
    CHECK(hs_render_collapsed(p, HS_W_CALLS, &b, err) == 0);
    CHECK(contains(&b, ";{method 'append' of 'list' objects} 3000000000\n"));
    CHECK(!contains(&b, "thread MainThread 0"));

    /* Rounding to microseconds; rounded zeros are dropped; names are made
     * safe; Python frames show the executing line when known. */
    hs_profile *q = hs_profile_new();
    int t = hs_thread_add(q, "T;1\n", 1, 1);
    hs_id tn = q->threads[t].root;
    hs_id f1 = hs_frame_intern(q, hs_intern_cstr(q, "a;b\nc\rd"), hs_intern_cstr(q, "x;y.py"), 5,
                               7, HS_KIND_PYTHON);
    hs_id f2 = frame(q, "g", "m.py", 9, HS_KIND_PYTHON);
    hs_id f3 = frame(q, "h", "m.py", 11, HS_KIND_PYTHON);
    hs_id f4 = frame(q, "<a;b>", "~", 0, HS_KIND_NATIVE);
    hs_id n1 = hs_node_child(q, tn, f1);
    hs_node_add(q, n1, HS_W_WALL_NS, 1499);           /* 1 us */
    hs_node_add(q, hs_node_child(q, n1, f2), HS_W_WALL_NS, 499); /* 0: dropped */
    hs_node_add(q, hs_node_child(q, n1, f3), HS_W_WALL_NS, 1500); /* 2 us */
    hs_node_add(q, hs_node_child(q, tn, f4), HS_W_WALL_NS, 2500000); /* 2500 us */
    b.len = 0;
    CHECK(hs_render_collapsed(q, HS_W_WALL_NS, &b, err) == 0);
    CHECK_TEXT("collapsed, odd names", &b,
               "# hotscope collapsed weight=wall_us\n"
               "thread T:1 ;a:b c d (x:y.py:7) 1\n"
               "thread T:1 ;a:b c d (x:y.py:7);h (m.py:11) 2\n"
               "thread T:1 ;{a:b} 2500\n");
    hs_profile_free(q);
    hs_buf_free(&b);
    hs_profile_free(p);
}

/* marshal of {("f.py", 3, "f"): (1, 1, 0.5, 0.5, {})}, written by hand. */
static void test_marshal_bytes(void) {
    hs_profile *p = hs_profile_new();
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id n = hs_node_child(p, p->threads[t].root, frame(p, "f", "f.py", 3, HS_KIND_PYTHON));
    hs_node_add(p, n, HS_W_CALLS, 1);
    hs_node_add(p, n, HS_W_WALL_NS, 500000000);
    hs_buf b;
    char err[256];
    hs_buf_init(&b);
    CHECK(hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, &b, err) == 0);
    static const unsigned char expected[] = {
        '{', ')', 3, 'u', 4, 0, 0, 0, 'f', '.', 'p', 'y', 'i', 3, 0, 0, 0, 'u', 1, 0, 0, 0, 'f',
        ')', 5, 'i', 1, 0, 0, 0, 'i', 1, 0, 0, 0,
        'g', 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, /* 0.5 */
        'g', 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,
        '{', '0', '0'};
    CHECK(b.len == sizeof expected && memcmp(b.data, expected, sizeof expected) == 0);
    hs_buf_free(&b);
    hs_profile_free(p);
}

/* Profile B: names Python must get back exactly (control characters kept,
 * an undecodable byte as a surrogate escape, a huge call count). */
static void write_weird(const char *path) {
    hs_profile *p = hs_profile_new();
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id th = p->threads[t].root;
    hs_id odd = frame(p, "we\nird;x", "bad\xff.py", 7, HS_KIND_PYTHON);
    hs_id uni = frame(p, "caf\xc3\xa9", "\xe2\x82\xac.py", 70000, HS_KIND_PYTHON);
    hs_id n = add(p, th, odd, 1, 3 * MS);
    add(p, n, uni, -5000000000LL, 0); /* negative: exercises a negative TYPE_LONG */
    hs_buf b;
    char err[256];
    hs_buf_init(&b);
    CHECK(hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, &b, err) == 0);
    CHECK(write_file(path, &b) == 0);
    hs_buf_free(&b);
    hs_profile_free(p);
}

/* 100,000 nested calls: every renderer must cope without recursion. */
static void test_deep(void) {
    enum { DEPTH = 100000 };
    hs_profile *p = hs_profile_new();
    int t = hs_thread_add(p, "MainThread", 1, 1);
    hs_id n = p->threads[t].root;
    hs_id f = frame(p, "rec", "deep.py", 1, HS_KIND_PYTHON);
    for (int i = 0; i < DEPTH; i++) {
        n = hs_node_child(p, n, f);
        hs_node_add(p, n, HS_W_CALLS, 1);
        hs_node_add(p, n, HS_W_WALL_NS, 1000);
    }
    hs_node_add(p, n, HS_W_SAMPLES, 1); /* only the leaf: one collapsed line */
    hs_buf b;
    char err[256];
    hs_buf_init(&b);

    hs_tree_opts to;
    memset(&to, 0, sizeof to);
    to.subtree = HS_ROOT;
    to.weight = HS_W_WALL_NS;
    to.unicode = 1;
    CHECK(hs_render_call_tree(p, &to, &b, err) == 0);
    CHECK(contains(&b, "\xe2\x94\x94\xe2\x94\x80 [depth 100000] rec  deep.py:1\n"));
    /* Indentation stops growing: no line is much longer than the cap. */
    size_t longest = 0, start = 0;
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n') {
            if (i - start > longest)
                longest = i - start;
            start = i + 1;
        }
    CHECK(longest < 400);

    b.len = 0;
    CHECK(hs_render_collapsed(p, HS_W_SAMPLES, &b, err) == 0);
    CHECK(b.len == strlen("thread MainThread") + DEPTH * strlen(";rec (deep.py:1)") + 3);
    CHECK(contains(&b, "thread MainThread;rec (deep.py:1);rec (deep.py:1)"));
    CHECK(b.len > 3 && memcmp(b.data + b.len - 3, " 1\n", 3) == 0);

    b.len = 0;
    hs_table_opts o;
    memset(&o, 0, sizeof o);
    o.subtree = HS_ROOT;
    o.time_weight = HS_W_WALL_NS;
    o.other_weight = HS_W_COUNT;
    o.show_callers = 1;
    CHECK(hs_render_pstats_table(p, &o, &b, err) == 0);
    CHECK(contains(&b, " 100000/1    0.100    0.000    0.100    0.100 deep.py:1(rec)\n"));

    b.len = 0;
    CHECK(hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, &b, err) == 0);
    hs_buf_free(&b);
    hs_profile_free(p);
}

/* narrow_merge.h on profile A: a tree that fits is left alone; one cut
 * to a small budget keeps the root, the thread and every total on its
 * kept nodes, and its merged nodes hold what was folded away. */
static void test_narrow_merge(void) {
    hs_id th;
    hs_profile *p = build_a(&th);
    hs_node_view v;
    CHECK(hs_node_view_fit(p, 1 << 20, &v) == 0 && v.count == 0);
    CHECK(hs_node_view_fit(p, 60, &v) == 0);
    CHECK(v.count > 0 && v.count < p->node_count && v.merged_nodes > 0);
    CHECK(v.merged_away + (v.count - v.merged_nodes) == p->node_count);
    CHECK(v.written[HS_ROOT] == 0 && v.written[th] != HS_NONE && v.npresent == 3);
    CHECK(v.share > 0.0 && v.share <= 1.0);
    int64_t *before = calloc(p->node_count, sizeof *before), *after = calloc(v.count, sizeof *after);
    for (int k = 0; k < v.npresent; k++) {
        hs_node_totals(p, v.present[k], before);
        for (size_t j = 0; j < v.count; j++)
            after[j] = v.self[j * (size_t)v.npresent + (size_t)k];
        for (size_t j = v.count; j-- > 1;) {
            CHECK(v.parent[j] < j);
            after[v.parent[j]] += after[j];
        }
        for (size_t i = 0; i < p->node_count; i++)
            if (v.written[i] != HS_NONE)
                CHECK(after[v.written[i]] == before[i]);
    }
    /* A merged node is a leaf under a kept node; a kept node is under its
     * own parent's copy. */
    for (size_t i = 1; i < p->node_count; i++)
        if (v.written[i] != HS_NONE)
            CHECK(v.parent[v.written[i]] == v.written[p->nodes[i].parent] && v.frame[v.written[i]] == p->nodes[i].frame);
    free(before);
    free(after);
    hs_node_view_free(&v);
    hs_profile_free(p);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.prof\n", argv[0]);
        return 2;
    }
    const char *prof = argv[1];
    test_labels();
    test_table(prof);
    test_tree();
    test_collapsed();
    test_marshal_bytes();
    test_deep();
    test_narrow_merge();

    hs_id th;
    hs_profile *p = build_a(&th);
    hs_buf b;
    char err[256];
    hs_buf_init(&b);
    CHECK(hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, &b, err) == 0);
    CHECK(write_file(prof, &b) == 0);
    hs_buf_free(&b);
    hs_profile_free(p);

    char path[4096];
    snprintf(path, sizeof path, "%s.weird.prof", prof);
    write_weird(path);

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_render: all checks passed\n");
    return 0;
}
