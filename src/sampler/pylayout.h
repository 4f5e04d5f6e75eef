/*
 * pylayout.h - where things are inside a CPython process, for one version:
 * the offsets of the runtime, interpreter, thread, frame, code and string
 * fields the sampler reads, as one plain struct every version fills.
 *
 * 3.10, 3.11 and 3.12 publish nothing, so their numbers sit in one small
 * header each (py310.h, py311.h, py312.h), taken from that version's own
 * headers; tools/layout_probe.c prints them from the headers and
 * tests/test_sampler_layouts.py checks them. 3.13 publishes its offsets in
 * _Py_DebugOffsets at the start of _PyRuntime, which py313.c reads from the
 * target itself. Everything else in the sampler goes through this struct,
 * so adding a version is adding one header.
 *
 * An offset of -1 means "this version has no such field".
 */
#ifndef HOTSCOPE_PYLAYOUT_H
#define HOTSCOPE_PYLAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"
#include "proc.h"

/* Where an instance of a class with a managed __dict__ keeps its
 * attributes (Include/internal/pycore_object.h of each version). */
typedef enum {
    HS_MANAGED_NONE = 0,      /* 3.10: a dict at the type's tp_dictoffset */
    HS_MANAGED_311 = 1,       /* values pointer at obj-32, dict pointer at obj-24 */
    HS_MANAGED_312 = 2,       /* one word at obj-24: a dict, or values-1 (low bit set) */
    HS_MANAGED_313 = 3,       /* dict pointer at obj-24; else values inline at obj+16 */
} hs_managed_dict;

