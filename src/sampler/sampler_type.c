/*
 * sampler_type.c - hotscope._core.Sampler: the sampling engine as a Python
 * object. The sampling loop runs in a native thread of its own that never
 * touches the Python API or the GIL, so sampling this very process
 * (hotscope.sample()) works as well as sampling another one; a mutex
 * guards the profile between that thread and snapshot()/stats.
 */
#include "../compat.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <time.h>

#include "../pymod/module.h"
#include "native_sample.h"
#include "pyobj.h"
#include "sampler.h"
#include "thread_names.h"

typedef struct {
    PyObject_HEAD
    hs_sampler s;
    int ready;
    pthread_mutex_t lock;
    pthread_t thread;
    int thread_started;
    atomic_int stop_requested;
    atomic_int loop_done;     /* every target exited */
    int follow;               /* keep going when every target has exited: the caller
                                 adds new ones (record --subprocesses) and stops it */
    int64_t interval_ns;
    int64_t started_ns, stopped_ns;
    /* The period take() hands over next began at this monotonic time,
     * after this many passes. Its wall-clock time is the monotonic one
     * plus wall_offset_ns, so that each period starts exactly where the
     * previous one ended; re-read when the wall clock is set. */
    int64_t period_start_ns, period_start_passes, wall_offset_ns;
    int64_t late_passes;      /* passes that started a whole interval late */
    PyTypeObject *profile_type;
} SamplerObject;

static const char *mode_names[] = {"wall", "cpu", "gil"};

static int64_t wall_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Attaches, retrying while the process is alive but its interpreter not
 * started yet, for up to `wait` seconds (GIL released while waiting). */
static int attach(SamplerObject *self, pid_t pid, double wait) {
    char err[512] = "";
    int64_t start = hs_sampler_now_ns();
    int64_t deadline = start + (int64_t)(wait * 1e9);
    for (;;) {
        int status;
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&self->lock);
        status = hs_sampler_add(&self->s, pid, err, sizeof err);
        pthread_mutex_unlock(&self->lock);
        Py_END_ALLOW_THREADS
        if (status == 0)
            return 0;
        int64_t now = hs_sampler_now_ns();
        if (status < 0 || now >= deadline || !hs_proc_alive(pid))
            break;
        /* A program that has run for a while without any _PyRuntime mapped
         * is not Python (a shell, a native tool): no point waiting longer. */
        if (strstr(err, "does not look like Python") && now - start > 1500 * 1000 * 1000LL)
            break;
        struct timespec pause = {0, 10 * 1000 * 1000};
        Py_BEGIN_ALLOW_THREADS
        nanosleep(&pause, NULL);
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
    PyObject *type = PyExc_RuntimeError;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        type = PyExc_ProcessLookupError;
    else if (strncmp(err, "permission denied", 17) == 0)
        type = PyExc_PermissionError;
    PyErr_SetString(type, err[0] ? err : "cannot attach");
    return -1;
}

/* --native: whether the process may be traced (PTRACE_SEIZE from a thread
 * that ends at once: nothing stays attached). */
