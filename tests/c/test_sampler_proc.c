/*
 * test_sampler_proc.c - tests of the sampler's process and ELF readers
 * (src/sampler/proc.c, src/sampler/elf.c). Built and run by
 * tests/test_c_sampler_proc.py, under AddressSanitizer and UBSan where the
 * compiler has them, once as a PIE and once as a non-PIE executable.
 *
 * The ground truth is the running test itself, never hard-coded numbers:
 * its own memory read back through the same interface the sampler uses
 * on a target, a forked child writing a pattern the parent's copy of the
 * memory does not have, symbol addresses from the ELF file plus the load
 * bias compared with &symbol and with dlsym, and threads whose state we
 * control (spinning, blocked in read()).
 *
 * A failed CHECK reports and carries on, so one run shows every failure;
 * main() exits 1 if any failed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/sampler/elf.h"
#include "../../src/sampler/proc.h"

static int passed, failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_U64(a, b)                                                        \
    do {                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                       \
        if (a_ == b_) {                                                        \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "%s:%d: %s == 0x%" PRIx64 ", expected %s == 0x%"   \
                    PRIx64 "\n", __FILE__, __LINE__, #a, a_, #b, b_);          \
        }                                                                      \
    } while (0)

/* Symbols the ELF tests look up in this executable's own symbol table.
 * Global (not static) so they appear as STB_GLOBAL definitions. */
int hs_test_global_variable[7] = {3, 1, 4, 1, 5, 9, 2};
int hs_test_global_function(int x);
__attribute__((noinline)) int hs_test_global_function(int x) {
    return x * 3 + hs_test_global_variable[x & 3];
}

/* A page of this process that the child overwrites after fork: the
 * parent's copy stays zero, so reading the pattern proves we read the
 * child's memory, not our own. */
static unsigned char child_pattern[4096];

/* ---- helpers --------------------------------------------------------- */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pid_t current_tid(void) {
    return (pid_t)syscall(SYS_gettid);
}

static int contains_pid(const pid_t *list, size_t n, pid_t pid) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == pid)
            return 1;
    return 0;
}

/* Polls a thread's state until it is `want` (or 2 s pass); the last state. */
static char wait_for_state(pid_t pid, pid_t tid, char want) {
    hs_thread_state st = {0};
    for (int i = 0; i < 200; i++) {
        if (hs_proc_thread_state(pid, tid, &st) == 0 && st.state == want)
            return want;
        sleep_ms(10);
    }
    return st.state;
}

/* The mapping with the lowest file offset of `path`: the one that anchors
 * the load bias, as the sampler picks it. */
static const hs_mapping *lowest_mapping(const hs_mapping *maps, size_t n, const char *path) {
    const hs_mapping *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(maps[i].path, path) == 0 && (!best || maps[i].offset < best->offset))
            best = &maps[i];
    return best;
}

static const hs_mapping *mapping_containing(const hs_mapping *maps, size_t n, uint64_t addr) {
    for (size_t i = 0; i < n; i++)
        if (addr >= maps[i].start && addr < maps[i].end)
            return &maps[i];
    return NULL;
}

static int write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = len ? write(fd, data, len) : 0;
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/* Reads a whole file into a malloc'ed buffer. */
static unsigned char *read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    unsigned char *data = NULL;
    if (fstat(fd, &st) == 0 && (data = malloc((size_t)st.st_size + 1)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        *len = got;
    }
    close(fd);
    return data;
}

static char tmpdir[64];

static void tmp_path(char *out, size_t outlen, const char *name) {
    snprintf(out, outlen, "%s/%s", tmpdir, name);
}

/* ---- reading our own memory ----------------------------------------- */

