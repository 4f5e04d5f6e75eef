/*
 * py310.h - CPython 3.10 layouts for the sampler (see pylayout.h).
 * Numbers from the 3.10.13 headers, x86-64 / LP64; printed by
 * tools/layout_probe.c and checked by tests/test_sampler_layouts.py.
 * Field by field:
 *   _PyRuntimeState.interpreters.head, .ceval.gil.{last_holder,locked}
 *                                      Include/internal/pycore_runtime.h, pycore_gil.h
 *   PyInterpreterState.next, .tstate_head          Include/internal/pycore_interp.h
 *   PyThreadState.next, .thread_id, .frame         Include/cpython/pystate.h
 *   PyFrameObject.f_back, .f_code, .f_lasti, .f_localsplus, .f_state;
 *     FRAME_EXECUTING = 0, FRAME_UNWINDING = 2     Include/cpython/frameobject.h
 *   PyCodeObject.co_filename, co_name, co_linetable, co_firstlineno,
 *     co_varnames, co_nlocals, co_argcount          Include/cpython/code.h
 *   PyASCIIObject, PyCompactUnicodeObject           Include/cpython/unicodeobject.h
 *   PyBytesObject.ob_sval, PyTupleObject.ob_item,
 *   PyFloatObject.ob_fval, PyLongObject.ob_digit    Include/cpython/bytesobject.h, tupleobject.h,
 *                                                  floatobject.h, longintrepr.h
 */
#ifndef HOTSCOPE_PY310_H
#define HOTSCOPE_PY310_H

#include "pylayout.h"

static const hs_pylayout hs_layout_310 = {
    .minor = 10,
    .linetable = HS_LINETABLE_310,
    .runtime_interpreters_head = 32,
    .runtime_gil_last_holder = 360,
    .runtime_gil_locked = 368,
    .interp_next = 0,
    .interp_threads_head = 8,
    .interp_gil_last_holder = -1,
    .interp_gil_locked = -1,
    .tstate_next = 8,
    .tstate_thread_id = 176,
    .tstate_native_thread_id = -1,
    .tstate_frame = 24,
    .cframe_current_frame = -1,
    .tstate_datastack_chunk = -1,
    .tstate_datastack_top = -1,
    .tstate_datastack_limit = -1,
    .frame_previous = 24,
    .frame_code = 32,
    .frame_instr = 96,
    .frame_owner = -1,
    .frame_localsplus = 352,
    .frame_stacktop = -1,
    .frame_state = 108,
    .frame_state_executing = 0,
    .frame_state_unwinding = 2,
    .frame_instr_is_index = 1,
    .owned_by_cstack = -1,
    .code_filename = 104,
    .code_name = 112,
    .code_qualname = -1,
    .code_linetable = 120,
    .code_firstlineno = 40,
    .code_code_adaptive = -1,
    .code_localsplusnames = 72,
    .code_nlocalsplus = 28,
    .code_argcount = 16,
    .object_type = 8,
    .type_name = 24,
    .varobject_size = 16,
    .bytes_sval = 32,
    .tuple_item = 24,
    .unicode_length = 16,
    .unicode_state = 32,
    .unicode_ascii_size = 48,
    .unicode_compact_size = 72,
    .float_fval = 16,
    .long_tag = -1,
    .long_digit = 24,
};

#endif
