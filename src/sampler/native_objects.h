/*
 * native_objects.h - the native code of another process, as its files
 * (native_objects.c): which mapped object holds an executable address
 * (/proc/PID/maps), where that object is loaded (its load bias), and,
 * read from its file on disk once when first needed, its call frame
 * information (.eh_frame, parsed by src/memory/eh_frame.c) and its
 * function names (.symtab and .dynsym, elf.c).
 *
 * What is learnt per address (the step rule out of its frame, the
 * function and object it is in) is kept in a cache by address, so a pass
 * that meets the same code as the last costs a lookup per frame. The maps
 * are read again when an address or a stack lies in no known mapping (a
 * library loaded since, a new thread's stack) or a pc in one that is not
 * executable (read while the loader was mapping a library), at most once
 * per pass; the cache is emptied then, since an address may now be other
 * code.
 *
 * The vDSO has no file: its image is copied from the process's memory
 * into a memory file and read from there like any other.
 */
#ifndef HOTSCOPE_NATIVE_OBJECTS_H
#define HOTSCOPE_NATIVE_OBJECTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../memory/eh_frame.h"
#include "elf.h"
#include "proc.h"

#define HS_NO_OBJECT UINT32_MAX

typedef struct {
    char *path;               /* as mapped ("[vdso]" for the vDSO) */
    uint64_t bias;            /* runtime address - file address */
    uint64_t first_start, first_offset; /* its first mapping (the load bias anchor) */
    int loaded;               /* its file was read (or tried) */
    int interpreter;          /* the file holding _PyRuntime: python or libpython */
    hs_elf_eh_frame_copy cfi; /* bytes NULL: none */
    hs_elf_func *funcs;
    size_t func_count;
    char *names;
} hs_native_object;

/* One mapping: its range, whether code may run there, and its object. */
typedef struct {
    uint64_t start, end;
    uint32_t object;          /* HS_NO_OBJECT for anonymous memory */
    uint8_t executable;
} hs_native_mapping;

/* What is known of one address (a pc to look up: the leaf's own, or a
 * return address minus one). */
typedef struct {
    uint64_t pc;              /* 0: empty slot */
    hs_step_rule rule;
    const char *name;         /* the function containing it, NULL when unnamed */
    uint32_t object;          /* HS_NO_OBJECT outside any file */
    uint8_t eval_loop;        /* in _PyEval_EvalFrameDefault (or a part split from it) */
    uint8_t interpreter;      /* in the interpreter's own image */
} hs_native_pc;

typedef struct {
    pid_t pid;
    hs_proc proc;
    char interpreter[512];    /* path of the interpreter's image, as mapped */
    hs_native_object *objects;
    size_t object_count, object_cap;
    hs_native_mapping *maps;  /* sorted by address */
    size_t map_count, map_cap;
    hs_native_pc *pcs;        /* open addressing by pc */
    size_t pc_count, pc_cap;
    int64_t maps_read_in;     /* the pass that last read the maps */
    int64_t maps_reads;
} hs_native_objects;

/* `interpreter`: the mapped path of the file that holds _PyRuntime. */
void hs_native_objects_init(hs_native_objects *o, pid_t pid, const char *interpreter);
void hs_native_objects_free(hs_native_objects *o);

/* The mapping containing addr, reading the maps again (once per `pass`)
 * when none does; NULL when still none. */
const hs_native_mapping *hs_native_mapping_at(hs_native_objects *o, uint64_t addr, int64_t pass);

/* What is known of pc (rule, name, object), learnt on first sight. NULL
 * when pc is in no executable mapping (after reading the maps again, once
 * per pass) or memory runs out. The pointer is good until the next call. */
const hs_native_pc *hs_native_pc_info(hs_native_objects *o, uint64_t pc, int64_t pass);

/* A frame's name for pc (whose info is `info`): the function, or its
 * address in its file as "0x..." in `buf`. */
const char *hs_native_pc_name(const hs_native_objects *o, const hs_native_pc *info, char *buf,
                              size_t buflen);

/* The path of the object `info` is in, or "[unknown]". */
const char *hs_native_pc_file(const hs_native_objects *o, const hs_native_pc *info);

#endif
