/*
 * rng.c -- fast random streams for training and sampling.
 *
 * xoshiro256++ (Blackman and Vigna 2021) with its state filled by the
 * splitmix64 mixer.  A stream is keyed by a 64-bit seed, drawn from R's RNG
 * by the caller, and two further integers (for a sampler chain: its row in
 * newdata and its draw number), so that each chain's draws depend only on
 * (seed, row, draw), never on blocks or threads.
 *
 * Normals by the ziggurat method of Marsaglia and Tsang (J. Stat. Softw.
 * 2000) with 256 layers.  One 64-bit draw gives the layer (bits 0-7), the
 * sign (bit 8) and the abscissa (bits 11-63), so the fast path, taken about
 * 99% of the time, costs one draw, a multiplication and a comparison.
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

/* Ziggurat tables: layer i (1 <= i <= 255) is the rectangle of width x[i]
 * between the heights f[i] = f(x[i]) and f[i + 1], f(x) = exp(-x^2 / 2);
 * every layer, and the base strip (the rectangle [0, R] x [0, f(R)] with
 * the tail beyond R), has area V.  x[0] = V / f(R) is the base strip's
 * width as a rectangle, x[256] = 0. */
#define ZIG_R 3.6541528853610088
#define ZIG_V 4.92867323399e-3
static double zig_x[257], zig_f[257];

void rng_init(void)
{
    zig_x[0] = ZIG_V / exp(-0.5 * ZIG_R * ZIG_R);
    zig_x[1] = ZIG_R;
    for (int i = 1; i < 255; i++)
        zig_x[i + 1] = sqrt(-2.0 * log(ZIG_V / zig_x[i] +
                                        exp(-0.5 * zig_x[i] * zig_x[i])));
    zig_x[256] = 0.0;
    for (int i = 0; i <= 256; i++) zig_f[i] = exp(-0.5 * zig_x[i] * zig_x[i]);
}

double rng_norm(rng_state *r)
{
    for (;;) {
        uint64_t u = next64(r);
        int i = (int) (u & 255);
        double sign = (u & 256) ? -1.0 : 1.0;
        double x = (double) (u >> 11) * 0x1.0p-53 * zig_x[i];
        if (x < zig_x[i + 1]) return sign * x;
        if (i == 0) {
            /* the tail beyond R (Marsaglia 1964) */
            double a, b;
            do {
                a = -log(rng_unif(r)) / ZIG_R;
                b = -log(rng_unif(r));
            } while (b + b < a * a);
            return sign * (ZIG_R + a);
        }
        double y = zig_f[i] + rng_unif(r) * (zig_f[i + 1] - zig_f[i]);
        if (y < exp(-0.5 * x * x)) return sign * x;
    }
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
