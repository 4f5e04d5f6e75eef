/*
 * focus.h - a profile narrowed to what ran below one function.
 *
 * The web middleware (hotscope/web.py) profiles one request while the
 * process goes on serving others: the tracer and the sampler see every
 * thread, and under asyncio several requests interleave on one thread.
 * The profiled request runs below a function of its own, so the paths
 * through that function are exactly its work, whatever thread or task
 * step they were recorded in. The same cut serves anyone who wants the
 * profile of one entry point of a bigger run ("focus on function", as in
 * speedscope).
 *
 * Work a request hands to other threads (a thread pool running a
 * synchronous endpoint for an asyncio server) is not below its function;
 * the caller can name threads to keep whole instead.
 */
#ifndef HOTSCOPE_FOCUS_H
#define HOTSCOPE_FOCUS_H

#include "model.h"

/* A new profile holding, for each thread, the subtrees rooted at the
 * outermost frames named `name` (and in `file`, when file is not NULL),
 * moved up to sit directly under their thread: frames above them are
 * dropped, and subtrees that were reached along different paths merge.
 * Threads with no such frame are left out. The threads whose ident is one
 * of the `whole_count` in `whole` are kept entire, as recorded. Self
 * weights, weight flags,
 * thread names and times and the metadata are kept; time series and line
 * tables are not (they describe the whole run). The result carries the
 * metadata "focus" = name. NULL on allocation failure. */
hs_profile *hs_profile_focus(const hs_profile *src, const char *name, size_t name_len, const char *file,
                             size_t file_len, const uint64_t *whole, size_t whole_count);

#endif
