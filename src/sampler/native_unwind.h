/*
 * native_unwind.h - the native (C/C++) frames of a stopped thread of
 * another process, from its registers (native_unwind.c).
 *
 * From rip, rsp and rbp, frame by frame: the step rule of the function the
 * pc is in (its .eh_frame call frame information, native_objects.c) gives
 * where the caller's stack pointer, return address and rbp are; a function
 * with no usable rule is stepped over by its frame pointer (rbp chain),
 * when rbp points into the stack above the stack pointer. Memory comes
 * from a copy of the thread's stack, taken from the stack pointer up in
 * one read and extended as the walk goes deeper.
 *
 * The walk ends at the outermost frame (its rule says the return address
 * is undefined, as _start's and a thread's start routine's do, or the
 * return address is 0: `complete`), at a pc in no executable mapping, at a
 * stack pointer that does not increase, at a read outside the stack, or
 * at HS_NATIVE_MAX_DEPTH frames.
 */
#ifndef HOTSCOPE_NATIVE_UNWIND_H
#define HOTSCOPE_NATIVE_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "native_objects.h"

#define HS_NATIVE_MAX_DEPTH 2048
#define HS_NATIVE_STACK_MAX (8u << 20) /* bytes of stack copied, at most */

typedef struct {
    uint64_t *pcs;            /* leaf first: the leaf's pc, then return addresses */
    size_t count, cap;
    int complete;             /* reached the outermost frame */
    int by_frame_pointer;     /* frames stepped over by rbp (no usable rule) */
    uint8_t *copy;            /* the stack, from the stack pointer up */
    uint64_t copy_base;
    size_t copy_len, copy_cap;
} hs_native_stack;

void hs_native_stack_free(hs_native_stack *s);

/* Unwinds the thread whose registers are ip, sp, bp into s. `pass` tells
 * native_objects when it last read the maps. Returns the frame count
 * (0: not even the leaf is in executable memory). */
size_t hs_native_unwind(hs_native_objects *o, uint64_t ip, uint64_t sp, uint64_t bp, int64_t pass,
                        hs_native_stack *s);

#endif
