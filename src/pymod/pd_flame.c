/*
 * pd_flame.c - ProfileData.svg() and ProfileData.html(): the flame graph
 * (src/render/flamegraph_svg.c) and the HTML report (html_report.c) seen
 * from Python. hotscope/_output.py calls them for -o x.svg and -o x.html.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../render/render.h"

PyObject *hs_pd_svg(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"clock", "icicle", "title", "thread", "min_width", "model", NULL};
    PyObject *clock = Py_None, *thread = Py_None;
    int icicle = 0, model = 1;
    const char *title = NULL;
    double min_width = 0.1;
    hs_profile *p = hs_profile_data_get(self);
    hs_flame_opts opts;
    memset(&opts, 0, sizeof opts);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OpzOdp:svg", kwlist, &clock, &icicle, &title, &thread,
                                     &min_width, &model) ||
        hs_py_parse_clock(clock, &opts.weight) < 0 ||
        hs_py_parse_thread(p, thread, &opts.subtree) < 0)
        return NULL;
    opts.icicle = icicle;
    opts.title = title;
    opts.min_width_px = min_width;
    opts.omit_model = !model;
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    /* The GIL stays held: set_meta() may change the same model. */
    int status = hs_render_flamegraph_svg(p, &opts, &buf, err);
    return hs_py_buf_result(&buf, status, err, 0);
}

PyObject *hs_pd_html(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"clock", "title", NULL};
    PyObject *clock = Py_None;
    const char *title = NULL;
    hs_weight weight = HS_W_COUNT; /* the report chooses */
    hs_profile *p = hs_profile_data_get(self);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Oz:html", kwlist, &clock, &title) ||
        (clock != Py_None && hs_py_parse_clock(clock, &weight) < 0))
        return NULL;
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_html_report(p, weight, title, &buf, err);
    return hs_py_buf_result(&buf, status, err, 0);
}