static int check_native(pid_t pid) {
    char err[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = hs_stopper_check(pid, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc == 0)
        return 0;
    PyErr_SetString(strstr(err, "permission denied") || strstr(err, "already traced")
                        ? PyExc_PermissionError : PyExc_RuntimeError, err);
    return -1;
}

/* --native: lets go of every thread still held (ones that stopped late);
 * called by the thread that made the passes, before it ends. */
static void release_native(SamplerObject *self, int64_t wait_ns) {
    for (size_t i = 0; i < self->s.target_count; i++)
        if (self->s.targets[i].native)
            hs_native_release(self->s.targets[i].native, wait_ns);
}

static PyObject *sampler_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    SamplerObject *self = (SamplerObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    hs_module_state *state = hs_state_from_type(type);
    if (!state) {
        Py_DECREF(self);
        return NULL;
    }
    self->profile_type = (PyTypeObject *)Py_NewRef(state->profile_type);
    pthread_mutex_init(&self->lock, NULL);
    return (PyObject *)self;
}

static int sampler_init(SamplerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"pid", "rate", "mode", "idle", "wait", "native", NULL};
    int pid;
    double rate = 100.0, wait = 0.0;
    const char *mode = "wall";
    int idle = 0, native = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|dspdp:Sampler", kwlist, &pid, &rate, &mode,
                                     &idle, &wait, &native))
        return -1;
    if (self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler already initialised");
        return -1;
    }
    if (!(rate > 0 && rate <= 100000)) {
        PyErr_Format(PyExc_ValueError, "rate must be between 0 and 100000 Hz, not %g", rate);
        return -1;
    }
    int mode_index = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(mode, mode_names[i]) == 0)
            mode_index = i;
    if (mode_index < 0) {
        PyErr_Format(PyExc_ValueError, "mode must be 'wall', 'cpu' or 'gil', not '%s'", mode);
        return -1;
    }
    if (pid <= 0) {
        PyErr_Format(PyExc_ValueError, "invalid PID %d", pid);
        return -1;
    }
    if (native && !HS_HAVE_PTRACE_STOP) {
        PyErr_SetString(PyExc_ValueError, "native frames can be read on x86-64 Linux only");
        return -1;
    }
    if (native && pid == getpid()) {
        PyErr_SetString(PyExc_ValueError, "native frames of this very process cannot be read "
                        "(a process cannot stop its own threads to read them)");
        return -1;
    }
    self->interval_ns = (int64_t)(1e9 / rate);
    self->wall_offset_ns = wall_now_ns() - hs_sampler_now_ns();
    if (hs_sampler_init(&self->s, (hs_sample_mode)mode_index, idle, self->interval_ns) != 0) {
        PyErr_NoMemory();
        return -1;
    }
    self->s.native = native;
    self->ready = 1;
    if (attach(self, (pid_t)pid, wait) != 0)
        return -1;
    return native ? check_native(pid) : 0;
}

static PyObject *sampler_add_process(SamplerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"pid", "wait", NULL};
    int pid;
    double wait = 0.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|d:add_process", kwlist, &pid, &wait))
        return NULL;
    /* checked first: a process added could not be left out again */
    if ((self->s.native && check_native((pid_t)pid) != 0) || attach(self, (pid_t)pid, wait) != 0)
        return NULL;
    Py_RETURN_NONE;
}

