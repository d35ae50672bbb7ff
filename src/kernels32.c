/*
 * kernels32.c -- the network's kernels in single precision: the sampler's
 * forward pass (the layer-0 update from cached parts, the dense layers)
 * and training's forward and backward passes (the dense layer with the
 * activation's derivative, the weight gradient, the back-propagated
 * gradient), in a portable version, an AVX2 + FMA version and, for the
 * CPUs that have it, an AVX-512F version with the AVX2 version's results
 * to the bit, chosen at run time as in kernels.c.
 *
 * In float an AVX2 register holds eight rows instead of four and the SiLU
 * needs a shorter polynomial: a chain-step takes about half the time, an
 * optimiser step about 60%.  Only the network's
 * evaluations are rounded to float: the chains (state, step coefficients,
 * normal deviates), the weights, the optimiser's moments, the losses and
 * the sums of the weight gradient over chunks stay in double.  The drift
 * and the gradient then carry relative errors of about 1e-7, far below
 * the Monte Carlo error of any draw and the noise of a minibatch.
 *
 * Layout as in kernels.c: a batch through a layer of width H is an
 * ld x H column-major matrix of floats, ld a multiple of KERN_PAD = 8, and
 * every row goes through the same operations wherever it sits in the
 * batch (each accumulator starts at the bias, or at the cached parts, and
 * takes the inputs in order), so a row's result does not depend on the
 * block it is in or the number of threads.
 *
 * exp() for the SiLU: reduction by ln 2 (Cody-Waite, two parts),
 * degree-7 Taylor polynomial on [-ln 2 / 2, ln 2 / 2] (truncation error
 * below 6e-9 relative), 2^n built in the exponent bits; the argument is
 * clamped to [-87, 87], where float neither overflows nor leaves the
 * normal range.  A NaN input gives a NaN output through x in x / (1 + e).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "sbcg.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(SBCG_NO_SIMD)
# define SBCG_X86 1
# include <immintrin.h>
#endif

#define EXPF_LO (-87.0f)
#define EXPF_HI 87.0f
#define LOG2EF 1.44269504088896341f
#define LN2HI_F 0.693359375f
#define LN2LO_F (-2.12194440e-4f)
/* 1 / k!, k = 2..7 */
#define EC2 0.5f
#define EC3 1.66666666666666667e-1f
#define EC4 4.16666666666666667e-2f
#define EC5 8.33333333333333333e-3f
#define EC6 1.38888888888888889e-3f
#define EC7 1.98412698412698413e-4f

/* ------------------------------------------------------------------ */
/* portable versions                                                   */

/* Declares t = y log2(e) + magic (rounding n = y log2(e) into its low
 * bits) and p, the polynomial of exp(r), r = y - n ln 2, for y of type T:
 * float in expf_portable(), 4 floats in v4f_expneg(), the same operations for
 * both; p7 is EC7 as a T. */
#define EXPF_POLY(T, y, magic, p7, t, p) \
    T t = (y) * LOG2EF + (magic), p = (p7); \
    do { \
        T n_ = t - (magic), r_ = (y) - n_ * LN2HI_F; \
        r_ = r_ - n_ * LN2LO_F; \
        p = p * r_ + EC6; \
        p = p * r_ + EC5; \
        p = p * r_ + EC4; \
        p = p * r_ + EC3; \
        p = p * r_ + EC2; \
        p = p * r_ + 1.0f; \
        p = p * r_ + 1.0f; \
    } while (0)

/* exp(y) for y in [EXPF_LO, EXPF_HI], written (as exp_portable() in
 * kernels.c) so that gcc vectorises loops over it at -O2: rounding by the
 * magic number 1.5 * 2^23, whose low mantissa bits then hold n + 2^22. */
static inline float expf_portable(float y)
{
    const float magic = 12582912.0f;
    EXPF_POLY(float, y, magic, EC7, t, p);
    uint32_t k, mk;
    memcpy(&k, &t, sizeof k);
    memcpy(&mk, &magic, sizeof mk);
    uint32_t e = (k - mk + 127u) << 23;
    float sc;
    memcpy(&sc, &e, sizeof sc);
    return p * sc;
}

static inline float expf_arg(float y)
{
    y = y < EXPF_LO ? EXPF_LO : y;
    return y > EXPF_HI ? EXPF_HI : y;
}

/* A 4-wide vector of floats, as v2 in kernels.c: gcc's and clang's vector
 * extension (SSE on x86-64, NEON on arm64, at R's default flags), or a
 * plain struct elsewhere. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(SBCG_PLAIN_V2)
typedef float v4f __attribute__((vector_size(16)));
static inline v4f v4f_load(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v4f_store(float *p, v4f v)
{
    memcpy(p, &v, sizeof v);
}
static inline v4f v4f_set(float x)
{
    return (v4f) {x, x, x, x};
}
static inline v4f v4f_madd(v4f a, v4f x, v4f w)  /* a + x w */
{
    return a + x * w;
}
static inline v4f v4f_mul(v4f x, v4f w)
{
    return x * w;
}
static inline v4f v4f_add(v4f x, v4f w)
{
    return x + w;
}
static inline double v4f_sum(v4f v)  /* (v0 + v1) + (v2 + v3), in float */
{
    return (double) ((v[0] + v[1]) + (v[2] + v[3]));
}
#else
typedef struct {
    float e[4];
} v4f;
static inline v4f v4f_load(const float *p)
{
    v4f v = {{p[0], p[1], p[2], p[3]}};
    return v;
}
static inline void v4f_store(float *p, v4f v)
{
    for (int i = 0; i < 4; i++) p[i] = v.e[i];
}
static inline v4f v4f_set(float x)
{
    v4f v = {{x, x, x, x}};
    return v;
}
static inline v4f v4f_madd(v4f a, v4f x, v4f w)
{
    v4f v;
    for (int i = 0; i < 4; i++) v.e[i] = a.e[i] + x.e[i] * w.e[i];
    return v;
}
static inline v4f v4f_mul(v4f x, v4f w)
{
    v4f v;
    for (int i = 0; i < 4; i++) v.e[i] = x.e[i] * w.e[i];
    return v;
}
static inline v4f v4f_add(v4f x, v4f w)
{
    v4f v;
    for (int i = 0; i < 4; i++) v.e[i] = x.e[i] + w.e[i];
    return v;
}
static inline double v4f_sum(v4f v)
{
    return (double) ((v.e[0] + v.e[1]) + (v.e[2] + v.e[3]));
}
#endif

/* exp(-x) of 4 floats, the argument clamped to [EXPF_LO, EXPF_HI] first:
 * the operations, in the same order, of expf_portable(expf_arg(-x)).  On
 * x86-64 the clamp is SSE's minps and maxps (the same values: a NaN
 * argument gives EXPF_LO there, and the SiLU still NaN through x); gcc
 * compiles expf_arg()'s comparisons to a dozen mask operations instead. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(SBCG_PLAIN_V2)
typedef uint32_t v4u __attribute__((vector_size(16)));
static inline v4f v4f_clamp(v4f y, float lo, float hi)
{
# if defined(SBCG_X86) && defined(__SSE__)
    return (v4f) _mm_min_ps(_mm_max_ps((__m128) y, _mm_set1_ps(lo)), _mm_set1_ps(hi));
# else
    const v4f l = v4f_set(lo), h = v4f_set(hi);
    v4u below = (v4u) (y < l), above = (v4u) (y > h);  /* m ? a : b, lane by lane */
    y = (v4f) (((v4u) l & below) | ((v4u) y & ~below));
    return (v4f) (((v4u) h & above) | ((v4u) y & ~above));
