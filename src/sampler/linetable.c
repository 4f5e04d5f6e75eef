/*
 * linetable.c - from a byte offset in a code object's bytecode to the
 * source line executing there (see linetable.h).
 *
 * The sampler copies a code object's line table out of the target process
 * once, when it first meets the code object (the code cache of sampler.c),
 * and then calls hs_linetable_line() for the instruction offset of every
 * frame of every sample that misses the line cache. So this runs often and
 * on bytes that came from another process, which may have been freed,
 * reused or half-written while we read them: every byte is bounds-checked,
 * each loop consumes at least one byte per turn (so it ends), nothing is
 * allocated and no state is kept between calls.
 *
 * The formats are taken from CPython's documentation of them (no code from
 * CPython is used):
 *
 *  - 3.10, Objects/lnotab_notes.txt (3.10 branch), PEP 626: co_linetable is
 *    a sequence of 2-byte entries (bytecode delta as an unsigned byte, line
 *    delta as a signed byte). Entry i covers the byte offsets
 *    [end_{i-1}, end_{i-1} + bdelta) where end_{-1} = 0; the running line
 *    starts at co_firstlineno and each entry adds its line delta to it,
 *    except that a line delta of -128 means "no line" for that range and
 *    leaves the running line alone. Entries with a zero bytecode delta only
 *    carry line deltas (long jumps are split into several entries).
 *
 *  - 3.11, 3.12, 3.13, Objects/locations.md (InternalDocs/locations.md in
 *    later trees): a sequence of entries, each a first byte with bit 7 set,
 *    the code in bits 3-6 and (length in code units - 1) in bits 0-2,
 *    followed by bytes with bit 7 clear:
 *      15     no location: no more bytes, no line for the range
 *      14     long form: svarint line delta, varint end-line delta,
 *             varint column + 1, varint end column + 1
 *      13     no column info: svarint line delta
 *      10-12  one-line form: line delta = code - 10, then 2 bytes (columns)
 *      0-9    short form: line delta 0, then 1 byte (columns)
 *    varint: 6-bit chunks, least significant first, 0x40 = more follows;
 *    svarint: a varint whose lowest bit is the sign (1 = negative) and the
 *    rest the magnitude. Line deltas are relative to the previous entry's
 *    line (the running line starts at co_firstlineno); a no-location entry
 *    leaves it unchanged. A code unit is 2 bytes of bytecode.
 *
 * Both are linear scans from the start of the table to the entry covering
 * the offset; tables are short (about one entry per line or instruction),
 * and the result is cached by the caller.
 */
#include "linetable.h"

#include <limits.h>

/* A line beyond what a real table can produce means the table is garbage. */
#define LINE_LIMIT ((long long)INT_MAX)

/* Every line we hand back is a real line or -1. */
static int result_line(long long line) {
    if (line < 0 || line > LINE_LIMIT)
        return -1;
    return (int)line;
}

/* ---- 3.10: PEP 626 co_linetable ---------------------------------------- */

static int line_310(const uint8_t *table, size_t len, int first_line, size_t offset) {
    long long line = first_line;
    size_t end = 0;                 /* end of the range covered so far */
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned bdelta = table[i];
        int ldelta = (int)(int8_t)table[i + 1];
        int has_line = ldelta != -128;
        if (has_line) {
            line += ldelta;
            /* Each step moves by at most 128, so `line` cannot overflow;
             * leaving the int range only happens in garbage. */
            if (line < -LINE_LIMIT || line > LINE_LIMIT)
                return -1;
        }
        /* end <= offset here, so end + 255 cannot wrap. */
        end += bdelta;
        if (offset < end)
            return has_line ? result_line(line) : -1;
    }
    return -1;                      /* past the end (or a truncated table) */
}

/* ---- 3.11+: location table ---------------------------------------------- */

enum {
    LOC_SHORT_MAX = 9,      /* codes 0-9: short form */
    LOC_ONE_LINE0 = 10,     /* codes 10-12: one-line form */
    LOC_ONE_LINE2 = 12,
    LOC_NO_COLUMNS = 13,
    LOC_LONG = 14,
    LOC_NONE = 15,
};

/* CPython writes 32-bit values: at most 6 chunks of 6 bits. Anything longer
 * is garbage (and would overflow the shift). */
#define VARINT_MAX_CHUNKS 6

/* Reads an unsigned varint at table[*pos]; 0 on success, -1 when the table
 * ends inside it or it is too long. */
static int read_varint(const uint8_t *table, size_t len, size_t *pos, uint64_t *out) {
    uint64_t value = 0;
    size_t p = *pos;
    for (unsigned chunk = 0; chunk < VARINT_MAX_CHUNKS; chunk++) {
        if (p >= len)
            return -1;
        uint8_t b = table[p++];
        value |= (uint64_t)(b & 0x3F) << (6 * chunk);
        if (!(b & 0x40)) {
            *pos = p;
            *out = value;
            return 0;
        }
    }
    return -1;
}

static int read_svarint(const uint8_t *table, size_t len, size_t *pos, long long *out) {
    uint64_t u;
    if (read_varint(table, len, pos, &u) < 0)
        return -1;
    long long magnitude = (long long)(u >> 1);     /* < 2^35: fits */
    *out = (u & 1) ? -magnitude : magnitude;
    return 0;
}

static int line_311(const uint8_t *table, size_t len, int first_line, size_t offset) {
    long long line = first_line;
    size_t end = 0;                 /* end (bytes) of the range covered so far */
    size_t pos = 0;
    while (pos < len) {
        uint8_t head = table[pos++];
        if (!(head & 0x80))
            return -1;              /* not the start of an entry: garbage */
        unsigned code = (head >> 3) & 0x0F;
        size_t units = (size_t)(head & 0x07) + 1;
        long long ldelta = 0;
        int has_line = 1;
        uint64_t skip;

        if (code == LOC_NONE) {
            has_line = 0;
        } else if (code == LOC_LONG) {
            if (read_svarint(table, len, &pos, &ldelta) < 0 ||
                read_varint(table, len, &pos, &skip) < 0 ||    /* end line */
                read_varint(table, len, &pos, &skip) < 0 ||    /* column */
                read_varint(table, len, &pos, &skip) < 0)      /* end column */
                return -1;
        } else if (code == LOC_NO_COLUMNS) {
            if (read_svarint(table, len, &pos, &ldelta) < 0)
                return -1;
        } else if (code >= LOC_ONE_LINE0 && code <= LOC_ONE_LINE2) {
            ldelta = (long long)(code - LOC_ONE_LINE0);
            if (len - pos < 2)
                return -1;
            pos += 2;
        } else {                    /* code <= LOC_SHORT_MAX */
            if (len - pos < 1)
                return -1;
            pos += 1;
        }

        line += ldelta;             /* |ldelta| < 2^35: no overflow */
        if (line < -LINE_LIMIT || line > LINE_LIMIT)
            return -1;
        /* end <= offset here, so end + 16 cannot wrap. */
        end += units * 2;
        if (offset < end)
            return has_line ? result_line(line) : -1;
    }
    return -1;                      /* past the end */
}

int hs_linetable_line(hs_linetable_format format, const uint8_t *table, size_t len,
                      int first_line, size_t offset) {
    if (table == NULL || len == 0)
        return -1;
    switch (format) {
    case HS_LINETABLE_310: return line_310(table, len, first_line, offset);
    case HS_LINETABLE_311: return line_311(table, len, first_line, offset);
    }
    return -1;
}
