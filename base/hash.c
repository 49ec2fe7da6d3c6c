/* SHA-256 and SHA-1 (FIPS 180-4), small and dependency-free: checksums of exports, keys of the
 * caches of derived data, and the tag the kernel gives a BPF program. */
#include "hash.h"

#include <stdio.h>
#include <string.h>

/* --- SHA-256 -------------------------------------------------------------------------------- */

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(struct ctr_sha256 *s, const unsigned char *p)
{
        uint32_t w[64], a, b, c, d, e, f, g, h;
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void ctr_sha256_init(struct ctr_sha256 *s)
{
        static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(s->h, h0, sizeof(h0));
        s->len = 0;
        s->n = 0;
}

void ctr_sha256_update(struct ctr_sha256 *s, const void *data, size_t len)
{
        const unsigned char *p = data;
        s->len += len;
        while (len) {
                size_t k = 64 - s->n < len ? 64 - s->n : len;
                memcpy(s->buf + s->n, p, k);
                s->n += k, p += k, len -= k;
                if (s->n == 64) {
                        sha_block(s, s->buf);
                        s->n = 0;
                }
        }
}

void ctr_sha256_final(struct ctr_sha256 *s, unsigned char out[32])
{
        uint64_t bits = s->len * 8;
        unsigned char pad = 0x80, zero = 0, lenb[8];
        ctr_sha256_update(s, &pad, 1);
        while (s->n != 56)
                ctr_sha256_update(s, &zero, 1);
        for (int i = 0; i < 8; i++)
                lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
        ctr_sha256_update(s, lenb, 8);
        for (int i = 0; i < 32; i++)
                out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void ctr_sha256_final_hex(struct ctr_sha256 *s, char hex[65])
{
        unsigned char d[32];
        ctr_sha256_final(s, d);
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void ctr_sha256_str(struct ctr_sha256 *s, const char *str)
{
        uint64_t n = str ? strlen(str) : UINT64_MAX;
        ctr_sha256_update(s, &n, sizeof(n));
        if (str)
                ctr_sha256_update(s, str, (size_t)n);
}

void ctr_sha256_hex(const void *data, size_t len, char hex[65])
{
        struct ctr_sha256 s;
        ctr_sha256_init(&s);
        ctr_sha256_update(&s, data, len);
        ctr_sha256_final_hex(&s, hex);
}

/* --- SHA-1 ---------------------------------------------------------------------------------- */

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 80; i++)
                w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
                uint32_t f, k;
                if (i < 20)
                        f = (b & c) | (~b & d), k = 0x5a827999;
                else if (i < 40)
                        f = b ^ c ^ d, k = 0x6ed9eba1;
                else if (i < 60)
                        f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
                else
                        f = b ^ c ^ d, k = 0xca62c1d6;
                uint32_t t = ROL(a, 5) + f + e + k + w[i];
                e = d, d = c, c = ROL(b, 30), b = a, a = t;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void ctr_sha1(const void *data, size_t len, unsigned char out[20])
{
        uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
        const unsigned char *p = data;
        size_t left = len;
        for (; left >= 64; p += 64, left -= 64)
                sha1_block(h, p);
        /* The tail, 0x80, zeros and the length in bits: one block or two. */
        unsigned char tail[128] = {0};
        memcpy(tail, p, left);
        tail[left] = 0x80;
        size_t n = left < 56 ? 64 : 128;
        uint64_t bits = (uint64_t)len * 8;
        for (int i = 0; i < 8; i++)
                tail[n - 1 - i] = (unsigned char)(bits >> (8 * i));
        for (size_t off = 0; off < n; off += 64)
                sha1_block(h, tail + off);
        for (int i = 0; i < 20; i++)
                out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}
