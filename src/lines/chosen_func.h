/*
 * chosen_func.h - on 3.11, the chosen functions' objects report their
 * calls, so the frame evaluation hook is needed only while one runs
 * (chosen_func.c says how and why; src/pymod/evalhook.h, "on demand").
 */
#ifndef HOTSCOPE_LINES_CHOSEN_FUNC_H
#define HOTSCOPE_LINES_CHOSEN_FUNC_H

#include "lines.h"

/* 3.11 only: 3.10 never runs calls inline (its hook costs within noise),
 * and 3.12+ uses sys.monitoring. */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 /* 3.11 */
#define HS_HAVE_CHOSEN_FUNC 1
#else
#define HS_HAVE_CHOSEN_FUNC 0
#endif

/* The function subtype, readied on first use (NULL with an exception, or
 * without one where it does not exist: not 3.11). Borrowed: static. */
PyTypeObject *hs_chosen_func_type(void);

#if HS_HAVE_CHOSEN_FUNC
/* Gives every function object of lp->doors the subtype (those that can
 * take it: exact functions with the default vectorcall). */
void hs_chosen_func_mark_doors(LineProfilerObject *lp);
/* Puts the plain function type back on the doors that have the subtype. */
void hs_chosen_func_unmark_doors(LineProfilerObject *lp);
/* Whether every selected code object can only start running through a
 * marked door (directly or inside one's call): then the hook can be
 * taken on demand without missing a frame. With `any_door`: whether it
 * would once the plain functions selected had doors (worth claiming). */
int hs_chosen_func_cover(LineProfilerObject *lp, int any_door);
/* While the hook is held for good: `func`, the function object of a new
 * frame of `entry`, becomes its door if it can (once per entry and
 * session; only while lp->claiming). Returns whether the doors cover the
 * selection now. */
int hs_chosen_func_claim(LineProfilerObject *lp, hs_code_lines *entry, PyObject *func);
#endif

#endif
