/*
 * grow.h - the sampler's growable arrays: doubles a buffer's capacity
 * until it holds `need` items. Shared by the walk and the sampling pass.
 */
#ifndef HOTSCOPE_GROW_H
#define HOTSCOPE_GROW_H

#include <stdlib.h>

/* 0, or -1 (the old buffer left as it was) when memory runs out. */
static inline int hs_grow(void **items, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*items, cap2 * size);
    if (!p)
        return -1;
    *items = p;
    *cap = cap2;
    return 0;
}

#endif
