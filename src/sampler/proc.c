/*
 * proc.c - reading another process from outside on Linux (see proc.h):
 * its memory with process_vm_readv, its mappings from /proc/PID/maps, its
 * threads from /proc/PID/task and each thread's state and CPU time from
 * /proc/PID/task/TID/{stat,schedstat}.
 *
 * The sampler calls hs_proc_read / hs_proc_readv and hs_proc_thread_state
 * on every sample, so those do one system call per read and, for thread
 * state, one open/read/close per file into a stack buffer: no stdio, no
 * malloc. The rest (maps, thread and child lists) runs at attach time or
 * now and then, and favours simplicity.
 *
 * Formats are those of proc(5): /proc/PID/stat's second field is the
 * command name in parentheses and may itself contain spaces and ')', so
 * the fields after it are found from the last ')'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv, memrchr */
#endif
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- small helpers ---------------------------------------------------- */

/* Reads up to cap-1 bytes of a (small, /proc) file with a single read and
 * NUL-terminates them. /proc's stat-like files produce their whole content
 * on the first read. Returns the length, or -1 with errno set. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    buf[n] = '\0';
    return n;
}

/* Bounded copy that always terminates (and never warns about truncation). */
static void copy_string(char *out, size_t outlen, const char *in) {
    if (outlen == 0)
        return;
    size_t n = strlen(in);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, in, n);
    out[n] = '\0';
}

/* Parses a decimal pid from a directory entry name; -1 if it is not one. */
static pid_t pid_from_name(const char *name) {
    if (!isdigit((unsigned char)name[0]))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(name, &end, 10);
    if (*end != '\0' || errno != 0 || v <= 0 || v > INT_MAX)
        return -1;
    return (pid_t)v;
}

/* The fields of a /proc stat line that we use. */
typedef struct {
    char state;
    pid_t ppid;
    uint64_t cpu_ticks; /* utime + stime */
} stat_fields;

/* Parses a /proc/PID/stat or /proc/PID/task/TID/stat line (proc(5)).
 * Field 2, "(comm)", can hold anything a thread names itself, including
 * spaces and ')', so the numbered fields start after the LAST ')'. From
 * there they are single-space separated: field 3 is the state, 4 the
 * parent pid, 14 and 15 utime and stime in clock ticks. 0 or -1. */
static int parse_stat(const char *line, size_t len, stat_fields *out) {
    const char *close_paren = memrchr(line, ')', len);
    if (!close_paren)
        return -1;
    const char *p = close_paren + 1, *end = line + len;
    uint64_t utime = 0;
    int field = 2;
    int have = 0; /* bit per field parsed: state, ppid, utime, stime */
    while (p < end && have != 0xf) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p == '\n')
            break;
        field++;
        if (field == 3) {
            out->state = *p;
            have |= 1;
        } else if (field == 4 || field == 14 || field == 15) {
            uint64_t v = 0;
            const char *q = p;
            int negative = *q == '-';
            if (negative)
                q++;
            while (q < end && *q >= '0' && *q <= '9')
                v = v * 10 + (uint64_t)(*q++ - '0');
            if (field == 4) {
                out->ppid = negative ? -(pid_t)v : (pid_t)v;
                have |= 2;
            } else if (field == 14) {
                utime = v;
                have |= 4;
            } else {
                out->cpu_ticks = utime + v;
                have |= 8;
            }
        }
        while (p < end && *p != ' ')
            p++;
    }
    return (have & 3) == 3 ? 0 : -1;
}

/* Reads and parses a stat file; 0 or -1. */
static int read_stat(const char *path, stat_fields *out) {
    /* pid, comm (at most 64 bytes in any kernel), ~50 numeric fields of at
     * most 20 digits: well under 2 KiB. */
    char buf[2048];
    ssize_t n = read_small_file(path, buf, sizeof buf);
    if (n <= 0)
        return -1;
    memset(out, 0, sizeof *out);
    return parse_stat(buf, (size_t)n, out);
}

/* ---- opening and reading memory ------------------------------------- */

