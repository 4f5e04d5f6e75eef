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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "sampler.h" /* hs_sampler_now_ns */

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
    free(r->window2);
    free(r->spill);
    free(r->nodes);
    free(r->iov);
    free(r->again);
    free(r->threads);
    free(r->frames);
    memset(r, 0, sizeof *r);
}

void hs_walk_memory_free(hs_walk_memory *m) {
    free(m->apart);
    free(m->codes);
    free(m->code_bytes);
    memset(m, 0, sizeof *m);
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
/* Bytes above the data stack's top (as the thread state said a moment
 * before) to read too, for frames pushed in between. */
#define WINDOW_MARGIN 1024

/* Bytes of a frame's header that a walk reads: up to its last field used. */
static size_t frame_span(const hs_pylayout *l) {
    int64_t fields[] = {l->frame_previous, l->frame_code, l->frame_instr, l->frame_owner,
                        l->frame_stacktop, l->frame_state, l->frame_is_entry};
    return (size_t)max_offset(fields, sizeof fields / sizeof fields[0]);
}

/* Appends reads of the frames this thread had apart from its window at
 * the last pass (see hs_walk_apart) to `iov`, after `n` entries. */
static size_t early_iov(hs_walk_result *r, size_t span, hs_remote_iov *iov, size_t n) {
    r->early_count = 0;
    const hs_walk_apart *seen = r->apart_now;
    if (!seen || span > HS_WALK_FRAME_SPAN)
        return n;
    for (size_t i = 0; i < seen->count; i++) {
        r->early_addr[i] = seen->addr[i];
        iov[n++] = (hs_remote_iov){seen->addr[i], r->early[i], span};
    }
    r->apart_now->count = 0; /* this read's frames apart are noted afresh */
    return n;
}

/* What the thread state said about the thread's stack when it was read. */
typedef struct {
    uint64_t tstate;
    uint64_t field;              /* PyThreadState.frame / .current_frame, or (3.11, 3.12) .cframe */
    uint64_t chunk, top, limit;  /* the data stack chunk in use (3.11+), else 0 */
} stack_origin;

/* The current-frame pointer, read three times around two copies of the
 * frames. 3.11/3.12 reach it through the cframe: `field` holds
 * PyThreadState.cframe there and `current` the cframe's current_frame;
 * elsewhere both hold the current frame. */
typedef struct {
    uint64_t field[3], current[3];
} pointer_reads;

/* Appends the iovecs that read the current-frame pointer (read number k). */
static size_t pointer_iov(const hs_pylayout *l, const stack_origin *o, pointer_reads *p, int k,
                          hs_remote_iov *iov) {
    size_t n = 0;
    iov[n++] = (hs_remote_iov){o->tstate + (uint64_t)l->tstate_frame, &p->field[k], 8};
    if (l->cframe_current_frame >= 0)
        iov[n++] = (hs_remote_iov){o->field + (uint64_t)l->cframe_current_frame, &p->current[k], 8};
    else
        p->current[k] = 0;
    return n;
}

/* Pointer reads 0..count-1 agree with each other (only the cframe, when
 * !whole) and with the cframe in use. */
static int pointers_agree(const hs_pylayout *l, const stack_origin *o, pointer_reads *p, int count,
                          int whole) {
    for (int k = 0; k < count; k++) {
        if (l->cframe_current_frame < 0)
            p->current[k] = p->field[k];
        else if (p->field[k] != o->field)
            return 0;
        if (whole && p->current[k] != p->current[0])
            return 0;
    }
    return 1;
}

/* 3.12+ mark the running frame (stacktop -1), so one copy of the frames
 * tells whether each caller in it was still a caller when copied. */
static int marks_running(const hs_pylayout *l) {
    return l->frame_stacktop >= 0;
}

/* 3.11+: reads, in one system call, the current-frame pointer and a window
 * of the data stack that should hold the current frame and its callers.
 * 3.12+ mark the running frame, so one copy can be checked on its own.
 * 3.11 does not: it copies the window, reads the pointer, then copies the
 * window again (r->window2). A frame that reads the same in both copies
 * was unchanged from its first copy to its second, an interval that holds
 * the moment the pointer was read; walk_frames checks the chain from that
 * pointer frame by frame. Returns the current frame (0: none), or sets
 * *reason when the thread's cframe moved or could not be read. */
static uint64_t read_window(hs_target *t, hs_walk_result *r, stack_origin *o, hs_torn_reason *reason) {
    const hs_pylayout *l = &t->layout;
    if (l->cframe_current_frame >= 0 && !plausible(o->field)) {
        *reason = o->field ? HS_TORN_INVALID : HS_TORN_NONE;
        return 0; /* no cframe: no Python frame running */
    }
    int twice = !marks_running(l);
    pointer_reads p;
    hs_remote_iov iov[8 + HS_WALK_EARLY];
    size_t n = 0;
    uint64_t lo = 0, hi = 0;
    if (o->chunk && o->top > o->chunk + CHUNK_DATA && o->top <= o->limit &&
        o->limit - o->chunk <= CHUNK_MAX) {
        hi = o->top + WINDOW_MARGIN < o->limit ? o->top + WINDOW_MARGIN : o->limit;
        lo = hi - o->chunk - CHUNK_DATA > HS_WALK_WINDOW ? hi - HS_WALK_WINDOW : o->chunk + CHUNK_DATA;
    }
    int reads = 1;
    if (twice) {
        if (hi)
            iov[n++] = (hs_remote_iov){lo, r->window, (size_t)(hi - lo)};
        n += pointer_iov(l, o, &p, 0, iov + n);
        if (hi)
            iov[n++] = (hs_remote_iov){lo, r->window2, (size_t)(hi - lo)};
    } else {
        n += pointer_iov(l, o, &p, 0, iov + n);
        if (hi)
            iov[n++] = (hs_remote_iov){lo, r->window, (size_t)(hi - lo)};
        if (l->cframe_current_frame >= 0) /* the cframe must still be the thread's after the copy */
            iov[n++] = (hs_remote_iov){o->tstate + (uint64_t)l->tstate_frame, &p.field[reads++], 8};
    }
    /* last, as they were read apart before: one that fails (the frame is
     * gone) fails the rest of them but nothing else */
    size_t needed = n;
    n = early_iov(r, frame_span(l), iov, n);
    size_t ok = hs_proc_readv(&t->proc, iov, n);
    if (ok < needed) {
        /* a chunk freed under us, or the thread's state gone */
        *reason = HS_TORN_INVALID;
        return 0;
    }
    r->early_count = ok - needed;
    if (!pointers_agree(l, o, &p, reads, 0)) {
        *reason = HS_TORN_MOVED;
        return 0;
    }
    r->window_base = lo;
    r->window_len = (size_t)(hi - lo);
    return p.current[0];
}

/* Notes a frame read apart from the window, to read it with the window at
 * the next pass. */
static void remember_apart(hs_walk_result *r, uint64_t frame) {
    hs_walk_apart *a = r->apart_now;
    if (!a || a->count == HS_WALK_EARLY)
        return;
    for (size_t i = 0; i < a->count; i++)
        if (a->addr[i] == frame)
            return;
    a->addr[a->count++] = frame;
}

/* The `span` bytes of the frame at `frame`: from the copy of the thread's
 * data stack when they are in it (3.11+: the frames of running functions
 * sit next to each other there, so one read serves the whole stack), else
 * read on their own (*apart set): through a window of their own when in
 * the chunk (a deep stack), else alone. NULL on a failed read. */
static const uint8_t *frame_bytes(hs_target *t, hs_walk_result *r, const stack_origin *o,
                                  uint64_t frame, size_t span, uint8_t *buf, int *apart) {
    uint64_t chunk = o->chunk;
    if (frame >= r->window_base && frame + span <= r->window_base + r->window_len)
        return r->window + (frame - r->window_base);
    *apart = 1;
    if (frame >= r->spill_base && frame + span <= r->spill_base + r->spill_len)
        return r->spill + (frame - r->spill_base);
    remember_apart(r, frame);
    for (size_t i = 0; i < r->early_count; i++)
        if (r->early_addr[i] == frame)
            return r->early[i];
    if (chunk && frame >= chunk + CHUNK_DATA && frame - chunk < CHUNK_MAX) {
        uint64_t end = frame + span;
        uint64_t start = end - chunk - CHUNK_DATA > HS_WALK_WINDOW ? end - HS_WALK_WINDOW
                                                                    : chunk + CHUNK_DATA;
        if (hs_proc_read(&t->proc, start, r->spill, (size_t)(end - start)) == 0) {
            r->spill_base = start;
            r->spill_len = (size_t)(end - start);
            return r->spill + (frame - start);
        }
        r->spill_len = 0;
    }
    return hs_proc_read(&t->proc, frame, buf, span) == 0 ? buf : NULL;
}

/* The fields of a frame that must read the same twice: where it links to,
 * its code, its owner and (for callers: the running leaf moves on) its
 * instruction. */
static int same_frame(const hs_pylayout *l, const uint8_t *a, const uint8_t *b, int leaf) {
    if (word_at(a, l->frame_previous) != word_at(b, l->frame_previous) ||
        word_at(a, l->frame_code) != word_at(b, l->frame_code))
        return 0;
    if (l->frame_owner >= 0 && a[l->frame_owner] != b[l->frame_owner])
        return 0;
    size_t instr = l->frame_instr_is_index ? 4 : 8;
    return leaf || memcmp(a + l->frame_instr, b + l->frame_instr, instr) == 0;
}

/* Frames read apart from the window are read once more, all in one system
 * call between two reads of the current-frame pointer, and must not have
 * changed (nor the pointer). */
static hs_torn_reason check_apart(hs_target *t, hs_walk_result *r, stack_origin *o, uint64_t first,
                                  size_t span) {
    const hs_pylayout *l = &t->layout;
    size_t apart = 0;
    for (size_t i = 0; i < r->node_count; i++)
        apart += r->nodes[i].apart;
    size_t need = apart + 4;
    if (hs_grow((void **)&r->iov, &r->iov_cap, need, sizeof *r->iov) != 0 ||
        hs_grow((void **)&r->again, &r->again_cap, apart * span, 1) != 0)
        return HS_TORN_INVALID;
    pointer_reads p;
    size_t n = pointer_iov(l, o, &p, 0, r->iov), k = 0;
    for (size_t i = 0; i < r->node_count; i++)
        if (r->nodes[i].apart)
            r->iov[n++] = (hs_remote_iov){r->nodes[i].addr, r->again + span * k++, span};
    n += pointer_iov(l, o, &p, 1, r->iov + n);
    if (hs_proc_readv(&t->proc, r->iov, n) != n)
        return HS_TORN_INVALID;
    /* Without a mark on the running frame, the stack must not have moved
     * either (3.10, 3.11); with one, the callers' marks were checked. */
    if (!marks_running(l) && (!pointers_agree(l, o, &p, 2, 1) || p.current[0] != first))
        return HS_TORN_MOVED;
    k = 0;
    for (size_t i = 0; i < r->node_count; i++)
        if (r->nodes[i].apart && !same_frame(l, r->nodes[i].bytes, r->again + span * k++, i == 0))
            return HS_TORN_MOVED;
    return HS_TORN_NONE;
}

/* 3.10's f_state of a frame that can be on a stack: executing, or
 * unwinding an exception. */
static int legacy_frame_live(const hs_pylayout *l, const uint8_t *buf) {
    int8_t state = (int8_t)buf[l->frame_state];
    return state == l->frame_state_executing || state == l->frame_state_unwinding;
}

/* 3.10: frames are heap objects scattered in memory, one system call each.
 * Each frame is read between two reads of its callee (one system call),
 * which must agree, show the callee live and linking to it, and, for a
 * callee that is itself a caller, match the read that found it. So each
 * caller is known unchanged from the read that found it to the read of
 * its own caller, and each link held when it was read: the chain is the
 * stack of one moment. A callee that changed (returned, or its frame
 * reused) is cut off with everything above it, and the live frame just
 * read becomes the leaf (HS_WALK_CUT): fast-changing tops of stacks are
 * then charged to the frame below them instead of being dropped. */
#define HS_WALK_CUT ((hs_torn_reason)-1)
#define HS_WALK_SLOW_READ_TRIES 8

/* Whether a read that took `ns` was slow: more than twice the usual time
 * (plus a microsecond), the usual being a running estimate that follows the
 * fastest reads at once and slower ones slowly. How long a read takes
 * depends on the machine (2-4 us on a 2-core VM), so no fixed figure. */
static int slow_read(hs_walk_result *r, int64_t ns) {
    int64_t usual = r->usual_read_ns;
    if (usual == 0 || ns < usual)
        r->usual_read_ns = ns;
    else
        r->usual_read_ns = usual + (ns - usual) / 64;
    return usual && ns > 2 * usual + 1000;
}
static hs_torn_reason read_heap_frame(hs_target *t, hs_walk_result *r, uint64_t frame, size_t span,
                                      uint8_t *buf) {
    const hs_pylayout *l = &t->layout;
    if (r->node_count == 0)
        return hs_proc_read(&t->proc, frame, buf, span) == 0 ? HS_TORN_NONE : HS_TORN_INVALID;
    hs_walk_node *callee = &r->nodes[r->node_count - 1];
    int leaf = r->node_count == 1;
    uint8_t before[HS_WALK_FRAME_SPAN], after[HS_WALK_FRAME_SPAN];
    hs_remote_iov iov[3] = {{callee->addr, before, span}, {frame, buf, span}, {callee->addr, after, span}};
    /* A read that took long (the sampler was preempted in it) leaves time
     * for the callee to return and be called again at the same address:
     * its two reads agreeing then proves nothing, so it is done again. */
    for (int tries = 0;; tries++) {
        int64_t started = hs_sampler_now_ns();
        if (hs_proc_readv(&t->proc, iov, 3) != 3)
            return HS_TORN_INVALID;
        if (!slow_read(r, hs_sampler_now_ns() - started))
            break;
        if (tries == HS_WALK_SLOW_READ_TRIES)
            return HS_TORN_MOVED;
    }
    if (word_at(after, l->frame_previous) == frame && legacy_frame_live(l, after) &&
        same_frame(l, before, after, leaf) && (leaf || same_frame(l, callee->bytes, after, 0))) {
        memcpy(callee->bytes, after, span); /* the leaf as of this moment */
        return HS_TORN_NONE;
    }
    return legacy_frame_live(l, buf) ? HS_WALK_CUT : HS_TORN_MOVED;
}

/* Forgets the frames read so far (3.10, 3.11: they changed, or sat above a
 * frame that did): the walk goes on from the next frame as a new leaf. */
static void cut_stack(hs_walk_result *r, hs_raw_thread *th, int *late, int *last_apart,
                      int *after_shim) {
    r->frame_count = th->first_frame;
    r->node_count = 0;
    th->depth = 0;
    th->cut = 1;
    *late = *last_apart = *after_shim = 0;
}

/* One attempt at reading a thread's frames into r->frames. Returns
 * HS_TORN_NONE when the stack was read in one moment. */
static hs_torn_reason walk_frames(hs_target *t, hs_walk_result *r, hs_raw_thread *th,
                                  stack_origin *o) {
    const hs_pylayout *l = &t->layout;
    size_t span = frame_span(l);
    uint8_t local[HS_WALK_FRAME_SPAN];
    r->frame_count = th->first_frame;
    r->node_count = 0;
    th->depth = 0;
    th->truncated = 0;
    r->window_len = r->spill_len = 0; /* copies from another thread or pass are stale */
    r->early_count = 0;
    if (span > sizeof local)
        return HS_TORN_INVALID;
    uint64_t frame = o->field;
    if (l->tstate_datastack_chunk >= 0) {
        hs_torn_reason reason = HS_TORN_NONE;
        frame = read_window(t, r, o, &reason);
        if (reason != HS_TORN_NONE)
            return reason;
    }
    uint64_t first = frame;
    /* late: a frame read apart from the window was used (recorded, or
     * followed to its caller), so those frames are checked again */
    int late = 0, last_apart = 0, after_shim = 0;
    int heap_frames = l->tstate_datastack_chunk < 0; /* 3.10 */
    int twice = !heap_frames && !marks_running(l);
    th->cut = 0;
    while (frame) {
        int apart = 0;
        const uint8_t *buf = local;
        if (!plausible(frame))
            return HS_TORN_INVALID;
        if (heap_frames) {
            hs_torn_reason reason = read_heap_frame(t, r, frame, span, local);
            if (reason == HS_WALK_CUT)
                cut_stack(r, th, &late, &last_apart, &after_shim);
            else if (reason != HS_TORN_NONE)
                return reason;
        } else if (!(buf = frame_bytes(t, r, o, frame, span, local, &apart))) {
            return HS_TORN_INVALID;
        }
        late |= last_apart;
        last_apart = apart;
        if (twice && !apart) {
            const uint8_t *copy2 = r->window2 + (frame - r->window_base);
            if (!same_frame(l, buf, copy2, r->node_count == 0)) {
                /* The frame changed around the moment the pointer was read:
                 * cut it and the frames above; its caller, if both copies
                 * agree on it, is checked as the new leaf. */
                uint64_t previous = word_at(buf, l->frame_previous);
                if (previous != word_at(copy2, l->frame_previous) || !previous)
                    return HS_TORN_MOVED;
                cut_stack(r, th, &late, &last_apart, &after_shim);
                frame = previous;
                continue;
            }
        }
        if (hs_grow((void **)&r->nodes, &r->node_cap, r->node_count + 1, sizeof *r->nodes) != 0)
            return HS_TORN_INVALID;
        hs_walk_node *node = &r->nodes[r->node_count++];
        node->addr = frame;
        node->apart = apart;
        memcpy(node->bytes, buf, span);
        if (th->depth >= HS_WALK_MAX_DEPTH) {
            th->truncated = 1;
            break;
        }
        uint64_t previous = word_at(buf, l->frame_previous);
        uint64_t code = word_at(buf, l->frame_code);
        int owner = l->frame_owner >= 0 ? buf[l->frame_owner] : 0;
        if (owner > 4) /* not a frame */
            return HS_TORN_INVALID;
        if (l->owned_by_cstack >= 0 && owner == l->owned_by_cstack) {
            /* The frame above a shim was the first of an eval loop's call */
            if (th->depth > 0)
                r->frames[r->frame_count - 1].entry = 1;
            frame = previous; /* a shim between C and Python: no code of its own */
            after_shim = 1;
            continue;
        }
        if (!plausible(code))
            return HS_TORN_INVALID;
        late |= apart;
        int32_t offset = hs_frame_instr_offset(l, buf, code);
        /* A static code object in the interpreter's own image, not yet past
         * its first instruction, between a caller and its callee: a shim
         * (3.13 runs a Python __init__ called by a specialized CALL under
         * _Py_InitCleanup, Python/specialize.c, instr_ptr at its first
         * instruction). Not Python code of the program: skipped. */
        if (th->depth > 0 && offset <= 0 && code >= t->image_start && code < t->image_end) {
            frame = previous;
            continue;
        }
        /* A caller is executing the instruction that made the call: never
         * its first one (3.11+: RESUME or a prefix op; 3.10: a load) nor
         * "not started" (f_lasti -1, prev_instr before the code). Seen
         * only in a frame reused for another call while it was read. */
        if (th->depth > 0 && offset <= 0)
            return HS_TORN_INVALID;
        /* A caller is not running: 3.12+ mark a running frame with
         * stacktop -1 (a caller called from C, below a shim, keeps it);
         * 3.10's f_state says executing (or unwinding) until it returns.
         * A caller found running, or returned, was copied after the stack
         * had moved on past its callee. */
        if (th->depth > 0 && l->frame_stacktop >= 0 && !after_shim) {
            int32_t stacktop;
            memcpy(&stacktop, buf + l->frame_stacktop, sizeof stacktop);
            if (stacktop < 0)
                return HS_TORN_MOVED;
        }
        if (heap_frames && !legacy_frame_live(l, buf))
            return HS_TORN_MOVED;
        after_shim = 0;
        if (hs_grow((void **)&r->frames, &r->frame_cap, r->frame_count + 1, sizeof *r->frames) != 0)
            return HS_TORN_INVALID;
        /* 3.10 runs each frame in a call of its own; 3.11 marks the first */
        int entry = heap_frames || (l->frame_is_entry >= 0 && buf[l->frame_is_entry]);
        r->frames[r->frame_count++] = (hs_raw_frame){code, offset, (uint8_t)entry, frame};
        th->depth++;
        frame = previous;
    }
    /* 3.10 read the current frame with each of its frames already */
    if (late && l->tstate_datastack_chunk >= 0)
        return check_apart(t, r, o, first, span);
    return HS_TORN_NONE;
}

static size_t tstate_span(const hs_pylayout *l) {
    int64_t fields[] = {l->tstate_next, l->tstate_thread_id, l->tstate_native_thread_id,
                        l->tstate_frame, l->tstate_datastack_chunk, l->tstate_datastack_top,
                        l->tstate_datastack_limit};
    return (size_t)max_offset(fields, sizeof fields / sizeof fields[0]);
}

static void origin_of(const hs_pylayout *l, uint64_t tstate, const uint8_t *buf, stack_origin *o) {
    memset(o, 0, sizeof *o);
    o->tstate = tstate;
    o->field = word_at(buf, l->tstate_frame);
    if (l->tstate_datastack_chunk >= 0) {
        o->chunk = word_at(buf, l->tstate_datastack_chunk);
        o->top = word_at(buf, l->tstate_datastack_top);
        o->limit = word_at(buf, l->tstate_datastack_limit);
        if (!plausible(o->chunk))
            o->chunk = o->top = o->limit = 0;
    }
}

/* Reads one thread's stack; again, from a fresh read of its thread state,
 * when a read was not consistent. */
static void walk_thread(hs_target *t, hs_walk_result *r, hs_raw_thread *th, stack_origin *o) {
    const hs_pylayout *l = &t->layout;
    th->first_frame = r->frame_count;
    int64_t started = r->retry_budget_ns > 0 ? hs_sampler_now_ns() : 0;
    for (th->attempts = 1;; th->attempts++) {
        hs_torn_reason reason = walk_frames(t, r, th, o);
        int max_attempts = r->max_attempts > 0 ? r->max_attempts : HS_WALK_ATTEMPTS;
        if (reason == HS_TORN_NONE &&
            (!th->cut || !r->whole_stacks || th->attempts >= max_attempts))
            return; /* a cut stack is kept when it is still cut at the last try */
        if (reason == HS_TORN_NONE)
            reason = HS_TORN_MOVED;
        uint8_t buf[512];
        size_t span = tstate_span(l);
        int give_up = th->attempts >= max_attempts;
        if (give_up && r->retry_budget_ns > 0 && th->attempts < HS_WALK_MAX_RETRIES)
            give_up = hs_sampler_now_ns() - started >= r->retry_budget_ns;
        if (give_up || span > sizeof buf ||
            hs_proc_read(&t->proc, o->tstate, buf, span) != 0) {
            r->frame_count = th->first_frame;
            th->depth = 0;
            th->torn = 1;
            th->torn_reason = reason;
            return;
        }
        origin_of(l, o->tstate, buf, o);
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

/* Linux's PID_MAX_LIMIT (include/linux/threads.h): a kernel thread id above
 * it was read from a thread state still being set up. */
#define KERNEL_TID_MAX 4194304

static int64_t native_tid_of(hs_target *t, const uint8_t *tstate_buf, uint64_t pthread_id) {
    const hs_pylayout *l = &t->layout;
    if (l->tstate_native_thread_id >= 0) {
        uint64_t tid = word_at(tstate_buf, l->tstate_native_thread_id);
        return tid <= KERNEL_TID_MAX ? (int64_t)tid : 0;
    }
    if (t->pthread_tid_offset < 0)
        return -1;
    int32_t tid;
    if (hs_proc_read(&t->proc, pthread_id + (uint64_t)t->pthread_tid_offset, &tid, sizeof tid) != 0)
        return -1;
    return tid;
}

/* gcstate->collecting, read from the target; 0 when unknown. */
static int gc_collecting(hs_target *t, uint64_t interp) {
    int64_t off = t->layout.interp_gc_collecting;
    int32_t collecting = 0;
    if (off < 0 || hs_proc_read(&t->proc, interp + (uint64_t)off, &collecting, sizeof collecting) != 0)
        return 0;
    return collecting != 0;
}

/* What a pass reads first, at fixed places in the runtime and the main
 * interpreter: the interpreter list's head (to check the interpreter
 * assumed), the thread list, who holds the GIL (`locked` and the last
 * holder, read together) and whether a cyclic collection runs. */
typedef struct {
    uint64_t interp_now, tstate, holder;
    int32_t locked, collecting;
    int have_gil, have_gc;
    /* The first thread state, read at the address it had at the last pass
     * (it is the same pass after pass): valid when have_first and tstate
     * is that address. */
    uint8_t first[512];
    int have_first;
} interp_fields;

/* Reads them for `interp` in one system call: each call costs a process
 * lookup and a permission check in the kernel, which at low rates is most
 * of a pass. Returns how many leading fields were read; the first two
 * (the head, the thread list) are the ones a pass cannot do without. */
static size_t read_interp_fields(hs_target *t, hs_walk_result *r, uint64_t interp, interp_fields *f,
                                 size_t span) {
    const hs_pylayout *l = &t->layout;
    memset(f, 0, offsetof(interp_fields, first));
    f->have_first = 0;
    int64_t holder_off = l->runtime_gil_last_holder >= 0 ? l->runtime_gil_last_holder
                                                         : l->interp_gil_last_holder;
    int64_t locked_off = l->runtime_gil_locked >= 0 ? l->runtime_gil_locked : l->interp_gil_locked;
    uint64_t gil_base = l->runtime_gil_last_holder >= 0 ? t->runtime : interp;
    t->gil_start = holder_off >= 0 ? gil_base + (uint64_t)holder_off - HS_GIL_HOLDER_OFFSET : 0;
    hs_walk_memory *m = r->memory;
    size_t codes = m && m->code_span ? m->code_count : 0;
    if (codes && (hs_grow((void **)&r->iov, &r->iov_cap, 6 + codes, sizeof *r->iov) != 0 ||
                  hs_grow((void **)&m->code_bytes, &m->code_bytes_cap, codes * m->code_span, 1) != 0))
        codes = 0;
    hs_remote_iov fixed[6], *iov = codes ? r->iov : fixed;
    iov[0] = (hs_remote_iov){t->runtime + (uint64_t)l->runtime_interpreters_head, &f->interp_now,
                             sizeof f->interp_now};
    iov[1] = (hs_remote_iov){interp + (uint64_t)l->interp_threads_head, &f->tstate, sizeof f->tstate};
    size_t wanted = 2, gil_at = 0, gc_at = 0;
    if (holder_off >= 0 && locked_off >= 0) {
        gil_at = wanted;
        iov[wanted++] = (hs_remote_iov){gil_base + (uint64_t)locked_off, &f->locked, sizeof f->locked};
        iov[wanted++] = (hs_remote_iov){gil_base + (uint64_t)holder_off, &f->holder, sizeof f->holder};
    }
    if (l->interp_gc_collecting >= 0) {
        gc_at = wanted;
        iov[wanted++] = (hs_remote_iov){interp + (uint64_t)l->interp_gc_collecting, &f->collecting,
                                        sizeof f->collecting};
    }
    size_t first_at = 0;
    if (plausible(t->tstate_seen) && span <= sizeof f->first) {
        first_at = wanted; /* late: its failure (the thread has gone) costs only the code
                              headers after it, read again by the caller */
        iov[wanted++] = (hs_remote_iov){t->tstate_seen, f->first, span};
    }
    /* Then the headers of the code objects the last pass met (the caller
     * checks them against its cache): a failed one fails those after it. */
    size_t codes_at = wanted;
    for (size_t i = 0; i < codes; i++)
        iov[wanted++] = (hs_remote_iov){m->codes[i], m->code_bytes + i * m->code_span, m->code_span};
    size_t got = hs_proc_readv(&t->proc, iov, wanted);
    if (m)
        m->codes_read = got > codes_at ? got - codes_at : 0;
    f->have_gil = gil_at && got > gil_at + 1;
    f->have_gc = gc_at && got > gc_at;
    f->have_first = first_at && got > first_at && f->tstate == t->tstate_seen;
    return got;
}

int hs_walk_threads(hs_target *t, hs_walk_result *r) {
    const hs_pylayout *l = &t->layout;
    r->thread_count = 0;
    r->frame_count = 0;
    /* The main interpreter stays where it is for the life of the runtime:
     * the one of the previous pass is assumed, and the same read says
     * whether it still is (else once more with the one it found). */
    uint64_t interp = t->interp_seen;
    interp_fields head;
    size_t span = tstate_span(l);
    for (int tries = 0;; tries++) {
        if (!plausible(interp))
            interp = hs_target_main_interp(t);
        if (!plausible(interp) || tries == 2) {
            t->interp_seen = 0;
            if (!errno)
                errno = EFAULT;
            return -1;
        }
        size_t got = read_interp_fields(t, r, interp, &head, span);
        if (got >= 2 && head.interp_now == interp)
            break;
        interp = got >= 1 ? head.interp_now : 0;
    }
    t->interp_seen = interp;
    t->tstate_seen = head.tstate;
    uint64_t tstate = head.tstate;
    uint64_t gil_holder = head.have_gil && head.locked > 0 ? head.holder : 0;

    /* Whether a cyclic collection runs: the collector holds the GIL (but
     * for finalizers that release it), so it is the GIL holder's. Read
     * before and after the stacks, and believed only when both say so: a
     * collection that ends while the stacks are read would otherwise put
     * [gc] over code that runs after it. */
    int gc_before = head.have_gc && head.collecting != 0;

    uint8_t buf[512];
    if ((!r->window && !(r->window = malloc(HS_WALK_WINDOW))) ||
        (!r->window2 && !(r->window2 = malloc(HS_WALK_WINDOW))) ||
        (!r->spill && !(r->spill = malloc(HS_WALK_WINDOW))))
        return -1;
    while (tstate && r->thread_count < HS_WALK_MAX_THREADS) {
        if (r->thread_count == 0 && head.have_first)
            memcpy(buf, head.first, span); /* read with the list head, just now */
        else if (!plausible(tstate) || span > sizeof buf ||
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
        if (th->native_tid == 0 && l->tstate_native_thread_id < 0) {
            /* 3.10: the kernel clears the tid in a thread's pthread struct
             * as the thread exits (CLONE_CHILD_CLEARTID, clone(2)), so this
             * thread state was read in its last moment and its thread is
             * gone by now: nothing of it to show. */
            r->thread_count--;
            tstate = next;
            continue;
        }
        size_t index = r->thread_count - 1;
        hs_walk_memory *m = r->memory;
        r->apart_now = NULL;
        if (m && hs_grow((void **)&m->apart, &m->apart_cap, index + 1, sizeof *m->apart) == 0) {
            r->apart_now = &m->apart[index];
            if (index >= m->apart_len || r->apart_now->tstate != tstate)
                *r->apart_now = (hs_walk_apart){.tstate = tstate};
            if (index >= m->apart_len)
                m->apart_len = index + 1;
        }
        stack_origin origin;
        origin_of(l, tstate, buf, &origin);
        walk_thread(t, r, th, &origin);
        r->apart_now = NULL;
        tstate = next;
    }
    r->gc_collecting = gc_before && gc_collecting(t, interp);
    /* 3.10 threads walked before the main thread was seen */
    if (l->tstate_native_thread_id < 0 && t->pthread_tid_offset >= 0) {
        for (size_t i = 0; i < r->thread_count; i++) {
            if (r->threads[i].native_tid < 0) {
                int32_t tid;
                if (hs_proc_read(&t->proc, r->threads[i].pthread_id + (uint64_t)t->pthread_tid_offset,
                                 &tid, sizeof tid) == 0 && tid > 0)
                    r->threads[i].native_tid = tid;
            }
        }
    }
    return 0;
}
