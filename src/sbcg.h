/*
 * sbcg.h -- what crosses files in sbcg's C code.
 *
 * Two kinds of file: kernels (nn.c, bridge.c, rng.c) work on plain
 * pointers and sizes and never call the R API, so they can run inside
 * OpenMP regions; the glue (interface.c) checks and coerces SEXPs,
 * allocates scratch memory with R_alloc and builds the results.
 */
#ifndef SBCG_H
#define SBCG_H

#include <stddef.h>
#include <stdint.h>

/* At most this many hidden layers. */
#define NN_MAX_HIDDEN 16
/* At most this many time-embedding frequencies. */
#define NN_MAX_FREQ 256

/* Rows per training chunk.  A minibatch is cut into chunks of this many
 * rows whatever the thread count; per-chunk gradients are added in chunk
 * order, so a fit is bit-identical for any number of threads. */
#define NN_CHUNK 128

enum nn_activation { NN_SILU = 0, NN_RELU = 1, NN_TANH = 2 };

/* Kernel sets (kernels.c): portable C with the BLAS for training, or AVX2 +
 * FMA hand kernels, chosen at load time from what the CPU supports. */
enum kern_level { KERN_PORTABLE = 0, KERN_AVX2 = 1 };
/* Batches are stored with their row count rounded up to a multiple of
 * KERN_PAD (the leading dimension, ld); padding rows are kept at zero. */
#define KERN_PAD 8
static inline int kern_ld(int B)
{
    return (B + KERN_PAD - 1) / KERN_PAD * KERN_PAD;
}

/*
 * The denoiser network D(z, t, x) -> R^d, a multilayer perceptron.
 *
 * Layer l (l = 0, ..., nlayer - 1, nlayer = nhidden + 1) maps width[l]
 * inputs to width[l + 1] outputs.  width[0] = d + nemb + p and the input
 * columns of layer 0 are, in this order, z (d), the time embedding (nemb)
 * and x (p).  width[nlayer] = d and the last layer is linear.
 *
 * Parameter vector theta: for l = 0, ..., nlayer - 1, the weight matrix
 * W_l (width[l + 1] x width[l], column-major) followed by the bias b_l
 * (width[l + 1]).  woff[l] and boff[l] are the offsets of W_l and b_l.
 *
 * Time embedding (nemb = 2 * nfreq): e(t) = (sin(w_1 t), ..., sin(w_K t),
 * cos(w_1 t), ..., cos(w_K t)) with the frequencies w_k in freq.
 *
 * Activations are stored batch-major: a batch of B rows through a layer of
 * width H is an ld x H column-major matrix, one column per unit, with
 * ld = kern_ld(B) (rows B .. ld - 1 are zero padding).  Inner loops then run
 * over rows (chains), which is what vectorises.
 */
typedef struct {
    int d, p, nfreq, nemb, nhidden, nlayer, act;
    int tmap;             /* time fed to the embedding: NN_TMAP_* */
    int width[NN_MAX_HIDDEN + 2];
    size_t woff[NN_MAX_HIDDEN + 1], boff[NN_MAX_HIDDEN + 1];
    size_t npar;
    int maxw;             /* largest width over all layers, input included */
    const double *freq;   /* nfreq frequencies */
} nn_net;

/* The embedding sees t itself (NN_TMAP_LINEAR) or the log-odds time
 * (log(t / (1 - t)) + L) / (2 L), clamped to [0, 1] (NN_TMAP_LOGIT), which
 * resolves times near 0 and 1 on a log scale: t = 1 - 1e-4 and 1 - 1e-5
 * differ by 0.08 in it, but not in t. */
enum { NN_TMAP_LINEAR = 0, NN_TMAP_LOGIT = 1 };
#define NN_TMAP_L 14.0
double nn_time_feature(int tmap, double t);

/* kernels.c */
extern int kern_level;
int kern_detect(void);
void kern_dense(int ld, int nin, int nout, const double *in, const double *W,
                const double *b, double *out, int act);
void kern_layer0(int ld, int d, int H1, const double *z, const double *cx,
                 const double *ct, const double *W0, double *out, int act);
int kern_train_hand(int ld);
void kern_dense_deriv(int ld, int nin, int nout, const double *in,
                      const double *W, const double *b, double *h,
                      double *dv, int act);
void kern_grad_w(int ld, int nin, int nout, const double *G, const double *H,
                 double *gW, double *gb);
void kern_back_h(int ld, int nin, int nout, const double *G, const double *W,
                 const double *dv, double *Gn);
void kern_sincos(int n, double f, const double *t, double tmax, double *s,
                 double *c);
