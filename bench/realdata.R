# Real-data benchmark: 5-fold cross-validation of sbcg against grf, drf,
# quantregForest, a location-scale GAM (mgcv gaulss) and a Gaussian linear
# model on data sets that ship with R, MASS and ggplot2.  It measures how
# sharp (CRPS) and how well calibrated (interval coverage, PIT) the
# predictive distributions of Y | X are on held-out rows.
#
#   Rscript bench/realdata.R                        # the ten sets, all methods, 5 folds, 1000 draws
#   Rscript bench/realdata.R --quick                # 3 folds, 200 draws, at most 1000 rows per set
#   Rscript bench/realdata.R --methods sbcg,lm --sets quine,geyser
#   Rscript bench/realdata.R --methods sbcg --control 'list(precondition = "none")' --label sbcg_none
#   Rscript bench/realdata.R --table bench/results/a.csv bench/results/b.csv
#   Rscript bench/realdata.R --methods sbcg --seed 100 --out s100.csv   # and --seed 200, ...
#   Rscript bench/realdata.R --table s0.csv s100.csv s200.csv --pool-runs
#
# Options:
#   --quick          3 folds, 200 draws, sets larger than 1000 rows subsampled to
#                    1000 (set.seed(1)); --folds, --draws, --max-rows override
#   --methods LIST   any of sbcg, grf, drf, qrf, gam, lm (default: all)
#   --sets LIST      any of the sets of bench/realdata-sets.R (default: the
#                    ten of the README's table; the sets of the second to
#                    eighth panels run only when named; "panel4" to
#                    "panel8" name the fourth panel's 33, the fifth's 20,
#                    the sixth's 20, the seventh's 21 and the eighth's 21;
#                    "all" the 119 of the first seven; "half1" and "half2"
#                    two halves of the first six panels' 98 that take about
#                    as long; "subjects" the 14 sets with a subject factor)
#   --control EXPR   an R expression giving a list of sbcg_control() settings for sbcg
#   --counts         sbcg fits sets whose responses are whole numbers from 0
#                    (ChickWeight, cpus, birthwt, quine, nlschools, mpg, txhousing) with
#                    sbfit(support = "count"), the others with the default support
#   --positive       sbcg fits sets whose responses are all positive with
#                    sbfit(support = "positive") (with --counts, those that are
#                    not whole numbers from 0), the others with the default support
#   --label NAME     the method name sbcg gets in the tables and CSVs (default
#                    "sbcg", or "sbcg" plus the --control text, plus " counts"
#                    with --counts and " positive" with --positive)
#   --out FILE       per-fold CSV (default bench/results/realdata-<time>[-quick].csv;
#                    a bare file name goes to bench/results/, and --table looks
#                    there for a bare name not in the working directory); the per-row scores
#                    go next to it in FILE with "-rows" before ".csv"
#   --dump           for sbcg, also what its recalibration map was learned from and
#                    what it did: FILE with "-holdout" before ".csv" gets each fit's
#                    held-out PITs (set, fold, pit, the map's Cramer-von Mises
#                    statistic and weight), and the per-row CSV the test rows'
#                    PIT and interval hits of the same draws without the map
#                    (pit_raw, in50_raw, in90_raw), so that other maps can be
#                    compared offline; costs a second sampling pass per fold
#   --seed K         every method's seed is fold + K (default 0; sbcg's fit and
#                    draws, grf, drf and quantregForest's set.seed()): two versions
#                    run with several K show how much of their difference a new
#                    seed alone gives, which on sets of a few dozen rows is
#                    several percent of the CRPS
#   --below N        of the chosen sets, only those with fewer than N complete
#                    rows ("--sets all --below 125": the 65 smallest)
#   --table FILES    no fitting: read the per-fold CSVs of earlier runs (and their
#                    -rows companions), join them and print one set of tables; a
#                    method name that occurs in several files gets "#k" appended
#   --pool-runs      with --table: a method name that occurs in several files
#                    (runs with several --seed K, say) is one method, whose
#                    CRPS on a set is the mean over its runs and whose coverage
#                    is pooled over them; a further table gives each run's
#                    CRPS, so that a difference between methods can be read
#                    against what a new seed alone moves (runs of one method on
#                    different sets, such as "half1" and "half2", join as well)
# Run it niced (nice -n 10) on a shared machine; every method runs on one thread.
#
# Protocol.  For each set the rows are assigned to folds by
# set.seed(1); sample(rep_len(1:K, n)) (after the --quick subsample, also drawn
# with set.seed(1)).  Each method is fitted on K - 1 folds and predicts the
# held-out fold (the seeds below are fold + K with --seed K); sbcg as
# sbfit(formula, train, control, seed = fold,
# threads = 1) and sbsample(fit, test, ndraws = draws, format = "matrix",
# seed = fold, threads = 1).  The predictive distribution of each method:
#   sbcg  the empirical law of `draws` draws; its CRPS is the "fair"
#         (unbiased) estimator of the CRPS of the model's law,
#         mean|X_i - y| - sum_ij |X_i - X_j| / (2 m (m - 1));
#   grf   quantile_forest(X, y, quantiles = c(0.05, 0.5, 0.95), seed = fold)
#         (as in bench/accuracy.R), the forest-weighted law of the training
#         responses (get_forest_weights); exact CRPS of that discrete law;
#   drf   drf(X, y, seed = fold), weights from get_sample_weights; exact CRPS;
#   qrf   quantregForest(Xdf, y) after set.seed(fold), on the predictor data
#         frame (factors split natively, those with more than 32 levels, which
#         randomForest refuses, as 0/1 columns); its own predictive law
#         predict(f, x, what = function(v) v): ntree equally weighted stored
#         training responses (NA atoms, trees whose node kept none, are
#         dropped as predict() does); exact CRPS of that law;
#   gam   mgcv::gam(list(y ~ terms, ~ terms), family = gaulss()): numeric
#         predictors with >= 10 distinct training values as s(x, k = min(10,
#         distinct - 1)), factors and other numerics as parametric terms, the
#         same terms for mean and scale; predict(type = "response") gives the
#         mean and 1 / sd (mgcv ?gaulss); Normal law, closed-form CRPS;
#   lm    lm(formula), the predictive t law: location the fit, scale
#         sqrt(se.fit^2 + sigma^2), df the residual df; closed-form CRPS.
# grf and drf get the model matrix (factor dummies) of the full data set.
#
# Scores per held-out row: CRPS; whether y lies in the central 50% and 90%
# intervals [q(0.25), q(0.75)] and [q(0.05), q(0.95)] (type-7 quantiles of
# the draws, the inverse CDF of the forests' weighted laws, exact quantiles
# for gam and lm); the randomised PIT, F(y-) + U (F(y) - F(y-)) with one
# U ~ Uniform(0, 1) per row shared by all methods.  For a response whose
# values lie on a grid (integers, unit h = gcd of the differences: quine's
# Days and several others) F(y-) and F(y) are taken at y - h/2 and y + h/2,
# so that continuous predictive laws are scored as laws of the rounded
# response (for laws with atoms on the grid, the forests', this is the usual
# randomised PIT).  Summaries: mean CRPS; coverage; the coverage of the
# randomised central intervals, the share of rows with |2 PIT - 1| <= L
# (the same for a continuous law; for a law with atoms, whose closed
# intervals cover more than L of the rows whose law it is, L when it is
# calibrated: forests on any response, sbcg on counts); the Kolmogorov
# distance of the PITs from Uniform(0, 1) (5% critical value about 1.36 /
# sqrt(n)); the shares of PIT below 0.05 and above 0.95 (0.05 each when
# calibrated); the spread-skill ratio sqrt(mean predictive variance) /
# RMSE of the predictive mean (1 when the spread matches the error, below
# 1 too narrow); wall seconds of fit and of predict, summed over folds.  The pooled row
# takes coverage and PIT tails over all held-out rows (and says the mean
# over sets), and CRPS as the geometric mean over sets of CRPS / CRPS(lm);
# it counts the per-set coverages (of the intervals, and of the randomised
# ones) more than two binomial standard errors from nominal, and gives the
# root mean square over fits (one per set and fold) of each fit's coverage
# error beyond binomial noise, which pooling over folds would hide.  Under
# the CRPS table, each method's count of sets where its CRPS is the lowest,
# within 2% above the lowest, and beyond.

