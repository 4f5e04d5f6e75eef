/*
 * elf.c - symbol, section and load-bias lookup in ELF64 files on disk (see
 * elf.h). The sampler uses it to find the interpreter's globals
 * (_PyRuntime, Py_Version) in the python executable or libpython that a
 * target process has mapped, then adds the load bias computed from that
 * file's mapping in /proc/PID/maps to get their runtime addresses.
 *
 * Files are read with pread into bounded buffers, never mapped: a file can
 * be truncated or replaced while we read it, and a mapped file that
 * shrinks under us would raise SIGBUS. Every offset and size taken from the
 * file is checked against the file's size before use, so a corrupt or
 * hostile file yields an error, not a crash.
 *
 * Layouts follow the System V ABI, "Generic ABI" (gABI), chapter 4 "Object
 * Files": "ELF Header", "Sections" (including "Extended Section Numbering"
 * for e_shnum / e_shstrndx overflow), "Symbol Table", and chapter 5
 * "Program Header"; see also elf(5). The structures are declared here
 * rather than taken from <elf.h>, whose name this project's own header
 * shares.
 */
#include "elf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The on-disk structures are read straight into these, so the host must
 * share the file's byte order; hotscope supports x86-64 and aarch64 Linux,
 * both little-endian. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "elf.c reads little-endian ELF files on a little-endian host only"
#endif

/* gABI "ELF Header": e_ident indices and values. */
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS64 2
#define ELFDATA2LSB 1

/* gABI "Sections": special section indices and the section types used. */
#define SHN_UNDEF 0
#define SHN_XINDEX 0xffff
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_DYNSYM 11

/* gABI "Program Header": PN_XNUM marks e_phnum overflow; PT_LOAD segments. */
#define PN_XNUM 0xffff
#define PT_LOAD 1
/* The Linux Standard Base Core Specification, "Program Header": the
 * segment of .eh_frame_hdr. */
#define PT_GNU_EH_FRAME 0x6474e550

/* gABI "Symbol Table": binding (high nibble of st_info) and type (low). */
#define STB_LOCAL 0
#define STB_GLOBAL 1
#define STB_WEAK 2
#define STT_FUNC 2
#define STT_SECTION 3
#define STT_FILE 4
#define STT_GNU_IFUNC 10

