/*
 * nn.c -- the network: parameter layout, the time map and embedding, the
 * one input builder, the forward and backward passes over a minibatch
 * (training and the R-facing forward pass), the sampler's cached forward
 * pass (x-only and t-only parts of layer 0 computed once), each also in
 * single precision.  Pure C on plain pointers: no R API.
 *
 * The layout of theta and of the activations is described in sbcg.h.
 */
#include <math.h>
#include <string.h>
#include "sbcg.h"

/* Fill in the description of a network of the given kind; 1 if the sizes
 * are out of range. */
int nn_setup(nn_net *net, int kind, int d, int p, int nfreq,
             const double *freq, int nhidden, const int *hidden, int act,
             int tmap, int kern)
{
    if ((kind != NN_BRIDGE && kind != NN_REGRESSION) || d < 1 ||
        d > NN_MAX_D || p < 0 || p > NN_MAX_P || nfreq < 0 ||
        nfreq > NN_MAX_FREQ || (kind == NN_REGRESSION && nfreq > 0) ||
        nhidden < 1 || nhidden > NN_MAX_HIDDEN || act < NN_SILU ||
        act > NN_TANH || (tmap != NN_TMAP_LINEAR && tmap != NN_TMAP_LOGIT) ||
        kern < KERN_PORTABLE || kern > KERN_AVX512)
        return 1;
    net->kind = kind;
    net->d = d;
    net->p = p;
    net->nz = kind == NN_BRIDGE ? d : 0;
    net->nfreq = nfreq;
    net->nemb = 2 * nfreq;
    net->nhidden = nhidden;
    net->nlayer = nhidden + 1;
    net->act = act;
    net->tmap = tmap;
    net->kern = kern;
    net->freq = freq;
    net->width[0] = net->nz + net->nemb + p;
    for (int l = 0; l < nhidden; l++) {
        if (hidden[l] < 1 || hidden[l] > NN_MAX_WIDTH) return 1;
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

/* The time the embedding sees (the one implementation of the time map). */
double nn_time_feature(int tmap, double t)
{
    if (tmap != NN_TMAP_LOGIT) return t;
    if (!(t > 0.0)) return 0.0;
    if (!(t < 1.0)) return 1.0;
    double u = (log(t) - log1p(-t) + NN_TMAP_L) / (2.0 * NN_TMAP_L);
    return u < 0.0 ? 0.0 : (u > 1.0 ? 1.0 : u);
}

/*
 * The time embedding of B <= NN_CHUNK times: sin(w_j u_b) in column j and
 * cos(w_j u_b) in column K + j of E (leading dimension lde >= B), u_b the
 * mapped time of t[b].  Used for training batches, the R-facing forward
 * pass and the sampler's time table alike.
 */
void nn_embed_rows(const nn_net *net, int B, const double *t, double *E,
                   size_t lde)
{
    int K = net->nfreq;
    double tm[NN_CHUNK], tmax = 0.0;
    const double *te = t;
    if (net->tmap != NN_TMAP_LINEAR) {
        for (int b = 0; b < B; b++) tm[b] = nn_time_feature(net->tmap, t[b]);
        te = tm;
    }
    for (int b = 0; b < B; b++) tmax = fmax(tmax, fabs(te[b]));
    for (int j = 0; j < K; j++)
        kern_sincos(net->kern, B, net->freq[j], te, tmax, E + lde * j,
                    E + lde * (K + j));
}

/*
 * The input builder, shared by training and the R-facing forward pass.
 * For B <= NN_CHUNK rows it writes, into H0 (ld x width[0], ld =
 * kern_ld(B)), the time embedding of t (B times; unused without an
 * embedding) and the predictors, row rows[b] of X (leading dimension ldx;
 * row b if rows is NULL), then zeroes the padding rows of every column.
 * The caller writes the z columns (rows 0 .. B - 1) itself.
 */
void nn_input(const nn_net *net, int B, const double *t, const double *X,
              size_t ldx, const int *rows, double *H0)
{
    int ld = kern_ld(B);
    if (net->nemb > 0)
        nn_embed_rows(net, B, t, H0 + (size_t) net->nz * ld, (size_t) ld);
    double *Xc = H0 + (size_t) (net->nz + net->nemb) * ld;
    for (int j = 0; j < net->p; j++) {
        double *col = Xc + (size_t) j * ld;
        const double *x = X + ldx * j;
        if (rows)
            for (int b = 0; b < B; b++) col[b] = x[rows[b]];
        else
            for (int b = 0; b < B; b++) col[b] = x[b];
    }
    if (ld > B)
        for (int j = 0; j < net->width[0]; j++)
            memset(H0 + (size_t) j * ld + B, 0, (size_t) (ld - B) * sizeof(double));
}

/*
 * Training workspace for a chunk of B rows, in doubles (ld = kern_ld(B)):
 *   H_0            ld x width[0]         input [z, e(t), x]
 *   H_l, Dv_l      ld x width[l] each    l = 1..nhidden: act and act'
 *   out            ld x d
 *   G1, G2         ld x maxw each        back-propagated gradients
 */
size_t nn_train_ws_size(const nn_net *net, int B)
{
    size_t s = (size_t) net->width[0];
    for (int l = 1; l <= net->nhidden; l++) s += 2 * (size_t) net->width[l];
    s += (size_t) net->d + 2 * (size_t) net->maxw;
    return s * (size_t) kern_ld(B);
}

/* The layout of the training workspace, in elements (doubles, or floats
 * for the single-precision passes): H_l at h[l], act'(H_l) at dv[l]
 * (l >= 1), then the output and the two gradient buffers at o[0..2]. */
typedef struct {
    size_t h[NN_MAX_HIDDEN + 1], dv[NN_MAX_HIDDEN + 1], o[3];
} train_layout;

static train_layout layout_of(const nn_net *net, int ld)
{
    train_layout L;
    size_t p = 0;
    L.h[0] = p;
    p += (size_t) ld * net->width[0];
    for (int l = 1; l <= net->nhidden; l++) {
        L.h[l] = p;
        p += (size_t) ld * net->width[l];
        L.dv[l] = p;
        p += (size_t) ld * net->width[l];
    }
    L.o[0] = p;
    p += (size_t) ld * net->d;
    L.o[1] = p;
    p += (size_t) ld * net->maxw;
    L.o[2] = p;
    return L;
}

static void train_ptrs(const nn_net *net, int ld, double *ws, double **H,
                       double **Dv, double **out, double **g1, double **g2)
{
    train_layout L = layout_of(net, ld);
    for (int l = 0; l <= net->nhidden; l++) H[l] = ws + L.h[l];
    for (int l = 1; l <= net->nhidden; l++) Dv[l] = ws + L.dv[l];
    *out = ws + L.o[0];
    *g1 = ws + L.o[1];
    *g2 = ws + L.o[2];
}

/*
 * Forward pass over B rows whose inputs the caller has written into H_0
 * (the start of ws, ld = kern_ld(B) rows, padding rows zero).  Each layer
 * is one pass of the kernel set's dense kernel,
 *     A (ld x out) = act(H_l (ld x in) . W_l^T (in x out) + b_l),
 * hidden layers also keeping act' for the backward pass.  Returns the
 * ld x d output, inside ws.
 */
double *nn_forward_train(const nn_net *net, const double *theta, int B,
                         double *ws)
{
    double *H[NN_MAX_HIDDEN + 1], *Dv[NN_MAX_HIDDEN + 1], *out, *g1, *g2;
    int ld = kern_ld(B);
    train_ptrs(net, ld, ws, H, Dv, &out, &g1, &g2);
    for (int l = 0; l < net->nlayer; l++) {
        int nin = net->width[l], nout = net->width[l + 1];
        const double *W = theta + net->woff[l], *b = theta + net->boff[l];
        if (l + 1 == net->nlayer)
            kern_dense(net->kern, ld, nin, nout, H[l], W, b, out, -1);
        else
            kern_dense_deriv(net->kern, ld, nin, nout, H[l], W, b, H[l + 1],
                             Dv[l + 1], net->act);
    }
    return out;
}

/*
 * Backward pass after nn_forward_train on the same ws.  gout (ld x d) is
 * dL/d(output), zero on padding rows; it may alias the output.  Gradients
 * are added to grad (npar).  For layer l with incoming gradient G (ld x out):
 *     dW_l (out x in) += G^T (out x ld) . H_l (ld x in)
 *     db_l            += column sums of G
 *     dH_l (ld x in)   = G (ld x out) . W_l (out x in),  then times act'.
 */
void nn_backward(const nn_net *net, const double *theta, int B, double *ws,
                 double *gout, double *grad)
{
    double *H[NN_MAX_HIDDEN + 1], *Dv[NN_MAX_HIDDEN + 1], *out, *g1, *g2;
    int ld = kern_ld(B);
    train_ptrs(net, ld, ws, H, Dv, &out, &g1, &g2);
    double *G = gout, *Gn = g1;
    for (int l = net->nlayer - 1; l >= 0; l--) {
        int nin = net->width[l], nout = net->width[l + 1];
        kern_grad_w(net->kern, ld, nin, nout, G, H[l], grad + net->woff[l],
                    grad + net->boff[l]);
        if (l == 0) break;
        kern_back_h(net->kern, ld, nin, nout, G, theta + net->woff[l], Dv[l], Gn);
        G = Gn;
        Gn = (Gn == g1) ? g2 : g1;
    }
}

/* nn_forward_train() and nn_backward() in single precision: theta (a float
 * copy of the weights), the inputs in H_0 and the workspace ws
 * (nn_train_ws_size(net, B) floats, laid out as for the double passes) are
 * floats; the weight gradients are added to the double grad. */
static void train_ptrs_f(const nn_net *net, int ld, float *ws, float **H,
                         float **Dv, float **out, float **g1, float **g2)
{
    train_layout L = layout_of(net, ld);
    for (int l = 0; l <= net->nhidden; l++) H[l] = ws + L.h[l];
    for (int l = 1; l <= net->nhidden; l++) Dv[l] = ws + L.dv[l];
    *out = ws + L.o[0];
    *g1 = ws + L.o[1];
    *g2 = ws + L.o[2];
}

float *nn_forward_train_f(const nn_net *net, const float *theta, int B,
                          float *ws)
{
    float *H[NN_MAX_HIDDEN + 1], *Dv[NN_MAX_HIDDEN + 1], *out, *g1, *g2;
    int ld = kern_ld(B);
    train_ptrs_f(net, ld, ws, H, Dv, &out, &g1, &g2);
    for (int l = 0; l < net->nlayer; l++) {
        int nin = net->width[l], nout = net->width[l + 1];
        const float *W = theta + net->woff[l], *b = theta + net->boff[l];
        if (l + 1 == net->nlayer)
            kern_dense_f(net->kern, ld, nin, nout, H[l], W, b, out, -1);
        else
            kern_dense_deriv_f(net->kern, ld, nin, nout, H[l], W, b, H[l + 1],
                               Dv[l + 1], net->act);
    }
    return out;
}

void nn_backward_f(const nn_net *net, const float *theta, int B, float *ws,
                   float *gout, double *grad)
{
    float *H[NN_MAX_HIDDEN + 1], *Dv[NN_MAX_HIDDEN + 1], *out, *g1, *g2;
    int ld = kern_ld(B);
    train_ptrs_f(net, ld, ws, H, Dv, &out, &g1, &g2);
    float *G = gout, *Gn = g1;
    for (int l = net->nlayer - 1; l >= 0; l--) {
        int nin = net->width[l], nout = net->width[l + 1];
        kern_grad_w_f(net->kern, ld, nin, nout, G, H[l], grad + net->woff[l],
                      grad + net->boff[l]);
        if (l == 0) break;
        kern_back_h_f(net->kern, ld, nin, nout, G, theta + net->woff[l], Dv[l], Gn);
        G = Gn;
        Gn = (Gn == g1) ? g2 : g1;
    }
}

/* Sampler workspace for C chains: the hidden activations, ld x width[l]
 * for l = 1..nhidden (doubles, or floats for nn_forward_cached_f()). */
size_t nn_sample_ws_size(const nn_net *net, int C)
{
    size_t s = 0;
    for (int l = 1; l <= net->nhidden; l++) s += (size_t) net->width[l];
    return s * (size_t) kern_ld(C);
}

/* Doubles of workspace nn_time_table() needs. */
size_t nn_time_table_ws(const nn_net *net)
{
    return (size_t) NN_CHUNK * net->nemb;
}

/*
 * The t-only part of layer 0 at K times: T (H1 x K), column k holding
 *     b_0 + W_0[, emb] e(t_k),
 * with the embedding of nn_embed_rows(), NN_CHUNK times at a time.
 */
void nn_time_table(const nn_net *net, const double *theta, int K,
                   const double *t, double *T, double *ws)
{
    int H1 = net->width[1], d = net->d, ne = net->nemb;
    const double *W = theta + net->woff[0], *b = theta + net->boff[0];
    for (int k0 = 0; k0 < K; k0 += NN_CHUNK) {
        int Bc = K - k0 < NN_CHUNK ? K - k0 : NN_CHUNK;
        nn_embed_rows(net, Bc, t + k0, ws, NN_CHUNK);
        for (int k = 0; k < Bc; k++) {
            double *col = T + (size_t) (k0 + k) * H1;
            for (int o = 0; o < H1; o++) {
                double s = b[o];
                for (int j = 0; j < ne; j++)
                    s += W[o + (size_t) H1 * (d + j)] * ws[k + (size_t) NN_CHUNK * j];
                col[o] = s;
            }
        }
    }
}

/*
 * The x-only part of layer 0 for C chains: cx (ld x H1) = x (ld x p) .
 * W_0[, x]^T, ld = kern_ld(C).
 */
void nn_x_cache(const nn_net *net, const double *theta, int C,
                const double *x, double *cx)
{
    int ld = kern_ld(C), H1 = net->width[1], off = net->d + net->nemb, p = net->p;
    const double *W = theta + net->woff[0];
    /* chains of one row are neighbours (the draws of a row): the values of
     * a run of chains with the same x are computed once, at its first
     * chain, and copied along the run unit by unit */
    for (int c0 = 0; c0 < ld;) {
        int c1 = c0 + 1;
        for (; c1 < ld; c1++) {
            int same = 1;
            for (int j = 0; j < p && same; j++)
                same = x[c1 + (size_t) ld * j] == x[c0 + (size_t) ld * j];
            if (!same) break;
        }
        for (int o = 0; o < H1; o++) {
            double a = 0.0;
            for (int j = 0; j < p; j++)
                a += W[o + (size_t) H1 * (off + j)] * x[c0 + (size_t) ld * j];
            double *co = cx + (size_t) o * ld;
            for (int c = c0; c < c1; c++) co[c] = a;
        }
        c0 = c1;
    }
}

/*
 * Forward pass for C chains at one time step with the x-only part cx
 * (ld x H1) and the t-only part ct (H1) already computed: layer 0 then
 * costs only W_0[, z] z, d multiply-adds per unit and chain.  z and out are
 * ld x d, ld = kern_ld(C).  The operations for one chain do not depend on
 * C or on the chain's place in the block.
 */
void nn_forward_cached(const nn_net *net, const double *theta, int C,
                       const double *z, const double *cx, const double *ct,
                       double *ws, double *out)
{
    int ld = kern_ld(C), H1 = net->width[1];
    double *h = ws;
    kern_layer0(net->kern, ld, net->d, H1, z, cx, ct, theta + net->woff[0], h,
                net->act);
    for (int l = 1; l < net->nlayer; l++) {
        int nin = net->width[l], nout = net->width[l + 1];
        int last = l + 1 == net->nlayer;
        double *next = last ? out : h + (size_t) ld * nin;
        kern_dense(net->kern, ld, nin, nout, h, theta + net->woff[l],
                   theta + net->boff[l], next, last ? -1 : net->act);
        h = next;
    }
}

/* nn_forward_cached() in single precision: theta, z, cx, ct, the
 * activations (ws, nn_sample_ws_size(net, C) floats) and out are floats. */
void nn_forward_cached_f(const nn_net *net, const float *theta, int C,
                         const float *z, const float *cx, const float *ct,
                         float *ws, float *out)
{
    int ld = kern_ld(C), H1 = net->width[1];
    float *h = ws;
    kern_layer0_f(net->kern, ld, net->d, H1, z, cx, ct, theta + net->woff[0], h,
                  net->act);
    for (int l = 1; l < net->nlayer; l++) {
        int nin = net->width[l], nout = net->width[l + 1];
        int last = l + 1 == net->nlayer;
        float *next = last ? out : h + (size_t) ld * nin;
        kern_dense_f(net->kern, ld, nin, nout, h, theta + net->woff[l],
                     theta + net->boff[l], next, last ? -1 : net->act);
        h = next;
    }
}
