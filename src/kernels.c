/*
 * kernels.c -- the dense-layer kernels behind training and sampling, in a
 * portable version and an AVX2 + FMA version chosen at run time.
 *
 * R compiles packages without -march flags, so the compiler may only emit
 * the instructions every x86-64 CPU has (SSE2) and libm's exp() is scalar.
 * The AVX2 functions below are compiled for that instruction set through a
 * target attribute and called only when the CPU reports AVX2 and FMA;
 * elsewhere (other CPUs, other compilers) the portable loops run.
 *
 * Layout.  A batch of rows through a layer of width H is an ld x H
 * column-major matrix (one column per unit, rows contiguous), ld being the
 * row count rounded up to a multiple of KERN_PAD.  The AVX2 kernels work on
 * 8 rows at a time and every row, padding included, goes through exactly
 * the same sequence of floating-point operations, so a row's result never
 * depends on where it sits in the batch.  The caller keeps padding rows
 * finite (zero inputs) and ignores their outputs.
 *
 * SiLU in the AVX2 path uses its own exp(): Cody-Waite reduction by ln 2
 * and a degree-12 Taylor polynomial evaluated by Estrin's scheme, accurate
 * to a few units in the last place on the clamped range [-708, 708].  NaN
 * inputs give NaN outputs.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "sbcg.h"

/* sin and cos (sincos_avx2(), sincos_portable()): 2 / pi, pi / 2 in three
 * parts for the reduction (Cody-Waite), and the Taylor coefficients of
 * sin r = r (1 - r^2 S3 + r^4 S5 - ...) and cos r = 1 - r^2 / 2 + r^4 C4 - ...,
 * each the magnitude of 1 / k! */
#define SC_TWO_OVER_PI 0.63661977236758134308
#define SC_PIO2_1 1.5707963267341256e+00
#define SC_PIO2_2 6.07710050630396597660e-11
#define SC_PIO2_3 2.02226624879595063154e-21
#define SC_S3 1.6666666666666666667e-01
#define SC_S5 8.3333333333333333333e-03
#define SC_S7 1.9841269841269841270e-04
#define SC_S9 2.7557319223985890653e-06
#define SC_S11 2.5052108385441718775e-08
#define SC_S13 1.6059043836821614599e-10
#define SC_S15 7.6471637318198164759e-13
#define SC_C4 4.1666666666666666667e-02
#define SC_C6 1.3888888888888888889e-03
#define SC_C8 2.4801587301587301587e-05
#define SC_C10 2.7557319223985890653e-07
#define SC_C12 2.0876756987868098979e-09
#define SC_C14 1.1470745597729724714e-11
#define SC_C16 4.7794773323873852974e-14

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(SBCG_NO_SIMD)
# define SBCG_X86 1
# include <immintrin.h>
#endif

int kern_detect(void)
{
#ifdef SBCG_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return __builtin_cpu_supports("avx512f") ? KERN_AVX512 : KERN_AVX2;
#endif
    return KERN_PORTABLE;
}

/* ------------------------------------------------------------------ */
/* portable versions                                                   */

/*
 * exp(y) for the SiLU of the portable kernels, written so that gcc
 * vectorises it at -O2 with SSE2: the method of exp_avx2() below
 * (reduction by ln 2 with the magic-number rounding, degree-12 Taylor
 * polynomial, 2^n built in the exponent bits) with separate multiplies
 * and adds.  y must lie in [-708, 708] (exp_arg() clamps it, in a loop of
 * its own: with the clamp inlined here gcc splits the loop's paths and no
 * longer vectorises it).  Accurate to a few units in the last place.
 */
static inline double exp_arg(double y)
{
    y = y < -708.0 ? -708.0 : y;
    return y > 708.0 ? 708.0 : y;
}

static inline double exp_portable(double y)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double t = y * 1.4426950408889634074 + magic;
    double n = t - magic;
    double r = y - n * 6.93147180369123816490e-01;
    r = r - n * 1.90821492927058770002e-10;
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double q0 = 1.0 + r, q1 = 0.5 + r * 1.66666666666666666667e-01,
        q2 = 4.16666666666666666667e-02 + r * 8.33333333333333333333e-03,
        q3 = 1.38888888888888888889e-03 + r * 1.98412698412698412698e-04,
        q4 = 2.48015873015873015873e-05 + r * 2.75573192239858906526e-06,
        q5 = 2.75573192239858906526e-07 + r * 2.50521083854417187751e-08,
        q6 = 2.08767569878680989792e-09;
    double s0 = q0 + q1 * r2, s1 = q2 + q3 * r2, s2 = q4 + q5 * r2;
    double u0 = s0 + s1 * r4, u1 = s2 + q6 * r4;
    double p = u0 + u1 * r8;
    /* 2^n from the low bits of t, which hold n + 2^51 (unsigned: the
     * difference wraps, the shift is defined) */
    uint64_t k, mk;
    memcpy(&k, &t, sizeof k);
    memcpy(&mk, &magic, sizeof mk);
    uint64_t e = (k - mk + 1023) << 52;
    double sc;
    memcpy(&sc, &e, sizeof sc);
    return p * sc;
}

/* y[r] = exp_arg(-h[r]) for r < KERN_PAD.  On x86-64 through SSE2's
 * minpd and maxpd (the same values; a NaN gives -708 there, and the SiLU
 * still NaN through x): gcc compiles exp_arg()'s comparisons to a dozen
 * mask operations per pair instead. */
static inline void exp_args(const double *restrict h, double *restrict y)
{
#if defined(SBCG_X86) && defined(__SSE2__)
    const __m128d lo = _mm_set1_pd(-708.0), hi = _mm_set1_pd(708.0), sign = _mm_set1_pd(-0.0);
    for (int r = 0; r < KERN_PAD; r += 2)
        _mm_storeu_pd(y + r, _mm_min_pd(_mm_max_pd(_mm_xor_pd(_mm_loadu_pd(h + r), sign), lo), hi));
#else
    for (int r = 0; r < KERN_PAD; r++) y[r] = exp_arg(-h[r]);
#endif
}

/* SiLU of len values in place (len a multiple of KERN_PAD, a whole batch),
 * and its derivative into dv unless dv is NULL; NaN stays NaN through x. */
static void silu_portable(size_t len, double *restrict h, double *restrict dv)
{
    for (size_t i = 0; i < len; i += KERN_PAD) {
        double y[KERN_PAD];
        exp_args(h + i, y);
        if (dv) {
            for (int r = 0; r < KERN_PAD; r++) {
                double x = h[i + r], sg = 1.0 / (1.0 + exp_portable(y[r]));
                h[i + r] = x * sg;
                dv[i + r] = sg * (1.0 + x * (1.0 - sg));
            }
        } else {
            for (int r = 0; r < KERN_PAD; r++)
                h[i + r] = h[i + r] / (1.0 + exp_portable(y[r]));
        }
    }
}

/* The activation in place over len values (a multiple of KERN_PAD). */
static void act_inplace(int act, size_t len, double *a)
{
    switch (act) {
    case NN_SILU:
        silu_portable(len, a, NULL);
        break;
    case NN_RELU:  /* in blocks of KERN_PAD, which gcc vectorises at -O2 */
        for (size_t i = 0; i < len; i += KERN_PAD)
            for (int r = 0; r < KERN_PAD; r++) a[i + r] = a[i + r] > 0.0 ? a[i + r] : 0.0;
        break;
    default:
        for (size_t i = 0; i < len; i++) a[i] = tanh(a[i]);
    }
}

/* h = act(a + b), dv = act'(a + b) for one column of n pre-activations;
 * h may alias a.  For SiLU, h = x s(x) with the logistic s, and
 * h' = s (1 + x (1 - s)). */
