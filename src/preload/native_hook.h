/*
 * native_hook.h - the contract between hotscope's malloc interposer
 * (native_alloc.c, built as hotscope/_native_alloc*.so and loaded with
 * LD_PRELOAD by `hotscope mem --native`) and the memory engine in
 * hotscope._core (src/memory/native.c), which registers these callbacks
 * while it records.
 *
 * The interposer knows nothing of Python: it forwards every call to the
 * allocator that follows it (dlsym(RTLD_NEXT)) and, while callbacks are
 * registered, reports each call made outside a callback. The engine finds
 * the registration function with dlsym(RTLD_DEFAULT, HS_NATIVE_SET_HOOKS)
 * (absent when the interposer is not loaded).
 *
 * Both sides come from one build, but the interposer is found through the
 * environment, so a mismatched copy could be loaded: `abi` is checked.
 */
#ifndef HOTSCOPE_NATIVE_HOOK_H
#define HOTSCOPE_NATIVE_HOOK_H

#include <stddef.h>

#define HS_NATIVE_ABI 2
#define HS_NATIVE_SET_HOOKS "hotscope_native_set_hooks"

typedef void *(*hs_real_realloc_fn)(void *ptr, size_t size);

/* Where an allocator was called from: the return address into the code
 * that called it, that code's stack pointer once the call returns (the
 * allocator's CFA) and its frame pointer register (rbp on x86-64) at the
 * call, so the engine can unwind from there. */
typedef struct {
    void *caller;
    void *cfa;
    void *frame;
} hs_native_site;

typedef struct hs_native_hooks {
    int abi;   /* HS_NATIVE_ABI */
    void *ctx; /* passed back to every callback */
    /* A block of `size` bytes was allocated at `ptr` (malloc, calloc,
     * the aligned allocators) by the code at `site`. */
    void (*on_alloc)(void *ctx, void *ptr, size_t size, const hs_native_site *site);
    /* `ptr` (not NULL) is about to be freed. */
    void (*on_free)(void *ctx, void *ptr);
    /* realloc(old, size) (reallocarray too): the callback calls `real`
     * itself, so it can forget `old` before the address can be reused,
     * and returns what `real` returned. */
    void *(*on_realloc)(void *ctx, void *old, size_t size, const hs_native_site *site,
                        hs_real_realloc_fn real);
    /* fork(): before (in the forking thread), then after in the parent or
     * in the child. The interposer drops the callbacks in the child
     * before it calls fork_child, and reports nothing of its own calls
     * in between. */
    void (*fork_prepare)(void *ctx);
    void (*fork_parent)(void *ctx);
    void (*fork_child)(void *ctx);
} hs_native_hooks;

/* Registers `hooks` (kept by pointer until replaced), or with NULL removes
 * them and returns once no callback is running any more. Returns 0, or -1
 * when the ABI differs or other hooks are registered. */
typedef int (*hs_native_set_hooks_fn)(const hs_native_hooks *hooks);

#endif
