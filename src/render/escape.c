/*
 * escape.c - writing untrusted names into structured formats (render_util.h).
 *
 * Function and file names come from the profiled program and from files
 * other tools wrote: they may hold quotes, "<script>", newlines or bytes
 * that are not UTF-8. Every renderer that writes JSON, XML/SVG or HTML
 * goes through these helpers, so such a name always renders as text and
 * never as markup or a broken document. Invalid UTF-8 becomes U+FFFD, the
 * replacement character, as Python's errors="replace" would show it.
 */
#include <stdint.h>

#include "render_util.h"

size_t hs_utf8_next(const char *s, size_t len, size_t i, uint32_t *code_point) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[i];
    if (c < 0x80) {
        *code_point = c;
        return 1;
    }
    /* RFC 3629 section 4: the well-formed sequences; overlong forms,
     * surrogates and values above U+10FFFF are rejected. */
    size_t need;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 2, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 3, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len - i <= need)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((u[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *code_point = cp;
    return need + 1;
}

static const char replacement_char[] = "\xEF\xBF\xBD"; /* U+FFFD in UTF-8 */

void hs_render_put_json_string(hs_buf *out, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    hs_buf_putc(out, '"');
    size_t start = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        /* Fast path: printable ASCII that needs no escape. */
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = c < 0x80 ? 1 : hs_utf8_next(s, len, i, &cp);
        /* Valid multi-byte UTF-8: JSON carries it as it is, but for the
         * line separators (see below) and U+FFFE / U+FFFF, which XML does
         * not allow and the SVG embeds this JSON as XML text. */
        if (n > 1 && cp != 0x2028 && cp != 0x2029 && cp != 0xFFFE && cp != 0xFFFF) {
            i += n;
            continue;
        }
        hs_buf_append(out, s + start, i - start);
        if (n == 0) {
            hs_buf_puts(out, "\\ufffd");
            i++;
        } else if (c == '"' || c == '\\') {
            hs_buf_putc(out, '\\');
            hs_buf_putc(out, (char)c);
            i++;
        } else if (n == 1 && c == '\n') {
            hs_buf_puts(out, "\\n");
            i++;
        } else if (n == 1 && c == '\t') {
            hs_buf_puts(out, "\\t");
            i++;
        } else {
            /* Controls, and < > & so the JSON may sit inside an HTML
             * <script> element; U+2028/2029 for JavaScript parsers older
             * than ES2019. */
            uint32_t v = n == 1 ? c : cp;
            char esc[6] = {'\\', 'u', hex[(v >> 12) & 15], hex[(v >> 8) & 15], hex[(v >> 4) & 15],
                           hex[v & 15]};
            hs_buf_append(out, esc, sizeof esc);
            i += n;
        }
        start = i;
    }
    hs_buf_append(out, s + start, len - start);
    hs_buf_putc(out, '"');
}

void hs_render_put_xml_text(hs_buf *out, const char *s, size_t len) {
    size_t start = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '<' && c != '>' && c != '&' && c != '"' && c != '\'') {
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t n = c < 0x80 ? 1 : hs_utf8_next(s, len, i, &cp);
        if (n > 1 && cp != 0xFFFE && cp != 0xFFFF) {
            i += n;
            continue;
        }
        hs_buf_append(out, s + start, i - start);
        if (n > 1) {
            /* U+FFFE and U+FFFF are not characters XML 1.0 allows. */
            hs_buf_puts(out, replacement_char);
            i += n;
            start = i;
            continue;
        }
        switch (n == 0 ? 0 : c) {
        case 0:
            hs_buf_puts(out, replacement_char);
            break;
        case '<':
            hs_buf_puts(out, "&lt;");
            break;
        case '>':
            hs_buf_puts(out, "&gt;");
            break;
        case '&':
            hs_buf_puts(out, "&amp;");
            break;
        case '"':
            hs_buf_puts(out, "&quot;");
            break;
        case '\'':
            hs_buf_puts(out, "&#39;");
            break;
        default:
            /* XML 1.0 allows no control characters but tab, LF and CR,
             * and a name is one line: a space keeps the text readable. */
            hs_buf_putc(out, ' ');
            break;
        }
        i++;
        start = i;
    }
    hs_buf_append(out, s + start, len - start);
}