void kern_bias_act_deriv(int act, int n, double b, const double *a, double *h,
                         double *dv)
{
    switch (act) {
    case NN_SILU:
        for (int i = 0; i < n; i++) {
            double x = a[i] + b, s = 1.0 / (1.0 + exp(-x));
            h[i] = x * s;
            dv[i] = s * (1.0 + x * (1.0 - s));
        }
        break;
    case NN_RELU:
        for (int i = 0; i < n; i++) {
            double x = a[i] + b;
            h[i] = x > 0.0 ? x : 0.0;
            dv[i] = x > 0.0 ? 1.0 : 0.0;
        }
        break;
    default:
        for (int i = 0; i < n; i++) {
            double y = tanh(a[i] + b);
            h[i] = y;
            dv[i] = 1.0 - y * y;
        }
    }
}

/* h = act(h), dv = act'(h) in place over len pre-activations (a multiple
 * of KERN_PAD), for the training forward pass. */
static void act_deriv_portable(int act, size_t len, double *h, double *dv)
{
    if (act == NN_SILU) {
        silu_portable(len, h, dv);
    } else if (act == NN_RELU) {
        for (size_t i = 0; i < len; i += KERN_PAD)
            for (int r = 0; r < KERN_PAD; r++) {
                double x = h[i + r];
                dv[i + r] = x > 0.0 ? 1.0 : 0.0;
                h[i + r] = x > 0.0 ? x : 0.0;
            }
    } else {
        kern_bias_act_deriv(act, (int) len, 0.0, h, h, dv);
    }
}

/*
 * The portable dense kernels compute with a 2-wide vector of doubles, v2:
 * with gcc and clang, their generic vector extension, which becomes SSE2
 * on any x86-64 (NEON on arm64) at R's default flags; with other
 * compilers (or SBCG_PLAIN_V2 defined), a pair of doubles.  Register tiles as in the AVX2 kernels,
 * written once: loops over rows run in blocks of KERN_PAD = 8 (ld is a
 * multiple), and every row goes through the same operations wherever it
 * sits in the batch.  (Plain loops left to gcc's vectoriser at -O2 kept
 * the accumulators in memory or stayed scalar.)
 */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(SBCG_PLAIN_V2)
typedef double v2 __attribute__((vector_size(16)));
static inline v2 v2_load(const double *p)
{
    v2 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v2_store(double *p, v2 v)
{
    memcpy(p, &v, sizeof v);
}
static inline v2 v2_set(double x)
{
    return (v2) {x, x};
}
static inline v2 v2_madd(v2 a, v2 x, v2 w)  /* a + x w */
{
    return a + x * w;
}
static inline v2 v2_mul(v2 x, v2 w)
{
    return x * w;
}
static inline double v2_sum(v2 v)
{
    return v[0] + v[1];
}
/* The square roots of 2 doubles where the target has a vector square
 * root, SSE2 on x86-64 and NEON on arm64 (V2_SQRT then defined); correctly
 * rounded, as sqrt(). */
# if defined(SBCG_X86) && defined(__SSE2__)
#  define V2_SQRT 1
static inline v2 v2_sqrt(v2 x)
{
    return (v2) _mm_sqrt_pd((__m128d) x);
}
# elif defined(__aarch64__) && defined(__ARM_NEON)
#  include <arm_neon.h>
#  define V2_SQRT 1
static inline v2 v2_sqrt(v2 x)
{
    return (v2) vsqrtq_f64((float64x2_t) x);
}
# endif
#else
typedef struct {
    double e[2];
} v2;
static inline v2 v2_load(const double *p)
{
    v2 v = {{p[0], p[1]}};
    return v;
}
static inline void v2_store(double *p, v2 v)
{
    p[0] = v.e[0];
    p[1] = v.e[1];
}
static inline v2 v2_set(double x)
{
    v2 v = {{x, x}};
    return v;
}
static inline v2 v2_madd(v2 a, v2 x, v2 w)
{
    v2 v = {{a.e[0] + x.e[0] * w.e[0], a.e[1] + x.e[1] * w.e[1]}};
    return v;
}
static inline v2 v2_mul(v2 x, v2 w)
{
    v2 v = {{x.e[0] * w.e[0], x.e[1] * w.e[1]}};
    return v;
}
static inline double v2_sum(v2 v)
{
    return v.e[0] + v.e[1];
}
#endif

/* out (ld x nout) = act(in (ld x nin) . W^T + b); tiles of 8 rows x 2
 * units, each accumulator starting at the bias and taking the inputs in
 * order. */
static void dense_portable(int ld, int nin, int nout, const double *in,
                           const double *W, const double *b, double *out,
                           int act)
{
    int o = 0;
    for (; o + 2 <= nout; o += 2) {
        const v2 b0 = v2_set(b[o]), b1 = v2_set(b[o + 1]);
        for (int c = 0; c < ld; c += 8) {
            v2 a0 = b0, a1 = b0, a2 = b0, a3 = b0, e0 = b1, e1 = b1, e2 = b1, e3 = b1;
            const double *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                v2 x0 = v2_load(x), x1 = v2_load(x + 2), x2 = v2_load(x + 4),
                    x3 = v2_load(x + 6), w0 = v2_set(w[0]), w1 = v2_set(w[1]);
                a0 = v2_madd(a0, x0, w0);
                a1 = v2_madd(a1, x1, w0);
                a2 = v2_madd(a2, x2, w0);
                a3 = v2_madd(a3, x3, w0);
                e0 = v2_madd(e0, x0, w1);
                e1 = v2_madd(e1, x1, w1);
                e2 = v2_madd(e2, x2, w1);
                e3 = v2_madd(e3, x3, w1);
            }
            double *y = out + c + (size_t) ld * o;
            v2_store(y, a0);
            v2_store(y + 2, a1);
            v2_store(y + 4, a2);
            v2_store(y + 6, a3);
            y += ld;
            v2_store(y, e0);
            v2_store(y + 2, e1);
            v2_store(y + 4, e2);
            v2_store(y + 6, e3);
        }
    }
    for (; o < nout; o++) {
        const v2 b0 = v2_set(b[o]);
        for (int c = 0; c < ld; c += 8) {
            v2 a0 = b0, a1 = b0, a2 = b0, a3 = b0;
            const double *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                v2 w0 = v2_set(w[0]);
                a0 = v2_madd(a0, v2_load(x), w0);
                a1 = v2_madd(a1, v2_load(x + 2), w0);
                a2 = v2_madd(a2, v2_load(x + 4), w0);
                a3 = v2_madd(a3, v2_load(x + 6), w0);
            }
            double *y = out + c + (size_t) ld * o;
            v2_store(y, a0);
            v2_store(y + 2, a1);
            v2_store(y + 4, a2);
            v2_store(y + 6, a3);
        }
    }
    if (act >= 0) act_inplace(act, (size_t) ld * nout, out);
}

/* Training forward layer: h = act(in . W^T + b), dv = act'(...). */
static void dense_deriv_portable(int ld, int nin, int nout, const double *in,
                                 const double *W, const double *b, double *h,
                                 double *dv, int act)
{
    dense_portable(ld, nin, nout, in, W, b, h, -1);
    act_deriv_portable(act, (size_t) ld * nout, h, dv);
}

/* gW (nout x nin) += G^T . H and gb += column sums of G, for G (ld x nout)
 * and H (ld x nin).  Tiles of 2 units x 4 inputs, 8 accumulators of 2 row
 * lanes each, added up at the end. */
