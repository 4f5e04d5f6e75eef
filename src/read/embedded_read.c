/*
 * embedded_read.c - the profile inside an HTML report or an SVG flame
 * graph that hotscope wrote.
 *
 * Convention shared with the HTML and SVG renderers: the document holds
 * exactly one element
 *     <script type="application/json" id="hotscope-profile">MODEL JSON</script>
 * whose text is the model JSON of model_json.c. That JSON escapes <, > and
 * & as \u003c, \u003e, \u0026 (hs_render_put_json_string), so the text can
 * hold no "</script" and needs no CDATA section in SVG; a CDATA wrapper is
 * still accepted, for SVG writers that add one. Only the element's
 * attributes are looked at, so the attribute order and quote style (id="..."
 * or id='...') do not matter.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "read.h"

static const char element_id[] = "hotscope-profile";

/* Whether the start tag s[0..len) has id="hotscope-profile" (either quote). */
static int tag_has_id(const char *s, size_t len) {
    for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), "id=", 3)) != NULL; p += 3) {
        /* "id" as an attribute name: preceded by white space. */
        if (p == s || !(p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
            continue;
        size_t rest = len - (size_t)(p + 3 - s);
        size_t n = sizeof element_id - 1;
        if (rest >= n + 2 && (p[3] == '"' || p[3] == '\'') && memcmp(p + 4, element_id, n) == 0 &&
            p[4 + n] == p[3])
            return 1;
    }
    return 0;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

hs_profile *hs_read_embedded(const char *data, size_t len, char *err) {
    const char *found = NULL, *found_end = NULL;
    size_t pos = 0;
    while (pos < len) {
        const char *tag = memmem(data + pos, len - pos, "<script", 7);
        if (!tag)
            break;
        const char *tag_end = memchr(tag, '>', len - (size_t)(tag - data));
        if (!tag_end)
            return hs_read_error(err, "a <script> tag is not closed");
        pos = (size_t)(tag_end + 1 - data);
        if (!tag_has_id(tag, (size_t)(tag_end - tag)))
            continue;
        if (found)
            return hs_read_error(err, "more than one embedded hotscope profile "
                                      "(<script id=\"hotscope-profile\">)");
        const char *body = tag_end + 1;
        const char *close = memmem(body, len - (size_t)(body - data), "</script", 8);
        if (!close)
            return hs_read_error(err, "the embedded hotscope profile's <script> element is not closed");
        found = body;
        found_end = close;
        pos = (size_t)(close - data);
    }
    if (!found)
        return hs_read_error(err, "no embedded hotscope profile: an HTML or SVG file hotscope did not "
                                  "write, or one written without its data");
    while (found < found_end && is_space(*found))
        found++;
    while (found_end > found && is_space(found_end[-1]))
        found_end--;
    if (found_end - found >= 12 && memcmp(found, "<![CDATA[", 9) == 0 &&
        memcmp(found_end - 3, "]]>", 3) == 0) {
        found += 9;
        found_end -= 3;
    }
    char inner[HS_READ_ERR_SIZE];
    hs_profile *p = hs_read_model_json(found, (size_t)(found_end - found), inner);
    if (!p)
        return hs_read_error(err, "embedded profile: %s", inner);
    return p;
}
