/*
 * mem_type.h - the hotscope._core.MemTracer object (mem_type.c), shared
 * with the sys.monitoring callbacks that report frame exits to its engine
 * (mem_watch.c).
 */
#ifndef HOTSCOPE_MEM_TYPE_H
#define HOTSCOPE_MEM_TYPE_H

#include "mem.h"

typedef struct {
    PyObject_HEAD
    hs_mem *engine;   /* NULL until start() */
    double interval_ms;
    int started, stopped;
    int native;       /* record malloc and friends too (native.c) */
    int watch_tool;   /* the sys.monitoring tool id reporting exits, or -1 */
    PyObject *chosen; /* list of the code objects chosen for per-line figures */
} MemTracerObject;

/* 3.12+: has sys.monitoring report every frame exit (return, yield,
 * unwind) to the engine, so an allocation reads only the frames that may
 * have changed, and count the frames of chosen code on each thread. Returns the tool id, or -1 when exits cannot be watched
 * (before 3.12, or no free tool id: another hotscope engine runs); the
 * engine then reads whole stacks. Never leaves an exception set. */
int hs_mem_watch_start(MemTracerObject *self);
void hs_mem_watch_stop(MemTracerObject *self);
/* 3.12+, while exits are watched: has sys.monitoring count the frames of
 * one more chosen code object (mem_lines.h). 0, or -1 with an exception
 * set. */
int hs_mem_watch_code(MemTracerObject *self, PyObject *code);

#endif