# endif
}
static inline v4f v4f_expneg(v4f x)
{
    const v4f magic = v4f_set(12582912.0f);
    v4f y = v4f_clamp(-x, EXPF_LO, EXPF_HI);
    EXPF_POLY(v4f, y, magic, v4f_set(EC7), t, p);
    v4u e = ((v4u) t - (v4u) magic + 127u) << 23;
    return p * (v4f) e;
}
/* SiLU x s(x) with the logistic s = 1 / (1 + exp(-x)) */
static inline v4f v4f_silu(v4f x)
{
    return x / (1.0f + v4f_expneg(x));
}
/* the SiLU, and its derivative s (1 + x (1 - s)) into *dv */
static inline v4f v4f_silu_deriv(v4f x, v4f *dv)
{
    v4f sg = 1.0f / (1.0f + v4f_expneg(x));
    *dv = sg * (1.0f + x * (1.0f - sg));
    return x * sg;
}
#else
static inline v4f v4f_silu(v4f x)
{
    for (int i = 0; i < 4; i++)
        x.e[i] = x.e[i] / (1.0f + expf_portable(expf_arg(-x.e[i])));
    return x;
}
static inline v4f v4f_silu_deriv(v4f x, v4f *dv)
{
    for (int i = 0; i < 4; i++) {
        float sg = 1.0f / (1.0f + expf_portable(expf_arg(-x.e[i])));
        dv->e[i] = sg * (1.0f + x.e[i] * (1.0f - sg));
        x.e[i] *= sg;
    }
    return x;
}
#endif

/* The activation in place over len values (a multiple of KERN_PAD). */
static void act_inplace_f(int act, size_t len, float *a)
{
    switch (act) {
    case NN_SILU:
        for (size_t i = 0; i < len; i += 4) v4f_store(a + i, v4f_silu(v4f_load(a + i)));
        break;
    case NN_RELU:  /* in blocks of KERN_PAD, which gcc vectorises at -O2 */
        for (size_t i = 0; i < len; i += KERN_PAD)
            for (int r = 0; r < KERN_PAD; r++) a[i + r] = a[i + r] > 0.0f ? a[i + r] : 0.0f;
        break;
    default:
        for (size_t i = 0; i < len; i++) a[i] = tanhf(a[i]);
    }
}

/* Stores v at p, through the SiLU when silu is set. */
static inline void v4f_store_act(float *p, v4f v, int silu)
{
    v4f_store(p, silu ? v4f_silu(v) : v);
}

/* out (ld x nout) = act(in (ld x nin) . W^T + b); tiles of 8 rows x 4
 * units, each accumulator starting at the bias and taking the inputs in
 * order.  The SiLU is applied to the tiles before they are stored, which
 * saves a pass over out (often beyond L1); ReLU and tanh after. */
static void dense_f_portable(int ld, int nin, int nout, const float *in,
                             const float *W, const float *b, float *out, int act)
{
    int silu = act == NN_SILU, o = 0;
    for (; o + 4 <= nout; o += 4) {
        const v4f b0 = v4f_set(b[o]), b1 = v4f_set(b[o + 1]),
            b2 = v4f_set(b[o + 2]), b3 = v4f_set(b[o + 3]);
        for (int c = 0; c < ld; c += 8) {
            v4f a0 = b0, a1 = b1, a2 = b2, a3 = b3, e0 = b0, e1 = b1, e2 = b2, e3 = b3;
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                v4f xa = v4f_load(x), xb = v4f_load(x + 4);
                v4f w0 = v4f_set(w[0]), w1 = v4f_set(w[1]), w2 = v4f_set(w[2]),
                    w3 = v4f_set(w[3]);
                a0 = v4f_madd(a0, xa, w0);
                e0 = v4f_madd(e0, xb, w0);
                a1 = v4f_madd(a1, xa, w1);
                e1 = v4f_madd(e1, xb, w1);
                a2 = v4f_madd(a2, xa, w2);
                e2 = v4f_madd(e2, xb, w2);
                a3 = v4f_madd(a3, xa, w3);
                e3 = v4f_madd(e3, xb, w3);
            }
            float *y = out + c + (size_t) ld * o;
            v4f_store_act(y, a0, silu);
            v4f_store_act(y + 4, e0, silu);
            y += ld;
            v4f_store_act(y, a1, silu);
            v4f_store_act(y + 4, e1, silu);
            y += ld;
            v4f_store_act(y, a2, silu);
            v4f_store_act(y + 4, e2, silu);
            y += ld;
            v4f_store_act(y, a3, silu);
            v4f_store_act(y + 4, e3, silu);
        }
    }
    for (; o < nout; o++) {
        const v4f b0 = v4f_set(b[o]);
        for (int c = 0; c < ld; c += 8) {
            v4f a0 = b0, e0 = b0;
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                v4f w0 = v4f_set(w[0]);
                a0 = v4f_madd(a0, v4f_load(x), w0);
                e0 = v4f_madd(e0, v4f_load(x + 4), w0);
            }
            float *y = out + c + (size_t) ld * o;
            v4f_store_act(y, a0, silu);
            v4f_store_act(y + 4, e0, silu);
        }
    }
    if (act >= 0 && !silu) act_inplace_f(act, (size_t) ld * nout, out);
}

static void layer0_f_portable(int ld, int d, int H1, const float *z,
                              const float *cx, const float *ct,
                              const float *W0, float *out, int act)
{
    for (int o = 0; o < H1; o++) {
        const v4f cto = v4f_set(ct[o]), one = v4f_set(1.0f);
        const float *cxo = cx + (size_t) o * ld;
        float *y = out + (size_t) o * ld;
        for (int c = 0; c < ld; c += 8) {
            v4f a0 = v4f_madd(cto, v4f_load(cxo + c), one),
                e0 = v4f_madd(cto, v4f_load(cxo + c + 4), one);
            for (int k = 0; k < d; k++) {
                v4f w = v4f_set(W0[o + (size_t) H1 * k]);
                const float *zk = z + c + (size_t) k * ld;
                a0 = v4f_madd(a0, w, v4f_load(zk));
                e0 = v4f_madd(e0, w, v4f_load(zk + 4));
            }
            v4f_store_act(y + c, a0, act == NN_SILU);
            v4f_store_act(y + c + 4, e0, act == NN_SILU);
        }
    }
    if (act != NN_SILU) act_inplace_f(act, (size_t) ld * H1, out);
}

/* h = act(h), dv = act'(h) in place over len pre-activations (a multiple
 * of KERN_PAD): for SiLU h = x s and h' = s (1 + x (1 - s)) with the
 * logistic s; for tanh h' = 1 - h^2. */
static void act_deriv_f_portable(int act, size_t len, float *restrict h,
                                 float *restrict dv)
{
    switch (act) {
    case NN_SILU:
        for (size_t i = 0; i < len; i += 4) {
            v4f d;
            v4f_store(h + i, v4f_silu_deriv(v4f_load(h + i), &d));
            v4f_store(dv + i, d);
        }
        break;
    case NN_RELU:
        for (size_t i = 0; i < len; i += KERN_PAD)
            for (int r = 0; r < KERN_PAD; r++) {
                float x = h[i + r];
                dv[i + r] = x > 0.0f ? 1.0f : 0.0f;
                h[i + r] = x > 0.0f ? x : 0.0f;
            }
        break;
    default:
        for (size_t i = 0; i < len; i++) {
            float y = tanhf(h[i]);
            h[i] = y;
            dv[i] = 1.0f - y * y;
        }
    }
}

/* gW (nout x nin, double) += G^T H and gb += column sums of G, with G
 * (ld x nout) and H (ld x nin) in float: each sum over the ld rows of a
 * chunk in float, then added in double.  Tiles of 2 outputs x 4 inputs,
 * 8 accumulators over the rows, as in the AVX2 kernel. */