suppressWarnings(suppressMessages({
  library(stats)
  library(Matrix)
}))

## --------------------------------------------------------------- options

source_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) normalizePath(dirname(f[1L])) else normalizePath("bench")
})
source(file.path(source_dir, "cli.R"))
check_options(c("quick", "methods", "sets", "control", "label", "out", "table", "folds",
                "draws", "max-rows", "counts", "positive", "dump", "seed", "below",
                "pool-runs"))
table_mode <- "--table" %in% args || any(grepl("^--table=", args))
table_files <- if (table_mode) {
  i <- which(args == "--table")
  f <- if (length(i)) args[-seq_len(i)] else character()
  f <- c(sub("^--table=", "", grep("^--table=", args, value = TRUE)), f)
  f[!grepl("^--", f)]
} else character()
quick <- "--quick" %in% args
pool_runs <- "--pool-runs" %in% args
if (pool_runs && !table_mode) stop("--pool-runs goes with --table", call. = FALSE)
all_methods <- c("sbcg", "grf", "drf", "qrf", "gam", "lm")
methods <- strsplit(opt_value("methods", paste(all_methods, collapse = ",")), ",")[[1L]]
if (!all(methods %in% all_methods))
  stop(sprintf("--methods must be among %s", paste(all_methods, collapse = ", ")), call. = FALSE)
n_folds <- as.integer(opt_value("folds", if (quick) 3 else 5))
n_draws <- as.integer(opt_value("draws", if (quick) 200 else 1000))
max_rows <- as.numeric(opt_value("max-rows", if (quick) 1000 else Inf))
control_text <- opt_value("control", NULL)
sbcg_control_list <- if (is.null(control_text)) list() else
  eval(parse(text = control_text), envir = baseenv())
if (!is.list(sbcg_control_list)) stop("--control must give a list", call. = FALSE)
counts <- "--counts" %in% args
positive <- "--positive" %in% args
dump <- "--dump" %in% args
sbcg_label <- opt_value("label", paste0(if (is.null(control_text)) "sbcg" else
  paste0("sbcg ", gsub("\\s+", "", control_text)), if (counts) " counts" else "",
  if (positive) " positive" else ""))
seed_offset <- as.integer(opt_value("seed", 0))
below <- as.numeric(opt_value("below", Inf))
stopifnot(n_folds >= 2, n_draws >= 10, max_rows >= 50, !is.na(seed_offset), !is.na(below))

results_dir <- file.path(source_dir, "results")
stamp <- format(Sys.time(), "%Y%m%d-%H%M%S")
out_file <- opt_value("out", sprintf("realdata-%s%s.csv", stamp, if (quick) "-quick" else ""))
if (dirname(out_file) == ".") out_file <- file.path(results_dir, out_file)
rows_file_of <- function(f) sub("(\\.csv)?$", "-rows.csv", f)
holdout_file_of <- function(f) sub("(\\.csv)?$", "-holdout.csv", f)
command_line <- paste(c("Rscript bench/realdata.R", vapply(args, function(a)
  if (grepl("[^[:alnum:]_./=,:-]", a)) shQuote(a) else a, "")), collapse = " ")

## ------------------------------------------------------------- data sets

source(file.path(source_dir, "realdata-sets.R"))
sets <- strsplit(opt_value("sets", paste(default_sets, collapse = ",")), ",")[[1L]]
# "panel4" to "panel8" name the sets of the fourth to eighth panels,
# "half1" and "half2" two halves of those of the first six, "all" those of
# the first seven
sets <- unlist(lapply(sets, function(s) switch(s, panel4 = panel4_sets, panel5 = panel5_sets,
                                               panel6 = panel6_sets, panel7 = panel7_sets,
                                               panel8 = panel8_sets, subjects = subject_sets,
                                               half1 = half1_sets,
                                               half2 = half2_sets, all = all_sets, s)))
if (!all(sets %in% names(data_sets)))
  stop(sprintf("--sets must be among %s", paste(names(data_sets), collapse = ", ")), call. = FALSE)
# every set's data must load before any method runs: a package missing
# for one set (ggplot2's mpg, say) would otherwise stop the run after the
# sets before it were fitted, and their results with it
unloadable <- if (!table_mode) unlist(lapply(sets, function(s) tryCatch({
  data_sets[[s]]$data()
  NULL
}, error = function(e) sprintf("%s (%s)", s, conditionMessage(e)))))
if (length(unloadable))
  stop(sprintf("the data of these sets cannot be loaded: %s", paste(unloadable, collapse = "; ")),
       call. = FALSE)
