/*
 * kernels-check.c -- runs the portable kernels of src/kernels.c and
 * src/kernels32.c on fixed inputs against plain C references, outside R:
 * tools/check-arm64.sh builds it for arm64 and runs it under qemu, which
 * executes the NEON code that no machine here runs natively.  Exit
 * status 0 when every check holds, 1 otherwise.
 *
 *   Adam (kern_adam): 37 weights (an odd count: the vector loop and the
 *     scalar one for the last weight), five steps, against the scalar
 *     update written out here; the float copy of the weights within one
 *     float rounding.
 *   The dense layer with SiLU (kern_dense_f, kern_dense) and with its
 *     derivative (kern_dense_deriv_f, kern_dense_deriv), pre-activations
 *     from -5e5 to 5e5 among ordinary ones, against x / (1 + exp(-x)) in
 *     double: relative error (absolute below 1) under 1e-5 in single
 *     precision (float rounding of sums of three products), 1e-12 in
 *     double.
 *   Training's backward pass: the weight gradient (kern_grad_w_f,
 *     kern_grad_w: gW += G^T H and gb += the column sums of G) and the
 *     back-propagated gradient (kern_back_h_f, kern_back_h:
 *     Gn = (G W^T) * dv), 24 rows x 7 inputs x 6 outputs (widths that
 *     leave partial tiles), against the same sums in double: error
 *     relative to the sum of the terms' magnitudes under 1e-6 in single
 *     precision (float rounding of sums of up to 24 terms), 1e-14 in
 *     double.
 *   Both precisions see the same inputs (drawn as floats).
 *   The time embedding (kern_sincos) at 203 times, against libm's sin()
 *     and cos(): absolute error under 1e-13.
 */
#include <math.h>
#include <stdio.h>
#include "sbcg.h"

static unsigned long long state = 12345;
static double urand(void)
{
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double) (state >> 11) / 9007199254740992.0;
}

static int report(const char *what, double err, double tol)
{
    int ok = err <= tol;
    printf("%-44s %10.3g  (tolerance %g)  %s\n", what, err, tol, ok ? "ok" : "FAILED");
    return ok;
}

static int check_adam(void)
{
    enum { N = 37 };
    double th[N], g[N], m[N], v[N], ema[N], th2[N], m2[N], v2[N];
    float thf[N];
    for (int i = 0; i < N; i++) {
        th[i] = th2[i] = ema[i] = urand() - 0.5;
        g[i] = 3 * (urand() - 0.5);
        m[i] = m2[i] = 0.1 * urand();
        v[i] = v2[i] = 0.01 * urand();
    }
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 1e-4;
    for (int s = 1; s <= 5; s++) {
        kern_adam(KERN_PORTABLE, N, th, g, m, v, s, lr, b1, b2, eps, wd, ema, 0.99, thf);
        double c1 = 1.0 / (1.0 - pow(b1, s)), c2 = 1.0 / (1.0 - pow(b2, s));
        for (int i = 0; i < N; i++) {
            m2[i] = b1 * m2[i] + (1.0 - b1) * g[i];
            v2[i] = b2 * v2[i] + (1.0 - b2) * g[i] * g[i];
            th2[i] -= lr * ((m2[i] * c1) / (sqrt(v2[i] * c2) + eps) + wd * th2[i]);
        }
    }
    double e = 0, ef = 0;
    for (int i = 0; i < N; i++) {
        e = fmax(e, fabs(th[i] - th2[i]) / fabs(th2[i]));
        ef = fmax(ef, fabs((double) thf[i] - th[i]) / fabs(th[i]));
    }
    /* contracted multiply-adds (arm64) may round differently from the
     * reference's separate ones: a few units in the last place */
    return report("Adam: weights, relative to the scalar update", e, 1e-14) &
        report("Adam: float copy, relative", ef, 6e-8);
}

/* Inputs drawn as floats, so that both precisions see the same values. */
static void fill(double *x, int n, double scale, double shift)
{
    for (int i = 0; i < n; i++) x[i] = (float) (scale * (urand() - shift));
}

/* The kernels of one precision on double arrays: float copies in and out
 * for single precision (at most MAXN values each). */
enum { MAXN = 256 };
static void to_f(const double *x, float *y, int n)
{
    for (int i = 0; i < n; i++) y[i] = (float) x[i];
}
static void of_f(const float *y, double *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = y[i];
}

static void run_dense(int single, int ld, int nin, int nout, const double *in, const double *W,
                      const double *b, double *out, double *h, double *dv)
{
    if (!single) {
        kern_dense(KERN_PORTABLE, ld, nin, nout, in, W, b, out, NN_SILU);
        kern_dense_deriv(KERN_PORTABLE, ld, nin, nout, in, W, b, h, dv, NN_SILU);
        return;
    }
    float fin[MAXN], fW[MAXN], fb[MAXN], fout[MAXN], fh[MAXN], fdv[MAXN];
    to_f(in, fin, ld * nin);
    to_f(W, fW, nin * nout);
    to_f(b, fb, nout);
    kern_dense_f(KERN_PORTABLE, ld, nin, nout, fin, fW, fb, fout, NN_SILU);
    kern_dense_deriv_f(KERN_PORTABLE, ld, nin, nout, fin, fW, fb, fh, fdv, NN_SILU);
    of_f(fout, out, ld * nout);
    of_f(fh, h, ld * nout);
    of_f(fdv, dv, ld * nout);
}

