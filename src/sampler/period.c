/*
 * period.c - continuous recording: hands the profile of one period over
 * (`hotscope record --continuous` uploads one every few seconds) and
 * starts the next, so a sampler can run for days in bounded memory.
 *
 * What the next period keeps, and why:
 *   - the strings and frames, under the same ids, because every target's
 *     code cache (codecache.h) holds ids of them: re-resolving every code
 *     object each period would cost the target's memory reads for nothing.
 *     They grow only with code never seen before and with thread names, so
 *     when the frames outnumber those the period used by far (threads come
 *     and go, code is generated at run time) the next period starts from
 *     nothing and the code caches are emptied with it;
 *   - the threads seen lately, renumbered in the new profile, with their
 *     CPU clock readings (the next sample's CPU delta) and open /proc
 *     files; a thread not seen for a few passes is forgotten, so a program
 *     that starts a thread per request does not grow the sampler;
 *   - nothing of a target that has exited but its counters; of the
 *     asyncio view, what it learnt of asyncio but not the tasks it met
 *     (their names are ids of the old profile).
 * The call tree, weights, thread times and timeline start empty: each
 * period's profile counts only what was sampled during it.
 */
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

/* Frames beyond what one period used that the next may still carry
 * (settable at build time to exercise the fresh start). */
#ifndef HS_PERIOD_SPARE_FRAMES
#define HS_PERIOD_SPARE_FRAMES 4096
#endif
/* A thread unseen for this many passes is taken to have ended (a pass can
 * miss a thread: its walk failed, or it was being created). */
#define HS_PERIOD_THREAD_GRACE 3

static size_t frames_used(const hs_profile *p) {
    uint8_t *used = calloc(p->frame_count ? p->frame_count : 1, 1);
    if (!used)
        return p->frame_count; /* cannot tell: keep the tables */
    size_t count = 0;
    for (size_t i = 1; i < p->node_count; i++) {
        hs_id f = p->nodes[i].frame;
        if (f < p->frame_count && !used[f]) {
            used[f] = 1;
            count++;
        }
    }
    free(used);
    return count;
}

/* The threads every target saw lately, added to `next` under their
 * current names: new_index[k] is the new index of the k-th thread record
 * (over all targets in order), or -1 for one to forget. Changes nothing in
 * the sampler. 0, or -1 when `next` ran out of memory. */
static int add_recent_threads(const hs_sampler *s, const hs_profile *old, hs_profile *next,
                              int *new_index) {
    size_t k = 0;
    for (size_t i = 0; i < s->target_count; i++) {
        const hs_sample_target *t = &s->targets[i];
        for (size_t j = 0; j < t->thread_count; j++, k++) {
            const hs_sampled_thread *st = &t->threads[j];
            new_index[k] = -1;
            if (t->gone || s->passes - st->seen_in_pass >= HS_PERIOD_THREAD_GRACE ||
                st->model_thread < 0 || (size_t)st->model_thread >= old->thread_count)
                continue;
            const hs_thread *th = &old->threads[st->model_thread];
            new_index[k] = hs_thread_add(next, hs_str(old, th->name, NULL), th->os_tid, th->ident);
            if (new_index[k] < 0)
                return -1;
        }
    }
    return 0;
}

/* Points the kept thread records at their new threads and forgets the
 * others (closing their files). Cannot fail. */
static void renumber_threads(hs_sampler *s, const int *new_index) {
    size_t k = 0;
    for (size_t i = 0; i < s->target_count; i++) {
        hs_sample_target *t = &s->targets[i];
        size_t kept = 0;
        for (size_t j = 0; j < t->thread_count; j++, k++) {
            hs_sampled_thread st = t->threads[j];
            if (new_index[k] < 0) {
                hs_thread_files_close(&st.files);
                continue;
            }
            st.model_thread = new_index[k];
            st.timeline = -1; /* the new profile has no series yet */
            t->threads[kept++] = st;
        }
        t->thread_count = kept;
        t->thread_hint = 0;
    }
}

hs_profile *hs_sampler_take_period(hs_sampler *s, int64_t now_ns) {
    hs_profile *old = s->profile;
    int fresh = old->frame_count > 2 * frames_used(old) + HS_PERIOD_SPARE_FRAMES;
    size_t records = 0;
    for (size_t i = 0; i < s->target_count; i++)
        records += s->targets[i].thread_count;
    /* Everything that can fail first, the sampler untouched until all of
     * it has worked: new_index, the next profile with its threads, and an
     * empty code cache for each target that needs one. */
    int *new_index = malloc((records ? records : 1) * sizeof *new_index);
    hs_code_cache *caches = calloc(s->target_count ? s->target_count : 1, sizeof *caches);
    hs_profile *next = !new_index || !caches ? NULL : fresh ? hs_profile_new() : hs_profile_tables_copy(old);
    int ok = next != NULL && add_recent_threads(s, old, next, new_index) == 0;
    for (size_t i = 0; ok && i < s->target_count; i++)
        if (fresh || s->targets[i].gone)
            ok = hs_codecache_init(&caches[i]) == 0;
    if (!ok) {
        for (size_t i = 0; caches && i < s->target_count; i++)
            hs_codecache_free(&caches[i]);
        free(caches);
        free(new_index);
        hs_profile_free(next);
        return NULL;
    }
    renumber_threads(s, new_index);
    for (size_t i = 0; i < s->target_count; i++) {
        hs_code_cache *c = &s->targets[i].codes;
        if (!caches[i].slots)
            continue;
        /* The counters are the whole recording's, for stats. */
        caches[i].resolved = c->resolved;
        caches[i].invalidated = c->invalidated;
        hs_codecache_free(c);
        *c = caches[i];
    }
    free(caches);
    free(new_index);
    for (size_t i = 0; i < s->target_count; i++) {
        /* The RSS series and the task names were the old profile's. */
        s->targets[i].rss_series = -1;
        s->targets[i].rss_bucket = -1;
        hs_async_view_forget_tasks(&s->targets[i].async);
        hs_async_waits_forget(&s->targets[i].waits);
    }
    s->profile = next;
    s->first_pass_ns = now_ns; /* the new timeline starts here */
    return old;
}
