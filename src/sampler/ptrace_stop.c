/*
 * ptrace_stop.c - stopping another process's threads for a pass and
 * letting them go (see ptrace_stop.h).
 *
 * ptrace(2): PTRACE_SEIZE attaches without stopping; PTRACE_INTERRUPT
 * stops the thread in a "PTRACE_EVENT_STOP" (waitid reports CLD_TRAPPED
 * with status SIGTRAP | PTRACE_EVENT_STOP << 8; a group-stop has the stop
 * signal instead of SIGTRAP); a thread may instead stop on its way to take
 * a signal (status: that signal alone), which must be passed on with
 * PTRACE_DETACH's data or it is lost. PTRACE_DETACH needs the thread
 * stopped; one that exited while held is collected with waitid(WEXITED).
 * waitid without WEXITED never takes an exit from anyone, which is how the
 * leader of our own child is waited for (see ptrace_stop.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ptrace_stop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "proc.h"

#if HS_HAVE_PTRACE_STOP

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

/* How long a pass waits for its threads to stop: a running thread stops at
 * once, a runnable one when it next gets a CPU, which on a loaded machine
 * can take a few scheduler ticks; one in uninterruptible sleep (disk I/O)
 * only when that ends, and then it is collected by a later pass. */
#define STOP_TIMEOUT_NS (50 * 1000 * 1000LL)
#define GONE ((hs_stop_state)-1)
#define SPIN_NS (1000 * 1000LL)

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pause_ns(int64_t ns) {
    struct timespec ts = {0, (long)ns};
    nanosleep(&ts, NULL);
}

void hs_stopper_init(hs_stopper *s, pid_t pid) {
    memset(s, 0, sizeof *s);
    s->pid = pid;
    s->own_child = hs_proc_parent(pid) == getpid();
    s->timeout_ns = STOP_TIMEOUT_NS;
}

void hs_stopper_free(hs_stopper *s) {
    /* No ptrace here: this may run in another thread than the tracer's,
     * whose end lets go of whatever it still held. */
    free(s->threads);
    s->threads = NULL;
    s->count = s->cap = 0;
}

/* Drops the records of threads no longer held. */
static void forget_gone(hs_stopper *s) {
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++)
        if (s->threads[i].state != GONE)
            s->threads[kept++] = s->threads[i];
    s->count = kept;
}

/* What waitid says of one held thread now: stopped (and why), exited, or
 * nothing yet (state unchanged). */
static void collect(hs_stopper *s, hs_stopped_thread *th) {
    int options = WSTOPPED | __WALL | WNOHANG;
    if (th->tid != s->pid || !s->own_child)
        options |= WEXITED;
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)th->tid, &si, options) == 0)
            break;
        if (errno != EINTR) { /* ECHILD: not ours (any more) */
            th->state = GONE;
            return;
        }
    }
    if (si.si_pid == 0)
        return;
    if (si.si_code == CLD_TRAPPED || si.si_code == CLD_STOPPED) {
        int sig = si.si_status & 0xff, event = (si.si_status >> 8) & 0xff;
        th->pass_signal = event == 0 ? sig : 0; /* a signal-delivery-stop */
        th->state = HS_STOP_STOPPED;
        th->stopped_ns = now_ns();
    } else { /* CLD_EXITED, CLD_KILLED, CLD_DUMPED: collected */
        th->state = GONE;
        s->vanished++;
    }
}

static void read_registers(hs_stopper *s, hs_stopped_thread *th) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, th->tid, NULL, &regs) != 0) {
        th->state = HS_STOP_DYING; /* killed since it stopped */
        return;
    }
    th->ip = regs.rip;
    th->sp = regs.rsp;
    th->bp = regs.rbp;
    th->pass = 1;
    s->stops++;
}

static hs_stopped_thread *held(hs_stopper *s, pid_t tid) {
    for (size_t i = 0; i < s->count; i++)
        if (s->threads[i].tid == tid)
            return &s->threads[i];
    return NULL;
}

