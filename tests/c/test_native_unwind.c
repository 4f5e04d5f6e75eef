/*
 * test_native_unwind.c - tests of --native's pieces that need no Python
 * (src/sampler/ptrace_stop.c, native_objects.c, native_unwind.c, and the
 * .eh_frame reading of src/sampler/elf.c and src/memory/eh_frame.c).
 * Built and run by tests/test_c_native_unwind.py.
 *
 * Ground truth comes from independent sources, never hard-coded numbers:
 *  - a forked child records its own stack with glibc's backtrace() (libgcc's
 *    unwinder) inside three functions of its own, then spins in the
 *    innermost; the parent stops it (ptrace) and unwinds it from outside:
 *    the return addresses must be the child's own, and the names those of
 *    its functions, read from this executable's symbol table;
 *  - the step rules read from a file's .eh_frame on disk must equal those
 *    read from the same object as the loader mapped it in this process,
 *    for addresses throughout every function of libc;
 *  - the child is running, untraced, after the parent let it go, and a
 *    signal it stopped for reaches it.
 *
 * A failed CHECK reports and carries on; main() exits 1 if any failed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/memory/eh_frame.h"
#include "../../src/sampler/elf.h"
#include "../../src/sampler/native_objects.h"
#include "../../src/sampler/native_unwind.h"
#include "../../src/sampler/ptrace_stop.h"

static int passed, failed;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (cond) {                                                                   \
            passed++;                                                                 \
        } else {                                                                      \
            failed++;                                                                 \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                    \
            printf(__VA_ARGS__);                                                      \
            printf("\n");                                                             \
        }                                                                             \
    } while (0)

/* ---- the child ------------------------------------------------------------ */

#define MAX_FRAMES 64
static volatile sig_atomic_t got_signal;
static int report_fd;

static void on_usr1(int sig) {
    (void)sig;
    got_signal++;
}

/* Spins in the innermost function once its stack is recorded: every frame
 * from its caller out stays as backtrace() saw it. */
__attribute__((noinline)) void hs_unwind_test_inner(void) {
    void *frames[MAX_FRAMES];
    int n = backtrace(frames, MAX_FRAMES);
    if (write(report_fd, &n, sizeof n) != sizeof n ||
        write(report_fd, frames, sizeof(void *) * (size_t)n) != (ssize_t)(sizeof(void *) * (size_t)n))
        _exit(3);
    for (;;) {
        int seen = got_signal;
        if (seen && write(report_fd, &seen, sizeof seen) != sizeof seen)
            _exit(3);
        while (got_signal == seen)
            ; /* spin in this very function */
    }
}

__attribute__((noinline)) void hs_unwind_test_middle(void) {
    hs_unwind_test_inner();
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noinline)) void hs_unwind_test_outer(void) {
    hs_unwind_test_middle();
    __asm__ volatile("" ::: "memory");
}

/* ---- in the parent --------------------------------------------------------- */

static char self_path[4096];

