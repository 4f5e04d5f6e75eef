/*
 * native_objects.c - another process's mapped objects, their step rules
 * and function names, by address (see native_objects.h).
 *
 * /proc/PID/maps lists mappings in address order (proc(5)); the mappings
 * of one loaded object follow each other under the same path, the first at
 * the lowest file offset, which anchors its load bias (elf.c,
 * hs_elf_load_bias). A file deleted since it was mapped is opened through
 * /proc/PID/map_files/START-END instead (proc(5)).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include "native_objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "grow.h"

/* The eval loop's function; gcc splits its rarely run parts off as
 * "_PyEval_EvalFrameDefault.cold" (Python/ceval.c, 3.10-3.13). */
#define EVAL_LOOP "_PyEval_EvalFrameDefault"
#define PC_CACHE_MAX (1u << 16) /* emptied when full: a program runs few distinct frames */
#define VDSO_MAX (1u << 20)

void hs_native_objects_init(hs_native_objects *o, pid_t pid, const char *interpreter) {
    memset(o, 0, sizeof *o);
    o->pid = pid;
    o->proc.pid = pid;
    snprintf(o->interpreter, sizeof o->interpreter, "%s", interpreter);
    o->maps_read_in = -1;
}

static void free_object(hs_native_object *obj) {
    free(obj->path);
    free(obj->cfi.bytes);
    free(obj->funcs);
    free(obj->names);
}

