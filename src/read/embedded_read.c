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
 *
 * A file cut short after that element still holds a whole model, so the
 * end of the document is checked too: when its root element is <svg> or
 * <html>, the file must end with that element's end tag, white space and
 * comments only after it. In XML a document is its prolog, one root
 * element and then only comments, processing instructions and white space
 * (XML 1.0, section 2.1, "document ::= prolog element Misc*"); HTML lets
 * </html> be left out (HTML Living Standard, 13.1.2.4 "Optional tags"),
 * but every report hotscope writes ends with it (html_report.c,
 * flamegraph_svg.c; the call graph SVG is Graphviz's, whose </svg> stays
 * last in _output.svg_with_model). A fragment with another root (or none)
 * is not judged.
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

static int is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':' || c == '.';
}

/* Case-insensitive comparison of an ASCII name (HTML's are; an SVG root
 * spelled otherwise is not SVG anyway). */
static int name_is(const char *s, size_t len, const char *name) {
    size_t n = strlen(name);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return 0;
    }
    return 1;
}

/* The name of the document's root element ("svg", "html"), or NULL when
 * it is neither: the prolog (a byte order mark, white space, <?...?>,
 * <!--...-->, <!DOCTYPE ...> with or without an internal [subset]) is
 * stepped over, then the first start tag is read. */
static const char *root_element(const char *data, size_t len) {
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    for (;;) {
        while (i < len && is_space(data[i]))
            i++;
        if (i + 1 >= len || data[i] != '<')
            return NULL;
        const char *end;
        if (data[i + 1] == '?') {
            end = memmem(data + i, len - i, "?>", 2);
            i = end ? (size_t)(end - data) + 2 : len;
        } else if (len - i >= 4 && memcmp(data + i, "<!--", 4) == 0) {
            end = memmem(data + i + 4, len - i - 4, "-->", 3);
            i = end ? (size_t)(end - data) + 3 : len;
        } else if (data[i + 1] == '!') {
            size_t j = i + 2;
            while (j < len && data[j] != '>' && data[j] != '[')
                j++;
            if (j < len && data[j] == '[') {
                end = memchr(data + j, ']', len - j);
                j = end ? (size_t)(end - data) : len;
            }
            end = j < len ? memchr(data + j, '>', len - j) : NULL;
            i = end ? (size_t)(end - data) + 1 : len;
        } else {
            size_t start = i + 1, j = start;
            while (j < len && is_name_char(data[j]))
                j++;
            if (j < len && !is_space(data[j]) && data[j] != '>' && data[j] != '/')
                return NULL;
            if (name_is(data + start, j - start, "svg"))
                return "svg";
            if (name_is(data + start, j - start, "html"))
                return "html";
            return NULL;
        }
    }
}

/* Whether data[0..len) ends with the end tag of `root` ("</svg>", white
 * space allowed before its '>'), then only white space and comments. */
static int ends_with_end_tag(const char *data, size_t len, const char *root) {
    for (;;) {
        while (len > 0 && is_space(data[len - 1]))
            len--;
        if (len < 3 || memcmp(data + len - 3, "-->", 3) != 0)
            break;
        /* a trailing comment: step back over it, to its "<!--" */
        const char *open = NULL;
        for (size_t k = len - 3; k >= 4; k--)
            if (memcmp(data + k - 4, "<!--", 4) == 0) {
                open = data + k - 4;
                break;
            }
        if (!open)
            return 0;
        len = (size_t)(open - data);
    }
    if (len == 0 || data[len - 1] != '>')
        return 0;
    len--;
    while (len > 0 && is_space(data[len - 1]))
        len--;
    size_t n = strlen(root);
    return len >= n + 2 && memcmp(data + len - n - 2, "</", 2) == 0 && name_is(data + len - n, n, root);
}

/* The error of a document that ends before its root's end tag: `what`
 * says where the cut fell. */
static void *truncated(char *err, const char *root, const char *what) {
    return hs_read_error(err, "truncated: the document ends before its closing </%s> tag (%s)", root, what);
}

hs_profile *hs_read_embedded(const char *data, size_t len, char *err) {
    /* NULL unless the document has an <svg> or <html> root and does not end
     * with its end tag: then every error below says the file is cut. */
    const char *cut = root_element(data, len);
    if (cut && ends_with_end_tag(data, len, cut))
        cut = NULL;
    const char *found = NULL, *found_end = NULL;
    size_t pos = 0;
    while (pos < len) {
        const char *tag = memmem(data + pos, len - pos, "<script", 7);
        if (!tag)
            break;
        const char *tag_end = memchr(tag, '>', len - (size_t)(tag - data));
        if (!tag_end)
            return cut ? truncated(err, cut, "cut inside a <script> tag, which is not closed")
                       : hs_read_error(err, "a <script> tag is not closed");
        pos = (size_t)(tag_end + 1 - data);
        if (!tag_has_id(tag, (size_t)(tag_end - tag)))
            continue;
        if (found)
            return hs_read_error(err, "more than one embedded hotscope profile "
                                      "(<script id=\"hotscope-profile\">)");
        const char *body = tag_end + 1;
        const char *close = memmem(body, len - (size_t)(body - data), "</script", 8);
        if (!close)
            return cut ? truncated(err, cut, "cut inside the embedded hotscope profile, whose <script> "
                                             "element is not closed")
                       : hs_read_error(err, "the embedded hotscope profile's <script> element is not closed");
        found = body;
        found_end = close;
        pos = (size_t)(close - data);
    }
    if (!found)
        return cut ? truncated(err, cut, "no embedded hotscope profile comes before the cut")
                   : hs_read_error(err, "no embedded hotscope profile: an HTML or SVG file hotscope did not "
                                        "write, or one written without its data");
    if (cut)
        return truncated(err, cut, "the file was cut short after the embedded profile");
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
