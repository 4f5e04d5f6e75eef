/*
 * proc.h - reading another process from outside, on Linux: its memory
 * (process_vm_readv), its mappings (/proc/PID/maps), its threads
 * (/proc/PID/task) and each thread's scheduler state and CPU time.
 *
 * The sampler (sampler.c) is built on this and on elf.h; nothing here knows
 * about Python. No global state: everything hangs off an hs_proc.
 * Every function reports failure with a return value and, where the caller
 * shows it to the user, a one-line message in the caller's buffer.
 */
#ifndef HOTSCOPE_PROC_H
#define HOTSCOPE_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int self;               /* the process is ourselves */
} hs_proc;

/* Opens a process for reading. Returns 0, or -1 with a one-line message
 * in err, e.g. "no process with PID 123" or, for EPERM, an explanation of
 * ptrace permissions (kernel.yama.ptrace_scope, CAP_SYS_PTRACE, sudo). */
int hs_proc_open(hs_proc *p, pid_t pid, char *err, size_t errlen);

/* Reads len bytes at addr. Returns 0, or -1 with errno set (EFAULT for an
 * unmapped address, ESRCH when the process is gone, EPERM). A short read
 * counts as failure. */
int hs_proc_read(const hs_proc *p, uint64_t addr, void *buf, size_t len);

/* Reads several ranges in one system call; each iov is (addr, buf, len).
 * Returns the number of leading ranges read completely (the rest failed). */
typedef struct {
    uint64_t addr;
    void *buf;
    size_t len;
} hs_remote_iov;
size_t hs_proc_readv(const hs_proc *p, const hs_remote_iov *iov, size_t count);

/* The one-line explanation of a permission denied on process `pid`: what
 * the user can change (kernel.yama.ptrace_scope, CAP_SYS_PTRACE, sudo). */
void hs_proc_explain_permission(pid_t pid, char *err, size_t errlen);

/* A process's parent (/proc/PID/stat), or -1. */
pid_t hs_proc_parent(pid_t pid);

/* The process tracing thread `tid` of process `pid` (TracerPid in its
 * /proc status): 0 none, -1 unknown. */
pid_t hs_proc_tracer(pid_t pid, pid_t tid);

/* Whether the process still exists (and is not a zombie). */
int hs_proc_alive(pid_t pid);

/* A process's resident set size in bytes, from its /proc/PID/statm opened
 * as statm_fd (kept open: one pread per reading); -1 when it cannot be read. */
int64_t hs_proc_rss_bytes(int statm_fd);

/* One line of /proc/PID/maps. */
typedef struct {
    uint64_t start, end, offset;
    char perms[5];          /* "r-xp" */
    char path[512];         /* "" for anonymous mappings */
} hs_mapping;

/* Reads /proc/PID/maps into a malloc'ed array. Returns 0 or -1 (errno). */
int hs_proc_maps(pid_t pid, hs_mapping **maps, size_t *count);

/* A path of the target's as this process can open it: through
 * /proc/PID/root when that exists (so containers and other mount
 * namespaces work), else the path itself. Writes into out. */
void hs_proc_path(pid_t pid, const char *path, char *out, size_t outlen);

/* The target's executable path (readlink /proc/PID/exe). 0 or -1. */
int hs_proc_exe(pid_t pid, char *out, size_t outlen);

/* Thread ids of the process (/proc/PID/task), malloc'ed. 0 or -1. */
int hs_proc_threads(pid_t pid, pid_t **tids, size_t *count);

/* A thread's scheduler view: state letter from /proc/PID/task/TID/stat
 * ('R' running or runnable, 'S' sleeping, 'D' disk wait, ...), and the
 * CPU time it has used in ns (from .../schedstat when available, else
 * utime+stime from stat at clock-tick resolution). hs_proc_thread_sample
 * also says, for a thread off the CPU, whether it waits in a futex (a
 * mutex or a condition variable: CPython's GIL, a threading lock) and on
 * which word (the caller compares it with the GIL's). */
typedef struct {
    char state;
    uint64_t cpu_ns;
    int cpu_ns_precise;     /* cpu_ns came from schedstat */
    int in_futex;           /* off the CPU in futex(2): 1, with its word's */
    uint64_t futex_word;    /* address; 0 another wait or unknown */
} hs_thread_state;
int hs_proc_thread_state(pid_t pid, pid_t tid, hs_thread_state *st);

/* The same, for a thread sampled again and again: its /proc files stay
 * open and are re-read from offset 0 (procfs regenerates them), one
 * system call per file. The state comes from .../syscall ("running", or
 * the system call it waits in: which also tells a futex and its word) and
 * the CPU time from schedstat, two reads that cost the kernel a fifth of
 * what formatting the 52 fields of stat does; stat is read only where
 * those two are missing (kernels built without them). With `running`
 * (the caller knows: the thread holds the GIL) the state is 'R' and only
 * the CPU time is read. On failure (thread
 * gone) the files are closed and -1 returned; the next call opens them
 * afresh. */
typedef struct {
    int stat_fd, schedstat_fd, syscall_fd;
} hs_thread_files;
void hs_thread_files_init(hs_thread_files *f);
void hs_thread_files_close(hs_thread_files *f);
int hs_proc_thread_sample(pid_t pid, pid_t tid, hs_thread_files *f, int running, hs_thread_state *st);

/* A thread's state letter alone (/proc/PID/task/TID/stat), or 0. */
char hs_proc_thread_letter(pid_t pid, pid_t tid);

/* The OS thread name (/proc/PID/task/TID/comm) without the newline. 0 or -1. */
int hs_proc_thread_comm(pid_t pid, pid_t tid, char *out, size_t outlen);

/* Direct children of a process (scans /proc), malloc'ed. 0 or -1. */
int hs_proc_children(pid_t pid, pid_t **children, size_t *count);

#endif
