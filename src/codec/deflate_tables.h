/*
 * deflate_tables.h - the constants of the DEFLATE format (RFC 1951) that
 * both the compressor (deflate.c) and the decompressor (inflate.c) use.
 * Private to src/codec.
 */
#ifndef HOTSCOPE_DEFLATE_TABLES_H
#define HOTSCOPE_DEFLATE_TABLES_H

#include <stdint.h>

/* RFC 1951 3.2.5: the window is 32K; matches are 3..258 bytes long. */
#define HS_DEFLATE_WINDOW 32768
#define HS_DEFLATE_MIN_MATCH 3
#define HS_DEFLATE_MAX_MATCH 258

/* RFC 1951 3.2.5: literal/length symbols 0..285 (256 ends a block; 286 and
 * 287 take part in the fixed code but never occur), distance symbols 0..29
 * (30 and 31 likewise). */
#define HS_DEFLATE_END_OF_BLOCK 256
#define HS_DEFLATE_LITLEN_SYMBOLS 286
#define HS_DEFLATE_DIST_SYMBOLS 30
/* RFC 1951 3.2.7: code lengths 0..15 are coded by a code of 19 symbols. */
#define HS_DEFLATE_CODELEN_SYMBOLS 19
#define HS_DEFLATE_MAX_BITS 15
#define HS_DEFLATE_MAX_CODELEN_BITS 7

/* RFC 1951 3.2.5: base length and extra bits of length symbols 257..285. */
static const uint16_t hs_deflate_length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t hs_deflate_length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};

/* RFC 1951 3.2.5: base distance and extra bits of distance symbols 0..29. */
static const uint16_t hs_deflate_dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
};
static const uint8_t hs_deflate_dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};

/* RFC 1951 3.2.7: the order in which the code length code's lengths are
 * stored in a dynamic block header. */
static const uint8_t hs_deflate_codelen_order[HS_DEFLATE_CODELEN_SYMBOLS] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
};

/* RFC 1951 3.2.6: the fixed literal/length code's lengths. */
static inline unsigned hs_deflate_fixed_litlen_bits(unsigned symbol) {
    if (symbol < 144)
        return 8;
    if (symbol < 256)
        return 9;
    if (symbol < 280)
        return 7;
    return 8;
}
/* RFC 1951 3.2.6: fixed distance codes are all 5 bits. */
#define HS_DEFLATE_FIXED_DIST_BITS 5

#endif
