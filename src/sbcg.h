/*
 * sbcg.h -- what crosses files in sbcg's C code.
 *
 * Two kinds of file: kernels (nn.c, bridge.c, rng.c, bandwidth.c) work
 * on plain pointers and sizes and never call the R API, so they can run
 * inside OpenMP regions; the glue (interface.c) checks and coerces SEXPs,
 * allocates scratch memory with R_alloc and builds the results.
 */
#ifndef SBCG_H
#define SBCG_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of the network, defined here once; R reads them through
 * sbcg_limits() (interface.c) for its argument checks. */
#define NN_MAX_HIDDEN 16        /* hidden layers */
#define NN_MAX_FREQ 256         /* time-embedding frequencies */
#define NN_MAX_WIDTH 100000     /* units of a hidden layer */
#define NN_MAX_D 100000         /* response components */
#define NN_MAX_P 1000000        /* predictor columns */

/* Rows per training chunk.  A minibatch is cut into chunks of this many
 * rows whatever the thread count; per-chunk gradients are added in chunk
 * order, so a fit is bit-identical for any number of threads. */
#define NN_CHUNK 128

enum nn_activation { NN_SILU = 0, NN_RELU = 1, NN_TANH = 2 };

/* Kernel sets (kernels.c, kernels32.c): portable C that the compiler
 * vectorises, AVX2 + FMA kernels, or the AVX2 set with its
 * single-precision dense-layer kernels in AVX-512F (the same results to
 * the bit).  The set is chosen by the caller (the best the CPU supports,
 * or another on request) and travels in nn_net. */
enum kern_level { KERN_PORTABLE = 0, KERN_AVX2 = 1, KERN_AVX512 = 2 };
/* Batches are stored with their row count rounded up to a multiple of
 * KERN_PAD (the leading dimension, ld); padding rows are kept at zero. */
#define KERN_PAD 8
static inline int kern_ld(int B)
{
    return (B + KERN_PAD - 1) / KERN_PAD * KERN_PAD;
}

/*
 * The network, a multilayer perceptron with output in R^d.  Two kinds:
 *   NN_BRIDGE      the bridge's network F(z, t, x): its input columns are,
 *                  in this order, z (d), the time embedding (nemb), x (p);
 *   NN_REGRESSION  a regression network m(x) (location or scale): its
 *                  input is x (p) alone.
 * nz is the number of z columns (d or 0).
 *
 * Layer l (l = 0, ..., nlayer - 1, nlayer = nhidden + 1) maps width[l]
 * inputs to width[l + 1] outputs.  width[0] = nz + nemb + p,
 * width[nlayer] = d and the last layer is linear.
 *
 * Parameter vector theta: for l = 0, ..., nlayer - 1, the weight matrix
 * W_l (width[l + 1] x width[l], column-major) followed by the bias b_l
 * (width[l + 1]).  woff[l] and boff[l] are the offsets of W_l and b_l.
 *
 * Time embedding (nemb = 2 * nfreq): e(t) = (sin(w_1 u), ..., sin(w_K u),
 * cos(w_1 u), ..., cos(w_K u)) with u = nn_time_feature(tmap, t) and the
 * frequencies w_k in freq.
 *
 * Activations are stored batch-major: a batch of B rows through a layer of
 * width H is an ld x H column-major matrix, one column per unit, with
 * ld = kern_ld(B) (rows B .. ld - 1 are zero padding).  Inner loops then run
 * over rows (chains), which is what vectorises.
 */
enum nn_kind { NN_BRIDGE = 0, NN_REGRESSION = 1 };