static void grad_w_portable(int ld, int nin, int nout, const double *G,
                            const double *H, double *gW, double *gb)
{
    for (int o = 0; o < nout; o++) {
        const double *g = G + (size_t) o * ld;
        v2 s0 = v2_set(0.0), s1 = s0;
        for (int c = 0; c < ld; c += 4) {
            s0 = v2_madd(s0, v2_load(g + c), v2_set(1.0));
            s1 = v2_madd(s1, v2_load(g + c + 2), v2_set(1.0));
        }
        gb[o] += v2_sum(s0) + v2_sum(s1);
    }
    int o = 0;
    for (; o + 2 <= nout; o += 2) {
        const double *g0 = G + (size_t) o * ld, *g1 = g0 + ld;
        int i = 0;
        for (; i + 4 <= nin; i += 4) {
            const double *h0 = H + (size_t) i * ld, *h1 = h0 + ld,
                *h2 = h1 + ld, *h3 = h2 + ld;
            v2 a00 = v2_set(0.0), a01 = a00, a02 = a00, a03 = a00,
                a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int c = 0; c < ld; c += 2) {
                v2 u = v2_load(g0 + c), v = v2_load(g1 + c);
                v2 x0 = v2_load(h0 + c), x1 = v2_load(h1 + c),
                    x2 = v2_load(h2 + c), x3 = v2_load(h3 + c);
                a00 = v2_madd(a00, u, x0);
                a01 = v2_madd(a01, u, x1);
                a02 = v2_madd(a02, u, x2);
                a03 = v2_madd(a03, u, x3);
                a10 = v2_madd(a10, v, x0);
                a11 = v2_madd(a11, v, x1);
                a12 = v2_madd(a12, v, x2);
                a13 = v2_madd(a13, v, x3);
            }
            double *w = gW + o + (size_t) nout * i;
            w[0] += v2_sum(a00);
            w[1] += v2_sum(a10);
            w += nout;
            w[0] += v2_sum(a01);
            w[1] += v2_sum(a11);
            w += nout;
            w[0] += v2_sum(a02);
            w[1] += v2_sum(a12);
            w += nout;
            w[0] += v2_sum(a03);
            w[1] += v2_sum(a13);
        }
        for (; i < nin; i++) {
            const double *h0 = H + (size_t) i * ld;
            v2 a0 = v2_set(0.0), a1 = a0;
            for (int c = 0; c < ld; c += 2) {
                v2 x0 = v2_load(h0 + c);
                a0 = v2_madd(a0, v2_load(g0 + c), x0);
                a1 = v2_madd(a1, v2_load(g1 + c), x0);
            }
            gW[o + (size_t) nout * i] += v2_sum(a0);
            gW[o + 1 + (size_t) nout * i] += v2_sum(a1);
        }
    }
    for (; o < nout; o++) {
        const double *g0 = G + (size_t) o * ld;
        for (int i = 0; i < nin; i++) {
            const double *h0 = H + (size_t) i * ld;
            v2 a0 = v2_set(0.0), a1 = a0;
            for (int c = 0; c < ld; c += 4) {
                a0 = v2_madd(a0, v2_load(g0 + c), v2_load(h0 + c));
                a1 = v2_madd(a1, v2_load(g0 + c + 2), v2_load(h0 + c + 2));
            }
            gW[o + (size_t) nout * i] += v2_sum(a0) + v2_sum(a1);
        }
    }
}

/* Gn (ld x nin) = (G (ld x nout) . W (nout x nin)) * dv.  Tiles of 8 rows
 * x 2 inputs. */
static void back_h_portable(int ld, int nin, int nout, const double *G,
                            const double *W, const double *dv, double *Gn)
{
    int i = 0;
    for (; i + 2 <= nin; i += 2) {
        const double *w0 = W + (size_t) nout * i, *w1 = w0 + nout;
        for (int c = 0; c < ld; c += 8) {
            v2 a0 = v2_set(0.0), a1 = a0, a2 = a0, a3 = a0,
                e0 = a0, e1 = a0, e2 = a0, e3 = a0;
            const double *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                v2 g0 = v2_load(g), g1 = v2_load(g + 2), g2 = v2_load(g + 4),
                    g3 = v2_load(g + 6), v0 = v2_set(w0[o]), v1 = v2_set(w1[o]);
                a0 = v2_madd(a0, g0, v0);
                a1 = v2_madd(a1, g1, v0);
                a2 = v2_madd(a2, g2, v0);
                a3 = v2_madd(a3, g3, v0);
                e0 = v2_madd(e0, g0, v1);
                e1 = v2_madd(e1, g1, v1);
                e2 = v2_madd(e2, g2, v1);
                e3 = v2_madd(e3, g3, v1);
            }
            size_t m = c + (size_t) ld * i;
            v2_store(Gn + m, v2_mul(a0, v2_load(dv + m)));
            v2_store(Gn + m + 2, v2_mul(a1, v2_load(dv + m + 2)));
            v2_store(Gn + m + 4, v2_mul(a2, v2_load(dv + m + 4)));
            v2_store(Gn + m + 6, v2_mul(a3, v2_load(dv + m + 6)));
            m += ld;
            v2_store(Gn + m, v2_mul(e0, v2_load(dv + m)));
            v2_store(Gn + m + 2, v2_mul(e1, v2_load(dv + m + 2)));
            v2_store(Gn + m + 4, v2_mul(e2, v2_load(dv + m + 4)));
            v2_store(Gn + m + 6, v2_mul(e3, v2_load(dv + m + 6)));
        }
    }
    for (; i < nin; i++) {
        const double *w0 = W + (size_t) nout * i;
        for (int c = 0; c < ld; c += 8) {
            v2 a0 = v2_set(0.0), a1 = a0, a2 = a0, a3 = a0;
            const double *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                v2 v0 = v2_set(w0[o]);
                a0 = v2_madd(a0, v2_load(g), v0);
                a1 = v2_madd(a1, v2_load(g + 2), v0);
                a2 = v2_madd(a2, v2_load(g + 4), v0);
                a3 = v2_madd(a3, v2_load(g + 6), v0);
            }
            size_t m = c + (size_t) ld * i;
            v2_store(Gn + m, v2_mul(a0, v2_load(dv + m)));
            v2_store(Gn + m + 2, v2_mul(a1, v2_load(dv + m + 2)));
            v2_store(Gn + m + 4, v2_mul(a2, v2_load(dv + m + 4)));
            v2_store(Gn + m + 6, v2_mul(a3, v2_load(dv + m + 6)));
        }
    }
}

static void layer0_portable(int ld, int d, int H1, const double *z,
                            const double *cx, const double *ct,
                            const double *W0, double *out, int act)
{
    for (int o = 0; o < H1; o++) {
        const v2 cto = v2_set(ct[o]), one = v2_set(1.0);
        const double *cxo = cx + (size_t) o * ld;
        double *y = out + (size_t) o * ld;
        for (int c = 0; c < ld; c += 8) {
            v2 a0 = v2_madd(cto, v2_load(cxo + c), one),
                a1 = v2_madd(cto, v2_load(cxo + c + 2), one),
                a2 = v2_madd(cto, v2_load(cxo + c + 4), one),
                a3 = v2_madd(cto, v2_load(cxo + c + 6), one);
            for (int k = 0; k < d; k++) {
                v2 w = v2_set(W0[o + (size_t) H1 * k]);
                const double *zk = z + c + (size_t) k * ld;
                a0 = v2_madd(a0, w, v2_load(zk));
                a1 = v2_madd(a1, w, v2_load(zk + 2));
                a2 = v2_madd(a2, w, v2_load(zk + 4));
                a3 = v2_madd(a3, w, v2_load(zk + 6));
            }
            v2_store(y + c, a0);
            v2_store(y + c + 2, a1);
            v2_store(y + c + 4, a2);
            v2_store(y + c + 6, a3);
        }
    }
    act_inplace(act, (size_t) ld * H1, out);
}

