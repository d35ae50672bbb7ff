/*
 * bridge.c -- the training loop and the sampler of the conditional
 * Schroedinger bridge.  Pure C on plain pointers; no R API.  The loop
 * (bridge_fit) owns epochs, minibatches, the learning-rate schedule,
 * validation, early stopping and the choice of the returned weights (best
 * check, moving average); the caller's monitor checks interrupts and
 * prints progress.
 *
 * Training regresses Y on the bridge point: for a row (x, y), a time t
 * uniform on [t_min, t_max] and eps ~ N(0, I_d),
 *     z = t y + sqrt(t (1 - t)) eps,   loss = w ||D(z, t, x) - y||^2 / d.
 * A minibatch is cut into chunks of NN_CHUNK rows; threads take whole
 * chunks, each chunk has its own gradient buffer, and the buffers are added
 * in chunk order, so the result does not depend on the thread count.
 *
 * Two parameterisations of the network output F.  "denoiser" (the paper's):
 * F = D predicts y.  "residual": D = z + sqrt(1 - t) F, and F regresses
 * (y - z) / sqrt(1 - t), a target of unit scale at every t; the drift
 * (D - z) / (1 - t) = F / sqrt(1 - t) then amplifies errors in F by
 * (1 - t)^(-1/2) instead of (1 - t)^(-1).
 *
 * Sampling runs, for each chain, Z_0 = 0 and on the grid t_0 < ... < t_K
 *     Z_{k+1} = u_k Z_k + a_k F(Z_k, t_k, x) + s_k eps_k.
 * With h_k = t_{k+1} - t_k, Euler-Maruyama has s_k = sqrt(h_k) and
 * u_k = 1 - h_k / (1 - t_k), a_k = h_k / (1 - t_k) (denoiser) or
 * u_k = 1, a_k = h_k / sqrt(1 - t_k) (residual); the caller computes them.
 * Chains are processed in blocks; each chain has its own random stream
 * keyed by (seed, row, draw).
 */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <Rmath.h>
#ifdef _OPENMP
# include <omp.h>
#endif
#include "sbcg.h"

#define SBCG_PI 3.141592653589793238462643383280

static inline int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Doubles a workspace of `count` objects of `size` bytes takes. */
static size_t in_doubles(size_t count, size_t size)
{
    return (count * size + sizeof(double) - 1) / sizeof(double);
}

/* The state of one training run, carved out of the caller's workspace. */
typedef struct {
    const nn_net *net;
    const fit_settings *s;
    const fit_data *dat;
    long step, total_steps;
    int batch, warmup;
    double lo_min, lo_max;          /* log-odds of t_min, t_max (t_tail > 0) */
    double *m, *v;                  /* Adam's moments */
    double *ema;                    /* moving average of theta (NULL: off) */
    int *perm, *rowof;              /* row order; validation entry -> row */
    int M;                          /* validation entries: nv * val_reps */
    double *tv, *ev;                /* their times (M) and noise (M x d) */
    rng_state rng;
    double *tb, *eb;                /* batch times and noise */
    double *gchunk;                 /* nchunk x npar */
    double *grad;                   /* npar */
    float *thetaf;                  /* the weights rounded to float, for the
                                     * steps of single-precision training */
    int thetaf_ok;                  /* thetaf holds the training weights
                                     * (kern_adam() wrote it), not those
                                     * of a validation */
    double *lchunk;                 /* per-chunk losses */
    double *ws;                     /* nthreads x per-thread workspace */
    size_t ws_size;
    struct team *team;              /* threads of a persistent region, or
                                     * NULL: a parallel loop per step */
} trainer;

/*
 * A training run that advances a given number of minibatches at a time
 * (run_begin, run_advance, run_end), so that one loop serves both one
 * network trained alone (bridge_fit) and several independent networks
 * trained side by side, one thread each (bridge_fit_group).  Everything a
 * run needs between two minibatches lives here; where a run stops between
 * two calls of run_advance() does not change what it computes.
 */
typedef struct fit_run {
    trainer tr;
    const nn_net *net;
    double *theta;                  /* best evaluated weights */
    double *work;                   /* the weights being trained */
    const double *eval;             /* evaluated weights: work or its EMA */
    fit_result *res;
    double best_loss, last_val;
    double sum;                     /* training loss summed this epoch */
    int wait;                       /* checks without improvement */
    int over;                       /* checks in a row scoring more than
                                     * s->overfit above the best */
    int start, nb;                  /* next row of the epoch, its batches */
    int done, busy;
} fit_run;

/* Per-thread training workspace, in doubles: the network's, the target,
 * then for single-precision steps the output in double (out_of()) and the
 * network's workspace in floats (float_ws()). */
static size_t thread_ws(const nn_net *net, int single)
{
    size_t f = single ? (size_t) NN_CHUNK * net->d +
        in_doubles(nn_train_ws_size(net, NN_CHUNK), sizeof(float)) : 0;
    return nn_train_ws_size(net, NN_CHUNK) + (size_t) NN_CHUNK * net->d + f;
}

static double *out_of(const nn_net *net, double *ws)
{
    return ws + thread_ws(net, 0);
}

static float *float_ws(const nn_net *net, double *ws)
{
    return (float *) (out_of(net, ws) + (size_t) NN_CHUNK * net->d);
}

static double *target_of(const nn_net *net, double *ws)
{
    return ws + nn_train_ws_size(net, NN_CHUNK);
}

static void shuffle(trainer *tr)
{
    for (int i = tr->dat->n - 1; i > 0; i--) {
        int j = (int) rng_bounded(&tr->rng, (uint64_t) i + 1);
        int tmp = tr->perm[i];
        tr->perm[i] = tr->perm[j];
        tr->perm[j] = tmp;
    }
}

/* Learning rate for the next step (tr->step + 1): linear warm-up over
 * `warmup` steps, then constant or cosine decay to lr_min at total_steps. */
static double learning_rate(const trainer *tr)
{
    const fit_settings *st = tr->s;
    long s = tr->step + 1;
    if (s <= tr->warmup) return st->lr * (double) s / (double) tr->warmup;
    if (st->schedule == LR_CONSTANT) return st->lr;
    double T = (double) (tr->total_steps - tr->warmup);
    double u = T > 0 ? (double) (s - tr->warmup) / T : 1.0;
    if (u > 1.0) u = 1.0;
    return st->lr_min + 0.5 * (st->lr - st->lr_min) * (1.0 + cos(SBCG_PI * u));
}

/* The network input H_0 of B rows and their regression target (ld x d,
 * ld = kern_ld(B)); rows[b] indexes X (n x p) and Y (n x d).  For a bridge
 * network: z = t y + sqrt(t (1 - t)) eps (eps with leading dimension lde),
 * then e(t) and x by the input builder, and the target y itself, or for the
 * residual parameterisation (y - z) / sqrt(1 - t).  For a regression
 * network: x alone, and the target y. */
