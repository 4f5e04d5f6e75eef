/*
 * mem_export.h - the memory engine's recording turned into a profile
 * model (mem_export.c).
 */
#ifndef HOTSCOPE_MEM_EXPORT_H
#define HOTSCOPE_MEM_EXPORT_H

#include "../model/model.h"
#include "mem.h"

typedef struct {
    PyObject *thread_names;  /* a dict {kernel thread id: name}, or NULL */
    const char *hide_prefix; /* frames in files starting with this are left out; or NULL */
    unsigned long base_thread; /* in this thread (threading.get_ident()), */
    uint32_t base_frames;      /* the first base_frames frames from the root are left out
                                * (the frames that started the program: `hotscope mem`) */
} hs_mem_export_opts;

/* Fills the empty profile `p` from the engine (GIL held; the caller keeps
 * this thread's own allocations out of the recording meanwhile).
 * 0, or -1 with a message. */
int hs_mem_export(hs_mem *m, hs_profile *p, const hs_mem_export_opts *opts, char *err,
                  size_t errlen);

/* Marks the calling thread as inside the engine (1) or not (0): its
 * allocations pass through unrecorded meanwhile. */
void hs_mem_set_busy(hs_mem *m, int busy);

#endif
