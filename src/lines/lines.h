/*
 * lines.h - the line profiler (hotscope._core.LineProfiler): per-line hit
 * counts and times for selected functions only, the engine behind
 * `hotscope lines`, @hotscope.profile and hotscope.lines().
 *
 * Only the selected code objects cost anything: on 3.12+ sys.monitoring
 * LINE events are switched on for those code objects alone (local events,
 * hooks_monitoring.c); before 3.12 a C trace function is installed only
 * while a selected frame is being evaluated, as the frame evaluation hook
 * sees (hooks_evalframe.c; a profile function where that hook is taken,
 * hooks_legacy.c). Both reduce events to three calls:
 *   enter: a selected frame starts or resumes   (push an activation)
 *   line:  it reaches a new line                (charge the previous line)
 *   leave: it returns, yields or unwinds        (charge the last line, pop)
 * A line's time runs from its line event to the next event of the same
 * activation, so it includes the calls it makes, as kernprof reports it.
 * Recursion and generators are separate activations on a per-thread stack.
 */
#ifndef HOTSCOPE_LINES_H
#define HOTSCOPE_LINES_H

#include "../compat.h"
#include "../tracer/clock.h"

/* What is recorded for one selected code object. */
typedef struct {
    PyObject *code;      /* strong reference; its address is the key */
    int first_line;      /* lines are first_line .. first_line + line_count - 1 */
    int line_count;
    int64_t *hits;       /* per line: line events, as the interpreter counts them */
    uint64_t *ticks;     /* per line: clock ticks charged */
    int64_t calls;       /* frames started (not generator resumptions) */
    int door_sought;     /* 3.11: a door was looked for in one of its frames
                          * this session (chosen_func.c, claiming) */
} hs_code_lines;

/* One running frame of a selected code object. */
typedef struct {
    hs_code_lines *entry;
    int line;            /* line being timed, 0 before the first line event */
    uint64_t since;      /* ticks when that line started */
} hs_activation;

/* One OS thread's running selected frames. */
typedef struct {
    const void *key;     /* the thread's key (lines_core.c, thread_key) */
    hs_activation *stack;
    size_t depth, cap;
} hs_line_thread;

typedef struct {
    PyObject_HEAD
    hs_clock clock;
    hs_code_lines **codes;      /* entries, in selection order */
    size_t code_count, code_cap;
    hs_code_lines **code_slots; /* open-addressing index by code address */
    size_t code_slot_count;
    hs_code_lines *last_code;   /* the entry found last: most events repeat it */
    hs_line_thread **threads;   /* each allocated apart: a thread's address
                                 * stays valid while threads are added */
    size_t thread_count, thread_cap;
    uint64_t epoch;             /* names this profiler's thread stacks in each
                                 * thread's cache (lines_core.c); 0: not yet */
    int enabled;
    int tool_id;                /* sys.monitoring tool id while enabled (3.12+) */
    uint64_t started_ticks;     /* first enable, for the duration */
    uint64_t enabled_ticks;     /* ticks spent enabled over all enable/disable */
    uint64_t enable_mark;
    PyObject *disable;          /* 3.12+: sys.monitoring.DISABLE */
    int frame_layout_ok;        /* before 3.12: legacy_frame.h may be used */
    int via_evalhook;           /* before 3.12: driven by the frame evaluation
                                 * hook (hooks_evalframe.c), not a profile function */
    uint64_t session;           /* before 3.12: enables so far; an evaluation that
                                 * began under an earlier one is not closed by this one */
    int64_t open_windows;       /* before 3.12: selected frames running with the
                                 * trace function that their evaluation installed */
    int64_t unrecorded_runs;    /* before 3.12, since enable: runs of selected frames
                                 * left unrecorded, as another trace function had their
                                 * thread (sys.settrace, a debugger, coverage) */
    PyObject *doors;            /* list of function objects of selected code (add_function),
                                 * or NULL; 3.11 marks them to take the hook on demand
                                 * (chosen_func.c) */
    int hook_on_demand;         /* 3.11: this session holds the hook on demand */
    int claiming;               /* 3.11: held for good, as doors are missing that a
                                 * chosen frame may bring (chosen_func.c, claiming) */
    PyObject *thread_hook;      /* before 3.12: threading.setprofile hook (profile path) */
    PyObject *saved_thread_hook;
    PyObject *weakreflist;
} LineProfilerObject;