static void test_read_self(void) {
    hs_proc p;
    char err[256] = "";
    CHECK(hs_proc_open(&p, getpid(), err, sizeof err) == 0);
    CHECK(p.self == 1 && p.pid == getpid());

    static unsigned char source[8192];
    for (size_t i = 0; i < sizeof source; i++)
        source[i] = (unsigned char)(i * 31 + 7);
    unsigned char out[8192];
    memset(out, 0, sizeof out);
    CHECK(hs_proc_read(&p, (uintptr_t)source, out, sizeof out) == 0);
    CHECK(memcmp(out, source, sizeof source) == 0);
    CHECK(hs_proc_read(&p, (uintptr_t)source, out, 0) == 0);

    /* Several ranges at once, including an empty one. */
    unsigned char a[16], b[100], c[1];
    hs_remote_iov iov[4] = {
        {(uintptr_t)(source + 5), a, sizeof a},
        {(uintptr_t)(source + 1000), b, sizeof b},
        {(uintptr_t)(source + 7), NULL, 0},
        {(uintptr_t)(source + 8191), c, sizeof c},
    };
    CHECK(hs_proc_readv(&p, iov, 4) == 4);
    CHECK(memcmp(a, source + 5, sizeof a) == 0 && memcmp(b, source + 1000, sizeof b) == 0 &&
          c[0] == source[8191]);
    CHECK(hs_proc_readv(&p, iov, 0) == 0);

    /* Two pages, the second unmapped: ranges up to the end of the first
     * page read; a range straddling into the second fails, and so does
     * everything after it. */
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *pages = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED);
    if (pages == MAP_FAILED)
        return;
    for (long i = 0; i < page; i++)
        pages[i] = (unsigned char)(i ^ 0x5a);
    CHECK(munmap(pages + page, (size_t)page) == 0);
    uint64_t page_end = (uintptr_t)pages + (uint64_t)page;

    unsigned char tail[8], straddle[16], after[4];
    CHECK(hs_proc_read(&p, page_end - 8, tail, 8) == 0);
    CHECK(memcmp(tail, pages + page - 8, 8) == 0);
    errno = 0;
    CHECK(hs_proc_read(&p, page_end - 8, straddle, sizeof straddle) == -1 && errno == EFAULT);
    errno = 0;
    CHECK(hs_proc_read(&p, page_end, straddle, sizeof straddle) == -1 && errno == EFAULT);
    errno = 0;
    CHECK(hs_proc_read(&p, 0, straddle, 1) == -1 && errno == EFAULT);

    hs_remote_iov mixed[4] = {
        {(uintptr_t)source, a, sizeof a},
        {page_end - 8, tail, sizeof tail},
        {page_end - 8, straddle, sizeof straddle},
        {(uintptr_t)source, after, sizeof after},
    };
    CHECK(hs_proc_readv(&p, mixed, 4) == 2);
    hs_remote_iov bad_first[2] = {
        {page_end, straddle, sizeof straddle},
        {(uintptr_t)source, after, sizeof after},
    };
    CHECK(hs_proc_readv(&p, bad_first, 2) == 0);

    /* More ranges than one system call takes in a batch: all read, and a
     * bad one far in stops the count exactly there. */
    enum { MANY = 1500 };
    static hs_remote_iov many[MANY];
    static uint32_t values[MANY];
    for (size_t i = 0; i < MANY; i++) {
        values[i] = 0;
        many[i].addr = (uintptr_t)(source + (i * 4) % (sizeof source - 4));
        many[i].buf = &values[i];
        many[i].len = sizeof values[i];
    }
    CHECK(hs_proc_readv(&p, many, MANY) == MANY);
    int all_match = 1;
    for (size_t i = 0; i < MANY; i++)
        all_match &= memcmp(&values[i], source + (i * 4) % (sizeof source - 4), 4) == 0;
    CHECK(all_match);
    many[1300].addr = page_end - 2;
    CHECK(hs_proc_readv(&p, many, MANY) == 1300);
    many[1300].addr = (uintptr_t)source;
    many[200].addr = page_end;
    CHECK(hs_proc_readv(&p, many, MANY) == 200);

    munmap(pages, (size_t)page);
}

/* ---- /proc/PID/maps and paths ---------------------------------------- */

static void test_maps_self(char **argv) {
    hs_mapping *maps = NULL;
    size_t n = 0;
    CHECK(hs_proc_maps(getpid(), &maps, &n) == 0);
    CHECK(n > 5);

    /* argv strings live on the initial stack. */
    const hs_mapping *stack = mapping_containing(maps, n, (uintptr_t)argv[0]);
    CHECK(stack && strcmp(stack->path, "[stack]") == 0 && strncmp(stack->perms, "rw", 2) == 0);
    const hs_mapping *code = mapping_containing(maps, n, (uintptr_t)&hs_test_global_function);
    CHECK(code && code->perms[0] == 'r' && code->perms[2] == 'x' && code->path[0] == '/');
    int sorted = 1;
    for (size_t i = 1; i < n; i++)
        sorted &= maps[i - 1].end <= maps[i].start && maps[i - 1].start < maps[i - 1].end;
    CHECK(sorted);
    free(maps);

    /* A file whose path has spaces and parentheses, mapped at a nonzero
     * offset, then deleted while mapped. */
    char path[PATH_MAX];
    tmp_path(path, sizeof path, "odd name) (x");
    long page = sysconf(_SC_PAGESIZE);
    size_t size = 3 * (size_t)page;
    unsigned char *content = calloc(1, size);
    CHECK(content && write_file(path, content, size) == 0);
    free(content);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    void *mapped = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, fd, 2 * page);
    CHECK(mapped != MAP_FAILED);
    if (fd >= 0)
        close(fd);
    if (mapped == MAP_FAILED)
        return;
    CHECK(hs_proc_maps(getpid(), &maps, &n) == 0);
    const hs_mapping *m = mapping_containing(maps, n, (uintptr_t)mapped);
    CHECK(m && strcmp(m->path, path) == 0);
    CHECK(m && m->offset == (uint64_t)(2 * page) && strcmp(m->perms, "r--p") == 0);
    CHECK(m && m->start == (uintptr_t)mapped && m->end == (uintptr_t)mapped + (uint64_t)page);
    free(maps);

    /* Through /proc/PID/root, which exists for ourselves. */
    char rooted[PATH_MAX + 64], expect[PATH_MAX + 64];
    hs_proc_path(getpid(), path, rooted, sizeof rooted);
    snprintf(expect, sizeof expect, "/proc/%d/root%s", (int)getpid(), path);
    CHECK(strcmp(rooted, expect) == 0);
    hs_proc_path(getpid(), "[heap]", rooted, sizeof rooted);
    CHECK(strcmp(rooted, "[heap]") == 0);
    hs_proc_path(getpid(), "/hs/no/such/file", rooted, sizeof rooted);
    CHECK(strcmp(rooted, "/hs/no/such/file") == 0);
    char tiny[8];
    hs_proc_path(getpid(), path, tiny, sizeof tiny);
    CHECK(strlen(tiny) == sizeof tiny - 1);

    CHECK(unlink(path) == 0);
    CHECK(hs_proc_maps(getpid(), &maps, &n) == 0);
    m = mapping_containing(maps, n, (uintptr_t)mapped);
    snprintf(expect, sizeof expect, "%s (deleted)", path);
    CHECK(m && strcmp(m->path, expect) == 0);
    free(maps);
    munmap(mapped, (size_t)page);
}