static void *sampling_loop(void *arg) {
    SamplerObject *self = arg;
    /* Signals belong to the Python program: never let one land here. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    /* The default 50 us timer slack would cap the rate near 10 kHz and
     * blur the intervals: ask for 1 us, for this thread only. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    /* Each interval is drawn uniformly from half to one and a half times
     * the nominal one (the rate is kept on average): at a fixed interval a
     * program whose loop takes that interval, or a multiple of it, would be
     * sampled at the same point of the loop every time, and the profile
     * would show one part of it only (aliasing). xorshift64, per loop. */
    uint64_t random_state = ((uint64_t)next.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)self) | 1;
    while (!atomic_load(&self->stop_requested)) {
        pthread_mutex_lock(&self->lock);
        size_t alive = hs_sampler_pass(&self->s, hs_sampler_now_ns());
        pthread_mutex_unlock(&self->lock);
        if (alive == 0 && !self->follow) {
            atomic_store(&self->loop_done, 1);
            break;
        }
        random_state ^= random_state << 13;
        random_state ^= random_state >> 7;
        random_state ^= random_state << 17;
        int64_t jitter = (int64_t)((random_state >> 11) % (uint64_t)(self->interval_ns > 0 ? self->interval_ns : 1));
        int64_t t = (int64_t)next.tv_sec * 1000000000LL + next.tv_nsec + self->interval_ns / 2 + jitter;
        int64_t now = hs_sampler_now_ns();
        int late = t < now;
        if (late) { /* fell behind: skip the missed ticks rather than burst */
            self->late_passes++;
            t = now;
        }
        next.tv_sec = t / 1000000000LL;
        next.tv_nsec = t % 1000000000LL;
        /* already due: go straight on (a sleep would only cost a system call) */
        while (!late && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    pthread_mutex_lock(&self->lock);
    release_native(self, 200 * 1000 * 1000LL);
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

static int check_ready(SamplerObject *self) {
    if (!self->ready || self->s.target_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler is not attached to a process");
        return -1;
    }
    return 0;
}

static PyObject *sampler_start(SamplerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"follow", "label_pids", NULL};
    int follow = 0, label_pids = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|pp:start", kwlist, &follow, &label_pids))
        return NULL;
    if (check_ready(self) < 0)
        return NULL;
    if (self->thread_started) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler already started");
        return NULL;
    }
    atomic_store(&self->stop_requested, 0);
    self->follow = follow;
    self->s.label_pids = label_pids;
    self->started_ns = hs_sampler_now_ns();
    self->period_start_ns = self->started_ns;
    self->wall_offset_ns = wall_now_ns() - self->started_ns;
    self->period_start_passes = self->s.passes;
    int rc = pthread_create(&self->thread, NULL, sampling_loop, self);
    if (rc != 0) {
        errno = rc;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    self->thread_started = 1;
    Py_RETURN_NONE;
}

static void stop_thread(SamplerObject *self) {
    if (!self->thread_started)
        return;
    atomic_store(&self->stop_requested, 1);
    pthread_join(self->thread, NULL);
    self->thread_started = 0;
    self->stopped_ns = hs_sampler_now_ns();
}

static PyObject *sampler_stop(SamplerObject *self, PyObject *unused) {
    (void)unused;
    Py_BEGIN_ALLOW_THREADS
    stop_thread(self);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* --native: one pass in a thread of its own, which lets go of everything. */
typedef struct {
    SamplerObject *self;
    size_t alive;
} native_pass;

static void pass_in_own_thread(void *arg) {
    native_pass *job = arg;
    job->alive = hs_sampler_pass(&job->self->s, hs_sampler_now_ns());
    release_native(job->self, 1000 * 1000 * 1000LL);
}

/* One pass now, in the calling thread (the loop must not be running). */
static PyObject *sampler_sample(SamplerObject *self, PyObject *unused) {
    (void)unused;
    if (check_ready(self) < 0)
        return NULL;
    if (self->thread_started) {
        PyErr_SetString(PyExc_RuntimeError, "sample() while the sampling thread runs");
        return NULL;
    }
    size_t alive;
    native_pass job = {self, 0};
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&self->lock);
    if (self->s.native)
        hs_native_in_own_thread(pass_in_own_thread, &job);
    else
        job.alive = hs_sampler_pass(&self->s, hs_sampler_now_ns());
    alive = job.alive;
    pthread_mutex_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    return PyLong_FromSize_t(alive);
}

/* duration_ns and passes: of the whole recording (snapshot) or of one
 * period (take). */
static void add_metadata(SamplerObject *self, hs_profile *p, int64_t duration_ns, int64_t passes) {
    char value[64];
    hs_meta_set(p, "engine", "sample");
    hs_meta_set(p, "clock", self->s.mode == HS_MODE_CPU ? "cpu" : "wall");
    hs_meta_set(p, "mode", mode_names[self->s.mode]);
    snprintf(value, sizeof value, "%lld", (long long)duration_ns);
    hs_meta_set(p, "duration_ns", value);
    snprintf(value, sizeof value, "%g", 1e9 / (double)self->interval_ns);
    hs_meta_set(p, "rate_hz", value);
    snprintf(value, sizeof value, "%lld", (long long)passes);
    hs_meta_set(p, "samples", value);
    snprintf(value, sizeof value, "%lld", (long long)self->s.torn);
    hs_meta_set(p, "dropped", value);
    if (self->s.native)
        hs_meta_set(p, "native_frames", "1");
    if (self->s.target_count) {
        const hs_target *t = &self->s.targets[0].target;
        snprintf(value, sizeof value, "3.%d", t->version_minor);
        hs_meta_set(p, "python", value);
        snprintf(value, sizeof value, "%d", (int)t->pid);
        hs_meta_set(p, "pid", value);
    }
}

static PyObject *sampler_snapshot(SamplerObject *self, PyObject *unused) {
    (void)unused;
    if (check_ready(self) < 0)
        return NULL;
    hs_profile *copy;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&self->lock);
    copy = hs_profile_clone(self->s.profile);
    pthread_mutex_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (!copy)
        return PyErr_NoMemory();
    int64_t end = self->thread_started ? hs_sampler_now_ns() : self->stopped_ns;
    add_metadata(self, copy, self->started_ns ? end - self->started_ns : 0, self->s.passes);
    return hs_profile_data_new(self->profile_type, copy);
}