static void fill_input(const nn_net *net, int B, int n, const double *X,
                       const double *Y, const int *rows, const double *t,
                       const double *eps, size_t lde, int resid, double *H0,
                       double *target)
{
    int d = net->d, ld = kern_ld(B), bridge = net->kind == NN_BRIDGE;
    for (int k = 0; k < d; k++) {
        double *col = H0 + (size_t) k * ld, *tg = target + (size_t) k * ld;
        const double *y = Y + (size_t) k * n, *e = bridge ? eps + lde * k : NULL;
        for (int b = 0; b < B; b++) {
            double yb = y[rows[b]];
            if (!bridge) {
                tg[b] = yb;
                continue;
            }
            col[b] = t[b] * yb + sqrt(t[b] * (1.0 - t[b])) * e[b];
            tg[b] = resid ? (yb - col[b]) / sqrt(1.0 - t[b]) : yb;
        }
        for (int b = B; b < ld; b++) tg[b] = 0.0;
    }
    nn_input(net, B, t, X, (size_t) n, rows, H0);
}

/* The time law of training and validation (the one copy): with
 * probability t_tail, uniform in log-odds time over [t_min, t_max] (whose
 * log-odds are lo_min and lo_max), otherwise uniform in t.  The log-odds
 * draws put training effort on times near 0 and 1, where the drift changes
 * fastest and a small conditional spread is resolved. */
static double draw_time(const fit_settings *s, double lo_min, double lo_max,
                        rng_state *rng)
{
    double u = s->t_tail > 0.0 ? rng_unif(rng) : 1.0;
    double v = rng_unif(rng);
    if (u < s->t_tail) {
        double t = 1.0 / (1.0 + exp(-(lo_min + (lo_max - lo_min) * v)));
        return t < s->t_min ? s->t_min : (t > s->t_max ? s->t_max : t);
    }
    return s->t_min + (s->t_max - s->t_min) * v;
}

static void log_odds(const fit_settings *s, double *lo_min, double *lo_max)
{
    *lo_min = *lo_max = 0.0;
    if (s->t_tail > 0.0) {
        *lo_min = log(s->t_min) - log1p(-s->t_min);
        *lo_max = log(s->t_max) - log1p(-s->t_max);
    }
}

/* n times drawn by the time law from the stream of s->seed (for tests). */
void bridge_times(const fit_settings *s, int n, double *t)
{
    rng_state rng;
    double lo_min, lo_max;
    log_odds(s, &lo_min, &lo_max);
    rng_seed(&rng, s->seed, 0, 0);
    for (int i = 0; i < n; i++) t[i] = draw_time(s, lo_min, lo_max, &rng);
}

/* Weighted squared error of the output against the target (both ld x d)
 * over B rows; if scale is non-zero, overwrite the output with the gradient
 * scale * w (out - target), zero on the padding rows. */
static double chunk_loss(int B, int d, const double *target,
                         const double *w, const int *rows, double *out,
                         double scale)
{
    int ld = kern_ld(B);
    double loss = 0.0;
    for (int k = 0; k < d; k++) {
        double *o = out + (size_t) k * ld;
        const double *y = target + (size_t) k * ld;
        for (int b = 0; b < B; b++) {
            double r = o[b] - y[b], wb = w ? w[rows[b]] : 1.0;
            loss += wb * r * r;
            if (scale != 0.0) o[b] = scale * wb * r;
        }
        if (scale != 0.0)
            for (int b = B; b < ld; b++) o[b] = 0.0;
    }
    return loss;
}

/* Single precision: the forward pass of Bc rows whose input fill_input()
 * wrote at the start of the thread's workspace ws, on the float weights
 * tr->thetaf; returns the output in double (ld x d, out_of()), and its
 * float original in *outf. */
static double *forward_single(const trainer *tr, int Bc, double *ws, float **outf)
{
    const nn_net *net = tr->net;
    size_t ld = (size_t) kern_ld(Bc), nh0 = ld * net->width[0], nd = ld * net->d;
    float *wsf = float_ws(net, ws);
    double *out = out_of(net, ws);
    kern_to_float(net->kern, nh0, ws, wsf);
    *outf = nn_forward_train_f(net, tr->thetaf, Bc, wsf);
    for (size_t i = 0; i < nd; i++) out[i] = (*outf)[i];
    return out;
}

/* The rows of X and Y that hold training (or validation) rows rows[0 ..
 * B): rows itself when X and Y hold just those rows (xrow NULL), else
 * their source rows, written to buf. */
static const int *source_rows(const int *xrow, const int *rows, int B, int *buf)
{
    if (!xrow) return rows;
    for (int b = 0; b < B; b++) buf[b] = xrow[rows[b]];
    return buf;
}

/* Chunk ch of the minibatch perm[start .. start + B) on thread id: its
 * loss into lchunk[ch], its gradient into gchunk (row ch). */
static void batch_chunk(trainer *tr, const double *theta, int start, int B,
                        int ch, int id)
{
    const nn_net *net = tr->net;
    const fit_data *dat = tr->dat;
    size_t npar = net->npar;
    const int *rows = tr->perm + start;
    int b0 = ch * NN_CHUNK, Bc = B - b0 < NN_CHUNK ? B - b0 : NN_CHUNK;
    double *ws = tr->ws + tr->ws_size * id;
    double *g = tr->gchunk + npar * ch;
    double *tg = target_of(net, ws);
    int src[NN_CHUNK];
    fill_input(net, Bc, dat->ldx, dat->X, dat->Y,
               source_rows(dat->xrow, rows + b0, Bc, src), tr->tb + b0,
               tr->eb + b0, (size_t) B, tr->s->resid, ws, tg);
    double scale = 2.0 / ((double) B * net->d);
    memset(g, 0, npar * sizeof(double));
    if (!tr->s->single) {
        double *out = nn_forward_train(net, theta, Bc, ws);
        tr->lchunk[ch] = chunk_loss(Bc, net->d, tg, dat->w, rows + b0, out, scale);
        nn_backward(net, theta, Bc, ws, out, g);
        return;
    }
    /* single precision: the loss and its gradient in double, the gradient
     * back to float (the output's place) for the backward pass */
    float *outf;
    double *out = forward_single(tr, Bc, ws, &outf);
    tr->lchunk[ch] = chunk_loss(Bc, net->d, tg, dat->w, rows + b0, out, scale);
    kern_to_float(net->kern, (size_t) kern_ld(Bc) * net->d, out, outf);
    nn_backward_f(net, tr->thetaf, Bc, float_ws(net, ws), outf, g);
}

