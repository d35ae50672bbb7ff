/*
 * interface.c -- the .Call glue, the only C file that uses the R API
 * besides init.c.  Checks and coerces the SEXP arguments (again: the R
 * functions check them first, but a fit object edited by hand must not
 * crash R), allocates scratch memory with R_alloc before any parallel
 * region, calls the kernels (bridge.c: training loop and sampler; nn.c:
 * the network), gives them the callbacks that check for interrupts and
 * print progress, and builds the results.
 *
 * Where the rest lives: sbcg.h (what crosses files), init.c
 * (registration), nn.c (network), kernels.c (dense-layer kernels, portable
 * and AVX2), bridge.c (training loop, time law, sampler), rng.c (random
 * streams), bandwidth.c (the sums of the densities' bandwidth rule).
 *
 * Network description passed from R:
 *   arch  integer: d, p, nfreq, activation, nhidden, hidden widths...,
 *         then optionally the time map and the kind (bridge/regression)
 *   freq  double:  the nfreq time-embedding frequencies
 *   theta double:  the parameters, laid out as in sbcg.h
 *   kern  integer: the kernel set (KERN_PORTABLE, KERN_AVX2 or KERN_AVX512)
 */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Utils.h>
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
# include <omp.h>
#endif
#include "sbcg.h"

#ifdef ENABLE_NLS
# include <libintl.h>
# define _(String) dgettext("sbcg", String)
#else
# define _(String) (String)
#endif

static double wall_time(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return (double) time(NULL);
#endif
}

static void check_real(SEXP x, const char *what, R_xlen_t len)
{
    if (TYPEOF(x) != REALSXP)
        error(_("'%s' must be a double vector"), what);
    if (len >= 0 && XLENGTH(x) != len)
        error(_("'%s' must have length %.0f, not %.0f"), what, (double) len,
              (double) XLENGTH(x));
}

static int get_int1(SEXP x, const char *what, int lo, int hi)
{
    if (!isNumeric(x) || XLENGTH(x) != 1)
        error(_("'%s' must be a single number"), what);
    double v = asReal(x);
    if (!R_FINITE(v) || v != floor(v) || v < lo || v > hi)
        error(_("'%s' must be a whole number in [%d, %d]"), what, lo, hi);
    return (int) v;
}

/*
 * Check arch, freq and theta and fill in the network description; kern is
 * the kernel set.  arch = (d, p, nfreq, activation, nhidden, hidden...,
 * [time map, [kind]]): networks saved before the time map (or the kind)
 * existed embed t itself (and are bridge networks).
 */
static void setup_net(SEXP arch, SEXP freq, SEXP theta, SEXP kern, nn_net *net)
{
    if (TYPEOF(arch) != INTSXP || XLENGTH(arch) < 6)
        error(_("'arch' must be an integer vector of length at least 6"));
    const int *a = INTEGER(arch);
    for (R_xlen_t i = 0; i < XLENGTH(arch); i++)
        if (a[i] == NA_INTEGER) error(_("'arch' must not contain NA"));
    int nh = a[4];
    if (nh < 1 || nh > NN_MAX_HIDDEN)
        error(_("'arch': the number of hidden layers must be in [1, %d]"), NN_MAX_HIDDEN);
    R_xlen_t len = XLENGTH(arch);
    if (len < 5 + nh || len > 7 + nh)
        error(_("'arch' must have length %d to %d"), 5 + nh, 7 + nh);
    int tmap = len > 5 + nh ? a[5 + nh] : NN_TMAP_LINEAR;
    int kind = len > 6 + nh ? a[6 + nh] : NN_BRIDGE;
    check_real(freq, "freq", a[2] >= 0 && a[2] <= NN_MAX_FREQ ? a[2] : -1);
    for (R_xlen_t k = 0; k < XLENGTH(freq); k++)
        if (!R_FINITE(REAL(freq)[k])) error(_("'freq' must be finite"));
    int kset = get_int1(kern, "kern", KERN_PORTABLE, KERN_AVX512);
    if (kset > kern_detect())
        error(_("'kern': this CPU has no %s kernels"), kset == KERN_AVX2 ? "AVX2" : "AVX-512");
    if (nn_setup(net, kind, a[0], a[1], a[2], REAL(freq), nh, a + 5, a[3],
                 tmap, kset))
        error(_("'arch' does not describe a valid network"));
    check_real(theta, "theta", (R_xlen_t) net->npar);
    const double *th = REAL(theta);
    for (size_t i = 0; i < net->npar; i++)
        if (!R_FINITE(th[i])) error(_("'theta' must be finite"));
}

