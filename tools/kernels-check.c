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
 *   The single-precision dense layer with SiLU (kern_dense_f) and with
 *     its derivative (kern_dense_deriv_f), pre-activations from -5e5 to
 *     5e5 among ordinary ones, against x / (1 + exp(-x)) in double:
 *     relative error (absolute below 1) under 1e-5, float rounding of
 *     sums of three products.
 *   Training's backward pass in single precision: the weight gradient
 *     (kern_grad_w_f, gW += G^T H and gb += the column sums of G) and the
 *     back-propagated gradient (kern_back_h_f, Gn = (G W^T) * dv), 24 rows
 *     x 7 inputs x 6 outputs (widths that leave partial tiles), against
 *     the same sums in double: error relative to the sum of the terms'
 *     magnitudes under 1e-6 (float rounding of sums of up to 24 terms).
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

static int check_dense(void)
{
    enum { LD = 16, NIN = 3, NOUT = 5 };
    float in[LD * NIN], W[NIN * NOUT], b[NOUT], out[LD * NOUT], h[LD * NOUT], dv[LD * NOUT];
    for (int i = 0; i < LD * NIN; i++) in[i] = (float) (40 * (urand() - 0.5));
    in[0] = 1e6f;
    in[1] = -1e6f;
    in[2] = 90.0f;
    in[3] = -90.0f;
    for (int i = 0; i < NIN * NOUT; i++) W[i] = (float) (urand() - 0.5);
    for (int i = 0; i < NOUT; i++) b[i] = (float) (0.1 * (urand() - 0.5));
    kern_dense_f(KERN_PORTABLE, LD, NIN, NOUT, in, W, b, out, NN_SILU);
    kern_dense_deriv_f(KERN_PORTABLE, LD, NIN, NOUT, in, W, b, h, dv, NN_SILU);
    double e = 0, ed = 0;
    for (int o = 0; o < NOUT; o++)
        for (int r = 0; r < LD; r++) {
            double a = b[o];
            for (int i = 0; i < NIN; i++) a += (double) in[r + i * LD] * W[o + i * NOUT];
            double s = 1.0 / (1.0 + exp(-a)), y = a * s, d = s * (1.0 + a * (1.0 - s));
            size_t k = (size_t) r + (size_t) o * LD;
            e = fmax(e, fabs(out[k] - y) / fmax(1.0, fabs(y)));
            e = fmax(e, fabs(h[k] - y) / fmax(1.0, fabs(y)));
            ed = fmax(ed, fabs(dv[k] - d) / fmax(1.0, fabs(d)));
        }
    return report("float dense layer, SiLU", e, 1e-5) &
        report("float dense layer, SiLU derivative", ed, 1e-5);
}

static int check_backward(void)
{
    enum { LD = 24, NIN = 7, NOUT = 6 };
    float G[LD * NOUT], H[LD * NIN], W[NIN * NOUT], dv[LD * NIN], Gn[LD * NIN];
    double gW[NOUT * NIN], gb[NOUT];
    for (int i = 0; i < LD * NOUT; i++) G[i] = (float) (urand() - 0.5);
    for (int i = 0; i < LD * NIN; i++) {
        H[i] = (float) (4 * (urand() - 0.5));
        dv[i] = (float) urand();
    }
    for (int i = 0; i < NIN * NOUT; i++) W[i] = (float) (urand() - 0.5);
    for (int i = 0; i < NOUT * NIN; i++) gW[i] = 0.25;
    for (int o = 0; o < NOUT; o++) gb[o] = -0.5;
    kern_grad_w_f(KERN_PORTABLE, LD, NIN, NOUT, G, H, gW, gb);
    kern_back_h_f(KERN_PORTABLE, LD, NIN, NOUT, G, W, dv, Gn);
    double ew = 0, eb = 0, eh = 0;
    for (int o = 0; o < NOUT; o++) {
        double sb = 0, ab = 0;
        for (int r = 0; r < LD; r++) {
            sb += G[r + LD * o];
            ab += fabs(G[r + LD * o]);
        }
        eb = fmax(eb, fabs(gb[o] - (-0.5 + sb)) / fmax(ab, 1e-300));
        for (int i = 0; i < NIN; i++) {
            double sw = 0, aw = 0;
            for (int r = 0; r < LD; r++) {
                double t = (double) G[r + LD * o] * H[r + LD * i];
                sw += t;
                aw += fabs(t);
            }
            ew = fmax(ew, fabs(gW[o + NOUT * i] - (0.25 + sw)) / aw);
        }
    }
    for (int i = 0; i < NIN; i++)
        for (int r = 0; r < LD; r++) {
            double sh = 0, ah = 0;
            for (int o = 0; o < NOUT; o++) {
                double t = (double) G[r + LD * o] * W[o + NOUT * i];
                sh += t;
                ah += fabs(t);
            }
            eh = fmax(eh, fabs(Gn[r + LD * i] - sh * dv[r + LD * i]) /
                              (ah * fabs(dv[r + LD * i]) + 1e-30));
        }
    return report("float weight gradient", ew, 1e-6) &
        report("float bias gradient", eb, 1e-6) &
        report("float back-propagated gradient", eh, 1e-6);
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
    ok &= check_dense();
    ok &= check_backward();
    ok &= check_sincos();
    puts(ok ? "all checks passed" : "a check FAILED");
    return ok ? 0 : 1;
}