/* ---- ELF: this executable and libc ------------------------------------ */

/* e_type of an ELF file (gABI "ELF Header": 2 bytes at offset 16). */
static int elf_type(const char *path) {
    uint16_t type = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, &type, sizeof type, 16);
    close(fd);
    return n == sizeof type ? type : -1;
}

static void test_elf_self(void) {
    char exe[PATH_MAX], real_exe[PATH_MAX];
    CHECK(hs_proc_exe(getpid(), exe, sizeof exe) == 0);
    ssize_t len = readlink("/proc/self/exe", real_exe, sizeof real_exe - 1);
    CHECK(len > 0);
    real_exe[len > 0 ? len : 0] = '\0';
    CHECK(strcmp(exe, real_exe) == 0);
    char small[4];
    CHECK(hs_proc_exe(getpid(), small, sizeof small) == -1);

    const char *names[] = {"hs_test_global_function", "hs_test_global_variable",
                           "hs_test_no_such_symbol", "hs_test_global"};
    uint64_t values[4] = {1, 1, 1, 1}, sizes[4] = {1, 1, 1, 1};
    char err[256] = "";
    int found = hs_elf_symbols(exe, names, values, sizes, 4, err, sizeof err);
    CHECK(found == 2);
    if (found < 0)
        fprintf(stderr, "  hs_elf_symbols: %s\n", err);
    CHECK(values[2] == 0 && values[3] == 0 && sizes[2] == 0 && sizes[3] == 0);
    CHECK(sizes[0] > 0 && sizes[1] >= sizeof hs_test_global_variable);

    hs_mapping *maps = NULL;
    size_t n = 0;
    CHECK(hs_proc_maps(getpid(), &maps, &n) == 0);
    const hs_mapping *anchor = lowest_mapping(maps, n, exe);
    CHECK(anchor != NULL);
    if (anchor) {
        uint64_t bias = 12345;
        CHECK(hs_elf_load_bias(exe, anchor->start, anchor->offset, &bias, err, sizeof err) == 0);
        CHECK_U64(values[0] + bias, (uintptr_t)&hs_test_global_function);
        CHECK_U64(values[1] + bias, (uintptr_t)hs_test_global_variable);

        /* Every mapping of the file gives the same bias. */
        int consistent = 1;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(maps[i].path, exe) != 0)
                continue;
            uint64_t b = 0;
            int rc = hs_elf_load_bias(exe, maps[i].start, maps[i].offset, &b, err, sizeof err);
            if (rc != 0 || b != bias) {
                consistent = 0;
                fprintf(stderr, "  mapping %" PRIx64 "-%" PRIx64 " %s offset 0x%" PRIx64
                        ": rc %d, bias 0x%" PRIx64 " %s\n", maps[i].start, maps[i].end,
                        maps[i].perms, maps[i].offset, rc, b, rc ? err : "");
            }
        }
        CHECK(consistent);

        int type = elf_type(exe);
        CHECK(type == 2 || type == 3); /* ET_EXEC or ET_DYN */
        if (type == 2)
            CHECK_U64(bias, 0); /* non-PIE: loaded at its link addresses */
        else
            CHECK(bias != 0);
        printf("# executable is %s, load bias 0x%" PRIx64 "\n",
               type == 2 ? "ET_EXEC (non-PIE)" : "ET_DYN (PIE)", bias);

        /* .text holds our function. */
        uint64_t text = 0, text_size = 0;
        CHECK(hs_elf_section(exe, ".text", &text, &text_size, err, sizeof err) == 1);
        uint64_t fn = (uintptr_t)&hs_test_global_function;
        CHECK(fn >= text + bias && fn < text + bias + text_size);
        CHECK(hs_elf_section(exe, ".hs_no_such_section", &text, &text_size, err, sizeof err) ==
              0);
        CHECK(text == 0 && text_size == 0);

        /* A file offset no segment covers. */
        err[0] = '\0';
        CHECK(hs_elf_load_bias(exe, anchor->start, UINT64_C(1) << 50, &bias, err, sizeof err) ==
              -1);
        CHECK(err[0] != '\0');
    }
    free(maps);

    /* The same lookups through /proc/PID/root. */
    char rooted[PATH_MAX + 64];
    hs_proc_path(getpid(), exe, rooted, sizeof rooted);
    uint64_t again[4];
    CHECK(hs_elf_symbols(rooted, names, again, NULL, 4, err, sizeof err) == 2);
    CHECK(again[0] == values[0] && again[1] == values[1]);
}