/* Chunk ch of the validation entries on thread id: its loss into
 * lchunk[ch]. */
static void val_chunk(trainer *tr, const double *theta, int ch, int id)
{
    const nn_net *net = tr->net;
    const fit_data *dat = tr->dat;
    int M = tr->M, m0 = ch * NN_CHUNK, Bc = M - m0 < NN_CHUNK ? M - m0 : NN_CHUNK;
    double *wsp = tr->ws + tr->ws_size * id;
    double *tg = target_of(net, wsp);
    int src[NN_CHUNK];
    fill_input(net, Bc, dat->ldxv, dat->Xv, dat->Yv,
               source_rows(dat->xrowv, tr->rowof + m0, Bc, src),
               tr->tv + m0, tr->ev + m0, (size_t) M, tr->s->resid, wsp, tg);
    float *outf;
    double *out = tr->s->single ? forward_single(tr, Bc, wsp, &outf) :
        nn_forward_train(net, theta, Bc, wsp);
    tr->lchunk[ch] = chunk_loss(Bc, net->d, tg, dat->wv, tr->rowof + m0, out, 0.0);
}

/*
 * A team: the threads of one parallel region that lasts many optimiser
 * steps (bridge_fit() with several threads).  Thread 0 runs the training
 * loop; at each step it posts a job (the chunks of a minibatch, or of the
 * validation entries), takes chunks 0, nt, 2 nt, ... itself and waits for
 * the others, which take chunks id, id + nt, ...  A thread that waits
 * spins for TEAM_SPIN seconds and then yields its core at every check, so
 * that on a machine busy with other work it lets the thread it waits for
 * (or another process) run instead of burning the core (libgomp's barrier
 * spins for milliseconds).  Chunks write only their own lchunk and gchunk
 * entries, so the results do not depend on the team.
 */
#if defined(_OPENMP) && (defined(__GNUC__) || defined(__clang__))
# define SBCG_TEAM 1
#endif
enum { JOB_BATCH = 0, JOB_VALID = 1, JOB_QUIT = 2 };
#define TEAM_SPIN 5e-5

struct team {
    int nt;
    int gen;                        /* job number, posted by thread 0 */
    int ndone;                      /* threads other than 0 done with it */
    int job, start, B, nchunk;
    long chunks;                    /* chunks run, for the rate of a slice */
    trainer *tr;
    const double *theta;
};

#ifdef SBCG_TEAM
# ifdef _WIN32
#  include <windows.h>
static void team_nap(void)
{
    SwitchToThread();
}
# else
#  include <sched.h>
static void team_nap(void)
{
    sched_yield();
}
# endif

/* Wait until *p == want (want_eq) or *p != want (!want_eq). */
static void team_wait(const int *p, int want, int want_eq)
{
    double t0 = -1.0;
    for (long k = 0;; k++) {
        int v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
        if ((v == want) == want_eq) return;
        if (k % 64 == 63) {
            double now = omp_get_wtime();
            if (t0 < 0) t0 = now;
            else if (now - t0 > TEAM_SPIN) team_nap();
        }
    }
}

static void team_chunks(struct team *tm, int id)
{
    for (int ch = id; ch < tm->nchunk; ch += tm->nt) {
        if (tm->job == JOB_BATCH)
            batch_chunk(tm->tr, tm->theta, tm->start, tm->B, ch, id);
        else
            val_chunk(tm->tr, tm->theta, ch, id);
    }
}

/* Thread 0: post a job, do its share, wait for the others. */
static void team_run(struct team *tm, trainer *tr, const double *theta,
                     int job, int start, int B, int nchunk)
{
    tm->tr = tr;
    tm->theta = theta;
    tm->job = job;
    tm->start = start;
    tm->B = B;
    tm->nchunk = nchunk;
    tm->chunks += nchunk;
    if (tm->nt == 1 && job != JOB_QUIT) {
        team_chunks(tm, 0);
        return;
    }
    __atomic_store_n(&tm->ndone, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&tm->gen, tm->gen + 1, __ATOMIC_RELEASE);
    if (job == JOB_QUIT) return;
    team_chunks(tm, 0);
    team_wait(&tm->ndone, tm->nt - 1, 1);
}

/* Threads 1 .. nt - 1: do their share of every job until told to quit. */
static void team_work(struct team *tm, int id)
{
    int seen = 0;
    for (;;) {
        team_wait(&tm->gen, seen, 0);
        seen = __atomic_load_n(&tm->gen, __ATOMIC_ACQUIRE);
        if (tm->job == JOB_QUIT) return;
        team_chunks(tm, id);
        __atomic_fetch_add(&tm->ndone, 1, __ATOMIC_RELEASE);
    }
}
#else
static void team_run(struct team *tm, trainer *tr, const double *theta,
                     int job, int start, int B, int nchunk)
{
    (void) tm; (void) tr; (void) theta; (void) job; (void) start; (void) B;
    (void) nchunk;
}
#endif

/*
 * One Adam step on the minibatch perm[start .. start + B).  The mean loss
 * of the batch (before the step) goes to *loss.  Returns 0, or 1 if the loss
 * or the gradient is not finite (theta is then left unchanged).
 */
