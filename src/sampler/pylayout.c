/*
 * pylayout.c - the layout of the interpreter the sampler reads: the static
 * tables of 3.10-3.12 and, for 3.13, the offsets the interpreter publishes
 * about itself in _Py_DebugOffsets (see pylayout.h).
 */
#include "pylayout.h"

#include <stdio.h>
#include <string.h>

#include "py310.h"
#include "py311.h"
#include "py312.h"

const hs_pylayout *hs_pylayout_static(int minor) {
    switch (minor) {
    case 10: return &hs_layout_310;
    case 11: return &hs_layout_311;
    case 12: return &hs_layout_312;
    default: return NULL;
    }
}

/* _Py_DebugOffsets of 3.13 as an array of uint64 words: the struct is made
 * of uint64_t fields only, in this order (Include/internal/pycore_runtime.h,
 * 3.13.0, "typedef struct _Py_DebugOffsets"). Word 0 is the 8-byte cookie
 * "xdebugpy", word 1 the interpreter's PY_VERSION_HEX. */
enum {
    DO_COOKIE = 0, DO_VERSION, DO_FREE_THREADED,
    DO_RT_SIZE, DO_RT_FINALIZING, DO_RT_INTERPRETERS_HEAD,
    DO_IS_SIZE, DO_IS_ID, DO_IS_NEXT, DO_IS_THREADS_HEAD, DO_IS_GC, DO_IS_IMPORTS_MODULES,
    DO_IS_SYSDICT, DO_IS_BUILTINS, DO_IS_CEVAL_GIL, DO_IS_GIL_RUNTIME_STATE,
    DO_IS_GIL_ENABLED, DO_IS_GIL_LOCKED, DO_IS_GIL_HOLDER,
    DO_TS_SIZE, DO_TS_PREV, DO_TS_NEXT, DO_TS_INTERP, DO_TS_CURRENT_FRAME, DO_TS_THREAD_ID,
    DO_TS_NATIVE_THREAD_ID, DO_TS_DATASTACK_CHUNK, DO_TS_STATUS,
    DO_FR_SIZE, DO_FR_PREVIOUS, DO_FR_EXECUTABLE, DO_FR_INSTR_PTR, DO_FR_LOCALSPLUS,
    DO_FR_OWNER,
    DO_CO_SIZE, DO_CO_FILENAME, DO_CO_NAME, DO_CO_QUALNAME, DO_CO_LINETABLE,
    DO_CO_FIRSTLINENO, DO_CO_ARGCOUNT, DO_CO_LOCALSPLUSNAMES, DO_CO_LOCALSPLUSKINDS,
    DO_CO_CODE_ADAPTIVE,
    DO_OB_SIZE, DO_OB_TYPE,
    DO_TY_SIZE, DO_TY_NAME, DO_TY_REPR, DO_TY_FLAGS,
    DO_TU_SIZE, DO_TU_ITEM, DO_TU_OB_SIZE,
    DO_LI_SIZE, DO_LI_ITEM, DO_LI_OB_SIZE,
    DO_DI_SIZE, DO_DI_KEYS, DO_DI_VALUES,
    DO_FL_SIZE, DO_FL_FVAL,
    DO_LO_SIZE, DO_LO_TAG, DO_LO_DIGIT,
    DO_BY_SIZE, DO_BY_OB_SIZE, DO_BY_SVAL,
    DO_UN_SIZE, DO_UN_STATE, DO_UN_LENGTH, DO_UN_ASCII_SIZE,
    DO_GC_SIZE, DO_GC_COLLECTING,
    DO_WORDS
};