/* The period since start() or the previous take(): its own profile, and
 * the sampler goes on into the next (period.c). Its metadata says when it
 * began (start_ns, wall clock) and how long it lasted: periods follow each
 * other with neither gap nor overlap, as both come from one switch. */
static PyObject *sampler_take(SamplerObject *self, PyObject *unused) {
    (void)unused;
    if (check_ready(self) < 0)
        return NULL;
    hs_profile *period;
    int64_t start, start_wall, passes, end;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&self->lock);
    end = hs_sampler_now_ns();
    /* Stopped: the period ends when sampling did. */
    if (!self->thread_started && self->stopped_ns > self->period_start_ns)
        end = self->stopped_ns;
    start = self->period_start_ns ? self->period_start_ns : end;
    start_wall = start + self->wall_offset_ns;
    passes = self->s.passes - self->period_start_passes;
    period = hs_sampler_take_period(&self->s, end);
    if (period) {
        self->period_start_ns = end;
        self->period_start_passes = self->s.passes;
        /* The wall clock was set (more than 1 s off): the next period
         * starts at its new time, leaving the gap or overlap it made. */
        int64_t drift = wall_now_ns() - (hs_sampler_now_ns() + self->wall_offset_ns);
        if (drift > 1000000000LL || drift < -1000000000LL)
            self->wall_offset_ns += drift;
    }
    pthread_mutex_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (!period)
        return PyErr_NoMemory();
    add_metadata(self, period, end - start, passes);
    char value[32];
    snprintf(value, sizeof value, "%lld", (long long)start_wall);
    hs_meta_set(period, "start_ns", value);
    return hs_profile_data_new(self->profile_type, period);
}

/* --native's counters, summed over the targets: thread stops, threads that
 * did not stop in time, thread samples without native frames, merges whose
 * eval-loop frames and Python calls did not pair, native stacks not
 * unwound to their outermost frame, the time threads were held stopped;
 * and the last reason a target could not be stopped. */
static int add_native_stats(const hs_sampler *s, PyObject *d) {
    long long counts[6] = {0, 0, 0, 0, 0, 0};
    const char *error = "";
    for (size_t i = 0; i < s->target_count; i++) {
        const hs_native_target *n = s->targets[i].native;
        if (!n)
            continue;
        counts[0] += n->stopper.stops;
        counts[1] += n->stopper.late;
        counts[2] += n->unavailable;
        counts[3] += n->mismatched;
        counts[4] += n->incomplete;
        counts[5] += n->stopper.held_ns;
        if (n->error[0])
            error = n->error;
    }
    static const char *const names[] = {"native_stops", "native_late", "native_unavailable",
                                        "native_mismatched", "native_incomplete", "native_held_ns"};
    for (int i = 0; i < 6; i++) {
        PyObject *v = PyLong_FromLongLong(counts[i]);
        if (!v || PyDict_SetItemString(d, names[i], v) < 0) {
            Py_XDECREF(v);
            return -1;
        }
        Py_DECREF(v);
    }
    PyObject *v = PyUnicode_FromString(error);
    int rc = v ? PyDict_SetItemString(d, "native_error", v) : -1;
    Py_XDECREF(v);
    return rc;
}

