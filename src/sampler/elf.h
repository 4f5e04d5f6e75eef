/*
 * elf.h - finding symbols in an ELF file on disk and where that file is
 * loaded in a process, so the sampler can locate the interpreter's
 * globals (_PyRuntime, Py_Version) in another process without running
 * code in it.
 *
 * Also lists a file's functions by address, to name native frames.
 *
 * Reads ELF64 little-endian files (x86-64, aarch64): .dynsym and .symtab,
 * section headers, program headers. Layout: the System V gABI, "ELF
 * header", "Sections", "Symbol Table", "Program Header" (elf(5)).
 * No global state; files are read with pread, never mapped executable.
 */
#ifndef HOTSCOPE_ELF_H
#define HOTSCOPE_ELF_H

#include <stddef.h>
#include <stdint.h>

/* Looks up `count` symbol names in the file's .dynsym and .symtab; for
 * each found, values[i] is its st_value (a virtual address in the file's
 * own address space) and sizes[i] its st_size (sizes may be NULL); 0 when
 * absent. Returns the number found, or -1 with a one-line message in err
 * (unreadable file, not ELF, truncated). */
int hs_elf_symbols(const char *path, const char *const *names, uint64_t *values,
                   uint64_t *sizes, size_t count, char *err, size_t errlen);

/* A function defined in the file: its address (file virtual address),
 * size, and name (an offset into the names block). */
typedef struct {
    uint64_t value, size;
    uint32_t name;
} hs_elf_func;

/* Every function of the file's .symtab and .dynsym (defined, sized
 * STT_FUNC and STT_GNU_IFUNC symbols), sorted by address, so an address
 * can be named (the memory engine's native frames). *funcs and *names are
 * malloc'ed (free both; NULL when none). Returns 0, or -1 with a
 * one-line message in err. */
int hs_elf_functions(const char *path, hs_elf_func **funcs, size_t *count, char **names,
                     char *err, size_t errlen);

/* The name of the function in funcs (sorted, as hs_elf_functions gives
 * them) that contains file address `at`, or NULL. Functions can nest (a
 * symbol and its alias, a part split off as "name.cold"): the last one
 * starting at or before `at` that contains it. */
const char *hs_elf_function_at(const hs_elf_func *funcs, size_t count, const char *names,
                               uint64_t at);

/* The file's .eh_frame_hdr and .eh_frame (the call frame information an
 * unwinder reads), copied from the file: `len` bytes standing for the
 * file's virtual addresses [start, start + len), .eh_frame_hdr at `hdr`.
 * Both must lie in one loadable segment (they always do: the loader maps
 * them for the unwinder of the process itself). */
typedef struct {
    uint8_t *bytes;   /* malloc'ed */
    uint64_t start, len, hdr;
} hs_elf_eh_frame_copy;

/* Returns 1 found, 0 the file has none (no PT_GNU_EH_FRAME), -1 error. */
int hs_elf_eh_frame(const char *path, hs_elf_eh_frame_copy *out, char *err, size_t errlen);

/* A section's virtual address and size by name (e.g. ".PyRuntime").
 * Returns 1 found, 0 absent, -1 error (message in err). */
int hs_elf_section(const char *path, const char *name, uint64_t *vaddr, uint64_t *size,
                   char *err, size_t errlen);

/* The load bias of the file in a process: what to add to a file virtual
 * address to get the runtime address, given one of the file's mappings
 * (its start address and file offset, from /proc/PID/maps). Uses the
 * PT_LOAD segment containing that file offset. Returns 0 or -1. For a
 * non-PIE executable the bias is 0. */
int hs_elf_load_bias(const char *path, uint64_t map_start, uint64_t map_offset,
                     uint64_t *bias, char *err, size_t errlen);

#endif
