/*
 * sampler.c - one sampling pass over the target processes (see sampler.h).
 */
#include "sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "native_sample.h"
#include "proc.h"
#include "thread_names.h"

int64_t hs_sampler_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int hs_sampler_init(hs_sampler *s, hs_sample_mode mode, int idle, int64_t interval_ns) {
    memset(s, 0, sizeof *s);
    s->interval_ns = interval_ns;
    /* A torn stack is read again for up to a tenth of the interval, at
     * most 200 us (2% of a core at 100 Hz): giving up early drops mostly
     * fast-changing stacks. On 3.10, whose frames are read one system
     * call each, a 2% budget dropped 6% of the samples of a deep fib() at
     * 1 kHz and this one 0.1%. */
    s->walk.retry_budget_ns = interval_ns / 10 < 200000 ? interval_ns / 10 : 200000;
    s->mode = mode;
    s->idle = idle;
    s->profile = hs_profile_new();
    return s->profile ? 0 : -1;
}

void hs_sampler_free(hs_sampler *s) {
    for (size_t i = 0; i < s->target_count; i++) {
        hs_codecache_free(&s->targets[i].codes);
        hs_native_target_free(s->targets[i].native);
        hs_async_waits_free(&s->targets[i].waits);
        hs_walk_memory_free(&s->targets[i].walk_memory);
        if (s->targets[i].statm_fd >= 0)
            close(s->targets[i].statm_fd);
        for (size_t k = 0; k < s->targets[i].thread_count; k++)
            hs_thread_files_close(&s->targets[i].threads[k].files);
        free(s->targets[i].threads);
    }
    free(s->targets);
    hs_walk_result_free(&s->walk);
    free(s->headers);
    free(s->header_of);
    free(s->dedup_keys);
    free(s->dedup_values);
    free(s->unique_codes);
    free(s->code_used);
    free(s->stack);
    if (s->profile)
        hs_profile_free(s->profile);
    memset(s, 0, sizeof *s);
}

