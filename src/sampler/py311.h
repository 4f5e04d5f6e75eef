/*
 * py311.h - CPython 3.11 layouts for the sampler (see pylayout.h).
 * Numbers from the 3.11.7 headers, x86-64 / LP64; printed by
 * tools/layout_probe.c and checked by tests/test_sampler_layouts.py.
 * Field by field:
 *   PyInterpreterState.gc.collecting (struct _gc_runtime_state, set for the
 *     whole of a collection, callbacks included: gc_collect_main's callers in
 *     Modules/gcmodule.c)                          Include/internal/pycore_gc.h,
 *                                                  pycore_interp.h
 *   _PyRuntimeState.interpreters.head, .ceval.gil.{last_holder,locked}
 *                                      Include/internal/pycore_runtime.h, pycore_gil.h
 *   PyInterpreterState.next, .threads.head         Include/internal/pycore_interp.h
 *   PyThreadState.next, .thread_id, .native_thread_id, .cframe
 *                                                  Include/cpython/pystate.h
 *   _PyCFrame.current_frame, PyThreadState.datastack_{chunk,top,limit}
 *                                                  Include/cpython/pystate.h
 *   _PyInterpreterFrame.previous, .f_code, .prev_instr, .is_entry, .owner, .localsplus
 *                                                  Include/internal/pycore_frame.h
 *   PyCodeObject.co_filename, co_name, co_qualname, co_linetable,
 *     co_firstlineno, co_code_adaptive, co_localsplusnames, co_nlocalsplus,
 *     co_argcount                                   Include/cpython/code.h
 *   PyASCIIObject, PyCompactUnicodeObject           Include/cpython/unicodeobject.h
 *   PyInterpreterState.{modules | imports.modules (3.12)}, PyModuleObject.md_dict
 *                                                  Include/internal/pycore_interp.h,
 *                                                  pycore_moduleobject.h
 *   PyDictObject.ma_keys, ma_values                 Include/cpython/dictobject.h
 *   PyTypeObject.tp_flags, tp_basicsize, tp_dictoffset; PyHeapTypeObject.ht_cached_keys
 *                                                  Include/cpython/object.h
 *   PyDictKeysObject.dk_log2_size, dk_log2_index_bytes, dk_kind, dk_nentries,
 *     dk_indices; PyDictKeyEntry, PyDictUnicodeEntry; PyDictValues.values
 *                                                  Include/internal/pycore_dict.h
 *   Py_TPFLAGS_MANAGED_DICT                         Include/object.h
 *   managed dict: values at obj-4 words, dict at obj-3 words
 *     (_PyObject_ValuesPointer, _PyObject_ManagedDictPointer)
 *                                                  Include/internal/pycore_object.h
 */
#ifndef HOTSCOPE_PY311_H
#define HOTSCOPE_PY311_H

#include "pylayout.h"

static const hs_pylayout hs_layout_311 = {
    .minor = 11,
    .linetable = HS_LINETABLE_311,
    .runtime_interpreters_head = 40,
    .runtime_gil_last_holder = 368,
    .runtime_gil_locked = 376,
    .interp_next = 0,
    .interp_threads_head = 16,
    .interp_gil_last_holder = -1,
    .interp_gc_collecting = 848,
    .interp_gil_locked = -1,
    .tstate_next = 8,
    .tstate_thread_id = 152,
    .tstate_native_thread_id = 160,
    .tstate_frame = 56,
    .cframe_current_frame = 8,
    .tstate_datastack_chunk = 296,
    .tstate_datastack_top = 304,
    .tstate_datastack_limit = 312,
    .frame_previous = 48,
    .frame_code = 32,
    .frame_instr = 56,
    .frame_owner = 69,
    .frame_is_entry = 68, /* "Whether this is the root frame for the current _PyCFrame" */
    .frame_localsplus = 72,
    .frame_stacktop = -1, /* there, but not reset while the frame runs (pycore_frame.h) */
    .frame_state = -1,
    .frame_state_executing = -1,
    .frame_state_unwinding = -1,
    .frame_instr_is_index = 0,
    .return_opcode = 83, /* RETURN_VALUE, Lib/opcode.py (3.11), never specialized */
    /* PyGenObject: PyObject_HEAD, gi_code, gi_weakreflist, gi_name,
     * gi_qualname, gi_exc_state (two pointers), gi_origin_or_finalizer, four
     * chars padded to 8, then gi_iframe (_PyGenObject_HEAD, Include/cpython/
     * genobject.h, 3.11.7) */
    .gen_frame = 80,
    /* gi_frame_state: the last of the four chars before gi_iframe's padding
     * (_PyGenObject_HEAD); FRAME_CREATED = -2 (Include/internal/pycore_frame.h (3.11)) */
    .gen_frame_state = 75,
    .frame_state_created = -2,
    .frame_valuestack = -1,
    .frame_saved_stack_depth = 64, /* int stacktop (valid in a suspended frame) */
    .set_mask = 32,                /* Include/cpython/setobject.h */
    .set_table = 40,
    .weakref_object = 16,          /* Include/cpython/weakrefobject.h */
    .owned_by_cstack = -1,
    .code_filename = 112,
    .code_name = 120,
    .code_qualname = 128,
    .code_linetable = 136,
    .code_firstlineno = 72,
    .code_code_adaptive = 184,
    .code_localsplusnames = 96,
    .code_nlocalsplus = 76,
    .code_argcount = 56,
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
    .interp_modules = 888,
    .module_dict = 16,
    .dict_keys = 32,
    .dict_values = 40,
    .dictkeys_size = -1,
    .dictkeys_log2_size = 8,
    .dictkeys_log2_index_bytes = 9,
    .dictkeys_kind = 10,
    .dictkeys_nentries = 24,
    .dictkeys_indices = 32,
    .dict_entry_size = 24,
    .dict_unicode_entry_size = 16,
    .dictvalues_values = 0,
    .type_flags = 168,
    .type_basicsize = 32,
    .type_dictoffset = 288,
    .heaptype_cached_keys = 872,
    .type_managed_dict_flag = 1 << 4,
    .type_inline_values_flag = 0,
    .managed = HS_MANAGED_311,
};

#endif
