/*
 * short_path.c - short names for where library code lives, for the text
 * tree and the call graph (render_util.h).
 *
 * A standard-library or third-party file is best named the way Python
 * imports it: ".../lib/python3.12/json/encoder.py" is "json/encoder.py",
 * ".../site-packages/requests/api.py" is "requests/api.py". The program's
 * own files keep the path the engine recorded, which is what the user
 * typed or what the import system found, and is short already.
 *
 * The package of a library frame (its first path component after the
 * import root, without ".py") names the libraries a run of hidden frames
 * went through: "[12 frames hidden]  json, re, <built-in>".
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "render.h"
#include "render_util.h"

/* The offset just after the last `needle` in s[0..len), or 0. */
static size_t after_last(const char *s, size_t len, const char *needle) {
    size_t nlen = strlen(needle), found = 0;
    const char *at = s;
    size_t left = len;
    const char *hit;
    while ((hit = memmem(at, left, needle, nlen)) != NULL) {
        found = (size_t)(hit - s) + nlen;
        left = len - (size_t)(hit + 1 - s);
        at = hit + 1;
    }
    return found;
}

/* After "/lib/pythonX.Y/" (or lib64, pypy): the version directory ends
 * with digits and dots, as classify.c recognises the standard library. */
static size_t after_version_dir(const char *s, size_t len) {
    static const char *const prefixes[] = {"/lib/python", "/lib64/python", "/lib/pypy", NULL};
    size_t best = 0;
    for (int k = 0; prefixes[k]; k++) {
        size_t plen = strlen(prefixes[k]);
        const char *at = s;
        size_t left = len;
        const char *hit;
        while ((hit = memmem(at, left, prefixes[k], plen)) != NULL) {
            size_t i = (size_t)(hit - s) + plen, digits = 0;
            while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
                i++, digits++;
            if (digits > 0 && i < len && s[i] == '/' && i + 1 > best)
                best = i + 1;
            left = len - (size_t)(hit + 1 - s);
            at = hit + 1;
        }
    }
    return best;
}

size_t hs_render_module_path_offset(const char *file, size_t len) {
    size_t off = after_last(file, len, "site-packages/");
    size_t dist = after_last(file, len, "dist-packages/");
    if (dist > off)
        off = dist;
    if (off)
        return off;
    off = after_version_dir(file, len);
    if (off)
        return off;
    return after_last(file, len, "\\Lib\\");
}

void hs_render_package_name(const hs_profile *p, hs_id frame, const char **s, size_t *len) {
    const hs_frame *f = hs_frame_get(p, frame);
    size_t flen = 0;
    const char *file = hs_str(p, f->file, &flen);
    if (f->kind == HS_KIND_NATIVE || !file || (flen == 1 && file[0] == '~')) {
        *s = "<built-in>";
        *len = strlen(*s);
        return;
    }
    if (flen > 9 && memcmp(file, "<frozen ", 8) == 0 && file[flen - 1] == '>') {
        /* "<frozen importlib._bootstrap>" -> "importlib" */
        const char *mod = file + 8;
        size_t n = 0;
        while (8 + n < flen - 1 && mod[n] != '.')
            n++;
        *s = mod;
        *len = n;
        return;
    }
    size_t off = hs_render_module_path_offset(file, flen);
    if (off == 0) /* no import root found: the file's own name */
        off = after_last(file, flen, "/");
    const char *rest = file + off;
    size_t n = 0;
    while (off + n < flen && rest[n] != '/' && rest[n] != '\\')
        n++;
    if (n > 3 && memcmp(rest + n - 3, ".py", 3) == 0 && off + n == flen)
        n -= 3;
    *s = rest;
    *len = n;
}
