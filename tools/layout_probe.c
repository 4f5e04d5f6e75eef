/*
 * layout_probe.c - prints the offsets of the CPython internals the sampler
 * reads, as the interpreter's own (internal) headers define them.
 *
 * The sampler cannot include these headers (they are version-specific and
 * internal), so src/sampler/py3XX.h carry the numbers. This probe is how
 * those numbers were obtained and how tests/test_sampler_layouts.py checks
 * them: compiled against each installed interpreter's headers, e.g.
 *   cc -DPy_BUILD_CORE -I$INC -I$INC/internal tools/layout_probe.c
 * and its output compared with what the extension uses.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_code.h"
#include "internal/pycore_moduleobject.h"
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX < 0x030B0000
#include "frameobject.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_dict.h"
#endif

#define P(name, value) printf("%s %lld\n", name, (long long)(value))

int main(void) {
    P("version_minor", PY_MINOR_VERSION);
    P("runtime.interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX < 0x030C0000
    P("runtime.gil_last_holder", offsetof(_PyRuntimeState, ceval.gil.last_holder));
    P("runtime.gil_locked", offsetof(_PyRuntimeState, ceval.gil.locked));
#endif
    P("interp.next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX < 0x030B0000
    P("interp.threads_head", offsetof(PyInterpreterState, tstate_head));
#else
    P("interp.threads_head", offsetof(PyInterpreterState, threads.head));
#endif
#if PY_VERSION_HEX >= 0x030C0000
    /* The main interpreter's own GIL, embedded in it (3.12+). */
    P("interp.gil_last_holder", offsetof(PyInterpreterState, _gil.last_holder));
    P("interp.gil_locked", offsetof(PyInterpreterState, _gil.locked));
