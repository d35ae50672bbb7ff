/*
 * interface.c -- the .Call glue.  Checks and coerces the SEXP arguments
 * (again: the R functions check them first, but a fit object edited by
 * hand must not crash R), allocates scratch memory with R_alloc before any
 * parallel region, runs the kernels, checks for interrupts between
 * kernel calls, prints progress and builds the results.
 *
 * Network description passed from R:
 *   arch  integer: d, p, nfreq, activation, nhidden, hidden widths...
 *   freq  double:  the nfreq time-embedding frequencies
 *   theta double:  the parameters, laid out as in sbcg.h
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

/* Element `name` of list `ctrl` as a double in [lo, hi]. */
/* The element `name` of the control list, a number in [lo, hi]; if it is
 * absent, `def` when has_def, else an error. */
static double ctrl_get(SEXP ctrl, const char *name, double lo, double hi,
                       int has_def, double def)
{
    SEXP nms = getAttrib(ctrl, R_NamesSymbol);
    for (R_xlen_t i = 0; i < XLENGTH(ctrl); i++) {
        if (strcmp(CHAR(STRING_ELT(nms, i)), name) == 0) {
            SEXP v = VECTOR_ELT(ctrl, i);
            if (!isNumeric(v) || XLENGTH(v) != 1)
                error(_("'control$%s' must be a single number"), name);
            double x = asReal(v);
            if (ISNAN(x) || x < lo || x > hi)
                error(_("'control$%s' must be in [%g, %g]"), name, lo, hi);
            return x;
        }
    }
    if (has_def) return def;
    error(_("'control' has no element '%s'"), name);
    return 0.0; /* not reached */
}

static double ctrl_num(SEXP ctrl, const char *name, double lo, double hi)
{
    return ctrl_get(ctrl, name, lo, hi, 0, 0.0);
}

static double ctrl_opt(SEXP ctrl, const char *name, double lo, double hi,
                       double def)
{
    return ctrl_get(ctrl, name, lo, hi, 1, def);
}

