/*
 * test_linetable.c - unit test of src/sampler/linetable.c, the mapping from
 * a bytecode offset to a source line through a code object's line table.
 *
 * Usage: test_linetable [VECTORS...]
 *
 * First runs hand-written cases: small tables built by hand for both
 * formats with known answers, truncations of them, and garbage (random
 * bytes, truncated and over-long varints, empty tables), which must not
 * crash (the test is built with ASan/UBSan by tests/test_c_linetable.py)
 * and must give -1 or a line.
 *
 * Then checks every vector file named on the command line. A vector file
 * is written by the interpreter under test (tests/test_c_linetable.py) and
 * holds one code object per line, tokens separated by single spaces:
 *
 *   FORMAT FIRST_LINE NAME HEX OFFSET:LINE OFFSET:LINE ...
 *
 * FORMAT is 310 (HS_LINETABLE_310) or 311 (HS_LINETABLE_311), FIRST_LINE
 * is co_firstlineno, NAME a label without spaces (for messages only), HEX
 * the line table in hex ("-" when empty), and each OFFSET:LINE a byte
 * offset with the line the interpreter's co_lines() gives for it (-1 for
 * None or past the end). Lines starting with '#' are comments.
 * For each pair it also checks that the table cut in half gives either the
 * same line or -1 (a truncated copy must never invent a different line).
 *
 * Prints the failures and "N passed, M failed"; exit status 0 when nothing
 * failed.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sampler/linetable.h"

static long passed, failed;

static void check_line(int line, const char *what, int got, int expected) {
    if (got == expected) {
        passed++;
        return;
    }
    failed++;
    if (failed <= 50)
        fprintf(stdout, "%s:%d: %s: got %d, expected %d\n", __FILE__, line, what, got,
                expected);
}
#define CHECK_LINE(what, got, expected) check_line(__LINE__, what, got, expected)

static void check_sane(int line, const char *what, int got) {
    if (got >= -1) {
        passed++;
        return;
    }
    failed++;
    if (failed <= 50)
        fprintf(stdout, "%s:%d: %s: got %d, expected -1 or a line\n", __FILE__, line, what,
                got);
}
#define CHECK_SANE(what, got) check_sane(__LINE__, what, got)

/* Runs the function on an exact-size heap copy, so ASan sees any read past
 * the end of the table. */
static int lookup(hs_linetable_format f, const uint8_t *table, size_t len, int first,
                  size_t offset) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        perror("malloc");
        exit(2);
    }
    if (len)
        memcpy(copy, table, len);
    int line = hs_linetable_line(f, len ? copy : NULL, len, first, offset);
    free(copy);
    return line;
}

/* ---- hand-written tables -------------------------------------------------- */

struct expect {
    size_t offset;
    int line;
};

static void check_table(const char *name, hs_linetable_format f, const uint8_t *table,
                        size_t len, int first, const struct expect *ex, size_t n) {
    char what[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "%s @%zu", name, ex[i].offset);
        CHECK_LINE(what, lookup(f, table, len, first, ex[i].offset), ex[i].line);
        /* Every prefix of the table gives the same answer or -1. */
        for (size_t cut = 0; cut < len; cut++) {
            int got = lookup(f, table, cut, first, ex[i].offset);
            snprintf(what, sizeof what, "%s cut to %zu @%zu", name, cut, ex[i].offset);
            if (got != -1)
                CHECK_LINE(what, got, ex[i].line);
            else
                passed++;
        }
    }
}

