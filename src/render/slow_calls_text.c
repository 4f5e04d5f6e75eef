/*
 * slow_calls_text.c - the "Slowest calls" section of a trace's text
 * report: for each function whose slowest calls were kept (model.h,
 * hs_slow_call; `hotscope trace --slow-calls N`), those calls, slowest
 * first, each with its duration, its arguments and its caller:
 *
 *   Slowest calls (the 3 slowest of each function; arguments as at return)
 *
 *   app.py:4(work)
 *        50.123ms  work(n=5)                <- app.py:9(main)
 *        40.101ms  work(n=4)                <- app.py:9(main)
 *
 * Functions come in the model's order (the tracer writes them slowest
 * call first); `limit` caps how many are shown. A thread is named when the
 * profile has more than one.
 */
#include <string.h>

#include "render.h"
#include "render_util.h"

static void put_call(const hs_profile *p, const hs_slow_call *c, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, c->function);
    size_t len = 0;
    if (f->kind == HS_KIND_PYTHON) {
        const char *name = hs_render_str(p, f->name, &len);
        hs_render_put_text(out, name, len, HS_TEXT_PLAIN);
    } else {
        hs_function_label(p, c->function, out);
    }
    const char *args = hs_render_str(p, c->args, &len);
    hs_buf_putc(out, '(');
    hs_render_put_text(out, args, len, HS_TEXT_PLAIN);
    hs_buf_putc(out, ')');
}

int hs_render_slow_calls_text(hs_profile *p, long limit, hs_buf *out, char *err) {
    if (!p->slow_call_count)
        return 0;
    size_t most = 0, run = 0;
    for (size_t i = 0; i < p->slow_call_count; i++) {
        run = i && p->slow_calls[i].function == p->slow_calls[i - 1].function ? run + 1 : 1;
        if (run > most)
            most = run;
    }
    hs_buf_printf(out, "Slowest calls (the %zu slowest of each function; arguments as at return)\n", most);
    hs_buf call;
    hs_buf_init(&call);
    long shown = 0;
    for (size_t i = 0; i < p->slow_call_count; i++) {
        const hs_slow_call *c = &p->slow_calls[i];
        if (i == 0 || c->function != p->slow_calls[i - 1].function) {
            if (limit > 0 && shown++ >= limit)
                break;
            hs_buf_putc(out, '\n');
            hs_function_label(p, c->function, out);
            hs_buf_putc(out, '\n');
        }
        hs_buf_printf(out, "  %12.3fms  ", (double)c->wall_ns / 1e6);
        call.len = 0;
        put_call(p, c, &call);
        size_t width = hs_render_text_width(call.data ? call.data : "", call.len);
        hs_buf_append(out, call.data ? call.data : "", call.len);
        for (; width < 30; width++)
            hs_buf_putc(out, ' ');
        hs_buf_puts(out, "  <- ");
        if (c->caller == HS_NONE)
            hs_buf_puts(out, "(top of the thread)");
        else
            hs_function_label(p, c->caller, out);
        if (p->thread_count > 1 && c->thread >= 0 && (size_t)c->thread < p->thread_count) {
            size_t len = 0;
            const char *name = hs_render_str(p, p->threads[c->thread].name, &len);
            hs_buf_puts(out, "  [");
            hs_render_put_text(out, name, len, HS_TEXT_PLAIN);
            hs_buf_putc(out, ']');
        }
        hs_buf_putc(out, '\n');
    }
    int failed = call.failed;
    hs_buf_free(&call);
    if (failed || out->failed) {
        hs_render_error(err, "out of memory rendering the slowest calls");
        return -1;
    }
    return 0;
}