/* The one-line explanation for EPERM: what the user can change. */
void hs_proc_explain_permission(pid_t pid, char *err, size_t errlen) {
    char scope[32];
    ssize_t n = read_small_file("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof scope);
    while (n > 0 && (scope[n - 1] == '\n' || scope[n - 1] == ' '))
        scope[--n] = '\0';
    if (n <= 0) {
        /* No Yama LSM: only the classic rules (same user, or the
         * capability) apply. */
        snprintf(err, errlen,
                 "permission denied reading process %d: run as the same user, or as root / "
                 "with CAP_SYS_PTRACE (e.g. sudo hotscope ...)",
                 (int)pid);
    } else if (strcmp(scope, "3") == 0) {
        snprintf(err, errlen,
                 "permission denied reading process %d: kernel.yama.ptrace_scope=3 forbids "
                 "reading other processes for everyone, root included, until reboot",
                 (int)pid);
    } else {
        snprintf(err, errlen,
                 "permission denied reading process %d: run as the same user with "
                 "kernel.yama.ptrace_scope=0 (now %s), or as root / with CAP_SYS_PTRACE "
                 "(e.g. sudo hotscope ...)",
                 (int)pid, scope);
    }
}

/* Whether a maps path names memory process_vm_readv cannot read even with
 * permission (the vDSO data pages, the legacy vsyscall page). */
static int unreadable_pseudo_path(const char *path) {
    return strncmp(path, "[vvar", 5) == 0 || strcmp(path, "[vsyscall]") == 0;
}

static int parse_maps_line(const char *line, hs_mapping *m);

/* Tries a one-byte read from the first few readable mappings, which is
 * what tells us whether we may read the process at all. Returns 0, or an
 * errno: EPERM (not allowed), ESRCH (gone, or a zombie with no memory),
 * or whatever else went wrong. */
static int probe_readable(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "re");
    if (!maps) {
        /* Opening maps needs the same ptrace access as reading memory. */
        if (errno == EACCES || errno == EPERM)
            return EPERM;
        return errno == ENOENT ? ESRCH : errno;
    }
    char *line = NULL;
    size_t cap = 0;
    int result = ESRCH; /* no mappings at all: a zombie or a kernel thread */
    int attempts = 0;
    while (attempts < 16 && getline(&line, &cap, maps) > 0) {
        hs_mapping m;
        if (parse_maps_line(line, &m) != 0 || m.perms[0] != 'r' || unreadable_pseudo_path(m.path))
            continue;
        attempts++;
        char byte;
        struct iovec local = {&byte, 1};
        struct iovec remote = {(void *)(uintptr_t)m.start, 1};
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == 1) {
            result = 0;
            break;
        }
        result = errno;
        if (result == EPERM || result == ESRCH)
            break;
        /* EFAULT and the like: this mapping only; try the next. */
    }
    if (attempts == 0 && ferror(maps))
        result = errno == EACCES ? EPERM : errno;
    free(line);
    fclose(maps);
    return result;
}

/* Whether the process is gone or on its way out: no /proc entry, or its
 * state (the field after the command's closing parenthesis, proc(5)) is
 * zombie or dead. While a process exits its memory is taken down under
 * readers, whose reads then fail with EFAULT rather than ESRCH. */
static int process_exiting(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')');
    return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X' || close[2] == 'x');
}

int hs_proc_open(hs_proc *p, pid_t pid, char *err, size_t errlen) {
    p->pid = pid;
    p->self = pid == getpid();
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
        snprintf(err, errlen, "no process with PID %d", (int)pid);
        errno = ESRCH;
        return -1;
    }
    /* kill() failing with EPERM means the process exists but belongs to
     * someone else; the read below gives the real answer. */
    int rc = probe_readable(pid);
    if (rc == 0)
        return 0;
    if (rc != EPERM && rc != EACCES && rc != ESRCH) {
        /* Say "exited" for a process that was exiting during the probe
         * (seen once: "Bad address" as a recorded program ended). */
        rc = probe_readable(pid);
        if (rc == 0)
            return 0;
        if (process_exiting(pid))
            rc = ESRCH;
    }
    if (rc == EPERM || rc == EACCES) {
        hs_proc_explain_permission(pid, err, errlen);
    } else if (rc == ESRCH) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            snprintf(err, errlen, "no process with PID %d", (int)pid);
        else
            snprintf(err, errlen, "process %d has no memory to read (it has exited "
                     "and is a zombie, or is a kernel thread)", (int)pid);
    } else {
        snprintf(err, errlen, "cannot read the memory of process %d: %s", (int)pid,
                 strerror(rc));
    }
    errno = rc;
    return -1;
}

int hs_proc_read(const hs_proc *p, uint64_t addr, void *buf, size_t len) {
    if (len == 0)
        return 0;
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
    if (n < 0)
        return -1;
    if ((size_t)n != len) {
        /* The range ran into an unmapped page part way. */
        errno = EFAULT;
        return -1;
    }
    return 0;
}