/* ------------------------------------------------------------------ */
/* AVX2 + FMA versions                                                 */

#ifdef SBCG_X86
# define AVX2 __attribute__((target("avx2,fma")))

/* exp(y) for y clamped to [-708, 708] (NaN becomes -708: callers keep
 * NaN alive through another operand). */
static inline AVX2 __m256d exp_avx2(__m256d y)
{
    const __m256d lo = _mm256_set1_pd(-708.0), hi = _mm256_set1_pd(708.0);
    const __m256d log2e = _mm256_set1_pd(1.4426950408889634074);
    const __m256d magic = _mm256_set1_pd(6755399441055744.0); /* 1.5 * 2^52 */
    const __m256d ln2hi = _mm256_set1_pd(6.93147180369123816490e-01);
    const __m256d ln2lo = _mm256_set1_pd(1.90821492927058770002e-10);
    y = _mm256_min_pd(_mm256_max_pd(y, lo), hi);
    __m256d t = _mm256_fmadd_pd(y, log2e, magic);
    __m256d n = _mm256_sub_pd(t, magic);
    __m256d r = _mm256_fnmadd_pd(n, ln2hi, y);
    r = _mm256_fnmadd_pd(n, ln2lo, r);
    /* Taylor polynomial of degree 12, sum_k r^k / k!, by Estrin's scheme
     * (pairs, then powers r^2, r^4, r^8): a dependency chain of 4 fused
     * multiply-adds instead of Horner's 12 */
    __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2),
        r8 = _mm256_mul_pd(r4, r4);
    __m256d q0 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0), _mm256_set1_pd(1.0));
    __m256d q1 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.66666666666666666667e-01),
                                 _mm256_set1_pd(0.5));
    __m256d q2 = _mm256_fmadd_pd(r, _mm256_set1_pd(8.33333333333333333333e-03),
                                 _mm256_set1_pd(4.16666666666666666667e-02));
    __m256d q3 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.98412698412698412698e-04),
                                 _mm256_set1_pd(1.38888888888888888889e-03));
    __m256d q4 = _mm256_fmadd_pd(r, _mm256_set1_pd(2.75573192239858906526e-06),
                                 _mm256_set1_pd(2.48015873015873015873e-05));
    __m256d q5 = _mm256_fmadd_pd(r, _mm256_set1_pd(2.50521083854417187751e-08),
                                 _mm256_set1_pd(2.75573192239858906526e-07));
    __m256d q6 = _mm256_set1_pd(2.08767569878680989792e-09);
    __m256d s0 = _mm256_fmadd_pd(q1, r2, q0), s1 = _mm256_fmadd_pd(q3, r2, q2),
        s2 = _mm256_fmadd_pd(q5, r2, q4);
    __m256d u0 = _mm256_fmadd_pd(s1, r4, s0), u1 = _mm256_fmadd_pd(q6, r4, s2);
    __m256d p = _mm256_fmadd_pd(u1, r8, u0);
    /* 2^n from the low bits of t, which hold n + 2^51 */
    __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(t),
                                 _mm256_castpd_si256(magic));
    __m256i e = _mm256_slli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1023)), 52);
    return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
}

static inline AVX2 __m256d silu_avx2(__m256d x)
{
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d ex = exp_avx2(_mm256_sub_pd(_mm256_setzero_pd(), x));
    return _mm256_div_pd(x, _mm256_add_pd(one, ex));
}

/* act(x) and act'(x); SiLU and ReLU only (tanh goes through libm). */
static inline AVX2 __m256d act_avx2(int act, __m256d x)
{
    if (act == NN_SILU) return silu_avx2(x);
    /* max(0, x) keeps a NaN x (the second operand is returned on NaN) */
    return _mm256_max_pd(_mm256_setzero_pd(), x);
}

static inline AVX2 void act_deriv_avx2(int act, __m256d x, __m256d *h,
                                       __m256d *dv)
{
    const __m256d one = _mm256_set1_pd(1.0);
    if (act == NN_SILU) {
        __m256d ex = exp_avx2(_mm256_sub_pd(_mm256_setzero_pd(), x));
        __m256d s = _mm256_div_pd(one, _mm256_add_pd(one, ex));
        *h = _mm256_mul_pd(x, s);
        /* s (1 + x (1 - s)) */
        *dv = _mm256_mul_pd(s, _mm256_fmadd_pd(x, _mm256_sub_pd(one, s), one));
    } else {
        __m256d pos = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GT_OQ);
        *h = _mm256_max_pd(_mm256_setzero_pd(), x);
        *dv = _mm256_and_pd(pos, one);
    }
}

/* Store a at p and e at p + 4, after the activation (SiLU, ReLU; tanh is
 * applied after the layer, linear when act < 0). */
static inline AVX2 void store_act2(int act, double *p, __m256d a, __m256d e)
{
    if (act == NN_SILU) {
        a = silu_avx2(a);
        e = silu_avx2(e);
    } else if (act == NN_RELU) {
        a = act_avx2(act, a);
        e = act_avx2(act, e);
    }
    _mm256_storeu_pd(p, a);
    _mm256_storeu_pd(p + 4, e);
}


/*
 * out (ld x nout) = act(in (ld x nin) . W^T + b), ld a multiple of 8.
 * Tiles of 8 rows x 4 units keep 8 accumulators in registers; each
 * accumulator starts at the bias and takes the inputs in order 0..nin-1,
 * one fused multiply-add each, whatever the tile.
 */
static AVX2 void dense_avx2(int ld, int nin, int nout, const double *in,
                            const double *W, const double *b, double *out,
                            int act)
{
    int o = 0;
    for (; o + 4 <= nout; o += 4) {
        const __m256d b0 = _mm256_broadcast_sd(b + o),
            b1 = _mm256_broadcast_sd(b + o + 1),
            b2 = _mm256_broadcast_sd(b + o + 2),
            b3 = _mm256_broadcast_sd(b + o + 3);
        for (int c = 0; c < ld; c += 8) {
            __m256d a0 = b0, a1 = b1, a2 = b2, a3 = b3;
            __m256d e0 = b0, e1 = b1, e2 = b2, e3 = b3;
            const double *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m256d xa = _mm256_loadu_pd(x), xb = _mm256_loadu_pd(x + 4);
                __m256d w0 = _mm256_broadcast_sd(w), w1 = _mm256_broadcast_sd(w + 1),
                    w2 = _mm256_broadcast_sd(w + 2), w3 = _mm256_broadcast_sd(w + 3);
                a0 = _mm256_fmadd_pd(xa, w0, a0);
                e0 = _mm256_fmadd_pd(xb, w0, e0);
                a1 = _mm256_fmadd_pd(xa, w1, a1);
                e1 = _mm256_fmadd_pd(xb, w1, e1);
                a2 = _mm256_fmadd_pd(xa, w2, a2);
                e2 = _mm256_fmadd_pd(xb, w2, e2);
                a3 = _mm256_fmadd_pd(xa, w3, a3);
                e3 = _mm256_fmadd_pd(xb, w3, e3);
            }
            double *y = out + c + (size_t) ld * o;
            store_act2(act, y, a0, e0);
            y += ld;
            store_act2(act, y, a1, e1);
            y += ld;
            store_act2(act, y, a2, e2);
            y += ld;
            store_act2(act, y, a3, e3);
        }
    }
    for (; o < nout; o++) {
        const __m256d b0 = _mm256_broadcast_sd(b + o);
        for (int c = 0; c < ld; c += 8) {
            __m256d a0 = b0, e0 = b0;
            const double *x = in + c, *w = W + o;
            for (int i = 0; i < nin; i++, x += ld, w += nout) {
                __m256d w0 = _mm256_broadcast_sd(w);
                a0 = _mm256_fmadd_pd(_mm256_loadu_pd(x), w0, a0);
                e0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + 4), w0, e0);
            }
            double *y = out + c + (size_t) ld * o;
            store_act2(act, y, a0, e0);
        }
    }
    if (act == NN_TANH) act_inplace(act, (size_t) ld * nout, out);
}