static void test_310_by_hand(void) {
    /* first line 10: [0,6) line 11; [6,10) no line; [10,12) line 9;
     * then a zero-length entry carrying +127 and [12,16) line 9+127+1. */
    static const uint8_t t[] = {6, 1, 4, 0x80, 2, 0xFE, 0, 127, 4, 1};
    static const struct expect ex[] = {
        {0, 11}, {1, 11}, {5, 11}, {6, -1}, {9, -1}, {10, 9}, {11, 9},
        {12, 137}, {15, 137}, {16, -1}, {1000, -1}, {SIZE_MAX, -1},
    };
    check_table("310 by hand", HS_LINETABLE_310, t, sizeof t, 10, ex, sizeof ex / sizeof ex[0]);

    /* A "no line" range does not move the running line: 11, none, 11+1. */
    static const uint8_t t2[] = {2, 1, 2, 0x80, 2, 1};
    static const struct expect ex2[] = {{0, 11}, {2, -1}, {4, 12}, {6, -1}};
    check_table("310 no-line keeps line", HS_LINETABLE_310, t2, sizeof t2, 10, ex2,
                sizeof ex2 / sizeof ex2[0]);

    /* A bytecode delta of 255 (unsigned) and a negative line delta of -127. */
    static const uint8_t t3[] = {255, 0, 2, 0x81};
    static const struct expect ex3[] = {{0, 200}, {254, 200}, {255, 73}, {256, 73}, {257, -1}};
    check_table("310 wide deltas", HS_LINETABLE_310, t3, sizeof t3, 200, ex3,
                sizeof ex3 / sizeof ex3[0]);
}

/* First byte of a 3.11 location entry. */
#define LOC(code, units) ((uint8_t)(0x80 | ((code) << 3) | ((units) - 1)))

static void test_311_by_hand(void) {
    static const uint8_t t[] = {
        LOC(13, 2), 10,                   /* [0,4)   no columns, +5 -> 25 */
        LOC(15, 1),                       /* [4,6)   no location */
        LOC(11, 1), 4, 9,                 /* [6,8)   one-line, +1 -> 26 */
        LOC(14, 4), 7, 0, 1, 2,           /* [8,16)  long form, -3 -> 23 */
        LOC(0, 1), 0x12,                  /* [16,18) short form, +0 -> 23 */
        LOC(14, 8), 0x50, 0x1F, 0, 0, 0,  /* [18,34) long form, +1000 -> 1023 */
        LOC(12, 1), 1, 2,                 /* [34,36) one-line, +2 -> 1025 */
        LOC(10, 1), 1, 2,                 /* [36,38) one-line, +0 -> 1025 */
        LOC(13, 1), 0x41, 0x3F,           /* [38,40) no columns, see below */
    };
    /* The last entry's varint 0x41 0x3F is 1 | 63 << 6 = 4033: odd, so a
     * delta of -(4033 >> 1) = -2016, and 1025 - 2016 is no line at all. */
    static const struct expect ex[] = {
        {0, 25}, {2, 25}, {3, 25}, {4, -1}, {5, -1}, {6, 26}, {8, 23}, {14, 23},
        {16, 23}, {18, 1023}, {33, 1023}, {34, 1025}, {36, 1025}, {38, -1},
        {40, -1}, {SIZE_MAX, -1},
    };
    check_table("311 by hand", HS_LINETABLE_311, t, sizeof t, 20, ex, sizeof ex / sizeof ex[0]);

    /* A no-location entry keeps the running line. */
    static const uint8_t t2[] = {LOC(13, 1), 2, LOC(15, 3), LOC(13, 1), 2};
    static const struct expect ex2[] = {{0, 2}, {2, -1}, {7, -1}, {8, 3}, {10, -1}};
    check_table("311 none keeps line", HS_LINETABLE_311, t2, sizeof t2, 1, ex2,
                sizeof ex2 / sizeof ex2[0]);
}

