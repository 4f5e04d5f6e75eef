/*
 * walk.c - reading every thread's frame chain from a target (see walk.h).
 *
 * Frame shapes: 3.10 chains heap PyFrameObjects through f_back with the
 * instruction as an index (f_lasti, in code units); 3.11+ chains
 * _PyInterpreterFrame through `previous`, with a pointer to the current
 * instruction (prev_instr in 3.11/3.12, instr_ptr in 3.13) into the code
 * object's own bytecode (co_code_adaptive), and marks C-stack shim frames
 * (FRAME_OWNED_BY_CSTACK, 3.12+) which are not Python code and are skipped.
 * Sources: Include/internal/pycore_frame.h of each version, and
 * _PyInterpreterFrame_LASTI / PyFrame_GetLineNumber in Objects/frameobject.c.
 */
#include "walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

static int64_t max_offset(const int64_t *offsets, size_t n) {
    int64_t end = 0;
    for (size_t i = 0; i < n; i++)
        if (offsets[i] >= 0 && offsets[i] + 8 > end)
            end = offsets[i] + 8;
    return end;
}

static uint64_t word_at(const uint8_t *buf, int64_t off) {
    uint64_t v;
    memcpy(&v, buf + off, sizeof v);
    return v;
}

void hs_walk_result_free(hs_walk_result *r) {
    free(r->window);
    free(r->threads);
    free(r->frames);
    memset(r, 0, sizeof *r);
}

/* Pointers in a user-space x86-64/aarch64 process are below 2^47 (2^48)
 * and objects are 8-byte aligned: anything else is a torn read. */
static int plausible(uint64_t ptr) {
    return ptr >= 4096 && ptr < (1ULL << 48) && (ptr & 7) == 0;
}

/* Offset of data[] in _PyStackChunk {previous, size, top, data[]}
 * (Include/cpython/pystate.h, 3.11-3.13). */
#define CHUNK_DATA 24
#define CHUNK_MAX (64u << 20)

/* The `span` bytes of the frame at `frame`: from the copy of the thread's
 * data stack when they are in it (3.11+: the frames of running functions
 * sit next to each other there, so one read serves the whole stack), else
 * read on their own. NULL on a failed read. */
static const uint8_t *frame_bytes(hs_target *t, hs_walk_result *r, uint64_t chunk, uint64_t frame,
                                  size_t span, uint8_t *buf) {
    if (frame >= r->window_base && frame + span <= r->window_base + r->window_len)
        return r->window + (frame - r->window_base);
    if (chunk && frame >= chunk + CHUNK_DATA && frame - chunk < CHUNK_MAX) {
        if (!r->window && !(r->window = malloc(HS_WALK_WINDOW)))
            return NULL;
        uint64_t end = frame + span;
        uint64_t start = end - chunk - CHUNK_DATA > HS_WALK_WINDOW ? end - HS_WALK_WINDOW
                                                                    : chunk + CHUNK_DATA;
        if (hs_proc_read(&t->proc, start, r->window, (size_t)(end - start)) == 0) {
            r->window_base = start;
            r->window_len = (size_t)(end - start);
            return r->window + (frame - start);
        }
        r->window_len = 0;
    }
    return hs_proc_read(&t->proc, frame, buf, span) == 0 ? buf : NULL;
}

/* Walks one thread's frames from `frame`, appending to r->frames. */
static void walk_frames(hs_target *t, hs_walk_result *r, hs_raw_thread *th, uint64_t frame,
                        uint64_t chunk) {
    const hs_pylayout *l = &t->layout;
    int64_t fields[] = {l->frame_previous, l->frame_code, l->frame_instr, l->frame_owner};
    size_t span = (size_t)max_offset(fields, 4);
    uint8_t local[256];
    th->first_frame = r->frame_count;
    th->depth = 0;
    r->window_len = 0; /* a copy from another thread or pass is stale */
    while (frame) {
        const uint8_t *buf = NULL;
        if (plausible(frame) && span <= sizeof local)
            buf = frame_bytes(t, r, chunk, frame, span, local);
        if (!buf) {
            th->torn = 1;
            return;
        }
        if (th->depth >= HS_WALK_MAX_DEPTH) {
            th->truncated = 1;
            return;
        }
        uint64_t previous = word_at(buf, l->frame_previous);
        uint64_t code = word_at(buf, l->frame_code);
        int owner = l->frame_owner >= 0 ? buf[l->frame_owner] : 0;
        if (owner > 4) { /* not a frame */
            th->torn = 1;
            return;
        }
        if (l->owned_by_cstack >= 0 && owner == l->owned_by_cstack) {
            frame = previous; /* a shim between C and Python: no code of its own */
            continue;
        }
        if (!plausible(code)) {
            th->torn = 1;
            return;
        }
        int32_t offset = -1;
        if (l->frame_instr_is_index) {
            int32_t lasti;
            memcpy(&lasti, buf + l->frame_instr, sizeof lasti);
            offset = lasti >= 0 ? lasti * 2 : -1;
        } else {
            uint64_t instr = word_at(buf, l->frame_instr);
            uint64_t start = code + (uint64_t)l->code_code_adaptive;
            if (instr >= start && instr - start < (1u << 30))
                offset = (int32_t)(instr - start);
        }
        if (hs_grow((void **)&r->frames, &r->frame_cap, r->frame_count + 1, sizeof *r->frames) != 0) {
            th->torn = 1;
            return;
        }
        r->frames[r->frame_count++] = (hs_raw_frame){code, offset, frame};
        th->depth++;
        frame = previous;
    }
}