size_t hs_proc_readv(const hs_proc *p, const hs_remote_iov *iov, size_t count) {
    /* The kernel takes at most IOV_MAX (1024) entries per call. We batch
     * fewer, 128, to keep the two iovec arrays at 4 KiB of stack on this
     * per-sample path; a sample rarely reads more ranges than that. */
    enum { BATCH = IOV_MAX < 128 ? IOV_MAX : 128 };
    struct iovec local[BATCH], remote[BATCH];
    size_t done = 0;
    while (done < count) {
        size_t n = count - done < BATCH ? count - done : BATCH;
        size_t wanted = 0;
        for (size_t i = 0; i < n; i++) {
            const hs_remote_iov *r = &iov[done + i];
            local[i].iov_base = r->buf;
            local[i].iov_len = r->len;
            remote[i].iov_base = (void *)(uintptr_t)r->addr;
            remote[i].iov_len = r->len;
            wanted += r->len;
        }
        ssize_t got = process_vm_readv(p->pid, local, n, remote, n, 0);
        if (got < 0)
            got = 0; /* the first range failed outright */
        /* The kernel copies ranges in order and stops at the first fault,
         * so the byte count says how many leading ranges are complete. A
         * fault can stop it part way through a range: that one and the
         * rest count as failed. */
        size_t left = (size_t)got;
        size_t complete = 0;
        while (complete < n && iov[done + complete].len <= left) {
            left -= iov[done + complete].len;
            complete++;
        }
        done += complete;
        if ((size_t)got != wanted)
            break;
    }
    return done;
}

int64_t hs_proc_rss_bytes(int statm_fd) {
    char buf[128];
    if (statm_fd < 0)
        return -1;
    ssize_t n = pread(statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    long long size, resident; /* proc(5): statm is "size resident shared ..." in pages */
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2 || resident < 0)
        return -1;
    return (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
}

char hs_proc_thread_letter(pid_t pid, pid_t tid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    stat_fields st;
    return read_stat(path, &st) == 0 ? st.state : 0;
}

pid_t hs_proc_parent(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    stat_fields st;
    return read_stat(path, &st) == 0 ? st.ppid : -1;
}

pid_t hs_proc_tracer(pid_t pid, pid_t tid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    if (read_small_file(path, buf, sizeof buf) <= 0)
        return -1;
    const char *line = strstr(buf, "\nTracerPid:"); /* proc(5) */
    return line ? (pid_t)strtol(line + 11, NULL, 10) : -1;
}

int hs_proc_alive(pid_t pid) {
    if (pid <= 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    stat_fields st;
    if (read_stat(path, &st) == 0)
        return st.state != 'Z' && st.state != 'X' && st.state != 'x';
    if (errno == ENOENT || errno == ESRCH)
        return 0;
    /* /proc unusable for some other reason: ask the kernel directly. */
    return kill(pid, 0) == 0 || errno == EPERM;
}

/* ---- maps ------------------------------------------------------------ */

/* Parses one line of /proc/PID/maps (proc(5)):
 *   start-end perms offset dev inode [path]
 * with hex start, end, offset. The path is the rest of the line after the
 * padding, taken as-is: it may contain spaces, end in " (deleted)", or be
 * a pseudo path such as [heap] or [stack]. The kernel escapes newlines in
 * paths, so a line is a whole entry. 0 or -1. */
static int parse_maps_line(const char *line, hs_mapping *m) {
    char *end;
    memset(m, 0, sizeof *m);
    errno = 0;
    m->start = strtoull(line, &end, 16);
    if (end == line || *end != '-')
        return -1;
    const char *p = end + 1;
    m->end = strtoull(p, &end, 16);
    if (end == p || *end != ' ')
        return -1;
    p = end + 1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == '\0' || p[i] == ' ' || p[i] == '\n')
            return -1;
        m->perms[i] = p[i];
    }
    m->perms[4] = '\0';
    p += 4;
    if (*p != ' ')
        return -1;
    p++;
    m->offset = strtoull(p, &end, 16);
    if (end == p || *end != ' ' || errno != 0)
        return -1;
    p = end + 1;
    /* dev (major:minor) and inode: skipped. */
    for (int field = 0; field < 2; field++) {
        if (*p == ' ' || *p == '\0' || *p == '\n')
            return -1;
        while (*p && *p != ' ' && *p != '\n')
            p++;
        while (*p == ' ')
            p++;
    }
    size_t len = strlen(p);
    if (len > 0 && p[len - 1] == '\n')
        len--;
    if (len >= sizeof m->path)
        len = sizeof m->path - 1; /* longer than any path we can open anyway */
    memcpy(m->path, p, len);
    m->path[len] = '\0';
    return 0;
}