/* ---- garbage -------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void) {
    /* xorshift64 */
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void test_garbage(void) {
    static const hs_linetable_format formats[] = {HS_LINETABLE_310, HS_LINETABLE_311};
    static const int firsts[] = {1, 0, -5, INT_MAX, INT_MIN};
    static const size_t offsets[] = {0, 1, 2, 7, 64, 255, 256, 4095, SIZE_MAX / 2, SIZE_MAX};

    for (size_t fi = 0; fi < 2; fi++) {
        hs_linetable_format f = formats[fi];
        /* empty and NULL tables */
        for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++) {
            CHECK_LINE("empty table", lookup(f, NULL, 0, 1, offsets[oi]), -1);
            static const uint8_t one = 0xFF;
            CHECK_SANE("one byte", lookup(f, &one, 1, 1, offsets[oi]));
        }
        /* a bogus format value */
        static const uint8_t t[] = {2, 1};
        CHECK_LINE("bad format", hs_linetable_line((hs_linetable_format)7, t, 2, 1, 0), -1);

        /* random tables; for 3.11 also tables of mostly entry heads, so
         * the parser gets past the first byte more often */
        for (int round = 0; round < 20000; round++) {
            size_t len = (size_t)(rng() % 96);
            uint8_t buf[96];
            for (size_t i = 0; i < len; i++) {
                uint8_t b = (uint8_t)rng();
                if (f == HS_LINETABLE_311 && (round & 1) && rng() % 3 == 0)
                    b |= 0x80;
                buf[i] = b;
            }
            int first = firsts[rng() % (sizeof firsts / sizeof firsts[0])];
            size_t off = (round % 3 == 0) ? offsets[rng() % (sizeof offsets / sizeof offsets[0])]
                                          : (size_t)(rng() % 600);
            CHECK_SANE("random bytes", lookup(f, buf, len, first, off));
        }
    }

    /* 3.11 varints cut short, over-long, or at the very end */
    static const uint8_t trunc1[] = {LOC(13, 1)};
    static const uint8_t trunc2[] = {LOC(13, 1), 0x41};
    static const uint8_t trunc3[] = {LOC(14, 1), 2, 0, 0x41};
    static const uint8_t trunc4[] = {LOC(11, 1), 3};
    static const uint8_t trunc5[] = {LOC(0, 1)};
    static const uint8_t longv[] = {LOC(13, 1), 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F,
                                    0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x01};
    static const uint8_t bighi[] = {LOC(13, 1), 0x7E, 0x7F, 0x7F, 0x7F, 0x7F, 0x3F};
    static const uint8_t nohead[] = {0x12, LOC(13, 1), 2};
    static const uint8_t *cases[] = {trunc1, trunc2, trunc3, trunc4, trunc5, longv, bighi, nohead};
    static const size_t lens[] = {sizeof trunc1, sizeof trunc2, sizeof trunc3, sizeof trunc4,
                                  sizeof trunc5, sizeof longv, sizeof bighi, sizeof nohead};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t off = 0; off < 8; off++)
            CHECK_LINE("311 truncated/overlong", lookup(HS_LINETABLE_311, cases[c], lens[c], 1, off), -1);

    /* many large positive deltas in a row must not overflow the line */
    uint8_t big[4096];
    size_t n = 0;
    while (n + 7 <= sizeof big) {
        big[n++] = LOC(13, 1);
        /* svarint of +2^31-ish: 6 chunks, even */
        big[n++] = 0x7E; big[n++] = 0x7F; big[n++] = 0x7F; big[n++] = 0x7F;
        big[n++] = 0x7F; big[n++] = 0x0F;
    }
    for (size_t off = 0; off < 2 * sizeof big; off += 37)
        CHECK_SANE("311 overflowing lines", lookup(HS_LINETABLE_311, big, n, INT_MAX, off));
    uint8_t big310[4096];
    for (size_t i = 0; i < sizeof big310; i += 2) {
        big310[i] = 1;
        big310[i + 1] = 127;
    }
    for (size_t off = 0; off < sizeof big310; off += 41)
        CHECK_SANE("310 overflowing lines",
                   lookup(HS_LINETABLE_310, big310, sizeof big310, INT_MAX - 1000, off));
}