typedef struct {
    int minor;                      /* 10 for 3.10, ... */
    hs_linetable_format linetable;

    /* _PyRuntimeState */
    int64_t runtime_interpreters_head;
    int64_t runtime_gil_last_holder;  /* GIL in the runtime (3.10, 3.11), else -1 */
    int64_t runtime_gil_locked;

    /* PyInterpreterState */
    int64_t interp_next;
    int64_t interp_threads_head;
    int64_t interp_gil_last_holder;   /* the GIL embedded in the interpreter (3.12+), */
    int64_t interp_gil_locked;        /* else -1 */
    int64_t interp_gc_collecting;     /* int gc.collecting: 1 while a cyclic collection runs */

    /* PyThreadState */
    int64_t tstate_next;
    int64_t tstate_thread_id;         /* pthread_t of the thread */
    int64_t tstate_native_thread_id;  /* kernel tid (3.11+), else -1 */
    int64_t tstate_frame;             /* the current frame, or (3.11, 3.12) the cframe */
    int64_t cframe_current_frame;     /* in _PyCFrame (3.11, 3.12), else -1 */
    int64_t tstate_datastack_chunk;   /* the thread's current _PyStackChunk (3.11+), else -1;
                                       * frames of running functions are contiguous in it */
    int64_t tstate_datastack_top;     /* first free byte of that chunk (3.11+), else -1 */
    int64_t tstate_datastack_limit;   /* end of that chunk (3.11+), else -1 */

    /* Frames: PyFrameObject (3.10) or _PyInterpreterFrame (3.11+) */
    int64_t frame_previous;
    int64_t frame_code;
    int64_t frame_instr;              /* f_lasti (3.10), prev_instr (3.11, 3.12), instr_ptr (3.13) */
    int64_t frame_owner;              /* -1 on 3.10 */
    int64_t frame_is_entry;           /* bool is_entry (3.11): the first frame of a call of
                                       * _PyEval_EvalFrameDefault, else -1 (3.12+ put a
                                       * C-stack shim frame below that one instead) */
    int64_t frame_localsplus;
    int64_t frame_stacktop;           /* int stacktop, -1 while the frame runs (3.12+); else -1
                                       * (3.11 has the field but leaves stale values in it) */
    int64_t frame_state;              /* signed char f_state (3.10), else -1 */
    int64_t frame_state_executing;    /* FRAME_EXECUTING and FRAME_UNWINDING: the states of */
    int64_t frame_state_unwinding;    /* a frame that can be a caller (3.10) */
    int frame_instr_is_index;         /* f_lasti: an index in code units, not a pointer */
    int owned_by_cstack;              /* shim frames to skip (3.12+), else -1 */
    /* 3.11: the opcode a returned frame is left at (RETURN_VALUE). 3.11
     * marks no frame as running, and a frame popped off the data stack
     * keeps its bytes, so a copy that mixes two moments can show popped
     * frames above the real top of the stack; each is left at its return.
     * 0: not checked (3.10: f_state tells; 3.12+: callers are marked). */
    int return_opcode;
    /* A coroutine's frame: 3.10, the offset of gi_frame (a pointer to it);
     * 3.11+, of gi_iframe (the frame itself, inside the coroutine object). */
    int64_t gen_frame;
    int gen_frame_is_pointer;
    /* A suspended coroutine's frame, for the await chains of waiting tasks
     * (async_waits.c): its state (3.11+: int8 gi_frame_state in the
     * coroutine; 3.10: the frame's f_state, frame_state above), suspended
     * when between FRAME_CREATED (frame_state_created) and FRAME_EXECUTING
     * (0); and its value stack as saved at the suspension: 3.10 a pointer
     * (f_valuestack) and a depth (f_stackdepth), 3.11+ the entries
     * `stacktop` after localsplus. The top of it is what an await waits on. */
    int64_t gen_frame_state;           /* -1 on 3.10 */
    int64_t frame_state_created;
    int64_t frame_valuestack;          /* 3.10, else -1 (the stack follows localsplus) */
    int64_t frame_saved_stack_depth;   /* f_stackdepth (3.10), stacktop (3.11+) */
    /* PySetObject.mask, .table and PyWeakReference.wr_object (all tasks
     * are in a WeakSet: a set of weak references) */
    int64_t set_mask, set_table, weakref_object;

    /* PyCodeObject */
    int64_t code_filename;
    int64_t code_name;
    int64_t code_qualname;            /* -1 on 3.10: the name stands in */
    int64_t code_linetable;
    int64_t code_firstlineno;
    int64_t code_code_adaptive;       /* bytecode inside the object (3.11+), else -1 */
    int64_t code_localsplusnames;     /* co_localsplusnames (3.11+) or co_varnames */
    int64_t code_nlocalsplus;         /* int: co_nlocalsplus or co_nlocals */
    int64_t code_argcount;

    /* objects */
    int64_t object_type;
    int64_t type_name;
    int64_t varobject_size;
    int64_t bytes_sval;
    int64_t tuple_item;
    int64_t unicode_length;
    int64_t unicode_state;
    int64_t unicode_ascii_size;       /* sizeof(PyASCIIObject): ASCII data follows */
    int64_t unicode_compact_size;     /* sizeof(PyCompactUnicodeObject) */
    int64_t float_fval;
    int64_t long_tag;                 /* lv_tag (3.12+), else -1 (ob_size holds the sign) */
    int64_t long_digit;

    /* Reaching a thread's Python name: sys.modules -> threading ->
     * _active -> Thread -> _name (thread_names.c) */
    int64_t interp_modules;           /* sys.modules in PyInterpreterState */
    int64_t module_dict;              /* PyModuleObject.md_dict */
    int64_t dict_keys, dict_values;   /* PyDictObject.ma_keys, ma_values */
    int64_t dictkeys_size;            /* Py_ssize_t dk_size (3.10), else -1 */
    int64_t dictkeys_log2_size;       /* uint8_t (3.11+), else -1 */
    int64_t dictkeys_log2_index_bytes;/* uint8_t (3.11+), else -1 */
    int64_t dictkeys_kind;            /* uint8_t: 0 general entries, else str-keyed (3.11+) */
    int64_t dictkeys_nentries;
    int64_t dictkeys_indices;         /* the hash index; the entries follow it */
    int64_t dict_entry_size;          /* {hash, key, value} */
    int64_t dict_unicode_entry_size;  /* {key, value} (3.11+), else -1 */
    int64_t dictvalues_values;        /* values[] in a split dict's values */
    int64_t type_flags, type_basicsize, type_dictoffset;
    int64_t heaptype_cached_keys;     /* the keys an instance's split values go with */
    int64_t type_managed_dict_flag;   /* Py_TPFLAGS_MANAGED_DICT (3.11+), else 0 */
    int64_t type_inline_values_flag;  /* Py_TPFLAGS_INLINE_VALUES (3.13), else 0 */
    hs_managed_dict managed;          /* where such an instance keeps its attributes */
} hs_pylayout;

/* The static layouts (py310.h, py311.h, py312.h). */
const hs_pylayout *hs_pylayout_static(int minor);

/* 3.13+: fills *out from the _Py_DebugOffsets at `runtime` in the target.
 * Returns 0; -2 with a message when the block cannot be read or has no
 * cookie (yet: a process still loading); -1 with a message otherwise. */
int hs_pylayout_from_debug_offsets(const hs_proc *proc, uint64_t runtime, hs_pylayout *out,
                                   char *err, size_t errlen);

/* Bytes to read from a code object to see every field above. */
size_t hs_pylayout_code_span(const hs_pylayout *l);

#endif
