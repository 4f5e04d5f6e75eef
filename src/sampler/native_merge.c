/*
 * native_merge.c - one stack from a thread's native and Python frames (see
 * native_merge.h). Both lists are leaf first, and so is the result: the
 * eval-loop frames and the Python calls pair up in order, so one pass over
 * the native frames, emitting Python calls from a cursor, builds it.
 */
#include "native_merge.h"

/* The Python frames of the next eval-loop call: from *cursor through the
 * next frame marked as the first of its call (or to the end). */
static size_t emit_call(const uint8_t *entry, size_t count, size_t *cursor, hs_merged_frame *out,
                        size_t n) {
    while (*cursor < count) {
        size_t i = (*cursor)++;
        out[n++] = (hs_merged_frame){1, (uint32_t)i};
        if (entry[i])
            break;
    }
    return n;
}

size_t hs_native_merge(const uint8_t *native_kinds, size_t native_count, int native_complete,
                       const uint8_t *python_entry, size_t python_count, hs_merged_frame *out,
                       int *mismatch) {
    size_t evals = 0, calls = 0;
    for (size_t i = 0; i < native_count; i++)
        evals += (native_kinds[i] & HS_NATIVE_EVAL) != 0;
    for (size_t i = 0; i < python_count; i++)
        calls += python_entry[i] != 0 || i + 1 == python_count; /* the last ends a call too */
    *mismatch = evals != calls;

    /* How many Python calls each eval-loop frame (k-th from the leaf) gets:
     * paired from the outermost when the native stack is whole, else from
     * the innermost; see native_merge.h for what is left over. */
    size_t unpaired_inner = native_complete && evals > calls ? evals - calls : 0;
    size_t extra_inner = native_complete && calls > evals ? calls - evals : 0;
    size_t paired = evals - unpaired_inner < calls ? evals - unpaired_inner : calls;
    int leftover_outer = !native_complete && calls > evals;

    /* Where the paired eval-loop frames are: interpreter frames between
     * them (or below the last, when Python frames go below every native
     * frame) are the interpreter's call machinery. */
    size_t innermost = native_count, outermost = 0, k = 0;
    for (size_t i = 0; i < native_count; i++) {
        if (!(native_kinds[i] & HS_NATIVE_EVAL))
            continue;
        if (k >= unpaired_inner && k < unpaired_inner + paired) {
            if (innermost == native_count)
                innermost = i;
            outermost = i;
        }
        k++;
    }

    size_t n = 0, cursor = 0;
    k = 0;
    for (size_t i = 0; i < native_count; i++) {
        uint8_t kind = native_kinds[i];
        if (kind & HS_NATIVE_EVAL) {
            int is_paired = k >= unpaired_inner && k < unpaired_inner + paired;
            if (is_paired) {
                size_t take = 1 + (i == innermost ? extra_inner : 0);
                for (size_t c = 0; c < take; c++)
                    n = emit_call(python_entry, python_count, &cursor, out, n);
            }
            k++;
            continue; /* an eval-loop frame stands only for its Python frames */
        }
        int between = innermost < native_count && i > innermost &&
                      (i < outermost || leftover_outer);
        if (between && (kind & HS_NATIVE_INTERPRETER))
            continue;
        out[n++] = (hs_merged_frame){0, (uint32_t)i};
    }
    while (cursor < python_count) /* below every native frame */
        n = emit_call(python_entry, python_count, &cursor, out, n);
    return n;
}