int hs_proc_maps(pid_t pid, hs_mapping **maps, size_t *count) {
    *maps = NULL;
    *count = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    hs_mapping *list = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t line_cap = 0;
    int rc = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 64;
            hs_mapping *grown = realloc(list, new_cap * sizeof *list);
            if (!grown) {
                rc = -1;
                break;
            }
            list = grown;
            cap = new_cap;
        }
        if (parse_maps_line(line, &list[n]) == 0)
            n++;
    }
    int saved = errno;
    if (rc == 0 && ferror(f))
        rc = -1;
    free(line);
    fclose(f);
    if (rc != 0) {
        free(list);
        errno = saved;
        return -1;
    }
    *maps = list;
    *count = n;
    return 0;
}

void hs_proc_path(pid_t pid, const char *path, char *out, size_t outlen) {
    if (outlen == 0)
        return;
    if (path[0] == '/') {
        char rooted[PATH_MAX + 64];
        int n = snprintf(rooted, sizeof rooted, "/proc/%d/root%s", (int)pid, path);
        if (n > 0 && (size_t)n < sizeof rooted && (size_t)n < outlen) {
            int fd = open(rooted, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                close(fd);
                copy_string(out, outlen, rooted);
                return;
            }
        }
    }
    copy_string(out, outlen, path);
}

int hs_proc_exe(pid_t pid, char *out, size_t outlen) {
    if (outlen == 0)
        return -1;
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, out, outlen);
    if (n < 0 || (size_t)n >= outlen) {
        out[0] = '\0';
        if (n >= 0)
            errno = ENAMETOOLONG;
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* ---- threads and children ------------------------------------------- */

/* Appends a pid to a growing malloc'ed array; 0 or -1. */
static int push_pid(pid_t **list, size_t *n, size_t *cap, pid_t pid) {
    if (*n == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 16;
        pid_t *grown = realloc(*list, new_cap * sizeof **list);
        if (!grown)
            return -1;
        *list = grown;
        *cap = new_cap;
    }
    (*list)[(*n)++] = pid;
    return 0;
}

int hs_proc_threads(pid_t pid, pid_t **tids, size_t *count) {
    *tids = NULL;
    *count = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    pid_t *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        pid_t tid = pid_from_name(e->d_name);
        if (tid > 0 && push_pid(&list, &n, &cap, tid) != 0) {
            free(list);
            closedir(dir);
            errno = ENOMEM;
            return -1;
        }
    }
    closedir(dir);
    *tids = list;
    *count = n;
    return 0;
}

/* A thread's CPU time from schedstat's first field (ns on CPU, proc(5)):
 * 1, or 0 when it is not meaningful (kernels built without scheduler
 * statistics print "0 0 0" there). */
static int cpu_from_schedstat(hs_thread_state *st, const char *schedstat) {
    char *end;
    unsigned long long on_cpu = strtoull(schedstat, &end, 10);
    if (end == schedstat || strcmp(schedstat, "0 0 0\n") == 0)
        return 0;
    st->cpu_ns = on_cpu;
    st->cpu_ns_precise = 1;
    return 1;
}

/* A thread's CPU time: from schedstat when given and meaningful, else
 * stat's utime+stime in clock ticks. */
static void set_cpu_time(hs_thread_state *st, const stat_fields *fields, const char *schedstat) {
    if (schedstat && cpu_from_schedstat(st, schedstat))
        return;
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    if (ticks_per_second <= 0)
        ticks_per_second = 100;
    st->cpu_ns = fields->cpu_ticks * (1000000000ull / (uint64_t)ticks_per_second);
    st->cpu_ns_precise = 0;
}

int hs_proc_thread_state(pid_t pid, pid_t tid, hs_thread_state *st) {
    char path[80];
    st->state = '?';
    st->cpu_ns = 0;
    st->cpu_ns_precise = 0;
    st->in_futex = 0;
    st->futex_word = 0;

    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    stat_fields fields;
    if (read_stat(path, &fields) != 0)
        return -1;
    st->state = fields.state;

    /* schedstat's first field is the time on CPU in ns (proc(5)). Kernels
     * built without scheduler statistics print "0 0 0"; then, and when the
     * file is missing, fall back to stat's clock ticks. */
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
    char buf[128];
    ssize_t n = read_small_file(path, buf, sizeof buf);
    set_cpu_time(st, &fields, n > 0 ? buf : NULL);
    return 0;
}