static PyObject *sampler_stats(SamplerObject *self, void *closure) {
    (void)closure;
    if (check_ready(self) < 0)
        return NULL;
    pthread_mutex_lock(&self->lock);
    hs_sampler *s = &self->s;
    int64_t resolved = 0, invalidated = 0, tracked = 0;
    PyObject *pids = PyList_New(0);
    for (size_t i = 0; pids && i < s->target_count; i++) {
        resolved += (int64_t)s->targets[i].codes.resolved;
        invalidated += (int64_t)s->targets[i].codes.invalidated;
        tracked += (int64_t)s->targets[i].thread_count;
        PyObject *pid = Py_BuildValue("(iiO)", (int)s->targets[i].target.pid,
                                      s->targets[i].target.version_minor,
                                      s->targets[i].gone ? Py_False : Py_True);
        if (!pid || PyList_Append(pids, pid) < 0) {
            Py_XDECREF(pid);
            Py_CLEAR(pids);
        } else {
            Py_DECREF(pid);
        }
    }
    PyObject *d = pids ? Py_BuildValue(
        "{s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:N,s:O}",
        "passes", (long long)s->passes, "thread_samples", (long long)s->thread_samples,
        "idle_skipped", (long long)s->idle_skipped, "dropped", (long long)s->torn,
        "dropped_moved", (long long)s->torn_moved, "dropped_invalid", (long long)s->torn_invalid,
        "reread", (long long)s->reread, "cut", (long long)s->cut,
        "truncated", (long long)s->truncated, "late", (long long)self->late_passes,
        "gc_samples", (long long)s->gc_samples, "task_waits", (long long)s->task_waits,
        "code_objects", (long long)resolved, "code_invalidated", (long long)invalidated,
        /* what the sampler holds now: threads it follows, frames it knows
         * (bounded in continuous recording: period.c) */
        "threads_tracked", (long long)tracked, "frames_known", (long long)s->profile->frame_count,
        "processes", pids, "finished", atomic_load(&self->loop_done) ? Py_True : Py_False)
                         : NULL;
    if (d && s->native && add_native_stats(s, d) < 0)
        Py_CLEAR(d);
    pthread_mutex_unlock(&self->lock);
    return d;
}

/* ---- dump: every thread's stack once, as Python objects ---------------- */

