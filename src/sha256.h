/* sha256.h - SHA-256 (FIPS 180-4), for recording exactly which data and
 * which adapter a run used. */
#ifndef INFUSE_SHA256_H
#define INFUSE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256 {
    uint32_t h[8];
    uint8_t buf[64];
    uint64_t bytes;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t n);
/* Finishes and writes the digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(Sha256 *s, char out[65]);

#endif