static int train_batch(trainer *tr, double *theta, int start, int B,
                       double *loss)
{
    const nn_net *net = tr->net;
    const fit_settings *st = tr->s;
    int d = net->d, nchunk = (B + NN_CHUNK - 1) / NN_CHUNK;
    size_t npar = net->npar;
    /* all random numbers on this thread, in a fixed order (none for a
     * regression network) */
    if (net->kind == NN_BRIDGE) {
        for (int b = 0; b < B; b++)
            tr->tb[b] = draw_time(st, tr->lo_min, tr->lo_max, &tr->rng);
        for (int k = 0; k < d; k++)
            for (int b = 0; b < B; b++)
                tr->eb[b + (size_t) B * k] = rng_norm(&tr->rng);
    }
    if (st->single && !tr->thetaf_ok) kern_to_float(net->kern, npar, theta, tr->thetaf);
    if (tr->team) {
        team_run(tr->team, tr, theta, JOB_BATCH, start, B, nchunk);
    } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads(st->nthreads) schedule(static, 1) if (st->nthreads > 1)
#endif
        for (int ch = 0; ch < nchunk; ch++)
            batch_chunk(tr, theta, start, B, ch, thread_id());
    }

    double l = 0.0;
    for (int ch = 0; ch < nchunk; ch++) l += tr->lchunk[ch];
    l /= (double) B * d;
    *loss = l;
    /* the chunks' gradients summed in chunk order (one chunk: its own) */
    const double *grad = tr->gchunk;
    if (nchunk > 1) {
        memcpy(tr->grad, tr->gchunk, npar * sizeof(double));
        for (int ch = 1; ch < nchunk; ch++)
            kern_add_to(net->kern, npar, tr->grad, tr->gchunk + npar * ch);
        grad = tr->grad;
    }
    if (!isfinite(l) || !kern_all_finite(net->kern, npar, grad)) return 1;
    double lr = learning_rate(tr);
    tr->step++;
    /* the exponential moving average of the weights: its decay ramps up as
     * (1 + step) / (10 + step), so that early weights fade fast */
    double r = (1.0 + (double) tr->step) / (10.0 + (double) tr->step);
    double eb = r < st->ema ? r : st->ema;
    /* Adam updates the average and the float copy of the weights in its
     * own pass, unless the decay of the predictors' inputs changes the
     * weights after it */
    int fused = st->wd_input <= 0.0;
    kern_adam(net->kern, npar, theta, grad, tr->m, tr->v, tr->step, lr,
              st->beta1, st->beta2, st->eps, st->wd, fused ? tr->ema : NULL, eb,
              fused && st->single ? tr->thetaf : NULL);
    tr->thetaf_ok = fused && st->single;
    if (!fused) {
        /* W_0 is width[1] x width[0], column-major by input; the
         * predictors are its last p columns (a decay of lr * wd_input >= 1
         * zeroes them) */
        double f = 1.0 - lr * st->wd_input;
        if (f < 0.0) f = 0.0;
        size_t rows = (size_t) net->width[1];
        size_t c0 = (size_t) (net->width[0] - net->p);
        double *W = theta + net->woff[0] + c0 * rows;
        for (size_t i = 0; i < rows * (size_t) net->p; i++) W[i] *= f;
        if (tr->ema) kern_ema(net->kern, npar, tr->ema, theta, eb);
    }
    return 0;
}

/*
 * Loss on fixed validation draws: M = nv * val_reps entries, entry m using
 * validation row rowof[m], time tv[m] and noise ev[m + M k].  Fixed draws
 * make it a deterministic function of theta, so that early stopping
 * compares like with like.
 */
static double val_loss(trainer *tr, const double *theta)
{
    const nn_net *net = tr->net;
    int M = tr->M, nchunk = (M + NN_CHUNK - 1) / NN_CHUNK;
    if (tr->s->single) kern_to_float(net->kern, net->npar, theta, tr->thetaf);
    tr->thetaf_ok = 0;
    if (tr->team) {
        team_run(tr->team, tr, theta, JOB_VALID, 0, M, nchunk);
    } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads(tr->s->nthreads) schedule(static, 1) if (tr->s->nthreads > 1)
#endif
        for (int ch = 0; ch < nchunk; ch++)
            val_chunk(tr, theta, ch, thread_id());
    }
    double l = 0.0;
    for (int ch = 0; ch < nchunk; ch++) l += tr->lchunk[ch];
    return l / ((double) M * net->d);
}

static int batch_of(const fit_settings *s, const fit_data *dat)
{
    return s->batch < dat->n ? s->batch : dat->n;
}

/* Doubles of workspace bridge_fit() needs. */
size_t bridge_fit_ws(const nn_net *net, const fit_settings *s,
                     const fit_data *dat)
{
    size_t npar = net->npar, B = (size_t) batch_of(s, dat);
    size_t M = (size_t) dat->nv * s->val_reps;
    size_t nchunk = (B + NN_CHUNK - 1) / NN_CHUNK;
    size_t nvchunk = (M + NN_CHUNK - 1) / NN_CHUNK;
    return in_doubles(1, sizeof(struct fit_run)) + 4 * npar + M * (1 + net->d) + (s->ema > 0 ? npar : 0) + nchunk * npar + B * (1 + net->d) +
        (nchunk > nvchunk ? nchunk : nvchunk) + thread_ws(net, s->single) * s->nthreads +
        (s->single ? in_doubles(npar, sizeof(float)) : 0) +
        in_doubles((size_t) dat->n + M, sizeof(int));
}

/* Lay out the trainer in ws (bridge_fit_ws() doubles less npar). */
static void trainer_init(trainer *tr, const nn_net *net, const fit_settings *s,
                         const fit_data *dat, const double *theta, double *ws)
{
    size_t npar = net->npar;
    int B = batch_of(s, dat), M = dat->nv * s->val_reps;
    int nchunk = (B + NN_CHUNK - 1) / NN_CHUNK;
    int nvchunk = (M + NN_CHUNK - 1) / NN_CHUNK;
    memset(tr, 0, sizeof *tr);
    tr->net = net;
    tr->s = s;
    tr->dat = dat;
    tr->batch = B;
    tr->total_steps = (long) ((dat->n + B - 1) / B) * (long) s->epochs;
    tr->warmup = (double) s->warmup < (double) tr->total_steps ?
        s->warmup : (int) tr->total_steps;
    log_odds(s, &tr->lo_min, &tr->lo_max);
    tr->M = M;
    tr->m = ws;
    tr->v = tr->m + npar;
    tr->grad = tr->v + npar;
    memset(tr->m, 0, 2 * npar * sizeof(double));
    double *p = tr->grad + npar;
    if (s->ema > 0) {
        tr->ema = p;
        memcpy(tr->ema, theta, npar * sizeof(double));
        p += npar;
    }
    tr->gchunk = p;
    p += (size_t) nchunk * npar;
    tr->tb = p;
    p += B;
    tr->eb = p;
    p += (size_t) B * net->d;
    tr->lchunk = p;
    p += nchunk > nvchunk ? nchunk : nvchunk;
    tr->ws_size = thread_ws(net, s->single);
    tr->ws = p;
    p += tr->ws_size * s->nthreads;
    if (s->single) {
        tr->thetaf = (float *) p;
        p += in_doubles(npar, sizeof(float));
    }
    tr->tv = p;
    p += M;
    tr->ev = p;
    p += (size_t) M * net->d;
    tr->perm = (int *) p;
    tr->rowof = tr->perm + dat->n;
    for (int i = 0; i < dat->n; i++) tr->perm[i] = i;
    for (int m = 0; m < M; m++) tr->rowof[m] = m % dat->nv;
    /* the validation draws, by the training time law, from a stream of
     * their own: times, then noise (a bridge network only) */
    rng_state vr;
    rng_seed(&vr, s->seed, 1, 0);
    if (net->kind == NN_BRIDGE) {
        for (int m = 0; m < M; m++)
            tr->tv[m] = draw_time(s, tr->lo_min, tr->lo_max, &vr);
        for (size_t i = 0; i < (size_t) M * net->d; i++) tr->ev[i] = rng_norm(&vr);
    }
    rng_seed(&tr->rng, s->seed, 0, 0);
}

static size_t run_doubles(void)
{
    return in_doubles(1, sizeof(fit_run));
}