/* Training forward layer: h = act(in . W^T + b), dv = act'(...). */
static AVX2 void dense_deriv_avx2(int ld, int nin, int nout, const double *in,
                                  const double *W, const double *b, double *h,
                                  double *dv, int act)
{
    if (act == NN_TANH) {
        dense_avx2(ld, nin, nout, in, W, b, h, -1);
        for (int o = 0; o < nout; o++)
            kern_bias_act_deriv(act, ld, 0.0, h + (size_t) o * ld, h + (size_t) o * ld,
                      dv + (size_t) o * ld);
        return;
    }
    dense_avx2(ld, nin, nout, in, W, b, h, -1);
    size_t len = (size_t) ld * nout;
    for (size_t i = 0; i < len; i += 4) {
        __m256d hv, dd;
        act_deriv_avx2(act, _mm256_loadu_pd(h + i), &hv, &dd);
        _mm256_storeu_pd(h + i, hv);
        _mm256_storeu_pd(dv + i, dd);
    }
}

static AVX2 void layer0_avx2(int ld, int d, int H1, const double *z,
                             const double *cx, const double *ct,
                             const double *W0, double *out, int act)
{
    for (int o = 0; o < H1; o++) {
        const __m256d cto = _mm256_broadcast_sd(ct + o);
        const double *cxo = cx + (size_t) o * ld;
        double *y = out + (size_t) o * ld;
        for (int c = 0; c < ld; c += 8) {
            __m256d a = _mm256_add_pd(_mm256_loadu_pd(cxo + c), cto);
            __m256d e = _mm256_add_pd(_mm256_loadu_pd(cxo + c + 4), cto);
            for (int k = 0; k < d; k++) {
                __m256d w = _mm256_broadcast_sd(W0 + o + (size_t) H1 * k);
                const double *zk = z + c + (size_t) k * ld;
                a = _mm256_fmadd_pd(w, _mm256_loadu_pd(zk), a);
                e = _mm256_fmadd_pd(w, _mm256_loadu_pd(zk + 4), e);
            }
            store_act2(act, y + c, a, e);
        }
    }
    if (act == NN_TANH) act_inplace(act, (size_t) ld * H1, out);
}

static inline AVX2 double hsum_avx2(__m256d v)
{
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    lo = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

/* gW (nout x nin) += G^T . H and gb += column sums of G, for G (ld x nout)
 * and H (ld x nin).  Tiles of 2 units x 4 inputs, 8 accumulators. */
static AVX2 void grad_w_avx2(int ld, int nin, int nout, const double *G,
                             const double *H, double *gW, double *gb)
{
    for (int o = 0; o < nout; o++) {
        const double *g = G + (size_t) o * ld;
        __m256d s = _mm256_setzero_pd();
        for (int c = 0; c < ld; c += 4) s = _mm256_add_pd(s, _mm256_loadu_pd(g + c));
        gb[o] += hsum_avx2(s);
    }
    int o = 0;
    for (; o + 2 <= nout; o += 2) {
        const double *g0 = G + (size_t) o * ld, *g1 = g0 + ld;
        int i = 0;
        for (; i + 4 <= nin; i += 4) {
            const double *h0 = H + (size_t) i * ld, *h1 = h0 + ld,
                *h2 = h1 + ld, *h3 = h2 + ld;
            __m256d a00 = _mm256_setzero_pd(), a01 = a00, a02 = a00, a03 = a00,
                a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            for (int c = 0; c < ld; c += 4) {
                __m256d u = _mm256_loadu_pd(g0 + c), v = _mm256_loadu_pd(g1 + c);
                __m256d x0 = _mm256_loadu_pd(h0 + c), x1 = _mm256_loadu_pd(h1 + c),
                    x2 = _mm256_loadu_pd(h2 + c), x3 = _mm256_loadu_pd(h3 + c);
                a00 = _mm256_fmadd_pd(u, x0, a00);
                a01 = _mm256_fmadd_pd(u, x1, a01);
                a02 = _mm256_fmadd_pd(u, x2, a02);
                a03 = _mm256_fmadd_pd(u, x3, a03);
                a10 = _mm256_fmadd_pd(v, x0, a10);
                a11 = _mm256_fmadd_pd(v, x1, a11);
                a12 = _mm256_fmadd_pd(v, x2, a12);
                a13 = _mm256_fmadd_pd(v, x3, a13);
            }
            double *w = gW + o + (size_t) nout * i;
            w[0] += hsum_avx2(a00);
            w[1] += hsum_avx2(a10);
            w += nout;
            w[0] += hsum_avx2(a01);
            w[1] += hsum_avx2(a11);
            w += nout;
            w[0] += hsum_avx2(a02);
            w[1] += hsum_avx2(a12);
            w += nout;
            w[0] += hsum_avx2(a03);
            w[1] += hsum_avx2(a13);
        }
        for (; i < nin; i++) {
            const double *h0 = H + (size_t) i * ld;
            __m256d a0 = _mm256_setzero_pd(), a1 = a0;
            for (int c = 0; c < ld; c += 4) {
                __m256d x0 = _mm256_loadu_pd(h0 + c);
                a0 = _mm256_fmadd_pd(_mm256_loadu_pd(g0 + c), x0, a0);
                a1 = _mm256_fmadd_pd(_mm256_loadu_pd(g1 + c), x0, a1);
            }
            gW[o + (size_t) nout * i] += hsum_avx2(a0);
            gW[o + 1 + (size_t) nout * i] += hsum_avx2(a1);
        }
    }
    for (; o < nout; o++) {
        const double *g0 = G + (size_t) o * ld;
        for (int i = 0; i < nin; i++) {
            const double *h0 = H + (size_t) i * ld;
            __m256d a0 = _mm256_setzero_pd(), a1 = a0;
            for (int c = 0; c < ld; c += 8) {
                a0 = _mm256_fmadd_pd(_mm256_loadu_pd(g0 + c), _mm256_loadu_pd(h0 + c), a0);
                a1 = _mm256_fmadd_pd(_mm256_loadu_pd(g0 + c + 4),
                                     _mm256_loadu_pd(h0 + c + 4), a1);
            }
            gW[o + (size_t) nout * i] += hsum_avx2(_mm256_add_pd(a0, a1));
        }
    }
}

/* Gn (ld x nin) = (G (ld x nout) . W (nout x nin)) * dv.  Tiles of 8 rows
 * x 4 inputs. */
static AVX2 void back_h_avx2(int ld, int nin, int nout, const double *G,
                             const double *W, const double *dv, double *Gn)
{
    int i = 0;
    for (; i + 4 <= nin; i += 4) {
        const double *w0 = W + (size_t) nout * i, *w1 = w0 + nout,
            *w2 = w1 + nout, *w3 = w2 + nout;
        for (int c = 0; c < ld; c += 8) {
            __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0,
                e0 = a0, e1 = a0, e2 = a0, e3 = a0;
            const double *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                __m256d ga = _mm256_loadu_pd(g), gb = _mm256_loadu_pd(g + 4);
                __m256d v0 = _mm256_broadcast_sd(w0 + o), v1 = _mm256_broadcast_sd(w1 + o),
                    v2 = _mm256_broadcast_sd(w2 + o), v3 = _mm256_broadcast_sd(w3 + o);
                a0 = _mm256_fmadd_pd(ga, v0, a0);
                e0 = _mm256_fmadd_pd(gb, v0, e0);
                a1 = _mm256_fmadd_pd(ga, v1, a1);
                e1 = _mm256_fmadd_pd(gb, v1, e1);
                a2 = _mm256_fmadd_pd(ga, v2, a2);
                e2 = _mm256_fmadd_pd(gb, v2, e2);
                a3 = _mm256_fmadd_pd(ga, v3, a3);
                e3 = _mm256_fmadd_pd(gb, v3, e3);
            }
            size_t m = c + (size_t) ld * i;
            _mm256_storeu_pd(Gn + m, _mm256_mul_pd(a0, _mm256_loadu_pd(dv + m)));
            _mm256_storeu_pd(Gn + m + 4, _mm256_mul_pd(e0, _mm256_loadu_pd(dv + m + 4)));
            m += ld;
            _mm256_storeu_pd(Gn + m, _mm256_mul_pd(a1, _mm256_loadu_pd(dv + m)));
            _mm256_storeu_pd(Gn + m + 4, _mm256_mul_pd(e1, _mm256_loadu_pd(dv + m + 4)));
            m += ld;
            _mm256_storeu_pd(Gn + m, _mm256_mul_pd(a2, _mm256_loadu_pd(dv + m)));
            _mm256_storeu_pd(Gn + m + 4, _mm256_mul_pd(e2, _mm256_loadu_pd(dv + m + 4)));
            m += ld;
            _mm256_storeu_pd(Gn + m, _mm256_mul_pd(a3, _mm256_loadu_pd(dv + m)));
            _mm256_storeu_pd(Gn + m + 4, _mm256_mul_pd(e3, _mm256_loadu_pd(dv + m + 4)));
        }
    }
    for (; i < nin; i++) {
        const double *w0 = W + (size_t) nout * i;
        for (int c = 0; c < ld; c += 8) {
            __m256d a0 = _mm256_setzero_pd(), e0 = a0;
            const double *g = G + c;
            for (int o = 0; o < nout; o++, g += ld) {
                __m256d v0 = _mm256_broadcast_sd(w0 + o);
                a0 = _mm256_fmadd_pd(_mm256_loadu_pd(g), v0, a0);
                e0 = _mm256_fmadd_pd(_mm256_loadu_pd(g + 4), v0, e0);
            }
            size_t m = c + (size_t) ld * i;
            _mm256_storeu_pd(Gn + m, _mm256_mul_pd(a0, _mm256_loadu_pd(dv + m)));
            _mm256_storeu_pd(Gn + m + 4, _mm256_mul_pd(e0, _mm256_loadu_pd(dv + m + 4)));
        }
    }
}