int hs_pylayout_from_debug_offsets(const hs_proc *proc, uint64_t runtime, hs_pylayout *out,
                                   char *err, size_t errlen) {
    uint64_t w[DO_WORDS];
    if (hs_proc_read(proc, runtime, w, sizeof w) != 0) {
        snprintf(err, errlen, "cannot read the interpreter's debug offsets at 0x%llx",
                 (unsigned long long)runtime);
        return -2;
    }
    if (memcmp(&w[DO_COOKIE], "xdebugpy", 8) != 0) {
        snprintf(err, errlen, "no _Py_DebugOffsets cookie at the start of _PyRuntime");
        return -2;
    }
    unsigned major = (unsigned)(w[DO_VERSION] >> 24) & 0xFF;
    unsigned minor = (unsigned)(w[DO_VERSION] >> 16) & 0xFF;
    if (major != 3 || minor != 13) {
        /* Later versions add fields in the middle of the struct, so this
         * word order is only known to hold for 3.13. */
        snprintf(err, errlen, "Python %u.%u is not supported by this hotscope (3.10-3.13 are)",
                 major, minor);
        return -1;
    }
    if (w[DO_FREE_THREADED]) {
        snprintf(err, errlen, "the free-threaded build of Python 3.13 is not supported yet");
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->minor = (int)minor;
    out->linetable = HS_LINETABLE_311;
    out->runtime_interpreters_head = (int64_t)w[DO_RT_INTERPRETERS_HEAD];
    out->runtime_gil_last_holder = -1;
    out->runtime_gil_locked = -1;
    out->interp_next = (int64_t)w[DO_IS_NEXT];
    out->interp_threads_head = (int64_t)w[DO_IS_THREADS_HEAD];
    out->interp_gil_last_holder = (int64_t)w[DO_IS_GIL_HOLDER];
    out->interp_gil_locked = (int64_t)w[DO_IS_GIL_LOCKED];
    /* PyInterpreterState.gc, then struct _gc_runtime_state.collecting,
     * which _PyGC_Collect holds for the whole collection (Python/gc.c). */
    out->interp_gc_collecting = (int64_t)(w[DO_IS_GC] + w[DO_GC_COLLECTING]);
    out->tstate_next = (int64_t)w[DO_TS_NEXT];
    out->tstate_thread_id = (int64_t)w[DO_TS_THREAD_ID];
    out->tstate_native_thread_id = (int64_t)w[DO_TS_NATIVE_THREAD_ID];
    out->tstate_frame = (int64_t)w[DO_TS_CURRENT_FRAME];
    out->cframe_current_frame = -1;
    out->tstate_datastack_chunk = (int64_t)w[DO_TS_DATASTACK_CHUNK];
    /* Not published: PyThreadState has datastack_chunk, datastack_top,
     * datastack_limit as consecutive pointers (Include/cpython/pystate.h,
     * 3.13.0, "struct _ts"). */
    out->tstate_datastack_top = out->tstate_datastack_chunk + 8;
    out->tstate_datastack_limit = out->tstate_datastack_chunk + 16;
    out->frame_previous = (int64_t)w[DO_FR_PREVIOUS];
    out->frame_code = (int64_t)w[DO_FR_EXECUTABLE];
    out->frame_instr = (int64_t)w[DO_FR_INSTR_PTR];
    out->frame_owner = (int64_t)w[DO_FR_OWNER];
    out->frame_is_entry = -1; /* 3.12+ mark an eval loop's first frame with a shim below it */
    out->frame_localsplus = (int64_t)w[DO_FR_LOCALSPLUS];
    out->frame_instr_is_index = 0;
    /* Not published before 3.14: gi_iframe follows the same fields as in
     * 3.12 (_PyGenObject_HEAD, Include/internal/pycore_genobject.h, 3.13.0). */
    out->gen_frame = 72;
    /* gi_frame_state, the int8 before gi_iframe's padding; FRAME_CREATED
     * = -3 (FRAME_SUSPENDED_YIELD_FROM, -1, is new in 3.13); the frame's
     * int stacktop after instr_ptr (Include/internal/pycore_frame.h,
     * 3.13.0); PySetObject, PyWeakReference as in 3.10-3.12
     * (Include/cpython/setobject.h, weakrefobject.h). */
    out->gen_frame_state = 67;
    out->frame_state_created = -3;
    out->frame_valuestack = -1;
    out->frame_saved_stack_depth = out->frame_instr + 8;
    out->set_mask = 32;
    out->set_table = 40;
    out->weakref_object = 16;
    /* Not published: `int stacktop` follows `instr_ptr`, and
     * _PyFrame_GetStackPointer sets it to -1 while the frame runs
     * (Include/internal/pycore_frame.h, 3.13.0, "struct _PyInterpreterFrame"). */
    out->frame_stacktop = out->frame_instr + 8;
    out->frame_state = -1;
    out->frame_state_executing = -1;
    out->frame_state_unwinding = -1;
    out->owned_by_cstack = 3; /* FRAME_OWNED_BY_CSTACK, Include/internal/pycore_frame.h */
    out->code_filename = (int64_t)w[DO_CO_FILENAME];
    out->code_name = (int64_t)w[DO_CO_NAME];
    out->code_qualname = (int64_t)w[DO_CO_QUALNAME];
    out->code_linetable = (int64_t)w[DO_CO_LINETABLE];
    out->code_firstlineno = (int64_t)w[DO_CO_FIRSTLINENO];
    out->code_code_adaptive = (int64_t)w[DO_CO_CODE_ADAPTIVE];
    out->code_localsplusnames = (int64_t)w[DO_CO_LOCALSPLUSNAMES];
    out->code_nlocalsplus = -1; /* not published: the names tuple's size stands in */
    out->code_argcount = (int64_t)w[DO_CO_ARGCOUNT];
    out->object_type = (int64_t)w[DO_OB_TYPE];
    out->type_name = (int64_t)w[DO_TY_NAME];
    out->varobject_size = (int64_t)w[DO_TU_OB_SIZE];
    out->bytes_sval = (int64_t)w[DO_BY_SVAL];
    out->tuple_item = (int64_t)w[DO_TU_ITEM];
    out->unicode_length = (int64_t)w[DO_UN_LENGTH];
    out->unicode_state = (int64_t)w[DO_UN_STATE];
    out->unicode_ascii_size = (int64_t)w[DO_UN_ASCII_SIZE];
    /* PyCompactUnicodeObject = PyASCIIObject + utf8_length + utf8 pointer
     * (Include/cpython/unicodeobject.h, 3.12 and 3.13). */
    out->unicode_compact_size = out->unicode_ascii_size + 16;
    out->float_fval = (int64_t)w[DO_FL_FVAL];
    out->long_tag = (int64_t)w[DO_LO_TAG];
    out->long_digit = (int64_t)w[DO_LO_DIGIT];
    out->interp_modules = (int64_t)w[DO_IS_IMPORTS_MODULES];
    out->dict_keys = (int64_t)w[DO_DI_KEYS];
    out->dict_values = (int64_t)w[DO_DI_VALUES];
    /* Not published (3.13.0): PyModuleObject.md_dict after PyObject_HEAD
     * (Include/internal/pycore_moduleobject.h); PyDictKeysObject
     * {dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, dk_version,
     * dk_usable, dk_nentries, dk_indices[]}, PyDictKeyEntry {hash, key,
     * value}, PyDictUnicodeEntry {key, value}, PyDictValues {capacity,
     * size, embedded, valid, values[]} (Include/internal/pycore_dict.h);
     * tp_flags, tp_basicsize, tp_dictoffset, ht_cached_keys
     * (Include/cpython/object.h); Py_TPFLAGS_MANAGED_DICT (1 << 4),
     * Py_TPFLAGS_INLINE_VALUES (1 << 2) (Include/object.h); the managed
     * dict pointer at obj-3 words and inline values right after the
     * PyObject header (MANAGED_DICT_OFFSET, _PyObject_InlineValues in
     * Include/internal/pycore_object.h). The default (GIL) build only. */
    out->module_dict = 16;
    out->dictkeys_size = -1;
    out->dictkeys_log2_size = 8;
    out->dictkeys_log2_index_bytes = 9;
    out->dictkeys_kind = 10;
    out->dictkeys_nentries = 24;
    out->dictkeys_indices = 32;
    out->dict_entry_size = 24;
    out->dict_unicode_entry_size = 16;
    out->dictvalues_values = 8;
    out->type_flags = 168;
    out->type_basicsize = 32;
    out->type_dictoffset = 288;
    out->heaptype_cached_keys = 880;
    out->type_managed_dict_flag = 1 << 4;
    out->type_inline_values_flag = 1 << 2;
    out->managed = HS_MANAGED_313;
    return 0;
}

size_t hs_pylayout_code_span(const hs_pylayout *l) {
    int64_t fields[] = {l->code_filename, l->code_name, l->code_qualname, l->code_linetable,
                        l->code_firstlineno, l->code_code_adaptive, l->code_localsplusnames,
                        l->code_nlocalsplus, l->code_argcount};
    int64_t end = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] >= 0 && fields[i] + 8 > end)
            end = fields[i] + 8;
    return (size_t)end;
}