static PyObject *frame_locals(const hs_target *t, const hs_raw_frame *f) {
    const hs_pylayout *l = &t->layout;
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    uint8_t header[512];
    size_t span = hs_pylayout_code_span(l);
    if (span > sizeof header || hs_proc_read(&t->proc, f->code, header, span) != 0)
        return out;
    uint64_t names;
    memcpy(&names, header + l->code_localsplusnames, sizeof names);
    int64_t count;
    if (!names || hs_proc_read(&t->proc, names + (uint64_t)l->varobject_size, &count, sizeof count) != 0)
        return out;
    if (count < 0 || count > 256)
        count = count < 0 ? 0 : 256;
    for (int64_t i = 0; i < count; i++) {
        uint64_t name_ptr, value_ptr;
        char name[128], repr[256];
        if (hs_proc_read(&t->proc, names + (uint64_t)l->tuple_item + 8 * (uint64_t)i, &name_ptr, 8) != 0 ||
            hs_read_str(&t->proc, l, name_ptr, name, sizeof name) < 0)
            break;
        if (hs_proc_read(&t->proc, f->frame + (uint64_t)l->frame_localsplus + 8 * (uint64_t)i,
                         &value_ptr, 8) != 0)
            break;
        if (!value_ptr)
            continue; /* not bound yet */
        if (hs_read_repr(&t->proc, l, value_ptr, repr, sizeof repr) != 0)
            snprintf(repr, sizeof repr, "<unreadable>");
        PyObject *pair = Py_BuildValue("(ss)", name, repr);
        if (!pair || PyList_Append(out, pair) < 0) {
            Py_XDECREF(pair);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(pair);
    }
    return out;
}

/* One Python frame of a dump: name, file, line and (with_locals) locals. */
static PyObject *python_frame_item(SamplerObject *self, hs_sample_target *st, const hs_raw_frame *f,
                                   int with_locals) {
    hs_target *t = &st->target;
    size_t span = hs_pylayout_code_span(&t->layout);
    uint8_t header[512];
    hs_code_entry *e = NULL;
    if (span <= sizeof header && hs_proc_read(&t->proc, f->code, header, span) == 0)
        e = hs_codecache_get(&st->codes, t, self->s.profile, f->code, header);
    if (!e)
        return Py_BuildValue("{s:s,s:s,s:i,s:O}", "name", "<unreadable>", "file", "?", "line", 0,
                             "locals", Py_None);
    hs_id frame = hs_codecache_frame(e, t, self->s.profile, f->offset);
    const hs_frame *fr = frame != HS_NONE ? hs_frame_get(self->s.profile, frame) : NULL;
    PyObject *locals = with_locals ? frame_locals(t, f) : (Py_INCREF(Py_None), Py_None);
    if (!fr || !locals) {
        Py_XDECREF(locals);
        return fr ? NULL : PyErr_NoMemory();
    }
    return Py_BuildValue("{s:s,s:s,s:i,s:N}", "name", hs_str(self->s.profile, e->name, NULL),
                         "file", hs_str(self->s.profile, e->file, NULL), "line", (int)fr->line,
                         "locals", locals);
}

/* One native frame of a dump (--native): its function and object file. */
static PyObject *native_frame_item(hs_sample_target *st, const hs_native_dump_frame *f) {
    char buf[32];
    const char *file;
    const char *name = hs_native_frame_name(st->native, f->pc, f->leaf, buf, sizeof buf, &file);
    return Py_BuildValue("{s:s,s:s,s:i,s:O,s:O}", "name", name, "file", file, "line", 0, "locals",
                         Py_None, "native", Py_True);
}

static PyObject *dump_target(SamplerObject *self, hs_sample_target *st, int with_locals) {
    hs_target *t = &st->target;
    hs_walk_result walk = {0};
    /* One snapshot, not a rate to keep: a busy thread's stack is read again
     * until a read is consistent (3.10 and 3.11 often need more than the
     * sampler's three tries), rather than shown empty. */
    walk.max_attempts = 500;
    walk.whole_stacks = 1;
    /* --native: read while the process is stopped, in a thread of its own
     * (the GIL stays held: that thread never touches Python) */
    hs_native_dump_frame *merged = NULL;
    hs_native_dump_thread *merged_threads = NULL;
    int rc = st->native ? hs_native_dump(st->native, t, &walk, &merged, &merged_threads)
                        : hs_walk_threads(t, &walk);
    if (rc != 0) {
        hs_walk_result_free(&walk);
        return PyErr_Format(PyExc_ProcessLookupError, "process %d: cannot read its threads",
                            (int)t->pid);
    }
    PyObject *threads = PyList_New(0);
    for (size_t i = 0; threads && i < walk.thread_count; i++) {
        const hs_raw_thread *raw = &walk.threads[i];
        hs_thread_state state = {0};
        char name[160];
        if (raw->native_tid > 0)
            hs_proc_thread_state(t->pid, (pid_t)raw->native_tid, &state);
        if (hs_thread_python_name(t, &st->threading_active, raw->pthread_id, name, sizeof name) != 0) {
            if (raw->native_tid == t->pid)
                snprintf(name, sizeof name, "MainThread");
            else
                snprintf(name, sizeof name, "Thread-%lld", (long long)raw->native_tid);
        }
        PyObject *frames = PyList_New(0);
        const hs_native_dump_thread *mt = merged_threads ? &merged_threads[i] : NULL;
        size_t count = mt && mt->native ? mt->count : raw->depth;
        for (size_t k = 0; frames && k < count; k++) {
            PyObject *item;
            if (mt && mt->native) {
                const hs_native_dump_frame *f = &merged[mt->first + k];
                item = f->python ? python_frame_item(self, st, &walk.frames[f->index], with_locals)
                                 : native_frame_item(st, f);
            } else {
                item = python_frame_item(self, st, &walk.frames[raw->first_frame + k], with_locals);
            }
            if (!item || PyList_Append(frames, item) < 0)
                Py_CLEAR(frames);
            Py_XDECREF(item);
        }
        PyObject *th = frames ? Py_BuildValue(
            "{s:i,s:L,s:K,s:s,s:O,s:s#,s:O,s:O,s:O,s:N}", "pid", (int)t->pid, "tid",
            (long long)raw->native_tid, "ident", (unsigned long long)raw->pthread_id, "name",
            name, "gil", raw->holds_gil ? Py_True : Py_False,
            "state", &state.state, (Py_ssize_t)(state.state ? 1 : 0), "truncated",
            raw->truncated ? Py_True : Py_False, "torn", raw->torn ? Py_True : Py_False,
            "native", mt && mt->native ? Py_True : Py_False, "frames", frames) : NULL;
        if (!th || PyList_Append(threads, th) < 0)
            Py_CLEAR(threads);
        Py_XDECREF(th);
    }
    free(merged);
    free(merged_threads);
    hs_walk_result_free(&walk);
    return threads;
}

static PyObject *sampler_dump(SamplerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"locals", NULL};
    int with_locals = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p:dump", kwlist, &with_locals))
        return NULL;
    if (check_ready(self) < 0)
        return NULL;
    PyObject *all = PyList_New(0);
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; all && i < self->s.target_count; i++) {
        PyObject *threads = dump_target(self, &self->s.targets[i], with_locals);
        if (!threads) {
            Py_CLEAR(all);
            break;
        }
        int rc = PyList_SetSlice(all, PyList_GET_SIZE(all), PyList_GET_SIZE(all), threads);
        Py_DECREF(threads);
        if (rc < 0)
            Py_CLEAR(all);
    }
    pthread_mutex_unlock(&self->lock);
    return all;
}