/* sin and cos of 4 arguments with |x| <= 1e5: reduction by multiples of
 * pi/2 in three parts (Cody-Waite), Taylor polynomials of degree 15 (sin)
 * and 16 (cos) on [-pi/4, pi/4], then the quadrant's swap and signs. */
static inline AVX2 void sincos_avx2(__m256d x, __m256d *so, __m256d *co)
{
    const __m256d twoopi = _mm256_set1_pd(SC_TWO_OVER_PI);
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    const __m256d p1 = _mm256_set1_pd(SC_PIO2_1),
        p2 = _mm256_set1_pd(SC_PIO2_2),
        p3 = _mm256_set1_pd(SC_PIO2_3);
    __m256d t = _mm256_fmadd_pd(x, twoopi, magic);
    __m256d q = _mm256_sub_pd(t, magic);
    __m256d r = _mm256_fnmadd_pd(q, p1, x);
    r = _mm256_fnmadd_pd(q, p2, r);
    r = _mm256_fnmadd_pd(q, p3, r);
    __m256d r2 = _mm256_mul_pd(r, r);
    /* sin r = r (1 - r^2/3! + ... + r^14/15!) */
    __m256d ps = _mm256_set1_pd(SC_S15);
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-SC_S13));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(SC_S11));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-SC_S9));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(SC_S7));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-SC_S5));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(SC_S3));
    ps = _mm256_mul_pd(ps, r2);
    __m256d sr = _mm256_fnmadd_pd(ps, r, r);
    /* cos r = 1 - r^2/2! + ... + r^16/16! */
    __m256d pc = _mm256_set1_pd(SC_C16);
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-SC_C14));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(SC_C12));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-SC_C10));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(SC_C8));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-SC_C6));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(SC_C4));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-0.5));
    __m256d cr = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(1.0));
    /* quadrant k = q mod 4: sin x = (sr, cr, -sr, -cr)[k],
     * cos x = (cr, -sr, -cr, sr)[k] */
    __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(magic));
    __m256i one = _mm256_set1_epi64x(1), two = _mm256_set1_epi64x(2);
    __m256d swap = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(k, one), one));
    __m256d sgn_s = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_and_si256(k, two), 62));
    __m256d sgn_c = _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_and_si256(_mm256_add_epi64(k, one), two), 62));
    __m256d s = _mm256_blendv_pd(sr, cr, swap), c = _mm256_blendv_pd(cr, sr, swap);
    *so = _mm256_xor_pd(s, sgn_s);
    *co = _mm256_xor_pd(c, sgn_c);
}

static AVX2 void sincos_rows_avx2(int n, double f, const double *t, double *s,
                                  double *c)
{
    const __m256d fv = _mm256_set1_pd(f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d sv, cv;
        sincos_avx2(_mm256_mul_pd(fv, _mm256_loadu_pd(t + i)), &sv, &cv);
        _mm256_storeu_pd(s + i, sv);
        _mm256_storeu_pd(c + i, cv);
    }
    for (; i < n; i++) {
        s[i] = sin(f * t[i]);
        c[i] = cos(f * t[i]);
    }
}

/* The loops of an optimiser step over the weights, 4 doubles at a time
 * with the operations of the scalar loops of their kern_ functions, so
 * that the results are the same bits; each returns how many elements it
 * did (a multiple of 4).  Compiled for AVX without FMA: gcc would
 * otherwise fuse a multiply and an add into one rounding. */

/* to_float() of 4 doubles: the values beyond +-FLT_MAX replaced by
 * +-infinity with bitwise selects (gcc 12 turns _mm256_blendv_pd() with
 * constant operands into a branch per lane, ten times as slow), then
 * rounded */
static inline __attribute__((target("avx"))) __m128 to_float4_avx(__m256d v)
{
    const __m256d hi = _mm256_set1_pd(FLT_MAX), lo = _mm256_set1_pd(-FLT_MAX),
        pinf = _mm256_set1_pd(INFINITY), ninf = _mm256_set1_pd(-INFINITY);
    __m256d gt = _mm256_cmp_pd(v, hi, _CMP_GT_OQ), lt = _mm256_cmp_pd(v, lo, _CMP_LT_OQ);
    __m256d inf = _mm256_or_pd(_mm256_and_pd(gt, pinf), _mm256_and_pd(lt, ninf));
    return _mm256_cvtpd_ps(_mm256_or_pd(_mm256_andnot_pd(_mm256_or_pd(gt, lt), v), inf));
}

/* b e + (1 - b) x, as ema_step(), with vb = b and vc = 1 - b */
static inline __attribute__((target("avx"))) __m256d ema4_avx(__m256d vb, __m256d vc,
                                                              __m256d e, __m256d x)
{
    return _mm256_add_pd(_mm256_mul_pd(vb, e), _mm256_mul_pd(vc, x));
}

