/*
 * calltree.c - the slow paths of the tracer's call tree (calltree.h): hash
 * lookups and growth, thread creation, CPU clock corrections, stack repair
 * and flushing. Everything here runs once per new call path, per new
 * function or per CPU quantum, not once per call.
 */
#include "calltree.h"
#include "../model/strtab.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Pointers have zero low bits: hs_hash_mix's finaliser spreads them. */
static uint64_t mix64(uint64_t x) {
    return hs_hash_mix(0, x);
}

static uint64_t child_hash(uint32_t parent, const void *key) {
    return mix64((uint64_t)(uintptr_t)key ^ ((uint64_t)parent << 40) ^ parent);
}

static uint32_t *new_slots(size_t n) {
    uint32_t *slots = malloc(n * sizeof *slots);
    if (slots)
        memset(slots, 0xFF, n * sizeof *slots);
    return slots;
}

int hs_ct_init(hs_calltree *ct, int64_t cpu_quantum_ns) {
    memset(ct, 0, sizeof *ct);
    hs_clock_init(&ct->clock);
    ct->cpu_quantum_ticks = (int64_t)((double)cpu_quantum_ns * ct->clock.ticks_per_ns);
    ct->node_cap = 1024;
    ct->nodes = calloc(ct->node_cap, sizeof *ct->nodes);
    ct->child_slot_count = 2048;
    ct->child_slots = new_slots(ct->child_slot_count);
    ct->func_cap = 256;
    ct->funcs = calloc(ct->func_cap, sizeof *ct->funcs);
    ct->func_keys = calloc(ct->func_cap, sizeof *ct->func_keys);
    ct->func_slot_count = 512;
    ct->func_slots = new_slots(ct->func_slot_count);
    ct->synth_slot_count = 64;
    ct->synth_slots = new_slots(ct->synth_slot_count);
    if (!ct->nodes || !ct->child_slots || !ct->funcs || !ct->func_keys || !ct->func_slots ||
        !ct->synth_slots) {
        hs_ct_free(ct);
        return -1;
    }
    /* node 0: the root above every thread */
    ct->node_count = 1;
    ct->nodes[0].parent = HS_CT_NONE;
    ct->nodes[0].func = HS_CT_NONE;
    ct->nodes[0].thread = HS_CT_NONE;
    ct->nodes[0].cache_child[0] = ct->nodes[0].cache_child[1] = HS_CT_NONE;
    return 0;
}

void hs_ct_free(hs_calltree *ct) {
    for (size_t i = 0; i < ct->func_count; i++) {
        free(ct->funcs[i].name);
        free(ct->funcs[i].file);
    }
    for (size_t i = 0; i < ct->thread_count; i++) {
        free(ct->threads[i]->stack);
        free(ct->threads[i]->entered);
        free(ct->threads[i]->steps);
        free(ct->threads[i]);
    }
    free(ct->threads);
    free(ct->funcs);
    free(ct->func_keys);
    free(ct->func_slots);
    free(ct->synth_slots);
    free(ct->nodes);
    free(ct->child_slots);
    memset(ct, 0, sizeof *ct);
}

/* ---- function table --------------------------------------------------- */

uint32_t hs_ct_func_find(const hs_calltree *ct, const void *key) {
    size_t mask = ct->func_slot_count - 1;
    for (size_t i = mix64((uint64_t)(uintptr_t)key) & mask;; i = (i + 1) & mask) {
        uint32_t f = ct->func_slots[i];
        if (f == HS_CT_NONE || ct->func_keys[f] == key)
            return f;
    }
}

static int func_slots_grow(hs_calltree *ct) {
    size_t n = ct->func_slot_count * 2;
    uint32_t *slots = new_slots(n);
    if (!slots)
        return -1;
    for (size_t f = 0; f < ct->func_count; f++) {
        size_t i = mix64((uint64_t)(uintptr_t)ct->func_keys[f]) & (n - 1);
        while (slots[i] != HS_CT_NONE)
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)f;
    }
    free(ct->func_slots);
    ct->func_slots = slots;
    ct->func_slot_count = n;
    return 0;
}