typedef struct {
    int kind, d, p, nz, nfreq, nemb, nhidden, nlayer, act;
    int tmap;             /* time fed to the embedding: NN_TMAP_* */
    int kern;             /* kernel set: KERN_* */
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

/* kernels.c: the kernel set `kern` (KERN_*) is an argument */
int kern_detect(void);
void kern_dense(int kern, int ld, int nin, int nout, const double *in,
                const double *W, const double *b, double *out, int act);
void kern_layer0(int kern, int ld, int d, int H1, const double *z,
                 const double *cx, const double *ct, const double *W0,
                 double *out, int act);
/* v rounded to float, beyond float's range to +-Inf (NaN stays NaN):
 * the conversion C leaves undefined out of range, made explicit */
static inline float to_float(double v)
{
    return v > FLT_MAX ? INFINITY : v < -FLT_MAX ? -INFINITY : (float) v;
}

/* kernels32.c: the network's kernels in single precision (the sampler's
 * forward pass, training's forward and backward passes), same layout and
 * dispatch */
void kern_dense_f(int kern, int ld, int nin, int nout, const float *in,
                  const float *W, const float *b, float *out, int act);
void kern_layer0_f(int kern, int ld, int d, int H1, const float *z,
                   const float *cx, const float *ct, const float *W0,
                   float *out, int act);
void kern_dense_deriv_f(int kern, int ld, int nin, int nout, const float *in,
                        const float *W, const float *b, float *h, float *dv,
                        int act);
void kern_grad_w_f(int kern, int ld, int nin, int nout, const float *G,
                   const float *H, double *gW, double *gb);
void kern_back_h_f(int kern, int ld, int nin, int nout, const float *G,
                   const float *W, const float *dv, float *Gn);
void kern_dense_deriv(int kern, int ld, int nin, int nout, const double *in,
                      const double *W, const double *b, double *h,
                      double *dv, int act);
void kern_grad_w(int kern, int ld, int nin, int nout, const double *G,
                 const double *H, double *gW, double *gb);
void kern_back_h(int kern, int ld, int nin, int nout, const double *G,
                 const double *W, const double *dv, double *Gn);
void kern_adam(int kern, size_t npar, double *theta, const double *grad,
               double *m, double *v, long step, double lr, double beta1,
               double beta2, double eps, double wd, double *ema, double eb,
               float *thetaf);
void kern_to_float(int kern, size_t n, const double *src, float *dst);
void kern_ema(int kern, size_t n, double *ema, const double *theta, double b);
void kern_add_to(int kern, size_t n, double *y, const double *x);
int kern_all_finite(int kern, size_t n, const double *x);
void kern_sincos(int kern, int n, double f, const double *t, double tmax,
                 double *s, double *c);
void kern_bias_act_deriv(int act, int n, double b, const double *a, double *h,
                         double *dv);

/* nn.c */
int nn_setup(nn_net *net, int kind, int d, int p, int nfreq,
             const double *freq, int nhidden, const int *hidden, int act,
             int tmap, int kern);
double nn_time_feature(int tmap, double t);
void nn_embed_rows(const nn_net *net, int B, const double *t, double *E,
                   size_t lde);
void nn_input(const nn_net *net, int B, const double *t, const double *X,
              size_t ldx, const int *rows, double *H0);
size_t nn_train_ws_size(const nn_net *net, int B);
double *nn_forward_train(const nn_net *net, const double *theta, int B,
                         double *ws);
void nn_backward(const nn_net *net, const double *theta, int B,
                 double *ws, double *gout, double *grad);
size_t nn_sample_ws_size(const nn_net *net, int C);
size_t nn_time_table_ws(const nn_net *net);
void nn_time_table(const nn_net *net, const double *theta, int K,
                   const double *t, double *T, double *ws);
void nn_x_cache(const nn_net *net, const double *theta, int C,
                const double *x, double *cx);
void nn_forward_cached(const nn_net *net, const double *theta, int C,
                       const double *z, const double *cx, const double *ct,
                       double *ws, double *out);
float *nn_forward_train_f(const nn_net *net, const float *theta, int B,
                          float *ws);
void nn_backward_f(const nn_net *net, const float *theta, int B, float *ws,
                   float *gout, double *grad);
void nn_forward_cached_f(const nn_net *net, const float *theta, int C,
                         const float *z, const float *cx, const float *ct,
                         float *ws, float *out);

/* rng.c: xoshiro256++ streams seeded with splitmix64 */
typedef struct {
    uint64_t s[4];
} rng_state;

void rng_init(void);
void rng_seed(rng_state *r, uint64_t seed, uint64_t a, uint64_t b);
double rng_unif(rng_state *r);
double rng_norm(rng_state *r);
uint64_t rng_bounded(rng_state *r, uint64_t n);

/* bridge.c: training */
enum lr_schedule { LR_CONSTANT = 0, LR_COSINE = 1 };

/* Settings of one training run (checked by the caller). */
typedef struct {
    int epochs, min_epochs, valid_every, patience, batch, warmup;
    int schedule, resid;
    int val_reps;                   /* validation draws per validation row
                                     * (bridge networks; 1 for regression) */
    int single;                     /* forward and backward passes in
                                     * float (the weights, Adam, the
                                     * losses in double) */
    int keep_last;                  /* return the weights of the last
                                     * check, not of the best one: the
                                     * validation rows are scored but do
                                     * not choose (nor the starting
                                     * weights compete) */
    int stop_epoch;                 /* > 0: end after this epoch (checked
                                     * there), the learning-rate schedule
                                     * still running over `epochs` */
    double t_min, t_max, t_tail;
    double lr, lr_min, beta1, beta2, eps, wd, ema;
    double wd_input;                /* decoupled decay of the first
                                     * layer's weights on the predictors */
    int nthreads;
    uint64_t seed;
    double overfit;                 /* > 0: stop, even before min_epochs
                                     * but not before overfit_from, once
                                     * `patience` checks in a row scored
                                     * more than this fraction above the
                                     * best */
    int overfit_from;
} fit_settings;

/* Training and validation rows, standardised, column-major: X and Y hold
 * the n training rows themselves (xrow NULL, ldx = n), or ldx rows of
 * which training row i is row xrow[i] (0-based), so that the networks of
 * a cross-fit share one copy of the predictors; likewise the validation
 * rows.  The weights w and wv are by training and validation row. */
typedef struct {
    int n, nv;
    const double *X, *Y, *w;        /* ldx x p, ldx x d, n */
    const double *Xv, *Yv, *wv;     /* ldxv x p, ldxv x d, nv */
    const int *xrow, *xrowv;        /* n, nv; or NULL */
    int ldx, ldxv;
} fit_data;

/* What a training run reports. */
enum fit_status { FIT_DONE = 0, FIT_STOPPED = 1, FIT_DIVERGED = 2 };
typedef struct {
    double *train_loss, *valid_loss;  /* per epoch; valid: NaN where not
                                       * checked */
    double start_loss;                /* validation loss of the starting
                                       * weights (epoch 0); NaN when not
                                       * computed (no validation rows, or
                                       * keep_last) */
    int epochs, best_epoch, status;
    long steps;
} fit_result;

/* Called on the main thread, outside parallel regions, every few
 * minibatches (end = 0), after every epoch (end = 1) and after the last
 * one, when training ends or stops early (end = 2): it may check for
 * interrupts and print progress.  valid is NaN before the first check. */
typedef struct {
    void (*tick)(void *ctx, int epoch, int epochs, double train,
                 double valid, int end);
    void *ctx;
} fit_monitor;

/* Called on the main thread, outside parallel regions, between slices of
 * a group of networks trained side by side (bridge_fit_group): done of m
 * networks have finished, the slowest running one has run epoch of epochs
 * (end = 1 after the last). */
typedef struct {
    void (*tick)(void *ctx, int done, int m, int epoch, int epochs, int end);
    void *ctx;
} group_monitor;

void bridge_times(const fit_settings *s, int n, double *t);
size_t bridge_fit_ws(const nn_net *net, const fit_settings *s,
                     const fit_data *dat);
void bridge_fit(const nn_net *net, double *theta, const fit_settings *s,
                const fit_data *dat, double *ws, const fit_monitor *mon,
                fit_result *res);
void bridge_fit_group(int m, const nn_net *net, double *const *theta,
                      const fit_settings *s, const fit_data *dat,
                      double *const *ws, int nthreads, const group_monitor *mon,
                      fit_result *res);
size_t bridge_loss_grad_ws(const nn_net *net);
double bridge_loss_grad(const nn_net *net, const double *theta, int n,
                        const double *X, const double *Y, const double *w,
                        const double *t, const double *eps, int resid,
                        double *ws, double *grad);

/* bridge.c: sampling */
typedef struct {
    int nrow, p, d, ndraw, K;
    const double *X;        /* nrow x p, standardised */
    const double *rowid;    /* global row index of each row (stream key) */
    const double *ucoef;    /* K coefficients of Z_k */
    const double *acoef;    /* K coefficients of the network output */
    const double *scoef;    /* K noise scales */
    const double *T;        /* K x H1 time table (bias included) */
    uint64_t seed;
    int block, nthreads;
    double *ws;             /* nthreads x ws_size */
    size_t ws_size;
    int single;             /* network evaluated in float (thetaf, Tf) */
    const float *thetaf;    /* theta rounded to float (single only) */
    const float *Tf;        /* T rounded to float (single only) */
    const double *ycenter, *yscale;  /* d each: out = ycenter + yscale Z */
    int yrows;              /* ycenter, yscale are nrow x d: per row */
    int strata;             /* 0: independent draws; m >= 2: stratified
                               noise, draws in groups of m (bridge.c) */
    const double *ncoef;    /* strata only: 3 x K, see bridge_strata() */
    int nknot;              /* 0, or the knots of a recalibration map of the
                               standardised draws (d = 1): */
    const double *kz, *ktz; /* nknot each, kz increasing, ktz nondecreasing */
    double *out;            /* ndraw x nrow x d, chain order */
} bridge_sampler;

/* Called on the main thread between waves of blocks (interrupts). */
typedef struct {
    void (*tick)(void *ctx);
    void *ctx;
} sample_hook;

size_t bridge_sample_ws(const nn_net *net, int block, int single, int strata);
void bridge_strata(int K, const double *ucoef, const double *scoef,
                   double *ncoef);
int bridge_sample(const nn_net *net, const double *theta,
                  const bridge_sampler *s, const sample_hook *hook);

/* bandwidth.c: Sheather and Jones' bandwidth (sbcondstats()'s densities) */
void sj_pair_counts(const int *w, int nb, double *cnt, double *wd);
double sj_psi(int n, double d, const double *cnt, int nb, double h, int order);

/* interface.c: the .Call entry points, registered in init.c (declared
 * where R's headers are included) */
#ifdef R_INTERNALS_H_
SEXP sbcg_forward(SEXP arch, SEXP freq, SEXP theta, SEXP z, SEXP t, SEXP x,
                  SEXP kern);
SEXP sbcg_loss_grad(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y,
                    SEXP t, SEXP eps, SEXP w, SEXP resid, SEXP kern);
SEXP sbcg_train(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y, SEXP w,
                SEXP xv, SEXP yv, SEXP wv, SEXP settings, SEXP seed,
                SEXP threads, SEXP verbose, SEXP kern, SEXP rows, SEXP rowsv);
SEXP sbcg_train_group(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y,
                      SEXP w, SEXP xv, SEXP yv, SEXP wv, SEXP settings,
                      SEXP seed, SEXP threads, SEXP verbose, SEXP kern,
                      SEXP rows, SEXP rowsv);
SEXP sbcg_times(SEXP n, SEXP settings, SEXP seed);
SEXP sbcg_sample(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP rowid,
                 SEXP ndraw, SEXP tgrid, SEXP ucoef, SEXP acoef, SEXP scoef,
                 SEXP seed, SEXP block, SEXP threads, SEXP ycenter,
                 SEXP yscale, SEXP kern, SEXP precision, SEXP strata,
                 SEXP knots);
SEXP sbcg_kernels(void);
SEXP sbcg_sj_counts(SEXP w);
SEXP sbcg_sj_psi(SEXP n, SEXP d, SEXP cnt, SEXP h, SEXP order);
SEXP sbcg_limits(void);
SEXP sbcg_openmp(void);
#endif

#endif
