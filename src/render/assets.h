/*
 * assets.h - the script and styles of the flame graph SVG and the HTML
 * report, written as real files in src/render/assets/ and compiled into
 * the extension as strings by tools/embed_assets.py (which setup.py runs
 * before compiling; its output, assets_gen.c, is not in git).
 */
#ifndef HOTSCOPE_ASSETS_H
#define HOTSCOPE_ASSETS_H

#include <stddef.h>

extern const char hs_asset_flame_js[];
extern const size_t hs_asset_flame_js_len;
extern const char hs_asset_flame_css[];
extern const size_t hs_asset_flame_css_len;
extern const char hs_asset_report_js[];
extern const size_t hs_asset_report_js_len;
extern const char hs_asset_report_css[];
extern const size_t hs_asset_report_css_len;

#endif