/* The layout read or chosen for the first target, by the names
 * tools/layout_probe.c prints, so tests can compare the two. */
static const struct {
    const char *name;
    size_t offset;
} layout_fields[] = {
#define F(name, field) {name, offsetof(hs_pylayout, field)}
    F("runtime.interpreters_head", runtime_interpreters_head),
    F("runtime.gil_last_holder", runtime_gil_last_holder),
    F("runtime.gil_locked", runtime_gil_locked),
    F("interp.next", interp_next),
    F("interp.threads_head", interp_threads_head),
    F("interp.gil_last_holder", interp_gil_last_holder),
    F("interp.gil_locked", interp_gil_locked),
    F("interp.gc_collecting", interp_gc_collecting),
    F("tstate.next", tstate_next),
    F("tstate.thread_id", tstate_thread_id),
    F("tstate.native_thread_id", tstate_native_thread_id),
    F("tstate.frame", tstate_frame),
    F("cframe.current_frame", cframe_current_frame),
    F("tstate.datastack_chunk", tstate_datastack_chunk),
    F("tstate.datastack_top", tstate_datastack_top),
    F("tstate.datastack_limit", tstate_datastack_limit),
    F("frame.previous", frame_previous),
    F("frame.code", frame_code),
    F("frame.instr", frame_instr),
    F("frame.owner", frame_owner),
    F("frame.is_entry", frame_is_entry),
    F("frame.localsplus", frame_localsplus),
    F("frame.stacktop", frame_stacktop),
    F("frame.state", frame_state),
    F("frame.state_executing", frame_state_executing),
    F("frame.state_unwinding", frame_state_unwinding),
    F("code.filename", code_filename),
    F("code.name", code_name),
    F("code.qualname", code_qualname),
    F("code.linetable", code_linetable),
    F("code.firstlineno", code_firstlineno),
    F("code.code_adaptive", code_code_adaptive),
    F("code.localsplusnames", code_localsplusnames),
    F("code.nlocalsplus", code_nlocalsplus),
    F("code.argcount", code_argcount),
    F("gen.frame", gen_frame),
    F("gen.frame_state", gen_frame_state),
    F("frame.state_created", frame_state_created),
    F("frame.valuestack", frame_valuestack),
    F("frame.saved_stack_depth", frame_saved_stack_depth),
    F("set.mask", set_mask),
    F("set.table", set_table),
    F("weakref.object", weakref_object),
    F("object.type", object_type),
    F("type.name", type_name),
    F("varobject.size", varobject_size),
    F("bytes.sval", bytes_sval),
    F("tuple.item", tuple_item),
    F("unicode.length", unicode_length),
    F("unicode.state", unicode_state),
    F("unicode.ascii_size", unicode_ascii_size),
    F("unicode.compact_size", unicode_compact_size),
    F("float.fval", float_fval),
    F("long.tag", long_tag),
    F("long.digit", long_digit),
    F("interp.modules", interp_modules),
    F("module.dict", module_dict),
    F("dict.keys", dict_keys),
    F("dict.values", dict_values),
    F("dictkeys.log2_size", dictkeys_log2_size),
    F("dictkeys.log2_index_bytes", dictkeys_log2_index_bytes),
    F("dictkeys.kind", dictkeys_kind),
    F("dictkeys.nentries", dictkeys_nentries),
    F("dictkeys.indices", dictkeys_indices),
    F("dictkeys.entry_size", dict_entry_size),
    F("dictkeys.unicode_entry_size", dict_unicode_entry_size),
    F("dictvalues.values", dictvalues_values),
    F("type.managed_dict_flag", type_managed_dict_flag),
    F("type.inline_values_flag", type_inline_values_flag),
    F("type.flags", type_flags),
    F("type.basicsize", type_basicsize),
    F("type.dictoffset", type_dictoffset),
    F("heaptype.cached_keys", heaptype_cached_keys),
#undef F
};

