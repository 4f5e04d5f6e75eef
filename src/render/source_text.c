/*
 * source_text.c - the source text of a profiled function for the per-line
 * reports (lines_text.c, mem_lines_text.c; declared in render_util.h):
 * from the profile's own metadata when the engine captured it, else from
 * the file on disk, split into numbered lines.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render_util.h"

/* Larger than any source file a person writes; a bound on what a profile
 * naming some other file can make us read. */
#define SOURCE_MAX_BYTES (64L << 20)

void hs_source_free(hs_source_block *s) {
    free(s->text);
    free(s->lines);
    free(s->lengths);
    memset(s, 0, sizeof *s);
}

/* Splits `text` (owned by the block afterwards) into lines. */
static int source_split(hs_source_block *s, char *text, size_t len, int32_t first) {
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    s->text = text;
    s->lines = malloc(n * sizeof *s->lines);
    s->lengths = malloc(n * sizeof *s->lengths);
    if (!s->lines || !s->lengths)
        return -1;
    s->first = first;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            size_t end = i;
            if (end > start && text[end - 1] == '\r')
                end--;
            s->lines[s->count] = text + start;
            s->lengths[s->count++] = end - start;
            start = i + 1;
        }
    }
    return 0;
}

int hs_source_load(const hs_profile *p, const char *file, size_t file_len, int32_t first,
                   hs_source_block *s) {
    memset(s, 0, sizeof *s);
    char key[64];
    hs_buf k;
    hs_buf_init(&k);
    hs_buf_puts(&k, "source:");
    hs_buf_append(&k, file, file_len);
    snprintf(key, sizeof key, ":%d", (int)first);
    hs_buf_puts(&k, key);
    hs_buf_putc(&k, '\0');
    const char *embedded = k.failed ? NULL : hs_meta_get(p, k.data);
    hs_buf_free(&k);
    if (embedded) {
        size_t len = strlen(embedded);
        char *copy = malloc(len + 1);
        if (!copy)
            return -1;
        memcpy(copy, embedded, len + 1);
        return source_split(s, copy, len, first);
    }
    /* From disk: the whole file, numbered from line 1. The name comes from
     * a profile, which may come from anywhere: only a regular file of a
     * source file's size is read (never a FIFO, a device or /dev/zero,
     * which would block or never end); non-blocking open for the same
     * reason. */
    char *path = strndup(file, file_len);
    int fd = path ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    free(path);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SOURCE_MAX_BYTES)) {
        close(fd);
        fd = -1;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return 0; /* no source: rows are marked, not dropped */
    }
    hs_buf text;
    hs_buf_init(&text);
    char chunk[65536];
    size_t got, total = 0;
    while (total <= SOURCE_MAX_BYTES && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        hs_buf_append(&text, chunk, got);
        total += got;
    }
    fclose(f);
    if (text.failed) {
        hs_buf_free(&text);
        return -1;
    }
    hs_buf_putc(&text, '\0');
    if (text.failed) {
        hs_buf_free(&text);
        return -1;
    }
    return source_split(s, text.data, text.len - 1, 1);
}

int hs_source_has_line(const hs_source_block *s, int32_t line) {
    int64_t i = (int64_t)line - s->first;
    return s->count && i >= 0 && (size_t)i < s->count;
}

void hs_source_put_line(hs_buf *out, const hs_source_block *s, int32_t line) {
    if (hs_source_has_line(s, line)) {
        size_t i = (size_t)((int64_t)line - s->first);
        hs_render_put_text(out, s->lines[i], s->lengths[i], HS_TEXT_PLAIN);
    } else {
        hs_buf_puts(out, "(source not available)");
    }
}
