/* A fast 64-bit digest (multiply-rotate over 8-byte words) for asset versions. */
#include "digest.h"

#include <stdio.h>
#include <string.h>

#define K1 0x9E3779B97F4A7C15ULL
#define K2 0xC2B2AE3D27D4EB4FULL

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t mix(uint64_t h, uint64_t w) {
    h ^= rotl(w * K2, 31) * K1;
    return rotl(h, 27) * K1 + K2;
}

uint64_t digest_bytes(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix(h, w);
    }
    uint64_t tail = 0;
    for (size_t j = 0; i + j < len; j++) tail |= (uint64_t)p[i + j] << (8 * j);
    h = mix(h, tail);
    h = mix(h, (uint64_t)len); /* "ab"+"c" and "a"+"bc" differ */
    h ^= h >> 33;
    return h * K2;
}

uint64_t digest_string(uint64_t h, const RedisModuleString *s) {
    if (s == NULL) return digest_bytes(h, "\xff<none>", 7);
    size_t len;
    const char *text = RedisModule_StringPtrLen(s, &len);
    return digest_bytes(h, text, len);
}

uint64_t digest_number(uint64_t h, long long n) { return digest_bytes(h, &n, sizeof n); }

void digest_format(uint64_t h, char out[VERSION_LEN + 1]) {
    snprintf(out, VERSION_LEN + 1, "%016llx", (unsigned long long)h);
}