/* Appends a function whose name and file copies it takes over. */
static uint32_t func_append(hs_calltree *ct, const void *key, char *name, char *file,
                            int first_line, hs_tfunc_kind kind) {
    if (ct->func_count * 2 >= ct->func_slot_count && func_slots_grow(ct) != 0)
        return HS_CT_NONE;
    if (ct->func_count == ct->func_cap) {
        size_t cap = ct->func_cap * 2;
        hs_tfunc *funcs = realloc(ct->funcs, cap * sizeof *funcs);
        if (!funcs)
            return HS_CT_NONE;
        ct->funcs = funcs;
        const void **keys = realloc(ct->func_keys, cap * sizeof *keys);
        if (!keys)
            return HS_CT_NONE;
        ct->func_keys = keys;
        ct->func_cap = cap;
    }
    uint32_t f = (uint32_t)ct->func_count++;
    ct->funcs[f] = (hs_tfunc){name, file, first_line, kind};
    ct->func_keys[f] = key;
    size_t mask = ct->func_slot_count - 1;
    size_t i = mix64((uint64_t)(uintptr_t)key) & mask;
    while (ct->func_slots[i] != HS_CT_NONE)
        i = (i + 1) & mask;
    ct->func_slots[i] = f;
    return f;
}

uint32_t hs_ct_func_add(hs_calltree *ct, const void *key, const char *name,
                        const char *file, int first_line, hs_tfunc_kind kind) {
    char *name_copy = strdup(name);
    char *file_copy = strdup(file);
    uint32_t f = name_copy && file_copy
                     ? func_append(ct, key, name_copy, file_copy, first_line, kind)
                     : HS_CT_NONE;
    if (f == HS_CT_NONE) {
        free(name_copy);
        free(file_copy);
    }
    return f;
}

/* ---- synthetic functions, found by what they are called --------------- */

/* FNV-1a over the name and the file, then mixed with the line. */
static uint64_t synth_hash(const char *name, const char *file, int line) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    for (const char *s = file; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return hs_hash_mix(h, (uint64_t)(uint32_t)line);
}

static int synth_slots_grow(hs_calltree *ct) {
    size_t n = ct->synth_slot_count * 2;
    uint32_t *slots = new_slots(n);
    if (!slots)
        return -1;
    for (size_t f = 0; f < ct->func_count; f++) {
        const hs_tfunc *fn = &ct->funcs[f];
        if (fn->kind != HS_TFUNC_SYNTHETIC)
            continue;
        size_t i = synth_hash(fn->name, fn->file, fn->first_line) & (n - 1);
        while (slots[i] != HS_CT_NONE)
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)f;
    }
    free(ct->synth_slots);
    ct->synth_slots = slots;
    ct->synth_slot_count = n;
    return 0;
}

uint32_t hs_ct_synthetic_func(hs_calltree *ct, const char *name, const char *file, int line) {
    size_t mask = ct->synth_slot_count - 1;
    size_t i = synth_hash(name, file, line) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t f = ct->synth_slots[i];
        if (f == HS_CT_NONE)
            break;
        const hs_tfunc *fn = &ct->funcs[f];
        if (fn->first_line == line && strcmp(fn->name, name) == 0 && strcmp(fn->file, file) == 0)
            return f;
    }
    if ((ct->synth_count + 1) * 2 >= ct->synth_slot_count) {
        if (synth_slots_grow(ct) != 0)
            return HS_CT_NONE;
        mask = ct->synth_slot_count - 1;
        i = synth_hash(name, file, line) & mask;
        while (ct->synth_slots[i] != HS_CT_NONE)
            i = (i + 1) & mask;
    }
    char *name_copy = strdup(name);
    char *file_copy = strdup(file);
    uint32_t f = name_copy && file_copy
                     ? func_append(ct, name_copy, name_copy, file_copy, line, HS_TFUNC_SYNTHETIC)
                     : HS_CT_NONE;
    if (f == HS_CT_NONE) {
        free(name_copy);
        free(file_copy);
        return f;
    }
    ct->synth_slots[i] = f;
    ct->synth_count++;
    return f;
}

/* ---- call tree -------------------------------------------------------- */

uint32_t hs_ct_child_find(hs_calltree *ct, uint32_t parent, const void *key) {
    size_t mask = ct->child_slot_count - 1;
    for (size_t i = child_hash(parent, key) & mask;; i = (i + 1) & mask) {
        uint32_t n = ct->child_slots[i];
        if (n == HS_CT_NONE)
            return HS_CT_NONE;
        if (ct->nodes[n].parent == parent && ct->nodes[n].key == key)
            return n;
    }
}

static void cache_child(hs_tnode *parent, const void *key, uint32_t child) {
    parent->cache_key[1] = parent->cache_key[0];
    parent->cache_child[1] = parent->cache_child[0];
    parent->cache_key[0] = key;
    parent->cache_child[0] = child;
}

uint32_t hs_ct_lookup_slow(hs_calltree *ct, uint32_t parent, const void *key) {
    uint32_t child = hs_ct_child_find(ct, parent, key);
    if (child != HS_CT_NONE)
        cache_child(&ct->nodes[parent], key, child);
    return child;
}

