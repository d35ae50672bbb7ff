/*
 * nn.c -- the denoiser network: parameter layout, time embedding, forward
 * and backward passes over a minibatch, the cached forward pass used by the
 * sampler, and Adam.  Pure C on plain pointers: no R API but the BLAS.
 *
 * The layout of theta and of the activations is described in sbcg.h.
 */
#define USE_FC_LEN_T
#include <R_ext/BLAS.h>
#ifndef FCONE
# define FCONE
#endif
#include <math.h>
#include <string.h>
#include "sbcg.h"

int nn_setup(nn_net *net, int d, int p, int nfreq, const double *freq,
             int nhidden, const int *hidden, int act)
{
    if (d < 1 || p < 0 || nfreq < 0 || nfreq > NN_MAX_FREQ || nhidden < 1 ||
        nhidden > NN_MAX_HIDDEN || act < NN_SILU || act > NN_TANH)
        return 1;
    net->d = d;
    net->p = p;
    net->nfreq = nfreq;
    net->nemb = 2 * nfreq;
    net->nhidden = nhidden;
    net->nlayer = nhidden + 1;
    net->act = act;
    net->freq = freq;
    net->width[0] = d + net->nemb + p;
    for (int l = 0; l < nhidden; l++) {
        if (hidden[l] < 1) return 1;
        net->width[l + 1] = hidden[l];
    }
    net->width[nhidden + 1] = d;
    size_t off = 0;
    int maxw = 0;
    for (int l = 0; l < net->nlayer; l++) {
        net->woff[l] = off;
        off += (size_t) net->width[l + 1] * (size_t) net->width[l];
        net->boff[l] = off;
        off += (size_t) net->width[l + 1];
    }
    for (int l = 0; l <= net->nlayer; l++)
        if (net->width[l] > maxw) maxw = net->width[l];
    net->npar = off;
    net->maxw = maxw;
    return 0;
}

void nn_embed(const nn_net *net, double t, double *e)
{
    int K = net->nfreq;
    for (int k = 0; k < K; k++) {
        e[k] = sin(net->freq[k] * t);
        e[K + k] = cos(net->freq[k] * t);
    }
}

/* Activation in place, without derivative (sampling). */
void nn_activate(int act, size_t len, double *a)
{
    switch (act) {
    case NN_SILU:
        for (size_t i = 0; i < len; i++) a[i] = a[i] / (1.0 + exp(-a[i]));
        break;
    case NN_RELU:
        for (size_t i = 0; i < len; i++) a[i] = a[i] > 0.0 ? a[i] : 0.0;
        break;
    default:
        for (size_t i = 0; i < len; i++) a[i] = tanh(a[i]);
    }
}

/* Bias, activation and its derivative for one column of B pre-activations:
 * h = act(a + b), dv = act'(a + b).  For SiLU, h = a s(a) with the logistic
 * s, and h' = s (1 + a (1 - s)). */
static void bias_act_deriv(int act, int B, double b, const double *a,
                           double *h, double *dv)
{
    switch (act) {
    case NN_SILU:
        for (int i = 0; i < B; i++) {
            double x = a[i] + b, s = 1.0 / (1.0 + exp(-x));
            h[i] = x * s;
            dv[i] = s * (1.0 + x * (1.0 - s));
        }
        break;
    case NN_RELU:
        for (int i = 0; i < B; i++) {
            double x = a[i] + b;
            h[i] = x > 0.0 ? x : 0.0;
            dv[i] = x > 0.0 ? 1.0 : 0.0;
        }
        break;
    default:
        for (int i = 0; i < B; i++) {
            double y = tanh(a[i] + b);
            h[i] = y;
            dv[i] = 1.0 - y * y;
        }
    }
}

/*
 * Training workspace for a chunk of B rows, in doubles:
 *   H_0            B x width[0]          input [z, e(t), x]
 *   H_l, Dv_l      B x width[l] each     l = 1..nhidden: act and act'
 *   out            B x d
 *   G1, G2         B x maxw each         back-propagated gradients
 */
size_t nn_train_ws_size(const nn_net *net, int B)
{
    size_t s = (size_t) net->width[0];
    for (int l = 1; l <= net->nhidden; l++) s += 2 * (size_t) net->width[l];
    s += (size_t) net->d + 2 * (size_t) net->maxw;
    return s * (size_t) B;
}