/* kern_adam()'s update, and in the same pass its moving average (ema not
 * NULL) and float copy (thf not NULL) of the new weights. */
static __attribute__((target("avx"))) size_t adam_avx(
    size_t npar, double *theta, const double *grad, double *m, double *v,
    double lr, double beta1, double beta2, double eps, double wd, double c1,
    double c2, double *ema, double eb, float *thf)
{
    const __m256d b1 = _mm256_set1_pd(beta1), b2 = _mm256_set1_pd(beta2),
        ob1 = _mm256_set1_pd(1.0 - beta1), ob2 = _mm256_set1_pd(1.0 - beta2),
        vc1 = _mm256_set1_pd(c1), vc2 = _mm256_set1_pd(c2),
        veps = _mm256_set1_pd(eps), vwd = _mm256_set1_pd(wd), vlr = _mm256_set1_pd(lr),
        veb = _mm256_set1_pd(eb), vec = _mm256_set1_pd(1.0 - eb);
    size_t i = 0;
    for (; i + 4 <= npar; i += 4) {
        __m256d g = _mm256_loadu_pd(grad + i), th = _mm256_loadu_pd(theta + i);
        __m256d mi = _mm256_add_pd(_mm256_mul_pd(b1, _mm256_loadu_pd(m + i)),
                                   _mm256_mul_pd(ob1, g));
        __m256d vi = _mm256_add_pd(_mm256_mul_pd(b2, _mm256_loadu_pd(v + i)),
                                   _mm256_mul_pd(_mm256_mul_pd(ob2, g), g));
        _mm256_storeu_pd(m + i, mi);
        _mm256_storeu_pd(v + i, vi);
        __m256d den = _mm256_add_pd(_mm256_sqrt_pd(_mm256_mul_pd(vi, vc2)), veps);
        __m256d step = _mm256_add_pd(_mm256_div_pd(_mm256_mul_pd(mi, vc1), den),
                                     _mm256_mul_pd(vwd, th));
        th = _mm256_sub_pd(th, _mm256_mul_pd(vlr, step));
        _mm256_storeu_pd(theta + i, th);
        if (ema)
            _mm256_storeu_pd(ema + i, ema4_avx(veb, vec, _mm256_loadu_pd(ema + i), th));
        if (thf) _mm_storeu_ps(thf + i, to_float4_avx(th));
    }
    return i;
}

static __attribute__((target("avx"))) size_t to_float_avx(size_t n, const double *src,
                                                          float *dst)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, to_float4_avx(_mm256_loadu_pd(src + i)));
    return i;
}

static __attribute__((target("avx"))) size_t ema_avx(size_t n, double *ema,
                                                     const double *theta, double b)
{
    const __m256d vb = _mm256_set1_pd(b), vc = _mm256_set1_pd(1.0 - b);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(ema + i, ema4_avx(vb, vc, _mm256_loadu_pd(ema + i),
                                           _mm256_loadu_pd(theta + i)));
    return i;
}

static __attribute__((target("avx"))) size_t add_to_avx(size_t n, double *y, const double *x)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, _mm256_add_pd(_mm256_loadu_pd(y + i), _mm256_loadu_pd(x + i)));
    return i;
}

/* Sets *bad when an element is not finite (x * 0 is then NaN). */
static __attribute__((target("avx"))) size_t finite_avx(size_t n, const double *x, int *bad)
{
    const __m256d zero = _mm256_setzero_pd();
    __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_mul_pd(_mm256_loadu_pd(x + i), zero),
                                             zero, _CMP_EQ_OQ));
    *bad = _mm256_movemask_pd(ok) != 0xF;
    return i;
}
#endif /* SBCG_X86 */

/* ------------------------------------------------------------------ */
/* dispatch                                                            */

/* Whether the AVX2 kernels run: the caller's set is AVX2 or AVX-512
 * (whose double-precision kernels are the AVX2 ones) and they were
 * compiled.  Every ld is a multiple of KERN_PAD (kern_ld). */
static inline int use_avx2(int kern)
{
#ifdef SBCG_X86
    return kern >= KERN_AVX2;
#else
    (void) kern;
    return 0;
#endif
}

void kern_dense(int kern, int ld, int nin, int nout, const double *in,
                const double *W, const double *b, double *out, int act)
{
#ifdef SBCG_X86
    if (use_avx2(kern)) {
        dense_avx2(ld, nin, nout, in, W, b, out, act);
        return;
    }
#endif
    dense_portable(ld, nin, nout, in, W, b, out, act);
}

void kern_layer0(int kern, int ld, int d, int H1, const double *z,
                 const double *cx, const double *ct, const double *W0,
                 double *out, int act)
{
#ifdef SBCG_X86
    if (use_avx2(kern)) {
        layer0_avx2(ld, d, H1, z, cx, ct, W0, out, act);
        return;
    }
#endif
    layer0_portable(ld, d, H1, z, cx, ct, W0, out, act);
}

/* The training kernels: the forward layer with the activation's
 * derivative, the weight gradient and the back-propagated gradient. */
void kern_dense_deriv(int kern, int ld, int nin, int nout, const double *in,
                      const double *W, const double *b, double *h,
                      double *dv, int act)
{
#ifdef SBCG_X86
    if (use_avx2(kern)) {
        dense_deriv_avx2(ld, nin, nout, in, W, b, h, dv, act);
        return;
    }
#endif
    dense_deriv_portable(ld, nin, nout, in, W, b, h, dv, act);
}

void kern_grad_w(int kern, int ld, int nin, int nout, const double *G,
                 const double *H, double *gW, double *gb)
{
#ifdef SBCG_X86
    if (use_avx2(kern)) {
        grad_w_avx2(ld, nin, nout, G, H, gW, gb);
        return;
    }
#endif
    grad_w_portable(ld, nin, nout, G, H, gW, gb);
}

void kern_back_h(int kern, int ld, int nin, int nout, const double *G,
                 const double *W, const double *dv, double *Gn)
{
#ifdef SBCG_X86
    if (use_avx2(kern)) {
        back_h_avx2(ld, nin, nout, G, W, dv, Gn);
        return;
    }
#endif
    back_h_portable(ld, nin, nout, G, W, dv, Gn);
}

/* sin and cos of x with |x| <= 1e5, for the portable kernels: the method
 * of sincos_avx2() (the same reduction and polynomials, each fused
 * multiply-add as a multiply and an add), in plain C that gcc vectorises
 * at -O2 and that computes both values for about the price of one of
 * libm's calls, which took a third of the portable kernels' training time
 * for the paper's recipe network (the time embedding of every row of
 * every batch).  Accurate to a few units in the last place. */
static inline void sincos_portable(double x, double *so, double *co)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    double t = x * SC_TWO_OVER_PI + magic;
    double q = t - magic;
    double r = x - q * SC_PIO2_1;
    r = r - q * SC_PIO2_2;
    r = r - q * SC_PIO2_3;
    double r2 = r * r;
    double ps = SC_S15;
    ps = ps * r2 - SC_S13;
    ps = ps * r2 + SC_S11;
    ps = ps * r2 - SC_S9;
    ps = ps * r2 + SC_S7;
    ps = ps * r2 - SC_S5;
    ps = ps * r2 + SC_S3;
    double sr = r - ps * r2 * r;
    double pc = SC_C16;
    pc = pc * r2 - SC_C14;
    pc = pc * r2 + SC_C12;
    pc = pc * r2 - SC_C10;
    pc = pc * r2 + SC_C8;
    pc = pc * r2 - SC_C6;
    pc = pc * r2 + SC_C4;
    pc = pc * r2 - 0.5;
    double cr = pc * r2 + 1.0;
    /* the quadrant k = q mod 4 from t's low mantissa bits (two's
     * complement for q < 0): sin x = (sr, cr, -sr, -cr)[k], cos x = (cr,
     * -sr, -cr, sr)[k]; the swap and the signs in integer operations on
     * the bits, which SSE2 has for 64-bit lanes (it lacks 64-bit
     * compares, which a conditional on k would need) */
    uint64_t kt, km, sb, cb;
    memcpy(&kt, &t, sizeof kt);
    memcpy(&km, &magic, sizeof km);
    memcpy(&sb, &sr, sizeof sb);
    memcpy(&cb, &cr, sizeof cb);
    uint64_t k = kt - km, swap = (uint64_t) 0 - (k & 1u);
    uint64_t so_b = ((sb & ~swap) | (cb & swap)) ^ ((k & 2u) << 62),
        co_b = ((cb & ~swap) | (sb & swap)) ^ (((k + 1u) & 2u) << 62);
    memcpy(so, &so_b, sizeof so_b);
    memcpy(co, &co_b, sizeof co_b);
}