/* A double matrix with nr rows (nr < 0: any) and nc columns. */
static int check_matrix(SEXP x, const char *what, int nr, int nc)
{
    if (TYPEOF(x) != REALSXP) error(_("'%s' must be a double matrix"), what);
    SEXP dim = getAttrib(x, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || LENGTH(dim) != 2)
        error(_("'%s' must be a matrix"), what);
    int r = INTEGER(dim)[0], c = INTEGER(dim)[1];
    if ((nr >= 0 && r != nr) || c != nc)
        error(_("'%s' must be a %d x %d matrix"), what, nr < 0 ? r : nr, nc);
    const double *v = REAL(x);
    R_xlen_t len = XLENGTH(x);
    for (R_xlen_t i = 0; i < len; i++)
        if (!R_FINITE(v[i])) error(_("'%s' must be finite"), what);
    return r;
}

static void check_finite(SEXP x, const char *what, R_xlen_t len)
{
    check_real(x, what, len);
    const double *v = REAL(x);
    for (R_xlen_t i = 0; i < len; i++)
        if (!R_FINITE(v[i])) error(_("'%s' must be finite"), what);
}

static void check_times(SEXP t, const char *what, R_xlen_t len)
{
    check_finite(t, what, len);
    const double *v = REAL(t);
    for (R_xlen_t i = 0; i < len; i++)
        if (v[i] < 0.0 || v[i] > 1.0) error(_("'%s' must lie in [0, 1]"), what);
}

static uint64_t get_seed(SEXP seed)
{
    if (TYPEOF(seed) != INTSXP || XLENGTH(seed) != 2 ||
        INTEGER(seed)[0] == NA_INTEGER || INTEGER(seed)[1] == NA_INTEGER)
        error(_("'seed' must be an integer vector of length 2 without NA"));
    return ((uint64_t) (uint32_t) INTEGER(seed)[0] << 32) |
        (uint64_t) (uint32_t) INTEGER(seed)[1];
}

/* A list of n elements with the given names (to be PROTECTed). */
static SEXP named_list(int n, const char **names)
{
    SEXP res = PROTECT(allocVector(VECSXP, n));
    SEXP nms = PROTECT(allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) SET_STRING_ELT(nms, i, mkChar(names[i]));
    setAttrib(res, R_NamesSymbol, nms);
    UNPROTECT(2);
    return res;
}

/*
 * Network output for the rows of z (B x nz), t (B; unused without a time
 * embedding) and x (B x p), through the training forward pass.
 */
SEXP sbcg_forward(SEXP arch, SEXP freq, SEXP theta, SEXP z, SEXP t, SEXP x,
                  SEXP kern)
{
    nn_net net;
    setup_net(arch, freq, theta, kern, &net);
    int B = check_matrix(x, "x", -1, net.p);
    check_matrix(z, "z", B, net.nz);
    check_times(t, "t", net.nemb > 0 ? B : XLENGTH(t));
    double *ws = (double *) R_alloc(nn_train_ws_size(&net, NN_CHUNK), sizeof(double));
    SEXP res = PROTECT(allocMatrix(REALSXP, B, net.d));
    for (int b0 = 0; b0 < B; b0 += NN_CHUNK) {
        int Bc = B - b0 < NN_CHUNK ? B - b0 : NN_CHUNK, ld = kern_ld(Bc);
        for (int k = 0; k < net.nz; k++)
            memcpy(ws + (size_t) ld * k, REAL(z) + b0 + (size_t) B * k,
                   (size_t) Bc * sizeof(double));
        nn_input(&net, Bc, net.nemb > 0 ? REAL(t) + b0 : NULL,
                 REAL(x) + b0, (size_t) B, NULL, ws);
        double *out = nn_forward_train(&net, REAL(theta), Bc, ws);
        for (int k = 0; k < net.d; k++)
            memcpy(REAL(res) + b0 + (size_t) B * k, out + (size_t) ld * k,
                   (size_t) Bc * sizeof(double));
    }
    UNPROTECT(1);
    return res;
}

/*
 * Training loss and its gradient for rows x (n x p), y (n x d), times t,
 * noise eps (n x d) and weights w (n), with the residual parameterisation
 * if resid is 1: list(loss, grad).
 */
