/*
 * native_symbols.h - names for the native frames of a memory profile
 * (native_symbols.c). native.c records return addresses; when the profile
 * is built, in the same process with the same objects loaded, each
 * distinct address becomes a model frame of kind native: the function
 * containing it and the object file it is in.
 */
#ifndef HOTSCOPE_NATIVE_SYMBOLS_H
#define HOTSCOPE_NATIVE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "../sampler/elf.h"

/* One loaded object, its functions read from its file once. */
typedef struct {
    const void *map;   /* its link map: the key */
    uintptr_t bias;    /* load bias: runtime address - file address */
    char *path;
    hs_elf_func *funcs;
    size_t func_count;
    char *names;
} hs_native_object;

typedef struct {
    hs_native_object *objects;
    size_t count, cap;
    char *(*demangle)(const char *, char *, size_t *, int *); /* __cxa_demangle, if loaded */
} hs_native_symbols;

void hs_native_symbols_init(hs_native_symbols *s);
void hs_native_symbols_free(hs_native_symbols *s);

/* The model frame for return address `pc` (name: the function, or the
 * address in the file when no symbol covers it; file: the object's path;
 * lines 0). HS_NONE when memory runs out. */
hs_id hs_native_frame(hs_native_symbols *s, hs_profile *p, uintptr_t pc);

#endif
