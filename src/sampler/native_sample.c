/*
 * native_sample.c - the sampler's --native pass over one target (see
 * native_sample.h).
 */
#include "native_sample.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

hs_native_target *hs_native_target_new(const hs_target *t) {
    hs_native_target *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    hs_stopper_init(&n->stopper, t->pid);
    hs_native_objects_init(&n->objects, t->pid, t->binary);
    return n;
}

void hs_native_target_free(hs_native_target *n) {
    if (!n)
        return;
    hs_stopper_free(&n->stopper);
    hs_native_objects_free(&n->objects);
    hs_native_stack_free(&n->stack);
    free(n->pcs);
    free(n->unwound);
    free(n->kinds);
    free(n->entry);
    free(n->merged);
    free(n->python);
    free(n);
}

void hs_native_pass_begin(hs_native_target *n) {
    n->pass++;
    n->unwound_count = n->pc_count = 0;
    int stopped = hs_stopper_stop(&n->stopper, n->error, sizeof n->error);
    n->stopped = stopped > 0 ? stopped : 0;
}

void hs_native_unwind_all(hs_native_target *n, const hs_walk_result *w) {
    for (size_t i = 0; n->stopped && i < w->thread_count; i++) {
        int64_t tid = w->threads[i].native_tid;
        const hs_stopped_thread *th = tid > 0 ? hs_stopper_thread(&n->stopper, (pid_t)tid) : NULL;
        if (!th)
            continue;
        size_t count = hs_native_unwind(&n->objects, th->ip, th->sp, th->bp, n->pass, &n->stack);
        if (hs_grow((void **)&n->pcs, &n->pc_cap, n->pc_count + count + 1, sizeof *n->pcs) != 0 ||
            hs_grow((void **)&n->unwound, &n->unwound_cap, n->unwound_count + 1,
                    sizeof *n->unwound) != 0)
            break;
        memcpy(n->pcs + n->pc_count, n->stack.pcs, count * sizeof *n->pcs);
        n->unwound[n->unwound_count++] =
            (hs_native_unwound){tid, n->pc_count, count, n->stack.complete, th->run_state};
        n->pc_count += count;
    }
    hs_stopper_resume(&n->stopper); /* the rest runs while the program does */
}

void hs_native_pass_end(hs_native_target *n) {
    hs_stopper_resume(&n->stopper);
}

void hs_native_release(hs_native_target *n, int64_t wait_ns) {
    hs_stopper_release(&n->stopper, wait_ns);
}

/* This pass's unwound frames of thread tid, or NULL. Threads are asked
 * for in the order they were unwound (the walk's): the search starts
 * after the last one found. */
static const hs_native_unwound *unwound_thread(hs_native_target *n, int64_t tid) {
    size_t count = n->unwound_count;
    for (size_t k = 0; tid > 0 && k < count; k++) {
        size_t i = (n->unwound_hint + k) % count;
        if (n->unwound[i].tid == tid) {
            n->unwound_hint = i + 1;
            return &n->unwound[i];
        }
    }
    return NULL;
}

char hs_native_run_state(hs_native_target *n, int64_t tid, char now) {
    const hs_native_unwound *u = unwound_thread(n, tid);
    return u && u->run_state ? u->run_state : now;
}

const char *hs_native_frame_name(hs_native_target *n, uint64_t pc, int leaf, char *buf,
                                 size_t buflen, const char **file) {
    const hs_native_pc *info = hs_native_pc_info(&n->objects, leaf ? pc : pc - 1, n->pass);
    if (!info) {
        snprintf(buf, buflen, "0x%llx", (unsigned long long)pc);
        *file = "[unknown]";
        return buf;
    }
    *file = hs_native_pc_file(&n->objects, info);
    return hs_native_pc_name(&n->objects, info, buf, buflen);
}

hs_id hs_native_frame_of(hs_native_target *n, hs_profile *p, uint64_t pc, int leaf) {
    char buf[32];
    const char *file;
    const char *name = hs_native_frame_name(n, pc, leaf, buf, sizeof buf, &file);
    hs_id name_id = hs_intern_cstr(p, name), file_id = hs_intern_cstr(p, file);
    if (name_id == HS_NONE || file_id == HS_NONE)
        return HS_NONE;
    return hs_frame_intern(p, name_id, file_id, 0, 0, HS_KIND_NATIVE);
}

/* Merges a thread's native frames (unwound this pass) with the leaf-most
 * `depth` of its Python frames, into n->merged. Returns the count, or
 * (size_t)-1 when memory runs out. */