/* The entry of a selected code object, or NULL when it is not selected. */
static inline hs_code_lines *hs_lines_find(LineProfilerObject *lp, const void *code) {
    if (lp->last_code && lp->last_code->code == code)
        return lp->last_code;
    if (!lp->code_slot_count)
        return NULL;
    size_t mask = lp->code_slot_count - 1;
    for (size_t i = ((uintptr_t)code >> 4) & mask; lp->code_slots[i]; i = (i + 1) & mask) {
        if (lp->code_slots[i]->code == code)
            return lp->last_code = lp->code_slots[i];
    }
    return NULL;
}

/* ---- the calling thread's stack ---------------------------------------- */

/* What each OS thread remembers of the stack it used last (lines_core.c
 * says why and when it is valid). Initial-exec TLS: one load from the
 * thread pointer (src/tracer/tracer.h asks for the static TLS block too). */
typedef struct {
    const LineProfilerObject *lp;
    uint64_t epoch;
    hs_line_thread *stack;
} hs_lines_thread_cache;

extern __thread hs_lines_thread_cache hs_lines_this_thread __attribute__((tls_model("initial-exec")));

/* Finds or makes the calling thread's stack and remembers it; NULL when
 * memory runs out (the event is then not recorded). */
hs_line_thread *hs_lines_thread_slow(LineProfilerObject *lp);

/* The calling thread's stack (or NULL, as above). A profiler's epoch is
 * never 0 once a thread has remembered it. */
static inline hs_line_thread *hs_lines_thread(LineProfilerObject *lp) {
    const hs_lines_thread_cache *c = &hs_lines_this_thread;
    if (c->lp == lp && c->epoch == lp->epoch)
        return c->stack;
    return hs_lines_thread_slow(lp);
}

/* Charges the activation's line with the time since it started. */
static inline void hs_lines_charge(hs_activation *a, uint64_t now) {
    int i = a->line - a->entry->first_line;
    if (a->line != 0 && i >= 0 && i < a->entry->line_count)
        a->entry->ticks[i] += now - a->since;
}

/* ---- events ------------------------------------------------------------ */

/* The engine's three events (lines_core.c). `now` is in clock ticks. */
void hs_lines_enter(LineProfilerObject *lp, hs_code_lines *entry, int is_start);

/* hs_lines_line's whole work, for the events its inline part leaves. */
void hs_lines_line_slow(LineProfilerObject *lp, const void *code, int line, int repeat, uint64_t now);

/* A line event of a frame running `code`; nothing when the code object is
 * not selected. With `repeat` 0 a line event for the line already being
 * timed is ignored: on 3.12+ a backward jump has counted it already (see
 * hooks_monitoring.c). With 1 every event counts (the legacy hooks, whose
 * events already follow sys.settrace's rules). Inline, the usual case: the
 * thread's innermost selected frame goes on to another line. */
static inline void hs_lines_line(LineProfilerObject *lp, const void *code, int line, int repeat, uint64_t now) {
    hs_line_thread *t = hs_lines_thread(lp);
    hs_activation *a = t && t->depth ? &t->stack[t->depth - 1] : NULL;
    if (a && a->entry->code == code && a->line != line) {
        hs_code_lines *entry = a->entry;
        int i = line - entry->first_line;
        if (i >= 0 && i < entry->line_count) {
            entry->hits[i]++;
            hs_lines_charge(a, now);
            a->line = line;
            a->since = now;
            return;
        }
    }
    hs_lines_line_slow(lp, code, line, repeat, now);
}
void hs_lines_leave(LineProfilerObject *lp, hs_code_lines *entry, uint64_t now);

/* Charges every running line of every thread up to `now` and empties
 * the stacks, as if all selected frames had left (on disable). */
void hs_lines_close_all(LineProfilerObject *lp, uint64_t now);

/* How many selected frames the calling thread has running. */
size_t hs_lines_depth(LineProfilerObject *lp);

/* Selects a code object; 1 if added, 0 if already selected, -1 on error. */
int hs_lines_select(LineProfilerObject *lp, PyObject *code);
void hs_lines_clear(LineProfilerObject *lp);

/* The interpreter hooks: one implementation per hook mechanism. */
int hs_lines_hooks_install(LineProfilerObject *lp);
int hs_lines_hooks_remove(LineProfilerObject *lp);
/* While enabled: 3.12+ switches LINE events on for one more code object;
 * before 3.12 the frame evaluation hook learns of it, or of a new door
 * (entry NULL: lines_type.c, add_function). */
int hs_lines_hooks_watch(LineProfilerObject *lp, hs_code_lines *entry);

#endif
