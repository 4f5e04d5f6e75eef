/*
 * pd_dot.c - ProfileData.dot(): the call graph of src/render/dot_callgraph.c
 * as DOT text. Running Graphviz to draw it is hotscope/_output.py's job.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../render/render.h"

PyObject *hs_pd_dot(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread", "clock", "node_threshold", "edge_threshold", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    double node_threshold = 0.5, edge_threshold = 0.1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOdd:dot", kwlist, &thread, &clock, &node_threshold,
                                     &edge_threshold))
        return NULL;
    hs_profile *p = hs_profile_data_get(self);
    hs_dot_opts opts;
    memset(&opts, 0, sizeof opts);
    if (hs_py_parse_thread(p, thread, &opts.subtree) < 0 || hs_py_parse_clock(clock, &opts.weight) < 0)
        return NULL;
    if (!(node_threshold >= 0.0 && node_threshold <= 100.0 && edge_threshold >= 0.0 && edge_threshold <= 100.0)) {
        PyErr_SetString(PyExc_ValueError, "thresholds are percentages between 0 and 100");
        return NULL;
    }
    opts.node_threshold = node_threshold;
    opts.edge_threshold = edge_threshold;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_dot(p, &opts, &buf, err);
    return hs_py_buf_result(&buf, status, err, 1);
}