/* The run kept at the start of its workspace ws (bridge_fit_ws()
 * doubles), and its weights after it. */
static fit_run *run_of(double *ws)
{
    return (fit_run *) ws;
}

static fit_run *run_begin(const nn_net *net, double *theta,
                          const fit_settings *s, const fit_data *dat,
                          double *ws, fit_result *res)
{
    size_t npar = net->npar;
    fit_run *r = run_of(ws);
    memset(r, 0, sizeof *r);
    r->net = net;
    r->theta = theta;
    r->res = res;
    r->work = ws + run_doubles();
    memcpy(r->work, theta, npar * sizeof(double));
    trainer_init(&r->tr, net, s, dat, theta, r->work + npar);
    r->eval = r->tr.ema ? r->tr.ema : r->work;
    r->best_loss = INFINITY;
    r->last_val = NAN;
    res->status = FIT_DONE;
    res->best_epoch = 0;
    res->epochs = 0;
    res->steps = 0;
    res->start_loss = NAN;
    /* the starting weights are a candidate too (epoch 0): with a zero
     * output layer they are the baseline a fit falls back to when training
     * never improves the validation loss */
    if (dat->nv > 0 && !s->keep_last) {
        r->best_loss = res->start_loss = val_loss(&r->tr, r->eval);
        if (!isfinite(r->best_loss)) r->best_loss = INFINITY;
    }
    return r;
}

/* After the last minibatch of an epoch: record its loss, validate every
 * valid_every epochs and after the last, keep the best weights, decide on
 * early stopping. */
static void run_epoch_end(fit_run *r, const fit_monitor *mon)
{
    trainer *tr = &r->tr;
    const fit_settings *s = tr->s;
    fit_result *res = r->res;
    int ep = ++res->epochs;
    double tl = r->sum / tr->dat->n;
    res->train_loss[ep - 1] = tl;
    res->valid_loss[ep - 1] = NAN;
    r->start = 0;
    r->sum = 0.0;
    r->nb = 0;
    if (isnan(tl)) {
        res->status = FIT_DIVERGED;
        r->done = 1;
        return;
    }
    int last = ep == s->epochs || ep == s->stop_epoch;
    if (tr->dat->nv > 0 && (ep % s->valid_every == 0 || last)) {
        double v = val_loss(tr, r->eval);
        res->valid_loss[ep - 1] = r->last_val = v;
        if (!isfinite(v)) {
            res->status = FIT_DIVERGED;
            r->done = 1;
            return;
        }
        if (v < r->best_loss || s->keep_last) {
            r->best_loss = v;
            res->best_epoch = ep;
            memcpy(r->theta, r->eval, r->net->npar * sizeof(double));
            r->wait = 0;
            r->over = 0;
        } else {
            ++r->wait;
            r->over = s->overfit > 0.0 && v > r->best_loss + s->overfit * fabs(r->best_loss) ?
                r->over + 1 : 0;
            if (r->wait >= s->patience &&
                (ep >= s->min_epochs || (r->over >= s->patience && ep >= s->overfit_from)))
                res->status = FIT_STOPPED;
        }
    }
    if (res->status == FIT_STOPPED || last) r->done = 1;
    if (mon)
        mon->tick(mon->ctx, ep, s->epochs, tl, r->last_val, r->done ? 2 : 1);
}

/* Run up to nsteps minibatches (fewer if the run ends); mon, if not NULL,
 * is told every 4 minibatches of an epoch and after every epoch. */
static void run_advance(fit_run *r, long nsteps, const fit_monitor *mon)
{
    trainer *tr = &r->tr;
    int n = tr->dat->n, B = tr->batch;
    for (long k = 0; k < nsteps && !r->done; k++) {
        if (r->start == 0) shuffle(tr);
        int Bc = n - r->start < B ? n - r->start : B;
        double loss;
        if (train_batch(tr, r->work, r->start, Bc, &loss)) {
            int ep = ++r->res->epochs;
            r->res->train_loss[ep - 1] = NAN;
            r->res->valid_loss[ep - 1] = NAN;
            r->res->status = FIT_DIVERGED;
            r->done = 1;
            break;
        }
        r->sum += loss * Bc;
        r->start += Bc;
        if (++r->nb % 4 == 0 && mon && r->start < n)
            mon->tick(mon->ctx, r->res->epochs + 1, tr->s->epochs,
                      r->sum / r->start, NAN, 0);
        if (r->start >= n) run_epoch_end(r, mon);
    }
}

/* Seconds between two meetings of a team's threads (bridge_fit()), when
 * the monitor runs. */
#define TEAM_SLICE 0.25
/* A run starts with TEAM_FIRST slices on one thread; then a slice in
 * TEAM_PROBE tries, for a sixteenth of TEAM_SLICE, the thread count not in
 * use; all threads are used only where they ran at least TEAM_GAIN times
 * as fast as one. */
#define TEAM_PROBE 8
#define TEAM_FIRST 4
#define TEAM_GAIN 1.1

/* The monitor, told where a run stands between two slices of a team. */
static void run_tick(const fit_run *r, const fit_monitor *mon)
{
    const fit_result *res = r->res;
    int E = r->tr.s->epochs;
    if (res->status == FIT_DIVERGED) return;
    if (r->start > 0)
        mon->tick(mon->ctx, res->epochs + 1, E, r->sum / r->start, NAN, 0);
    else if (res->epochs > 0)
        mon->tick(mon->ctx, res->epochs, E, res->train_loss[res->epochs - 1],
                  r->last_val, r->done ? 2 : 1);
}

/* Without validation rows the last evaluated weights are returned. */
static void run_end(fit_run *r)
{
    fit_result *res = r->res;
    if (r->tr.dat->nv == 0 && res->status != FIT_DIVERGED) {
        memcpy(r->theta, r->eval, r->net->npar * sizeof(double));
        res->best_epoch = res->epochs;
    }
    res->steps = r->tr.step;
}

/*
 * Train the network from theta.  Every valid_every epochs, and after the
 * last, the validation loss of the evaluated weights (theta, or its moving
 * average when s->ema > 0) is computed; training stops after `patience`
 * checks without improvement, but not before epoch min_epochs.  On return
 * theta holds the evaluated weights of the best check, the starting weights
 * (best epoch 0) included (the last evaluated weights without validation
 * rows or with s->keep_last, which scores the checks but never stops
 * early nor keeps other weights).  ws holds bridge_fit_ws() doubles.  With
 * s->nthreads > 1 the chunks of every step are spread over a team of
 * threads (struct team), in slices of TEAM_SLICE seconds between which
 * the monitor runs.  Since the results do not depend on the thread count,
 * each slice runs on one thread or on the team, whichever was measured
 * faster: on a machine busy with other work, threads that meet after
 * every step can be slower than one.
 */