static void test_elf_libc(void) {
    /* dlsym on libc's own handle, not RTLD_DEFAULT: under AddressSanitizer
     * the default scope finds the sanitizer's malloc first. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    CHECK(libc != NULL);
    if (!libc)
        return;
    void *libc_malloc = dlsym(libc, "malloc"), *libc_free = dlsym(libc, "free");
    CHECK(libc_malloc != NULL && libc_free != NULL);

    hs_mapping *maps = NULL;
    size_t n = 0;
    CHECK(hs_proc_maps(getpid(), &maps, &n) == 0);
    const hs_mapping *code = mapping_containing(maps, n, (uintptr_t)libc_malloc);
    CHECK(code != NULL);
    if (code) {
        const hs_mapping *anchor = lowest_mapping(maps, n, code->path);
        char local[PATH_MAX + 64], err[256] = "";
        hs_proc_path(getpid(), code->path, local, sizeof local);
        const char *names[] = {"malloc", "free", "mallo", "hs_test_global_function"};
        uint64_t values[4];
        int found = hs_elf_symbols(local, names, values, NULL, 4, err, sizeof err);
        CHECK(found == 2);
        if (found < 0)
            fprintf(stderr, "  hs_elf_symbols(%s): %s\n", local, err);
        uint64_t bias = 0;
        CHECK(anchor &&
              hs_elf_load_bias(local, anchor->start, anchor->offset, &bias, err, sizeof err) == 0);
        CHECK_U64(values[0] + bias, (uintptr_t)libc_malloc);
        CHECK_U64(values[1] + bias, (uintptr_t)libc_free);
        /* libc's first segment is at address 0, so its bias is where it
         * was mapped, which is also what dladdr reports as its base. */
        Dl_info info;
        CHECK(dladdr(libc_malloc, &info) != 0 && (uintptr_t)info.dli_fbase == bias);
        int consistent = 1;
        for (size_t i = 0; i < n; i++) {
            uint64_t b = 0;
            if (strcmp(maps[i].path, code->path) == 0)
                consistent &= hs_elf_load_bias(local, maps[i].start, maps[i].offset, &b, err,
                                               sizeof err) == 0 && b == bias;
        }
        CHECK(consistent);
        printf("# libc: %s, load bias 0x%" PRIx64 "\n", code->path, bias);
    }
    free(maps);
    dlclose(libc);
}

/* ---- malformed ELF files ----------------------------------------------- */

/* Runs every ELF entry point on a file and checks only that each answers
 * within its contract; AddressSanitizer does the rest. Returns the
 * symbol lookup's result. */
static int probe_elf(const char *path) {
    const char *names[] = {"hs_test_global_function", "malloc", "main"};
    uint64_t values[3], sizes[3], vaddr, size, bias;
    char err[128];
    int found = hs_elf_symbols(path, names, values, sizes, 3, err, sizeof err);
    int ok = found >= -1 && found <= 3;
    int sec = hs_elf_section(path, ".symtab", &vaddr, &size, err, sizeof err);
    ok &= sec >= -1 && sec <= 1;
    int lb = hs_elf_load_bias(path, 0x400000, 0, &bias, err, sizeof err);
    ok &= lb == 0 || lb == -1;
    CHECK(ok);
    return found;
}