static size_t merge_thread(hs_native_target *n, const hs_walk_result *w, const hs_raw_thread *raw,
                           size_t depth, const hs_native_unwound *u) {
    const uint64_t *pcs = n->pcs + u->first;
    size_t count = u->count;
    if (hs_grow((void **)&n->kinds, &n->kinds_cap, count + 1, 1) != 0 ||
        hs_grow((void **)&n->entry, &n->entry_cap, depth + 1, 1) != 0 ||
        hs_grow((void **)&n->merged, &n->merged_cap, count + depth + 1, sizeof *n->merged) != 0)
        return (size_t)-1;
    for (size_t i = 0; i < count; i++) {
        const hs_native_pc *info = hs_native_pc_info(&n->objects, i == 0 ? pcs[i] : pcs[i] - 1,
                                                     n->pass);
        n->kinds[i] = (uint8_t)(info ? (info->eval_loop ? HS_NATIVE_EVAL : 0) |
                                           (info->interpreter ? HS_NATIVE_INTERPRETER : 0)
                                     : 0);
    }
    /* The Python frames kept are the leaf-most `depth` of raw's (a sample
     * can end below frames found popped) */
    size_t skip = raw->depth - depth;
    for (size_t j = 0; j < depth; j++)
        n->entry[j] = w->frames[raw->first_frame + skip + j].entry;
    int mismatch = 0;
    size_t merged = hs_native_merge(n->kinds, count, u->complete, n->entry, depth, n->merged,
                                    &mismatch);
    n->mismatched += mismatch;
    n->incomplete += !u->complete;
    return merged;
}

int hs_native_thread_stack(hs_native_target *n, hs_profile *p, const hs_walk_result *w,
                           const hs_raw_thread *raw, hs_id **stack, size_t *cap, size_t *depth) {
    const hs_native_unwound *u = unwound_thread(n, raw->native_tid);
    if (!u || *depth > raw->depth) {
        n->unavailable++;
        return 0;
    }
    size_t count = merge_thread(n, w, raw, *depth, u);
    if (count == (size_t)-1 ||
        hs_grow((void **)&n->python, &n->python_cap, *depth + 1, sizeof *n->python) != 0 ||
        hs_grow((void **)stack, cap, count + 2, sizeof **stack) != 0) /* room for [gc] */
        return -1;
    for (size_t j = 0; j < *depth; j++) /* leaf first */
        n->python[j] = (*stack)[*depth - 1 - j];
    size_t out = 0;
    for (size_t k = count; k-- > 0;) { /* root first */
        const hs_merged_frame *m = &n->merged[k];
        hs_id id = m->python ? n->python[m->index]
                             : hs_native_frame_of(n, p, n->pcs[u->first + m->index], m->index == 0);
        if (id == HS_NONE)
            return -1;
        (*stack)[out++] = id;
    }
    *depth = out;
    return 0;
}

/* ---- dump ------------------------------------------------------------- */

typedef struct {
    hs_native_target *n;
    hs_target *t;
    hs_walk_result *walk;
    hs_native_dump_frame *frames;
    size_t frame_count, frame_cap;
    hs_native_dump_thread *threads;
    int rc;
} dump_job;

static int dump_thread(dump_job *job, const hs_raw_thread *raw, hs_native_dump_thread *out) {
    hs_native_target *n = job->n;
    out->first = job->frame_count;
    const hs_native_unwound *u = unwound_thread(n, raw->native_tid);
    size_t count = u ? merge_thread(n, job->walk, raw, raw->depth, u) : 0;
    if (count == (size_t)-1 ||
        hs_grow((void **)&job->frames, &job->frame_cap, job->frame_count + count + 1,
                sizeof *job->frames) != 0)
        return -1;
    for (size_t k = 0; k < count; k++) {
        const hs_merged_frame *m = &n->merged[k];
        hs_native_dump_frame *f = &job->frames[job->frame_count++];
        f->python = m->python;
        f->leaf = !m->python && m->index == 0;
        f->index = m->python ? (uint32_t)(raw->first_frame + m->index) : m->index;
        f->pc = m->python ? 0 : n->pcs[u->first + m->index];
    }
    out->count = count;
    out->native = u != NULL;
    return 0;
}

static void dump_stopped(void *arg) {
    dump_job *job = arg;
    hs_native_pass_begin(job->n);
    job->rc = hs_walk_threads(job->t, job->walk);
    if (job->rc == 0)
        hs_native_unwind_all(job->n, job->walk);
    hs_native_pass_end(job->n);
    hs_native_release(job->n, 1000 * 1000 * 1000LL);
    if (job->rc != 0)
        return;
    job->threads = calloc(job->walk->thread_count + 1, sizeof *job->threads);
    for (size_t i = 0; job->threads && i < job->walk->thread_count; i++)
        if (dump_thread(job, &job->walk->threads[i], &job->threads[i]) != 0)
            break;
    if (!job->threads)
        job->rc = -1;
}

int hs_native_dump(hs_native_target *n, hs_target *t, hs_walk_result *walk,
                   hs_native_dump_frame **frames, hs_native_dump_thread **threads) {
    dump_job job = {n, t, walk, NULL, 0, 0, NULL, -1};
    if (hs_native_in_own_thread(dump_stopped, &job) != 0 || job.rc != 0) {
        free(job.frames);
        free(job.threads);
        return -1;
    }
    *frames = job.frames;
    *threads = job.threads;
    return 0;
}

typedef struct {
    void (*fn)(void *);
    void *arg;
} own_thread;

static void *run_own_thread(void *arg) {
    own_thread *o = arg;
    sigset_t all; /* signals belong to the Python program */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    o->fn(o->arg);
    return NULL;
}

int hs_native_in_own_thread(void (*fn)(void *), void *arg) {
    own_thread o = {fn, arg};
    pthread_t thread;
    if (pthread_create(&thread, NULL, run_own_thread, &o) != 0)
        return -1;
    pthread_join(thread, NULL);
    return 0;
}