static void grad_w_f_portable(int ld, int nin, int nout, const float *G,
                              const float *H, double *gW, double *gb)
{
    for (int o = 0; o < nout; o++) {
        const float *g = G + (size_t) o * ld;
        v4f a = v4f_set(0.0f), e = a;
        for (int c = 0; c < ld; c += 8) {
            a = v4f_add(a, v4f_load(g + c));
            e = v4f_add(e, v4f_load(g + c + 4));
        }
        gb[o] += v4f_sum(v4f_add(a, e));
    }
    int o = 0;
    for (; o + 2 <= nout; o += 2) {
        const float *g0 = G + (size_t) o * ld, *g1 = g0 + ld;
        int i = 0;
        for (; i + 4 <= nin; i += 4) {
            const float *h0 = H + (size_t) i * ld, *h1 = h0 + ld, *h2 = h1 + ld,
                *h3 = h2 + ld;
            v4f a00 = v4f_set(0.0f), a01 = a00, a02 = a00, a03 = a00,
                a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int c = 0; c < ld; c += 4) {
                v4f u = v4f_load(g0 + c), v = v4f_load(g1 + c);
                v4f x0 = v4f_load(h0 + c), x1 = v4f_load(h1 + c),
                    x2 = v4f_load(h2 + c), x3 = v4f_load(h3 + c);
                a00 = v4f_madd(a00, u, x0);
                a01 = v4f_madd(a01, u, x1);
                a02 = v4f_madd(a02, u, x2);
                a03 = v4f_madd(a03, u, x3);
                a10 = v4f_madd(a10, v, x0);
                a11 = v4f_madd(a11, v, x1);
                a12 = v4f_madd(a12, v, x2);
                a13 = v4f_madd(a13, v, x3);
            }
            double *w = gW + o + (size_t) nout * i;
            w[0] += v4f_sum(a00);
            w[1] += v4f_sum(a10);
            w += nout;
            w[0] += v4f_sum(a01);
            w[1] += v4f_sum(a11);
            w += nout;
            w[0] += v4f_sum(a02);
            w[1] += v4f_sum(a12);
            w += nout;
            w[0] += v4f_sum(a03);
            w[1] += v4f_sum(a13);
        }
        for (; i < nin; i++) {
            const float *h0 = H + (size_t) i * ld;
            v4f a0 = v4f_set(0.0f), a1 = a0;
            for (int c = 0; c < ld; c += 4) {
                v4f x0 = v4f_load(h0 + c);
                a0 = v4f_madd(a0, v4f_load(g0 + c), x0);
                a1 = v4f_madd(a1, v4f_load(g1 + c), x0);
            }
            gW[o + (size_t) nout * i] += v4f_sum(a0);
            gW[o + 1 + (size_t) nout * i] += v4f_sum(a1);
        }
    }
    for (; o < nout; o++) {
        const float *g0 = G + (size_t) o * ld;
        for (int i = 0; i < nin; i++) {
            const float *h0 = H + (size_t) i * ld;
            v4f a0 = v4f_set(0.0f), a1 = a0;
            for (int c = 0; c < ld; c += 8) {
                a0 = v4f_madd(a0, v4f_load(g0 + c), v4f_load(h0 + c));
                a1 = v4f_madd(a1, v4f_load(g0 + c + 4), v4f_load(h0 + c + 4));
            }
            gW[o + (size_t) nout * i] += v4f_sum(v4f_add(a0, a1));
        }
    }
}

/* Gn (ld x nin) = (G (ld x nout) . W (nout x nin)) * dv, in float; tiles of
 * 8 rows x 4 inputs. */
static void back_h_f_portable(int ld, int nin, int nout, const float *G,
                              const float *W, const float *dv, float *Gn)
{
    int i = 0;
    for (; i + 4 <= nin; i += 4) {
        const float *w0 = W + (size_t) nout * i, *w1 = w0 + nout, *w2 = w1 + nout,
            *w3 = w2 + nout;
        for (int c = 0; c < ld; c += 8) {
            v4f z = v4f_set(0.0f);
            v4f a0 = z, a1 = z, a2 = z, a3 = z, e0 = z, e1 = z, e2 = z, e3 = z;
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                v4f ga = v4f_load(g), gb = v4f_load(g + 4);
                v4f v0 = v4f_set(w0[o]), v1 = v4f_set(w1[o]), v2 = v4f_set(w2[o]),
                    v3 = v4f_set(w3[o]);
                a0 = v4f_madd(a0, ga, v0);
                e0 = v4f_madd(e0, gb, v0);
                a1 = v4f_madd(a1, ga, v1);
                e1 = v4f_madd(e1, gb, v1);
                a2 = v4f_madd(a2, ga, v2);
                e2 = v4f_madd(e2, gb, v2);
                a3 = v4f_madd(a3, ga, v3);
                e3 = v4f_madd(e3, gb, v3);
            }
            size_t m = c + (size_t) ld * i;
            v4f_store(Gn + m, v4f_mul(a0, v4f_load(dv + m)));
            v4f_store(Gn + m + 4, v4f_mul(e0, v4f_load(dv + m + 4)));
            m += ld;
            v4f_store(Gn + m, v4f_mul(a1, v4f_load(dv + m)));
            v4f_store(Gn + m + 4, v4f_mul(e1, v4f_load(dv + m + 4)));
            m += ld;
            v4f_store(Gn + m, v4f_mul(a2, v4f_load(dv + m)));
            v4f_store(Gn + m + 4, v4f_mul(e2, v4f_load(dv + m + 4)));
            m += ld;
            v4f_store(Gn + m, v4f_mul(a3, v4f_load(dv + m)));
            v4f_store(Gn + m + 4, v4f_mul(e3, v4f_load(dv + m + 4)));
        }
    }
    for (; i < nin; i++) {
        const float *w0 = W + (size_t) nout * i;
        for (int c = 0; c < ld; c += 8) {
            v4f z = v4f_set(0.0f), a0 = z, e0 = z;
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                v4f v0 = v4f_set(w0[o]);
                a0 = v4f_madd(a0, v4f_load(g), v0);
                e0 = v4f_madd(e0, v4f_load(g + 4), v0);
            }
            size_t m = c + (size_t) ld * i;
            v4f_store(Gn + m, v4f_mul(a0, v4f_load(dv + m)));
            v4f_store(Gn + m + 4, v4f_mul(e0, v4f_load(dv + m + 4)));
        }
    }
}

/* ------------------------------------------------------------------ */
/* AVX2 + FMA versions                                                 */

#ifdef SBCG_X86
# define AVX2 __attribute__((target("avx2,fma")))

static inline AVX2 __m256 expf_avx2(__m256 y)
{
    y = _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(EXPF_LO)),
                      _mm256_set1_ps(EXPF_HI));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(LOG2EF)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2HI_F), y);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2LO_F), r);
    __m256 p = _mm256_set1_ps(EC7);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EC6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EC5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EC4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EC3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EC2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n),
                                                   _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline AVX2 __m256 act_f_avx2(int act, __m256 x)
{
    if (act == NN_SILU) {
        __m256 ex = expf_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x));
        return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), ex));
    }
    if (act == NN_RELU) return _mm256_max_ps(_mm256_setzero_ps(), x);
    return x;  /* linear; tanh is applied after the layer */
}

/* One tile of dense_f_avx2(): rows c..c+7 of units o..o+7. */
static inline AVX2 void dense_tile8x8_f_avx2(int ld, int nin, int nout, int c, int o,
                                             const float *in, const float *W,
                                             const float *b, float *out, int act)
{
    const float *bo = b + o;
    __m256 a0 = _mm256_broadcast_ss(bo), a1 = _mm256_broadcast_ss(bo + 1),
        a2 = _mm256_broadcast_ss(bo + 2), a3 = _mm256_broadcast_ss(bo + 3),
        a4 = _mm256_broadcast_ss(bo + 4), a5 = _mm256_broadcast_ss(bo + 5),
        a6 = _mm256_broadcast_ss(bo + 6), a7 = _mm256_broadcast_ss(bo + 7);
    const float *x = in + c, *w = W + o;
    for (int i = 0; i < nin; i++, x += ld, w += nout) {
        __m256 xv = _mm256_loadu_ps(x);
        a0 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w), a0);
        a1 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 1), a1);
        a2 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 2), a2);
        a3 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 3), a3);
        a4 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 4), a4);
        a5 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 5), a5);
        a6 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 6), a6);
        a7 = _mm256_fmadd_ps(xv, _mm256_broadcast_ss(w + 7), a7);
    }
    float *y = out + c + (size_t) ld * o;
    _mm256_storeu_ps(y, act_f_avx2(act, a0));
    _mm256_storeu_ps(y + (size_t) ld, act_f_avx2(act, a1));
    _mm256_storeu_ps(y + 2 * (size_t) ld, act_f_avx2(act, a2));
    _mm256_storeu_ps(y + 3 * (size_t) ld, act_f_avx2(act, a3));
    _mm256_storeu_ps(y + 4 * (size_t) ld, act_f_avx2(act, a4));
    _mm256_storeu_ps(y + 5 * (size_t) ld, act_f_avx2(act, a5));
    _mm256_storeu_ps(y + 6 * (size_t) ld, act_f_avx2(act, a6));
    _mm256_storeu_ps(y + 7 * (size_t) ld, act_f_avx2(act, a7));
}