#endif
    P("interp.gc_collecting", offsetof(PyInterpreterState, gc.collecting));
    P("tstate.next", offsetof(PyThreadState, next));
    P("tstate.thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030B0000
    P("tstate.native_thread_id", offsetof(PyThreadState, native_thread_id));
    P("tstate.datastack_chunk", offsetof(PyThreadState, datastack_chunk));
    P("tstate.datastack_top", offsetof(PyThreadState, datastack_top));
    P("tstate.datastack_limit", offsetof(PyThreadState, datastack_limit));
#endif
#if PY_VERSION_HEX < 0x030B0000
    P("tstate.frame", offsetof(PyThreadState, frame));
#elif PY_VERSION_HEX < 0x030D0000
    P("tstate.cframe", offsetof(PyThreadState, cframe));
    P("cframe.current_frame", offsetof(_PyCFrame, current_frame));
#else
    P("tstate.current_frame", offsetof(PyThreadState, current_frame));
#endif
#if PY_VERSION_HEX < 0x030B0000
    P("frame.previous", offsetof(PyFrameObject, f_back));
    P("frame.code", offsetof(PyFrameObject, f_code));
    P("frame.lasti", offsetof(PyFrameObject, f_lasti));
    P("frame.localsplus", offsetof(PyFrameObject, f_localsplus));
    P("frame.state", offsetof(PyFrameObject, f_state));
    P("frame.state_size", sizeof(PyFrameState));
    P("frame.state_executing", FRAME_EXECUTING);
    P("frame.state_unwinding", FRAME_UNWINDING);
#else
    P("frame.previous", offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX < 0x030D0000
    P("frame.code", offsetof(_PyInterpreterFrame, f_code));
    P("frame.instr", offsetof(_PyInterpreterFrame, prev_instr));
#else
    P("frame.code", offsetof(_PyInterpreterFrame, f_executable));
    P("frame.instr", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
    P("frame.owner", offsetof(_PyInterpreterFrame, owner));
#if PY_VERSION_HEX < 0x030C0000
    P("frame.is_entry", offsetof(_PyInterpreterFrame, is_entry));
#endif
    P("frame.localsplus", offsetof(_PyInterpreterFrame, localsplus));
#if PY_VERSION_HEX >= 0x030C0000
    P("frame.owned_by_cstack", FRAME_OWNED_BY_CSTACK);
    /* 3.12+ only: _PyFrame_GetStackPointer sets stacktop to -1 while the
     * frame runs (3.11 leaves the last saved value there). */
    P("frame.stacktop", offsetof(_PyInterpreterFrame, stacktop));
#endif
#endif
    P("code.filename", offsetof(PyCodeObject, co_filename));
    P("code.name", offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030B0000
    P("code.qualname", offsetof(PyCodeObject, co_qualname));
    P("code.code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
    P("code.localsplusnames", offsetof(PyCodeObject, co_localsplusnames));
    P("code.nlocalsplus", offsetof(PyCodeObject, co_nlocalsplus));
#else
    P("code.varnames", offsetof(PyCodeObject, co_varnames));
    P("code.nlocals", offsetof(PyCodeObject, co_nlocals));
#endif
    P("code.linetable", offsetof(PyCodeObject, co_linetable));
    P("code.firstlineno", offsetof(PyCodeObject, co_firstlineno));
    P("code.argcount", offsetof(PyCodeObject, co_argcount));
    P("object.type", offsetof(PyObject, ob_type));
    P("type.name", offsetof(PyTypeObject, tp_name));
    P("varobject.size", offsetof(PyVarObject, ob_size));
    P("bytes.sval", offsetof(PyBytesObject, ob_sval));
    P("tuple.item", offsetof(PyTupleObject, ob_item));
    P("unicode.length", offsetof(PyASCIIObject, length));
    P("unicode.state", offsetof(PyASCIIObject, state));
    P("unicode.ascii_size", sizeof(PyASCIIObject));
    P("unicode.compact_size", sizeof(PyCompactUnicodeObject));
    P("float.fval", offsetof(PyFloatObject, ob_fval));
#if PY_VERSION_HEX >= 0x030C0000
    P("long.tag", offsetof(PyLongObject, long_value.lv_tag));
    P("long.digit", offsetof(PyLongObject, long_value.ob_digit));
#else
    P("long.digit", offsetof(PyLongObject, ob_digit));
#endif
    /* sys.modules, module dicts, dicts, instance attributes (thread names) */
#if PY_VERSION_HEX < 0x030C0000
    P("interp.modules", offsetof(PyInterpreterState, modules));
#else
    P("interp.modules", offsetof(PyInterpreterState, imports.modules));
#endif
    P("module.dict", offsetof(PyModuleObject, md_dict));
    /* a coroutine's frame (asyncio tasks in record: async_view.c) */
#if PY_VERSION_HEX < 0x030B0000
    P("gen.frame", offsetof(PyGenObject, gi_frame));
    P("frame.valuestack", offsetof(PyFrameObject, f_valuestack));
    P("frame.saved_stack_depth", offsetof(PyFrameObject, f_stackdepth));
#else
    P("gen.frame", offsetof(PyGenObject, gi_iframe));
    P("gen.frame_state", offsetof(PyGenObject, gi_frame_state));
    P("frame.saved_stack_depth", offsetof(_PyInterpreterFrame, stacktop));
#endif
    P("frame.state_created", FRAME_CREATED);
    P("set.mask", offsetof(PySetObject, mask));
    P("set.table", offsetof(PySetObject, table));
    P("weakref.object", offsetof(PyWeakReference, wr_object));
    P("dict.keys", offsetof(PyDictObject, ma_keys));
    P("dict.values", offsetof(PyDictObject, ma_values));
#if PY_VERSION_HEX >= 0x030B0000
    /* 3.10's PyDictKeysObject is in Objects/dict-common.h, not installed */
    P("dictkeys.log2_size", offsetof(PyDictKeysObject, dk_log2_size));
    P("dictkeys.log2_index_bytes", offsetof(PyDictKeysObject, dk_log2_index_bytes));
    P("dictkeys.kind", offsetof(PyDictKeysObject, dk_kind));
    P("dictkeys.nentries", offsetof(PyDictKeysObject, dk_nentries));
    P("dictkeys.indices", offsetof(PyDictKeysObject, dk_indices));
    P("dictkeys.entry_size", sizeof(PyDictKeyEntry));
    P("dictkeys.unicode_entry_size", sizeof(PyDictUnicodeEntry));
    P("dictvalues.values", offsetof(PyDictValues, values));
    P("type.managed_dict_flag", Py_TPFLAGS_MANAGED_DICT);
#endif
#if PY_VERSION_HEX >= 0x030D0000
    P("type.inline_values_flag", Py_TPFLAGS_INLINE_VALUES);
#endif
    P("type.flags", offsetof(PyTypeObject, tp_flags));
    P("type.basicsize", offsetof(PyTypeObject, tp_basicsize));
    P("type.dictoffset", offsetof(PyTypeObject, tp_dictoffset));
    P("heaptype.cached_keys", offsetof(PyHeapTypeObject, ht_cached_keys));
    return 0;
}