# --below N: the sets with fewer than N complete rows
if (is.finite(below) && !table_mode)
  sets <- sets[vapply(sets, function(s) load_set(s)$n_all < below, NA)]

## ------------------------------------------------------------- scoring

source(file.path(source_dir, "scores.R"))  # crps_norm(), crps_t()
# CRPS of the discrete law with atoms v, weights w (sum 1) at y; exact.
crps_atoms <- function(v, w, y) {
  o <- order(v)
  v <- v[o]
  w <- w[o]
  below <- cumsum(w) - w
  sum(w * abs(v - y)) - sum(w * v * (2 * below + w - 1))
}

# The randomised PIT from the CDF values just below and at y.
rpit <- function(F_lo, F_hi, u) F_lo + u * (F_hi - F_lo)

# Per-row scores of a predictive law.  `pred` is one of
#   list(type = "draws", M)              rows x draws (fair CRPS)
#   list(type = "atoms", W, ytrain)      sparse weights, rows x training rows
#   list(type = "equal_atoms", A)        rows x atoms, equal weights (exact CRPS)
#   list(type = "normal", mu, sd)
#   list(type = "t", mu, s, df)
# Returns a data frame: crps, pit, in50, in90, mean, sd.
score <- function(pred, y, u, grid) {
  h <- grid / 2
  lo_y <- if (grid > 0) y - h else y
  hi_y <- if (grid > 0) y + h else y
  k <- length(y)
  cover <- function(q) cbind(in50 = y >= q[, 1] & y <= q[, 2], in90 = y >= q[, 3] & y <= q[, 4])
  probs <- c(0.25, 0.75, 0.05, 0.95)
  switch(pred$type,
    draws = , equal_atoms = {
      M <- if (pred$type == "draws") pred$M else pred$A
      m <- ncol(M)
      S <- t(apply(M, 1L, sort))
      if (k == 1L) S <- matrix(S, 1L)
      q7 <- function(p) {
        hh <- (m - 1) * p + 1
        l <- floor(hh)
        S[, l] + (hh - l) * (S[, min(l + 1L, m)] - S[, l])
      }
      Q <- vapply(probs, q7, numeric(k))
      if (k == 1L) Q <- matrix(Q, 1L)
      # sum_ij |x_i - x_j| = 2 sum_k (2k - m - 1) x_(k)
      gini <- drop(S %*% (2 * seq_len(m) - m - 1)) * 2
      e1 <- rowMeans(abs(S - y))
      crps <- if (pred$type == "draws") e1 - gini / (2 * m * (m - 1)) else e1 - gini / (2 * m^2)
      F_lo <- if (grid > 0) rowMeans(M <= lo_y) else rowMeans(M < y)
      F_hi <- rowMeans(M <= hi_y)
      mu <- rowMeans(M)
      sdv <- sqrt(rowSums((M - mu)^2) / (m - if (pred$type == "draws") 1 else 0))
    },
    atoms = {
      Wt <- t(as(pred$W, "CsparseMatrix"))
      if (!inherits(Wt, "dgCMatrix")) Wt <- as(as(Wt, "generalMatrix"), "dMatrix")
      p <- Wt@p
      out <- matrix(NA_real_, k, 9L)
      for (i in seq_len(k)) {
        idx <- seq.int(p[i] + 1L, length.out = p[i + 1L] - p[i])
        w <- Wt@x[idx]
        v <- pred$ytrain[Wt@i[idx] + 1L]
        keep <- w > 0
        w <- w[keep] / sum(w[keep])
        v <- v[keep]
        o <- order(v)
        v <- v[o]
        w <- w[o]
        cw <- cumsum(w)
        mu_i <- sum(w * v)
        qinv <- function(pr) v[min(which(cw >= pr - 1e-12), length(v))]
        out[i, ] <- c(crps_atoms(v, w, y[i]),
                      if (grid > 0) sum(w[v <= lo_y[i]]) else sum(w[v < y[i]]),
                      sum(w[v <= hi_y[i]]), vapply(probs, qinv, 0), mu_i,
                      sqrt(sum(w * (v - mu_i)^2)))
      }
      crps <- out[, 1]
      F_lo <- out[, 2]
      F_hi <- out[, 3]
      Q <- out[, 4:7, drop = FALSE]
      mu <- out[, 8]
      sdv <- out[, 9]
    },
    normal = {
      mu <- pred$mu
      sdv <- pred$sd
      crps <- crps_norm(y, mu, sdv)
      F_lo <- pnorm(lo_y, mu, sdv)
      F_hi <- pnorm(hi_y, mu, sdv)
      Q <- vapply(probs, function(p) qnorm(p, mu, sdv), numeric(k))
      if (k == 1L) Q <- matrix(Q, 1L)
    },
    t = {
      mu <- pred$mu
      crps <- crps_t(y, mu, pred$s, pred$df)
      F_lo <- pt((lo_y - mu) / pred$s, pred$df)
      F_hi <- pt((hi_y - mu) / pred$s, pred$df)
      Q <- vapply(probs, function(p) mu + pred$s * qt(p, pred$df), numeric(k))
      if (k == 1L) Q <- matrix(Q, 1L)
      sdv <- pred$s * sqrt(pred$df / (pred$df - 2))
    })
  data.frame(crps = crps, pit = rpit(F_lo, F_hi, u), cover(Q), mean = mu, sd = sdv)
}

## ------------------------------------------------------------- methods

elapsed <- function() proc.time()[["elapsed"]]

# Terms of the location-scale GAM from the training rows.
gam_terms <- function(train, xvars) {
  vapply(xvars, function(v) {
    x <- train[[v]]
    nd <- length(unique(x))
    if (is.numeric(x) && nd >= 10) sprintf("s(%s, k = %d)", v, min(10L, nd - 1L)) else v
  }, "")
}