/* One tile of dense_f_avx2(): rows c..c+7 of unit o. */
static inline AVX2 void dense_tile8x1_f_avx2(int ld, int nin, int nout, int c, int o,
                                             const float *in, const float *W,
                                             const float *b, float *out, int act)
{
    __m256 a0 = _mm256_broadcast_ss(b + o);
    const float *x = in + c, *w = W + o;
    for (int i = 0; i < nin; i++, x += ld, w += nout)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x), _mm256_broadcast_ss(w), a0);
    _mm256_storeu_ps(out + c + (size_t) ld * o, act_f_avx2(act, a0));
}

/*
 * out (ld x nout) = act(in (ld x nin) . W^T + b), ld a multiple of 8.
 * Tiles of 16 rows x 4 units: 8 accumulators fed by 2 loads and 4
 * broadcasts per 8 multiply-adds (tiles of 8 rows x 8 units need 9, more
 * than the two load ports give in the 4 cycles of their multiply-adds).
 * When ld is not a multiple of 16, its last 8 rows in tiles of 8 rows x 8
 * units; units beyond a multiple of 4 one at a time.  Every output is its
 * bias plus the products in the order of the inputs, whatever its tile.
 */
static AVX2 void dense_f_avx2(int ld, int nin, int nout, const float *in,
                              const float *W, const float *b, float *out, int act)
{
    int n4 = nout / 4 * 4, ld16 = ld / 16 * 16;
    for (int o = 0; o < n4; o += 4) {
        const float *bo = b + o;
        for (int c = 0; c < ld16; c += 16) {
            __m256 a0 = _mm256_broadcast_ss(bo), a1 = _mm256_broadcast_ss(bo + 1),
                a2 = _mm256_broadcast_ss(bo + 2), a3 = _mm256_broadcast_ss(bo + 3);
            __m256 e0 = a0, e1 = a1, e2 = a2, e3 = a3;
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m256 xv = _mm256_loadu_ps(x), xu = _mm256_loadu_ps(x + 8);
                __m256 w0 = _mm256_broadcast_ss(w), w1 = _mm256_broadcast_ss(w + 1);
                a0 = _mm256_fmadd_ps(xv, w0, a0);
                e0 = _mm256_fmadd_ps(xu, w0, e0);
                a1 = _mm256_fmadd_ps(xv, w1, a1);
                e1 = _mm256_fmadd_ps(xu, w1, e1);
                __m256 w2 = _mm256_broadcast_ss(w + 2), w3 = _mm256_broadcast_ss(w + 3);
                a2 = _mm256_fmadd_ps(xv, w2, a2);
                e2 = _mm256_fmadd_ps(xu, w2, e2);
                a3 = _mm256_fmadd_ps(xv, w3, a3);
                e3 = _mm256_fmadd_ps(xu, w3, e3);
            }
            float *y = out + c + (size_t) ld * o;
            _mm256_storeu_ps(y, act_f_avx2(act, a0));
            _mm256_storeu_ps(y + 8, act_f_avx2(act, e0));
            _mm256_storeu_ps(y + (size_t) ld, act_f_avx2(act, a1));
            _mm256_storeu_ps(y + (size_t) ld + 8, act_f_avx2(act, e1));
            _mm256_storeu_ps(y + 2 * (size_t) ld, act_f_avx2(act, a2));
            _mm256_storeu_ps(y + 2 * (size_t) ld + 8, act_f_avx2(act, e2));
            _mm256_storeu_ps(y + 3 * (size_t) ld, act_f_avx2(act, a3));
            _mm256_storeu_ps(y + 3 * (size_t) ld + 8, act_f_avx2(act, e3));
        }
    }
    if (ld16 < ld) {
        int o = 0;
        for (; o + 8 <= n4; o += 8)
            dense_tile8x8_f_avx2(ld, nin, nout, ld16, o, in, W, b, out, act);
        for (; o < n4; o++)
            dense_tile8x1_f_avx2(ld, nin, nout, ld16, o, in, W, b, out, act);
    }
    for (int o = n4; o < nout; o++) {
        /* four row blocks at once: one unit's sums are chains of
         * dependent multiply-adds, four chains keep the units busy */
        int c = 0;
        for (; c + 32 <= ld; c += 32) {
            __m256 a0 = _mm256_broadcast_ss(b + o), a1 = a0, a2 = a0, a3 = a0;
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m256 wv = _mm256_broadcast_ss(w);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x), wv, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8), wv, a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 16), wv, a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 24), wv, a3);
            }
            float *y = out + c + (size_t) ld * o;
            _mm256_storeu_ps(y, act_f_avx2(act, a0));
            _mm256_storeu_ps(y + 8, act_f_avx2(act, a1));
            _mm256_storeu_ps(y + 16, act_f_avx2(act, a2));
            _mm256_storeu_ps(y + 24, act_f_avx2(act, a3));
        }
        for (; c < ld; c += 8)
            dense_tile8x1_f_avx2(ld, nin, nout, c, o, in, W, b, out, act);
    }
    if (act == NN_TANH) act_inplace_f(act, (size_t) ld * nout, out);
}

static AVX2 void layer0_f_avx2(int ld, int d, int H1, const float *z,
                               const float *cx, const float *ct,
                               const float *W0, float *out, int act)
{
    for (int o = 0; o < H1; o++) {
        const __m256 cto = _mm256_broadcast_ss(ct + o);
        const float *cxo = cx + (size_t) o * ld;
        float *y = out + (size_t) o * ld;
        for (int c = 0; c < ld; c += 8) {
            __m256 a = _mm256_add_ps(_mm256_loadu_ps(cxo + c), cto);
            for (int k = 0; k < d; k++)
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(W0 + o + (size_t) H1 * k),
                                    _mm256_loadu_ps(z + c + (size_t) k * ld), a);
            _mm256_storeu_ps(y + c, act_f_avx2(act, a));
        }
    }
    if (act == NN_TANH) act_inplace_f(act, (size_t) ld * H1, out);
}

/* Training forward layer: h = act(in . W^T + b), dv = act'(...). */
static AVX2 void dense_deriv_f_avx2(int ld, int nin, int nout, const float *in,
                                    const float *W, const float *b, float *h,
                                    float *dv, int act)
{
    dense_f_avx2(ld, nin, nout, in, W, b, h, -1);
    size_t len = (size_t) ld * nout;
    if (act != NN_SILU) {
        act_deriv_f_portable(act, len, h, dv);
        return;
    }
    const __m256 one = _mm256_set1_ps(1.0f);
    for (size_t i = 0; i < len; i += 8) {
        __m256 x = _mm256_loadu_ps(h + i);
        __m256 ex = expf_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x));
        __m256 sg = _mm256_div_ps(one, _mm256_add_ps(one, ex));
        _mm256_storeu_ps(h + i, _mm256_mul_ps(x, sg));
        _mm256_storeu_ps(dv + i, _mm256_mul_ps(sg, _mm256_fmadd_ps(x, _mm256_sub_ps(one, sg), one)));
    }
}

static inline AVX2 double hsum_f_avx2(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);                      /* 4 */
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));             /* 2 */
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));         /* 1 */
    return (double) _mm_cvtss_f32(s);
}

/* The sums of four 8-lane accumulators, each ((v0 + v1) + (v2 + v3)) +
 * ((v4 + v5) + (v6 + v7)) in float, by pairwise horizontal adds. */
static inline AVX2 __m128 tree4_f_avx2(__m256 a, __m256 b, __m256 c, __m256 d)
{
    __m256 k = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(k), _mm256_extractf128_ps(k, 1));
}

/* Keeps v in a register: without it gcc folds the load of a vector used by
 * several multiply-adds into each of them, and the loads, not the
 * multiply-adds, then set the pace. */
#define IN_REG(v) __asm__("" : "+x"(v))

/* a += u x, b += v x, c += z x for the 8 floats x at h. */
static inline AVX2 void fma3_f_avx2(__m256 u, __m256 v, __m256 z, const float *h,
                                    __m256 *a, __m256 *b, __m256 *c)
{
    __m256 x = _mm256_loadu_ps(h);
    IN_REG(x);
    *a = _mm256_fmadd_ps(u, x, *a);
    *b = _mm256_fmadd_ps(v, x, *b);
    *c = _mm256_fmadd_ps(z, x, *c);
}

/* a[k] = the 8 lane sums over the ld rows of g times column k of the
 * 4 columns (ld apart) at h, each in row order from zero. */
