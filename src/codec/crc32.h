/*
 * crc32.h - the CRC-32 of gzip members (RFC 1952, section 8; the same
 * CRC as ISO 3309 / ITU-T V.42 and zlib's crc32()).
 */
#ifndef HOTSCOPE_CRC32_H
#define HOTSCOPE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of `crc`'s data followed by data[0..n). Start with crc = 0:
 * hs_crc32(hs_crc32(0, a, na), b, nb) == hs_crc32(0, a+b, na+nb). */
uint32_t hs_crc32(uint32_t crc, const void *data, size_t n);

#endif