# Predictors for quantregForest: randomForest splits factors natively but
# only up to 32 levels; a factor with more (txhousing's city) enters as one
# 0/1 column per level.
qrf_x <- function(d, xvars) {
  cols <- lapply(xvars, function(v) {
    x <- d[[v]]
    if (is.factor(x) && nlevels(x) > 32L) {
      M <- vapply(levels(x), function(l) as.numeric(x == l), numeric(nrow(d)))
      M <- matrix(M, nrow(d))
      colnames(M) <- make.names(paste0(v, levels(x)), unique = TRUE)
      as.data.frame(M)
    } else setNames(data.frame(x), v)
  })
  do.call(cbind, cols)
}

# Fits `method` on train, predicts test; returns list(pred, fit_s, pred_s, note).
gam_limit <- 120
run_method <- function(method, set, train, test, Xtr, Xte, fold) {
  f <- set$formula
  yname <- all.vars(f)[1L]
  xvars <- all.vars(f)[-1L]
  ytr <- train[[yname]]
  t0 <- elapsed()
  note <- NA_character_
  if (method == "sbcg") {
    # the package's default support unless --counts or --positive applies
    support <- if (counts && set$grid > 0 && min(set$y) >= 0) list(support = "count") else
      if (positive && min(set$y) > 0) list(support = "positive") else list()
    fit <- do.call(sbcg::sbfit, c(list(f, train, control = sbcg_control_list, seed = fold + seed_offset,
                                       threads = 1L), support))
    t1 <- elapsed()
    M <- sbcg::sbsample(fit, test, ndraws = n_draws, format = "matrix", seed = fold + seed_offset,
                        threads = 1L)
    t2 <- elapsed()
    pred <- list(type = "draws", M = M)
    if (dump) {
      # the same chains without the map: its knots moved back onto the
      # identity (a fit without a map gives the same draws again)
      rc <- fit$recalibration
      raw <- fit
      if (!is.null(rc)) raw$recalibration$tz <- rc$z
      raw_pred <- list(type = "draws", M = sbcg::sbsample(raw, test, ndraws = n_draws,
                                                          format = "matrix", seed = fold + seed_offset,
                                                          threads = 1L))
      holdout <- data.frame(pit = fit$holdout$pit %||% double(),
                            cvm = rc$cvm %||% NA_real_, weight = rc$weight %||% NA_real_)
    }
    pre <- fit$precondition
    note <- sprintf("bridge %d steps, %d epochs (best %d)%s; pre %s epochs (best %s)%s",
                    fit$steps_run, nrow(fit$history), fit$best_epoch,
                    if (isTRUE(fit$stopped_early)) " stopped early" else "",
                    if (is.null(pre)) "-" else paste(pre$epochs, collapse = "/"),
                    if (is.null(pre)) "-" else paste(pre$best_epoch, collapse = "/"),
                    if (is.null(fit$linear)) "" else
                      sprintf("; linear share %g", 1 - fit$linear$weight))
  } else if (method == "grf") {
    fo <- grf::quantile_forest(Xtr, ytr, quantiles = c(0.05, 0.5, 0.95), num.threads = 1L,
                               seed = fold + seed_offset)
    t1 <- elapsed()
    W <- grf::get_forest_weights(fo, Xte, num.threads = 1L)
    t2 <- elapsed()
    pred <- list(type = "atoms", W = W, ytrain = ytr)
  } else if (method == "drf") {
    fo <- drf::drf(Xtr, matrix(ytr, ncol = 1L), num.threads = 1L, seed = fold + seed_offset)
    t1 <- elapsed()
    W <- drf::get_sample_weights(fo, Xte, num.threads = 1L)
    t2 <- elapsed()
    pred <- list(type = "atoms", W = W, ytrain = ytr)
  } else if (method == "qrf") {
    set.seed(fold + seed_offset)
    fo <- quantregForest::quantregForest(qrf_x(train, xvars), ytr, nthreads = 1L)
    t1 <- elapsed()
    A <- stats::predict(fo, qrf_x(test, xvars), what = function(v) v)
    t2 <- elapsed()
    A <- matrix(A, nrow(test))
    # a tree whose terminal node kept no response gives NA (predict() then
    # drops it, na.rm = TRUE); the law is the remaining atoms, equally weighted
    nas <- sum(is.na(A))
    if (nas) {
      ok <- !is.na(A)
      W <- Matrix::sparseMatrix(i = row(A)[ok], j = which(ok), x = (1 / rowSums(ok))[row(A)[ok]],
                                dims = c(nrow(A), length(A)))
      pred <- list(type = "atoms", W = W, ytrain = as.vector(A))
      note <- sprintf("%d of %d atoms NA, dropped", nas, length(A))
    } else pred <- list(type = "equal_atoms", A = A)
  } else if (method == "gam") {
    tm <- gam_terms(train, xvars)
    rhs <- paste(tm, collapse = " + ")
    fl <- list(stats::as.formula(paste(yname, "~", rhs)), stats::as.formula(paste("~", rhs)))
    # gaulss's outer iteration can run for good on some folds (MASS's
    # beaver1, fold 5): a fit of more than gam_limit seconds fails
    setTimeLimit(elapsed = gam_limit, transient = TRUE)
    on.exit(setTimeLimit(elapsed = Inf), add = TRUE)
    fo <- mgcv::gam(fl, family = mgcv::gaulss(), data = train)
    setTimeLimit(elapsed = Inf)
    t1 <- elapsed()
    P <- stats::predict(fo, test, type = "response")
    t2 <- elapsed()
    pred <- list(type = "normal", mu = P[, 1], sd = 1 / P[, 2])
    conv <- fo$outer.info$conv %||% (if (isTRUE(fo$converged)) "converged" else "?")
    note <- sprintf("%s; smoothing parameters: %s", rhs, conv)
  } else if (method == "lm") {
    fo <- stats::lm(f, train)
    t1 <- elapsed()
    P <- stats::predict(fo, test, se.fit = TRUE)
    t2 <- elapsed()
    pred <- list(type = "t", mu = unname(P$fit), s = unname(sqrt(P$se.fit^2 + P$residual.scale^2)),
                 df = P$df)
  }
  out <- list(pred = pred, fit_s = t1 - t0, pred_s = t2 - t1, note = note)
  if (method == "sbcg" && dump) {
    out$raw_pred <- raw_pred
    out$holdout <- holdout
  }
  out
}

## ----------------------------------------------------------- summaries

ks_unif <- function(p) {
  p <- sort(p)
  n <- length(p)
  max(seq_len(n) / n - p, p - (seq_len(n) - 1) / n)
}

