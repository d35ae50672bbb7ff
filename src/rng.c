/*
 * rng.c -- fast random streams for training and sampling.
 *
 * xoshiro256++ (Blackman and Vigna 2021) with its state filled by the
 * splitmix64 mixer.  A stream is keyed by a 64-bit seed, drawn from R's RNG
 * by the caller, and two further integers (for a sampler chain: its row in
 * newdata and its draw number), so that each chain's draws depend only on
 * (seed, row, draw), never on blocks or threads.  Normals by Box-Muller,
 * keeping the second value of each pair.
 */
#include <math.h>
#include "sbcg.h"

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void rng_seed(rng_state *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xD1B54A32D192ED03ULL);
    h = splitmix64(&x);
    x = h ^ (b * 0xAEF17502108EF2D9ULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

static inline uint64_t next64(rng_state *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform on the open interval (0, 1): 53 random bits, centred. */
double rng_unif(rng_state *r)
{
    return ((double) (next64(r) >> 11) + 0.5) * 0x1.0p-53;
}

double rng_norm(rng_state *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = rng_unif(r), u2 = rng_unif(r);
    double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586477 * u2;
    r->spare = rad * sin(ang);
    r->has_spare = 1;
    return rad * cos(ang);
}

/* Uniform integer in 0 .. n - 1 without modulo bias. */
uint64_t rng_bounded(rng_state *r, uint64_t n)
{
    uint64_t lim = (0 - n) % n;   /* 2^64 mod n */
    for (;;) {
        uint64_t x = next64(r);
        if (x >= lim) return x % n;
    }
}
