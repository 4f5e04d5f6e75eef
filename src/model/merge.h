/*
 * merge.h - adding the call paths of one profile into another, matching
 * frames by what they are rather than by their ids (which are private to
 * each profile).
 *
 * Two uses:
 *   - folding line numbers away: a sampled profile has a frame per line
 *     executing, so "main" calling "a" from two lines is two nodes; the
 *     text tree wants one per function (hs_profile_fold_lines);
 *   - the differential profile: two profiles recorded in two runs are
 *     merged path by path into one tree holding both (src/model/diff.c).
 *
 * A frame's line is always dropped (set to 0). With match_first_line the
 * rest of the frame must be equal (kind, name, file, first line); without
 * it the first line is ignored too, so a function still matches after an
 * edit moved it down the file (the first profile merged keeps its line).
 * Thread frames under the root become threads of the destination: matched
 * by their whole frame (the thread's index) with match_first_line, by
 * name without it. A thread's index means nothing outside its own
 * profile, so a merger that adds several profiles with match_first_line
 * (the pytest plugin's merged report) matches threads by name instead.
 */
#ifndef HOTSCOPE_MERGE_H
#define HOTSCOPE_MERGE_H

#include "model.h"

typedef struct hs_merger hs_merger;

/* A merger into `dst` (which it does not own). NULL on allocation failure. */
hs_merger *hs_merger_new(hs_profile *dst, int match_first_line);
void hs_merger_free(hs_merger *m);
/* Threads from here on are matched by name whatever match_first_line
 * says: for adding several profiles whose threads correspond by name.
 * Returns 0, or -1 on allocation failure. */
int hs_merger_match_threads_by_name(hs_merger *m);

/* Adds every node of `src` to dst along the same path. With add_weights,
 * src's self weights, weight flags, thread times and metadata are added
 * too; without, only the paths (zero weights). node_map, when not NULL,
 * receives src->node_count entries: each src node's node in dst.
 * Returns 0, or -1 on allocation failure (dst then holds part of src). */
int hs_merger_add(hs_merger *m, const hs_profile *src, int add_weights, hs_id *node_map);

/* A copy of `src` with every line set to 0 and the nodes that differed
 * only by line merged; node_map (src->node_count entries, or NULL) maps
 * src nodes to the copy's. NULL on allocation failure. */
hs_profile *hs_profile_fold_lines(const hs_profile *src, hs_id *node_map);

/* A copy of `src` with its threads folded into one, "all threads"
 * (merge_threads.c): the paths of every thread laid on top of each other,
 * their weights added. NULL on allocation failure. */
hs_profile *hs_profile_merge_threads(const hs_profile *src);

#endif