static PyObject *sampler_get_layout(SamplerObject *self, void *closure) {
    (void)closure;
    if (check_ready(self) < 0)
        return NULL;
    const hs_pylayout *l = &self->s.targets[0].target.layout;
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < sizeof layout_fields / sizeof layout_fields[0]; i++) {
        int64_t value;
        memcpy(&value, (const char *)l + layout_fields[i].offset, sizeof value);
        PyObject *v = PyLong_FromLongLong((long long)value);
        if (!v || PyDict_SetItemString(d, layout_fields[i].name, v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    if (d) {
        PyObject *v = PyLong_FromLong(l->owned_by_cstack);
        if (!v || PyDict_SetItemString(d, "frame.owned_by_cstack", v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

static PyObject *sampler_get_running(SamplerObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->thread_started && !atomic_load(&self->loop_done));
}

static PyObject *sampler_get_finished(SamplerObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(atomic_load(&self->loop_done));
}

static int sampler_traverse(SamplerObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->profile_type);
    return 0;
}

static int sampler_clear(SamplerObject *self) {
    Py_CLEAR(self->profile_type);
    return 0;
}

static void sampler_dealloc(SamplerObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_BEGIN_ALLOW_THREADS
    stop_thread(self);
    Py_END_ALLOW_THREADS
    if (self->ready)
        hs_sampler_free(&self->s);
    pthread_mutex_destroy(&self->lock);
    sampler_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef sampler_methods[] = {
    {"add_process", (PyCFunction)(void (*)(void))sampler_add_process, METH_VARARGS | METH_KEYWORDS,
     "add_process(pid, wait=0.0): sample one more process into the same profile."},
    {"start", (PyCFunction)(void (*)(void))sampler_start, METH_VARARGS | METH_KEYWORDS,
     "start(follow=False, label_pids=False): start sampling in a background thread. With "
     "follow, it goes on when every process has exited (more may be added) until stop(); "
     "label_pids names threads with their process id from the first."},
    {"stop", (PyCFunction)sampler_stop, METH_NOARGS, "Stop sampling (waits for the thread)."},
    {"sample", (PyCFunction)sampler_sample, METH_NOARGS,
     "Take one sample now; returns how many targets are still alive."},
    {"snapshot", (PyCFunction)sampler_snapshot, METH_NOARGS, "The profile so far (ProfileData)."},
    {"take", (PyCFunction)sampler_take, METH_NOARGS,
     "The profile of the period since start() or the previous take() (ProfileData, with "
     "start_ns and duration_ns), and sampling goes on into a new one: continuous recording "
     "in bounded memory. snapshot() shows only the current period afterwards."},
    {"dump", (PyCFunction)(void (*)(void))sampler_dump, METH_VARARGS | METH_KEYWORDS,
     "dump(locals=False): every thread's current stack, as a list of dicts."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sampler_getset[] = {
    {"stats", (getter)sampler_stats, NULL, "Counters: passes, samples, dropped, ...", NULL},
    {"layout", (getter)sampler_get_layout, NULL, "The interpreter layout in use (offsets).", NULL},
    {"running", (getter)sampler_get_running, NULL, "The sampling thread is running.", NULL},
    {"finished", (getter)sampler_get_finished, NULL, "Every target process has exited.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot sampler_slots[] = {
    {Py_tp_doc, "Sampler(pid, rate=100, mode='wall', idle=False, wait=0.0): reads the Python "
                "stacks of process `pid` from outside."},
    {Py_tp_new, sampler_new},
    {Py_tp_init, sampler_init},
    {Py_tp_dealloc, sampler_dealloc},
    {Py_tp_traverse, sampler_traverse},
    {Py_tp_clear, sampler_clear},
    {Py_tp_methods, sampler_methods},
    {Py_tp_getset, sampler_getset},
    {0, NULL},
};

static PyType_Spec sampler_spec = {
    .name = "hotscope._core.Sampler",
    .basicsize = sizeof(SamplerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = sampler_slots,
};

PyTypeObject *hs_sampler_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &sampler_spec, NULL);
}