# Whether each row's randomised PIT lies in the central interval of level
# L, |2 PIT - 1| <= L: the coverage of the law's randomised central
# interval.  For a continuous law it is the central interval's coverage
# (up to the quantiles' interpolation between draws); for a law with atoms
# (counts, heaped values, a forest's training responses) the closed
# interval between two quantiles covers at least L of the rows whose law
# it is, more where the quantiles sit on atoms, and this coverage is L for
# a calibrated law whatever its atoms.
pit_cover <- function(pit, L) abs(2 * pit - 1) <= L

# One row per (set, method) from the per-row scores R and per-fold rows F.
summarise <- function(R, Fo, method_order) {
  out <- list()
  for (s in unique(R$set)) for (m in method_order) {
    r <- R[R$set == s & R$method == m, , drop = FALSE]
    fo <- Fo[Fo$set == s & Fo$method == m, , drop = FALSE]
    if (!nrow(fo)) next
    err <- fo$error[!is.na(fo$error) & nzchar(fo$error)]
    if (!nrow(r) || length(err)) {
      out[[length(out) + 1L]] <- data.frame(set = s, method = m, n = nrow(r), runs = NA,
        crps_runs = NA, crps = NA,
        cov50 = NA, cov90 = NA, pcov50 = NA, pcov90 = NA, ks = NA, pit_lo = NA, pit_hi = NA,
        ssr = NA, fit_s = NA, pred_s = NA, error = if (length(err)) err[1L] else "no rows")
      next
    }
    # runs pooled (--pool-runs): the same rows scored by each run; n counts
    # each row once (so the binomial standard errors of the per-set
    # coverages are those of one run, which the runs' mean can only beat),
    # times are per run
    runs <- if (is.null(r$run)) 1L else length(unique(r$run))
    out[[length(out) + 1L]] <- data.frame(set = s, method = m, n = nrow(r) %/% runs,
      runs = runs, crps_runs = if (runs > 1L)
        paste(fmt(tapply(r$crps, r$run, mean)), collapse = " / ") else NA,
      crps = mean(r$crps), cov50 = mean(r$in50), cov90 = mean(r$in90),
      pcov50 = mean(pit_cover(r$pit, 0.5)), pcov90 = mean(pit_cover(r$pit, 0.9)), ks = ks_unif(r$pit),
      pit_lo = mean(r$pit < 0.05), pit_hi = mean(r$pit > 0.95),
      ssr = sqrt(mean(r$sd^2)) / sqrt(mean((r$y - r$mean)^2)),
      fit_s = sum(fo$fit_s) / runs, pred_s = sum(fo$pred_s) / runs, error = NA)
  }
  do.call(rbind, out)
}

# The root mean square, over the fits (set and fold) of the held-out rows
# R, of the gap between a fit's coverage of its test rows at level L and L,
# beyond the binomial noise of that coverage: sqrt(max(0, sum_f n_f
# ((c_f - L)^2 - L (1 - L) / n_f) / sum_f n_f)), weighting fits by their
# rows.  What one fit's intervals miss by, where the pooled coverage
# averages the folds' errors away.
fit_rms <- function(r, col, L) {
  g <- split(r[[col]], paste(r$set, r$fold, r$run))
  e <- sum(vapply(g, function(x) length(x) * ((mean(x) - L)^2 - L * (1 - L) / length(x)), 0))
  sqrt(max(0, e / nrow(r)))
}

# The number of per-set coverages (of S, at 50% and 90%) more than two
# binomial standard errors from nominal.
outside_2se <- function(S, cols = c("cov50", "cov90")) {
  off <- function(cv, L) abs(cv - L) > 2 * sqrt(L * (1 - L) / S$n)
  sum(off(S[[cols[1L]]], 0.5)) + sum(off(S[[cols[2L]]], 0.9))
}

# Pooled over sets, per method.
pool <- function(R, S, method_order, ref = "lm") {
  out <- list()
  for (m in method_order) {
    s <- S[S$method == m & !is.na(S$crps), , drop = FALSE]
    r <- R[R$method == m & R$set %in% s$set, , drop = FALSE]
    rel <- NA
    if (ref %in% S$method) {
      sr <- S[S$method == ref & !is.na(S$crps), c("set", "crps")]
      j <- merge(s[, c("set", "crps")], sr, by = "set")
      if (nrow(j)) rel <- exp(mean(log(j$crps.x / j$crps.y)))
    }
    out[[length(out) + 1L]] <- data.frame(method = m, sets = nrow(s), n = sum(s$n),
      rel_crps = rel, cov50 = mean(r$in50), cov90 = mean(r$in90),
      cov50_sets = mean(s$cov50), cov90_sets = mean(s$cov90),
      pcov50 = mean(pit_cover(r$pit, 0.5)), pcov90 = mean(pit_cover(r$pit, 0.9)),
      ks = if (nrow(r)) ks_unif(r$pit) else NA,
      pit_lo = mean(r$pit < 0.05), pit_hi = mean(r$pit > 0.95),
      ssr_sets = exp(mean(log(s$ssr))), out_2se = outside_2se(s),
      pout_2se = outside_2se(s, c("pcov50", "pcov90")),
      fit_rms50 = if (nrow(r)) fit_rms(r, "in50", 0.5) else NA,
      fit_rms90 = if (nrow(r)) fit_rms(r, "in90", 0.9) else NA,
      fit_s = sum(s$fit_s), pred_s = sum(s$pred_s))
  }
  do.call(rbind, out)
}

fmt <- function(v, d = 3) {
  ifelse(is.na(v), "-", sub("\\.$", "", formatC(signif(v, d), digits = d, format = "fg", flag = "#")))
}
fmtf <- function(v, d = 2) ifelse(is.na(v), "-", formatC(v, digits = d, format = "f"))

# A table with one row per set (and the pooled row) and one column per
# method, of the statistic `col` of S formatted by `f`.
print_metric <- function(title, S, P, col, f, pcol = col, pf = f, sets_order, method_order) {
  tab <- data.frame(set = sets_order, n = vapply(sets_order, function(s) {
    v <- S$n[S$set == s & !is.na(S$crps)]
    if (length(v)) as.character(max(v)) else "-"
  }, ""), stringsAsFactors = FALSE)
  for (m in method_order) {
    tab[[m]] <- vapply(sets_order, function(s) {
      v <- S[S$set == s & S$method == m, col]
      if (length(v) && !is.na(v)) f(v) else if (length(v)) "fail" else ""
    }, "")
  }
  if (!is.null(pcol)) {
    prow <- c(set = "pooled", n = as.character(max(P$n)))
    for (m in method_order) prow[m] <- pf(P[P$method == m, pcol])
    tab <- rbind(tab, as.list(prow))
  }
  cat(title, "\n", sep = "")
  print(tab, row.names = FALSE, right = TRUE)
  cat("\n")
}