void hs_thread_files_init(hs_thread_files *f) {
    f->stat_fd = f->schedstat_fd = f->syscall_fd = -1;
}

void hs_thread_files_close(hs_thread_files *f) {
    if (f->stat_fd >= 0)
        close(f->stat_fd);
    if (f->schedstat_fd >= 0)
        close(f->schedstat_fd);
    if (f->syscall_fd >= 0)
        close(f->syscall_fd);
    hs_thread_files_init(f);
}

/* Re-reads an open /proc file from the start; opens it first if needed. */
static ssize_t reread(int *fd, pid_t pid, pid_t tid, const char *name, char *buf, size_t cap) {
    if (*fd < 0) {
        char path[80];
        snprintf(path, sizeof path, "/proc/%d/task/%d/%s", (int)pid, (int)tid, name);
        *fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd < 0)
            return -1;
    }
    ssize_t n = pread(*fd, buf, cap - 1, 0);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* /proc/PID/task/TID/syscall (Documentation/filesystems/proc.rst): "running"
 * for a task on a CPU or runnable (the kernel does not stop it to look:
 * task_current_syscall answers -EAGAIN for TASK_RUNNING); else the system
 * call's number, then its six arguments in hex, the stack and program
 * counters ("202 0x7f... ..."; a futex's first argument is the address of
 * its word); "-1 sp pc" when blocked outside a system call. 0 when
 * understood, -1 not. */
static int parse_syscall(const char *buf, hs_thread_state *st) {
    if (strncmp(buf, "running", 7) == 0) {
        st->state = 'R';
        return 0;
    }
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return -1;
    char *end;
    long number = strtol(buf, &end, 10);
    st->state = number < 0 ? 'D' : 'S';
    if (number == SYS_futex) {
        st->in_futex = 1;
        st->futex_word = (uint64_t)strtoull(end, NULL, 16);
    }
    return 0;
}

int hs_proc_thread_sample(pid_t pid, pid_t tid, hs_thread_files *f, int running, hs_thread_state *st) {
    char buf[2048];
    st->cpu_ns_precise = 0;
    st->in_futex = 0;
    st->futex_word = 0;
    int have_state = 1;
    if (running)
        st->state = 'R';
    else
        have_state = reread(&f->syscall_fd, pid, tid, "syscall", buf, 160) > 0 && parse_syscall(buf, st) == 0;
    int have_cpu = reread(&f->schedstat_fd, pid, tid, "schedstat", buf, 128) > 0 && cpu_from_schedstat(st, buf);
    if (have_state && have_cpu)
        return 0;
    /* what is missing, from stat (which also says when the thread is gone) */
    stat_fields fields;
    memset(&fields, 0, sizeof fields);
    ssize_t n = reread(&f->stat_fd, pid, tid, "stat", buf, sizeof buf);
    if (n <= 0 || parse_stat(buf, (size_t)n, &fields) != 0) {
        hs_thread_files_close(f);
        return -1;
    }
    if (!have_state)
        st->state = fields.state;
    if (!have_cpu)
        set_cpu_time(st, &fields, NULL);
    return 0;
}

int hs_proc_thread_comm(pid_t pid, pid_t tid, char *out, size_t outlen) {
    if (outlen == 0)
        return -1;
    char path[80];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
    char buf[128]; /* comm is at most 64 bytes (TASK_COMM_LEN is 16 today) */
    ssize_t n = read_small_file(path, buf, sizeof buf);
    if (n < 0) {
        out[0] = '\0';
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    copy_string(out, outlen, buf);
    return 0;
}

int hs_proc_children(pid_t pid, pid_t **children, size_t *count) {
    *children = NULL;
    *count = 0;
    DIR *dir = opendir("/proc");
    if (!dir)
        return -1;
    pid_t *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        pid_t candidate = pid_from_name(e->d_name);
        if (candidate <= 0)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)candidate);
        stat_fields st;
        if (read_stat(path, &st) != 0)
            continue; /* exited since readdir */
        if (st.ppid == pid && push_pid(&list, &n, &cap, candidate) != 0) {
            free(list);
            closedir(dir);
            errno = ENOMEM;
            return -1;
        }
    }
    closedir(dir);
    *children = list;
    *count = n;
    return 0;
}