void hs_native_objects_free(hs_native_objects *o) {
    for (size_t i = 0; i < o->object_count; i++)
        free_object(&o->objects[i]);
    free(o->objects);
    free(o->maps);
    free(o->pcs);
    memset(o, 0, sizeof *o);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Reads an object's file: its load bias, call frame information and
 * functions, from `local` (a path this process can open). A file that
 * cannot be read leaves the object without rules or names. */
static void read_object_file(hs_native_object *obj, const char *local) {
    char err[256];
    if (hs_elf_load_bias(local, obj->first_start, obj->first_offset, &obj->bias, err,
                         sizeof err) != 0)
        return;
    if (hs_elf_eh_frame(local, &obj->cfi, err, sizeof err) != 1)
        memset(&obj->cfi, 0, sizeof obj->cfi);
    if (hs_elf_functions(local, &obj->funcs, &obj->func_count, &obj->names, err, sizeof err) != 0)
        obj->func_count = 0;
}

/* The vDSO: copied from the process into a memory file, read as a file. */
static void read_vdso(hs_native_objects *o, hs_native_object *obj, uint64_t end) {
    uint64_t len = end - obj->first_start;
    if (len == 0 || len > VDSO_MAX)
        return;
    uint8_t *image = malloc((size_t)len);
    int fd = memfd_create("hotscope-vdso", MFD_CLOEXEC);
    if (image && fd >= 0 && hs_proc_read(&o->proc, obj->first_start, image, (size_t)len) == 0 &&
        write(fd, image, (size_t)len) == (ssize_t)len) {
        char local[64];
        snprintf(local, sizeof local, "/proc/self/fd/%d", fd);
        read_object_file(obj, local);
    }
    if (fd >= 0)
        close(fd);
    free(image);
}

/* Reads an object's file the first time one of its addresses is met. */
static void load(hs_native_objects *o, hs_native_object *obj, const hs_native_mapping *first) {
    if (obj->loaded)
        return;
    obj->loaded = 1;
    if (strcmp(obj->path, "[vdso]") == 0) {
        read_vdso(o, obj, first->end);
        return;
    }
    char local[1024];
    if (ends_with(obj->path, " (deleted)"))
        snprintf(local, sizeof local, "/proc/%d/map_files/%llx-%llx", (int)o->pid,
                 (unsigned long long)first->start, (unsigned long long)first->end);
    else
        hs_proc_path(o->pid, obj->path, local, sizeof local);
    read_object_file(obj, local);
}

/* The object whose first mapping is `m`: one met before, or a new one. */
static uint32_t object_for(hs_native_objects *o, const hs_mapping *m) {
    for (size_t i = 0; i < o->object_count; i++) {
        const hs_native_object *obj = &o->objects[i];
        if (obj->first_start == m->start && obj->first_offset == m->offset &&
            strcmp(obj->path, m->path) == 0)
            return (uint32_t)i;
    }
    if (o->object_count >= HS_NO_OBJECT - 1 ||
        hs_grow((void **)&o->objects, &o->object_cap, o->object_count + 1, sizeof *o->objects) != 0)
        return HS_NO_OBJECT;
    hs_native_object *obj = &o->objects[o->object_count];
    memset(obj, 0, sizeof *obj);
    if (!(obj->path = strdup(m->path)))
        return HS_NO_OBJECT;
    obj->first_start = m->start;
    obj->first_offset = m->offset;
    obj->interpreter = strcmp(m->path, o->interpreter) == 0;
    return (uint32_t)o->object_count++;
}

/* Reads the maps again; the address cache goes with the old ones. */
static void read_maps(hs_native_objects *o, int64_t pass) {
    o->maps_read_in = pass;
    o->maps_reads++;
    hs_mapping *maps = NULL;
    size_t count = 0;
    if (hs_proc_maps(o->pid, &maps, &count) != 0)
        return;
    o->map_count = 0;
    if (hs_grow((void **)&o->maps, &o->map_cap, count, sizeof *o->maps) != 0) {
        free(maps);
        return;
    }
    uint32_t object = HS_NO_OBJECT;
    const char *previous = "";
    for (size_t i = 0; i < count; i++) {
        const hs_mapping *m = &maps[i];
        int file = m->path[0] && (m->path[0] != '[' || strcmp(m->path, "[vdso]") == 0);
        if (!file)
            object = HS_NO_OBJECT;
        else if (strcmp(m->path, previous) != 0 || object == HS_NO_OBJECT)
            object = object_for(o, m); /* the first mapping of a run of this path */
        previous = file ? m->path : "";
        o->maps[o->map_count++] = (hs_native_mapping){m->start, m->end, object, m->perms[2] == 'x'};
    }
    free(maps);
    if (o->pcs)
        memset(o->pcs, 0, o->pc_cap * sizeof *o->pcs);
    o->pc_count = 0;
}

static const hs_native_mapping *find_mapping(const hs_native_objects *o, uint64_t addr) {
    size_t lo = 0, hi = o->map_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->maps[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->map_count && o->maps[lo].start <= addr ? &o->maps[lo] : NULL;
}

const hs_native_mapping *hs_native_mapping_at(hs_native_objects *o, uint64_t addr, int64_t pass) {
    const hs_native_mapping *m = find_mapping(o, addr);
    if (!m && o->maps_read_in != pass) {
        read_maps(o, pass);
        m = find_mapping(o, addr);
    }
    return m;
}

static size_t slot_of(uint64_t pc, size_t cap) {
    return (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

/* A free slot for pc, growing (or, past PC_CACHE_MAX, emptying) the table. */
static hs_native_pc *free_slot(hs_native_objects *o, uint64_t pc) {
    if ((o->pc_count + 1) * 4 > o->pc_cap * 3) {
        size_t cap = o->pc_cap ? o->pc_cap * 2 : 1024;
        hs_native_pc *grown = cap <= PC_CACHE_MAX ? calloc(cap, sizeof *grown) : NULL;
        if (grown) {
            for (size_t i = 0; i < o->pc_cap; i++) {
                if (!o->pcs[i].pc)
                    continue;
                size_t k = slot_of(o->pcs[i].pc, cap);
                while (grown[k].pc)
                    k = (k + 1) & (cap - 1);
                grown[k] = o->pcs[i];
            }
            free(o->pcs);
            o->pcs = grown;
            o->pc_cap = cap;
        } else if (o->pc_cap) {
            memset(o->pcs, 0, o->pc_cap * sizeof *o->pcs);
            o->pc_count = 0;
        } else {
            return NULL;
        }
    }
    size_t k = slot_of(pc, o->pc_cap);
    while (o->pcs[k].pc)
        k = (k + 1) & (o->pc_cap - 1);
    o->pc_count++;
    return &o->pcs[k];
}

const hs_native_pc *hs_native_pc_info(hs_native_objects *o, uint64_t pc, int64_t pass) {
    if (!pc)
        return NULL;
    if (o->pc_cap) {
        for (size_t k = slot_of(pc, o->pc_cap); o->pcs[k].pc; k = (k + 1) & (o->pc_cap - 1))
            if (o->pcs[k].pc == pc)
                return &o->pcs[k];
    }
    /* A mapping that is not executable may be one read while the loader
     * was mapping a library (it maps the whole span first, then each
     * segment with its own protection): read the maps again then too.
     * Either may empty the cache. */
    const hs_native_mapping *m = hs_native_mapping_at(o, pc, pass);
    if (m && !m->executable && o->maps_read_in != pass) {
        read_maps(o, pass);
        m = find_mapping(o, pc);
    }
    if (!m || !m->executable)
        return NULL;
    hs_native_pc info;
    memset(&info, 0, sizeof info);
    info.pc = pc;
    info.object = m->object;
    info.rule.kind = HS_STEP_NOT_SIMPLE;
    if (m->object != HS_NO_OBJECT) {
        hs_native_object *obj = &o->objects[m->object];
        const hs_native_mapping *first = find_mapping(o, obj->first_start);
        load(o, obj, first ? first : m);
        uint64_t at = pc - obj->bias;
        if (obj->cfi.bytes) {
            hs_eh_image img = {obj->cfi.bytes, obj->cfi.start, obj->cfi.len, obj->cfi.hdr};
            hs_eh_frame_rule_in(&img, at, &info.rule);
        }
        info.name = hs_elf_function_at(obj->funcs, obj->func_count, obj->names, at);
        info.interpreter = (uint8_t)obj->interpreter;
        size_t len = strlen(EVAL_LOOP);
        info.eval_loop = obj->interpreter && info.name && strncmp(info.name, EVAL_LOOP, len) == 0 &&
                         (info.name[len] == '\0' || info.name[len] == '.');
    }
    hs_native_pc *slot = free_slot(o, pc);
    if (!slot)
        return NULL;
    *slot = info;
    return slot;
}

const char *hs_native_pc_name(const hs_native_objects *o, const hs_native_pc *info, char *buf,
                              size_t buflen) {
    if (info->name)
        return info->name;
    uint64_t at = info->pc;
    if (info->object != HS_NO_OBJECT)
        at -= o->objects[info->object].bias;
    snprintf(buf, buflen, "0x%llx", (unsigned long long)at);
    return buf;
}

const char *hs_native_pc_file(const hs_native_objects *o, const hs_native_pc *info) {
    return info->object != HS_NO_OBJECT ? o->objects[info->object].path : "[unknown]";
}