# How often each method has the lowest CRPS: on each set, among the
# methods that scored it (a method that failed on a fold, such as a GAM
# that cannot be fitted, scores nothing there), lowest (ties count for
# each), within 2% above the lowest, and more than 2% above it, the
# calibration issue's target for sbcg (lowest on 8 of the ten sets, within
# 2% on the others); then the first method's sets of the last kind, with
# the lowest method and the gap.
print_ranks <- function(S, sets_order, method_order) {
  if (length(method_order) < 2L) return(invisible(NULL))
  s <- S[!is.na(S$crps), ]
  C <- tapply(s$crps, list(factor(s$set, sets_order), factor(s$method, method_order)), mean)
  C <- C[rowSums(!is.na(C)) >= 2L, , drop = FALSE]
  if (!nrow(C)) return(invisible(NULL))
  best <- apply(C, 1L, min, na.rm = TRUE)
  rel <- C / best
  tab <- data.frame(method = method_order, sets = colSums(!is.na(rel)),
                    lowest = colSums(rel == 1, na.rm = TRUE),
                    within_2pct = colSums(rel > 1 & rel <= 1.02, na.rm = TRUE),
                    beyond_2pct = colSums(rel > 1.02, na.rm = TRUE), row.names = NULL)
  cat(sprintf("rank by CRPS among the methods that scored each set (%d sets): lowest, within 2%% above the lowest, more than 2%% above\n",
              nrow(C)))
  print(tab, row.names = FALSE)
  m <- method_order[1L]
  far <- which(rel[, m] > 1.02)
  if (length(far)) {
    who <- colnames(C)[apply(C[far, , drop = FALSE], 1L, which.min)]
    cat(sprintf("%s more than 2%% above the lowest: %s\n", m,
                paste(sprintf("%s (+%.1f%%, %s)", rownames(C)[far],
                              100 * (rel[far, m] - 1), who), collapse = ", ")))
  }
  cat("\n")
  invisible(tab)
}

print_tables <- function(R, Fo, sets_order, method_order) {
  S <- summarise(R, Fo, method_order)
  P <- pool(R, S, method_order)
  ref <- if ("lm" %in% method_order) "lm" else NULL
  print_metric("CRPS (mean over held-out rows; pooled row: geometric mean over sets of CRPS / CRPS(lm))",
               S, P, "crps", fmt, "rel_crps", function(v) fmtf(v, 3), sets_order, method_order)
  print_ranks(S, sets_order, method_order)
  if (any(S$runs > 1L, na.rm = TRUE))
    print_metric("CRPS of each run, for the methods pooled over runs (--pool-runs; the CRPS above is their mean)",
                 S[!is.na(S$crps_runs), ], NULL, "crps_runs", identity, pcol = NULL,
                 sets_order = sets_order,
                 method_order = intersect(method_order, S$method[!is.na(S$crps_runs)]))
  print_metric("coverage of the central 50% interval (pooled: over all held-out rows)",
               S, P, "cov50", fmtf, sets_order = sets_order, method_order = method_order)
  print_metric("coverage of the central 90% interval (pooled: over all held-out rows)",
               S, P, "cov90", fmtf, sets_order = sets_order, method_order = method_order)
  print_metric("coverage of the randomised central 50% interval, |2 PIT - 1| <= 0.5 (the 50% interval's for continuous laws; for laws with atoms, 0.50 when calibrated)",
               S, P, "pcov50", fmtf, sets_order = sets_order, method_order = method_order)
  print_metric("coverage of the randomised central 90% interval, |2 PIT - 1| <= 0.9",
               S, P, "pcov90", fmtf, sets_order = sets_order, method_order = method_order)
  print_metric("PIT: share below 0.05 (0.05 when calibrated)", S, P, "pit_lo", fmtf,
               sets_order = sets_order, method_order = method_order)
  print_metric("PIT: share above 0.95 (0.05 when calibrated)", S, P, "pit_hi", fmtf,
               sets_order = sets_order, method_order = method_order)
  print_metric("PIT: Kolmogorov distance from Uniform(0, 1) (5% critical value ~ 1.36/sqrt(n))",
               S, P, "ks", function(v) fmtf(v, 3), sets_order = sets_order, method_order = method_order)
  print_metric("spread-skill: sqrt(mean predictive variance) / RMSE of the predictive mean (pooled: geometric mean over sets)",
               S, P, "ssr", fmtf, "ssr_sets", fmtf, sets_order, method_order)
  S$time <- S$fit_s + S$pred_s
  P$time <- P$fit_s + P$pred_s
  print_metric("wall seconds, fit + predict, summed over folds (pooled: total)",
               S, P, "time", function(v) fmt(v, 3), sets_order = sets_order, method_order = method_order)
  cat(paste("pooled summary (cov*_sets: mean of the per-set coverages; ks, pit_*: over all held-out rows;",
            "pcov*: of the randomised central intervals |2 PIT - 1| <= L;",
            "out_2se, pout_2se: per-set coverages (cov*, pcov*) at 50% and 90% more than two binomial SEs from nominal;",
            "fit_rms*: RMS over fits (set x fold) of each fit's coverage error beyond binomial noise)\n"))
  Pp <- P
  for (nm in c("rel_crps", "ks")) Pp[[nm]] <- fmtf(Pp[[nm]], 3)
  for (nm in c("cov50", "cov90", "cov50_sets", "cov90_sets", "pcov50", "pcov90", "pit_lo", "pit_hi", "ssr_sets",
              "fit_rms50", "fit_rms90"))
    Pp[[nm]] <- fmtf(Pp[[nm]], 3)
  for (nm in c("fit_s", "pred_s")) Pp[[nm]] <- fmt(Pp[[nm]], 3)
  Pp$time <- NULL
  print(Pp, row.names = FALSE)
  cat("\nPIT deciles over all held-out rows (share per tenth; 0.10 each when calibrated)\n")
  dec <- t(vapply(method_order, function(m) {
    p <- R$pit[R$method == m]
    if (!length(p)) return(rep(NA_real_, 10))
    tabulate(pmin(10L, floor(p * 10) + 1L), 10L) / length(p)
  }, numeric(10)))
  colnames(dec) <- sprintf("%.1f-%.1f", (0:9) / 10, (1:10) / 10)
  print(round(dec, 3))
  errs <- unique(Fo[!is.na(Fo$error) & nzchar(Fo$error), c("set", "method", "fold", "error")])
  if (nrow(errs)) {
    cat("\nerrors\n")
    for (i in seq_len(nrow(errs)))
      cat(sprintf("  %s %s fold %d: %s\n", errs$set[i], errs$method[i], errs$fold[i], errs$error[i]))
  }
  invisible(list(S = S, P = P))
}

