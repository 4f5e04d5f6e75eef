/*
 * heap_guess.c - 3.10's frames read in one go before a walk (heap_guess.h).
 */
#include "heap_guess.h"

#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "sampler.h" /* hs_sampler_now_ns */

typedef struct {
    uint64_t tstate;           /* 0: free */
    uint64_t addrs[HS_GUESS_FRAMES];
    size_t count, next;        /* a ring once full: the oldest address goes */
    int64_t usual_ns;          /* how long its read takes here (reads of threads
                                  with more frames take longer) */
} thread_guess;

struct hs_heap_guess {
    thread_guess threads[HS_GUESS_THREADS];
    size_t evict_next;
    /* the last read */
    uint64_t current;          /* its thread's current frame; 0: unusable */
    size_t read_count;
    uint64_t read_addrs[HS_GUESS_FRAMES];
    uint8_t copies[2][HS_GUESS_FRAMES][HS_GUESS_SPAN];
    uint64_t current_copies[2];
};

static hs_heap_guess *guess_of(hs_heap_guess **g) {
    if (!*g)
        *g = calloc(1, sizeof **g);
    return *g;
}

static thread_guess *thread_of(hs_heap_guess *g, uint64_t tstate, int create) {
    for (size_t i = 0; i < HS_GUESS_THREADS; i++)
        if (g->threads[i].tstate == tstate)
            return &g->threads[i];
    if (!create)
        return NULL;
    for (size_t i = 0; i < HS_GUESS_THREADS; i++) {
        if (!g->threads[i].tstate) {
            g->threads[i].tstate = tstate;
            return &g->threads[i];
        }
    }
    thread_guess *victim = &g->threads[g->evict_next++ % HS_GUESS_THREADS];
    memset(victim, 0, sizeof *victim);
    victim->tstate = tstate;
    return victim;
}

static void forget(thread_guess *tg, uint64_t addr) {
    for (size_t i = 0; i < tg->count; i++) {
        if (tg->addrs[i] == addr) {
            tg->addrs[i] = tg->addrs[--tg->count];
            tg->next = tg->count;
            return;
        }
    }
}

void hs_heap_guess_read(hs_heap_guess **gp, const hs_target *t, uint64_t tstate, int64_t frame_field,
                        size_t span) {
    hs_heap_guess *g = guess_of(gp);
    if (!g)
        return;
    g->current = 0;
    g->read_count = 0;
    thread_guess *tg = thread_of(g, tstate, 0);
    if (!tg || !tg->count || span > HS_GUESS_SPAN || frame_field < 0)
        return;
    size_t n = tg->count;
    hs_remote_iov iov[2 * (HS_GUESS_FRAMES + 1)];
    for (int copy = 0; copy < 2; copy++) {
        hs_remote_iov *run = iov + copy * (n + 1);
        run[0] = (hs_remote_iov){tstate + (uint64_t)frame_field, &g->current_copies[copy], 8};
        for (size_t i = 0; i < n; i++)
            run[i + 1] = (hs_remote_iov){tg->addrs[i], g->copies[copy][i], span};
    }
    int64_t started = hs_sampler_now_ns();
    size_t got = hs_proc_readv(&t->proc, iov, 2 * (n + 1));
    int slow = hs_read_was_slow(&tg->usual_ns, hs_sampler_now_ns() - started);
    if (got < 2 * (n + 1)) {
        /* a frame's memory went back to the system: that address goes */
        if (got >= 1 && got <= n)
            forget(tg, tg->addrs[got - 1]);
        return;
    }
    if (slow || g->current_copies[0] != g->current_copies[1])
        return;
    memcpy(g->read_addrs, tg->addrs, n * sizeof *tg->addrs);
    g->read_count = n;
    g->current = g->current_copies[0];
}

uint64_t hs_heap_guess_current(const hs_heap_guess *g) {
    return g ? g->current : 0;
}

const uint8_t *hs_heap_guess_frame(const hs_heap_guess *g, uint64_t addr, const uint8_t **again) {
    if (!g || !g->current)
        return NULL;
    for (size_t i = 0; i < g->read_count; i++) {
        if (g->read_addrs[i] == addr) {
            *again = g->copies[1][i];
            return g->copies[0][i];
        }
    }
    return NULL;
}

void hs_heap_guess_add(hs_heap_guess **gp, uint64_t tstate, uint64_t addr) {
    hs_heap_guess *g = guess_of(gp);
    thread_guess *tg = g ? thread_of(g, tstate, 1) : NULL;
    if (!tg)
        return;
    for (size_t i = 0; i < tg->count; i++)
        if (tg->addrs[i] == addr)
            return;
    if (tg->count < HS_GUESS_FRAMES) {
        tg->addrs[tg->count++] = addr;
        return;
    }
    tg->addrs[tg->next++ % HS_GUESS_FRAMES] = addr;
}

void hs_heap_guess_drop(hs_heap_guess *g, uint64_t tstate) {
    thread_guess *tg = g ? thread_of(g, tstate, 0) : NULL;
    if (tg) {
        tg->count = tg->next = 0;
        tg->usual_ns = 0;
    }
}

void hs_heap_guess_free(hs_heap_guess *g) {
    free(g);
}