int hs_sampler_add(hs_sampler *s, pid_t pid, char *err, size_t errlen) {
    if (hs_grow((void **)&s->targets, &s->target_cap, s->target_count + 1, sizeof *s->targets) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    hs_sample_target *t = &s->targets[s->target_count];
    memset(t, 0, sizeof *t);
    int status = hs_target_attach(&t->target, pid, err, errlen);
    if (status != 0)
        return status;
    if (hs_codecache_init(&t->codes) != 0 ||
        (s->native && !(t->native = hs_native_target_new(&t->target)))) {
        hs_codecache_free(&t->codes);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char statm[64];
    snprintf(statm, sizeof statm, "/proc/%d/statm", (int)pid);
    t->statm_fd = open(statm, O_RDONLY | O_CLOEXEC);
    t->rss_series = -1;
    t->rss_bucket = -1;
    hs_async_view_init(&t->async);
    hs_async_waits_init(&t->waits);
    s->target_count++;
    return 0;
}

/* A thread met before its name or kernel id could be read (it had just
 * started; or threading never names it) is looked up again every this
 * many passes, as long as it lives. */
#define NAME_RETRY_PASSES 16

/* The name a thread shows under: its threading.Thread name when that reads,
 * else MainThread for the process's own thread, else Thread-<tid>; with
 * the process id when more than one process is or may be sampled. Returns
 * 1 when the name is final, 0 when it is a stand-in. */
static int thread_label(hs_sampler *s, hs_sample_target *t, const hs_raw_thread *raw, char *name,
                        size_t size) {
    char label[160];
    pid_t pid = t->target.pid;
    int final = raw->native_tid > 0;
    if (hs_thread_python_name(&t->target, &t->threading_active, raw->pthread_id, label,
                              sizeof label) != 0) {
        if (raw->native_tid == pid)
            snprintf(label, sizeof label, "MainThread");
        else
            snprintf(label, sizeof label, "Thread-%lld", (long long)raw->native_tid);
        final = 0; /* threading may not know it yet, or the read was torn */
    }
    if (s->target_count > 1 || s->label_pids)
        snprintf(name, size, "%s (pid %d, tid %lld)", label, (int)pid, (long long)raw->native_tid);
    else
        snprintf(name, size, "%s (tid %lld)", label, (long long)raw->native_tid);
    return final;
}

/* The sampler's record of a thread, created (with its profile thread) on
 * first sight. A thread met before it had a kernel id (3.11+ set it as the
 * thread starts) is the same thread once it has one. */
static hs_sampled_thread *thread_of(hs_sampler *s, hs_sample_target *t, const hs_raw_thread *raw) {
    char name[256];
    /* Threads come in the same order pass after pass: start the search
     * where the previous one matched, so 1,000 threads cost 1,000 checks. */
    for (size_t n = 0; n < t->thread_count; n++) {
        size_t i = (t->thread_hint + n) % t->thread_count;
        hs_sampled_thread *st = &t->threads[i];
        if (st->pthread_id != raw->pthread_id ||
            (st->native_tid != raw->native_tid && st->native_tid > 0))
            continue;
        t->thread_hint = i + 1;
        if (st->unnamed && (s->passes % NAME_RETRY_PASSES == 0 || st->native_tid != raw->native_tid)) {
            int final = thread_label(s, t, raw, name, sizeof name);
            if (final || st->native_tid != raw->native_tid)
                hs_thread_rename(s->profile, st->model_thread, name,
                                 raw->native_tid > 0 ? (uint64_t)raw->native_tid : 0);
            st->unnamed = !final;
            if (st->native_tid != raw->native_tid) {
                hs_thread_files_close(&st->files);
                hs_thread_files_init(&st->files);
                st->native_tid = raw->native_tid;
            }
        }
        return st;
    }
    if (hs_grow((void **)&t->threads, &t->thread_cap, t->thread_count + 1, sizeof *t->threads) != 0)
        return NULL;
    int final = thread_label(s, t, raw, name, sizeof name);
    int index = hs_thread_add(s->profile, name, raw->native_tid > 0 ? (uint64_t)raw->native_tid : 0,
                              raw->pthread_id);
    if (index < 0)
        return NULL;
    hs_sampled_thread *st = &t->threads[t->thread_count++];
    memset(st, 0, sizeof *st);
    st->native_tid = raw->native_tid;
    st->pthread_id = raw->pthread_id;
    st->model_thread = index;
    st->timeline = -1;
    st->unnamed = !final;
    hs_thread_files_init(&st->files);
    return st;
}

/* Reads the header of every distinct code object of the pass with one
 * system call per 512, into s->headers (span bytes each); s->header_of
 * maps each frame to its header. Recursion and loops repeat code objects,
 * so this is often far fewer reads than frames. */
/* Keeps the code objects this pass's frames ran (of the `unique` header
 * slots, those some frame uses: an early one may have left the stacks),
 * for the next pass to read early. */
static void remember_codes(hs_sampler *s, hs_walk_memory *m, size_t unique) {
    m->code_count = 0;
    if (hs_grow((void **)&s->code_used, &s->code_used_cap, unique, 1) != 0 ||
        hs_grow((void **)&m->codes, &m->code_cap, unique, sizeof *m->codes) != 0)
        return;
    memset(s->code_used, 0, unique);
    for (size_t i = 0; i < s->walk.frame_count; i++)
        s->code_used[s->header_of[i]] = 1;
    for (size_t k = 0; k < unique && m->code_count < HS_WALK_EARLY_CODES; k++)
        if (s->code_used[k])
            m->codes[m->code_count++] = s->unique_codes[k];
}

static int read_code_headers(hs_sampler *s, hs_sample_target *t, size_t span) {
    size_t n = s->walk.frame_count;
    hs_walk_memory *m = &t->walk_memory;
    size_t early = m->codes_read; /* read with m->code_span, which is `span` */
    size_t cap = 16;
    while (cap < (n + early) * 2)
        cap *= 2;
    if (hs_grow((void **)&s->header_of, &s->header_of_cap, n, sizeof *s->header_of) != 0)
        return -1;
    if (cap > s->dedup_cap) {
        uint64_t *keys = realloc(s->dedup_keys, cap * sizeof *keys);
        if (keys)
            s->dedup_keys = keys;
        uint32_t *values = realloc(s->dedup_values, cap * sizeof *values);
        if (values)
            s->dedup_values = values;
        if (!keys || !values)
            return -1;
        s->dedup_cap = cap;
    }
    memset(s->dedup_keys, 0, cap * sizeof *s->dedup_keys);
    /* The code objects of the last pass come first: their headers were
     * read at the start of this pass, with the interpreter's fields. */
    size_t unique = 0;
    if (hs_grow((void **)&s->unique_codes, &s->unique_codes_cap, early + n, sizeof *s->unique_codes) != 0)
        return -1;
    for (size_t i = 0; i < early + n; i++) {
        uint64_t code = i < early ? m->codes[i] : s->walk.frames[i - early].code;
        size_t slot = (size_t)((code >> 4) * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
        while (s->dedup_keys[slot] && s->dedup_keys[slot] != code)
            slot = (slot + 1) & (cap - 1);
        if (!s->dedup_keys[slot]) {
            s->dedup_keys[slot] = code;
            s->unique_codes[unique] = code;
            s->dedup_values[slot] = (uint32_t)unique++;
        }
        if (i >= early)
            s->header_of[i - early] = s->dedup_values[slot];
    }
    if (hs_grow((void **)&s->headers, &s->headers_cap, unique * span, 1) != 0)
        return -1;
    if (early)
        memcpy(s->headers, m->code_bytes, early * span);
    /* the distinct addresses met for the first time, in header order */
    enum { BATCH = 512 };
    hs_remote_iov iov[BATCH];
    size_t k = 0, next = early;
    for (size_t i = 0; i < n && next < unique; i++) {
        if (s->header_of[i] != next)
            continue; /* a repeat, or not the next new one */
        iov[k++] = (hs_remote_iov){s->walk.frames[i].code, s->headers + next * span, span};
        next++;
        if (k == BATCH || next == unique) {
            size_t ok = hs_proc_readv(&t->target.proc, iov, k);
            for (size_t j = ok; j < k; j++) /* zeroed: the code cache rejects it */
                memset(iov[j].buf, 0, span);
            k = 0;
        }
    }
    remember_codes(s, m, unique);
    return 0;
}

/* Threads that have ended keep their record (and their profile) but not
 * their open /proc files. */
static void close_unseen(hs_sampler *s, hs_sample_target *t) {
    for (size_t i = 0; i < t->thread_count; i++)
        if (t->threads[i].seen_in_pass != s->passes && t->threads[i].files.stat_fd >= 0)
            hs_thread_files_close(&t->threads[i].files);
}

/* 3.11+: the instruction lies inside the code object's bytecode, whose
 * length in code units is the object's ob_size (PyCodeObject is a
 * PyVarObject, _PyCode_NBYTES in Include/cpython/code.h, 3.11-3.13). */
static int instruction_in_code(const hs_pylayout *l, const uint8_t *header, int32_t offset) {
    if (l->code_code_adaptive < 0 || offset < 0)
        return 1;
    int64_t units;
    memcpy(&units, header + l->varobject_size, sizeof units);
    return units > 0 && (int64_t)offset < units * 2;
}

/* The timeline: each thread's recorded samples per HS_TIMELINE_BUCKET_NS
 * of the recording, as a "samples" series of the profile (model.h). A
 * bucket is a point (its start, its count) and is counted into while it
 * is the last point, so a snapshot taken at any moment is complete. */
#define HS_TIMELINE_BUCKET_NS 50000000LL /* 50 ms: 72,000 points an hour */

static void timeline_count(hs_sampler *s, hs_sampled_thread *st, int64_t now_ns) {
    if (st->timeline < 0) {
        st->timeline = hs_series_get(s->profile, "samples", "count", st->model_thread);
        if (st->timeline < 0)
            return;
    }
    int64_t bucket = (now_ns - s->first_pass_ns) / HS_TIMELINE_BUCKET_NS * HS_TIMELINE_BUCKET_NS;
    hs_series *series = &s->profile->series[st->timeline];
    if (series->count && series->points[series->count - 1].t_ns == bucket)
        series->points[series->count - 1].value++;
    else
        hs_series_push(s->profile, st->timeline, bucket, 1);
}

/* The process's memory over time: its RSS once per timeline bucket, as the
 * series "rss_bytes" (of the first process; "rss_bytes pid N" of others
 * followed), which the reports draw as they draw the memory engine's. */
static void rss_point(hs_sampler *s, hs_sample_target *t, int64_t now_ns) {
    int64_t bucket = (now_ns - s->first_pass_ns) / HS_TIMELINE_BUCKET_NS;
    if (t->statm_fd < 0 || bucket == t->rss_bucket)
        return;
    int64_t rss = hs_proc_rss_bytes(t->statm_fd);
    if (rss < 0)
        return;
    if (t->rss_series < 0) {
        char name[64] = "rss_bytes";
        if (t != &s->targets[0])
            snprintf(name, sizeof name, "rss_bytes pid %d", (int)t->target.pid);
        t->rss_series = hs_series_get(s->profile, name, "bytes", -1);
        if (t->rss_series < 0)
            return;
    }
    t->rss_bucket = bucket;
    hs_series_push(s->profile, t->rss_series, now_ns - s->first_pass_ns, rss);
}

/* The root "task NAME (COROUTINE)" of a task whose own coroutine has
 * the code `e` (the tracer's, see src/tracer/async_tasks.c). */
static hs_id task_root_frame(hs_profile *p, hs_id task_name, const hs_code_entry *e) {
    const char *name = hs_str(p, task_name, NULL);
    const char *coro = e ? hs_str(p, e->name, NULL) : NULL;
    if (!name || !coro)
        return HS_NONE;
    char label[640];
    snprintf(label, sizeof label, "task %.250s (%.250s)", name, coro);
    return hs_frame_intern(p, hs_intern_cstr(p, label), e->file, e->first_line, e->first_line, HS_KIND_OTHER);
}

/* A thread stepping an asyncio task: its stack from the task's own
 * coroutine up, under the task's root in place of the loop's frames below
 * it. Puts the root in s->stack[0] and the index (from the leaf) past
 * which the frames are kept into *from; HS_NONE when the thread runs no
 * task. */
static hs_id task_root(hs_sampler *s, hs_sample_target *t, const hs_raw_thread *raw, size_t span,
                       size_t *from) {
    for (size_t k = raw->depth; k-- > 0;) { /* root first: the task's own coroutine is the outermost */
        size_t fi = raw->first_frame + k;
        const hs_async_task *task = hs_async_view_task_of(&t->async, &t->target, s->walk.frames[fi].frame);
        if (!task)
            continue;
        const uint8_t *header = s->headers + (size_t)s->header_of[fi] * span;
        hs_code_entry *e = hs_codecache_get(&t->codes, &t->target, s->profile, s->walk.frames[fi].code, header);
        hs_id root = task_root_frame(s->profile, task->name, e);
        if (root == HS_NONE)
            return HS_NONE;
        if (task->loop)
            hs_async_waits_saw_loop(&t->waits, task->loop, raw->pthread_id);
        s->stack[0] = root;
        *from = k + 1;
        return root;
    }
    return HS_NONE;
}

/* The waiting tasks read at this pass (async_waits.h): each under its
 * loop's thread, "task NAME (COROUTINE)" -> its await chain -> "[await
 * WHAT] line N", weighted with the passes it stands for, in samples and
 * wall time (no CPU: waiting costs none), as the tracer charges waits. */
static void add_waiting_tasks(hs_sampler *s, hs_sample_target *t, size_t span, int64_t interval_ns) {
    hs_async_waits *w = &t->waits;
    if (!w->found_count)
        return;
    uint8_t *headers = malloc(HS_WAITS_MAX_CHAIN * span);
    if (!headers || hs_grow((void **)&s->stack, &s->stack_cap, HS_WAITS_MAX_CHAIN + 2, sizeof *s->stack) != 0) {
        free(headers);
        return;
    }
    for (size_t i = 0; i < w->found_count; i++) {
        const hs_waiting_task *wt = &w->found[i];
        hs_sampled_thread *st = NULL;
        size_t live = 0;
        for (size_t k = 0; k < t->thread_count; k++) {
            if (t->threads[k].seen_in_pass != s->passes)
                continue;
            live++;
            if (t->threads[k].pthread_id == wt->pthread_id || wt->pthread_id == HS_WAITS_THREAD_UNKNOWN)
                st = &t->threads[k];
        }
        if (!st || (wt->pthread_id == HS_WAITS_THREAD_UNKNOWN && live != 1))
            continue;
        hs_remote_iov iov[HS_WAITS_MAX_CHAIN];
        for (size_t k = 0; k < wt->depth; k++)
            iov[k] = (hs_remote_iov){wt->frames[k].code, headers + k * span, span};
        if (hs_proc_readv(&t->target.proc, iov, wt->depth) != wt->depth)
            continue;
        size_t depth = 1;
        hs_code_entry *e = NULL;
        int32_t line = 0;
        for (size_t k = 0; k < wt->depth; k++) {
            e = hs_codecache_get(&t->codes, &t->target, s->profile, wt->frames[k].code, headers + k * span);
            hs_id frame = e ? hs_codecache_frame(e, &t->target, s->profile, wt->frames[k].offset) : HS_NONE;
            if (frame == HS_NONE)
                break;
            if (k == 0 && (s->stack[0] = task_root_frame(s->profile, wt->task_name, e)) == HS_NONE)
                break;
            s->stack[depth++] = frame;
            line = s->profile->frames[frame].line;
        }
        if (depth != wt->depth + 1)
            continue;
        char label[520];
        snprintf(label, sizeof label, "%.500s line %d", hs_str(s->profile, wt->awaited, NULL), (int)line);
        hs_id awaited = hs_frame_intern(s->profile, hs_intern_cstr(s->profile, label), e->file, line, line,
                                        HS_KIND_OTHER);
        if (awaited == HS_NONE)
            continue;
        s->stack[depth++] = awaited;
        hs_id node = s->profile->threads[st->model_thread].root;
        for (size_t k = 0; k < depth && node != HS_NONE; k++)
            node = hs_node_child(s->profile, node, s->stack[k]);
        if (node == HS_NONE)
            continue;
        hs_node_add(s->profile, node, HS_W_SAMPLES, wt->weight);
        hs_node_add(s->profile, node, HS_W_WALL_NS,
                    interval_ns > 0 && wt->weight > INT64_MAX / interval_ns ? INT64_MAX : wt->weight * interval_ns);
        s->task_waits += wt->weight;
    }
    free(headers);
}

/* What a thread off the CPU waits for, from the futex word its system call
 * waits on: inside the GIL's struct, the GIL; any other futex, a lock. */
static hs_gil_state off_cpu_state(const hs_target *target, const hs_thread_state *state) {
    if (!state->in_futex)
        return HS_GIL_OTHER_WAIT;
    if (!target->gil_start) /* no GIL address: a futex wait is most often the GIL's */
        return HS_GIL_WAIT;
    return state->futex_word - target->gil_start < HS_GIL_STRUCT_SIZE ? HS_GIL_WAIT : HS_GIL_LOCK_WAIT;
}

static void sample_target(hs_sampler *s, hs_sample_target *t, int64_t interval_ns, int64_t now_ns) {
    rss_point(s, t, now_ns);
    size_t span = hs_pylayout_code_span(&t->target.layout);
    s->walk.memory = &t->walk_memory;
    t->walk_memory.code_span = span; /* the headers it reads early are these */
    int walked = hs_walk_threads(&t->target, &s->walk);
    s->walk.memory = NULL;
    if (walked != 0) {
        if (!hs_proc_alive(t->target.pid))
            t->gone = 1;
        return;
    }
    if (t->native) /* --native: each thread's C frames, then the threads go on */
        hs_native_unwind_all(t->native, &s->walk);
    t->samples++;
    hs_async_view_pass(&t->async, &t->target, s->profile, now_ns, t->codes.resolved);
    if (read_code_headers(s, t, span) != 0)
        return;
    for (size_t i = 0; i < s->walk.thread_count; i++) {
        const hs_raw_thread *raw = &s->walk.threads[i];
        /* A thread state still being set up: no identity, no Python code run yet. */
        if (raw->native_tid <= 0 && raw->pthread_id == 0)
            continue;
        hs_sampled_thread *st = thread_of(s, t, raw);
        if (!st)
            continue;
        st->seen_in_pass = s->passes;
        /* The GIL's holder runs Python code (or is about to: runnable), so
         * its state is not read, only its CPU time: one system call less
         * per pass for a busy thread. (Blocked while holding the GIL, in a
         * C call that did not release it, it counts as running: so it is
         * for the program, whose other threads wait.) --native reads each
         * state: a thread it stopped is told apart below. */
        hs_thread_state state = {0};
        int have_state = raw->native_tid > 0 &&
                         hs_proc_thread_sample(t->target.pid, (pid_t)raw->native_tid, &st->files,
                                               raw->holds_gil && !t->native, &state) == 0;
        if (have_state && t->native) /* stopped, it reads 't' */
            state.state = hs_native_run_state(t->native, raw->native_tid, state.state);
        int64_t cpu_delta = 0;
        if (have_state) {
            if (st->have_cpu && state.cpu_ns >= st->last_cpu_ns)
                cpu_delta = (int64_t)(state.cpu_ns - st->last_cpu_ns);
            st->last_cpu_ns = state.cpu_ns;
            st->have_cpu = 1;
        }
        int running = have_state ? state.state == 'R' : 1;
        int keep = s->mode == HS_MODE_GIL ? raw->holds_gil : running;
        hs_thread *mt = &s->profile->threads[st->model_thread];
        mt->wall_ns = hs_sat_add(mt->wall_ns, interval_ns);
        mt->cpu_ns = hs_sat_add(mt->cpu_ns, cpu_delta);
        if (s->mode != HS_MODE_WALL && have_state) {
            /* GIL contention, per thread: holding it, running without it
             * (C code that released it), or off the CPU: in a futex wait
             * on the GIL's own mutex or condition, on another futex (a
             * lock, a condition, join()), or otherwise (sleep, I/O). */
            hs_gil_state gs = raw->holds_gil ? HS_GIL_HELD
                              : running      ? HS_GIL_RUNNING
                                             : off_cpu_state(&t->target, &state);
            mt->gil_states[gs]++;
        }
        if (!keep && !s->idle) {
            s->idle_skipped++;
            continue;
        }
        if (raw->torn) {
            s->torn++;
            if (raw->torn_reason == HS_TORN_MOVED)
                s->torn_moved++;
            else
                s->torn_invalid++;
            continue;
        }
        if (raw->truncated)
            s->truncated++;
        if (hs_grow((void **)&s->stack, &s->stack_cap, raw->depth + 2, sizeof *s->stack) != 0)
            continue;
        size_t depth = 0;
        int broken = 0, popped = 0;
        size_t from = raw->depth;
        if (hs_async_view_active(&t->async) && task_root(s, t, raw, span, &from) != HS_NONE)
            depth = 1;
        for (size_t k = from; k-- > 0 && !broken;) { /* root first */
            size_t fi = raw->first_frame + k;
            const hs_raw_frame *f = &s->walk.frames[fi];
            const uint8_t *header = s->headers + (size_t)s->header_of[fi] * span;
            hs_code_entry *e = hs_codecache_get(&t->codes, &t->target, s->profile, f->code, header);
            if (!e || !instruction_in_code(&t->target.layout, header, f->offset)) {
                broken = 1;
                break;
            }
            /* A frame left at its return was popped, and what the copy
             * shows above it too (see return_opcode in pylayout.h); the
             * stack of that moment ends at its caller. */
            if (hs_codecache_at_return(e, f->offset)) {
                popped = 1;
                break;
            }
            hs_id frame = hs_codecache_frame(e, &t->target, s->profile, f->offset);
            if (frame == HS_NONE) {
                broken = 1;
                break;
            }
            s->stack[depth++] = frame;
        }
        if (broken || (popped && depth == 0)) {
            s->torn++;
            if (broken)
                s->torn_invalid++;
            else
                s->torn_moved++;
            continue;
        }
        if (raw->cut || popped)
            s->cut++;
        if (raw->attempts > 1)
            s->reread++;
        /* --native: the thread's C frames around and between its Python frames */
        if (t->native && hs_native_thread_stack(t->native, s->profile, &s->walk, raw, &s->stack,
                                                &s->stack_cap, &depth) != 0)
            continue;
        if (s->walk.gc_collecting && raw->holds_gil) {
            /* The collector's own time: a [gc] frame at the leaf, under the
             * code that triggered the collection (as the tracer shows it). */
            hs_id gc = hs_frame_intern(s->profile, hs_intern_cstr(s->profile, "[gc]"),
                                       hs_intern_cstr(s->profile, "~"), 0, 0, HS_KIND_OTHER);
            if (gc != HS_NONE) {
                s->stack[depth++] = gc;
                s->gc_samples++;
            }
        }
        hs_id node = mt->root;
        for (size_t k = 0; k < depth && node != HS_NONE; k++)
            node = hs_node_child(s->profile, node, s->stack[k]);
        if (node == HS_NONE)
            continue;
        hs_node_add(s->profile, node, HS_W_SAMPLES, 1);
        hs_node_add(s->profile, node, HS_W_WALL_NS, interval_ns);
        if (cpu_delta)
            hs_node_add(s->profile, node, HS_W_CPU_NS, cpu_delta);
        timeline_count(s, st, now_ns);
        s->thread_samples++;
    }
    /* Waiting tasks are waiting threads' kin: shown with --idle. */
    if (s->idle && s->mode != HS_MODE_GIL && hs_async_view_active(&t->async)) {
        hs_async_waits_pass(&t->waits, &t->async, &t->target, s->profile, now_ns, s->interval_ns);
        add_waiting_tasks(s, t, span, interval_ns);
    }
}

size_t hs_sampler_pass(hs_sampler *s, int64_t now_ns) {
    int64_t interval = s->last_pass_ns ? now_ns - s->last_pass_ns : s->interval_ns;
    if (!s->last_pass_ns)
        s->first_pass_ns = now_ns;
    s->last_pass_ns = now_ns;
    s->passes++;
    size_t alive = 0;
    for (size_t i = 0; i < s->target_count; i++) {
        hs_sample_target *t = &s->targets[i];
        if (t->gone) {
            if (t->native) /* threads that exited while held are collected */
                hs_native_pass_end(t->native);
            continue;
        }
        if (t->native) /* every thread stopped while its stacks are read */
            hs_native_pass_begin(t->native);
        sample_target(s, t, interval, now_ns);
        if (t->native)
            hs_native_pass_end(t->native);
        close_unseen(s, t);
        alive += !t->gone;
    }
    return alive;
}
