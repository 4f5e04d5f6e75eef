/*
 * native_alloc.c - hotscope's malloc interposer: a small shared library
 * (hotscope/_native_alloc*.so, not a Python module) that `hotscope mem
 * --native` puts in LD_PRELOAD, so it defines malloc, calloc, realloc,
 * free and the aligned allocators for the whole process. Each call is
 * forwarded to the allocator that comes next in the lookup order (libc's,
 * or another interposer's: dlsym(RTLD_NEXT)); while hotscope's memory
 * engine records, it is also reported to the callbacks the engine
 * registered (native_hook.h). Before and after that the cost is one
 * thread-local test and one load per call.
 *
 * Three things need care in an interposer:
 *  - dlsym may itself call malloc/calloc/free (glibc allocates its error
 *    state) before the real functions are known: calls made by this
 *    thread while it resolves them are served from a small static arena,
 *    whose blocks are never freed nor handed to the real allocator.
 *  - recursion: the engine's callbacks allocate (its tables come from
 *    libc), so a thread-local flag marks a thread inside a reported call
 *    and its nested calls are forwarded unreported. The flag uses the
 *    initial-exec TLS model: this library is loaded at start-up, and the
 *    general model could call malloc on a thread's first access.
 *  - removal: the engine must not be called once it has stopped, so
 *    reported calls count themselves in `inflight` before they read the
 *    callbacks, and removing the callbacks waits for the count to drop.
 *    fork() is bracketed by the engine's handlers (it holds its lock
 *    across the fork); the child drops the callbacks.
 *
 * Each report says where the call came from (hs_native_site): the return
 * address, and the caller's stack and frame pointers, read through this
 * file's own frame pointer (it is built with -fno-omit-frame-pointer), so
 * the engine can unwind the caller's stack without unwinding ours.
 *
 * The state below is process-wide by nature: the symbols it backs are
 * the process's own malloc and free, of which there is one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "native_hook.h"

#define EXPORT __attribute__((visibility("default")))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The calling function's site, in an exported function with a frame
 * pointer: the frame address holds the caller's frame pointer, then the
 * return address; the caller's stack pointer is just above. */
#define SITE()                                                                                    \
    (&(hs_native_site){__builtin_return_address(0), (char *)__builtin_frame_address(0) + 16,     \
                       *(void **)__builtin_frame_address(0)})

typedef struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
} real_allocator;

/* Blocks handed out while dlsym runs: 16-byte header (the size), then the
 * block. glibc's dlsym asks for well under a kilobyte. */
#define ARENA_SIZE (64 * 1024)
#define ARENA_HEADER 16

static struct {
    real_allocator real;
    int resolved;                       /* real is filled (atomic) */
    pthread_once_t once;
    const hs_native_hooks *hooks;       /* the engine's callbacks, or NULL (atomic) */
    int inflight;                       /* reported calls running now (atomic) */
    const hs_native_hooks *fork_hooks;  /* the hooks a fork in progress was prepared with */
    size_t arena_used;                  /* atomic */
    _Alignas(16) unsigned char arena[ARENA_SIZE];
} interposer = {.once = PTHREAD_ONCE_INIT};

static __thread int inside __attribute__((tls_model("initial-exec")));
static __thread int resolving __attribute__((tls_model("initial-exec")));
static __thread int inside_before_fork __attribute__((tls_model("initial-exec")));

/* ---- resolving the real allocator --------------------------------------- */

static void die(const char *message) {
    ssize_t ignored = write(2, message, strlen(message));
    (void)ignored;
    abort();
}

static void *next_symbol(const char *name) {
    return dlsym(RTLD_NEXT, name);
}