## ------------------------------------------------------------- header

cpu <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^model name\\s*:", "", l[1L])) else NA_character_
}, error = function(e) NA_character_)
nproc <- tryCatch(system2("nproc", stdout = TRUE), error = function(e) NA)
cat("sbcg real-data benchmark", if (quick) "(--quick)", if (table_mode) "(--table)", "\n")
cat(sprintf("date: %s\n", format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z")))
cat(sprintf("machine: nproc %s, CPU %s; %s; load average at start %s\n", nproc[1L], cpu,
            R.version.string, tryCatch(paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3],
                                             collapse = " "), error = function(e) "?")))
cat(sprintf("command: %s\n", command_line))

## ------------------------------------------------------------ table mode

if (table_mode) {
  if (!length(table_files)) stop("--table needs CSV files", call. = FALSE)
  Rl <- list()
  Fl <- list()
  seen <- character()
  method_order <- character()
  for (k in seq_along(table_files)) {
    f <- table_files[k]
    # a bare name not in the working directory: where --out put it
    if (!file.exists(f) && dirname(f) == ".") f <- file.path(results_dir, f)
    if (!file.exists(f)) stop(sprintf("--table: no file %s", table_files[k]), call. = FALSE)
    fo <- utils::read.csv(f, stringsAsFactors = FALSE)
    rr <- utils::read.csv(rows_file_of(f), stringsAsFactors = FALSE)
    ren <- setNames(unique(fo$method), unique(fo$method))
    if (!pool_runs) for (m in names(ren)) if (m %in% seen) ren[m] <- paste0(m, "#", k)
    rr$run <- k
    fo$method <- unname(ren[fo$method])
    rr$method <- unname(ren[rr$method])
    seen <- c(seen, unname(ren))
    method_order <- unique(c(method_order, unname(ren)))
    cat(sprintf("file %d: %s (%s; %s)\n", k, f, fo$command[1L], fo$date[1L]))
    Fl[[k]] <- fo
    Rl[[k]] <- rr
  }
  common <- Reduce(intersect, lapply(Fl, names))
  Fo <- do.call(rbind, lapply(Fl, function(d) d[, common]))
  # (the --dump columns, where only some files have them, are left out)
  rcommon <- Reduce(intersect, lapply(Rl, names))
  R <- do.call(rbind, lapply(Rl, function(d) d[, rcommon]))
  cat("\n")
  print_tables(R, Fo, intersect(names(data_sets), unique(R$set)), unique(method_order))
  quit(save = "no")
}

## ------------------------------------------------------------- peers

source(file.path(source_dir, "peers.R"))
peer_of <- c(grf = "grf", drf = "drf", qrf = "quantregForest")
need <- unique(peer_of[intersect(methods, names(peer_of))])
peer_status <- if (length(need)) peer_setup(need) else character()
options(width = 250, sbcg.threads = 1L)
if ("sbcg" %in% methods) suppressPackageStartupMessages(library(sbcg))
pkg_version <- function(p) tryCatch(as.character(utils::packageVersion(p)),
                                    error = function(e) "not installed")
if ("sbcg" %in% methods) {
  git_rev <- tryCatch(suppressWarnings(system2("git", c("-C", shQuote(dirname(source_dir)),
    "describe", "--always", "--dirty"), stdout = TRUE, stderr = FALSE)), error = function(e) character())
  cat(sprintf("sbcg %s from %s, built %s; this script at %s\n", pkg_version("sbcg"),
              dirname(system.file(package = "sbcg")), utils::packageDescription("sbcg")$Built %||% "?",
              if (length(git_rev)) git_rev[1L] else "?"))
  ctl <- do.call(sbcg::sbcg_control, sbcg_control_list)
  changed <- if (length(sbcg_control_list)) control_text else "defaults"
  cat(sprintf("sbcg as \"%s\": sbcg_control %s (hidden %s, samples %g, validation %g, precondition %s, ema %g, weight_decay %g)\n",
              sbcg_label, changed, paste(ctl$hidden, collapse = "-"), ctl$samples, ctl$validation,
              ctl$precondition, ctl$ema, ctl$weight_decay))
}
for (p in need) {
  if (nzchar(peer_status[[p]])) cat(sprintf("%s: not installed: %s\n", p, peer_status[[p]]))
  else cat(sprintf("%s %s (%s)\n", p, pkg_version(p), peer_lib()))
}
cat(sprintf("mgcv %s; %d folds, %d draws per held-out row (sbcg), sets larger than %s rows subsampled\n",
            pkg_version("mgcv"), n_folds, n_draws, format(max_rows)))

## ----------------------------------------------------------- self-checks