static int child_slots_grow(hs_calltree *ct) {
    size_t n = ct->child_slot_count * 2;
    uint32_t *slots = new_slots(n);
    if (!slots)
        return -1;
    for (size_t id = 1; id < ct->node_count; id++) {
        const hs_tnode *node = &ct->nodes[id];
        if (node->parent == 0) /* thread roots are found through their thread */
            continue;
        size_t i = child_hash(node->parent, node->key) & (n - 1);
        while (slots[i] != HS_CT_NONE)
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)id;
    }
    free(ct->child_slots);
    ct->child_slots = slots;
    ct->child_slot_count = n;
    return 0;
}

static uint32_t node_new(hs_calltree *ct, uint32_t parent, const void *key, uint32_t func,
                         uint32_t thread) {
    if (ct->node_count >= HS_CT_NONE - 1)
        return HS_CT_NONE;
    if (ct->node_count == ct->node_cap) {
        size_t cap = ct->node_cap * 2;
        hs_tnode *nodes = realloc(ct->nodes, cap * sizeof *nodes);
        if (!nodes)
            return HS_CT_NONE;
        ct->nodes = nodes;
        ct->node_cap = cap;
    }
    uint32_t id = (uint32_t)ct->node_count++;
    hs_tnode *node = &ct->nodes[id];
    memset(node, 0, sizeof *node);
    node->key = key;
    node->parent = parent;
    node->func = func;
    node->thread = thread;
    node->cache_child[0] = node->cache_child[1] = HS_CT_NONE;
    return id;
}

uint32_t hs_ct_child_add(hs_calltree *ct, uint32_t parent, const void *key, uint32_t func) {
    if (ct->node_count * 2 >= ct->child_slot_count && child_slots_grow(ct) != 0)
        return HS_CT_NONE;
    uint32_t id = node_new(ct, parent, key, func, ct->nodes[parent].thread);
    if (id == HS_CT_NONE)
        return id;
    size_t mask = ct->child_slot_count - 1;
    size_t i = child_hash(parent, key) & mask;
    while (ct->child_slots[i] != HS_CT_NONE)
        i = (i + 1) & mask;
    ct->child_slots[i] = id;
    cache_child(&ct->nodes[parent], key, id);
    return id;
}

uint32_t hs_ct_child_get(hs_calltree *ct, uint32_t parent, uint32_t func) {
    const void *key = ct->func_keys[func];
    uint32_t child = hs_ct_lookup_slow(ct, parent, key);
    return child != HS_CT_NONE ? child : hs_ct_child_add(ct, parent, key, func);
}

/* ---- threads ---------------------------------------------------------- */

hs_tthread *hs_ct_thread_new(hs_calltree *ct, uint64_t os_tid, uint64_t ident) {
    if (ct->thread_count == ct->thread_cap) {
        size_t cap = ct->thread_cap ? ct->thread_cap * 2 : 8;
        hs_tthread **threads = realloc(ct->threads, cap * sizeof *threads);
        if (!threads)
            return NULL;
        ct->threads = threads;
        ct->thread_cap = cap;
    }
    hs_tthread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = 64;
    t->stack = malloc(t->cap * sizeof *t->stack);
    t->entered = malloc(t->cap * sizeof *t->entered);
    uint32_t root = t->stack && t->entered ? node_new(ct, 0, NULL, HS_CT_NONE, (uint32_t)ct->thread_count)
                                           : HS_CT_NONE;
    if (root == HS_CT_NONE) {
        free(t->stack);
        free(t->entered);
        free(t);
        return NULL;
    }
    t->index = (uint32_t)ct->thread_count;
    t->root = root;
    t->stack[0] = root;
    t->entered[0] = 0;
    t->depth = 1;
    t->os_tid = os_tid;
    t->ident = ident;
    t->chain.node = HS_CT_NONE;
    t->has_cpu_clock = pthread_getcpuclockid(pthread_self(), &t->cpu_clock) == 0;
    t->first_ticks = t->last_ticks = t->cpu_mark_ticks = hs_ticks(&ct->clock);
    t->first_cpu_ns = t->cpu_mark_ns = hs_thread_cpu_ns();
    t->cpu_due_ticks = t->cpu_mark_ticks + (uint64_t)ct->cpu_quantum_ticks;
    ct->threads[ct->thread_count++] = t;
    return t;
}

int hs_ct_stack_grow(hs_tthread *t) {
    size_t cap = t->cap * 2;
    uint32_t *stack = realloc(t->stack, cap * sizeof *stack);
    if (!stack)
        return -1;
    t->stack = stack;
    uint64_t *entered = realloc(t->entered, cap * sizeof *entered);
    if (!entered)
        return -1; /* the larger stack is kept; cap still names the smaller size */
    t->entered = entered;
    t->cap = cap;
    return 0;
}

