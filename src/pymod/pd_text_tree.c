/*
 * pd_text_tree.c - ProfileData.text_tree(): the pyinstrument-style tree of
 * src/render/text_tree.c seen from Python. Whether colors are wanted (a
 * terminal, NO_COLOR) is the caller's decision, made in hotscope/_output.py.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../render/render.h"

PyObject *hs_pd_text_tree(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread", "clock", "min_percent", "show_all", "color", "unicode", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    double min_percent = 1.0;
    int show_all = 0, color = 0, unicode = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOdppp:text_tree", kwlist, &thread, &clock,
                                     &min_percent, &show_all, &color, &unicode))
        return NULL;
    hs_profile *p = hs_profile_data_get(self);
    hs_text_tree_opts opts;
    memset(&opts, 0, sizeof opts);
    if (hs_py_parse_thread(p, thread, &opts.subtree) < 0 || hs_py_parse_clock(clock, &opts.weight) < 0)
        return NULL;
    if (!(min_percent >= 0.0 && min_percent <= 100.0)) {
        PyErr_SetString(PyExc_ValueError, "min_percent must be between 0 and 100");
        return NULL;
    }
    opts.min_percent = min_percent;
    opts.show_all = show_all;
    opts.color = color;
    opts.unicode = unicode;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_text_tree(p, &opts, &buf, err);
    return hs_py_buf_result(&buf, status, err, 1);
}