static void test_remote_unwind_matches_backtrace(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        CHECK(0, "pipe");
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        report_fd = fds[1];
        signal(SIGUSR1, on_usr1);
        hs_unwind_test_outer();
        _exit(0);
    }
    close(fds[1]);
    int n = 0;
    void *expected[MAX_FRAMES];
    CHECK(read(fds[0], &n, sizeof n) == sizeof n && n > 4 && n <= MAX_FRAMES, "n=%d", n);
    CHECK(read(fds[0], expected, sizeof(void *) * (size_t)n) == (ssize_t)(sizeof(void *) * (size_t)n),
          "frames");
    usleep(20000); /* into the spin */

    hs_stopper stopper;
    hs_stopper_init(&stopper, child);
    hs_native_objects objects;
    hs_native_objects_init(&objects, child, "");
    hs_native_stack stack;
    memset(&stack, 0, sizeof stack);
    char err[256];
    for (int pass = 1; pass <= 20; pass++) {
        int stopped = hs_stopper_stop(&stopper, err, sizeof err);
        CHECK(stopped == 1, "pass %d: stopped %d (%s)", pass, stopped, err);
        const hs_stopped_thread *th = hs_stopper_thread(&stopper, child);
        CHECK(th != NULL, "pass %d: no registers", pass);
        if (!th)
            break;
        size_t count = hs_native_unwind(&objects, th->ip, th->sp, th->bp, pass, &stack);
        if (pass == 5) /* a signal sent while held is taken when let go */
            kill(child, SIGUSR1);
        hs_stopper_resume(&stopper);
        /* backtrace()'s frames: [0] in inner (after its call of backtrace;
         * a sanitizer's backtrace has its own frame before), then middle,
         * outer, ... out to _start; the unwind's: [0] inner's pc in its
         * spin, then the same return addresses. */
        int first = 0;
        while (first < n && count > 1 && (uint64_t)(uintptr_t)expected[first] != stack.pcs[1])
            first++;
        CHECK(first >= 1 && first <= 2, "pass %d: middle's return address %#llx not in backtrace",
              pass, count > 1 ? (unsigned long long)stack.pcs[1] : 0ULL);
        CHECK(count == (size_t)(n - first + 1), "pass %d: %zu frames, backtrace had %d from %d", pass,
              count, n, first);
        CHECK(stack.complete, "pass %d: not unwound to the outermost frame", pass);
        for (int i = first; i < n && (size_t)(i - first + 1) < count; i++)
            CHECK(stack.pcs[i - first + 1] == (uint64_t)(uintptr_t)expected[i],
                  "pass %d frame %d: %#llx, backtrace %p", pass, i - first + 1,
                  (unsigned long long)stack.pcs[i - first + 1], expected[i]);
        char buf[32];
        static const char *const names[] = {"hs_unwind_test_inner", "hs_unwind_test_middle",
                                            "hs_unwind_test_outer", "main"};
        for (size_t i = 0; i < 4 && i < count; i++) {
            const hs_native_pc *info = hs_native_pc_info(&objects, i ? stack.pcs[i] - 1 : stack.pcs[i], pass);
            const char *name = info ? hs_native_pc_name(&objects, info, buf, sizeof buf) : "(none)";
            /* main may call through test_remote_unwind...: inlined or not */
            if (i < 3)
                CHECK(strcmp(name, names[i]) == 0, "pass %d frame %zu: %s, not %s", pass, i, name, names[i]);
            if (i < 3)
                CHECK(info && strcmp(hs_native_pc_file(&objects, info), self_path) == 0, "file %s",
                      info ? hs_native_pc_file(&objects, info) : "(none)");
        }
        usleep(2000);
    }
    hs_stopper_release(&stopper, 100 * 1000 * 1000LL);
    int seen = 0;
    CHECK(read(fds[0], &seen, sizeof seen) == sizeof seen && seen == 1, "signal seen %d times", seen);
    /* let go: running (or runnable), not traced */
    char path[64], status[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)child);
    FILE *f = fopen(path, "r");
    size_t len = f ? fread(status, 1, sizeof status - 1, f) : 0;
    if (f)
        fclose(f);
    status[len] = 0;
    CHECK(strstr(status, "TracerPid:\t0\n") != NULL, "%s", status);
    CHECK(strstr(status, "State:\tR") != NULL, "%s", status);
    hs_native_stack_free(&stack);
    hs_native_objects_free(&objects);
    hs_stopper_free(&stopper);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(fds[0]);
}

typedef struct {
    const char *want;
    int compared, differed, simple;
} rules_check;

static int compare_rules(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    rules_check *c = arg;
    if (!strstr(info->dlpi_name, c->want))
        return 0;
    hs_elf_eh_frame_copy copy;
    hs_elf_func *funcs = NULL;
    size_t count = 0;
    char *names = NULL, err[256];
    CHECK(hs_elf_eh_frame(info->dlpi_name, &copy, err, sizeof err) == 1, "%s", err);
    CHECK(hs_elf_functions(info->dlpi_name, &funcs, &count, &names, err, sizeof err) == 0, "%s", err);
    hs_eh_image img = {copy.bytes, copy.start, copy.len, copy.hdr};
    for (size_t i = 0; copy.bytes && i < count; i++) {
        for (uint64_t at = funcs[i].value; at < funcs[i].value + funcs[i].size;
             at += 1 + funcs[i].size / 5) {
            hs_step_rule mapped, file;
            hs_eh_frame_rule((uintptr_t)(info->dlpi_addr + at), &mapped);
            hs_eh_frame_rule_in(&img, at, &file);
            file.pc = mapped.pc;
            c->compared++;
            c->simple += file.kind == HS_STEP_SIMPLE;
            if (memcmp(&mapped, &file, sizeof file) != 0 && c->differed++ < 5)
                printf("  %s+%#llx: rule %d vs %d\n", info->dlpi_name, (unsigned long long)at,
                       mapped.kind, file.kind);
        }
    }
    free(copy.bytes);
    free(funcs);
    free(names);
    return 1;
}

static void test_rules_from_the_file_equal_the_mapped_ones(void) {
#if HS_HAVE_FAST_UNWIND
    rules_check c = {"libc.so", 0, 0, 0};
    dl_iterate_phdr(compare_rules, &c);
    CHECK(c.compared > 1000, "compared %d", c.compared);
    CHECK(c.differed == 0, "%d of %d differ", c.differed, c.compared);
    CHECK(c.simple > c.compared / 2, "%d simple of %d", c.simple, c.compared);
#endif
}

int main(void) {
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    self_path[n > 0 ? n : 0] = 0;
    test_remote_unwind_matches_backtrace();
    test_rules_from_the_file_equal_the_mapped_ones();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