static inline AVX2 void dots4_f_avx2(int ld, const float *g, const float *h, __m256 *a)
{
    const float *h1 = h + ld, *h2 = h1 + ld, *h3 = h2 + ld;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int c = 0; c < ld; c += 8) {
        __m256 u = _mm256_loadu_ps(g + c);
        a0 = _mm256_fmadd_ps(u, _mm256_loadu_ps(h + c), a0);
        a1 = _mm256_fmadd_ps(u, _mm256_loadu_ps(h1 + c), a1);
        a2 = _mm256_fmadd_ps(u, _mm256_loadu_ps(h2 + c), a2);
        a3 = _mm256_fmadd_ps(u, _mm256_loadu_ps(h3 + c), a3);
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* gb += the column sums of G (ld x nout), each by hsum_f_avx2(). */
static AVX2 void grad_b_f_avx2(int ld, int nout, const float *G, double *gb)
{
    for (int o = 0; o < nout; o++) {
        const float *g = G + (size_t) o * ld;
        __m256 a = _mm256_setzero_ps();
        for (int c = 0; c < ld; c += 8) a = _mm256_add_ps(a, _mm256_loadu_ps(g + c));
        gb[o] += hsum_f_avx2(a);
    }
}

/* The sums of grad_w_f_avx2() over outputs o .. nout2 - 1 (nout2 even)
 * and inputs 0 .. nin4 - 1 (a multiple of 4): tiles of 3 outputs x 4
 * inputs, then the one or two outputs left, each sum reduced by
 * tree4_f_avx2(). */
static AVX2 void grad_w_tiles_f_avx2(int ld, int nin4, int nout, int nout2, int o,
                                     const float *G, const float *H, double *gW)
{
    for (; o + 3 <= nout2; o += 3) {
        const float *g0 = G + (size_t) o * ld, *g1 = g0 + ld, *g2 = g1 + ld;
        for (int i = 0; i < nin4; i += 4) {
            const float *h0 = H + (size_t) i * ld, *h1 = h0 + ld, *h2 = h1 + ld,
                *h3 = h2 + ld;
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00,
                a10 = a00, a11 = a00, a12 = a00, a13 = a00,
                a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            for (int c = 0; c < ld; c += 8) {
                __m256 u = _mm256_loadu_ps(g0 + c), v = _mm256_loadu_ps(g1 + c),
                    z = _mm256_loadu_ps(g2 + c);
                IN_REG(u);
                IN_REG(v);
                IN_REG(z);
                fma3_f_avx2(u, v, z, h0 + c, &a00, &a10, &a20);
                fma3_f_avx2(u, v, z, h1 + c, &a01, &a11, &a21);
                fma3_f_avx2(u, v, z, h2 + c, &a02, &a12, &a22);
                fma3_f_avx2(u, v, z, h3 + c, &a03, &a13, &a23);
            }
            /* s[3 k + r]: output o + r, input i + k */
            double s[12];
            _mm256_storeu_pd(s, _mm256_cvtps_pd(tree4_f_avx2(a00, a10, a20, a01)));
            _mm256_storeu_pd(s + 4, _mm256_cvtps_pd(tree4_f_avx2(a11, a21, a02, a12)));
            _mm256_storeu_pd(s + 8, _mm256_cvtps_pd(tree4_f_avx2(a22, a03, a13, a23)));
            double *w = gW + o + (size_t) nout * i;
            for (int k = 0; k < 4; k++, w += nout) {
                w[0] += s[3 * k];
                w[1] += s[3 * k + 1];
                w[2] += s[3 * k + 2];
            }
        }
    }
    for (; o < nout2; o++) {  /* at most two outputs */
        const float *g0 = G + (size_t) o * ld;
        for (int i = 0; i < nin4; i += 4) {
            __m256 a[4];
            dots4_f_avx2(ld, g0, H + (size_t) i * ld, a);
            double s[4];
            _mm256_storeu_pd(s, _mm256_cvtps_pd(tree4_f_avx2(a[0], a[1], a[2], a[3])));
            double *w = gW + o + (size_t) nout * i;
            for (int k = 0; k < 4; k++, w += nout) w[0] += s[k];
        }
    }
}

/* The sums of grad_w_f_avx2() outside its tiles: the last output when
 * nout is odd, and the inputs beyond the last multiple of 4, each reduced
 * by hsum_f_avx2(). */
static AVX2 void grad_w_edges_f_avx2(int ld, int nin, int nout, const float *G,
                                     const float *H, double *gW)
{
    int nout2 = nout / 2 * 2, nin4 = nin / 4 * 4;
    for (int o = 0; o < nout; o++) {
        const float *g0 = G + (size_t) o * ld;
        int i = o < nout2 ? nin4 : 0;
        for (; i + 4 <= nin; i += 4) {  /* four independent sums at once */
            __m256 a[4];
            dots4_f_avx2(ld, g0, H + (size_t) i * ld, a);
            double *w = gW + o + (size_t) nout * i;
            w[0] += hsum_f_avx2(a[0]);
            w[nout] += hsum_f_avx2(a[1]);
            w[2 * (size_t) nout] += hsum_f_avx2(a[2]);
            w[3 * (size_t) nout] += hsum_f_avx2(a[3]);
        }
        for (; i < nin; i++) {
            const float *h0 = H + (size_t) i * ld;
            __m256 a0 = _mm256_setzero_ps();
            for (int c = 0; c < ld; c += 8)
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(g0 + c), _mm256_loadu_ps(h0 + c), a0);
            gW[o + (size_t) nout * i] += hsum_f_avx2(a0);
        }
    }
}

/* gW (double) += G^T H and gb += column sums of G, G and H in float.  The
 * outputs below the last even one and the inputs below the last multiple
 * of 4 in tiles of 3 outputs x 4 inputs (12 accumulators fed by 7 loads),
 * each sum over the ld rows reduced by tree4_f_avx2(); where the outputs
 * leave one or two over, tiles of that many outputs x 4 inputs.  The
 * other sums by hsum_f_avx2().  Every sum is in float, added to gW in
 * double. */
static AVX2 void grad_w_f_avx2(int ld, int nin, int nout, const float *G,
                               const float *H, double *gW, double *gb)
{
    grad_b_f_avx2(ld, nout, G, gb);
    grad_w_tiles_f_avx2(ld, nin / 4 * 4, nout, nout / 2 * 2, 0, G, H, gW);
    grad_w_edges_f_avx2(ld, nin, nout, G, H, gW);
}

/* Gn (ld x nin) = (G (ld x nout) . W (nout x nin)) * dv in float: tiles
 * of 16 rows x 4 inputs (8 accumulators fed by 2 loads and 4 broadcasts),
 * the last 8 rows when ld is not a multiple of 16 and the inputs beyond a
 * multiple of 4 in tiles of 8 rows x 1 input.  Every output is the
 * products in the order of the outputs o, summed from zero, times dv. */
