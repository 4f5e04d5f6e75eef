/*
 * ptrace_stop.h - stopping every thread of another process for a moment,
 * from outside, to read its registers (hotscope record --native, dump
 * --native), and letting it go again (ptrace_stop.c).
 *
 * Per pass: each thread is seized (PTRACE_SEIZE), interrupted
 * (PTRACE_INTERRUPT), waited for, its registers read (PTRACE_GETREGS), and
 * detached (PTRACE_DETACH) once the pass has read its stacks. Nothing stays
 * attached between passes: a seized thread stops at every signal sent to
 * it until its tracer passes the signal on, so staying attached would hold
 * the program's signals (SIGCHLD, SIGINT, timers) until the next pass, and
 * for good if sampling stalled. A thread that stopped about to take a
 * signal gets it back when detached.
 *
 * ptrace belongs to the thread that attached: every call of a pass must
 * come from one thread, and the kernel lets go of whatever a thread still
 * traces when that thread exits, pending stops included. The sampler calls
 * these only from threads that end with their work (its sampling thread,
 * or a thread of their own for one pass), so whatever happens (a thread
 * that never stopped, a crash of the sampling thread) the target is not
 * left stopped.
 *
 * Only the process's own exit belongs to its parent: a tracer in the
 * parent's own process that waits for the exit of its leader would take
 * it from the parent's waitpid (Linux, kernel/exit.c, wait_consider_task:
 * a child traced from its parent's process is reaped as a tracee), so the
 * leader's exit is waited for only when the process is someone else's
 * child (then the tracer must collect it for the parent to see it). Its
 * other threads' exits are collected.
 */
#ifndef HOTSCOPE_PTRACE_STOP_H
#define HOTSCOPE_PTRACE_STOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__x86_64__) && defined(__linux__)
#define HS_HAVE_PTRACE_STOP 1
#else
#define HS_HAVE_PTRACE_STOP 0
#endif

typedef enum {
    HS_STOP_RUNNING = 0,  /* seized and interrupted, not stopped yet */
    HS_STOP_STOPPED = 1,  /* stopped, registers read */
    HS_STOP_LATE = 2,     /* did not stop by the deadline: collected next pass */
    HS_STOP_DYING = 3,    /* exited while held: its exit is collected */
} hs_stop_state;

typedef struct {
    pid_t tid;
    hs_stop_state state;
    int pass_signal;      /* the signal it stopped to take: given back when detached */
    int pass;             /* stopped in this pass (the others are from before) */
    char run_state;       /* its state letter just before it was stopped ('R', 'S', ...):
                             stopped, /proc says 't' */
    uint64_t ip, sp, bp;  /* rip, rsp, rbp */
    int64_t stopped_ns;   /* when it was seen stopped (monotonic) */
} hs_stopped_thread;

typedef struct {
    pid_t pid;
    int own_child;        /* the process is our child: its exit is left to our waitpid */
    hs_stopped_thread *threads;
    size_t count, cap;
    int64_t timeout_ns;   /* how long a pass waits for its threads to stop */
    int64_t stops;        /* thread stops */
    int64_t late;         /* threads not stopped by the deadline */
    int64_t vanished;     /* threads that exited while held */
    int64_t held_ns;      /* time threads spent stopped, from when each was seen
                             stopped to the request to go on: what the program lost
                             (a thread asked to stop that waits for a CPU loses nothing
                             until it gets one, and then stops at once) */
} hs_stopper;

void hs_stopper_init(hs_stopper *s, pid_t pid);

/* Lets everything go (hs_stopper_release with no wait) and frees. */
void hs_stopper_free(hs_stopper *s);

/* Stops every thread of the process (/proc/PID/task). Returns how many
 * stopped, or -1 when the process may not be traced at all (message in
 * err: permission, another tracer). */
int hs_stopper_stop(hs_stopper *s, char *err, size_t errlen);

/* Thread `tid`, stopped in this pass with its registers; NULL otherwise. */
const hs_stopped_thread *hs_stopper_thread(const hs_stopper *s, pid_t tid);

/* Lets the stopped threads go; threads that have not stopped yet stay
 * seized until a later pass (or the end of the calling thread). */
void hs_stopper_resume(hs_stopper *s);

/* hs_stopper_resume, then waits up to wait_ns for late threads to stop
 * and lets them go too; the rest are the kernel's when this thread ends. */
void hs_stopper_release(hs_stopper *s, int64_t wait_ns);

/* Whether this process may trace `pid`: 0, or -1 with a one-line reason.
 * Tried from a thread of its own, which ends at once (nothing stays
 * attached, nothing is stopped). */
int hs_stopper_check(pid_t pid, char *err, size_t errlen);

#endif
