/*
 * eh_frame.h - how to step out of the frame of a function at a given
 * address, read from the .eh_frame call frame information (DWARF CFI)
 * of the object it is in (eh_frame.c): the one piece of unwinding that
 * costs, done once per address, so native.c can unwind a stack with a
 * cache of these rules and a few loads per frame, as libunwind's fast
 * trace does, instead of interpreting the CFI again for every frame of
 * every allocation (_Unwind_Backtrace).
 *
 * The sampler uses the same parsing for another process's objects
 * (hotscope record --native): hs_eh_frame_rule_in takes a copy of an
 * object's .eh_frame_hdr and .eh_frame read from its file, and addresses
 * of the object's own (runtime address - load bias).
 *
 * x86-64 only, and only the rules ordinary compiled code has: the CFA
 * (the caller's stack pointer) at a constant offset from rsp or rbp, the
 * return address and rbp saved at constant offsets from it (or rbp left
 * as it was; a PLT stub's CFA expression, which the linker writes in one
 * known form, is evaluated for the address asked). Anything else (other
 * expressions, signal frames, registers moved to other registers) is "not
 * simple", and the caller falls back: the memory engine to
 * _Unwind_Backtrace for that stack, the sampler to the frame pointer.
 */
#ifndef HOTSCOPE_EH_FRAME_H
#define HOTSCOPE_EH_FRAME_H

#include <stdint.h>

/* The parsing: x86-64 register numbers and rules. */
#if defined(__x86_64__) && defined(__linux__)
#define HS_HAVE_EH_FRAME 1
#else
#define HS_HAVE_EH_FRAME 0
#endif

/* The memory engine's use of it. HOTSCOPE_CFLAGS=-DHS_NO_FAST_UNWIND
 * builds without it (to measure what it saves: bench/bench_mem.py). */
#if HS_HAVE_EH_FRAME && !defined(HS_NO_FAST_UNWIND)
#define HS_HAVE_FAST_UNWIND 1
#else
#define HS_HAVE_FAST_UNWIND 0
#endif

enum {
    HS_STEP_UNKNOWN = 0, /* no rule (cache: empty slot) */
    HS_STEP_SIMPLE = 1,
    HS_STEP_LAST = 2,    /* the outermost frame: the return address is undefined */
    HS_STEP_NOT_SIMPLE = 3,
};

typedef struct {
    uintptr_t pc;        /* the address the rule is for (a return address - 1) */
    int32_t cfa_offset;  /* CFA = (cfa_from_rbp ? rbp : rsp) + cfa_offset */
    int32_t ra_offset;   /* the return address is at CFA + ra_offset */
    int32_t rbp_offset;  /* rbp was saved at CFA + rbp_offset, if rbp_saved */
    uint8_t kind;        /* HS_STEP_* */
    uint8_t cfa_from_rbp;
    uint8_t rbp_saved;
    uint8_t rbp_undefined; /* rbp holds nothing for the caller */
} hs_step_rule;

/* The rule for the frame of the function containing `pc`. Reads the
 * loaded object's .eh_frame_hdr and .eh_frame (in memory, where the
 * loader mapped them). Always fills *rule (kind NOT_SIMPLE when it
 * cannot tell). Safe to call from any thread, inside malloc: it does not
 * allocate. */
void hs_eh_frame_rule(uintptr_t pc, hs_step_rule *rule);

/* An object's bytes, or the part of them holding .eh_frame_hdr and
 * .eh_frame: `len` bytes at `bytes` that stand for the object's addresses
 * [start, start + len); .eh_frame_hdr is at address `hdr`. */
typedef struct {
    const uint8_t *bytes;
    uint64_t start;
    uint64_t len;
    uint64_t hdr;
} hs_eh_image;

/* The rule for `pc` (an address in the image's terms) from an image. Always
 * fills *rule (kind NOT_SIMPLE when it cannot tell); reads only inside the
 * image, and does not allocate. */
void hs_eh_frame_rule_in(const hs_eh_image *img, uint64_t pc, hs_step_rule *rule);

#endif
