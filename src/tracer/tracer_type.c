/*
 * tracer_type.c - hotscope._core.Tracer: enabling and disabling the hooks,
 * the slow paths of the hot path (new threads, new functions, new call
 * paths), and exporting what was recorded into the profile model.
 *
 * The Python class hotscope.Profile subclasses this type to add the rest
 * of cProfile.Profile's interface; create_stats(), enable() and disable()
 * are here, in C, so that calling them adds no frames of hotscope's own
 * to the profile.
 */
#include "tracer.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../model/model.h"
#include "../pymod/module.h"
#include "structmember.h"

/* Off-CPU time is resolved to this granularity (see calltree.h); a CPU
 * clock read (~0.5 us) at most every 50 us costs at most 1%. A build may
 * set another (-DHS_CPU_QUANTUM_NS=...): instruction counts under
 * callgrind need a long one, since the program runs there some 50 times
 * slower against a TSC that does not, so corrections would come some 50
 * times as often per call as they do natively and dominate the count. */
#ifdef HS_CPU_QUANTUM_NS
#define CPU_QUANTUM_NS HS_CPU_QUANTUM_NS
#else
#define CPU_QUANTUM_NS 50000
#endif

__thread hs_tls_slot hs_tls_threads[HS_TLS_SLOTS] __attribute__((tls_model("initial-exec")));

static _Atomic uint64_t next_tracer_uid = 1;

/* ---- thread lookup ---------------------------------------------------- */

/* Thread names come from threading._active, read without running any
 * Python code (see labels.c on why that matters inside a callback). A
 * thread registers there only once its bootstrap runs, so this is retried
 * on each new call path until it succeeds. */
static void fill_thread_name(hs_tthread *t) {
    PyObject *modname = PyUnicode_FromString("threading");
    PyObject *threading = modname ? PyImport_GetModule(modname) : NULL;
    Py_XDECREF(modname);
    PyObject *active = threading ? PyObject_GetAttrString(threading, "_active") : NULL;
    PyObject *ident = PyLong_FromUnsignedLongLong(t->ident);
    PyObject *thread = NULL;
    if (active && ident && PyDict_Check(active))
        thread = PyDict_GetItemWithError(active, ident); /* borrowed */
    PyObject *name = thread ? PyObject_GetAttrString(thread, "_name") : NULL;
    if (name && PyUnicode_Check(name)) {
        Py_ssize_t len;
        const char *utf8 = PyUnicode_AsUTF8AndSize(name, &len);
        if (utf8) {
            size_t n = (size_t)len < sizeof t->name - 1 ? (size_t)len : sizeof t->name - 1;
            memcpy(t->name, utf8, n);
            t->name[n] = 0;
        }
    }
    Py_XDECREF(name);
    Py_XDECREF(ident);
    Py_XDECREF(active);
    Py_XDECREF(threading);
    PyErr_Clear();
}

hs_tthread *hs_tracer_thread_slow(TracerObject *self) {
    for (int i = 1; i < HS_TLS_SLOTS; i++) {
        if (hs_tls_threads[i].uid == self->uid) {
            hs_tls_slot found = hs_tls_threads[i];
            memmove(&hs_tls_threads[1], &hs_tls_threads[0], (size_t)i * sizeof found);
            hs_tls_threads[0] = found;
            return found.thread;
        }
    }
    if (!self->enabled || !self->ready)
        return NULL;
    hs_tthread *t = hs_ct_thread_new(&self->ct, (uint64_t)PyThread_get_thread_native_id(),
                                     (uint64_t)PyThread_get_thread_ident());
    if (!t)
        return NULL;
    fill_thread_name(t);
    memmove(&hs_tls_threads[1], &hs_tls_threads[0], (HS_TLS_SLOTS - 1) * sizeof(hs_tls_slot));
    hs_tls_threads[0] = (hs_tls_slot){self->uid, t};
    return t;
}

void hs_tracer_fast_update(TracerObject *self) {
    self->fast_uid = self->ct.clock.use_tsc && !self->slow_n ? self->uid : HS_UID_NEVER;
}