typedef struct {
    unsigned char e_ident[EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
} elf64_ehdr;

typedef struct {
    uint32_t sh_name;
    uint32_t sh_type;
    uint64_t sh_flags;
    uint64_t sh_addr;
    uint64_t sh_offset;
    uint64_t sh_size;
    uint32_t sh_link;
    uint32_t sh_info;
    uint64_t sh_addralign;
    uint64_t sh_entsize;
} elf64_shdr;

typedef struct {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
} elf64_phdr;

typedef struct {
    uint32_t st_name;
    unsigned char st_info;
    unsigned char st_other;
    uint16_t st_shndx;
    uint64_t st_value;
    uint64_t st_size;
} elf64_sym;

_Static_assert(sizeof(elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(elf64_shdr) == 64, "ELF64 section header is 64 bytes");
_Static_assert(sizeof(elf64_phdr) == 56, "ELF64 program header is 56 bytes");
_Static_assert(sizeof(elf64_sym) == 24, "ELF64 symbol is 24 bytes");

/* An open file with its validated header, and where errors go. */
typedef struct {
    const char *path;
    int fd;
    uint64_t size;
    elf64_ehdr eh;
    uint64_t shnum;    /* section count after extended numbering */
    uint64_t shstrndx; /* index of the section-name string table */
    uint64_t phnum;    /* program header count after extended numbering */
    char *err;
    size_t errlen;
} elf_file;

static int fail(elf_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(elf_file *f, const char *fmt, ...) {
    if (f->err && f->errlen) {
        int n = snprintf(f->err, f->errlen, "%s: ", f->path);
        if (n >= 0 && (size_t)n < f->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(f->err + n, f->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* Whether [off, off+len) lies within the file, without overflow. */
static int in_file(const elf_file *f, uint64_t off, uint64_t len) {
    return off <= f->size && len <= f->size - off;
}

/* Reads exactly len bytes at off; -1 if the range is outside the file or
 * the read comes up short (the file shrank, or an I/O error). */
static int read_at(const elf_file *f, uint64_t off, void *buf, size_t len) {
    if (!in_file(f, off, len))
        return -1;
    unsigned char *out = buf;
    while (len > 0) {
        ssize_t n = pread(f->fd, out, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        out += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads section header `index`; -1 if it is out of range or unreadable. */
static int read_shdr(const elf_file *f, uint64_t index, elf64_shdr *sh) {
    if (index >= f->shnum)
        return -1;
    return read_at(f, f->eh.e_shoff + index * sizeof *sh, sh, sizeof *sh);
}

/* Reads a string-table section into a malloc'ed buffer with a NUL after
 * its end, so a name at any in-range offset is a terminated C string even
 * when the table itself is corrupt. NULL on failure. */
static char *load_strtab(const elf_file *f, const elf64_shdr *sh) {
    if (sh->sh_type != SHT_STRTAB || !in_file(f, sh->sh_offset, sh->sh_size))
        return NULL;
    char *table = malloc((size_t)sh->sh_size + 1);
    if (!table)
        return NULL;
    if (read_at(f, sh->sh_offset, table, (size_t)sh->sh_size) != 0) {
        free(table);
        return NULL;
    }
    table[sh->sh_size] = '\0';
    return table;
}

/* Opens and validates the file: ELF magic, 64-bit, little-endian, and
 * header tables of the expected entry size lying within the file. */
static int elf_open(elf_file *f, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->path = path;
    f->err = err;
    f->errlen = errlen;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return fail(f, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f->fd);
        f->fd = -1;
        return fail(f, "not a regular file");
    }
    f->size = (uint64_t)st.st_size;

    int rc = -1;
    if (read_at(f, 0, &f->eh, sizeof f->eh) != 0 || memcmp(f->eh.e_ident, "\177ELF", 4) != 0) {
        fail(f, "not an ELF file");
    } else if (f->eh.e_ident[EI_CLASS] != ELFCLASS64 || f->eh.e_ident[EI_DATA] != ELFDATA2LSB) {
        fail(f, "not a 64-bit little-endian ELF file");
    } else {
        rc = 0;
        f->shnum = f->eh.e_shnum;
        f->shstrndx = f->eh.e_shstrndx;
        f->phnum = f->eh.e_phnum;
        if (f->eh.e_shoff != 0) {
            elf64_shdr first;
            if (f->eh.e_shentsize != sizeof first) {
                rc = fail(f, "unexpected section header size %u", (unsigned)f->eh.e_shentsize);
            } else if (f->shnum == 0 || f->shstrndx == SHN_XINDEX || f->phnum == PN_XNUM) {
                /* Extended numbering: the real values live in section 0. */
                if (read_at(f, f->eh.e_shoff, &first, sizeof first) != 0) {
                    rc = fail(f, "truncated or corrupt (section headers beyond the end)");
                } else {
                    if (f->shnum == 0)
                        f->shnum = first.sh_size;
                    if (f->shstrndx == SHN_XINDEX)
                        f->shstrndx = first.sh_link;
                    if (f->phnum == PN_XNUM)
                        f->phnum = first.sh_info;
                }
            }
        } else {
            f->shnum = 0;
        }
        if (rc == 0 && f->shnum > 0 &&
            (f->shnum > f->size / sizeof(elf64_shdr) ||
             !in_file(f, f->eh.e_shoff, f->shnum * sizeof(elf64_shdr))))
            rc = fail(f, "truncated or corrupt (section headers beyond the end)");
    }
    if (rc != 0) {
        close(f->fd);
        f->fd = -1;
    }
    return rc;
}

static void elf_close(elf_file *f) {
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* How much a symbol match is worth: a global definition beats a weak one,
 * which beats a file-local one (a static of the same name in some object
 * file); 0 means "not a usable definition". */
static int symbol_rank(const elf64_sym *sym) {
    unsigned binding = sym->st_info >> 4, type = sym->st_info & 0xf;
    if (sym->st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE)
        return 0;
    switch (binding) {
    case STB_GLOBAL:
        return 3;
    case STB_WEAK:
        return 2;
    case STB_LOCAL:
        return 1;
    default:
        return 1; /* OS- or processor-specific bindings, e.g. STB_GNU_UNIQUE */
    }
}

/* Calls visit(ctx, symbol, its name) for each named symbol of a symbol
 * table section, read a batch at a time (few reads, bounded memory); a
 * visit returning non-zero ends the scan with that status. */
typedef int (*symbol_visit)(elf_file *f, void *ctx, const elf64_sym *sym, const char *name);

static int each_symbol(elf_file *f, const elf64_shdr *symtab, symbol_visit visit, void *ctx) {
    if (symtab->sh_entsize < sizeof(elf64_sym))
        return fail(f, "corrupt symbol table (entry size %llu)",
                    (unsigned long long)symtab->sh_entsize);
    if (!in_file(f, symtab->sh_offset, symtab->sh_size))
        return fail(f, "truncated or corrupt (symbol table beyond the end)");
    elf64_shdr strtab_sh;
    if (read_shdr(f, symtab->sh_link, &strtab_sh) != 0)
        return fail(f, "corrupt symbol table (bad string table link)");
    char *strtab = load_strtab(f, &strtab_sh);
    if (!strtab)
        return fail(f, "truncated or corrupt (symbol string table)");

    enum { BATCH = 256 };
    unsigned char raw[BATCH * sizeof(elf64_sym)];
    uint64_t entsize = symtab->sh_entsize;
    uint64_t total = symtab->sh_size / entsize;
    size_t per_batch = sizeof raw / entsize; /* >= 1 once entsize <= sizeof raw */
    if (per_batch == 0) {
        free(strtab);
        return fail(f, "corrupt symbol table (entry size %llu)", (unsigned long long)entsize);
    }
    int rc = 0;
    for (uint64_t first = 0; first < total && rc == 0; first += per_batch) {
        size_t n = total - first < per_batch ? (size_t)(total - first) : per_batch;
        if (read_at(f, symtab->sh_offset + first * entsize, raw, n * (size_t)entsize) != 0) {
            rc = fail(f, "read error in the symbol table");
            break;
        }
        for (size_t k = 0; k < n && rc == 0; k++) {
            elf64_sym sym;
            memcpy(&sym, raw + k * entsize, sizeof sym);
            if (sym.st_name == 0 || sym.st_name >= strtab_sh.sh_size)
                continue;
            rc = visit(f, ctx, &sym, strtab + sym.st_name);
        }
    }
    free(strtab);
    return rc;
}

/* Looking up names: for each, the best-ranked definition so far. */
typedef struct {
    const char *const *names;
    uint64_t *values, *sizes;
    unsigned char *best;
    size_t count;
} symbol_lookup;

static int look_up(elf_file *f, void *ctx, const elf64_sym *sym, const char *name) {
    (void)f;
    symbol_lookup *q = ctx;
    int rank = symbol_rank(sym);
    if (rank == 0)
        return 0;
    for (size_t i = 0; i < q->count; i++) {
        if (rank > q->best[i] && q->names[i] && strcmp(name, q->names[i]) == 0) {
            q->best[i] = (unsigned char)rank;
            q->values[i] = sym->st_value;
            if (q->sizes)
                q->sizes[i] = sym->st_size;
        }
    }
    return 0;
}

int hs_elf_symbols(const char *path, const char *const *names, uint64_t *values,
                   uint64_t *sizes, size_t count, char *err, size_t errlen) {
    for (size_t i = 0; i < count; i++) {
        values[i] = 0;
        if (sizes)
            sizes[i] = 0;
    }
    elf_file f;
    if (elf_open(&f, path, err, errlen) != 0)
        return -1;
    unsigned char *best = calloc(count ? count : 1, 1);
    if (!best) {
        elf_close(&f);
        return fail(&f, "out of memory");
    }
    symbol_lookup lookup = {names, values, sizes, best, count};
    int rc = 0;
    for (uint64_t s = 0; s < f.shnum && rc == 0; s++) {
        elf64_shdr sh;
        if (read_shdr(&f, s, &sh) != 0) {
            rc = fail(&f, "read error in the section headers");
            break;
        }
        if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
            rc = each_symbol(&f, &sh, look_up, &lookup);
    }
    int found = 0;
    for (size_t i = 0; i < count; i++)
        found += best[i] != 0;
    if (rc != 0) {
        /* Nothing half-found leaks out of a failure. */
        for (size_t i = 0; i < count; i++) {
            values[i] = 0;
            if (sizes)
                sizes[i] = 0;
        }
    }
    free(best);
    elf_close(&f);
    return rc != 0 ? -1 : found;
}

/* ---- functions by address ---------------------------------------------- */

typedef struct {
    hs_elf_func *funcs;
    size_t count, cap;
    char *names;
    size_t names_len, names_cap;
} func_list;

static int add_func(func_list *l, uint64_t value, uint64_t size, const char *name) {
    size_t len = strlen(name) + 1;
    if (l->names_len + len > UINT32_MAX)
        return -1;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        hs_elf_func *grown = realloc(l->funcs, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->funcs = grown;
        l->cap = cap;
    }
    if (l->names_len + len > l->names_cap) {
        size_t cap = l->names_cap ? l->names_cap : 16384;
        while (cap < l->names_len + len)
            cap *= 2;
        char *grown = realloc(l->names, cap);
        if (!grown)
            return -1;
        l->names = grown;
        l->names_cap = cap;
    }
    memcpy(l->names + l->names_len, name, len);
    l->funcs[l->count++] = (hs_elf_func){value, size, (uint32_t)l->names_len};
    l->names_len += len;
    return 0;
}

/* Collects the defined, sized functions of a symbol table section. */
static int collect_function(elf_file *f, void *ctx, const elf64_sym *sym, const char *name) {
    unsigned type = sym->st_info & 0xf;
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym->st_shndx == SHN_UNDEF || !sym->st_size)
        return 0;
    return add_func(ctx, sym->st_value, sym->st_size, name) != 0 ? fail(f, "out of memory") : 0;
}

static int cmp_func(const void *a, const void *b) {
    const hs_elf_func *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->name > y->name) - (x->name < y->name); /* a total order: qsort is not stable */
}

int hs_elf_functions(const char *path, hs_elf_func **funcs, size_t *count, char **names,
                     char *err, size_t errlen) {
    *funcs = NULL;
    *names = NULL;
    *count = 0;
    elf_file f;
    if (elf_open(&f, path, err, errlen) != 0)
        return -1;
    func_list l = {NULL, 0, 0, NULL, 0, 0};
    int rc = 0;
    for (uint64_t s = 0; s < f.shnum && rc == 0; s++) {
        elf64_shdr sh;
        if (read_shdr(&f, s, &sh) != 0)
            rc = fail(&f, "read error in the section headers");
        else if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
            rc = each_symbol(&f, &sh, collect_function, &l);
    }
    elf_close(&f);
    if (rc != 0) {
        free(l.funcs);
        free(l.names);
        return -1;
    }
    if (l.count)
        qsort(l.funcs, l.count, sizeof *l.funcs, cmp_func);
    *funcs = l.funcs;
    *names = l.names;
    *count = l.count;
    return 0;
}

const char *hs_elf_function_at(const hs_elf_func *funcs, size_t count, const char *names,
                               uint64_t at) {
    size_t lo = 0, hi = count;
    while (lo < hi) { /* the first function starting after `at` */
        size_t mid = lo + (hi - lo) / 2;
        if (funcs[mid].value <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, looked = 0; i-- > 0 && looked < 64; looked++)
        if (at - funcs[i].value < funcs[i].size)
            return names + funcs[i].name;
    return NULL;
}

/* Section `name`'s header, in an open file. 1 found, 0 absent, -1 error. */
static int find_section(elf_file *f, const char *name, elf64_shdr *out) {
    if (f->shnum == 0)
        return 0; /* no section headers (stripped of them): nothing to find */
    elf64_shdr names_sh;
    char *names = NULL;
    if (f->shstrndx == SHN_UNDEF || read_shdr(f, f->shstrndx, &names_sh) != 0 ||
        (names = load_strtab(f, &names_sh)) == NULL)
        return fail(f, "corrupt section name table");
    int rc = 0;
    for (uint64_t s = 0; s < f->shnum; s++) {
        elf64_shdr sh;
        if (read_shdr(f, s, &sh) != 0) {
            rc = fail(f, "read error in the section headers");
            break;
        }
        if (sh.sh_name < names_sh.sh_size && strcmp(names + sh.sh_name, name) == 0) {
            *out = sh;
            rc = 1;
            break;
        }
    }
    free(names);
    return rc;
}

/* elf_open, for a reader of the program headers: also checks they can be
 * read (their entry size and extent). 0, or -1 closed with the error. */
static int elf_open_segments(elf_file *f, const char *path, char *err, size_t errlen) {
    if (elf_open(f, path, err, errlen) != 0)
        return -1;
    if (f->phnum > 0 && f->eh.e_phentsize == sizeof(elf64_phdr) &&
        f->phnum <= f->size / sizeof(elf64_phdr) && in_file(f, f->eh.e_phoff, f->phnum * sizeof(elf64_phdr)))
        return 0;
    elf_close(f);
    return fail(f, "no usable program headers");
}

int hs_elf_eh_frame(const char *path, hs_elf_eh_frame_copy *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    elf_file f;
    if (elf_open_segments(&f, path, err, errlen) != 0)
        return -1;
    /* .eh_frame_hdr from its program header (what the loader and every
     * unwinder go by), and the loadable segment that holds it. */
    elf64_phdr hdr = {0}, seg = {0};
    int have_hdr = 0;
    for (uint64_t i = 0; i < f.phnum; i++) {
        elf64_phdr ph;
        if (read_at(&f, f.eh.e_phoff + i * sizeof ph, &ph, sizeof ph) != 0)
            break;
        if (ph.p_type == PT_GNU_EH_FRAME) {
            hdr = ph;
            have_hdr = 1;
        }
    }
    int found = 0;
    for (uint64_t i = 0; have_hdr && i < f.phnum && !found; i++) {
        elf64_phdr ph;
        if (read_at(&f, f.eh.e_phoff + i * sizeof ph, &ph, sizeof ph) != 0)
            break;
        if (ph.p_type == PT_LOAD && hdr.p_vaddr >= ph.p_vaddr &&
            hdr.p_vaddr - ph.p_vaddr < ph.p_filesz) {
            seg = ph;
            found = 1;
        }
    }
    if (!found) {
        elf_close(&f);
        return 0;
    }
    /* .eh_frame by its section header when there is one; else everything
     * from .eh_frame_hdr to the end of its segment, where linkers put it. */
    uint64_t lo = hdr.p_vaddr, hi = seg.p_vaddr + seg.p_filesz;
    elf64_shdr eh = {0};
    int have_eh = find_section(&f, ".eh_frame", &eh);
    if (have_eh < 0) {
        elf_close(&f);
        return -1;
    }
    if (have_eh && eh.sh_addr >= seg.p_vaddr && eh.sh_addr - seg.p_vaddr < seg.p_filesz &&
        eh.sh_size <= seg.p_vaddr + seg.p_filesz - eh.sh_addr) {
        uint64_t hdr_end = hdr.p_vaddr + hdr.p_filesz;
        lo = eh.sh_addr < lo ? eh.sh_addr : lo;
        hi = eh.sh_addr + eh.sh_size > hdr_end ? eh.sh_addr + eh.sh_size : hdr_end;
    }
    uint64_t offset = seg.p_offset + (lo - seg.p_vaddr);
    if (hi <= lo || hi - lo > (256u << 20) || !in_file(&f, offset, hi - lo)) {
        elf_close(&f);
        return fail(&f, "truncated or corrupt (.eh_frame beyond the end)");
    }
    out->bytes = malloc((size_t)(hi - lo));
    if (!out->bytes) {
        elf_close(&f);
        return fail(&f, "out of memory");
    }
    if (read_at(&f, offset, out->bytes, (size_t)(hi - lo)) != 0) {
        free(out->bytes);
        out->bytes = NULL;
        elf_close(&f);
        return fail(&f, "read error in .eh_frame");
    }
    out->start = lo;
    out->len = hi - lo;
    out->hdr = hdr.p_vaddr;
    elf_close(&f);
    return 1;
}

int hs_elf_section(const char *path, const char *name, uint64_t *vaddr, uint64_t *size,
                   char *err, size_t errlen) {
    *vaddr = 0;
    *size = 0;
    elf_file f;
    if (elf_open(&f, path, err, errlen) != 0)
        return -1;
    elf64_shdr sh = {0};
    int rc = find_section(&f, name, &sh);
    if (rc == 1) {
        *vaddr = sh.sh_addr;
        *size = sh.sh_size;
    }
    elf_close(&f);
    return rc;
}

int hs_elf_load_bias(const char *path, uint64_t map_start, uint64_t map_offset,
                     uint64_t *bias, char *err, size_t errlen) {
    *bias = 0;
    elf_file f;
    if (elf_open_segments(&f, path, err, errlen) != 0)
        return -1;
    /* The loader maps each PT_LOAD from its offset rounded down to a page
     * (p_offset and p_vaddr agree modulo the page size, gABI "Program
     * Header"), so a mapping's file offset is page-aligned and may start
     * before p_offset.
     *
     * One file page can belong to two segments: the last page of one and
     * the first of the next, which the loader maps twice, at different
     * addresses when the linker put a gap between the segments in the
     * address space (GNU ld does between read-only data and RELRO data).
     * A mapping that starts on such a page is the later segment's own
     * first mapping, since the earlier segment's mapping starts further
     * back; so a segment whose rounded-down start is exactly map_offset
     * wins over one that merely contains it. */
    long page = sysconf(_SC_PAGESIZE);
    uint64_t page_mask = ~((uint64_t)(page > 0 ? page : 4096) - 1);
    int found = 0; /* 2: segment starts at map_offset; 1: contains it */
    for (uint64_t i = 0; i < f.phnum && found < 2; i++) {
        elf64_phdr ph;
        if (read_at(&f, f.eh.e_phoff + i * sizeof ph, &ph, sizeof ph) != 0)
            break;
        if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
            continue;
        uint64_t seg_start = ph.p_offset & page_mask, seg_end = ph.p_offset + ph.p_filesz;
        if (seg_end < ph.p_offset)
            continue; /* corrupt: wraps around */
        if (map_offset < seg_start || map_offset >= seg_end)
            continue;
        int match = seg_start == map_offset ? 2 : 1;
        if (match <= found)
            continue;
        found = match;
        /* File offset o of this segment is at runtime address
         * bias + p_vaddr + (o - p_offset); the mapping puts o = map_offset
         * at map_start. Solving for bias (modulo 2^64, so a segment whose
         * p_vaddr is below p_offset works too): */
        *bias = map_start - map_offset - (ph.p_vaddr - ph.p_offset);
    }
    int rc = found ? 0 : -1;
    if (rc != 0)
        fail(&f, "no loadable segment contains file offset 0x%llx",
             (unsigned long long)map_offset);
    elf_close(&f);
    return rc;
}