static void test_elf_bad_files(void) {
    char path[PATH_MAX], err[256];
    const char *names[] = {"malloc"};
    uint64_t values[1] = {7}, vaddr, size, bias;

    tmp_path(path, sizeof path, "not_elf");
    const char text[] = "hello, this is not an ELF file at all, though it is long enough\n";
    CHECK(write_file(path, text, sizeof text - 1) == 0);
    err[0] = '\0';
    CHECK(hs_elf_symbols(path, names, values, NULL, 1, err, sizeof err) == -1);
    CHECK(strstr(err, "not an ELF file") != NULL && values[0] == 0);
    CHECK(hs_elf_section(path, ".text", &vaddr, &size, err, sizeof err) == -1);
    CHECK(hs_elf_load_bias(path, 0, 0, &bias, err, sizeof err) == -1);

    tmp_path(path, sizeof path, "empty");
    CHECK(write_file(path, "", 0) == 0);
    CHECK(hs_elf_symbols(path, names, values, NULL, 1, err, sizeof err) == -1);
    CHECK(hs_elf_section(path, ".text", &vaddr, &size, err, sizeof err) == -1);
    CHECK(hs_elf_load_bias(path, 0, 0, &bias, err, sizeof err) == -1);

    /* A 32-bit ELF header. */
    unsigned char elf32[64] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
    tmp_path(path, sizeof path, "elf32");
    CHECK(write_file(path, elf32, sizeof elf32) == 0);
    err[0] = '\0';
    CHECK(hs_elf_symbols(path, names, values, NULL, 1, err, sizeof err) == -1);
    CHECK(strstr(err, "64-bit") != NULL);

    err[0] = '\0';
    CHECK(hs_elf_symbols("/hs/no/such/file", names, values, NULL, 1, err, sizeof err) == -1);
    CHECK(strstr(err, "cannot open") != NULL);
    CHECK(hs_elf_symbols(tmpdir, names, values, NULL, 1, err, sizeof err) == -1);
    /* A zero-length error buffer is allowed. */
    CHECK(hs_elf_symbols("/hs/no/such/file", names, values, NULL, 1, NULL, 0) == -1);

    size_t exe_len = 0;
    unsigned char *exe = read_file("/proc/self/exe", &exe_len);
    CHECK(exe != NULL && exe_len > 4096);
    if (!exe)
        return;

    /* The first 100 bytes: a whole ELF header whose tables lie beyond. */
    tmp_path(path, sizeof path, "truncated");
    CHECK(write_file(path, exe, 100) == 0);
    err[0] = '\0';
    CHECK(hs_elf_symbols(path, names, values, NULL, 1, err, sizeof err) == -1);
    CHECK(err[0] != '\0');
    CHECK(hs_elf_section(path, ".text", &vaddr, &size, err, sizeof err) == -1);
    CHECK(hs_elf_load_bias(path, 0, 0, &bias, err, sizeof err) == -1);

    /* Cut at many lengths, including around each table's edges. */
    uint64_t shoff, phoff, shnum = 0;
    memcpy(&phoff, exe + 32, 8);
    memcpy(&shoff, exe + 40, 8);
    memcpy(&shnum, exe + 60, 2);
    size_t cuts[] = {1, 4, 5, 16, 63, 64, 65, 119, 120, 4096, (size_t)phoff + 55,
                     (size_t)shoff, (size_t)shoff + 63, (size_t)shoff + 64, exe_len / 2,
                     exe_len - 64, exe_len - 1};
    int full_failed = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        if (cuts[i] >= exe_len)
            continue;
        CHECK(write_file(path, exe, cuts[i]) == 0);
        int found = probe_elf(path);
        if (cuts[i] < shoff + shnum * 64) /* section headers incomplete */
            full_failed |= found != -1;
    }
    CHECK(!full_failed);

    /* Random corruption, concentrated in the headers: the lookups may
     * succeed or fail but must stay in bounds. The copy is patched in
     * place and restored after each round. */
    tmp_path(path, sizeof path, "corrupt");
    CHECK(write_file(path, exe, exe_len) == 0);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int round = 0; fd >= 0 && round < 400; round++) {
        size_t where[8];
        int count = 1 + (int)(rng % 8);
        for (int k = 0; k < count; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
            size_t pos;
            switch (rng % 4) {
            case 0:
                pos = (size_t)(rng >> 8) % 64; /* ELF header */
                break;
            case 1:
                pos = (size_t)phoff + (size_t)(rng >> 8) % (56 * 12);
                break;
            default:
                pos = (size_t)shoff + (size_t)(rng >> 8) % (size_t)(shnum * 64 + 1);
                break;
            }
            if (pos >= exe_len)
                pos = (size_t)(rng >> 8) % exe_len;
            where[k] = pos;
            unsigned char junk = (unsigned char)(rng >> 32);
            if (rng & 0x100)
                junk = (rng & 0x200) ? 0xff : 0;
            if (pwrite(fd, &junk, 1, (off_t)pos) != 1)
                failed++;
        }
        probe_elf(path);
        for (int k = 0; k < count; k++)
            if (pwrite(fd, exe + where[k], 1, (off_t)where[k]) != 1)
                failed++;
    }
    if (fd >= 0)
        close(fd);
    CHECK(probe_elf(path) >= 1); /* restored intact: the real lookups work */
    free(exe);
}

/* ---- a child process -------------------------------------------------- */