/* The current thread's state if it already has one; never creates it. */
static hs_tthread *current_thread_if_known(TracerObject *self) {
    for (int i = 0; i < HS_TLS_SLOTS; i++)
        if (hs_tls_threads[i].uid == self->uid)
            return hs_tls_threads[i].thread;
    return NULL;
}

/* ---- new functions and call paths --------------------------------------- */

/* A key must stay valid while the tracer may see it again. A code object
 * is kept, as cProfile keeps it. A C function's key is its PyMethodDef,
 * which lives as long as its module or type: those are kept through the
 * callable when it is a descriptor or bound to a module or type, but a
 * method bound to an instance is not kept, since holding it would keep the
 * instance alive and change the program (weak references, finalizers). */
static int keep_key_alive(TracerObject *self, PyObject *obj, hs_callee_kind kind) {
    if (kind == HS_CALLEE_CFUNC) {
        PyObject *bound_to = ((PyCFunctionObject *)obj)->m_self;
        if (bound_to && !PyModule_Check(bound_to) && !PyType_Check(bound_to))
            return 0;
    }
    return PyList_Append(self->keepalive, obj);
}

static uint32_t add_function(TracerObject *self, const void *key, PyObject *obj,
                             hs_callee_kind kind, PyObject *self_arg) {
    char *name = NULL, *file = NULL;
    int first_line = 0;
    if (kind == HS_CALLEE_CODE) {
        PyCodeObject *code = (PyCodeObject *)obj;
#if HS_HAVE_CO_QUALNAME
        name = hs_utf8_dup(code->co_qualname);
#else
        name = hs_utf8_dup(code->co_name);
#endif
        file = hs_utf8_dup(code->co_filename);
        first_line = code->co_firstlineno;
    } else {
        PyObject *label = kind == HS_CALLEE_CFUNC
                              ? hs_cfunc_label((PyCFunctionObject *)obj)
                              : hs_descr_label((PyMethodDescrObject *)obj, self_arg);
        if (!label)
            PyErr_Clear();
        name = hs_utf8_dup(label);
        Py_XDECREF(label);
        file = strdup("~");
    }
    hs_tfunc_kind fkind = HS_TFUNC_NATIVE;
    if (kind == HS_CALLEE_CODE)
        fkind = ((PyCodeObject *)obj)->co_flags & HS_ASYNC_CODE_FLAGS ? HS_TFUNC_ASYNC : HS_TFUNC_PYTHON;
    uint32_t func = HS_CT_NONE;
    if (name && file && keep_key_alive(self, obj, kind) == 0)
        func = hs_ct_func_add(&self->ct, key, name, file, first_line, fkind);
    PyErr_Clear();
    free(name);
    free(file);
    return func;
}

uint32_t hs_tracer_new_path(TracerObject *self, hs_tthread *t, const void *key, PyObject *obj,
                            hs_callee_kind kind, PyObject *self_arg) {
    uint32_t func = hs_ct_func_find(&self->ct, key);
    if (func == HS_CT_NONE) {
        func = add_function(self, key, obj, kind, self_arg);
        if (func == HS_CT_NONE)
            return HS_CT_NONE;
    }
    if (!t->name[0])
        fill_thread_name(t);
    return hs_ct_child_add(&self->ct, t->stack[t->depth - 1], key, func);
}

/* ---- export into the profile model -------------------------------------- */

static void thread_display_name(const hs_tthread *t, char *out, size_t size) {
    if (t->name[0])
        snprintf(out, size, "%s", t->name);
    else
        snprintf(out, size, "Thread-%llu", (unsigned long long)t->os_tid);
}

static int is_stop_method(const void *key);