SEXP sbcg_loss_grad(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y,
                    SEXP t, SEXP eps, SEXP w, SEXP resid, SEXP kern)
{
    nn_net net;
    setup_net(arch, freq, theta, kern, &net);
    if (net.kind != NN_BRIDGE) error(_("'arch' must describe a bridge network"));
    int n = check_matrix(y, "y", -1, net.d);
    if (n < 1) error(_("'y' must have at least one row"));
    check_matrix(x, "x", n, net.p);
    check_times(t, "t", n);
    check_matrix(eps, "eps", n, net.d);
    check_finite(w, "w", n);
    int rs = get_int1(resid, "resid", 0, 1);
    for (int i = 0; i < n; i++)
        if (REAL(t)[i] >= 1.0) error(_("'t' must be below 1"));
    double *ws = (double *) R_alloc(bridge_loss_grad_ws(&net), sizeof(double));
    SEXP grad = PROTECT(allocVector(REALSXP, (R_xlen_t) net.npar));
    double loss = bridge_loss_grad(&net, REAL(theta), n, REAL(x), REAL(y),
                                   REAL(w), REAL(t), REAL(eps), rs, ws,
                                   REAL(grad));
    SEXP res = PROTECT(named_list(2, (const char *[]) {"loss", "grad"}));
    SET_VECTOR_ELT(res, 0, ScalarReal(loss));
    SET_VECTOR_ELT(res, 1, grad);
    UNPROTECT(2);
    return res;
}