void bridge_fit(const nn_net *net, double *theta, const fit_settings *s,
                const fit_data *dat, double *ws, const fit_monitor *mon,
                fit_result *res)
{
    fit_run *r = run_begin(net, theta, s, dat, ws, res);
#ifdef SBCG_TEAM
    if (s->nthreads > 1) {
        /* the rate (chunks per second) last measured on one thread and on
         * all; each slice runs on the faster, and every TEAM_PROBE slices
         * a short one tries the other, since the load of the machine
         * changes */
        double rate[2] = {-1.0, -1.0};
        struct team tm = {.nt = 1};
        r->tr.team = &tm;
        for (long sl = 0; !r->done; sl++) {
            /* first TEAM_FIRST whole slices on one thread (a run shorter
             * than that never pays for a probe), then a probe of the team */
            int known = rate[0] >= 0 && rate[1] >= 0;
            int best = known && rate[1] >= TEAM_GAIN * rate[0] ? 1 : 0;
            int use = known ? (sl % TEAM_PROBE == 0 ? 1 - best : best) :
                (sl >= TEAM_FIRST && rate[0] >= 0);
            double len = use == (known ? best : 0) ? TEAM_SLICE : TEAM_SLICE / 16;
            double t0 = omp_get_wtime();
            tm.chunks = 0;
            tm.gen = 0;
            if (use == 0) {
                tm.nt = 1;
                while (!r->done && omp_get_wtime() - t0 < len) run_advance(r, 1, NULL);
            } else {
#pragma omp parallel num_threads(s->nthreads)
                {
                    int id = omp_get_thread_num();
                    if (id == 0) {
                        tm.nt = omp_get_num_threads();
                        while (!r->done && omp_get_wtime() - t0 < len)
                            run_advance(r, 1, NULL);
                        team_run(&tm, &r->tr, NULL, JOB_QUIT, 0, 0, 0);
                    } else {
                        team_work(&tm, id);
                    }
                }
            }
            double dt = omp_get_wtime() - t0;
            if (dt > 0 && tm.chunks > 0) rate[use] = (double) tm.chunks / dt;
            if (mon) run_tick(r, mon);
        }
        r->tr.team = NULL;
        run_end(r);
        return;
    }
#endif
    while (!r->done) run_advance(r, LONG_MAX, mon);
    run_end(r);
}

static double now_seconds(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return 0.0;
#endif
}

/* Minibatches a thread runs on one network before it picks again. */
#define GROUP_UNIT 8
/* Seconds between two meetings of the threads (progress, interrupts). */
#define GROUP_SLICE 0.2

/*
 * Train m independent networks of the same architecture side by side:
 * network i from theta[i] with settings s[i] (s[i].nthreads = 1) on dat[i],
 * in workspace ws[i] (bridge_fit_ws() doubles), reporting in res[i].  Each
 * of nthreads threads trains a whole network, GROUP_UNIT minibatches at a
 * time, until the slice ends or the network is done, and then takes the
 * network furthest behind that no other thread holds; so threads meet
 * only every GROUP_SLICE seconds, when
 * mon->tick runs on the calling thread outside the parallel region.  A
 * network's computation is that of bridge_fit() on one thread, whatever
 * thread runs which part of it: the results are those of training the
 * networks one after another.
 */
void bridge_fit_group(int m, const nn_net *net, double *const *theta,
                      const fit_settings *s, const fit_data *dat,
                      double *const *ws, int nthreads, const group_monitor *mon,
                      fit_result *res)
{
    int left = 0;
    for (int i = 0; i < m; i++) {
        fit_run *r = run_begin(net, theta[i], s + i, dat + i, ws[i], res + i);
        left += !r->done;
    }
    int nt = nthreads < m ? nthreads : m;
#ifndef _OPENMP
    (void) nt;
#endif
    while (left > 0) {
        double t0 = now_seconds();
        int stop = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
        {
        int prev = -1;
        for (;;) {
            int pick = -1;
#ifdef _OPENMP
#pragma omp critical(sbcg_group)
#endif
            {
                double best = INFINITY;
                /* a thread keeps its network for the slice (moving a
                 * network's weights, moments and rows between cores costs
                 * more than an uneven slice), unless another thread took
                 * it between the two critical sections */
                if (prev >= 0 && !stop && !run_of(ws[prev])->done &&
                    !run_of(ws[prev])->busy)
                    pick = prev;
                for (int i = 0; i < m && !stop && pick < 0; i++) {
                    /* a network another thread holds is not read */
                    fit_run *r = run_of(ws[i]);
                    if (r->busy || r->done) continue;
                    double f = (double) r->tr.step / (double) r->tr.total_steps;
                    if (f < best) {
                        best = f;
                        pick = i;
                    }
                }
                if (pick >= 0) run_of(ws[pick])->busy = 1;
            }
            if (pick < 0) break;
            run_advance(run_of(ws[pick]), GROUP_UNIT, NULL);
            prev = pick;
#ifdef _OPENMP
#pragma omp critical(sbcg_group)
#endif
            {
                run_of(ws[pick])->busy = 0;
                if (now_seconds() - t0 > GROUP_SLICE) stop = 1;
            }
        }
        }
        /* the progress shown: that of the network furthest from the end
         * of its own budget (networks may have budgets of their own), or
         * the largest budget once all are done */
        left = 0;
        int e_show = 0, e_total = 0;
        double f_min = 2;
        for (int i = 0; i < m; i++) {
            fit_run *r = run_of(ws[i]);
            if (!r->done) {
                left++;
                double f = (double) res[i].epochs / (double) s[i].epochs;
                if (f < f_min) {
                    f_min = f;
                    e_show = res[i].epochs;
                    e_total = s[i].epochs;
                }
            }
        }
        if (left == 0)
            for (int i = 0; i < m; i++)
                if (s[i].epochs > e_total) e_show = e_total = s[i].epochs;
        if (mon)
            mon->tick(mon->ctx, m - left, m, e_show, e_total, left == 0);
    }
    for (int i = 0; i < m; i++) run_end(run_of(ws[i]));
}

/* Floats of the single-precision area of a block of C chains (ld =
 * kern_ld(C)): z and the output (ld x d each), cx (ld x H1) and the
 * activations. */
static size_t sample_floats(const nn_net *net, int C)
{
    return (size_t) kern_ld(C) * (2 * (size_t) net->d + (size_t) net->width[1]) +
        nn_sample_ws_size(net, C);
}

/* Per-thread sampler workspace for a block of C chains, in doubles
 * (ld = kern_ld(C)): Z and D (ld x d each), cx (ld x H1), x (ld x p), the
 * network's activations, the single-precision area if `single`
 * (sample_floats()), then C random-stream states. */
