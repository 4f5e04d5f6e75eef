/*
 * big_profiles.h - three profiles of 1,000,000 samples over 100,000
 * distinct stacks, built with the model API from a fixed pseudo-random
 * generator (the same profile on every run), for the render bench
 * (bench/bench_render.py) and test_flame.py. They differ in how much the
 * stacks share, which is what decides the size of the call tree that
 * every renderer walks (big_profiles.c says how each is made):
 *   realistic  stacks drawn from the call graph of a made-up server
 *              program: a long shared prefix, variety in the last frames
 *   shared     the first bench fixture: a random recursive tree that
 *              shares so much that the tree has only ~200,000 nodes
 *   random     every stack a random sequence of functions: almost no
 *              sharing, ~2.2 million nodes, the worst case
 */
#ifndef HOTSCOPE_BIG_PROFILES_H
#define HOTSCOPE_BIG_PROFILES_H

#include "../../src/model/model.h"

hs_profile *big_profile_realistic(void);
hs_profile *big_profile_shared(void);
hs_profile *big_profile_random(void);

/* The profile named `shape` ("realistic", "shared", "random"), or NULL
 * for another name. */
hs_profile *big_profile(const char *shape);

#endif