static void format_secs(double s, char *buf, size_t len)
{
    if (!R_FINITE(s) || s < 0) s = 0;
    long v = (long) (s + 0.5);
    if (v >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", v / 3600, (v / 60) % 60, v % 60);
    else
        snprintf(buf, len, "%ld:%02ld", v / 60, v % 60);
}

/* The training monitor: interrupts, and a progress line at most four
 * times a second (and after the last epoch, end = 2) when verbose. */
typedef struct {
    int verbose;
    double t0, last;
    const char *label;  /* what is trained, shown before the epoch */
} monitor_ctx;

static void train_tick(void *ctx, int epoch, int epochs, double tl, double vl,
                       int end)
{
    monitor_ctx *m = (monitor_ctx *) ctx;
    R_CheckUserInterrupt();
    double now = wall_time();
    if (!m->verbose || (now - m->last <= 0.25 && end < 2))
        return;
    char left[32], used[32];
    m->last = now;
    format_secs((now - m->t0) / epoch * (epochs - epoch), left, sizeof left);
    format_secs(now - m->t0, used, sizeof used);
    if (!ISNAN(vl))
        Rprintf("\r%sepoch %d/%d  train %.4f  valid %.4f  %s elapsed, at most %s left   ",
                m->label, epoch, epochs, tl, vl, used, left);
    else
        Rprintf("\r%sepoch %d/%d  train %.4f  %s elapsed, at most %s left   ",
                m->label, epoch, epochs, tl, used, left);
    R_FlushConsole();
}

/* The settings vector built by train_settings() in R, in this order.  R
 * owns the settings, their defaults and their limits (sbcg_control()); the
 * ranges here only keep values that would break this code (a direct .Call)
 * out. */
static const struct { const char *name; double lo, hi; } settings_spec[] = {
    {"epochs", 1, 1e7}, {"min_epochs", 0, 1e7}, {"valid_every", 1, 1e7},
    {"patience", 1, 1e9}, {"batch", 1, 1e7}, {"warmup", 0, 1e9},
    {"schedule", LR_CONSTANT, LR_COSINE}, {"resid", 0, 1},
    {"t_min", 0, 1}, {"t_max", 0, 1}, {"t_tail", 0, 1}, {"lr", 0, 10},
    {"lr_min", 0, 10}, {"beta1", 0, 1 - 1e-12}, {"beta2", 0, 1 - 1e-12},
    {"adam_eps", 1e-300, 1}, {"weight_decay", 0, 1}, {"ema", 0, 1 - 1e-12},
    {"val_reps", 1, 1000}, {"single", 0, 1}, {"keep_last", 0, 1},
    {"stop_epoch", 0, 1e7}, {"wd_input", 0, 1e3}, {"overfit", 0, 1},
    {"overfit_from", 0, 1e7}
};
#define NSETTINGS ((int) (sizeof settings_spec / sizeof settings_spec[0]))

static void get_settings(SEXP x, fit_settings *s)
{
    double v[NSETTINGS];
    check_real(x, "settings", NSETTINGS);
    for (int i = 0; i < NSETTINGS; i++) {
        v[i] = REAL(x)[i];
        if (!(v[i] >= settings_spec[i].lo && v[i] <= settings_spec[i].hi))
            error(_("'settings': '%s' must be in [%g, %g]"), settings_spec[i].name,
                  settings_spec[i].lo, settings_spec[i].hi);
    }
    *s = (fit_settings) {
        .epochs = (int) v[0], .min_epochs = (int) v[1], .valid_every = (int) v[2],
        .patience = (int) v[3], .batch = (int) v[4], .warmup = (int) v[5],
        .schedule = (int) v[6], .resid = (int) v[7], .t_min = v[8],
        .t_max = v[9], .t_tail = v[10], .lr = v[11], .lr_min = v[12],
        .beta1 = v[13], .beta2 = v[14], .eps = v[15], .wd = v[16], .ema = v[17],
        .val_reps = (int) v[18], .single = (int) v[19], .keep_last = (int) v[20],
        .stop_epoch = (int) v[21], .wd_input = v[22], .overfit = v[23],
        .overfit_from = (int) v[24]};
    if (s->t_min > s->t_max || (s->resid && s->t_max >= 1.0) ||
        (s->t_tail > 0.0 && (s->t_min <= 0.0 || s->t_max >= 1.0)))
        error(_("'settings': the training times must satisfy 0 <= t_min <= t_max < 1, and t_min > 0 when t_tail > 0"));
}

/* Rows `rows` (1-based, NULL: all of x) of a matrix x of ld rows, as
 * 0-based row numbers (NULL for all rows) and their count in *n. */
static const int *row_numbers(SEXP rows, int ld, const char *what, int *n)
{
    if (isNull(rows)) {
        *n = ld;
        return NULL;
    }
    if (TYPEOF(rows) != INTSXP) error(_("'%s' must be NULL or an integer vector"), what);
    R_xlen_t len = XLENGTH(rows);
    int *out = (int *) R_alloc(len > 0 ? len : 1, sizeof(int));
    const int *r = INTEGER(rows);
    for (R_xlen_t i = 0; i < len; i++) {
        if (r[i] == NA_INTEGER || r[i] < 1 || r[i] > ld)
            error(_("'%s' must hold row numbers from 1 to %d"), what, ld);
        out[i] = r[i] - 1;
    }
    *n = (int) len;
    return out;
}

/* The rows of one training run, checked: x, y the training rows
 * (standardised), or with `rows` non-NULL rows `rows` of them; w their
 * weights; xv, yv, rowsv, wv the validation rows likewise (nv may be 0). */
static fit_data train_rows(const nn_net *net, const fit_settings *st, SEXP x,
                           SEXP y, SEXP w, SEXP xv, SEXP yv, SEXP wv,
                           SEXP rows, SEXP rowsv)
{
    fit_data dat = {.ldx = check_matrix(y, "y", -1, net->d),
                    .ldxv = check_matrix(yv, "yv", -1, net->d)};
    check_matrix(x, "x", dat.ldx, net->p);
    check_matrix(xv, "xv", dat.ldxv, net->p);
    dat.xrow = row_numbers(rows, dat.ldx, "rows", &dat.n);
    dat.xrowv = row_numbers(rowsv, dat.ldxv, "rowsv", &dat.nv);
    if (dat.n < 1) error(_("'y' must have at least one row"));
    if ((double) dat.nv * st->val_reps > INT_MAX / 2)
        error(_("'settings': too many validation draws"));
    check_finite(w, "w", dat.n);
    check_finite(wv, "wv", dat.nv);
    dat.X = REAL(x); dat.Y = REAL(y); dat.w = REAL(w);
    dat.Xv = REAL(xv); dat.Yv = REAL(yv); dat.wv = REAL(wv);
    return dat;
}

/* verbose: FALSE, TRUE, or the label of the progress line. */
static int get_verbose(SEXP verbose, const char **label)
{
    *label = "";
    if (isString(verbose) && XLENGTH(verbose) == 1 && STRING_ELT(verbose, 0) != NA_STRING) {
        *label = CHAR(STRING_ELT(verbose, 0));
        return 1;
    }
    if (isLogical(verbose) && XLENGTH(verbose) == 1 && LOGICAL(verbose)[0] != NA_LOGICAL)
        return LOGICAL(verbose)[0];
    error(_("'verbose' must be TRUE, FALSE or a label"));
    return 0;
}

/* The result list of one training run (to be PROTECTed): th, tl and vl
 * are its weights and loss histories (epochs long). */
static SEXP train_result(SEXP th, SEXP tl, SEXP vl, const fit_result *r,
                         double seconds)
{
    for (int e = 0; e < r->epochs; e++)
        if (ISNAN(REAL(vl)[e])) REAL(vl)[e] = NA_REAL;
    SEXP res = PROTECT(named_list(9, (const char *[]) {"theta", "train_loss",
        "valid_loss", "best_epoch", "epochs", "steps", "status", "seconds",
        "start_loss"}));
    SET_VECTOR_ELT(res, 0, th);
    SET_VECTOR_ELT(res, 1, lengthgets(tl, r->epochs));
    SET_VECTOR_ELT(res, 2, lengthgets(vl, r->epochs));
    SET_VECTOR_ELT(res, 3, ScalarInteger(r->best_epoch));
    SET_VECTOR_ELT(res, 4, ScalarInteger(r->epochs));
    SET_VECTOR_ELT(res, 5, ScalarReal((double) r->steps));
    SET_VECTOR_ELT(res, 6, ScalarInteger(r->status));
    SET_VECTOR_ELT(res, 7, ScalarReal(seconds));
    SET_VECTOR_ELT(res, 8, ScalarReal(ISNAN(r->start_loss) ? NA_REAL : r->start_loss));
    UNPROTECT(1);
    return res;
}

/*
 * Train the network from theta: x, y the training rows (standardised),
 * or with rows (1-based row numbers, else NULL) those rows of them, w
 * their weights; xv, yv, rowsv, wv the validation rows likewise (nv may
 * be 0).  The loop is bridge_fit().
 * Returns list(theta, train_loss, valid_loss, best_epoch, epochs, steps,
 * status, seconds, start_loss), status 0 = ran all epochs, 1 = stopped
 * early, 2 = diverged; start_loss is the validation loss of the starting
 * weights (NA without validation rows or with keep_last).
 */
SEXP sbcg_train(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y, SEXP w,
                SEXP xv, SEXP yv, SEXP wv, SEXP settings, SEXP seed,
                SEXP threads, SEXP verbose, SEXP kern, SEXP rows, SEXP rowsv)
{
    nn_net net;
    fit_settings st;
    setup_net(arch, freq, theta, kern, &net);
    get_settings(settings, &st);
    st.seed = get_seed(seed);
    st.nthreads = get_int1(threads, "threads", 1, 1024);
    if (net.kind == NN_REGRESSION) st.val_reps = 1;
    fit_data dat = train_rows(&net, &st, x, y, w, xv, yv, wv, rows, rowsv);
    const char *label;
    int show = get_verbose(verbose, &label);

    SEXP th = PROTECT(duplicate(theta));
    SEXP tl = PROTECT(allocVector(REALSXP, st.epochs));
    SEXP vl = PROTECT(allocVector(REALSXP, st.epochs));
    double *ws = (double *) R_alloc(bridge_fit_ws(&net, &st, &dat), sizeof(double));
    monitor_ctx mctx = {show, wall_time(), wall_time(), label};
    fit_monitor mon = {train_tick, &mctx};
    fit_result r = {.train_loss = REAL(tl), .valid_loss = REAL(vl)};
    bridge_fit(&net, REAL(th), &st, &dat, ws, &mon, &r);
    if (mctx.verbose) Rprintf("\n");
    SEXP res = PROTECT(train_result(th, tl, vl, &r, wall_time() - mctx.t0));
    UNPROTECT(4);
    return res;
}

/* The monitor of a group of networks: interrupts, and a progress line at
 * most four times a second (and at the end) when verbose. */
static void group_tick(void *ctx, int done, int m, int epoch, int epochs,
                       int end)
{
    monitor_ctx *g = (monitor_ctx *) ctx;
    R_CheckUserInterrupt();
    double now = wall_time();
    if (!g->verbose || (now - g->last <= 0.25 && !end))
        return;
    char left[48], used[32];
    g->last = now;
    /* (before the first epoch ends there is nothing to tell the time left
     * by) */
    if (epoch > 0) {
        char t[32];
        format_secs((now - g->t0) / epoch * (epochs - epoch), t, sizeof t);
        snprintf(left, sizeof left, ", at most %s left", t);
    } else {
        left[0] = '\0';
    }
    format_secs(now - g->t0, used, sizeof used);
    Rprintf("\r%sepoch %d/%d  %d/%d networks done  %s elapsed%s   ",
            g->label, epoch, epochs, done, m, used, left);
    R_FlushConsole();
}

static SEXP list_elt(SEXP x, int i, int m, const char *what)
{
    if (TYPEOF(x) != VECSXP || XLENGTH(x) != m)
        error(_("'%s' must be a list of length %d"), what, m);
    return VECTOR_ELT(x, i);
}

/*
 * Train m independent networks of one architecture side by side, one
 * thread each (bridge_fit_group()): theta, x, y, w, xv, yv, wv, seed,
 * rows and rowsv are lists of m elements, each as for sbcg_train(), whose
 * matrices may be one object shared by all; settings is one
 * settings vector for all of them or a list of m.  Returns a list of m
 * results as sbcg_train()'s, identical to training the networks one by
 * one; each network's `seconds` is the wall time of the call divided by
 * m, so that they add up to it.
 */
SEXP sbcg_train_group(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y, SEXP w,
                      SEXP xv, SEXP yv, SEXP wv, SEXP settings, SEXP seed,
                      SEXP threads, SEXP verbose, SEXP kern, SEXP rows, SEXP rowsv)
{
    int nprot = 0;
    if (TYPEOF(theta) != VECSXP || XLENGTH(theta) < 1 || XLENGTH(theta) > 10000)
        error(_("'theta' must be a list of 1 to 10000 weight vectors"));
    int m = (int) XLENGTH(theta);
    nn_net net;
    fit_settings st0 = {0};
    setup_net(arch, freq, VECTOR_ELT(theta, 0), kern, &net);
    /* settings: one vector for every network, or a list of m */
    int each = TYPEOF(settings) == VECSXP;
    if (!each) get_settings(settings, &st0);
    int nthreads = get_int1(threads, "threads", 1, 1024);
    const char *label;
    int show = get_verbose(verbose, &label);
    fit_settings *st = (fit_settings *) R_alloc(m, sizeof(fit_settings));
    fit_data *dat = (fit_data *) R_alloc(m, sizeof(fit_data));
    fit_result *r = (fit_result *) R_alloc(m, sizeof(fit_result));
    double **th = (double **) R_alloc(m, sizeof(double *));
    double **ws = (double **) R_alloc(m, sizeof(double *));
    SEXP out = PROTECT(allocVector(VECSXP, m)); nprot++;
    SEXP keep = PROTECT(allocVector(VECSXP, 3 * (R_xlen_t) m)); nprot++;
    for (int i = 0; i < m; i++) {
        nn_net ni;
        SEXP t0 = list_elt(theta, i, m, "theta");
        setup_net(arch, freq, t0, kern, &ni);
        if (each) get_settings(list_elt(settings, i, m, "settings"), st + i);
        else st[i] = st0;
        st[i].nthreads = 1;
        if (net.kind == NN_REGRESSION) st[i].val_reps = 1;
        st[i].seed = get_seed(list_elt(seed, i, m, "seed"));
        dat[i] = train_rows(&net, st + i, list_elt(x, i, m, "x"),
                            list_elt(y, i, m, "y"), list_elt(w, i, m, "w"),
                            list_elt(xv, i, m, "xv"), list_elt(yv, i, m, "yv"),
                            list_elt(wv, i, m, "wv"), list_elt(rows, i, m, "rows"),
                            list_elt(rowsv, i, m, "rowsv"));
        SEXP thi = duplicate(t0);
        SET_VECTOR_ELT(keep, 3 * i, thi);
        SET_VECTOR_ELT(keep, 3 * i + 1, allocVector(REALSXP, st[i].epochs));
        SET_VECTOR_ELT(keep, 3 * i + 2, allocVector(REALSXP, st[i].epochs));
        th[i] = REAL(thi);
        r[i] = (fit_result) {.train_loss = REAL(VECTOR_ELT(keep, 3 * i + 1)),
                             .valid_loss = REAL(VECTOR_ELT(keep, 3 * i + 2))};
        ws[i] = (double *) R_alloc(bridge_fit_ws(&net, st + i, dat + i), sizeof(double));
    }
    monitor_ctx mctx = {show, wall_time(), wall_time(), label};
    group_monitor mon = {group_tick, &mctx};
    bridge_fit_group(m, &net, th, st, dat, ws, nthreads, &mon, r);
    if (mctx.verbose) Rprintf("\n");
    double secs = (wall_time() - mctx.t0) / m;
    for (int i = 0; i < m; i++)
        SET_VECTOR_ELT(out, i, train_result(VECTOR_ELT(keep, 3 * i),
                                            VECTOR_ELT(keep, 3 * i + 1),
                                            VECTOR_ELT(keep, 3 * i + 2), r + i, secs));
    UNPROTECT(nprot);
    return out;
}

/* n training times drawn by the trainer's time law with these settings
 * from the stream of seed: the C time law, for tests. */
SEXP sbcg_times(SEXP n, SEXP settings, SEXP seed)
{
    fit_settings st;
    get_settings(settings, &st);
    st.seed = get_seed(seed);
    int m = get_int1(n, "n", 0, 100000000);
    SEXP res = PROTECT(allocVector(REALSXP, m));
    bridge_times(&st, m, REAL(res));
    UNPROTECT(1);
    return res;
}

/* Between two waves of sampler blocks: interrupts. */
static void sample_tick(void *ctx)
{
    (void) ctx;
    R_CheckUserInterrupt();
}

/*
 * Draw ndraw samples for each row of x (nrow x p, standardised).
 *   rowid   global row numbers (stream keys), nrow whole numbers >= 0
 *   tgrid   the K times at which the network is evaluated
 *   ucoef, acoef, scoef   the K step coefficients (see bridge.c)
 *   ycenter, yscale       d numbers: draws are returned as
 *                         ycenter + yscale * Z, on the response's scale;
 *                         or both nrow x d, a centre and scale per row
 *   precision             1: the network evaluated in float, 0: in double
 *   strata                0: independent chains; m >= 2: stratified noise
 *                         in groups of m draws of a row (bridge_strata())
 *   knots                 empty, or for one response the n knots z and
 *                         then their images T(z) of a recalibration map,
 *                         applied to Z before ycenter and yscale
 * Returns list(draws, nonfinite): draws is ndraw * nrow * d in chain
 * order (draw fastest, then row, then component).
 */
SEXP sbcg_sample(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP rowid,
                 SEXP ndraw, SEXP tgrid, SEXP ucoef, SEXP acoef, SEXP scoef,
                 SEXP seed, SEXP block, SEXP threads, SEXP ycenter,
                 SEXP yscale, SEXP kern, SEXP precision, SEXP strata,
                 SEXP knots)
{
    nn_net net;
    int nprot = 0;
    setup_net(arch, freq, theta, kern, &net);
    if (net.kind != NN_BRIDGE) error(_("'arch' must describe a bridge network"));
    int single = get_int1(precision, "precision", 0, 1);
    int nrow = check_matrix(x, "x", -1, net.p);
    check_finite(rowid, "rowid", nrow);
    for (int r = 0; r < nrow; r++) {
        double v = REAL(rowid)[r];
        if (v < 0 || v != floor(v) || v > 9007199254740992.0)
            error(_("'rowid' must hold whole numbers >= 0"));
    }
    int nd = get_int1(ndraw, "ndraw", 1, INT_MAX);
    if (TYPEOF(tgrid) != REALSXP) error(_("'tgrid' must be a double vector"));
    R_xlen_t K = XLENGTH(tgrid);
    if (K < 1 || K > 10000000) error(_("'tgrid' must have length in [1, 1e7]"));
    check_times(tgrid, "tgrid", K);
    check_finite(ucoef, "ucoef", K);
    check_finite(acoef, "acoef", K);
    check_finite(scoef, "scoef", K);
    for (R_xlen_t k = 0; k < K; k++)
        if (REAL(scoef)[k] < 0) error(_("'scoef' must be >= 0"));
    int blk = get_int1(block, "block", 1, 1 << 20);
    int nthreads = get_int1(threads, "threads", 1, 1024);
    int m = get_int1(strata, "strata", 0, 1 << 20);
    if (m == 1) error(_("'strata' must be 0 or at least 2"));
    if (m > nd) m = nd;
    if (m == 1) m = 0;
    /* with one row the two layouts coincide */
    int crow = nrow > 1 && TYPEOF(ycenter) == REALSXP &&
        XLENGTH(ycenter) == (R_xlen_t) nrow * net.d;
    check_finite(ycenter, "ycenter", crow ? (R_xlen_t) nrow * net.d : net.d);
    check_finite(yscale, "yscale", crow ? (R_xlen_t) nrow * net.d : net.d);

    /* the recalibration map: none, or 2 n values (n knots, then their
       images) for one response */
    if (TYPEOF(knots) != REALSXP) error(_("'knots' must be a double vector"));
    R_xlen_t nk2 = XLENGTH(knots);
    if (nk2 != 0 && (nk2 % 2 != 0 || nk2 < 4 || nk2 > 2000000 || net.d != 1))
        error(_("'knots' must be empty, or hold 2 n values (n >= 2) for one response"));
    int nknot = (int) (nk2 / 2);
    check_finite(knots, "knots", nk2);
    const double *kz = REAL(knots), *ktz = REAL(knots) + nknot;
    for (int k = 1; k < nknot; k++)
        if (!(kz[k] > kz[k - 1]) || !(ktz[k] >= ktz[k - 1]))
            error(_("'knots' must increase"));

    double N = (double) nrow * nd;
    if (N * net.d > (double) R_XLEN_T_MAX) error(_("too many draws requested"));
    SEXP out = PROTECT(allocVector(REALSXP, (R_xlen_t) (N * net.d))); nprot++;
    bridge_sampler s = {
        .nrow = nrow, .p = net.p, .d = net.d, .ndraw = nd, .K = (int) K,
        .X = REAL(x), .rowid = REAL(rowid), .ucoef = REAL(ucoef),
        .acoef = REAL(acoef), .scoef = REAL(scoef), .seed = get_seed(seed),
        .block = blk, .nthreads = nthreads, .ycenter = REAL(ycenter),
        .yscale = REAL(yscale), .yrows = crow, .strata = m, .nknot = nknot,
        .kz = kz, .ktz = ktz, .out = REAL(out)};
    if (m) {
        double *nc = (double *) R_alloc(3 * (size_t) K + 1, sizeof(double));
        bridge_strata((int) K, REAL(ucoef), REAL(scoef), nc);
        s.ncoef = nc;
    }
    double *T = (double *) R_alloc((size_t) K * net.width[1], sizeof(double));
    double *tws = (double *) R_alloc(nn_time_table_ws(&net) + 1, sizeof(double));
    nn_time_table(&net, REAL(theta), (int) K, REAL(tgrid), T, tws);
    s.T = T;
    s.single = single;
    if (single) {
        float *thetaf = (float *) R_alloc(net.npar, sizeof(float));
        float *Tf = (float *) R_alloc((size_t) K * net.width[1], sizeof(float));
        for (size_t i = 0; i < net.npar; i++) thetaf[i] = to_float(REAL(theta)[i]);
        for (size_t i = 0; i < (size_t) K * net.width[1]; i++) Tf[i] = to_float(T[i]);
        s.thetaf = thetaf;
        s.Tf = Tf;
    }
    s.ws_size = bridge_sample_ws(&net, blk, single, m);
    s.ws = (double *) R_alloc(s.ws_size * nthreads, sizeof(double));
    sample_hook hook = {sample_tick, NULL};
    int nbad = bridge_sample(&net, REAL(theta), &s, &hook);

    SEXP res = PROTECT(named_list(2, (const char *[]) {"draws", "nonfinite"}));
    nprot++;
    SET_VECTOR_ELT(res, 0, out);
    SET_VECTOR_ELT(res, 1, ScalarInteger(nbad));
    UNPROTECT(nprot);
    return res;
}

/* The best kernel set this CPU supports: "avx512", "avx2" or "portable". */
SEXP sbcg_kernels(void)
{
    int k = kern_detect();
    return mkString(k == KERN_AVX512 ? "avx512" : k == KERN_AVX2 ? "avx2" : "portable");
}

/* The limits of the network (sbcg.h), for R's argument checks. */
SEXP sbcg_limits(void)
{
    SEXP res = PROTECT(named_list(5, (const char *[]) {"hidden_layers",
        "width", "n_freq", "d", "p"}));
    SET_VECTOR_ELT(res, 0, ScalarInteger(NN_MAX_HIDDEN));
    SET_VECTOR_ELT(res, 1, ScalarInteger(NN_MAX_WIDTH));
    SET_VECTOR_ELT(res, 2, ScalarInteger(NN_MAX_FREQ));
    SET_VECTOR_ELT(res, 3, ScalarInteger(NN_MAX_D));
    SET_VECTOR_ELT(res, 4, ScalarInteger(NN_MAX_P));
    UNPROTECT(1);
    return res;
}

/* The pairs of draws by the distance between their bins, from the
 * draws per bin w (sj_pair_counts()). */
SEXP sbcg_sj_counts(SEXP w)
{
    if (TYPEOF(w) != INTSXP)
        error(_("'%s' must be an integer vector"), "w");
    R_xlen_t nb = XLENGTH(w);
    if (nb < 1 || nb > INT_MAX)
        error(_("'%s' must have between 1 and %d elements"), "w", INT_MAX);
    const int *pw = INTEGER(w);
    for (R_xlen_t k = 0; k < nb; k++)
        if (pw[k] == NA_INTEGER || pw[k] < 0)
            error(_("'%s' must hold counts, not NA or negative values"), "w");
    SEXP cnt = PROTECT(allocVector(REALSXP, nb));
    double *wd = (double *) R_alloc(nb, sizeof(double));
    sj_pair_counts(pw, (int) nb, REAL(cnt), wd);
    UNPROTECT(1);
    return cnt;
}

/* psi_4 or psi_6 of n draws at bandwidth h from their pair counts cnt in
 * bins of width d (sj_psi()). */
SEXP sbcg_sj_psi(SEXP n, SEXP d, SEXP cnt, SEXP h, SEXP order)
{
    int nn = get_int1(n, "n", 2, INT_MAX);
    int ord = get_int1(order, "order", 4, 6);
    if (ord != 4 && ord != 6)
        error(_("'%s' must be 4 or 6"), "order");
    check_real(cnt, "cnt", -1);
    if (XLENGTH(cnt) < 1 || XLENGTH(cnt) > INT_MAX)
        error(_("'%s' must have between 1 and %d elements"), "cnt", INT_MAX);
    double dd = asReal(d), hh = asReal(h);
    if (!(R_FINITE(dd) && dd > 0))
        error(_("'%s' must be a positive number"), "d");
    if (!(R_FINITE(hh) && hh > 0))
        error(_("'%s' must be a positive number"), "h");
    return ScalarReal(sj_psi(nn, dd, REAL(cnt), (int) XLENGTH(cnt), hh, ord));
}

/* Whether the package was built with OpenMP. */
SEXP sbcg_openmp(void)
{
#ifdef _OPENMP
    return ScalarLogical(1);
#else
    return ScalarLogical(0);
#endif
}
