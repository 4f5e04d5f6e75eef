/*
 * classify.c - which kind of code a frame is: the program's own, the
 * standard library, a third-party package, C code, or a synthetic frame.
 *
 * Flame graphs color by it, the text tree and the HTML report's call tree
 * collapse library frames by it (as pyinstrument hides library code), so
 * every renderer asks this one function. It decides from the file name
 * alone, so a profile read back from a file on another machine classifies
 * the same way it did where it was recorded:
 *   - builtins and C functions (file "~", kind native)        -> native
 *   - .../site-packages/... or .../dist-packages/...          -> library
 *   - .../lib/python3.N/... , <frozen ...>, ...\Lib\...       -> stdlib
 *   - anything else (the program's files, <string>, <stdin>)  -> user
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "render.h"

static int contains(const char *s, size_t len, const char *needle) {
    return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* "/lib/python3.12/" or "/lib/pypy3.10/" or "/lib64/python3.9/": the
 * directory layout of every POSIX CPython and PyPy install (sysconfig's
 * "stdlib" scheme path). */
static int in_posix_stdlib(const char *file, size_t len) {
    static const char *const prefixes[] = {"/lib/python", "/lib64/python", "/lib/pypy", NULL};
    for (int k = 0; prefixes[k]; k++) {
        size_t plen = strlen(prefixes[k]);
        const char *at = file;
        size_t left = len;
        const char *hit;
        while ((hit = memmem(at, left, prefixes[k], plen)) != NULL) {
            size_t i = (size_t)(hit - file) + plen;
            /* a version: digits and dots, then a slash */
            size_t digits = 0;
            while (i < len && ((file[i] >= '0' && file[i] <= '9') || file[i] == '.'))
                i++, digits++;
            if (digits > 0 && i < len && file[i] == '/')
                return 1;
            left = len - (size_t)(hit + 1 - file);
            at = hit + 1;
        }
    }
    return 0;
}

hs_category hs_frame_category(const hs_profile *p, hs_id frame) {
    if (frame == HS_NONE || frame >= p->frame_count)
        return HS_CAT_SYNTHETIC;
    const hs_frame *f = hs_frame_get(p, frame);
    if (f->kind == HS_KIND_THREAD || f->kind == HS_KIND_OTHER)
        return HS_CAT_SYNTHETIC;
    size_t len = 0;
    const char *file = hs_str(p, f->file, &len);
    if (f->kind == HS_KIND_NATIVE || !file || (len == 1 && file[0] == '~'))
        return HS_CAT_NATIVE;
    if (contains(file, len, "site-packages") || contains(file, len, "dist-packages"))
        return HS_CAT_LIBRARY;
    if ((len >= 8 && memcmp(file, "<frozen ", 8) == 0) || in_posix_stdlib(file, len) ||
        contains(file, len, "\\Lib\\"))
        return HS_CAT_STDLIB;
    return HS_CAT_USER;
}

const char *hs_category_name(hs_category c) {
    switch (c) {
    case HS_CAT_USER:
        return "user";
    case HS_CAT_STDLIB:
        return "stdlib";
    case HS_CAT_LIBRARY:
        return "library";
    case HS_CAT_NATIVE:
        return "native";
    case HS_CAT_SYNTHETIC:
        break;
    }
    return "synthetic";
}