void kern_bias_act_deriv(int act, int n, double b, const double *a, double *h,
                         double *dv);

/* nn.c */
int nn_setup(nn_net *net, int d, int p, int nfreq, const double *freq,
             int nhidden, const int *hidden, int act);
void nn_embed(const nn_net *net, double t, double *e);
size_t nn_train_ws_size(const nn_net *net, int B);
double *nn_forward_train(const nn_net *net, const double *theta, int B,
                         double *ws);
void nn_backward(const nn_net *net, const double *theta, int B,
                 double *ws, double *gout, double *grad);
void nn_adam(size_t npar, double *theta, const double *grad, double *m,
             double *v, long step, double lr, double beta1, double beta2,
             double eps, double wd);
size_t nn_sample_ws_size(const nn_net *net, int C);
void nn_time_table(const nn_net *net, const double *theta, int K,
                   const double *t, double *T);
void nn_x_cache(const nn_net *net, const double *theta, int C,
                const double *x, double *cx);
void nn_forward_cached(const nn_net *net, const double *theta, int C,
                       const double *z, const double *cx, const double *ct,
                       double *ws, double *out);

/* rng.c: xoshiro256++ streams seeded with splitmix64 */
typedef struct {
    uint64_t s[4];
} rng_state;

void rng_init(void);
void rng_seed(rng_state *r, uint64_t seed, uint64_t a, uint64_t b);
double rng_unif(rng_state *r);
double rng_norm(rng_state *r);
uint64_t rng_bounded(rng_state *r, uint64_t n);

/* bridge.c */
enum lr_schedule { LR_CONSTANT = 0, LR_COSINE = 1 };

typedef struct {
    /* training data, standardised, column-major */
    int n, p, d;
    const double *X, *Y, *w;        /* n x p, n x d, n (w may be NULL) */
    /* settings */
    int batch, nthreads;
    double t_min, t_max, t_tail;
    double lo_min, lo_max;          /* log-odds of t_min, t_max (t_tail > 0) */
    double lr, lr_min, beta1, beta2, eps, wd;
    int schedule, warmup, resid;
    long total_steps;
    /* state */
    long step;
    double *m, *v;
    double *ema, ema_decay;         /* moving average of theta (NULL: off) */
    int *perm;
    rng_state rng;
    /* scratch, sized by bridge_trainer_sizes */
    double *tb, *eb;                /* batch times and noise */
    double *gchunk;                 /* nchunk x npar */
    double *grad;                   /* npar */
    double *lchunk;                 /* per-chunk losses */
    double *ws;                     /* nthreads x per-thread workspace */
    size_t ws_size;
} bridge_trainer;

size_t bridge_trainer_ws(const nn_net *net);
double bridge_time(double t_min, double t_max, double a, double b, double tail,
                   double u, double v);
void bridge_shuffle(bridge_trainer *tr);
double bridge_lr(const bridge_trainer *tr);
int bridge_train_batch(const nn_net *net, double *theta, bridge_trainer *tr,
                       int start, int B, double *loss);
double bridge_val_loss(const nn_net *net, const double *theta, int nv,
                       const double *X, const double *Y, const double *w,
                       const int *rowof, const double *tv, const double *ev,
                       int nrep, int resid, int nthreads, double *ws,
                       size_t ws_size, double *lchunk);
double bridge_loss_grad(const nn_net *net, const double *theta, int n,
                        const double *X, const double *Y, const double *w,
                        const double *t, const double *eps, int resid,
                        double *ws, double *grad);

typedef struct {
    int nrow, p, d, ndraw, K;
    const double *X;        /* nrow x p, standardised */
    const double *rowid;    /* global row index of each row (stream key) */
    const double *tgrid;    /* K times t_0 .. t_{K-1} at which D is evaluated */
    const double *ucoef;    /* K coefficients of Z_k */
    const double *acoef;    /* K coefficients of the network output */
    const double *scoef;    /* K noise scales */
    const double *T;        /* K x H1 time table (bias included) */
    uint64_t seed;
    int block, nthreads;
    double *ws;             /* nthreads x ws_size */
    size_t ws_size;
    const double *ycenter, *yscale;  /* d each: out = ycenter + yscale Z */
    int yrows;              /* ycenter, yscale are nrow x d: per row */
    double *out;            /* ndraw x nrow x d, chain order */
} bridge_sampler;

size_t bridge_sample_ws(const nn_net *net, int block);
int bridge_sample(const nn_net *net, const double *theta,
                  const bridge_sampler *s, ptrdiff_t b0, ptrdiff_t b1);

#endif