size_t bridge_sample_ws(const nn_net *net, int C, int single, int strata)
{
    size_t rs = (sizeof(rng_state) + sizeof(double) - 1) / sizeof(double);
    size_t fs = single ? in_doubles(sample_floats(net, C), sizeof(float)) : 0;
    /* stratified noise: the chains' remaining noise sums (ld x d) and one
     * permutation of m strata per component */
    size_t ss = strata ? (size_t) kern_ld(C) * net->d +
        in_doubles((size_t) strata * net->d, sizeof(int)) : 0;
    return (size_t) kern_ld(C) * (2 * (size_t) net->d + (size_t) net->width[1] +
                                  (size_t) net->p) +
        (size_t) C * rs + nn_sample_ws_size(net, C) + fs + ss;
}

/*
 * Stratified noise.  Without it the sampler's state after the last step is
 * Z_K = sum_k w_k eps_k + (terms of the drift), w_k = s_k prod_{j>k} u_j,
 * with independent standard normal eps_k: the noise alone ends at
 * L = sum_k w_k eps_k ~ N(0, V_0), V_k = sum_{j>=k} w_j^2.  Stratified
 * noise draws L first, L = sqrt(V_0) S with S = Phi^{-1}((pi(i) + U) / m)
 * for draw i of a group of m draws (pi a random permutation of the m
 * strata, U uniform), and then the eps_k one at a time from their law
 * given what is left of L, R_k = sum_{j>=k} w_j eps_j:
 *     eps_k | R_k ~ N(w_k R_k / V_k, 1 - w_k^2 / V_k),   R_{k+1} = R_k - w_k eps_k.
 * Each chain's noise is then exactly that of an independent chain (S is
 * standard normal whatever pi(i) is), but the m draws of a group cover the
 * m equal-probability strata of L once each, so that statistics that
 * follow L (most of the draw's spread: quantiles, probabilities, moments)
 * vary less from call to call.  Groups are independent of each other.
 *
 * ncoef (3 x K) holds per step w_k / V_k, sqrt(1 - w_k^2 / V_k) and w_k;
 * ncoef[3K] (one more double) holds sqrt(V_0).
 */
void bridge_strata(int K, const double *ucoef, const double *scoef,
                   double *ncoef)
{
    double prod = 1.0, V = 0.0;
    for (int k = K - 1; k >= 0; k--) {
        double w = scoef[k] * prod;
        V += w * w;
        ncoef[3 * k] = V > 0.0 ? w / V : 0.0;
        ncoef[3 * k + 1] = V > 0.0 ? sqrt(fmax(0.0, 1.0 - w * w / V)) : 1.0;
        ncoef[3 * k + 2] = w;
        prod *= ucoef[k];
    }
    ncoef[3 * (size_t) K] = sqrt(V);
}

/* The permutation of the m (or fewer, in a row's last group) strata of
 * group g, component q, of the row with key `rowid`: a stream apart from
 * the chains' (which are keyed by draw numbers below 2^31). */