/* Check arch, freq and theta and fill in the network description. */
static void setup_net(SEXP arch, SEXP freq, SEXP theta, nn_net *net)
{
    if (TYPEOF(arch) != INTSXP || XLENGTH(arch) < 6)
        error(_("'arch' must be an integer vector of length at least 6"));
    const int *a = INTEGER(arch);
    for (R_xlen_t i = 0; i < XLENGTH(arch); i++)
        if (a[i] == NA_INTEGER) error(_("'arch' must not contain NA"));
    int d = a[0], p = a[1], nfreq = a[2], act = a[3], nh = a[4];
    if (d < 1 || d > 100000) error(_("'arch': the response dimension must be in [1, 100000]"));
    if (p < 0 || p > 1000000) error(_("'arch': the predictor dimension must be in [0, 1000000]"));
    if (nfreq < 0 || nfreq > NN_MAX_FREQ)
        error(_("'arch': the number of frequencies must be in [0, %d]"), NN_MAX_FREQ);
    if (act < NN_SILU || act > NN_TANH) error(_("'arch': unknown activation code"));
    if (nh < 1 || nh > NN_MAX_HIDDEN)
        error(_("'arch': the number of hidden layers must be in [1, %d]"), NN_MAX_HIDDEN);
    if (XLENGTH(arch) != 5 + nh && XLENGTH(arch) != 6 + nh)
        error(_("'arch' must have length %d or %d"), 5 + nh, 6 + nh);
    int tmap = XLENGTH(arch) == 6 + nh ? a[5 + nh] : NN_TMAP_LINEAR;
    if (tmap != NN_TMAP_LINEAR && tmap != NN_TMAP_LOGIT)
        error(_("'arch': unknown time map code"));
    for (int l = 0; l < nh; l++)
        if (a[5 + l] < 1 || a[5 + l] > 100000)
            error(_("'arch': hidden widths must be in [1, 100000]"));
    check_real(freq, "freq", nfreq);
    for (int k = 0; k < nfreq; k++)
        if (!R_FINITE(REAL(freq)[k])) error(_("'freq' must be finite"));
    if (nn_setup(net, d, p, nfreq, REAL(freq), nh, a + 5, act))
        error(_("'arch' does not describe a valid network"));
    net->tmap = tmap;
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

/*
 * Network output D(z, t, x) for the rows of z (B x d), t (B), x (B x p).
 */
SEXP sbcg_forward(SEXP arch, SEXP freq, SEXP theta, SEXP z, SEXP t, SEXP x)
{
    nn_net net;
    setup_net(arch, freq, theta, &net);
    int B = check_matrix(z, "z", -1, net.d);
    check_times(t, "t", B);
    check_matrix(x, "x", B, net.p);
    int Bmax = B < NN_CHUNK ? (B > 0 ? B : 1) : NN_CHUNK;
    double *ws = (double *) R_alloc(nn_train_ws_size(&net, Bmax), sizeof(double));
    SEXP res = PROTECT(allocMatrix(REALSXP, B, net.d));
    double e[2 * NN_MAX_FREQ];
    for (int b0 = 0; b0 < B; b0 += NN_CHUNK) {
        int Bc = B - b0 < NN_CHUNK ? B - b0 : NN_CHUNK, ld = kern_ld(Bc);
        memset(ws, 0, (size_t) ld * net.width[0] * sizeof(double));
        for (int k = 0; k < net.d; k++)
            for (int b = 0; b < Bc; b++)
                ws[b + (size_t) ld * k] = REAL(z)[b0 + b + (size_t) B * k];
        for (int b = 0; b < Bc; b++) {
            nn_embed(&net, REAL(t)[b0 + b], e);
            for (int j = 0; j < net.nemb; j++)
                ws[b + (size_t) ld * (net.d + j)] = e[j];
        }
        for (int j = 0; j < net.p; j++)
            for (int b = 0; b < Bc; b++)
                ws[b + (size_t) ld * (net.d + net.nemb + j)] =
                    REAL(x)[b0 + b + (size_t) B * j];
        double *out = nn_forward_train(&net, REAL(theta), Bc, ws);
        for (int k = 0; k < net.d; k++)
            for (int b = 0; b < Bc; b++)
                REAL(res)[b0 + b + (size_t) B * k] = out[b + (size_t) ld * k];
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
                    SEXP t, SEXP eps, SEXP w, SEXP resid)
{
    nn_net net;
    setup_net(arch, freq, theta, &net);
    int n = check_matrix(y, "y", -1, net.d);
    if (n < 1) error(_("'y' must have at least one row"));
    check_matrix(x, "x", n, net.p);
    check_times(t, "t", n);
    check_matrix(eps, "eps", n, net.d);
    check_finite(w, "w", n);
    int rs = get_int1(resid, "resid", 0, 1);
    for (int i = 0; i < n; i++)
        if (REAL(t)[i] >= 1.0) error(_("'t' must be below 1"));
    double *ws = (double *) R_alloc(bridge_trainer_ws(&net), sizeof(double));
    SEXP grad = PROTECT(allocVector(REALSXP, (R_xlen_t) net.npar));
    double loss = bridge_loss_grad(&net, REAL(theta), n, REAL(x), REAL(y),
                                   REAL(w), REAL(t), REAL(eps), rs, ws,
                                   REAL(grad));
    SEXP res = PROTECT(allocVector(VECSXP, 2)), nms = PROTECT(allocVector(STRSXP, 2));
    SET_VECTOR_ELT(res, 0, ScalarReal(loss));
    SET_VECTOR_ELT(res, 1, grad);
    SET_STRING_ELT(nms, 0, mkChar("loss"));
    SET_STRING_ELT(nms, 1, mkChar("grad"));
    setAttrib(res, R_NamesSymbol, nms);
    UNPROTECT(3);
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

static void progress(int epoch, int epochs, double tl, double vl, int has_val,
                     double elapsed)
{
    char left[32], used[32];
    format_secs(elapsed / epoch * (epochs - epoch), left, sizeof left);
    format_secs(elapsed, used, sizeof used);
    if (has_val && !ISNA(vl))
        Rprintf("\repoch %d/%d  train %.4f  valid %.4f  %s elapsed, at most %s left   ",
                epoch, epochs, tl, vl, used, left);
    else
        Rprintf("\repoch %d/%d  train %.4f  %s elapsed, at most %s left   ",
                epoch, epochs, tl, used, left);
    R_FlushConsole();
}

/*
 * Train the network from theta (copied, not modified).
 *   x, y, w      training rows, standardised: n x p, n x d, n
 *   xv, yv, wv   validation rows (nv may be 0)
 *   tv, ev       fixed validation times (nv * nrep) and noise (nv*nrep x d)
 *   ctrl         list of settings (see sbcg_control())
 * The validation loss is computed every valid_every epochs and after the
 * last; training stops after `patience` checks without improvement, but
 * not before epoch ctrl$min_epochs (optional, default 0).  With
 * ctrl$ema > 0, an exponential moving average of the weights is kept, and
 * it is what is validated and returned.
 * Returns list(theta, train_loss, valid_loss, best_epoch, epochs, steps,
 * status), status 0 = ran all epochs, 1 = stopped early, 2 = diverged.
 */
SEXP sbcg_train(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP y, SEXP w,
                SEXP xv, SEXP yv, SEXP wv, SEXP tv, SEXP ev, SEXP ctrl,
                SEXP seed, SEXP threads, SEXP verbose)
{
    nn_net net;
    int nprot = 0;
    setup_net(arch, freq, theta, &net);
    int n = check_matrix(y, "y", -1, net.d);
    if (n < 1) error(_("'y' must have at least one row"));
    check_matrix(x, "x", n, net.p);
    check_finite(w, "w", n);
    int nv = check_matrix(yv, "yv", -1, net.d);
    check_matrix(xv, "xv", nv, net.p);
    check_finite(wv, "wv", nv);
    R_xlen_t M = XLENGTH(tv);
    if (nv == 0 && M != 0) error(_("'tv' must be empty without validation rows"));
    if (nv > 0 && (M < nv || M % nv != 0 || M / nv > 1000))
        error(_("'tv' must have length nv * nrep"));
    int nrep = nv > 0 ? (int) (M / nv) : 0;
    if (M > INT_MAX / 2) error(_("'tv' is too long"));
    check_times(tv, "tv", M);
    check_matrix(ev, "ev", (int) M, net.d);
    if (TYPEOF(ctrl) != VECSXP) error(_("'control' must be a list"));
    if (XLENGTH(ctrl) > 0 && TYPEOF(getAttrib(ctrl, R_NamesSymbol)) != STRSXP)
        error(_("'control' must be a named list"));
    int nthreads = get_int1(threads, "threads", 1, 1024);
    if (!isLogical(verbose) || XLENGTH(verbose) != 1 || LOGICAL(verbose)[0] == NA_LOGICAL)
        error(_("'verbose' must be TRUE or FALSE"));
    int verb = LOGICAL(verbose)[0];

    int epochs = (int) ctrl_num(ctrl, "epochs", 1, 1e7);
    int batch = (int) ctrl_num(ctrl, "batch_size", 1, 1e7);
    int patience = (int) fmin(ctrl_num(ctrl, "patience", 1, R_PosInf), 1e9);
    int every = (int) ctrl_num(ctrl, "valid_every", 1, 1e7);
    int min_epochs = (int) ctrl_opt(ctrl, "min_epochs", 0, 1e7, 0);
    if (batch > n) batch = n;

    bridge_trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.n = n;
    tr.p = net.p;
    tr.d = net.d;
    tr.X = REAL(x);
    tr.Y = REAL(y);
    tr.w = REAL(w);
    tr.batch = batch;
    tr.nthreads = nthreads;
    tr.t_min = ctrl_num(ctrl, "t_min", 0, 1);
    tr.t_max = ctrl_num(ctrl, "t_max", tr.t_min, 1);
    tr.lr = ctrl_num(ctrl, "lr", 0, 10);
    tr.lr_min = ctrl_num(ctrl, "lr_min", 0, tr.lr);
    tr.beta1 = ctrl_num(ctrl, "beta1", 0, 1 - 1e-12);
    tr.beta2 = ctrl_num(ctrl, "beta2", 0, 1 - 1e-12);
    tr.eps = ctrl_num(ctrl, "adam_eps", 1e-300, 1);
    tr.wd = ctrl_num(ctrl, "weight_decay", 0, 1);
    tr.schedule = (int) ctrl_num(ctrl, "schedule_code", LR_CONSTANT, LR_COSINE);
    tr.resid = (int) ctrl_num(ctrl, "resid", 0, 1);
    if (tr.resid && tr.t_max >= 1.0)
        error(_("'control$t_max' must be below 1 for the residual parameterisation"));
    tr.t_tail = ctrl_opt(ctrl, "t_tail", 0, 1, 0);
    if (tr.t_tail > 0.0 && (tr.t_min <= 0.0 || tr.t_max >= 1.0))
        error(_("'control$t_tail' > 0 needs 0 < t_min and t_max < 1"));
    tr.lo_min = tr.t_tail > 0.0 ? log(tr.t_min) - log1p(-tr.t_min) : 0.0;
    tr.lo_max = tr.t_tail > 0.0 ? log(tr.t_max) - log1p(-tr.t_max) : 0.0;
    long per_epoch = (n + batch - 1) / batch;
    tr.total_steps = per_epoch * (long) epochs;
    tr.warmup = (int) fmin(ctrl_num(ctrl, "warmup", 0, 1e9), (double) tr.total_steps);
    tr.step = 0;
    tr.ema_decay = ctrl_opt(ctrl, "ema", 0, 1 - 1e-12, 0);

    size_t npar = net.npar;
    int nchunk = (batch + NN_CHUNK - 1) / NN_CHUNK;
    int nvchunk = (int) ((M + NN_CHUNK - 1) / NN_CHUNK);
    tr.m = (double *) R_alloc(npar, sizeof(double));
    tr.v = (double *) R_alloc(npar, sizeof(double));
    memset(tr.m, 0, npar * sizeof(double));
    memset(tr.v, 0, npar * sizeof(double));
    tr.perm = (int *) R_alloc(n, sizeof(int));
    for (int i = 0; i < n; i++) tr.perm[i] = i;
    tr.tb = (double *) R_alloc(batch, sizeof(double));
    tr.eb = (double *) R_alloc((size_t) batch * net.d, sizeof(double));
    tr.gchunk = (double *) R_alloc((size_t) nchunk * npar, sizeof(double));
    tr.grad = (double *) R_alloc(npar, sizeof(double));
    tr.lchunk = (double *) R_alloc(nchunk > nvchunk ? nchunk : nvchunk, sizeof(double));
    tr.ws_size = bridge_trainer_ws(&net);
    tr.ws = (double *) R_alloc(tr.ws_size * nthreads, sizeof(double));
    rng_seed(&tr.rng, get_seed(seed), 0, 0);
    int *rowof = NULL;
    if (nv > 0) {
        rowof = (int *) R_alloc(M, sizeof(int));
        for (R_xlen_t m = 0; m < M; m++) rowof[m] = (int) (m % nv);
    }

    SEXP th = PROTECT(duplicate(theta)); nprot++;
    SEXP best = PROTECT(duplicate(theta)); nprot++;
    SEXP tl = PROTECT(allocVector(REALSXP, epochs)); nprot++;
    SEXP vl = PROTECT(allocVector(REALSXP, epochs)); nprot++;
    double *theta_p = REAL(th), best_loss = R_PosInf, last_val = NA_REAL;
    /* the weights that are validated and returned: theta or its average */
    double *eval_p = theta_p;
    if (tr.ema_decay > 0) {
        tr.ema = (double *) R_alloc(npar, sizeof(double));
        memcpy(tr.ema, theta_p, npar * sizeof(double));
        eval_p = tr.ema;
    }
    int best_epoch = 0, status = 0, done = 0, wait = 0;
    double t0 = wall_time(), last_print = t0;

    for (int ep = 1; ep <= epochs && status == 0; ep++) {
        bridge_shuffle(&tr);
        double sum = 0.0;
        int nb = 0;
        for (int start = 0; start < n; start += batch) {
            int B = n - start < batch ? n - start : batch;
            double loss;
            if (bridge_train_batch(&net, theta_p, &tr, start, B, &loss)) {
                status = 2;
                break;
            }
            sum += loss * B;
            if (++nb % 4 == 0) {
                R_CheckUserInterrupt();
                if (verb && wall_time() - last_print > 0.25) {
                    last_print = wall_time();
                    progress(ep, epochs, sum / (start + B), last_val, nv > 0,
                             last_print - t0);
                }
            }
        }
        done = ep;
        REAL(tl)[ep - 1] = status ? R_NaN : sum / n;
        REAL(vl)[ep - 1] = NA_REAL;
        if (status) break;
        if (nv > 0 && (ep % every == 0 || ep == epochs)) {
            double v = bridge_val_loss(&net, eval_p, nv, REAL(xv), REAL(yv),
                                       REAL(wv), rowof, REAL(tv), REAL(ev),
                                       nrep, tr.resid, nthreads, tr.ws,
                                       tr.ws_size, tr.lchunk);
            REAL(vl)[ep - 1] = v;
            last_val = v;
            if (!R_FINITE(v)) {
                status = 2;
                break;
            }
            if (v < best_loss) {
                best_loss = v;
                best_epoch = ep;
                memcpy(REAL(best), eval_p, npar * sizeof(double));
                wait = 0;
            } else if (++wait >= patience && ep >= min_epochs) {
                status = 1;
            }
        }
        R_CheckUserInterrupt();
        if (verb && (wall_time() - last_print > 0.25 || ep == epochs || status)) {
            last_print = wall_time();
            progress(ep, epochs, REAL(tl)[ep - 1], last_val, nv > 0,
                     last_print - t0);
        }
    }
    if (verb) {
        Rprintf("\n");
        R_FlushConsole();
    }
    if (nv == 0 && status != 2) {
        memcpy(REAL(best), eval_p, npar * sizeof(double));
        best_epoch = done;
    }

    SEXP tl2 = PROTECT(lengthgets(tl, done)); nprot++;
    SEXP vl2 = PROTECT(lengthgets(vl, done)); nprot++;
    const char *names[] = {"theta", "train_loss", "valid_loss", "best_epoch",
                           "epochs", "steps", "status", "seconds"};
    SEXP res = PROTECT(allocVector(VECSXP, 8)); nprot++;
    SEXP nms = PROTECT(allocVector(STRSXP, 8)); nprot++;
    SET_VECTOR_ELT(res, 0, best);
    SET_VECTOR_ELT(res, 1, tl2);
    SET_VECTOR_ELT(res, 2, vl2);
    SET_VECTOR_ELT(res, 3, ScalarInteger(best_epoch));
    SET_VECTOR_ELT(res, 4, ScalarInteger(done));
    SET_VECTOR_ELT(res, 5, ScalarReal((double) tr.step));
    SET_VECTOR_ELT(res, 6, ScalarInteger(status));
    SET_VECTOR_ELT(res, 7, ScalarReal(wall_time() - t0));
    for (int i = 0; i < 8; i++) SET_STRING_ELT(nms, i, mkChar(names[i]));
    setAttrib(res, R_NamesSymbol, nms);
    UNPROTECT(nprot);
    return res;
}

/*
 * Draw ndraw samples for each row of x (nrow x p, standardised).
 *   rowid   global row numbers (stream keys), nrow whole numbers >= 0
 *   tgrid   the K times at which the network is evaluated
 *   ucoef, acoef, scoef   the K step coefficients (see bridge.c)
 *   ycenter, yscale       d numbers: draws are returned as
 *                         ycenter + yscale * Z, on the response's scale;
 *                         or both nrow x d, a centre and scale per row
 * Returns list(draws, nonfinite): draws is ndraw * nrow * d in chain
 * order (draw fastest, then row, then component).
 */
SEXP sbcg_sample(SEXP arch, SEXP freq, SEXP theta, SEXP x, SEXP rowid,
                 SEXP ndraw, SEXP tgrid, SEXP ucoef, SEXP acoef, SEXP scoef,
                 SEXP seed, SEXP block, SEXP threads, SEXP ycenter,
                 SEXP yscale)
{
    nn_net net;
    int nprot = 0;
    setup_net(arch, freq, theta, &net);
    if (TYPEOF(x) != REALSXP) error(_("'x' must be a double matrix"));
    SEXP dim = getAttrib(x, R_DimSymbol);
    if (TYPEOF(dim) != INTSXP || LENGTH(dim) != 2)
        error(_("'x' must be a matrix"));
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
    uint64_t sd = get_seed(seed);
    int blk = get_int1(block, "block", 1, 1 << 20);
    int nthreads = get_int1(threads, "threads", 1, 1024);
    /* with one row the two layouts coincide */
    int crow = nrow > 1 && TYPEOF(ycenter) == REALSXP &&
        XLENGTH(ycenter) == (R_xlen_t) nrow * net.d;
    check_finite(ycenter, "ycenter", crow ? (R_xlen_t) nrow * net.d : net.d);
    check_finite(yscale, "yscale", crow ? (R_xlen_t) nrow * net.d : net.d);

    double N = (double) nrow * nd;
    if (N * net.d > (double) R_XLEN_T_MAX) error(_("too many draws requested"));
    SEXP out = PROTECT(allocVector(REALSXP, (R_xlen_t) (N * net.d))); nprot++;

    bridge_sampler s;
    s.nrow = nrow;
    s.p = net.p;
    s.d = net.d;
    s.ndraw = nd;
    s.K = (int) K;
    s.X = REAL(x);
    s.rowid = REAL(rowid);
    s.tgrid = REAL(tgrid);
    s.ucoef = REAL(ucoef);
    s.acoef = REAL(acoef);
    s.scoef = REAL(scoef);
    s.seed = sd;
    s.block = blk;
    s.nthreads = nthreads;
    s.out = REAL(out);
    s.ycenter = REAL(ycenter);
    s.yrows = crow;
    s.yscale = REAL(yscale);
    double *T = (double *) R_alloc((size_t) K * net.width[1], sizeof(double));
    nn_time_table(&net, REAL(theta), (int) K, REAL(tgrid), T);
    s.T = T;
    s.ws_size = bridge_sample_ws(&net, blk);
    s.ws = (double *) R_alloc(s.ws_size * nthreads, sizeof(double));

    ptrdiff_t nblock = (ptrdiff_t) ((N + blk - 1) / blk);
    /* waves of blocks: the interrupt check comes after each wave.  About
     * eight blocks per thread keep the threads' shares even (and the cost
     * of a late thread small) with waves of at most ~1.6e10 multiply-adds,
     * well under a second. */
    ptrdiff_t wave = 8 * (ptrdiff_t) nthreads;
    double work = (double) blk * K * net.npar;
    while (wave > 1 && work * wave > 1.6e10) wave /= 2;
    int nbad = 0;
    for (ptrdiff_t b = 0; b < nblock; b += wave) {
        ptrdiff_t e = b + wave < nblock ? b + wave : nblock;
        nbad += bridge_sample(&net, REAL(theta), &s, b, e);
        R_CheckUserInterrupt();
    }

    SEXP res = PROTECT(allocVector(VECSXP, 2)); nprot++;
    SEXP nms = PROTECT(allocVector(STRSXP, 2)); nprot++;
    SET_VECTOR_ELT(res, 0, out);
    SET_VECTOR_ELT(res, 1, ScalarInteger(nbad));
    SET_STRING_ELT(nms, 0, mkChar("draws"));
    SET_STRING_ELT(nms, 1, mkChar("nonfinite"));
    setAttrib(res, R_NamesSymbol, nms);
    UNPROTECT(nprot);
    return res;
}

/*
 * The kernel set: "avx2" or "portable".  With a non-NULL argument, first
 * select a set: 0 for what the CPU supports, 1 for the portable kernels.
 */
SEXP sbcg_kernels(SEXP set)
{
    if (!isNull(set)) {
        int v = get_int1(set, "set", 0, 1);
        kern_level = v == 1 ? KERN_PORTABLE : kern_detect();
    }
    return mkString(kern_level == KERN_AVX2 ? "avx2" : "portable");
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