local({
  y <- 0.7
  f_n <- function(z) (pnorm(z, 0.2, 1.5) - (z >= y))^2
  ex <- integrate(f_n, -Inf, y)$value + integrate(f_n, y, Inf)$value
  stopifnot(abs(crps_norm(y, 0.2, 1.5) - ex) < 1e-6)
  f_t <- function(z) (pt((z - 0.2) / 1.5, 4) - (z >= y))^2
  ex <- integrate(f_t, -Inf, y)$value + integrate(f_t, y, Inf)$value
  stopifnot(abs(crps_t(y, 0.2, 1.5, 4) - ex) < 1e-6)
  set.seed(5)
  v <- rnorm(7)
  brute_std <- mean(abs(v - y)) - 0.5 * mean(abs(outer(v, v, "-")))
  brute_fair <- mean(abs(v - y)) - sum(abs(outer(v, v, "-"))) / (2 * 7 * 6)
  s1 <- score(list(type = "draws", M = matrix(v, 1)), y, 0.5, 0)
  s2 <- score(list(type = "equal_atoms", A = matrix(v, 1)), y, 0.5, 0)
  w <- runif(7)
  W <- Matrix::sparseMatrix(i = rep(1, 7), j = 1:7, x = w / sum(w), dims = c(1, 7))
  s3 <- score(list(type = "atoms", W = W, ytrain = v), y, 0.5, 0)
  brute_w <- sum(w / sum(w) * abs(v - y)) - 0.5 * sum(outer(w, w) / sum(w)^2 * abs(outer(v, v, "-")))
  stopifnot(abs(s1$crps - brute_fair) < 1e-12, abs(s2$crps - brute_std) < 1e-12,
            abs(s3$crps - brute_w) < 1e-12, abs(s2$pit - mean(v < y)) < 1e-12)
  # randomised PIT of a discrete law on the integer grid
  s4 <- score(list(type = "equal_atoms", A = matrix(c(0, 1, 1, 2), 1)), 1, 0.5, 1)
  stopifnot(abs(s4$pit - 0.5) < 1e-12)
  cat("self-checks passed (CRPS: normal and t against integrate(), draws fair/standard and weights against brute force; randomised PIT)\n\n")
})

## ---------------------------------------------------------------- run

Rl <- list()
Fl <- list()
Hl <- list()
run_start <- elapsed()
for (sname in sets) {
  set <- load_set(sname, max_rows)
  d <- set$data
  n <- nrow(d)
  folds <- fold_ids(n, n_folds)
  set.seed(2)
  u <- runif(n)
  xvars <- all.vars(set$formula)[-1L]
  X <- stats::model.matrix(stats::reformulate(xvars), d)[, -1L, drop = FALSE]
  cat(sprintf("== %s: %s, n = %d%s, grid %s ==\n", sname, deparse1(set$formula), n,
              if (n < set$n_all) sprintf(" (subsample of %d)", set$n_all) else "",
              if (set$grid > 0) format(set$grid) else "none (continuous)"))
  flush(stdout())
  for (method in methods) {
    label <- if (method == "sbcg") sbcg_label else method
    pk <- peer_of[method]
    for (fold in seq_len(n_folds)) {
      te <- which(folds == fold)
      tr <- which(folds != fold)
      frow <- data.frame(set = sname, method = label, fold = fold, n_train = length(tr),
                         n_test = length(te), crps = NA, cov50 = NA, cov90 = NA, pit_lo = NA,
                         pit_hi = NA, fit_s = NA, pred_s = NA, draws = if (method == "sbcg") n_draws else NA,
                         control = if (method == "sbcg") (control_text %||% "") else "",
                         note = NA, error = NA, date = format(Sys.time(), "%Y-%m-%d %H:%M:%S"),
                         command = command_line, stringsAsFactors = FALSE)
      if (!is.na(pk) && nzchar(peer_status[[pk]])) {
        frow$error <- paste("not installed:", peer_status[[pk]])
        Fl[[length(Fl) + 1L]] <- frow
        next
      }
      r <- tryCatch(run_method(method, set, d[tr, , drop = FALSE], d[te, , drop = FALSE],
                               X[tr, , drop = FALSE], X[te, , drop = FALSE], fold),
                    error = function(e) conditionMessage(e))
      if (is.character(r)) {
        frow$error <- gsub("[\r\n]+", " ", r)
        cat(sprintf("  %-10s fold %d: ERROR %s\n", label, fold, frow$error))
        Fl[[length(Fl) + 1L]] <- frow
        next
      }
      sc <- score(r$pred, set$y[te], u[te], set$grid)
      frow$crps <- mean(sc$crps)
      frow$cov50 <- mean(sc$in50)
      frow$cov90 <- mean(sc$in90)
      frow$pit_lo <- mean(sc$pit < 0.05)
      frow$pit_hi <- mean(sc$pit > 0.95)
      frow$fit_s <- r$fit_s
      frow$pred_s <- r$pred_s
      frow$note <- r$note
      Fl[[length(Fl) + 1L]] <- frow
      rows <- data.frame(set = sname, method = label, fold = fold, row = te, y = set$y[te], sc)
      if (dump) {
        # (NA for the peers, so that all rows have the same columns)
        s0 <- if (is.null(r$raw_pred)) list(pit = NA, in50 = NA, in90 = NA) else
          score(r$raw_pred, set$y[te], u[te], set$grid)
        rows$pit_raw <- s0$pit
        rows$in50_raw <- s0$in50
        rows$in90_raw <- s0$in90
        if (NROW(r$holdout))
          Hl[[length(Hl) + 1L]] <- data.frame(set = sname, method = label, fold = fold,
                                              r$holdout)
      }
      Rl[[length(Rl) + 1L]] <- rows
      cat(sprintf("  [%s] %-10s fold %d: crps %s cov50 %.2f cov90 %.2f  %.1f + %.1f s%s\n",
                  format(Sys.time(), "%H:%M:%S"), label, fold, fmt(frow$crps), frow$cov50,
                  frow$cov90, r$fit_s, r$pred_s, if (!is.na(r$note) && method == "sbcg")
                    paste0("  (", r$note, ")") else ""))
      flush(stdout())
    }
  }
  # write after every set, so that an interrupted run keeps what it did
  Fo <- do.call(rbind, Fl)
  R <- do.call(rbind, Rl)
  dir.create(dirname(out_file), recursive = TRUE, showWarnings = FALSE)
  utils::write.csv(Fo, out_file, row.names = FALSE)
  utils::write.csv(R, rows_file_of(out_file), row.names = FALSE)
  if (dump) utils::write.csv(do.call(rbind, Hl), holdout_file_of(out_file), row.names = FALSE)
}
cat(sprintf("\nrun wall time %.1f min\n\n", (elapsed() - run_start) / 60))
method_labels <- vapply(methods, function(m) if (m == "sbcg") sbcg_label else m, "")
print_tables(R, Fo, sets, unname(method_labels))
cat(sprintf("\nwrote %s (per fold) and %s (per held-out row)%s\n", out_file,
            rows_file_of(out_file), if (dump) sprintf(", and %s (the fits' held-out PITs)",
                                                      holdout_file_of(out_file)) else ""))