static AVX2 void back_h_f_avx2(int ld, int nin, int nout, const float *G,
                               const float *W, const float *dv, float *Gn)
{
    int nin4 = nin / 4 * 4, ld16 = ld / 16 * 16;
    for (int i = 0; i < nin4; i += 4) {
        const float *w = W + (size_t) nout * i;
        for (int c = 0; c < ld16; c += 16) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0,
                e0 = a0, e1 = a0, e2 = a0, e3 = a0;
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                __m256 gv = _mm256_loadu_ps(g), gu = _mm256_loadu_ps(g + 8);
                const float *wo = w + o;
                __m256 v0 = _mm256_broadcast_ss(wo), v1 = _mm256_broadcast_ss(wo + nout);
                a0 = _mm256_fmadd_ps(gv, v0, a0);
                e0 = _mm256_fmadd_ps(gu, v0, e0);
                a1 = _mm256_fmadd_ps(gv, v1, a1);
                e1 = _mm256_fmadd_ps(gu, v1, e1);
                __m256 v2 = _mm256_broadcast_ss(wo + 2 * (size_t) nout),
                    v3 = _mm256_broadcast_ss(wo + 3 * (size_t) nout);
                a2 = _mm256_fmadd_ps(gv, v2, a2);
                e2 = _mm256_fmadd_ps(gu, v2, e2);
                a3 = _mm256_fmadd_ps(gv, v3, a3);
                e3 = _mm256_fmadd_ps(gu, v3, e3);
            }
            size_t m = c + (size_t) ld * i;
            _mm256_storeu_ps(Gn + m, _mm256_mul_ps(a0, _mm256_loadu_ps(dv + m)));
            _mm256_storeu_ps(Gn + m + 8, _mm256_mul_ps(e0, _mm256_loadu_ps(dv + m + 8)));
            m += ld;
            _mm256_storeu_ps(Gn + m, _mm256_mul_ps(a1, _mm256_loadu_ps(dv + m)));
            _mm256_storeu_ps(Gn + m + 8, _mm256_mul_ps(e1, _mm256_loadu_ps(dv + m + 8)));
            m += ld;
            _mm256_storeu_ps(Gn + m, _mm256_mul_ps(a2, _mm256_loadu_ps(dv + m)));
            _mm256_storeu_ps(Gn + m + 8, _mm256_mul_ps(e2, _mm256_loadu_ps(dv + m + 8)));
            m += ld;
            _mm256_storeu_ps(Gn + m, _mm256_mul_ps(a3, _mm256_loadu_ps(dv + m)));
            _mm256_storeu_ps(Gn + m + 8, _mm256_mul_ps(e3, _mm256_loadu_ps(dv + m + 8)));
        }
    }
    for (int i = 0; i < nin; i++) {
        const float *w0 = W + (size_t) nout * i;
        for (int c = i < nin4 ? ld16 : 0; c < ld; c += 8) {
            __m256 a0 = _mm256_setzero_ps();
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld)
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(g), _mm256_broadcast_ss(w0 + o), a0);
            size_t m = c + (size_t) ld * i;
            _mm256_storeu_ps(Gn + m, _mm256_mul_ps(a0, _mm256_loadu_ps(dv + m)));
        }
    }
}
/* ------------------------------------------------------------------ */
/* AVX-512F versions of the forward layer, the layer-0 update, the      */
/* weight gradient and the back-propagated gradient                    */

/*
 * Sixteen rows per register instead of eight.  Each output still takes
 * exactly the operations of the AVX2 kernel above (its bias, or zero,
 * then the products in order by fused multiply-adds; the same exp() and
 * SiLU), so the results are the same bits: only the number of rows that
 * go through them at once changes.  A block of fewer than 16 rows (ld is
 * a multiple of 8 only) goes through masked loads and stores, which read
 * and write nothing past its end; batches of fewer than 32 rows go
 * through the AVX2 kernels.  The weight gradient keeps each sum over the
 * rows in eight lanes, as the AVX2 kernel does, two sums to a register.
 */
# define AVX512 __attribute__((target("avx512f,avx2,fma")))

static inline AVX512 __m512 expf_avx512(__m512 y)
{
    y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(EXPF_LO)),
                      _mm512_set1_ps(EXPF_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(LOG2EF)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2HI_F), y);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2LO_F), r);
    __m512 p = _mm512_set1_ps(EC7);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EC6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EC5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EC4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EC3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EC2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n),
                                                   _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

static inline AVX512 __m512 act_f_avx512(int act, __m512 x)
{
    if (act == NN_SILU) {
        __m512 ex = expf_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x));
        return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), ex));
    }
    if (act == NN_RELU) return _mm512_max_ps(_mm512_setzero_ps(), x);
    return x;
}

/* The rows of a block of 16 starting at row c of ld: all 16, or the 8
 * left at the end. */
static inline __mmask16 rows16(int ld, int c)
{
    return ld - c >= 16 ? (__mmask16) 0xFFFF : (__mmask16) 0x00FF;
}

/*
 * out (ld x nout) = act(in (ld x nin) . W^T + b), as dense_f_avx2(): tiles
 * of 32 rows x 4 units (8 accumulators fed by 2 loads and 4 broadcasts),
 * the rows beyond a multiple of 32 in masked blocks of 16 with the same 4
 * units, units beyond a multiple of 4 one at a time in four blocks of 16
 * rows.
 */
static AVX512 void dense_f_avx512(int ld, int nin, int nout, const float *in,
                                  const float *W, const float *b, float *out, int act)
{
    if (ld < 32) {  /* too few rows for the wider tiles to pay */
        dense_f_avx2(ld, nin, nout, in, W, b, out, act);
        return;
    }
    int n4 = nout / 4 * 4, ld32 = ld / 32 * 32;
    for (int o = 0; o < n4; o += 4) {
        const float *bo = b + o;
        for (int c = 0; c < ld32; c += 32) {
            __m512 a0 = _mm512_set1_ps(bo[0]), a1 = _mm512_set1_ps(bo[1]),
                a2 = _mm512_set1_ps(bo[2]), a3 = _mm512_set1_ps(bo[3]);
            __m512 e0 = a0, e1 = a1, e2 = a2, e3 = a3;
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m512 xv = _mm512_loadu_ps(x), xu = _mm512_loadu_ps(x + 16);
                __m512 w0 = _mm512_set1_ps(w[0]), w1 = _mm512_set1_ps(w[1]);
                a0 = _mm512_fmadd_ps(xv, w0, a0);
                e0 = _mm512_fmadd_ps(xu, w0, e0);
                a1 = _mm512_fmadd_ps(xv, w1, a1);
                e1 = _mm512_fmadd_ps(xu, w1, e1);
                __m512 w2 = _mm512_set1_ps(w[2]), w3 = _mm512_set1_ps(w[3]);
                a2 = _mm512_fmadd_ps(xv, w2, a2);
                e2 = _mm512_fmadd_ps(xu, w2, e2);
                a3 = _mm512_fmadd_ps(xv, w3, a3);
                e3 = _mm512_fmadd_ps(xu, w3, e3);
            }
            float *y = out + c + (size_t) ld * o;
            _mm512_storeu_ps(y, act_f_avx512(act, a0));
            _mm512_storeu_ps(y + 16, act_f_avx512(act, e0));
            _mm512_storeu_ps(y + (size_t) ld, act_f_avx512(act, a1));
            _mm512_storeu_ps(y + (size_t) ld + 16, act_f_avx512(act, e1));
            _mm512_storeu_ps(y + 2 * (size_t) ld, act_f_avx512(act, a2));
            _mm512_storeu_ps(y + 2 * (size_t) ld + 16, act_f_avx512(act, e2));
            _mm512_storeu_ps(y + 3 * (size_t) ld, act_f_avx512(act, a3));
            _mm512_storeu_ps(y + 3 * (size_t) ld + 16, act_f_avx512(act, e3));
        }
        for (int c = ld32; c < ld; c += 16) {
            __mmask16 m = rows16(ld, c);
            __m512 a0 = _mm512_set1_ps(bo[0]), a1 = _mm512_set1_ps(bo[1]),
                a2 = _mm512_set1_ps(bo[2]), a3 = _mm512_set1_ps(bo[3]);
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m512 xv = _mm512_maskz_loadu_ps(m, x);
                a0 = _mm512_fmadd_ps(xv, _mm512_set1_ps(w[0]), a0);
                a1 = _mm512_fmadd_ps(xv, _mm512_set1_ps(w[1]), a1);
                a2 = _mm512_fmadd_ps(xv, _mm512_set1_ps(w[2]), a2);
                a3 = _mm512_fmadd_ps(xv, _mm512_set1_ps(w[3]), a3);
            }
            float *y = out + c + (size_t) ld * o;
            _mm512_mask_storeu_ps(y, m, act_f_avx512(act, a0));
            _mm512_mask_storeu_ps(y + (size_t) ld, m, act_f_avx512(act, a1));
            _mm512_mask_storeu_ps(y + 2 * (size_t) ld, m, act_f_avx512(act, a2));
            _mm512_mask_storeu_ps(y + 3 * (size_t) ld, m, act_f_avx512(act, a3));
        }
    }
    for (int o = n4; o < nout; o++) {
        /* four row blocks at once, as in dense_f_avx2() */
        for (int c = 0; c < ld; c += 64) {
            __mmask16 m[4];
            for (int k = 0; k < 4; k++)
                m[k] = c + 16 * k < ld ? rows16(ld, c + 16 * k) : 0;
            __m512 a0 = _mm512_set1_ps(b[o]), a1 = a0, a2 = a0, a3 = a0;
            const float *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m512 wv = _mm512_set1_ps(*w);
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[0], x), wv, a0);
                a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[1], x + 16), wv, a1);
                a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[2], x + 32), wv, a2);
                a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[3], x + 48), wv, a3);
            }
            float *y = out + c + (size_t) ld * o;
            _mm512_mask_storeu_ps(y, m[0], act_f_avx512(act, a0));
            _mm512_mask_storeu_ps(y + 16, m[1], act_f_avx512(act, a1));
            _mm512_mask_storeu_ps(y + 32, m[2], act_f_avx512(act, a2));
            _mm512_mask_storeu_ps(y + 48, m[3], act_f_avx512(act, a3));
        }
    }
    if (act == NN_TANH) act_inplace_f(act, (size_t) ld * nout, out);
}