/* ---- vector files --------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into out (which has room for strlen(hex)/2 bytes); "-" is empty. */
static int unhex(const char *hex, uint8_t *out, size_t *len) {
    size_t n = strlen(hex);
    if (strcmp(hex, "-") == 0) {
        *len = 0;
        return 0;
    }
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

static void run_vectors(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        perror(path);
        failed++;
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0, codes = 0, bad = 0;
    uint8_t *table = NULL;
    size_t table_cap = 0;
    while ((got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0 || line[0] == '#')
            continue;
        char *save = NULL;
        char *fmt = strtok_r(line, " ", &save);
        char *first_s = strtok_r(NULL, " ", &save);
        char *name = strtok_r(NULL, " ", &save);
        char *hex = strtok_r(NULL, " ", &save);
        if (!fmt || !first_s || !name || !hex) {
            fprintf(stdout, "%s:%ld: malformed vector line\n", path, lineno);
            bad++;
            continue;
        }
        hs_linetable_format f;
        if (strcmp(fmt, "310") == 0)
            f = HS_LINETABLE_310;
        else if (strcmp(fmt, "311") == 0)
            f = HS_LINETABLE_311;
        else {
            fprintf(stdout, "%s:%ld: unknown format %s\n", path, lineno, fmt);
            bad++;
            continue;
        }
        int first = (int)strtol(first_s, NULL, 10);
        size_t need = strlen(hex) / 2 + 1;
        if (need > table_cap) {
            uint8_t *t = realloc(table, need);
            if (!t) {
                perror("realloc");
                exit(2);
            }
            table = t;
            table_cap = need;
        }
        size_t len;
        if (unhex(hex, table, &len) < 0) {
            fprintf(stdout, "%s:%ld: bad hex\n", path, lineno);
            bad++;
            continue;
        }
        /* exact-size copies so ASan catches over-reads */
        uint8_t *exact = malloc(len ? len : 1);
        uint8_t *half = malloc(len / 2 ? len / 2 : 1);
        if (!exact || !half) {
            perror("malloc");
            exit(2);
        }
        memcpy(exact, table, len);
        memcpy(half, table, len / 2);
        codes++;
        char *pair;
        while ((pair = strtok_r(NULL, " ", &save)) != NULL) {
            char *colon = strchr(pair, ':');
            if (!colon) {
                fprintf(stdout, "%s:%ld: bad pair %s\n", path, lineno, pair);
                bad++;
                continue;
            }
            size_t off = (size_t)strtoull(pair, NULL, 10);
            int expected = (int)strtol(colon + 1, NULL, 10);
            int lt = hs_linetable_line(f, len ? exact : NULL, len, first, off);
            if (lt == expected) {
                passed++;
            } else {
                failed++;
                if (failed <= 50)
                    fprintf(stdout, "%s:%ld: %s (first line %d, table %s): offset %zu: "
                                    "got %d, expected %d\n",
                            path, lineno, name, first, hex, off, lt, expected);
            }
            int lh = hs_linetable_line(f, len / 2 ? half : NULL, len / 2, first, off);
            if (lh == -1 || lh == expected) {
                passed++;
            } else {
                failed++;
                if (failed <= 50)
                    fprintf(stdout, "%s:%ld: %s: table cut to %zu bytes: offset %zu: "
                                    "got %d, expected %d or -1\n",
                            path, lineno, name, len / 2, off, lh, expected);
            }
        }
        free(exact);
        free(half);
    }
    free(line);
    free(table);
    fclose(fp);
    fprintf(stdout, "%s: %ld code objects\n", path, codes);
    failed += bad;
}

int main(int argc, char **argv) {
    test_310_by_hand();
    test_311_by_hand();
    test_garbage();
    long hand = passed + failed;
    fprintf(stdout, "hand-written: %ld checks\n", hand);
    for (int i = 1; i < argc; i++)
        run_vectors(argv[i]);
    fprintf(stdout, "%ld passed, %ld failed\n", passed, failed);
    return failed ? 1 : 0;
}