static void train_ptrs(const nn_net *net, int B, double *ws, double **H,
                       double **Dv, double **out, double **g1, double **g2)
{
    double *p = ws;
    H[0] = p;
    p += (size_t) B * net->width[0];
    for (int l = 1; l <= net->nhidden; l++) {
        H[l] = p;
        p += (size_t) B * net->width[l];
        Dv[l] = p;
        p += (size_t) B * net->width[l];
    }
    *out = p;
    p += (size_t) B * net->d;
    *g1 = p;
    p += (size_t) B * net->maxw;
    *g2 = p;
}

/*
 * Forward pass over B rows whose inputs the caller has written into H_0
 * (the start of ws).  Each layer is one dgemm,
 *     A (B x out) = H_l (B x in) . W_l^T (in x out),
 * followed by one fused pass for bias, activation and derivative.
 * Returns the B x d output, inside ws.
 */
double *nn_forward_train(const nn_net *net, const double *theta, int B,
                         double *ws)
{
    double *H[NN_MAX_HIDDEN + 1], *Dv[NN_MAX_HIDDEN + 1], *out, *g1, *g2;
    const double one = 1.0, zero = 0.0;
    train_ptrs(net, B, ws, H, Dv, &out, &g1, &g2);
    for (int l = 0; l < net->nlayer; l++) {
        int nin = net->width[l], nout = net->width[l + 1];
        const double *W = theta + net->woff[l], *b = theta + net->boff[l];
        double *A = (l + 1 < net->nlayer) ? H[l + 1] : out;
        F77_CALL(dgemm)("N", "T", &B, &nout, &nin, &one, H[l], &B, W, &nout,
                        &zero, A, &B FCONE FCONE);
        if (l + 1 < net->nlayer) {
            for (int o = 0; o < nout; o++)
                bias_act_deriv(net->act, B, b[o], A + (size_t) o * B,
                               A + (size_t) o * B, Dv[l + 1] + (size_t) o * B);
        } else {
            for (int o = 0; o < nout; o++) {
                double *a = A + (size_t) o * B;
                for (int i = 0; i < B; i++) a[i] += b[o];
            }
        }
    }
    return out;
}

/*
 * Backward pass after nn_forward_train on the same ws.  gout (B x d) is
 * dL/d(output); it may alias the output.  Gradients are added to grad
 * (npar).  For layer l with incoming gradient G (B x out):
 *     dW_l (out x in) += G^T (out x B) . H_l (B x in)
 *     db_l            += column sums of G
 *     dH_l (B x in)    = G (B x out) . W_l (out x in),  then times act'.
 */
void nn_backward(const nn_net *net, const double *theta, int B, double *ws,
                 double *gout, double *grad)
{
    double *H[NN_MAX_HIDDEN + 1], *Dv[NN_MAX_HIDDEN + 1], *out, *g1, *g2;
    const double one = 1.0, zero = 0.0;
    train_ptrs(net, B, ws, H, Dv, &out, &g1, &g2);
    double *G = gout, *Gn = g1;
    for (int l = net->nlayer - 1; l >= 0; l--) {
        int nin = net->width[l], nout = net->width[l + 1];
        const double *W = theta + net->woff[l];
        double *gW = grad + net->woff[l], *gb = grad + net->boff[l];
        F77_CALL(dgemm)("T", "N", &nout, &nin, &B, &one, G, &B, H[l], &B,
                        &one, gW, &nout FCONE FCONE);
        for (int o = 0; o < nout; o++) {
            const double *g = G + (size_t) o * B;
            double s = 0.0;
            for (int i = 0; i < B; i++) s += g[i];
            gb[o] += s;
        }
        if (l == 0) break;
        F77_CALL(dgemm)("N", "N", &B, &nin, &nout, &one, G, &B, W, &nout,
                        &zero, Gn, &B FCONE FCONE);
        size_t len = (size_t) B * nin;
        const double *dv = Dv[l];
        for (size_t i = 0; i < len; i++) Gn[i] *= dv[i];
        G = Gn;
        Gn = (Gn == g1) ? g2 : g1;
    }
}

/* Adam with decoupled weight decay (AdamW):
 *   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
 *   theta <- theta - lr (mhat / (sqrt(vhat) + eps) + wd theta),
 * mhat = m / (1 - b1^step), vhat = v / (1 - b2^step), step >= 1. */
void nn_adam(size_t npar, double *theta, const double *grad, double *m,
             double *v, long step, double lr, double beta1, double beta2,
             double eps, double wd)
{
    double c1 = 1.0 / (1.0 - pow(beta1, (double) step));
    double c2 = 1.0 / (1.0 - pow(beta2, (double) step));
    for (size_t i = 0; i < npar; i++) {
        double g = grad[i];
        m[i] = beta1 * m[i] + (1.0 - beta1) * g;
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
        theta[i] -= lr * ((m[i] * c1) / (sqrt(v[i] * c2) + eps) +
                          wd * theta[i]);
    }
}