static void test_child(void) {
    int to_parent[2], to_child[2];
    CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0);
    memset(child_pattern, 0, sizeof child_pattern);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child < 0)
        return;
    if (child == 0) {
        /* A command name with spaces and ')' exercises stat parsing. */
        prctl(PR_SET_NAME, "hs) kid (x", 0, 0, 0);
        for (size_t i = 0; i < sizeof child_pattern; i++)
            child_pattern[i] = (unsigned char)(i * 7 + 3);
        uint64_t addr = (uintptr_t)child_pattern;
        char go;
        if (write(to_parent[1], &addr, sizeof addr) != sizeof addr)
            _exit(2);
        _exit(read(to_child[0], &go, 1) == 1 ? 0 : 3);
    }
    close(to_parent[1]);
    close(to_child[0]);
    uint64_t addr = 0;
    CHECK(read(to_parent[0], &addr, sizeof addr) == sizeof addr);
    close(to_parent[0]);
    CHECK(addr == (uintptr_t)child_pattern);

    hs_proc p;
    char err[256] = "";
    CHECK(hs_proc_open(&p, child, err, sizeof err) == 0);
    if (err[0])
        fprintf(stderr, "  hs_proc_open(child): %s\n", err);
    CHECK(p.self == 0 && p.pid == child);
    unsigned char got[sizeof child_pattern];
    memset(got, 0, sizeof got);
    CHECK(hs_proc_read(&p, addr, got, sizeof got) == 0);
    int same = 1;
    for (size_t i = 0; i < sizeof got; i++)
        same &= got[i] == (unsigned char)(i * 7 + 3);
    CHECK(same);
    CHECK(child_pattern[1] == 0); /* our own copy was never written */
    unsigned char first[10], second[20];
    hs_remote_iov iov[2] = {{addr, first, sizeof first}, {addr + 100, second, sizeof second}};
    CHECK(hs_proc_readv(&p, iov, 2) == 2);
    CHECK(first[9] == got[9] && second[0] == got[100] && second[19] == got[119]);

    CHECK(hs_proc_alive(child) == 1);
    pid_t *kids = NULL;
    size_t nkids = 0;
    CHECK(hs_proc_children(getpid(), &kids, &nkids) == 0);
    CHECK(contains_pid(kids, nkids, child));
    free(kids);
    CHECK(hs_proc_children(child, &kids, &nkids) == 0 && nkids == 0);
    free(kids);

    char comm[32] = "";
    CHECK(hs_proc_thread_comm(child, child, comm, sizeof comm) == 0);
    CHECK(strcmp(comm, "hs) kid (x") == 0);
    CHECK(wait_for_state(child, child, 'S') == 'S');
    pid_t *tids = NULL;
    size_t ntids = 0;
    CHECK(hs_proc_threads(child, &tids, &ntids) == 0 && ntids == 1 && tids[0] == child);
    free(tids);
    char exe[PATH_MAX], own[PATH_MAX];
    CHECK(hs_proc_exe(child, exe, sizeof exe) == 0 && hs_proc_exe(getpid(), own, sizeof own) == 0 &&
          strcmp(exe, own) == 0);

    CHECK(write(to_child[1], "g", 1) == 1);
    close(to_child[1]);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The child is reaped: its pid names no process now (a reuse within
     * these few microseconds would need the pid space to wrap). */
    errno = 0;
    CHECK(hs_proc_read(&p, addr, got, 8) == -1 && errno == ESRCH);
    CHECK(hs_proc_alive(child) == 0);
    err[0] = '\0';
    CHECK(hs_proc_open(&p, child, err, sizeof err) == -1 && errno == ESRCH);
    char expect[64];
    snprintf(expect, sizeof expect, "no process with PID %d", (int)child);
    CHECK(strcmp(err, expect) == 0);
    hs_mapping *maps = NULL;
    size_t n = 0;
    CHECK(hs_proc_maps(child, &maps, &n) == -1 && maps == NULL && n == 0);
    CHECK(hs_proc_threads(child, &tids, &ntids) == -1 && tids == NULL);
    hs_thread_state st;
    CHECK(hs_proc_thread_state(child, child, &st) == -1);
    CHECK(hs_proc_thread_comm(child, child, comm, sizeof comm) == -1);
    CHECK(hs_proc_exe(child, exe, sizeof exe) == -1);

    CHECK(hs_proc_open(&p, -5, err, sizeof err) == -1 && strcmp(err, "no process with PID -5") == 0);
    CHECK(hs_proc_alive(-5) == 0 && hs_proc_alive(0) == 0);
}

static void test_zombie(void) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child < 0)
        return;
    if (child == 0)
        _exit(0);
    /* Until reaped it is a zombie: present in /proc but not alive. */
    int dead = 0;
    for (int i = 0; i < 200 && !dead; i++) {
        dead = hs_proc_alive(child) == 0;
        if (!dead)
            sleep_ms(10);
    }
    CHECK(dead);
    hs_proc p;
    char err[256] = "";
    CHECK(hs_proc_open(&p, child, err, sizeof err) == -1);
    CHECK(strstr(err, "zombie") != NULL);
    CHECK(waitpid(child, NULL, 0) == child);
}

/* As root, a child that gives up root must be refused our memory, with
 * the explanation. (Unprivileged, the same-user case is what the other
 * tests cover.) */
static void test_permission(void) {
    if (getuid() != 0) {
        printf("# not root: skipping the permission-denied test\n");
        return;
    }
    int result[2];
    CHECK(pipe(result) == 0);
    pid_t parent = getpid();
    pid_t child = fork();
    CHECK(child >= 0);
    if (child < 0)
        return;
    if (child == 0) {
        close(result[0]);
        char msg[512] = "";
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
            snprintf(msg, sizeof msg, "SKIP cannot drop privileges: %s", strerror(errno));
        } else {
            hs_proc p;
            errno = 0;
            int rc = hs_proc_open(&p, parent, msg + 2, sizeof msg - 2);
            msg[0] = rc == -1 && errno == EPERM ? 'Y' : 'N';
            msg[1] = ' ';
        }
        ssize_t w = write(result[1], msg, strlen(msg));
        _exit(w > 0 ? 0 : 1);
    }
    close(result[1]);
    char msg[512] = "";
    ssize_t n = read(result[0], msg, sizeof msg - 1);
    close(result[0]);
    msg[n > 0 ? n : 0] = '\0';
    waitpid(child, NULL, 0);
    if (strncmp(msg, "SKIP", 4) == 0) {
        printf("# %s\n", msg);
        return;
    }
    CHECK(msg[0] == 'Y');
    char expect[80];
    snprintf(expect, sizeof expect, "permission denied reading process %d: ", (int)parent);
    CHECK(strstr(msg, expect) == msg + 2);
    CHECK(strstr(msg, "CAP_SYS_PTRACE") != NULL && strchr(msg, '\n') == NULL);
    if (access("/proc/sys/kernel/yama/ptrace_scope", R_OK) == 0)
        CHECK(strstr(msg, "ptrace_scope") != NULL);
    printf("# unprivileged child was told: %s\n", msg + 2);
}