static void resolve(void) {
    real_allocator r;
    resolving = 1;
    /* dlsym returns void *; POSIX guarantees it converts to a function
     * pointer, which ISO C does not say, hence the memcpy. */
#define LOOKUP(field)                                                                             \
    do {                                                                                          \
        void *sym = next_symbol(#field);                                                          \
        memcpy(&r.field, &sym, sizeof sym);                                                       \
    } while (0)
    LOOKUP(malloc);
    LOOKUP(free);
    LOOKUP(calloc);
    LOOKUP(realloc);
    LOOKUP(posix_memalign);
    LOOKUP(aligned_alloc);
    LOOKUP(memalign);
    LOOKUP(valloc);
    LOOKUP(pvalloc);
#undef LOOKUP
    resolving = 0;
    if (!r.malloc || !r.free || !r.calloc || !r.realloc || !r.memalign || !r.posix_memalign)
        die("hotscope: the malloc interposer cannot find the real allocator (dlsym RTLD_NEXT)\n");
    interposer.real = r;
    __atomic_store_n(&interposer.resolved, 1, __ATOMIC_RELEASE);
}

static inline void ensure_resolved(void) {
    if (UNLIKELY(!__atomic_load_n(&interposer.resolved, __ATOMIC_ACQUIRE)))
        pthread_once(&interposer.once, resolve);
}

static void *arena_alloc(size_t size) {
    size_t need = (size + ARENA_HEADER + 15) & ~(size_t)15;
    if (need < size) {
        errno = ENOMEM;
        return NULL;
    }
    size_t at = __atomic_fetch_add(&interposer.arena_used, need, __ATOMIC_RELAXED);
    if (at > ARENA_SIZE || need > ARENA_SIZE - at) {
        errno = ENOMEM;
        return NULL;
    }
    unsigned char *block = interposer.arena + at;
    memcpy(block, &size, sizeof size);
    return block + ARENA_HEADER; /* zeroed: static storage, never reused */
}

static inline int in_arena(const void *ptr) {
    uintptr_t p = (uintptr_t)ptr, lo = (uintptr_t)interposer.arena;
    return p >= lo && p < lo + ARENA_SIZE;
}

static size_t arena_size_of(const void *ptr) {
    size_t size;
    memcpy(&size, (const unsigned char *)ptr - ARENA_HEADER, sizeof size);
    return size;
}

/* ---- reporting ------------------------------------------------------------ */

/* The callbacks to report this call to, or NULL (none registered, or a
 * call made inside one). When not NULL, end_report() must follow. */
static inline const hs_native_hooks *begin_report(void) {
    if (__atomic_load_n(&interposer.hooks, __ATOMIC_RELAXED) == NULL || inside)
        return NULL;
    inside = 1;
    __atomic_add_fetch(&interposer.inflight, 1, __ATOMIC_SEQ_CST);
    const hs_native_hooks *h = __atomic_load_n(&interposer.hooks, __ATOMIC_SEQ_CST);
    if (!h) {
        __atomic_sub_fetch(&interposer.inflight, 1, __ATOMIC_SEQ_CST);
        inside = 0;
    }
    return h;
}

static inline void end_report(void) {
    __atomic_sub_fetch(&interposer.inflight, 1, __ATOMIC_SEQ_CST);
    inside = 0;
}

static inline void *reported_alloc(const hs_native_hooks *h, void *ptr, size_t size,
                                   const hs_native_site *site) {
    if (ptr)
        h->on_alloc(h->ctx, ptr, size, site);
    end_report();
    return ptr;
}

EXPORT int hotscope_native_set_hooks(const hs_native_hooks *hooks) {
    if (hooks) {
        if (hooks->abi != HS_NATIVE_ABI)
            return -1;
        const hs_native_hooks *none = NULL;
        return __atomic_compare_exchange_n(&interposer.hooks, &none, hooks, 0, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST)
                   ? 0
                   : -1;
    }
    __atomic_store_n(&interposer.hooks, NULL, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&interposer.inflight, __ATOMIC_SEQ_CST))
        sched_yield();
    return 0;
}

/* ---- fork ----------------------------------------------------------------- */

/* The forking thread counts as a reported call from prepare to parent, so
 * the hooks it prepared stay registered until the fork is over. */
static void before_fork(void) {
    inside_before_fork = inside;
    inside = 1;
    const hs_native_hooks *h = NULL;
    if (__atomic_load_n(&interposer.hooks, __ATOMIC_SEQ_CST)) {
        __atomic_add_fetch(&interposer.inflight, 1, __ATOMIC_SEQ_CST);
        h = __atomic_load_n(&interposer.hooks, __ATOMIC_SEQ_CST);
        if (!h)
            __atomic_sub_fetch(&interposer.inflight, 1, __ATOMIC_SEQ_CST);
    }
    interposer.fork_hooks = h;
    if (h && h->fork_prepare)
        h->fork_prepare(h->ctx);
}

static void after_fork_parent(void) {
    const hs_native_hooks *h = interposer.fork_hooks;
    interposer.fork_hooks = NULL;
    if (h) {
        if (h->fork_parent)
            h->fork_parent(h->ctx);
        __atomic_sub_fetch(&interposer.inflight, 1, __ATOMIC_SEQ_CST);
    }
    inside = inside_before_fork;
}

static void after_fork_child(void) {
    const hs_native_hooks *h = interposer.fork_hooks;
    interposer.fork_hooks = NULL;
    /* Only this thread exists here: nothing is in flight, and the child
     * is not recorded. */
    __atomic_store_n(&interposer.hooks, NULL, __ATOMIC_SEQ_CST);
    __atomic_store_n(&interposer.inflight, 0, __ATOMIC_SEQ_CST);
    if (h && h->fork_child)
        h->fork_child(h->ctx);
    inside = inside_before_fork;
}

__attribute__((constructor)) static void start(void) {
    ensure_resolved();
    if (pthread_atfork(before_fork, after_fork_parent, after_fork_child) != 0)
        die("hotscope: the malloc interposer cannot register its fork handlers\n");
}