static AVX512 void layer0_f_avx512(int ld, int d, int H1, const float *z,
                                   const float *cx, const float *ct,
                                   const float *W0, float *out, int act)
{
    for (int o = 0; o < H1; o++) {
        const __m512 cto = _mm512_set1_ps(ct[o]);
        const float *cxo = cx + (size_t) o * ld;
        float *y = out + (size_t) o * ld;
        for (int c = 0; c < ld; c += 16) {
            __mmask16 m = rows16(ld, c);
            __m512 a = _mm512_add_ps(_mm512_maskz_loadu_ps(m, cxo + c), cto);
            for (int k = 0; k < d; k++)
                a = _mm512_fmadd_ps(_mm512_set1_ps(W0[o + (size_t) H1 * k]),
                                    _mm512_maskz_loadu_ps(m, z + c + (size_t) k * ld), a);
            _mm512_mask_storeu_ps(y + c, m, act_f_avx512(act, a));
        }
    }
    if (act == NN_TANH) act_inplace_f(act, (size_t) ld * H1, out);
}

static AVX512 void dense_deriv_f_avx512(int ld, int nin, int nout, const float *in,
                                        const float *W, const float *b, float *h,
                                        float *dv, int act)
{
    if (ld < 32) {
        dense_deriv_f_avx2(ld, nin, nout, in, W, b, h, dv, act);
        return;
    }
    dense_f_avx512(ld, nin, nout, in, W, b, h, -1);
    size_t len = (size_t) ld * nout;
    if (act != NN_SILU) {
        act_deriv_f_portable(act, len, h, dv);
        return;
    }
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < len; i += 16) {
        __mmask16 m = len - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) 0x00FF;
        __m512 x = _mm512_maskz_loadu_ps(m, h + i);
        __m512 ex = expf_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x));
        __m512 sg = _mm512_div_ps(one, _mm512_add_ps(one, ex));
        _mm512_mask_storeu_ps(h + i, m, _mm512_mul_ps(x, sg));
        _mm512_mask_storeu_ps(dv + i, m, _mm512_mul_ps(sg, _mm512_fmadd_ps(x, _mm512_sub_ps(one, sg), one)));
    }
}

/* The 8-row blocks at a and b side by side: a in the low half. */
static inline AVX512 __m512 pair8_avx512(const float *a, const float *b)
{
    __m512d lo = _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(a)));
    return _mm512_castpd_ps(_mm512_insertf64x4(lo, _mm256_castps_pd(_mm256_loadu_ps(b)), 1));
}

/* The 8-row block at a in both halves. */
static inline AVX512 __m512 twice8_avx512(const float *a)
{
    return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(a))));
}

/* Pairwise sums within each 128-bit lane, as _mm256_hadd_ps() does:
 * [a0 + a1, a2 + a3, b0 + b1, b2 + b3]. */
static inline AVX512 __m512 hadd_avx512(__m512 a, __m512 b)
{
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

/* The eight 8-lane sums in the halves of a, b, c and d, each reduced as
 * tree4_f_avx2() reduces one, ((v0 + v1) + (v2 + v3)) + ((v4 + v5) +
 * (v6 + v7)), into s in double: a_lo, b_lo, c_lo, d_lo, a_hi, b_hi, c_hi,
 * d_hi. */
static inline AVX512 void tree4x2_avx512(__m512 a, __m512 b, __m512 c, __m512 d, double *s)
{
    __m512 k = hadd_avx512(hadd_avx512(a, b), hadd_avx512(c, d));
    /* lane 0 + lane 1 (the low halves' sums), lane 2 + lane 3 */
    k = _mm512_add_ps(k, _mm512_shuffle_f32x4(k, k, 0xB1));
    __m512 lo = _mm512_shuffle_f32x4(k, k, 0x08);  /* lanes 0, 2 */
    _mm512_storeu_pd(s, _mm512_cvtps_pd(_mm512_castps512_ps256(lo)));
}

/*
 * gW (double) += G^T H and gb += column sums of G, as grad_w_f_avx2() and
 * with the same bits: each sum over the rows stays in eight lanes that
 * take the rows in the same order, and is reduced in the same order.  A
 * 16-lane register holds two of them, for one output and two inputs (the
 * inputs' 8-row blocks side by side, the output's twice).  Tiles of 8
 * outputs x 4 inputs: 16 accumulators fed by 4 loads and 2 inserts of
 * inputs and 8 loads of outputs per 16 multiply-adds of 16 lanes.  The
 * outputs beyond a multiple of 8, and the edges, as in grad_w_f_avx2().
 */
static AVX512 void grad_w_f_avx512(int ld, int nin, int nout, const float *G,
                                   const float *H, double *gW, double *gb)
{
    grad_b_f_avx2(ld, nout, G, gb);
    int nout2 = nout / 2 * 2, nin4 = nin / 4 * 4, o = 0;
    for (; o + 8 <= nout2; o += 8) {
        const float *g0 = G + (size_t) o * ld;
        for (int i = 0; i < nin4; i += 4) {
            const float *h0 = H + (size_t) i * ld;
            __m512 a00 = _mm512_setzero_ps(), a01 = a00, a10 = a00, a11 = a00,
                a20 = a00, a21 = a00, a30 = a00, a31 = a00,
                a40 = a00, a41 = a00, a50 = a00, a51 = a00,
                a60 = a00, a61 = a00, a70 = a00, a71 = a00;
            for (int c = 0; c < ld; c += 8) {
                __m512 x0 = pair8_avx512(h0 + c, h0 + ld + c),
                    x1 = pair8_avx512(h0 + 2 * (size_t) ld + c, h0 + 3 * (size_t) ld + c);
                /* output o + r: its block twice, times both pairs of inputs */
#define GW_ROW(r) do { \
                    __m512 u = twice8_avx512(g0 + (r) * (size_t) ld + c); \
                    a##r##0 = _mm512_fmadd_ps(u, x0, a##r##0); \
                    a##r##1 = _mm512_fmadd_ps(u, x1, a##r##1); \
                } while (0)
                GW_ROW(0);
                GW_ROW(1);
                GW_ROW(2);
                GW_ROW(3);
                GW_ROW(4);
                GW_ROW(5);
                GW_ROW(6);
                GW_ROW(7);
#undef GW_ROW
            }
            /* a_r0: inputs i (low half), i + 1 (high); a_r1: i + 2, i + 3 */
            double s[32];
            tree4x2_avx512(a00, a01, a10, a11, s);
            tree4x2_avx512(a20, a21, a30, a31, s + 8);
            tree4x2_avx512(a40, a41, a50, a51, s + 16);
            tree4x2_avx512(a60, a61, a70, a71, s + 24);
            /* s + 8 q: outputs o + 2 q and o + 2 q + 1 */
            double *w = gW + o + (size_t) nout * i;
            size_t n1 = nout;
            for (int q = 0; q < 4; q++) {
                const double *t = s + 8 * q;
                double *wq = w + 2 * q;
                /* t = [r0 i, r0 i+2, r1 i, r1 i+2, r0 i+1, r0 i+3, r1 i+1, r1 i+3] */
                wq[0] += t[0];
                wq[1] += t[2];
                wq[n1] += t[4];
                wq[n1 + 1] += t[6];
                wq[2 * n1] += t[1];
                wq[2 * n1 + 1] += t[3];
                wq[3 * n1] += t[5];
                wq[3 * n1 + 1] += t[7];
            }
        }
    }
    grad_w_tiles_f_avx2(ld, nin4, nout, nout2, o, G, H, gW);
    grad_w_edges_f_avx2(ld, nin, nout, G, H, gW);
}