/* Reads a thread's CPU clock: its own clock id works from any thread,
 * which matters when flushing threads other than the caller. */
static int64_t thread_cpu_ns(const hs_tthread *t) {
    struct timespec ts;
    if (!t->has_cpu_clock || clock_gettime(t->cpu_clock, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t hs_ct_cpu_correct(hs_calltree *ct, hs_tthread *t, uint64_t now) {
    int64_t cpu_ns = thread_cpu_ns(t);
    if (cpu_ns < 0) /* unreadable (thread gone): keep the virtual clock */
        return 0;
    hs_clock_refine(&ct->clock);
    int64_t provisional = (int64_t)(now - t->cpu_mark_ticks);
    int64_t actual = (int64_t)((double)(cpu_ns - t->cpu_mark_ns) * ct->clock.ticks_per_ns);
    t->cpu_mark_ticks = now;
    t->cpu_mark_ns = cpu_ns;
    return actual - provisional;
}

int64_t hs_ct_cpu_interval(hs_calltree *ct, hs_tthread *t, uint64_t now, int64_t wall) {
    int64_t cpu = wall;
    uint64_t due = t->cpu_mark_ticks + (uint64_t)ct->cpu_quantum_ticks;
    if (now >= due) {
        cpu += hs_ct_cpu_correct(ct, t, now);
        due = now + (uint64_t)ct->cpu_quantum_ticks; /* even if the reading failed */
    }
    cpu += t->cpu_carry;
    t->cpu_carry = 0;
    if (cpu < 0) { /* owed: charged against the following intervals */
        t->cpu_carry = cpu;
        cpu = 0;
    }
    t->cpu_due_ticks = t->cpu_carry ? 0 : due;
    return cpu;
}

void hs_ct_pop_mismatch(hs_calltree *ct, hs_tthread *t, const void *key) {
    size_t level = t->depth - 1;
    while (level >= 1 && ct->nodes[t->stack[level]].key != key)
        level--;
    if (level < 1)
        return; /* not on our stack: entered before tracing began */
    /* Frames above it left without telling us (a C function whose return
     * event never came): they end now, like the frame itself. */
    while (t->depth > level) {
        ct->nodes[t->stack[t->depth - 1]].calls++;
        t->depth--;
    }
}

/* Every frame closed: no task step or await chain is open any more. */
static void forget_async(hs_tthread *t) {
    t->step_count = 0;
    t->chain.node = HS_CT_NONE;
}

void hs_ct_flush(hs_calltree *ct, hs_tthread *t) {
    forget_async(t);
    if (t->has_cpu_clock && thread_cpu_ns(t) < 0) {
        /* The thread has ended (its CPU clock went with it): its time ended
         * at its last event. Charging it up to now would give a thread that
         * finished early the rest of the run as wall time and, the virtual
         * clock being uncorrectable, as CPU time too. */
        while (t->depth > 1) {
            ct->nodes[t->stack[t->depth - 1]].calls++;
            t->depth--;
        }
        return;
    }
    uint64_t now = hs_ticks(&ct->clock);
    /* A real CPU reading now, so the thread's CPU total is exact; the
     * correction is charged with the final interval. */
    t->cpu_carry += hs_ct_cpu_correct(ct, t, now);
    t->cpu_due_ticks = 0; /* so this charge settles the carry */
    hs_ct_charge(ct, t, now);
    while (t->depth > 1) {
        ct->nodes[t->stack[t->depth - 1]].calls++;
        t->depth--;
    }
}

void hs_ct_clear(hs_calltree *ct) {
    /* Keep node 0 and the thread roots, in their own order. */
    size_t kept = 1;
    for (size_t i = 0; i < ct->thread_count; i++) {
        hs_tthread *t = ct->threads[i];
        hs_tnode root = ct->nodes[t->root];
        memset(&root, 0, sizeof root);
        root.parent = 0;
        root.func = HS_CT_NONE;
        root.thread = (uint32_t)i;
        root.cache_child[0] = root.cache_child[1] = HS_CT_NONE;
        ct->nodes[kept] = root;
        t->root = (uint32_t)kept++;
        t->stack[0] = t->root;
        t->depth = 1;
        forget_async(t);
    }
    ct->node_count = kept;
    memset(ct->nodes[0].cache_key, 0, sizeof ct->nodes[0].cache_key);
    ct->nodes[0].cache_child[0] = ct->nodes[0].cache_child[1] = HS_CT_NONE;
    memset(ct->child_slots, 0xFF, ct->child_slot_count * sizeof *ct->child_slots);
}