/* ---- threads ----------------------------------------------------------- */

typedef struct {
    atomic_int tid;
    atomic_int stop;
    int pipe_read;
} thread_arg;

static void *spin_thread(void *arg) {
    thread_arg *t = arg;
    pthread_setname_np(pthread_self(), "hs spin) (x");
    atomic_store(&t->tid, current_tid());
    volatile uint64_t counter = 0;
    while (!atomic_load_explicit(&t->stop, memory_order_relaxed))
        counter++;
    return NULL;
}

static void *blocked_thread(void *arg) {
    thread_arg *t = arg;
    pthread_setname_np(pthread_self(), "hs-blocked");
    atomic_store(&t->tid, current_tid());
    char c;
    ssize_t n = read(t->pipe_read, &c, 1);
    (void)n;
    return NULL;
}

/* Waits on a condition variable until told to stop: a futex wait on a word
 * inside `cond` (glibc's pthread_cond_t). */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    _Atomic pid_t tid;
} cond_arg;

static void *cond_thread(void *arg) {
    cond_arg *c = arg;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->tid, current_tid());
    while (!c->stop)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* hs_proc_thread_sample, the sampler's per-pass read, against the same
 * threads: the state from .../syscall, and which futex word a thread
 * waits on. */
static void check_thread_sample(pid_t spin_tid, pid_t blocked_tid) {
    cond_arg c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    pthread_t waiter;
    CHECK(pthread_create(&waiter, NULL, cond_thread, &c) == 0);
    for (int i = 0; i < 500 && atomic_load(&c.tid) == 0; i++)
        sleep_ms(2);
    pid_t cond_tid = atomic_load(&c.tid);
    CHECK(cond_tid > 0);

    hs_thread_files spin_files, blocked_files, cond_files;
    hs_thread_files_init(&spin_files);
    hs_thread_files_init(&blocked_files);
    hs_thread_files_init(&cond_files);
    hs_thread_state st = {0};
    CHECK(hs_proc_thread_sample(getpid(), spin_tid, &spin_files, 0, &st) == 0);
    CHECK(st.state == 'R' && !st.in_futex);
    uint64_t spin_cpu = st.cpu_ns;
    sleep_ms(30);
    CHECK(hs_proc_thread_sample(getpid(), spin_tid, &spin_files, 0, &st) == 0);
    CHECK(st.state == 'R' && st.cpu_ns > spin_cpu);

    CHECK(hs_proc_thread_sample(getpid(), blocked_tid, &blocked_files, 0, &st) == 0);
    CHECK(st.state == 'S' && !st.in_futex); /* in read(2) */
    /* told it runs (the sampler: it holds the GIL), only its CPU time is read */
    uint64_t blocked_cpu = st.cpu_ns;
    CHECK(hs_proc_thread_sample(getpid(), blocked_tid, &blocked_files, 1, &st) == 0);
    CHECK(st.state == 'R' && !st.in_futex && st.cpu_ns == blocked_cpu);

    int in_cond = 0;
    for (int i = 0; i < 200 && !in_cond; i++) { /* until it sleeps in the wait */
        CHECK(hs_proc_thread_sample(getpid(), cond_tid, &cond_files, 0, &st) == 0);
        in_cond = st.state == 'S' && st.in_futex;
        if (!in_cond)
            sleep_ms(10);
    }
    CHECK(in_cond);
    uint64_t cond_at = (uint64_t)(uintptr_t)&c.cond;
    CHECK(st.futex_word >= cond_at && st.futex_word < cond_at + sizeof c.cond);
    printf("# futex word %#llx, %llu bytes into the condition variable\n",
           (unsigned long long)st.futex_word, (unsigned long long)(st.futex_word - cond_at));

    pthread_mutex_lock(&c.lock);
    c.stop = 1;
    pthread_cond_signal(&c.cond);
    pthread_mutex_unlock(&c.lock);
    pthread_join(waiter, NULL);
    /* gone (the kernel releases a joined thread's task a moment after the
     * join returns): the read fails and closes its files */
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = hs_proc_thread_sample(getpid(), cond_tid, &cond_files, 0, &st) == -1;
        if (!gone)
            sleep_ms(10);
    }
    CHECK(gone);
    CHECK(cond_files.syscall_fd < 0 && cond_files.stat_fd < 0 && cond_files.schedstat_fd < 0);
    hs_thread_files_close(&spin_files);
    hs_thread_files_close(&blocked_files);
}

static pid_t wait_for_tid(thread_arg *t) {
    for (int i = 0; i < 500 && atomic_load(&t->tid) == 0; i++)
        sleep_ms(2);
    return atomic_load(&t->tid);
}