/* The one-line reason PTRACE_SEIZE was refused. */
static void explain_refusal(pid_t pid, pid_t tid, int error, char *err, size_t errlen) {
    pid_t tracer = hs_proc_tracer(pid, tid);
    if (error == EPERM && tracer > 0)
        snprintf(err, errlen, "process %d is already traced by process %d (a debugger or another "
                 "profiler); --native needs to trace it itself", (int)pid, (int)tracer);
    else if (error == EPERM)
        hs_proc_explain_permission(pid, err, errlen);
    else
        snprintf(err, errlen, "cannot trace process %d: %s", (int)pid, strerror(error));
}

int hs_stopper_stop(hs_stopper *s, char *err, size_t errlen) {
    /* Threads held from before: stopped since, still late, or exited. */
    for (size_t i = 0; i < s->count; i++) {
        hs_stopped_thread *th = &s->threads[i];
        th->pass = 0;
        th->run_state = 'D'; /* late: it did not stop while in the kernel */
        collect(s, th);
        if (th->state == HS_STOP_STOPPED)
            read_registers(s, th);
    }
    forget_gone(s);
    pid_t *tids = NULL;
    size_t tid_count = 0;
    if (hs_proc_threads(s->pid, &tids, &tid_count) != 0)
        return 0; /* gone */
    size_t seized = 0;
    int refused = 0;
    for (size_t i = 0; i < tid_count; i++) {
        if (held(s, tids[i]))
            continue;
        char run_state = hs_proc_thread_letter(s->pid, tids[i]);
        if (ptrace(PTRACE_SEIZE, tids[i], NULL, NULL) != 0) {
            if (errno != ESRCH && !refused) /* ESRCH: it has just exited */
                refused = errno;
            continue;
        }
        if (hs_grow((void **)&s->threads, &s->cap, s->count + 1, sizeof *s->threads) != 0)
            break; /* out of memory: this one is let go when the tracer ends */
        hs_stopped_thread *th = &s->threads[s->count++];
        memset(th, 0, sizeof *th);
        th->tid = tids[i];
        th->state = HS_STOP_RUNNING;
        th->run_state = run_state;
        if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) != 0)
            th->state = HS_STOP_DYING;
        seized++;
    }
    /* An exiting process refuses too (EPERM): only a live one is worth a word. */
    if (refused && seized == 0 && s->count == 0 && hs_proc_alive(s->pid)) {
        explain_refusal(s->pid, tid_count ? tids[0] : s->pid, refused, err, errlen);
        free(tids);
        return -1;
    }
    free(tids);
    /* Every thread was interrupted at once; now collect them as they stop:
     * a running thread stops within microseconds, so the first millisecond
     * is polled yielding the CPU (a sleep would hold the threads stopped
     * for longer than their stopping took), then with growing pauses. */
    int64_t started = now_ns(), deadline = started + s->timeout_ns, pause = 50000;
    for (;;) {
        size_t waiting = 0;
        for (size_t i = 0; i < s->count; i++) {
            hs_stopped_thread *th = &s->threads[i];
            if (th->state != HS_STOP_RUNNING && th->state != HS_STOP_DYING)
                continue;
            collect(s, th);
            if (th->state == HS_STOP_STOPPED)
                read_registers(s, th);
            else if (th->state == HS_STOP_RUNNING)
                waiting++;
        }
        int64_t now = now_ns();
        if (!waiting || now >= deadline)
            break;
        if (now - started < SPIN_NS) {
            sched_yield();
            continue;
        }
        pause_ns(pause);
        pause = pause < 1000000 ? pause * 2 : pause;
    }
    int stopped = 0;
    for (size_t i = 0; i < s->count; i++) {
        hs_stopped_thread *th = &s->threads[i];
        if (th->state == HS_STOP_RUNNING) {
            th->state = HS_STOP_LATE;
            s->late++;
        }
        stopped += th->state == HS_STOP_STOPPED && th->pass;
    }
    forget_gone(s);
    return stopped;
}

