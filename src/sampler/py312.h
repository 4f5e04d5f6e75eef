/*
 * py312.h - CPython 3.12 layouts for the sampler (see pylayout.h).
 * Numbers from the 3.12.1 headers, x86-64 / LP64; printed by
 * tools/layout_probe.c and checked by tests/test_sampler_layouts.py.
 * Field by field:
 *   PyInterpreterState.gc.collecting (struct _gc_runtime_state, set for the
 *     whole of a collection, callbacks included: gc_collect_main's callers in
 *     Modules/gcmodule.c)                          Include/internal/pycore_gc.h,
 *                                                  pycore_interp.h
 *   _PyRuntimeState.interpreters.head              Include/internal/pycore_runtime.h
 *   PyInterpreterState.next, .threads.head, ._gil.{last_holder,locked} (the
 *     main interpreter's GIL moved into it in 3.12) Include/internal/pycore_interp.h,
 *                                                  pycore_gil.h
 *   PyThreadState.next, .thread_id, .native_thread_id, .cframe
 *                                                  Include/cpython/pystate.h
 *   _PyCFrame.current_frame, PyThreadState.datastack_{chunk,top,limit}
 *                                                  Include/cpython/pystate.h
 *   _PyInterpreterFrame.previous, .f_code, .prev_instr, .owner, .localsplus;
 *     FRAME_OWNED_BY_CSTACK = 3 (shim frames); .stacktop, which
 *     _PyFrame_GetStackPointer sets to -1 while the frame runs and
 *     _PyFrame_SetStackPointer to the stack depth when it calls
 *                                                  Include/internal/pycore_frame.h
 *   PyCodeObject fields                             Include/cpython/code.h
 *   PyASCIIObject (no wstr since 3.12), PyLongObject.long_value.{lv_tag,ob_digit}
 *                                                  Include/cpython/unicodeobject.h,
 *                                                  longintrepr.h
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
 *   managed dict: PyDictOrValues at obj-3 words, values when the low bit is
 *     set, at the word + 1 (_PyObject_DictOrValuesPointer,
 *     _PyDictOrValues_GetValues)                    Include/internal/pycore_object.h
 */
#ifndef HOTSCOPE_PY312_H
#define HOTSCOPE_PY312_H

#include "pylayout.h"

static const hs_pylayout hs_layout_312 = {
    .minor = 12,
    .linetable = HS_LINETABLE_311,
    .runtime_interpreters_head = 40,
    .runtime_gil_last_holder = -1,
    .runtime_gil_locked = -1,
    .interp_next = 0,
    .interp_threads_head = 72,
    .interp_gil_last_holder = 1048,
    .interp_gc_collecting = 312,
    .interp_gil_locked = 1056,
    .tstate_next = 8,
    .tstate_thread_id = 136,
    .tstate_native_thread_id = 144,
    .tstate_frame = 56,
    .cframe_current_frame = 0,
    .tstate_datastack_chunk = 232,
    .tstate_datastack_top = 240,
    .tstate_datastack_limit = 248,
    .frame_previous = 8,
    .frame_code = 0,
    .frame_instr = 56,
    .frame_owner = 70,
    .frame_is_entry = -1,
    .frame_localsplus = 72,
    .frame_stacktop = 64,
    .frame_state = -1,
    .frame_state_executing = -1,
    .frame_state_unwinding = -1,
    .frame_instr_is_index = 0,
    /* PyGenObject: as 3.11 without gi_code (_PyGenObject_HEAD,
     * Include/cpython/genobject.h, 3.12.1) */
    .gen_frame = 72,
    /* gi_frame_state: the last of the four chars before gi_iframe's padding
     * (_PyGenObject_HEAD); FRAME_CREATED = -2 (Include/internal/pycore_frame.h (3.12)) */
    .gen_frame_state = 67,
    .frame_state_created = -2,
    .frame_valuestack = -1,
    .frame_saved_stack_depth = 64, /* int stacktop (valid in a suspended frame) */
    .set_mask = 32,                /* Include/cpython/setobject.h */
    .set_table = 40,
    .weakref_object = 16,          /* Include/cpython/weakrefobject.h */
    .owned_by_cstack = 3,
    .code_filename = 112,
    .code_name = 120,
    .code_qualname = 128,
    .code_linetable = 136,
    .code_firstlineno = 68,
    .code_code_adaptive = 192,
    .code_localsplusnames = 96,
    .code_nlocalsplus = 72,
    .code_argcount = 52,
    .object_type = 8,
    .type_name = 24,
    .varobject_size = 16,
    .bytes_sval = 32,
    .tuple_item = 24,
    .unicode_length = 16,
    .unicode_state = 32,
    .unicode_ascii_size = 40,
    .unicode_compact_size = 56,
    .float_fval = 16,
    .long_tag = 16,
    .long_digit = 24,
    .interp_modules = 944,
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
    .heaptype_cached_keys = 880,
    .type_managed_dict_flag = 1 << 4,
    .type_inline_values_flag = 0,
    .managed = HS_MANAGED_312,
};

#endif
