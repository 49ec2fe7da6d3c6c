/* Digests: SHA-256 for checksums and cache keys (what a derived thing was made from), SHA-1
 * only because the kernel names a BPF program by its first 8 bytes (the program's tag). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ctr_sha256 {
        uint32_t h[8];
        uint64_t len;
        unsigned char buf[64];
        size_t n;
};

void ctr_sha256_init(struct ctr_sha256 *s);
void ctr_sha256_update(struct ctr_sha256 *s, const void *data, size_t len);
/* A string with its length in front, so ("ab","c") and ("a","bc") hash apart; NULL differs from "". */
void ctr_sha256_str(struct ctr_sha256 *s, const char *str);
void ctr_sha256_final(struct ctr_sha256 *s, unsigned char out[32]);
void ctr_sha256_final_hex(struct ctr_sha256 *s, char hex[65]);
void ctr_sha256_hex(const void *data, size_t len, char hex[65]);

void ctr_sha1(const void *data, size_t len, unsigned char out[20]);