/* ---- the allocator -------------------------------------------------------- */

EXPORT void *malloc(size_t size) {
    if (UNLIKELY(!__atomic_load_n(&interposer.resolved, __ATOMIC_ACQUIRE))) {
        if (resolving)
            return arena_alloc(size);
        ensure_resolved();
    }
    const hs_native_hooks *h = begin_report();
    void *ptr = interposer.real.malloc(size);
    return h ? reported_alloc(h, ptr, size, SITE()) : ptr;
}

EXPORT void *calloc(size_t count, size_t size) {
    if (UNLIKELY(!__atomic_load_n(&interposer.resolved, __ATOMIC_ACQUIRE))) {
        if (resolving) {
            size_t total;
            if (__builtin_mul_overflow(count, size, &total)) {
                errno = ENOMEM;
                return NULL;
            }
            return arena_alloc(total);
        }
        ensure_resolved();
    }
    const hs_native_hooks *h = begin_report();
    void *ptr = interposer.real.calloc(count, size);
    if (!h)
        return ptr;
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) { /* failed: nothing to report */
        end_report();
        return ptr;
    }
    return reported_alloc(h, ptr, total, SITE());
}

EXPORT void free(void *ptr) {
    if (!ptr || UNLIKELY(in_arena(ptr)))
        return;
    /* a pointer that is not the arena's was made by the real allocator,
     * which is resolved by then */
    const hs_native_hooks *h = begin_report();
    if (h) {
        h->on_free(h->ctx, ptr);
        end_report();
    }
    interposer.real.free(ptr);
}

static void *do_realloc(void *old, size_t size, const hs_native_site *site) {
    if (UNLIKELY(!__atomic_load_n(&interposer.resolved, __ATOMIC_ACQUIRE))) {
        if (resolving) {
            void *ptr = arena_alloc(size);
            if (ptr && old) {
                size_t had = arena_size_of(old);
                memcpy(ptr, old, had < size ? had : size);
            }
            return ptr;
        }
        ensure_resolved();
    }
    if (UNLIKELY(old && in_arena(old))) {
        /* a block dlsym got from the arena, grown after start-up: it moves
         * to the real allocator (a new block as far as anyone can tell) */
        size_t had = arena_size_of(old);
        const hs_native_hooks *h = begin_report();
        void *ptr = interposer.real.malloc(size ? size : 1);
        if (ptr)
            memcpy(ptr, old, had < size ? had : size);
        return h ? reported_alloc(h, ptr, size, site) : ptr;
    }
    const hs_native_hooks *h = begin_report();
    if (!h)
        return interposer.real.realloc(old, size);
    void *ptr = h->on_realloc(h->ctx, old, size, site, interposer.real.realloc);
    end_report();
    return ptr;
}

EXPORT void *realloc(void *old, size_t size) {
    return do_realloc(old, size, SITE());
}

EXPORT void *reallocarray(void *old, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(old, total, SITE());
}

EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
    ensure_resolved();
    const hs_native_hooks *h = begin_report();
    int rc = interposer.real.posix_memalign(out, alignment, size);
    if (h)
        reported_alloc(h, rc == 0 ? *out : NULL, size, SITE());
    return rc;
}

EXPORT void *memalign(size_t alignment, size_t size) {
    ensure_resolved();
    const hs_native_hooks *h = begin_report();
    void *ptr = interposer.real.memalign(alignment, size);
    return h ? reported_alloc(h, ptr, size, SITE()) : ptr;
}

EXPORT void *aligned_alloc(size_t alignment, size_t size) {
    ensure_resolved();
    const hs_native_hooks *h = begin_report();
    void *ptr = interposer.real.aligned_alloc ? interposer.real.aligned_alloc(alignment, size)
                                              : interposer.real.memalign(alignment, size);
    return h ? reported_alloc(h, ptr, size, SITE()) : ptr;
}

static size_t page_size(void) {
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

EXPORT void *valloc(size_t size) {
    ensure_resolved();
    const hs_native_hooks *h = begin_report();
    void *ptr = interposer.real.valloc ? interposer.real.valloc(size)
                                       : interposer.real.memalign(page_size(), size);
    return h ? reported_alloc(h, ptr, size, SITE()) : ptr;
}

EXPORT void *pvalloc(size_t size) {
    ensure_resolved();
    const hs_native_hooks *h = begin_report();
    void *ptr;
    if (interposer.real.pvalloc) {
        ptr = interposer.real.pvalloc(size);
    } else {
        size_t page = page_size(), rounded = (size + page - 1) & ~(page - 1);
        ptr = rounded < size ? NULL : interposer.real.memalign(page, rounded ? rounded : page);
    }
    return h ? reported_alloc(h, ptr, size, SITE()) : ptr;
}