static void test_threads(void) {
    thread_arg spin = {0, 0, -1}, blocked = {0, 0, -1};
    int wake[2];
    CHECK(pipe(wake) == 0);
    blocked.pipe_read = wake[0];
    pthread_t spinner, sleeper;
    CHECK(pthread_create(&spinner, NULL, spin_thread, &spin) == 0);
    CHECK(pthread_create(&sleeper, NULL, blocked_thread, &blocked) == 0);
    pid_t spin_tid = wait_for_tid(&spin), blocked_tid = wait_for_tid(&blocked);
    CHECK(spin_tid > 0 && blocked_tid > 0);

    pid_t *tids = NULL;
    size_t n = 0;
    CHECK(hs_proc_threads(getpid(), &tids, &n) == 0);
    CHECK(n >= 3 && contains_pid(tids, n, getpid()) && contains_pid(tids, n, spin_tid) &&
          contains_pid(tids, n, blocked_tid));
    free(tids);

    char comm[32] = "";
    CHECK(hs_proc_thread_comm(getpid(), spin_tid, comm, sizeof comm) == 0);
    CHECK(strcmp(comm, "hs spin) (x") == 0);
    CHECK(hs_proc_thread_comm(getpid(), blocked_tid, comm, sizeof comm) == 0);
    CHECK(strcmp(comm, "hs-blocked") == 0);
    char tiny[4];
    CHECK(hs_proc_thread_comm(getpid(), blocked_tid, tiny, sizeof tiny) == 0 &&
          strcmp(tiny, "hs-") == 0);

    /* The spinner is always running or runnable, and its CPU time grows. */
    hs_thread_state before, after;
    /* ground truth: the spinner's own CPU clock, read around the same span */
    clockid_t spin_clock;
    struct timespec truth_before, truth_after;
    CHECK(pthread_getcpuclockid(spinner, &spin_clock) == 0);
    CHECK(clock_gettime(spin_clock, &truth_before) == 0);
    CHECK(hs_proc_thread_state(getpid(), spin_tid, &before) == 0);
    int always_running = before.state == 'R';
    for (int i = 0; i < 10; i++) {
        sleep_ms(20);
        hs_thread_state st;
        always_running &= hs_proc_thread_state(getpid(), spin_tid, &st) == 0 && st.state == 'R';
    }
    CHECK(always_running);
    CHECK(hs_proc_thread_state(getpid(), spin_tid, &after) == 0);
    CHECK(clock_gettime(spin_clock, &truth_after) == 0);
    CHECK(after.cpu_ns > before.cpu_ns);
    /* What the spin got of a CPU depends on the machine's load: compare
     * with its own clock (schedstat lags it by up to a tick; stat counts
     * in 10 ms ticks), not with the wall time. */
    int64_t truth = (truth_after.tv_sec - truth_before.tv_sec) * 1000000000LL +
                    (truth_after.tv_nsec - truth_before.tv_nsec);
    int64_t seen = (int64_t)(after.cpu_ns - before.cpu_ns);
    CHECK(seen <= truth + 20000000LL && seen >= truth - truth / 10 - 20000000LL);
    CHECK(after.cpu_ns_precise == before.cpu_ns_precise);
    printf("# thread CPU time from %s; the spinner used %.1f ms in ~200 ms\n",
           after.cpu_ns_precise ? "schedstat (ns)" : "stat (clock ticks)",
           (double)(after.cpu_ns - before.cpu_ns) / 1e6);

    CHECK(wait_for_state(getpid(), blocked_tid, 'S') == 'S');
    hs_thread_state idle1, idle2;
    CHECK(hs_proc_thread_state(getpid(), blocked_tid, &idle1) == 0);
    sleep_ms(50);
    CHECK(hs_proc_thread_state(getpid(), blocked_tid, &idle2) == 0);
    CHECK(idle2.cpu_ns == idle1.cpu_ns && idle2.state == 'S');

    hs_thread_state none;
    CHECK(hs_proc_thread_state(getpid(), 0x7ffffff0, &none) == -1);
    check_thread_sample(spin_tid, blocked_tid);

    atomic_store(&spin.stop, 1);
    CHECK(write(wake[1], "x", 1) == 1);
    pthread_join(spinner, NULL);
    pthread_join(sleeper, NULL);
    close(wake[0]);
    close(wake[1]);

    /* Both gone from the task list once joined. */
    CHECK(hs_proc_threads(getpid(), &tids, &n) == 0);
    CHECK(!contains_pid(tids, n, spin_tid) && !contains_pid(tids, n, blocked_tid));
    free(tids);
}

static void cleanup_tmpdir(void) {
    const char *names[] = {"not_elf", "empty", "elf32", "truncated", "corrupt", "odd name) (x"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tmp_path(path, sizeof path, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(int argc, char **argv) {
    (void)argc;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hs proc test.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    /* Forked children come before any extra thread exists. */
    test_read_self();
    test_maps_self(argv);
    test_elf_self();
    test_elf_libc();
    test_elf_bad_files();
    test_child();
    test_zombie();
    test_permission();
    test_threads();
    cleanup_tmpdir();
    CHECK(hs_test_global_function(1) == 4);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