static hs_profile *export_profile(TracerObject *self) {
    hs_calltree *ct = &self->ct;
    /* The tick rate is refined while tracing (and at its end), never here:
     * two snapshots of the same data must convert it the same way. */
    hs_profile *p = hs_profile_new();
    hs_id *node_map = malloc((ct->node_count ? ct->node_count : 1) * sizeof *node_map);
    hs_id *func_frames = malloc((ct->func_count ? ct->func_count : 1) * sizeof *func_frames);
    int64_t *thread_cpu = calloc(ct->thread_count ? ct->thread_count : 1, sizeof *thread_cpu);
    if (!p || !node_map || !func_frames || !thread_cpu)
        goto fail;
    for (size_t f = 0; f < ct->func_count; f++) {
        const hs_tfunc *fn = &ct->funcs[f];
        hs_id name = hs_intern_cstr(p, fn->name), file = hs_intern_cstr(p, fn->file);
        hs_frame_kind kind = fn->kind == HS_TFUNC_NATIVE      ? HS_KIND_NATIVE
                             : fn->kind == HS_TFUNC_SYNTHETIC ? HS_KIND_OTHER
                                                              : HS_KIND_PYTHON;
        func_frames[f] = hs_frame_intern(p, name, file, fn->first_line, 0, kind);
        if (func_frames[f] == HS_NONE)
            goto fail;
    }
    node_map[0] = HS_ROOT;
    for (size_t i = 0; i < ct->thread_count; i++) {
        const hs_tthread *t = ct->threads[i];
        char name[96];
        thread_display_name(t, name, sizeof name);
        int index = hs_thread_add(p, name, t->os_tid, t->ident);
        if (index < 0)
            goto fail;
        node_map[t->root] = p->threads[index].root;
        /* Time with no traced frame open: before the first call, between
         * top-level calls, or in frames entered before tracing began. */
        const hs_tnode *root = &ct->nodes[t->root];
        hs_node_add(p, node_map[t->root], HS_W_WALL_NS, hs_ticks_to_ns(&ct->clock, root->wall_ticks));
        hs_node_add(p, node_map[t->root], HS_W_CPU_NS, hs_ticks_to_ns(&ct->clock, hs_tnode_cpu_ticks(root)));
        thread_cpu[i] += hs_tnode_cpu_ticks(root);
        p->threads[index].wall_ns = hs_ticks_to_ns(&ct->clock, (int64_t)(t->last_ticks - t->first_ticks));
    }
    for (size_t n = 1; n < ct->node_count; n++) {
        const hs_tnode *node = &ct->nodes[n];
        if (node->func == HS_CT_NONE)
            continue; /* a thread root, mapped above */
        hs_id parent = node_map[node->parent];
        if (parent == HS_NONE || is_stop_method(node->key)) {
            node_map[n] = HS_NONE;
            continue;
        }
        hs_id m = hs_node_child(p, parent, func_frames[node->func]);
        if (m == HS_NONE)
            goto fail;
        node_map[n] = m;
        hs_node_add(p, m, HS_W_CALLS, node->calls);
        hs_node_add(p, m, HS_W_WALL_NS, hs_ticks_to_ns(&ct->clock, node->wall_ticks));
        hs_node_add(p, m, HS_W_CPU_NS, hs_ticks_to_ns(&ct->clock, hs_tnode_cpu_ticks(node)));
        thread_cpu[node->thread] += hs_tnode_cpu_ticks(node);
    }
    for (size_t i = 0; i < ct->thread_count; i++)
        p->threads[i].cpu_ns = hs_ticks_to_ns(&ct->clock, thread_cpu[i]);
    if (hs_slow_export(self, p, func_frames) != 0)
        goto fail;
    free(node_map);
    free(func_frames);
    free(thread_cpu);
    return p;
fail:
    free(node_map);
    free(func_frames);
    free(thread_cpu);
    if (p)
        hs_profile_free(p);
    PyErr_NoMemory();
    return NULL;
}

/* ---- the Python type ---------------------------------------------------- */

/* The methods that stop tracing are called while it is on, so their calls
 * reach the hooks; their entries in this table are the keys of those calls
 * (a method descriptor's d_method points into it), which is how they are
 * left out of profiles: they are hotscope's own. */
#define TRACER_METHOD_COUNT 9
static PyMethodDef tracer_methods[TRACER_METHOD_COUNT];
enum { M_ENABLE, M_DISABLE, M_CLEAR, M_SNAPSHOT, M_CREATE_STATS, M_ENTER, M_EXIT };