const hs_stopped_thread *hs_stopper_thread(const hs_stopper *s, pid_t tid) {
    for (size_t i = 0; i < s->count; i++) {
        const hs_stopped_thread *th = &s->threads[i];
        if (th->tid == tid)
            return th->state == HS_STOP_STOPPED && th->pass ? th : NULL;
    }
    return NULL;
}

/* Lets one stopped thread go, giving back the signal it stopped for. */
static void let_go(hs_stopper *s, hs_stopped_thread *th) {
    /* Timed before the call: the thread runs again during it, and the
     * caller may then wait for a CPU before the call returns. */
    int64_t held = now_ns() - th->stopped_ns;
    if (ptrace(PTRACE_DETACH, th->tid, NULL, (void *)(intptr_t)th->pass_signal) == 0) {
        th->state = GONE;
        s->held_ns += held;
        return;
    }
    /* Not in a stop any more: killed (SIGKILL ends a stop) and exiting.
     * Its exit is collected here or by a later pass. */
    th->state = HS_STOP_DYING;
    for (int tries = 0; tries < 5 && th->state == HS_STOP_DYING; tries++) {
        collect(s, th);
        if (th->state == HS_STOP_STOPPED) { /* stopped again after all */
            let_go(s, th);
            return;
        }
        if (th->state == HS_STOP_DYING)
            pause_ns(100000);
    }
}

void hs_stopper_resume(hs_stopper *s) {
    for (size_t i = 0; i < s->count; i++) {
        hs_stopped_thread *th = &s->threads[i];
        if (th->state == HS_STOP_STOPPED)
            let_go(s, th);
        else if (th->state == HS_STOP_DYING)
            collect(s, th);
    }
    forget_gone(s);
}

void hs_stopper_release(hs_stopper *s, int64_t wait_ns) {
    hs_stopper_resume(s);
    int64_t deadline = now_ns() + wait_ns;
    while (s->count && now_ns() < deadline) {
        for (size_t i = 0; i < s->count; i++) {
            hs_stopped_thread *th = &s->threads[i];
            collect(s, th);
            if (th->state == HS_STOP_STOPPED)
                let_go(s, th);
        }
        forget_gone(s);
        if (s->count)
            pause_ns(200000);
    }
    /* What is left goes with the calling thread. */
    s->count = 0;
}

typedef struct {
    pid_t pid;
    int error;
} check_args;

static void *try_seize(void *arg) {
    check_args *a = arg;
    /* Attaching stops nothing; the thread's end lets go of it. */
    a->error = ptrace(PTRACE_SEIZE, a->pid, NULL, NULL) == 0 ? 0 : errno;
    return NULL;
}

int hs_stopper_check(pid_t pid, char *err, size_t errlen) {
    check_args a = {pid, 0};
    pthread_t thread;
    if (pthread_create(&thread, NULL, try_seize, &a) != 0) {
        snprintf(err, errlen, "cannot start a thread");
        return -1;
    }
    pthread_join(thread, NULL);
    if (a.error == 0)
        return 0;
    explain_refusal(pid, pid, a.error, err, errlen);
    return -1;
}

#else

void hs_stopper_init(hs_stopper *s, pid_t pid) {
    memset(s, 0, sizeof *s);
    s->pid = pid;
}
void hs_stopper_free(hs_stopper *s) {
    (void)s;
}
int hs_stopper_stop(hs_stopper *s, char *err, size_t errlen) {
    (void)s;
    snprintf(err, errlen, "--native works on x86-64 Linux only");
    return -1;
}
const hs_stopped_thread *hs_stopper_thread(const hs_stopper *s, pid_t tid) {
    (void)s;
    (void)tid;
    return NULL;
}
void hs_stopper_resume(hs_stopper *s) {
    (void)s;
}
void hs_stopper_release(hs_stopper *s, int64_t wait_ns) {
    (void)s;
    (void)wait_ns;
}
int hs_stopper_check(pid_t pid, char *err, size_t errlen) {
    (void)pid;
    snprintf(err, errlen, "--native works on x86-64 Linux only");
    return -1;
}

#endif