static void run_backward(int single, int ld, int nin, int nout, const double *G,
                         const double *H, const double *W, const double *dv, double *gW,
                         double *gb, double *Gn)
{
    if (!single) {
        kern_grad_w(KERN_PORTABLE, ld, nin, nout, G, H, gW, gb);
        kern_back_h(KERN_PORTABLE, ld, nin, nout, G, W, dv, Gn);
        return;
    }
    float fG[MAXN], fH[MAXN], fW[MAXN], fdv[MAXN], fGn[MAXN];
    to_f(G, fG, ld * nout);
    to_f(H, fH, ld * nin);
    to_f(W, fW, nin * nout);
    to_f(dv, fdv, ld * nin);
    kern_grad_w_f(KERN_PORTABLE, ld, nin, nout, fG, fH, gW, gb);
    kern_back_h_f(KERN_PORTABLE, ld, nin, nout, fG, fW, fdv, fGn);
    of_f(fGn, Gn, ld * nin);
}

static int check_dense(int single)
{
    enum { LD = 16, NIN = 3, NOUT = 5 };
    double in[LD * NIN], W[NIN * NOUT], b[NOUT], out[LD * NOUT], h[LD * NOUT], dv[LD * NOUT];
    fill(in, LD * NIN, 40, 0.5);
    in[0] = 1e6;
    in[1] = -1e6;
    in[2] = 90;
    in[3] = -90;
    fill(W, NIN * NOUT, 1, 0.5);
    fill(b, NOUT, 0.1, 0.5);
    run_dense(single, LD, NIN, NOUT, in, W, b, out, h, dv);
    double e = 0, ed = 0;
    for (int o = 0; o < NOUT; o++)
        for (int r = 0; r < LD; r++) {
            double a = b[o];
            for (int i = 0; i < NIN; i++) a += in[r + i * LD] * W[o + i * NOUT];
            double s = 1.0 / (1.0 + exp(-a)), y = a * s, d = s * (1.0 + a * (1.0 - s));
            size_t k = (size_t) r + (size_t) o * LD;
            e = fmax(e, fabs(out[k] - y) / fmax(1.0, fabs(y)));
            e = fmax(e, fabs(h[k] - y) / fmax(1.0, fabs(y)));
            ed = fmax(ed, fabs(dv[k] - d) / fmax(1.0, fabs(d)));
        }
    double tol = single ? 1e-5 : 1e-12;
    return report(single ? "float dense layer, SiLU" : "double dense layer, SiLU", e, tol) &
        report(single ? "float dense layer, SiLU derivative" :
               "double dense layer, SiLU derivative", ed, tol);
}

/* sum over k < n of a[k sa] b[k sb] (b NULL: of a[k sa]), in double, and
 * in *mag the sum of the terms' magnitudes */
static double sum_terms(int n, const double *a, int sa, const double *b, int sb, double *mag)
{
    double s = 0, m = 0;
    for (int k = 0; k < n; k++) {
        double t = a[(size_t) k * sa] * (b ? b[(size_t) k * sb] : 1.0);
        s += t;
        m += fabs(t);
    }
    *mag = m;
    return s;
}

static int check_backward(int single)
{
    enum { LD = 24, NIN = 7, NOUT = 6 };
    double G[LD * NOUT], H[LD * NIN], W[NIN * NOUT], dv[LD * NIN], Gn[LD * NIN];
    double gW[NOUT * NIN], gb[NOUT];
    fill(G, LD * NOUT, 1, 0.5);
    fill(H, LD * NIN, 4, 0.5);
    fill(dv, LD * NIN, 1, 0);
    fill(W, NIN * NOUT, 1, 0.5);
    for (int i = 0; i < NOUT * NIN; i++) gW[i] = 0.25;
    for (int o = 0; o < NOUT; o++) gb[o] = -0.5;
    run_backward(single, LD, NIN, NOUT, G, H, W, dv, gW, gb, Gn);
    double ew = 0, eb = 0, eh = 0, mag;
    for (int o = 0; o < NOUT; o++) {
        double sb = sum_terms(LD, G + LD * o, 1, NULL, 0, &mag);
        eb = fmax(eb, fabs(gb[o] - (-0.5 + sb)) / mag);
        for (int i = 0; i < NIN; i++) {
            double sw = sum_terms(LD, G + LD * o, 1, H + LD * i, 1, &mag);
            ew = fmax(ew, fabs(gW[o + NOUT * i] - (0.25 + sw)) / mag);
        }
    }
    for (int i = 0; i < NIN; i++)
        for (int r = 0; r < LD; r++) {
            double sh = sum_terms(NOUT, G + r, LD, W + NOUT * i, 1, &mag), d = dv[r + LD * i];
            eh = fmax(eh, fabs(Gn[r + LD * i] - sh * d) / (mag * fabs(d) + 1e-30));
        }
    double tol = single ? 1e-6 : 1e-14;
    return report(single ? "float weight gradient" : "double weight gradient", ew, tol) &
        report(single ? "float bias gradient" : "double bias gradient", eb, tol) &
        report(single ? "float back-propagated gradient" : "double back-propagated gradient",
               eh, tol);
}

static int check_sincos(void)
{
    enum { N = 203 };
    double t[N], s[N], c[N], f = 37.5;
    for (int i = 0; i < N; i++) t[i] = urand();
    kern_sincos(KERN_PORTABLE, N, f, t, 1.0, s, c);
    double e = 0;
    for (int i = 0; i < N; i++)
        e = fmax(e, fmax(fabs(s[i] - sin(f * t[i])), fabs(c[i] - cos(f * t[i]))));
    return report("time embedding, sin and cos", e, 1e-13);
}

int main(void)
{
    int ok = check_adam();
    for (int single = 1; single >= 0; single--) {
        ok &= check_dense(single);
        ok &= check_backward(single);
    }
    ok &= check_sincos();
    puts(ok ? "all checks passed" : "a check FAILED");
    return ok ? 0 : 1;
}
