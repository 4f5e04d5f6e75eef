/*
 * target.c - attaching to a Python process from outside (see target.h).
 */
#include "target.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

/* "libpython3.12.so.1.0" -> 12, "python3.10" -> 10; -1 when the name says nothing. */
static int minor_from_name(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *p = strstr(base, "python3.");
    if (!p)
        return -1;
    p += strlen("python3.");
    if (!isdigit((unsigned char)p[0]))
        return -1;
    return (int)strtol(p, NULL, 10);
}

static int is_candidate(const char *path, const char *exe) {
    if (!path[0] || path[0] == '[')
        return 0;
    if (strcmp(path, exe) == 0)
        return 1;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libpython3", 10) == 0;
}

/* Looks for _PyRuntime in one mapped file; 1 found, 0 not there, -1 error. */
static int probe_binary(hs_target *t, const hs_mapping *maps, size_t count, const char *path,
                        char *err, size_t errlen) {
    /* The file's mapping with the lowest offset anchors the load bias. */
    const hs_mapping *anchor = NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp(maps[i].path, path) == 0 && (!anchor || maps[i].offset < anchor->offset))
            anchor = &maps[i];
    if (!anchor)
        return 0;
    char local[1024];
    hs_proc_path(t->pid, path, local, sizeof local);
    static const char *const names[] = {"_PyRuntime", "Py_Version", "PyCode_Type"};
    uint64_t values[3] = {0, 0, 0};
    if (hs_elf_symbols(local, names, values, NULL, 3, err, errlen) < 0)
        return -1;
    if (!values[0])
        return 0;
    uint64_t bias;
    if (hs_elf_load_bias(local, anchor->start, anchor->offset, &bias, err, errlen) != 0)
        return -1;
    t->runtime = values[0] + bias;
    t->image_start = UINT64_MAX;
    t->image_end = 0;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(maps[i].path, path) == 0) {
            if (maps[i].start < t->image_start)
                t->image_start = maps[i].start;
            if (maps[i].end > t->image_end)
                t->image_end = maps[i].end;
        }
    }
    t->code_type = values[2] ? values[2] + bias : 0;
    snprintf(t->binary, sizeof t->binary, "%s", path);
    t->version_minor = -1;
    if (values[1]) {
        /* Py_Version: PY_VERSION_HEX as a const unsigned long (3.11+,
         * Include/pylifecycle.h). Read only the low 32 bits. */
        uint32_t hex;
        if (hs_proc_read(&t->proc, values[1] + bias, &hex, sizeof hex) == 0 && (hex >> 24) == 3)
            t->version_minor = (int)((hex >> 16) & 0xFF);
    }
    if (t->version_minor < 0)
        t->version_minor = minor_from_name(path);
    return 1;
}

static int locate_runtime(hs_target *t, char *err, size_t errlen) {
    hs_mapping *maps = NULL;
    size_t count = 0;
    if (hs_proc_maps(t->pid, &maps, &count) != 0) {
        snprintf(err, errlen, "cannot read the memory map of process %d", (int)t->pid);
        return -1;
    }
    char exe[512] = "";
    hs_proc_exe(t->pid, exe, sizeof exe);
    int found = 0;
    for (size_t i = 0; i < count && !found; i++) {
        if (!is_candidate(maps[i].path, exe))
            continue;
        int seen = 0; /* each file once */
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(maps[j].path, maps[i].path) == 0;
        if (seen)
            continue;
        found = probe_binary(t, maps, count, maps[i].path, err, errlen);
        if (found < 0)
            found = 0; /* an unreadable candidate is not fatal while others remain */
    }
    free(maps);
    return found;
}

uint64_t hs_target_main_interp(const hs_target *t) {
    uint64_t interp = 0;
    if (hs_proc_read(&t->proc, t->runtime + (uint64_t)t->layout.runtime_interpreters_head,
                     &interp, sizeof interp) != 0)
        return 0;
    return interp;
}

int hs_target_attach(hs_target *t, pid_t pid, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->pthread_tid_offset = -1;
    if (hs_proc_open(&t->proc, pid, err, errlen) != 0)
        return -1;
    int found = locate_runtime(t, err, errlen);
    if (found < 0)
        return -1;
    if (found == 0) {
        /* A process that is still loading may not have mapped libpython
         * yet; the caller decides how long to wait. */
        snprintf(err, errlen, "process %d does not look like Python (no _PyRuntime in its "
                 "executable or in a libpython it maps)", (int)pid);
        return 1;
    }
    if (t->version_minor < 0) {
        snprintf(err, errlen, "cannot tell which Python version %s is", t->binary);
        return -1;
    }
    if (t->version_minor >= 13) {
        /* Unreadable or not there yet: a process seen while the loader is
         * still mapping libpython's data (met on 3.13 at start-up). */
        int status = hs_pylayout_from_debug_offsets(&t->proc, t->runtime, &t->layout, err, errlen);
        if (status != 0)
            return status == -2 ? 1 : -1;
    } else {
        const hs_pylayout *layout = hs_pylayout_static(t->version_minor);
        if (!layout) {
            snprintf(err, errlen, "Python 3.%d is not supported by this hotscope (3.10-3.13 are)",
                     t->version_minor);
            return -1;
        }
        t->layout = *layout;
    }
    uint64_t interp = hs_target_main_interp(t);
    uint64_t head = 0;
    if (interp)
        hs_proc_read(&t->proc, interp + (uint64_t)t->layout.interp_threads_head, &head, sizeof head);
    if (!interp || !head) {
        snprintf(err, errlen, "process %d has not started its Python interpreter yet", (int)pid);
        return 1;
    }
    return 0;
}