/*
 * out (C x nout) = in (C x nin) . W^T + b, W being nout x nin column-major.
 * The sampler's dense layer.  Written out rather than a dgemm so that the
 * operations for one row never depend on the other rows of the block (an
 * optimised BLAS may treat edge rows differently): a chain's draws are then
 * the same bits whatever block or thread it lands in.  The inner loop runs
 * over rows and vectorises.
 */
void nn_dense_rows(int C, int nin, int nout, const double *in,
                   const double *W, const double *b, double *out)
{
    for (int o = 0; o < nout; o++) {
        double *a = out + (size_t) o * C;
        double bo = b[o];
        for (int c = 0; c < C; c++) a[c] = bo;
        for (int i = 0; i < nin; i++) {
            double w = W[o + (size_t) nout * i];
            const double *x = in + (size_t) i * C;
            for (int c = 0; c < C; c++) a[c] += w * x[c];
        }
    }
}

/* Sampler workspace for C chains: the hidden activations, C x width[l]
 * for l = 1..nhidden. */
size_t nn_sample_ws_size(const nn_net *net, int C)
{
    size_t s = 0;
    for (int l = 1; l <= net->nhidden; l++) s += (size_t) net->width[l];
    return s * (size_t) C;
}

/*
 * The t-only part of layer 0 at K times: T (H1 x K), column k holding
 *     b_0 + W_0[, emb] e(t_k).
 */
void nn_time_table(const nn_net *net, const double *theta, int K,
                   const double *t, double *T)
{
    int H1 = net->width[1], d = net->d, ne = net->nemb;
    const double *W = theta + net->woff[0], *b = theta + net->boff[0];
    double e[2 * NN_MAX_FREQ];
    for (int k = 0; k < K; k++) {
        double *col = T + (size_t) k * H1;
        nn_embed(net, t[k], e);
        for (int o = 0; o < H1; o++) {
            double s = b[o];
            for (int j = 0; j < ne; j++) s += W[o + (size_t) H1 * (d + j)] * e[j];
            col[o] = s;
        }
    }
}

/*
 * The x-only part of layer 0 for C chains: cx (C x H1) = x (C x p) .
 * W_0[, x]^T, x with leading dimension ldx.
 */
void nn_x_cache(const nn_net *net, const double *theta, int C,
                const double *x, int ldx, double *cx)
{
    int H1 = net->width[1], off = net->d + net->nemb;
    const double *W = theta + net->woff[0];
    for (int o = 0; o < H1; o++) {
        double *a = cx + (size_t) o * C;
        for (int c = 0; c < C; c++) a[c] = 0.0;
        for (int j = 0; j < net->p; j++) {
            double w = W[o + (size_t) H1 * (off + j)];
            const double *xj = x + (size_t) ldx * j;
            for (int c = 0; c < C; c++) a[c] += w * xj[c];
        }
    }
}

/*
 * Forward pass for C chains at one time step with the x-only part cx
 * (C x H1) and the t-only part ct (H1) already computed: layer 0 then
 * costs only W_0[, z] z, d multiply-adds per unit and chain.  z and out are
 * C x d.  The operations for one chain do not depend on C.
 */
void nn_forward_cached(const nn_net *net, const double *theta, int C,
                       const double *z, const double *cx, const double *ct,
                       double *ws, double *out)
{
    int H1 = net->width[1], d = net->d;
    const double *W0 = theta + net->woff[0];
    double *h = ws;
    for (int o = 0; o < H1; o++) {
        double *a = h + (size_t) o * C;
        const double *cxo = cx + (size_t) o * C;
        double cto = ct[o];
        for (int c = 0; c < C; c++) a[c] = cxo[c] + cto;
        for (int k = 0; k < d; k++) {
            double w = W0[o + (size_t) H1 * k];
            const double *zk = z + (size_t) k * C;
            for (int c = 0; c < C; c++) a[c] += w * zk[c];
        }
    }
    nn_activate(net->act, (size_t) C * H1, h);
    for (int l = 1; l < net->nlayer; l++) {
        int nin = net->width[l], nout = net->width[l + 1];
        double *next = (l + 1 < net->nlayer) ? h + (size_t) C * nin : out;
        nn_dense_rows(C, nin, nout, h, theta + net->woff[l],
                      theta + net->boff[l], next);
        if (l + 1 < net->nlayer) nn_activate(net->act, (size_t) C * nout, next);
        h = next;
    }
}