/* s[i] = sin(f t[i]), c[i] = cos(f t[i]) for i < n: the time embedding of
 * a batch.  tmax bounds |t[i]| (the caller computes it once for all
 * frequencies); the reduction of sincos_avx2() and sincos_portable() is
 * used while |f| tmax <= 1e5, libm beyond. */
void kern_sincos(int kern, int n, double f, const double *t, double tmax,
                 double *s, double *c)
{
    if (fabs(f) * tmax <= 1e5) {
#ifdef SBCG_X86
        if (use_avx2(kern)) {
            sincos_rows_avx2(n, f, t, s, c);
            return;
        }
#else
        (void) kern;
#endif
        /* in blocks of 8 through local arrays, which gcc vectorises */
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            double x[8], sv[8], cv[8];
            for (int r = 0; r < 8; r++) x[r] = f * t[i + r];
            for (int r = 0; r < 8; r++) sincos_portable(x[r], sv + r, cv + r);
            memcpy(s + i, sv, sizeof sv);
            memcpy(c + i, cv, sizeof cv);
        }
        for (; i < n; i++) sincos_portable(f * t[i], s + i, c + i);
        return;
    }
    for (int i = 0; i < n; i++) {
        s[i] = sin(f * t[i]);
        c[i] = cos(f * t[i]);
    }
}

/* One step of the weights' moving average: b e + (1 - b) x (kern_ema(),
 * kern_adam()). */
static inline double ema_step(double b, double e, double x)
{
    return b * e + (1.0 - b) * x;
}

#ifdef V2_SQRT
/* kern_adam()'s update of two weights at a time, with the operations, in
 * the same order, of its scalar loop (and ema_step(), to_float()); the
 * portable kernels' version of adam_avx().  Returns the number of weights
 * done (npar rounded down to even). */
static size_t adam_v2(size_t npar, double *theta, const double *grad, double *m, double *v,
                      double lr, double beta1, double beta2, double eps, double wd,
                      double c1, double c2, double *ema, double eb, float *thf)
{
    const v2 b1 = v2_set(beta1), b2 = v2_set(beta2), ob1 = v2_set(1.0 - beta1),
        ob2 = v2_set(1.0 - beta2), vc1 = v2_set(c1), vc2 = v2_set(c2), veps = v2_set(eps),
        vwd = v2_set(wd), vlr = v2_set(lr), veb = v2_set(eb), vec = v2_set(1.0 - eb);
    size_t i = 0;
    for (; i + 2 <= npar; i += 2) {
        v2 g = v2_load(grad + i), th = v2_load(theta + i);
        v2 mi = b1 * v2_load(m + i) + ob1 * g;
        v2 vi = b2 * v2_load(v + i) + ob2 * g * g;
        v2_store(m + i, mi);
        v2_store(v + i, vi);
        th = th - vlr * ((mi * vc1) / (v2_sqrt(vi * vc2) + veps) + vwd * th);
        v2_store(theta + i, th);
        if (ema) v2_store(ema + i, veb * v2_load(ema + i) + vec * th);
        if (thf) {
            thf[i] = to_float(th[0]);
            thf[i + 1] = to_float(th[1]);
        }
    }
    return i;
}
#endif

/* Adam with decoupled weight decay (AdamW):
 *   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
 *   theta <- theta - lr (mhat / (sqrt(vhat) + eps) + wd theta),
 * mhat = m / (1 - b1^step), vhat = v / (1 - b2^step), step >= 1; then, in
 * the same pass over the weights, ema <- eb ema + (1 - eb) theta
 * (ema_step(); not when ema is NULL) and thetaf <- to_float(theta) (as
 * kern_to_float(); not when thetaf is NULL).  The AVX2 loop, the
 * portable vector one (adam_v2(), where the target has a vector square
 * root) and the scalar one give the same bits on x86-64. */
void kern_adam(int kern, size_t npar, double *theta, const double *grad,
               double *m, double *v, long step, double lr, double beta1,
               double beta2, double eps, double wd, double *ema, double eb,
               float *thetaf)
{
    double c1 = 1.0 / (1.0 - pow(beta1, (double) step));
    double c2 = 1.0 / (1.0 - pow(beta2, (double) step));
    size_t i = 0;
#ifdef SBCG_X86
    if (use_avx2(kern))
        i = adam_avx(npar, theta, grad, m, v, lr, beta1, beta2, eps, wd, c1, c2,
                     ema, eb, thetaf);
#else
    (void) kern;
#endif
#ifdef V2_SQRT
    if (i == 0)
        i = adam_v2(npar, theta, grad, m, v, lr, beta1, beta2, eps, wd, c1, c2, ema, eb,
                    thetaf);
#endif
    for (; i < npar; i++) {
        double g = grad[i];
        m[i] = beta1 * m[i] + (1.0 - beta1) * g;
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
        theta[i] -= lr * ((m[i] * c1) / (sqrt(v[i] * c2) + eps) +
                          wd * theta[i]);
        if (ema) ema[i] = ema_step(eb, ema[i], theta[i]);
        if (thetaf) thetaf[i] = to_float(theta[i]);
    }
}

/* dst[i] = to_float(src[i]) for i < n. */
void kern_to_float(int kern, size_t n, const double *src, float *dst)
{
    size_t i = 0;
#ifdef SBCG_X86
    if (use_avx2(kern)) i = to_float_avx(n, src, dst);
#else
    (void) kern;
#endif
    for (; i < n; i++) dst[i] = to_float(src[i]);
}

/* ema[i] = b ema[i] + (1 - b) theta[i] for i < n. */
void kern_ema(int kern, size_t n, double *ema, const double *theta, double b)
{
    size_t i = 0;
#ifdef SBCG_X86
    if (use_avx2(kern)) i = ema_avx(n, ema, theta, b);
#else
    (void) kern;
#endif
    for (; i < n; i++) ema[i] = ema_step(b, ema[i], theta[i]);
}

/* y[i] += x[i] for i < n. */
void kern_add_to(int kern, size_t n, double *y, const double *x)
{
    size_t i = 0;
#ifdef SBCG_X86
    if (use_avx2(kern)) i = add_to_avx(n, y, x);
#else
    (void) kern;
#endif
    for (; i < n; i++) y[i] += x[i];
}

/* Whether x[i] is finite for every i < n. */
int kern_all_finite(int kern, size_t n, const double *x)
{
    size_t i = 0;
    int bad = 0;
#ifdef SBCG_X86
    if (use_avx2(kern)) i = finite_avx(n, x, &bad);
#else
    (void) kern;
#endif
    for (; i < n && !bad; i++) bad = !isfinite(x[i]);
    return !bad;
}