static void strata_perm(int *perm, int m, uint64_t seed, uint64_t rowid,
                        int g, int q, int d)
{
    rng_state st;
    rng_seed(&st, seed, rowid, (1ULL << 62) + (uint64_t) g * (uint64_t) d + (uint64_t) q);
    for (int i = 0; i < m; i++) perm[i] = i;
    for (int i = m - 1; i > 0; i--) {
        int j = (int) rng_bounded(&st, (uint64_t) i + 1);
        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

/*
 * The recalibration map of a standardised draw z: linear between the
 * knots (kz, ktz), moved by the end knots' shift beyond them; NaN and
 * infinite values stay as they are.
 */
static double recal_map(const bridge_sampler *s, double z)
{
    const double *kz = s->kz, *ktz = s->ktz;
    int n = s->nknot;
    if (!isfinite(z)) return z;
    if (z <= kz[0]) return z + (ktz[0] - kz[0]);
    if (z >= kz[n - 1]) return z + (ktz[n - 1] - kz[n - 1]);
    int lo = 0, hi = n - 1;  /* kz[lo] <= z < kz[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (kz[mid] <= z) lo = mid; else hi = mid;
    }
    return ktz[lo] + (z - kz[lo]) * (ktz[hi] - ktz[lo]) / (kz[hi] - kz[lo]);
}

/*
 * Sample the chains of blocks b0 .. b1 - 1.  Chain c (0-based, over
 * nrow * ndraw) is draw j = c % ndraw of row r = c / ndraw; block b holds
 * chains b * block .. (b + 1) * block - 1.  Its draw, ycenter[q] +
 * yscale[q] Z (ycenter[r + nrow q] and yscale[r + nrow q] if
 * yrows; Z mapped by recal_map() first if s->nknot), goes to
 * out[c + nrow * ndraw * q] for component q.  Returns the number of chains
 * whose draw is not finite.  The padding chains of a block (up to a
 * multiple of KERN_PAD) start at zero, get no noise and are discarded.
 * With s->single the network is evaluated in float (weights s->thetaf,
 * time table s->Tf) on the chains' states rounded to float; the states,
 * the steps and the noise stay in double.
 */
static int sample_blocks(const nn_net *net, const double *theta,
                         const bridge_sampler *s, ptrdiff_t b0, ptrdiff_t b1)
{
    ptrdiff_t N = (ptrdiff_t) s->nrow * s->ndraw;
    int nbad = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(s->nthreads) schedule(dynamic, 1) reduction(+:nbad)
#endif
    for (ptrdiff_t blk = b0; blk < b1; blk++) {
        ptrdiff_t c0 = blk * s->block;
        int C = (int) (N - c0 < s->block ? N - c0 : s->block);
        int d = s->d, p = s->p, H1 = net->width[1], ld = kern_ld(C);
        double *ws = s->ws + s->ws_size * thread_id();
        double *Z = ws, *D = Z + (size_t) ld * d, *cx = D + (size_t) ld * d;
        double *xb = cx + (size_t) ld * H1, *nws = xb + (size_t) ld * p;
        double *after = nws + nn_sample_ws_size(net, C);
        /* single precision: zf, Df (ld x d), cxf (ld x H1), activations */
        float *zf = NULL, *Df = NULL, *cxf = NULL, *hf = NULL;
        if (s->single) {
            zf = (float *) after;
            Df = zf + (size_t) ld * d;
            cxf = Df + (size_t) ld * d;
            hf = cxf + (size_t) ld * H1;
            after += in_doubles(sample_floats(net, C), sizeof(float));
        }
        rng_state *st = (rng_state *) after;
        double *rem = NULL;      /* stratified: what is left of L, ld x d */
        int *perm = NULL;        /* stratified: m x d */
        if (s->strata) {
            rem = (double *) (st + C);
            perm = (int *) (rem + (size_t) ld * d);
            memset(rem, 0, (size_t) ld * d * sizeof(double));
        }

        memset(xb, 0, (size_t) ld * p * sizeof(double));
        ptrdiff_t pkey = -1;     /* the group whose permutations perm holds */
        double sd0 = s->strata ? s->ncoef[3 * (size_t) s->K] : 0.0;  /* sqrt(V_0) */
        for (int i = 0; i < C; i++) {
            ptrdiff_t c = c0 + i, r = c / s->ndraw, j = c % s->ndraw;
            for (int q = 0; q < p; q++)
                xb[i + (size_t) ld * q] = s->X[r + (size_t) s->nrow * q];
            rng_seed(st + i, s->seed, (uint64_t) s->rowid[r], (uint64_t) j);
            if (s->strata) {
                int m = s->strata, g = (int) (j / m);
                int mg = s->ndraw - g * m < m ? s->ndraw - g * m : m;
                ptrdiff_t key = r * ((s->ndraw + m - 1) / m) + g;
                if (key != pkey) {
                    for (int q = 0; q < d; q++)
                        strata_perm(perm + (size_t) m * q, mg, s->seed,
                                    (uint64_t) s->rowid[r], g, q, d);
                    pkey = key;
                }
                for (int q = 0; q < d; q++) {
                    double u = (perm[(size_t) m * q + j % m] + rng_unif(st + i)) / mg;
                    rem[i + (size_t) ld * q] = sd0 * qnorm(u, 0.0, 1.0, 1, 0);
                }
            }
        }
        nn_x_cache(net, theta, C, xb, cx);
        memset(Z, 0, (size_t) ld * d * sizeof(double));
        if (s->single) kern_to_float(net->kern, (size_t) ld * H1, cx, cxf);

        for (int k = 0; k < s->K; k++) {
            if (s->single) {
                kern_to_float(net->kern, (size_t) ld * d, Z, zf);
                nn_forward_cached_f(net, s->thetaf, C, zf, cxf,
                                    s->Tf + (size_t) k * H1, hf, Df);
                for (size_t i = 0; i < (size_t) ld * d; i++) D[i] = Df[i];
            } else {
                nn_forward_cached(net, theta, C, Z, cx, s->T + (size_t) k * H1,
                                  nws, D);
            }
            double u = s->ucoef[k], a = s->acoef[k], sc = s->scoef[k];
            for (int q = 0; q < d; q++) {
                double *zq = Z + (size_t) ld * q;
                const double *dq = D + (size_t) ld * q;
                if (sc > 0.0 && s->strata) {
                    const double *nc = s->ncoef + 3 * (size_t) k;
                    double *rq = rem + (size_t) ld * q;
                    for (int i = 0; i < C; i++) {
                        double e = nc[0] * rq[i] + nc[1] * rng_norm(st + i);
                        rq[i] -= nc[2] * e;
                        zq[i] = u * zq[i] + a * dq[i] + sc * e;
                    }
                } else if (sc > 0.0) {
                    for (int i = 0; i < C; i++)
                        zq[i] = u * zq[i] + a * dq[i] + sc * rng_norm(st + i);
                } else {
                    for (int i = 0; i < C; i++) zq[i] = u * zq[i] + a * dq[i];
                }
            }
        }

        for (int i = 0; i < C; i++) {
            int bad = 0;
            ptrdiff_t r = (c0 + i) / s->ndraw;
            for (int q = 0; q < d; q++) {
                ptrdiff_t iq = s->yrows ? r + (ptrdiff_t) s->nrow * q : q;
                double z = Z[i + (size_t) ld * q];
                if (s->nknot) z = recal_map(s, z);
                double v = s->ycenter[iq] + s->yscale[iq] * z;
                s->out[c0 + i + N * q] = v;
                if (!isfinite(v)) bad = 1;
            }
            nbad += bad;
        }
    }
    return nbad;
}

/* Doubles of workspace bridge_loss_grad() needs. */
size_t bridge_loss_grad_ws(const nn_net *net)
{
    return thread_ws(net, 0);
}

/*
 * Sample all chains, in waves of blocks with the hook called after each
 * wave.  Up to 64 blocks per thread in a wave: the threads take blocks one
 * at a time, so their shares stay even, and the time one thread waits at
 * the end of a wave for the other's last block is a small part of the
 * wave (with 8 blocks per thread it was about 4% of a predict() on two
 * threads).  Waves are of at most ~1.6e10 multiply-adds, well under a
 * second.  Returns the number of chains whose draw is not finite.
 */
int bridge_sample(const nn_net *net, const double *theta,
                  const bridge_sampler *s, const sample_hook *hook)
{
    ptrdiff_t N = (ptrdiff_t) s->nrow * s->ndraw;
    ptrdiff_t nblock = (N + s->block - 1) / s->block;
    ptrdiff_t wave = 64 * (ptrdiff_t) s->nthreads;
    double work = (double) s->block * s->K * net->npar;
    while (wave > 1 && work * wave > 1.6e10) wave /= 2;
    int nbad = 0;
    for (ptrdiff_t b = 0; b < nblock; b += wave) {
        ptrdiff_t e = b + wave < nblock ? b + wave : nblock;
        nbad += sample_blocks(net, theta, s, b, e);
        if (hook) hook->tick(hook->ctx);
    }
    return nbad;
}

/*
 * Loss and gradient over n given rows with given times and noise, in
 * chunks on one thread: the training computation without the optimiser,
 * for checking gradients against finite differences.  grad (npar) is
 * overwritten; ws holds bridge_loss_grad_ws(net) doubles.
 */
double bridge_loss_grad(const nn_net *net, const double *theta, int n,
                        const double *X, const double *Y, const double *w,
                        const double *t, const double *eps, int resid,
                        double *ws, double *grad)
{
    int rows[NN_CHUNK];
    double loss = 0.0, scale = 2.0 / ((double) n * net->d);
    memset(grad, 0, net->npar * sizeof(double));
    for (int b0 = 0; b0 < n; b0 += NN_CHUNK) {
        int Bc = n - b0 < NN_CHUNK ? n - b0 : NN_CHUNK;
        for (int b = 0; b < Bc; b++) rows[b] = b0 + b;
        double *tg = target_of(net, ws);
        fill_input(net, Bc, n, X, Y, rows, t + b0, eps + b0, (size_t) n,
                   resid, ws, tg);
        double *out = nn_forward_train(net, theta, Bc, ws);
        loss += chunk_loss(Bc, net->d, tg, w, rows, out, scale);
        nn_backward(net, theta, Bc, ws, out, grad);
    }
    return loss / ((double) n * net->d);
}