/* Gn (ld x nin) = (G (ld x nout) . W (nout x nin)) * dv, as
 * back_h_f_avx2(): tiles of 32 rows x 4 inputs, the rows beyond a
 * multiple of 32 in masked blocks of 16, inputs beyond a multiple of 4 one
 * at a time in blocks of 16 rows. */
static AVX512 void back_h_f_avx512(int ld, int nin, int nout, const float *G,
                                   const float *W, const float *dv, float *Gn)
{
    if (ld < 32) {
        back_h_f_avx2(ld, nin, nout, G, W, dv, Gn);
        return;
    }
    int nin4 = nin / 4 * 4, ld32 = ld / 32 * 32;
    for (int i = 0; i < nin4; i += 4) {
        const float *w = W + (size_t) nout * i;
        for (int c = 0; c < ld32; c += 32) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0,
                e0 = a0, e1 = a0, e2 = a0, e3 = a0;
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                __m512 gv = _mm512_loadu_ps(g), gu = _mm512_loadu_ps(g + 16);
                const float *wo = w + o;
                __m512 v0 = _mm512_set1_ps(wo[0]), v1 = _mm512_set1_ps(wo[nout]);
                a0 = _mm512_fmadd_ps(gv, v0, a0);
                e0 = _mm512_fmadd_ps(gu, v0, e0);
                a1 = _mm512_fmadd_ps(gv, v1, a1);
                e1 = _mm512_fmadd_ps(gu, v1, e1);
                __m512 v2 = _mm512_set1_ps(wo[2 * (size_t) nout]),
                    v3 = _mm512_set1_ps(wo[3 * (size_t) nout]);
                a2 = _mm512_fmadd_ps(gv, v2, a2);
                e2 = _mm512_fmadd_ps(gu, v2, e2);
                a3 = _mm512_fmadd_ps(gv, v3, a3);
                e3 = _mm512_fmadd_ps(gu, v3, e3);
            }
            size_t m = c + (size_t) ld * i;
            _mm512_storeu_ps(Gn + m, _mm512_mul_ps(a0, _mm512_loadu_ps(dv + m)));
            _mm512_storeu_ps(Gn + m + 16, _mm512_mul_ps(e0, _mm512_loadu_ps(dv + m + 16)));
            m += ld;
            _mm512_storeu_ps(Gn + m, _mm512_mul_ps(a1, _mm512_loadu_ps(dv + m)));
            _mm512_storeu_ps(Gn + m + 16, _mm512_mul_ps(e1, _mm512_loadu_ps(dv + m + 16)));
            m += ld;
            _mm512_storeu_ps(Gn + m, _mm512_mul_ps(a2, _mm512_loadu_ps(dv + m)));
            _mm512_storeu_ps(Gn + m + 16, _mm512_mul_ps(e2, _mm512_loadu_ps(dv + m + 16)));
            m += ld;
            _mm512_storeu_ps(Gn + m, _mm512_mul_ps(a3, _mm512_loadu_ps(dv + m)));
            _mm512_storeu_ps(Gn + m + 16, _mm512_mul_ps(e3, _mm512_loadu_ps(dv + m + 16)));
        }
        for (int c = ld32; c < ld; c += 16) {
            __mmask16 mk = rows16(ld, c);
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                __m512 gv = _mm512_maskz_loadu_ps(mk, g);
                const float *wo = w + o;
                a0 = _mm512_fmadd_ps(gv, _mm512_set1_ps(wo[0]), a0);
                a1 = _mm512_fmadd_ps(gv, _mm512_set1_ps(wo[nout]), a1);
                a2 = _mm512_fmadd_ps(gv, _mm512_set1_ps(wo[2 * (size_t) nout]), a2);
                a3 = _mm512_fmadd_ps(gv, _mm512_set1_ps(wo[3 * (size_t) nout]), a3);
            }
            size_t m = c + (size_t) ld * i;
            _mm512_mask_storeu_ps(Gn + m, mk, _mm512_mul_ps(a0, _mm512_maskz_loadu_ps(mk, dv + m)));
            m += ld;
            _mm512_mask_storeu_ps(Gn + m, mk, _mm512_mul_ps(a1, _mm512_maskz_loadu_ps(mk, dv + m)));
            m += ld;
            _mm512_mask_storeu_ps(Gn + m, mk, _mm512_mul_ps(a2, _mm512_maskz_loadu_ps(mk, dv + m)));
            m += ld;
            _mm512_mask_storeu_ps(Gn + m, mk, _mm512_mul_ps(a3, _mm512_maskz_loadu_ps(mk, dv + m)));
        }
    }
    for (int i = nin4; i < nin; i++) {
        const float *w0 = W + (size_t) nout * i;
        for (int c = 0; c < ld; c += 16) {
            __mmask16 mk = rows16(ld, c);
            __m512 a0 = _mm512_setzero_ps();
            const float *g = G + c;
            for (int o = 0; o < nout; o++, g += ld)
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, g), _mm512_set1_ps(w0[o]), a0);
            size_t m = c + (size_t) ld * i;
            _mm512_mask_storeu_ps(Gn + m, mk, _mm512_mul_ps(a0, _mm512_maskz_loadu_ps(mk, dv + m)));
        }
    }
}

#endif /* SBCG_X86 */

/* ------------------------------------------------------------------ */
/* dispatch                                                            */

void kern_dense_f(int kern, int ld, int nin, int nout, const float *in,
                  const float *W, const float *b, float *out, int act)
{
#ifdef SBCG_X86
    if (kern == KERN_AVX512) {
        dense_f_avx512(ld, nin, nout, in, W, b, out, act);
        return;
    }
    if (kern == KERN_AVX2) {
        dense_f_avx2(ld, nin, nout, in, W, b, out, act);
        return;
    }
#endif
    dense_f_portable(ld, nin, nout, in, W, b, out, act);
}

void kern_layer0_f(int kern, int ld, int d, int H1, const float *z,
                   const float *cx, const float *ct, const float *W0,
                   float *out, int act)
{
#ifdef SBCG_X86
    if (kern == KERN_AVX512) {
        layer0_f_avx512(ld, d, H1, z, cx, ct, W0, out, act);
        return;
    }
    if (kern == KERN_AVX2) {
        layer0_f_avx2(ld, d, H1, z, cx, ct, W0, out, act);
        return;
    }
#endif
    layer0_f_portable(ld, d, H1, z, cx, ct, W0, out, act);
}

/* The training kernels in single precision (nn_forward_train_f(),
 * nn_backward_f()): the forward layer with the activation's derivative,
 * the weight gradient (added to double sums) and the back-propagated
 * gradient. */
void kern_dense_deriv_f(int kern, int ld, int nin, int nout, const float *in,
                        const float *W, const float *b, float *h, float *dv,
                        int act)
{
#ifdef SBCG_X86
    if (kern == KERN_AVX512) {
        dense_deriv_f_avx512(ld, nin, nout, in, W, b, h, dv, act);
        return;
    }
    if (kern == KERN_AVX2) {
        dense_deriv_f_avx2(ld, nin, nout, in, W, b, h, dv, act);
        return;
    }
#endif
    dense_f_portable(ld, nin, nout, in, W, b, h, -1);
    act_deriv_f_portable(act, (size_t) ld * nout, h, dv);
}

void kern_grad_w_f(int kern, int ld, int nin, int nout, const float *G,
                   const float *H, double *gW, double *gb)
{
#ifdef SBCG_X86
    if (kern == KERN_AVX512) {
        grad_w_f_avx512(ld, nin, nout, G, H, gW, gb);
        return;
    }
    if (kern == KERN_AVX2) {
        grad_w_f_avx2(ld, nin, nout, G, H, gW, gb);
        return;
    }
#endif
    grad_w_f_portable(ld, nin, nout, G, H, gW, gb);
}

void kern_back_h_f(int kern, int ld, int nin, int nout, const float *G,
                   const float *W, const float *dv, float *Gn)
{
#ifdef SBCG_X86
    if (kern == KERN_AVX512) {
        back_h_f_avx512(ld, nin, nout, G, W, dv, Gn);
        return;
    }
    if (kern == KERN_AVX2) {
        back_h_f_avx2(ld, nin, nout, G, W, dv, Gn);
        return;
    }
#endif
    back_h_f_portable(ld, nin, nout, G, W, dv, Gn);
}