static int is_stop_method(const void *key) {
    return key == &tracer_methods[M_DISABLE] || key == &tracer_methods[M_CREATE_STATS] ||
           key == &tracer_methods[M_EXIT];
}

static int parse_clock(PyObject *clock, int *out) {
    if (!clock || clock == Py_None) {
        *out = HS_W_WALL_NS;
        return 0;
    }
    if (PyUnicode_Check(clock) && PyUnicode_CompareWithASCIIString(clock, "wall") == 0) {
        *out = HS_W_WALL_NS;
        return 0;
    }
    if (PyUnicode_Check(clock) && PyUnicode_CompareWithASCIIString(clock, "cpu") == 0) {
        *out = HS_W_CPU_NS;
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "clock must be 'wall' or 'cpu', not %R", clock);
    return -1;
}

static PyObject *tracer_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    TracerObject *self = (TracerObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->uid = atomic_fetch_add(&next_tracer_uid, 1);
    self->tool_id = -1;
    self->builtins = 1;
    self->default_clock = HS_W_WALL_NS;
    self->record_gc = 1;
    self->keepalive = PyList_New(0);
    hs_module_state *state = hs_state_from_type(type);
    if (!self->keepalive || !state) {
        Py_DECREF(self);
        return NULL;
    }
    self->profile_type = (PyTypeObject *)Py_NewRef(state->profile_type);
    if (hs_ct_init(&self->ct, CPU_QUANTUM_NS) != 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    hs_tracer_fast_update(self);
    self->ready = 1;
    return (PyObject *)self;
}

static int tracer_init(TracerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"timer", "timeunit", "subcalls", "builtins", "clock", "gc", "asyncio", NULL};
    PyObject *timer = Py_None, *clock = Py_None;
    double timeunit = 0.0;
    int subcalls = 1, builtins = 1, gc = 1, asyncio = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OdppOpp:Profile", kwlist, &timer, &timeunit,
                                     &subcalls, &builtins, &clock, &gc, &asyncio))
        return -1;
    if (timer != Py_None) {
        PyErr_SetString(PyExc_TypeError,
                        "hotscope.Profile takes no custom timer: it reads its own clocks; "
                        "pass clock='wall' or clock='cpu'");
        return -1;
    }
    if (parse_clock(clock, &self->default_clock) < 0)
        return -1;
    self->builtins = builtins;
    self->record_gc = gc;
    self->asyncio = asyncio;
    return 0;
}

static int start_tracing(TracerObject *self) {
    if (self->enabled)
        return 0;
    /* Coroutine frames take async_tasks.c's path for task roots, and for
     * slow calls, which time a coroutine from its first step to its end. */
    self->async_flags = self->asyncio || self->slow_n ? HS_ASYNC_CODE_FLAGS : 0;
    self->enabled = 1; /* before the hooks: their first events may come at once */
    if (hs_hooks_install(self) < 0) {
        self->enabled = 0;
        return -1;
    }
    if (hs_gc_hook_install(self) < 0) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        hs_hooks_remove(self);
        PyErr_Restore(type, value, tb);
        self->enabled = 0;
        return -1;
    }
    self->enable_mark_ns = hs_monotonic_ns();
    if (!self->enabled_ns)
        self->enabled_ns = self->enable_mark_ns;
    return 0;
}