/* 3.10 stores only the pthread_t; the kernel tid sits inside glibc's
 * struct pthread at an offset that varies by glibc build, so find it: the
 * main thread's struct holds the process id (its tid) at that offset. */
static void find_pthread_tid_offset(hs_target *t, uint64_t main_pthread) {
    int32_t words[512];
    if (!plausible(main_pthread) || hs_proc_read(&t->proc, main_pthread, words, sizeof words) != 0)
        return;
    for (int i = 1; i < 512; i++) { /* word 0 is the TCB self pointer, never the tid */
        if (words[i] == (int32_t)t->pid) {
            t->pthread_tid_offset = i * 4;
            return;
        }
    }
}

static int64_t native_tid_of(hs_target *t, const uint8_t *tstate_buf, uint64_t pthread_id) {
    const hs_pylayout *l = &t->layout;
    if (l->tstate_native_thread_id >= 0)
        return (int64_t)word_at(tstate_buf, l->tstate_native_thread_id);
    if (t->pthread_tid_offset < 0)
        return -1;
    int32_t tid;
    if (hs_proc_read(&t->proc, pthread_id + (uint64_t)t->pthread_tid_offset, &tid, sizeof tid) != 0)
        return -1;
    return tid;
}

int hs_walk_threads(hs_target *t, hs_walk_result *r) {
    const hs_pylayout *l = &t->layout;
    r->thread_count = 0;
    r->frame_count = 0;
    uint64_t interp = hs_target_main_interp(t);
    if (!plausible(interp)) {
        if (!errno)
            errno = EFAULT;
        return -1;
    }
    uint64_t tstate = 0;
    if (hs_proc_read(&t->proc, interp + (uint64_t)l->interp_threads_head, &tstate, sizeof tstate) != 0)
        return -1;

    /* Who holds the GIL: `locked` and the last holder, read together. */
    uint64_t gil_holder = 0;
    int64_t holder_off = l->runtime_gil_last_holder >= 0 ? l->runtime_gil_last_holder
                                                         : l->interp_gil_last_holder;
    int64_t locked_off = l->runtime_gil_locked >= 0 ? l->runtime_gil_locked : l->interp_gil_locked;
    uint64_t gil_base = l->runtime_gil_last_holder >= 0 ? t->runtime : interp;
    if (holder_off >= 0 && locked_off >= 0) {
        int32_t locked = 0;
        uint64_t holder = 0;
        if (hs_proc_read(&t->proc, gil_base + (uint64_t)locked_off, &locked, sizeof locked) == 0 &&
            locked > 0 &&
            hs_proc_read(&t->proc, gil_base + (uint64_t)holder_off, &holder, sizeof holder) == 0)
            gil_holder = holder;
    }

    int64_t fields[] = {l->tstate_next, l->tstate_thread_id, l->tstate_native_thread_id,
                        l->tstate_frame, l->tstate_datastack_chunk};
    size_t span = (size_t)max_offset(fields, 5);
    uint8_t buf[512];
    while (tstate && r->thread_count < HS_WALK_MAX_THREADS) {
        if (!plausible(tstate) || span > sizeof buf ||
            hs_proc_read(&t->proc, tstate, buf, span) != 0)
            break; /* the list changed under us: keep the threads read so far */
        if (hs_grow((void **)&r->threads, &r->thread_cap, r->thread_count + 1, sizeof *r->threads) != 0)
            return -1;
        hs_raw_thread *th = &r->threads[r->thread_count++];
        memset(th, 0, sizeof *th);
        th->tstate = tstate;
        th->pthread_id = word_at(buf, l->tstate_thread_id);
        th->holds_gil = gil_holder == tstate;
        uint64_t next = word_at(buf, l->tstate_next);
        if (l->tstate_native_thread_id < 0 && t->pthread_tid_offset < 0 && next == 0)
            find_pthread_tid_offset(t, th->pthread_id); /* the last is the main thread */
        th->native_tid = native_tid_of(t, buf, th->pthread_id);
        uint64_t frame = word_at(buf, l->tstate_frame);
        if (l->cframe_current_frame >= 0 && frame) {
            uint64_t cframe = frame;
            if (!plausible(cframe) ||
                hs_proc_read(&t->proc, cframe + (uint64_t)l->cframe_current_frame, &frame,
                             sizeof frame) != 0) {
                th->torn = 1;
                frame = 0;
            }
        }
        uint64_t chunk = l->tstate_datastack_chunk >= 0 ? word_at(buf, l->tstate_datastack_chunk) : 0;
        walk_frames(t, r, th, frame, plausible(chunk) ? chunk : 0);
        tstate = next;
    }
    /* 3.10 threads walked before the main thread was seen */
    if (l->tstate_native_thread_id < 0 && t->pthread_tid_offset >= 0) {
        for (size_t i = 0; i < r->thread_count; i++) {
            if (r->threads[i].native_tid < 0) {
                int32_t tid;
                if (hs_proc_read(&t->proc, r->threads[i].pthread_id + (uint64_t)t->pthread_tid_offset,
                                 &tid, sizeof tid) == 0)
                    r->threads[i].native_tid = tid;
            }
        }
    }
    return 0;
}
