/*
 * native_symbols.c - naming native frames (see native_symbols.h).
 *
 * The object an address lies in comes from the dynamic loader (dladdr1
 * with its link map: the object's path and load bias); the function from
 * that file's own symbol tables (elf.c): .symtab as well as .dynsym, so
 * static functions, which dladdr cannot name, get their names wherever
 * the file was not stripped. C++ names are demangled when the process
 * has __cxa_demangle (libstdc++ loaded). A return address is looked up
 * one byte back: the call it returns from may be a function's last
 * instruction.
 */
#define _GNU_SOURCE
#include "native_symbols.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hs_native_symbols_init(hs_native_symbols *s) {
    memset(s, 0, sizeof *s);
    void *sym = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (sym)
        memcpy(&s->demangle, &sym, sizeof sym);
}

void hs_native_symbols_free(hs_native_symbols *s) {
    for (size_t i = 0; i < s->count; i++) {
        free(s->objects[i].path);
        free(s->objects[i].funcs);
        free(s->objects[i].names);
    }
    free(s->objects);
    memset(s, 0, sizeof *s);
}

/* The path of the main program, whose link map has no name. */
static char *own_executable(void) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return strdup("[executable]");
    buf[n] = 0;
    return strdup(buf);
}

/* The object of this link map, its functions read on first use; NULL
 * when memory runs out. */
static hs_native_object *object_of(hs_native_symbols *s, const struct link_map *lm) {
    for (size_t i = 0; i < s->count; i++)
        if (s->objects[i].map == lm)
            return &s->objects[i];
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        hs_native_object *grown = realloc(s->objects, cap * sizeof *grown);
        if (!grown)
            return NULL;
        s->objects = grown;
        s->cap = cap;
    }
    hs_native_object *o = &s->objects[s->count];
    memset(o, 0, sizeof *o);
    o->map = lm;
    o->bias = (uintptr_t)lm->l_addr;
    o->path = lm->l_name && lm->l_name[0] ? strdup(lm->l_name) : own_executable();
    if (!o->path)
        return NULL;
    char err[256];
    /* Unreadable (gone, the vDSO) or corrupt: addresses are shown as such. */
    if (hs_elf_functions(o->path, &o->funcs, &o->func_count, &o->names, err, sizeof err) != 0)
        o->func_count = 0;
    s->count++;
    return o;
}

hs_id hs_native_frame(hs_native_symbols *s, hs_profile *p, uintptr_t pc) {
    uintptr_t at = pc - 1;
    Dl_info info;
    struct link_map *lm = NULL;
    hs_native_object *o = NULL;
    if (dladdr1((void *)at, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
        o = object_of(s, lm);
        if (!o)
            return HS_NONE;
    }
    const char *name =
        o ? hs_elf_function_at(o->funcs, o->func_count, o->names, (uint64_t)(at - o->bias)) : NULL;
    char *demangled = NULL;
    char fallback[32];
    if (name && s->demangle && name[0] == '_' && name[1] == 'Z') {
        int status = -1;
        demangled = s->demangle(name, NULL, NULL, &status);
        if (status == 0 && demangled)
            name = demangled;
    }
    if (!name) {
        snprintf(fallback, sizeof fallback, "0x%llx", (unsigned long long)(o ? at - o->bias : at));
        name = fallback;
    }
    const char *file = o ? o->path : "[unknown]";
    hs_id name_id = hs_intern(p, name, strlen(name));
    hs_id file_id = hs_intern(p, file, strlen(file));
    free(demangled);
    if (name_id == HS_NONE || file_id == HS_NONE)
        return HS_NONE;
    return hs_frame_intern(p, name_id, file_id, 0, 0, HS_KIND_NATIVE);
}