static PyObject *tracer_enable(TracerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"subcalls", "builtins", NULL};
    int subcalls = 1, builtins = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|pp:enable", kwlist, &subcalls, &builtins))
        return NULL;
    if (!self->enabled && builtins >= 0)
        self->builtins = builtins;
    if (start_tracing(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int stop_tracing(TracerObject *self) {
    if (!self->enabled)
        return 0;
    int status = hs_hooks_remove(self);
    if (status == 0) {
        status = hs_gc_hook_remove(self);
    } else { /* the first failure is the one reported */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (hs_gc_hook_remove(self) < 0)
            PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    self->enabled = 0;
    hs_clock_refine(&self->ct.clock);
    self->traced_ns += hs_monotonic_ns() - self->enable_mark_ns;
    /* The call that stops tracing is on our stack when it came from Python
     * code: it is hotscope's own, so it closes uncounted. */
    hs_tthread *t = current_thread_if_known(self);
    if (t && t->depth > 1 && is_stop_method(self->ct.nodes[t->stack[t->depth - 1]].key)) {
        hs_ct_charge(&self->ct, t, hs_ticks(&self->ct.clock));
        t->depth--;
    }
    hs_async_stop(self);
    hs_slow_coros_forget(&self->slow);
    for (size_t i = 0; i < self->ct.thread_count; i++)
        hs_ct_flush(&self->ct, self->ct.threads[i]);
    return status;
}

static PyObject *tracer_disable(TracerObject *self, PyObject *unused) {
    (void)unused;
    if (stop_tracing(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *tracer_clear(TracerObject *self, PyObject *unused) {
    (void)unused;
    hs_ct_clear(&self->ct);
    hs_async_forget(self);
    hs_gc_clear(self);
    hs_slow_table_clear(&self->slow);
    Py_CLEAR(self->stats);
    self->traced_ns = 0;
    self->enabled_ns = 0;
    if (self->enabled)
        self->enable_mark_ns = self->enabled_ns = hs_monotonic_ns();
    Py_RETURN_NONE;
}

static void add_metadata(TracerObject *self, hs_profile *p) {
    char value[64];
    hs_meta_set(p, "engine", "trace");
    hs_meta_set(p, "clock", self->default_clock == HS_W_CPU_NS ? "cpu" : "wall");
    snprintf(value, sizeof value, "%lld", (long long)self->traced_ns);
    hs_meta_set(p, "duration_ns", value);
    hs_meta_set(p, "python", Py_GetVersion());
    snprintf(value, sizeof value, "%s", self->ct.clock.use_tsc ? "tsc" : "monotonic");
    hs_meta_set(p, "tick_source", value);
    hs_gc_add_metadata(self, p);
}

static PyObject *snapshot(TracerObject *self) {
    hs_profile *p = export_profile(self);
    if (!p)
        return NULL;
    add_metadata(self, p);
    return hs_profile_data_new(self->profile_type, p);
}

static PyObject *tracer_snapshot(TracerObject *self, PyObject *unused) {
    (void)unused;
    return snapshot(self);
}

static PyObject *tracer_create_stats(TracerObject *self, PyObject *unused) {
    (void)unused;
    if (stop_tracing(self) < 0)
        return NULL;
    PyObject *data = snapshot(self);
    if (!data)
        return NULL;
    const char *clock = self->default_clock == HS_W_CPU_NS ? "cpu" : "wall";
    PyObject *stats = PyObject_CallMethod(data, "pstats", "Os", Py_None, clock);
    Py_DECREF(data);
    if (!stats)
        return NULL;
    Py_XSETREF(self->stats, stats);
    Py_RETURN_NONE;
}

static PyObject *tracer_enter(TracerObject *self, PyObject *unused) {
    (void)unused;
    if (start_tracing(self) < 0)
        return NULL;
    return Py_NewRef(self);
}

static PyObject *tracer_exit(TracerObject *self, PyObject *args) {
    (void)args;
    if (stop_tracing(self) < 0)
        return NULL;
    Py_RETURN_FALSE;
}

static PyObject *get_stats(TracerObject *self, void *closure) {
    (void)closure;
    if (!self->stats) {
        PyErr_SetString(PyExc_AttributeError,
                        "no stats yet: call create_stats() (or use pstats.Stats(profile))");
        return NULL;
    }
    return Py_NewRef(self->stats);
}

static int set_stats(TracerObject *self, PyObject *value, void *closure) {
    (void)closure;
    Py_XINCREF(value);
    Py_XSETREF(self->stats, value);
    return 0;
}

static PyObject *get_enabled(TracerObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->enabled);
}

static PyObject *get_clock(TracerObject *self, void *closure) {
    (void)closure;
    return PyUnicode_FromString(self->default_clock == HS_W_CPU_NS ? "cpu" : "wall");
}

static PyObject *get_builtins(TracerObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->builtins);
}

static PyObject *get_asyncio(TracerObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->asyncio);
}

static PyMethodDef tracer_methods[TRACER_METHOD_COUNT] = {
    {"enable", (PyCFunction)(void (*)(void))tracer_enable, METH_VARARGS | METH_KEYWORDS,
     "enable(subcalls=True, builtins=None)\nStart recording (cProfile.Profile.enable)."},
    {"disable", (PyCFunction)tracer_disable, METH_NOARGS,
     "Stop recording; calls still open are closed now, as cProfile does."},
    {"clear", (PyCFunction)tracer_clear, METH_NOARGS, "Forget everything recorded."},
    {"snapshot", (PyCFunction)tracer_snapshot, METH_NOARGS,
     "The recorded profile as a hotscope._core.ProfileData."},
    {"create_stats", (PyCFunction)tracer_create_stats, METH_NOARGS,
     "Disable, then set .stats to the pstats dictionary (cProfile.Profile.create_stats)."},
    {"__enter__", (PyCFunction)tracer_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)tracer_exit, METH_VARARGS, NULL},
    {"watch_slow_calls", (PyCFunction)(void (*)(void))hs_slow_watch, METH_VARARGS | METH_KEYWORDS,
     "watch_slow_calls(n, describe=None, only=None)\nKeep the n slowest calls of each function "
     "(of the code objects in `only`, if given), with describe(frame) -> str as their arguments."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tracer_getset[] = {
    {"stats", (getter)get_stats, (setter)set_stats, "pstats dictionary (after create_stats)", NULL},
    {"enabled", (getter)get_enabled, NULL, "whether recording is on", NULL},
    {"clock", (getter)get_clock, NULL, "the clock reports use by default: 'wall' or 'cpu'", NULL},
    {"builtins", (getter)get_builtins, NULL, "whether C functions are recorded", NULL},
    {"asyncio", (getter)get_asyncio, NULL, "whether asyncio tasks get roots of their own", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static int tracer_traverse(TracerObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->keepalive);
    Py_VISIT(self->stats);
    Py_VISIT(self->thread_hook);
    Py_VISIT(self->saved_thread_hook);
    Py_VISIT(self->profile_type);
    Py_VISIT(self->gc_callback);
    Py_VISIT(self->slow_describe);
    Py_VISIT(self->slow_only);
    return hs_async_traverse(self, visit, arg);
}

static int tracer_clear_refs(TracerObject *self) {
    hs_async_forget(self);
    Py_CLEAR(self->async.get_running_loop);
    Py_CLEAR(self->async.current_tasks);
    Py_CLEAR(self->async.task_type);
    Py_CLEAR(self->async.coro_name);
    self->async.lookup = 0;
    Py_CLEAR(self->keepalive);
    Py_CLEAR(self->stats);
    Py_CLEAR(self->thread_hook);
    Py_CLEAR(self->saved_thread_hook);
    Py_CLEAR(self->missing);
    Py_CLEAR(self->profile_type);
    Py_CLEAR(self->gc_callback);
    Py_CLEAR(self->slow_describe);
    Py_CLEAR(self->slow_only);
    return 0;
}

static void tracer_dealloc(TracerObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->enabled) /* unreachable in practice: the hooks hold a reference */
        stop_tracing(self);
    if (self->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)self);
    tracer_clear_refs(self);
    hs_slow_table_clear(&self->slow);
    if (self->ready)
        hs_ct_free(&self->ct);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMemberDef tracer_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(TracerObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot tracer_slots[] = {
    {Py_tp_doc, "The deterministic tracer (cProfile's interface; see hotscope.Profile)."},
    {Py_tp_new, tracer_new},
    {Py_tp_init, tracer_init},
    {Py_tp_dealloc, tracer_dealloc},
    {Py_tp_traverse, tracer_traverse},
    {Py_tp_clear, tracer_clear_refs},
    {Py_tp_methods, tracer_methods},
    {Py_tp_getset, tracer_getset},
    {Py_tp_members, tracer_members},
    {0, NULL},
};

static PyType_Spec tracer_spec = {
    .name = "hotscope._core.Tracer",
    .basicsize = sizeof(TracerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = tracer_slots,
};

PyTypeObject *hs_tracer_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &tracer_spec, NULL);
}
