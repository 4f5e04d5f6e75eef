/*
 * py310.h - CPython 3.10 layouts for the sampler (see pylayout.h).
 * Numbers from the 3.10.13 headers, x86-64 / LP64; printed by
 * tools/layout_probe.c and checked by tests/test_sampler_layouts.py.
 * Field by field:
 *   PyInterpreterState.gc.collecting (struct _gc_runtime_state, set for the
 *     whole of a collection, callbacks included: gc_collect_main's callers in
 *     Modules/gcmodule.c)                          Include/internal/pycore_gc.h,
 *                                                  pycore_interp.h
 *   _PyRuntimeState.interpreters.head, .ceval.gil.{last_holder,locked}
 *                                      Include/internal/pycore_runtime.h, pycore_gil.h
 *   PyInterpreterState.next, .tstate_head          Include/internal/pycore_interp.h
 *   PyThreadState.next, .thread_id, .frame         Include/cpython/pystate.h
 *   PyFrameObject.f_back, .f_code, .f_lasti, .f_localsplus, .f_state;
 *     FRAME_EXECUTING = 0, FRAME_UNWINDING = 2     Include/cpython/frameobject.h
 *   PyCodeObject.co_filename, co_name, co_linetable, co_firstlineno,
 *     co_varnames, co_nlocals, co_argcount          Include/cpython/code.h
 *   PyASCIIObject, PyCompactUnicodeObject           Include/cpython/unicodeobject.h
 *   PyInterpreterState.{modules | imports.modules (3.12)}, PyModuleObject.md_dict
 *                                                  Include/internal/pycore_interp.h,
 *                                                  pycore_moduleobject.h
 *   PyDictObject.ma_keys, ma_values                 Include/cpython/dictobject.h
 *   PyTypeObject.tp_flags, tp_basicsize, tp_dictoffset; PyHeapTypeObject.ht_cached_keys
 *                                                  Include/cpython/object.h
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
    .interp_gc_collecting = 816,
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
    .frame_is_entry = -1,
    .frame_localsplus = 352,
    .frame_stacktop = -1,
    .frame_state = 108,
    .frame_state_executing = 0,
    .frame_state_unwinding = 2,
    .frame_instr_is_index = 1,
    /* PyGenObject: PyObject_HEAD, then gi_frame (_PyGenObject_HEAD,
     * Include/genobject.h, 3.10) */
    .gen_frame = 16,
    .gen_frame_is_pointer = 1,
    .gen_frame_state = -1,
    .frame_state_created = -2,  /* FRAME_CREATED, Include/cpython/frameobject.h */
    .frame_valuestack = 64,     /* f_valuestack, f_stackdepth: Include/cpython/frameobject.h */
    .frame_saved_stack_depth = 80,
    .set_mask = 32,             /* Include/cpython/setobject.h */
    .set_table = 40,
    .weakref_object = 16,       /* Include/cpython/weakrefobject.h */
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
    .interp_modules = 856,
    .module_dict = 16,
    .dict_keys = 32,
    .dict_values = 40,
    /* Objects/dict-common.h (3.10, not installed, so not probed):
     * struct _dictkeysobject {dk_refcnt, dk_size, dk_lookup, dk_usable,
     * dk_nentries, dk_indices[]}; index entries of 1, 2, 4 or 8 bytes by
     * dk_size (DK_IXSIZE); PyDictKeyEntry {me_hash, me_key, me_value};
     * a split table's ma_values is a plain PyObject *[]. */
    .dictkeys_size = 8,
    .dictkeys_log2_size = -1,
    .dictkeys_log2_index_bytes = -1,
    .dictkeys_kind = -1,
    .dictkeys_nentries = 32,
    .dictkeys_indices = 40,
    .dict_entry_size = 24,
    .dict_unicode_entry_size = -1,
    .dictvalues_values = 0,
    .type_flags = 168,
    .type_basicsize = 32,
    .type_dictoffset = 288,
    .heaptype_cached_keys = 872,
    .type_managed_dict_flag = 0,
    .type_inline_values_flag = 0,
    .managed = HS_MANAGED_NONE,
};

#endif
