/*
 * target.h - a Python process the sampler reads: found, identified and
 * described from outside, with nothing run inside it.
 *
 * Attaching locates the interpreter's _PyRuntime through the ELF symbol
 * tables of the executable and of any libpython in /proc/PID/maps, tells
 * the version from the target itself (Py_Version, else the file name for
 * 3.10), and takes the matching layout (pylayout.h).
 */
#ifndef HOTSCOPE_TARGET_H
#define HOTSCOPE_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pylayout.h"
#include "proc.h"

typedef struct {
    pid_t pid;
    hs_proc proc;
    hs_pylayout layout;
    uint64_t runtime;        /* address of _PyRuntime */
    uint64_t code_type;      /* address of PyCode_Type: validates code objects */
    int version_minor;
    char binary[512];        /* the file that holds _PyRuntime */
    uint64_t image_start;    /* where that file is mapped: code objects found there are */
    uint64_t image_end;      /* static ones, the interpreter's shims (3.13's __init__) */
    int pthread_tid_offset;  /* 3.10: kernel tid inside glibc's struct pthread; -1 unknown */
    uint64_t interp_seen;    /* the main interpreter and its first thread state at the */
    uint64_t tstate_seen;    /* last pass: walk.c reads them, and checks them, in one
                                system call with the interpreter's fields */
    uint64_t gil_start;      /* the main interpreter's struct _gil_runtime_state (the
                                runtime's before 3.12), 0 unknown: a futex word in it
                                is a wait for the GIL (walk.c, HS_GIL_STRUCT_SIZE) */
} hs_target;

/* struct _gil_runtime_state (Include/internal/pycore_gil.h, 3.10-3.13):
 * interval (8), last_holder (8), locked (4, padded to 8), switch_number (8),
 * cond (pthread_cond_t, 48 on x86-64 glibc), mutex (pthread_mutex_t, 40),
 * then with FORCE_SWITCHING, on by default: switch_cond (48), switch_mutex
 * (40). take_gil waits on cond and mutex, drop_gil on switch_cond. */
#define HS_GIL_STRUCT_SIZE 208
#define HS_GIL_HOLDER_OFFSET 8   /* last_holder's place in it */

/* Attaches. Returns 0; 1 when the process is not ready yet (still
 * starting, no interpreter yet: try again); -1 for good, with a one-line
 * message (no such process, permission, not Python, unsupported version). */
int hs_target_attach(hs_target *t, pid_t pid, char *err, size_t errlen);

/* The first interpreter (the main one), or 0. */
uint64_t hs_target_main_interp(const hs_target *t);

#endif
