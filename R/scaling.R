# Standardisation and preconditioning: the centring and scaling of
# predictors and responses, the location and scale networks fitted before
# the bridge, and the per-row centre and scale that map the bridge's draws
# back to the response's scale.

standardize_cols <- function(M, on) {
  if (!on) return(list(center = rep(0, ncol(M)), scale = rep(1, ncol(M)),
                       const = rep(FALSE, ncol(M))))
  center <- colMeans(M)
  # a column at a time: sweep() would hold two more copies of M at once
  sdev <- function(v) sqrt(sum(v^2) / max(1, nrow(M) - 1L))
  scale <- vapply(seq_len(ncol(M)), function(j) sdev(M[, j] - center[j]), 0)
  # deviations below about 1e-154, whose squares underflow: through their
  # largest magnitude (other columns keep the plain sum, and their bits)
  for (j in which(scale < 1e-140)) {
    v <- M[, j] - center[j]
    big <- max(abs(v))
    if (big > 0) scale[j] <- big * sdev(v / big)
  }
  names(scale) <- names(center)
  # constant columns, up to rounding (an SD of at most 1e-12 of the mean's
  # magnitude; a small spread about a small mean is scaled as any other),
  # keep scale 1
  const <- !is.finite(scale) | scale <= 1e-12 * abs(center)
  scale[const] <- 1
  list(center = center, scale = scale, const = const)
}

# The smallest and largest finite value of each column of M (2 x ncol(M)),
# for extrapolation_warning() and far_warning().
col_ranges <- function(M) {
  r <- matrix(0, 2L, ncol(M), dimnames = list(c("min", "max"), colnames(M)))
  for (j in seq_len(ncol(M))) r[, j] <- range(M[, j], finite = TRUE)
  r
}

# The predictor columns (indices) constant on a fit's rows, by its
# scaling sx (standardize_cols()); NULL for none, and for y ~ 1, whose one
# column is the constant 0.
constant_predictors <- function(sx, xinfo) {
  j <- unname(which(sx$const))
  if (length(j) && !isTRUE(xinfo$intercept_only)) j else NULL
}

# M centred and scaled by s; the columns `zero` (indices) set to 0, NA
# staying NA: predictors constant on the training rows, whose other
# values a fit must not read (the network's weights on them never
# learned anything).
apply_scaling <- function(M, s, zero = integer()) {
  for (j in seq_len(ncol(M))) M[, j] <- (M[, j] - s$center[j]) / s$scale[j]
  for (j in zero) M[, j] <- M[, j] * 0
  M
}

# Predictor columns that a fit also tries on a log-like scale, asinh(x / c)
# (skew_transform in sbcg_control()): never negative, more than 10
# distinct values and a skewness above skew_min (a long right tail), where
# a few large values squeeze the rest into a sliver of the standardised
# input.  c is half the smallest positive value, so that asinh(x / c) is
# about log(2 x / c) for x well above it and stays defined for any new x.
# Returns c per column, 0 for the others.
skew_candidates <- function(X) {
  vapply(seq_len(ncol(X)), function(j) {
    v <- X[, j]
    if (!all(is.finite(v)) || min(v) < 0 || length(unique(v)) <= 10L) return(0)
    s <- stats::sd(v)
    if (!(s > 0)) return(0)
    if (mean((v - mean(v))^3) / s^3 > skew_min) min(v[v > 0]) / 2 else 0
  }, 0)
}
skew_min <- 1.5

# The columns of X with x_log[j] > 0 as asinh(x / x_log[j]) (x_log NULL
# or all 0: X as it is).
log_cols <- function(X, x_log) {
  if (is.null(x_log) || !any(x_log > 0)) return(X)
  for (j in which(x_log > 0)) X[, j] <- asinh(X[, j] / x_log[j])
  X
}

# The location network m(x) = E(Y | x) and, for "location-scale", the scale
# network s(x) = E(|Y - m(x)| | x), fitted by least squares on the
# standardised training rows of `prep` (see fit_prepare()).  With
# K = control$folds > 1 they are cross-fitted: K networks of each kind,
# network k trained on the training rows outside fold k and early-stopped
# on fold k, so that every training row's residual comes from networks
# that did not see it (in-sample residuals of a flexible network are too
# small, and a bridge trained on them learns too narrow a law); the
# validation rows, which no network saw, and new rows get the mean of the
# K networks.  Returns the fit's `precondition` element (NULL for "none")
# and the bridge's target, the standardised residuals (Y - m(x)) / s(x),
# in `target`.
fit_precondition <- function(prep, control, budget, threads, verbose) {
  if (control$precondition == "none") return(list(pre = NULL, target = prep$Ys))
  settings <- regression_settings(control, budget)
  decay <- if (is.null(control$input_decay)) 0 else control$input_decay
  settings[["wd_input"]] <- decay
  linear <- control$baseline == "linear"
  lres <- cross_fit(prep, prep$Ys, prep$ltheta0, prep$lseed, "location", settings,
                    threads, verbose, linear = linear)
  # skewed predictors on a log-like scale too: the same networks, folds and
  # seeds; the scale with the lower out-of-fold error is kept for the whole
  # fit, and returned in `x`
  x <- NULL
  if (try_skew(prep)) {
    pa <- on_log_scale(prep)
    l2 <- cross_fit(pa, prep$Ys, prep$ltheta0, prep$lseed, "location", settings,
                    threads, verbose, linear = linear, label = "location (log scale)")
    b <- better_location(prep, lres, l2)
    lres <- b$fit
    if (b$second) {
      prep <- pa
      x <- prep$alt
    }
  }
  tried <- try_input_decay(prep, control)
  if (tried) {
    s2 <- replace(settings, "wd_input", input_decay_try)
    l2 <- cross_fit(prep, prep$Ys, prep$ltheta0, prep$lseed, "location", s2,
                    threads, verbose, linear = linear, label = "location (input decay)")
    b <- better_location(prep, lres, l2)
    lres <- b$fit
    if (b$second) {
      settings <- s2
      decay <- input_decay_try
    }
  }
  # piecewise-linear encodings of numeric predictors as further inputs of
  # the location networks (ple_columns()): the same folds and seeds, kept
  # when the out-of-fold error is clearly lower; `lp` is the preparation
  # the kept location networks take their inputs from
  lp <- prep
  ple <- NULL
  cols <- ple_columns(prep, control)
  if (length(cols)) {
    spec <- ple_spec(prep, cols)
    if (ple_screened(prep, spec, lres, linear)) {
      # a rejected trial trains nothing and draws nothing from R's generator
      if (!is.null(prep$progress)) prep$progress$label("", length(prep$ltheta0))
    } else {
      pp <- ple_prep(prep, spec)
      l2 <- cross_fit(pp, prep$Ys, pp$ltheta0, prep$lseed, "location", settings,
                      threads, verbose, linear = linear,
                      label = "location (piecewise-linear inputs)")
      steps <- lres$steps + l2$steps
      seconds <- lres$seconds + l2$seconds
      if (clearly_better(prep, lres, l2)) {
        lres <- l2
        lp <- pp
        ple <- pp$ple
      }
      lres$steps <- steps
      lres$seconds <- seconds
    }
  }
  R <- prep$Ys - lres$pred
  shrink <- NULL
  if (isTRUE(control$mean_residuals) && is.matrix(lres$theta) && ncol(lres$theta) > 1L) {
    mr <- mean_residuals(lp, lres, R)
    R <- mr$R
    shrink <- mr$shrink
  }
  # effects of the cells of rows that share their predictors' values,
  # added to the location where they predict the folds' rows better
  key <- cell_candidates(prep, control)
  tried_cells <- !is.null(key)
  cells <- if (tried_cells) cell_fit(lp, R, lres, key)
  if (!is.null(cells)) {
    R <- R - cells$oof
    lres$pred <- lres$pred + cells$oof
  }
  cells <- cells$cells
  # a factor of many levels with few rows each: the location networks
  # also trained without it, its levels taken as effects (level_fit());
  # the one with the lower out-of-fold error kept
  lev <- if (is.null(shrink)) level_candidates(lp, control)
  levels_kept <- FALSE
  level_shift <- NULL
  if (!is.null(lev)) {
    base <- oof_loss(prep, prep$Ys, lres$pred)
    lv <- level_fit(lp, lev, settings, threads, verbose, linear, base)
    steps <- lres$steps + lv$fit$steps
    seconds <- lres$seconds + lv$fit$seconds
    levels_kept <- oof_loss(prep, prep$Ys, lv$fit$pred) < base
    if (levels_kept) {
      lres <- lv$fit
      cells <- lv$cells
      level_shift <- lv$shift
      R <- prep$Ys - lres$pred
    }
    lres$steps <- steps
    lres$seconds <- seconds
  }
  pre <- list(net = prep$lnet, location = lres$theta, linear = lres$linear,
              scale = NULL, epochs = lres$epochs, best_epoch = lres$best_epoch,
              steps_run = lres$steps, seconds = lres$seconds, shared_epoch = lres$shared,
              input_decay = decay, input_decay_tried = tried, linear_folds = lres$linears,
              skew_tried = try_skew(prep))
  if (!is.null(shrink)) pre$residual_shrink <- shrink
  pre$tried_cells <- tried_cells
  pre$tried_ple <- length(cols) > 0L
  if (!is.null(ple)) pre$ple <- ple
  if (!is.null(cells)) pre$cells <- cells
  if (!is.null(lev)) pre$tried_levels <- lev$name
  if (levels_kept) pre$level_factor <- lev$name
  if (control$precondition == "location-scale") {
    A <- abs(R)
    # the scale network starts at the mean absolute residual
    stheta0 <- prep$stheta0
    if (linear) {
      b <- colSums(A[prep$tidx, , drop = FALSE] * prep$wt) / sum(prep$wt)
      nb <- length(stheta0[[1L]])
      stheta0 <- lapply(stheta0, function(th) replace(th, nb - length(b) + seq_along(b), b))
    }
    sres <- cross_fit(prep, A, stheta0, prep$sseed, "scale",
                      replace(settings, "patience", scale_patience), threads, verbose)
    pre$scale <- sres$theta
    # a floor keeps the scale positive where the regression dips
    tidx <- prep$tidx
    # (and positive for a constant response, whose residuals are all 0)
    pre$floor <- pmax(0.01 * colSums(A[tidx, , drop = FALSE] * prep$wt) / sum(prep$wt), 1e-12)
    S <- sweep(sres$pred, 2L, pre$floor, pmax)
    pre$scale_power <- scale_power(R[tidx, , drop = FALSE], S[tidx, , drop = FALSE], prep$wt)
    S <- sweep(S, 2L, pre$scale_power, `^`)
    R <- R / S
    pre$epochs <- c(pre$epochs, sres$epochs)
    pre$best_epoch <- c(pre$best_epoch, sres$best_epoch)
    pre$steps_run <- pre$steps_run + sres$steps
    pre$seconds <- pre$seconds + sres$seconds
  }
  # each row's out-of-fold location and scale, and its residual in units
  # of that scale, for one response (oof_crps())
  oof <- if (ncol(R) == 1L)
    list(m = lres$pred[, 1L], u = R[, 1L],
         s = if (control$precondition == "location-scale") S[, 1L] else rep(1, nrow(R)))
  sr <- standardize_cols(R, TRUE)
  pre$center <- sr$center
  pre$scale_factor <- sr$scale
  # the inputs of a bridge that sees the location and scale rather than
  # the predictors (location_inputs(), only with the scale networks, whose
  # s(x)^g is S): out of fold at the training rows, as the residuals it
  # learns
  feat <- NULL
  if (isTRUE(prep$location_inputs)) {
    F <- cbind(lres$pred[, 1L], log(S[, 1L]))
    pre$features <- standardize_cols(F[prep$tidx, , drop = FALSE], TRUE)[c("center", "scale")]
    feat <- feature_inputs(pre$features, F, ncol(prep$Xs))
  }
  list(pre = pre, target = apply_scaling(R, sr), x = x, feat = feat, oof = oof,
       level_shift = level_shift)
}

# The inputs of a bridge that sees the location m(x) and the log scale
# log s(x) of the preconditioning (F, rows x 2) instead of the predictors:
# F standardised by `features` (its training rows' centre and scale), in
# the first two of the network's p input columns, the others 0.  Two
# inputs, whatever the number of predictors, let the bridge change the
# law's shape with its level and spread (a count's skew with its mean,
# say) without the freedom to follow each training row's residual.
feature_inputs <- function(features, F, p) {
  out <- matrix(0, nrow(F), p)
  out[, 1:2] <- apply_scaling(F, features)
  out
}

# The inputs of a preconditioned fit's bridge at standardised rows X: the
# standardised location and log scale (feature_inputs()) of a fit whose
# bridge sees them.  `sc`: draw_scale() at X, whose networks' outputs (m,
# s) are reused when given.
location_features <- function(pre, X, sc = NULL) {
  m <- if (is.null(sc)) location_net(pre, X) else sc$m
  s <- if (is.null(sc)) scale_net(pre, X) else sc$s
  feature_inputs(pre$features, cbind(m[, 1L], log(s[, 1L])), ncol(X))
}

# Out-of-fold residuals R (all rows x d) of the cross-fitted location
# networks `lres`, moved toward the residuals of their mean, which is what
# new rows get (sbcg_control(mean_residuals = TRUE)).  Each training row's
# residual comes from the one network that did not see it, and a single
# network errs more than the mean of K: E(f_k - f)^2 = E(fbar - f)^2 + V,
# V the networks' spread about their mean.  So each residual R_i becomes
# R_i - lambda (fbar(x_i) - f_k(x_i)), with lambda in [0, 1] (per
# component) such that the residuals' weighted mean square drops by V, V
# measured on the held-out rows, which no network saw (on the training
# rows, where K - 1 of the networks saw each row, with fewer than 10 of
# them).  fbar at a training row is partly in-sample, hence the shrinkage
# rather than Y - fbar itself.  Returns the residuals and the lambdas.
mean_residuals <- function(prep, lres, R) {
  K <- ncol(lres$theta)
  d <- ncol(R)
  spread <- function(Xm) {
    P <- network_locations(prep$lnet, lres$theta, lres$linears, Xm)
    fbar <- Reduce(`+`, P) / K
    list(fbar = fbar, V = Reduce(`+`, lapply(P, function(p) (p - fbar)^2)) / K)
  }
  tidx <- prep$tidx
  st <- spread(prep$Xs[tidx, , drop = FALSE])
  D <- st$fbar - lres$pred[tidx, , drop = FALSE]
  V <- if (length(prep$vidx) >= 10L)
    colMeans(spread(prep$Xs[prep$vidx, , drop = FALSE])$V) else colMeans(st$V)
  w <- prep$wt / sum(prep$wt)
  Rt <- R[tidx, , drop = FALSE]
  shrink <- vapply(seq_len(d), function(j) {
    a <- sum(w * D[, j]^2)
    b <- sum(w * Rt[, j] * D[, j])
    if (!(a > 0)) return(0)
    disc <- b^2 - a * V[j]
    # the smaller root of a l^2 - 2 b l + V = 0, or where the mean square is
    # least when it cannot drop by V
    min(max(if (disc >= 0) (b - sqrt(disc)) / a else b / a, 0), 1)
  }, 0)
  R[tidx, ] <- Rt - sweep(D, 2L, shrink, "*")
  list(R = R, shrink = shrink)
}

# Of two cross-fits of the location networks (cross_fit()), a and an
# alternative b, the one with the lower out-of-fold error (`second`: b),
# with the steps and seconds of both.
better_location <- function(prep, a, b) {
  second <- oof_loss(prep, prep$Ys, b$pred) < oof_loss(prep, prep$Ys, a$pred)
  fit <- if (second) b else a
  fit$steps <- a$steps + b$steps
  fit$seconds <- a$seconds + b$seconds
  list(fit = fit, second = second)
}

# prep with its predictors on the log-like scale it also tries (prep$alt):
# the standardised matrix, its scaling and the map x_log.
on_log_scale <- function(prep) {
  prep$Xs <- prep$alt$Xs
  prep$sx <- prep$alt$sx
  prep$x_log <- prep$alt$x_log
  prep
}

# Whether the location networks are also trained on the log-like scale of
# skewed predictors (skew_candidates(); fit_prepare() looks for them only
# with cross-fitting, whose out-of-fold errors judge both scales honestly).
try_skew <- function(prep) !is.null(prep$alt)

# Predictors from which a fit also tries decaying the first layer's
# weights on them (try_input_decay()), and the decay it tries: decoupled,
# lr * input_decay_try of each such weight per optimiser step.  With many
# predictors a location network fits the noise of the irrelevant ones
# before the signal, and early stopping then ends it before it has
# learned much: on bench/smalldata.R's p50 (50 predictors, 3 of them
# relevant, n = 1000) sbcg's CRPS was 0.85, grf's 0.73; with the trial,
# which keeps the decay on every seed, 0.57.  On m1 (5 relevant
# predictors, a mean fitted to 1.5% of the response's SD) a fixed
# input_decay of 1, 3 and 10 raised the CRPS 0.3%, 3.5% and 6.1%
# (bench/tune.R, variants dec1, dec3, dec10, seeds 1-2), so it is only
# tried, and kept when it predicts the folds' rows better.
input_decay_try <- 10
input_decay_min_p <- 10L

# Whether the location networks are also trained with input decay and the
# better of the two kept: when control$input_decay is NULL, with
# cross-fitting (whose out-of-fold residuals judge both honestly) and at
# least input_decay_min_p predictor columns.
try_input_decay <- function(prep, control) {
  is.null(control$input_decay) && length(prep$lseed) > 1L &&
    ncol(prep$Xs) >= input_decay_min_p
}

# Piecewise-linear encodings of numeric predictors (Gorishniy, Rubachev
# and Babenko, "On embeddings for numerical features in tabular deep
# learning", NeurIPS 2022) as further inputs of the location networks.  A
# network whose inputs are the standardised predictors learns smooth
# functions of them first, and early stopping ends it before it has
# learned a trend that bends many times along one predictor (a time
# index, say), which a forest's splits follow at once.  With the
# encodings each column x with more than 2 * ple_bins distinct training
# values gets T further inputs, min(1, max(0, (x - b_k) / (b_{k+1} -
# b_k))) for bin edges b_0 < ... < b_T at the quantiles 0, 1/T, ..., 1 of
# its training values (fewer where they tie): a piecewise-linear basis on
# which the first layer starts with local slopes.  T = ple_bins (8) below
# 180 training rows, then one bin per ple_rows (20) rows, at most
# ple_max_bins (24) and at most one input per ple_input_rows (4) rows over
# all the encoded columns (ple_count()): the resolution grows with the
# data.  On bench/realdata.R's sets of at least 180 training rows, T from
# the rows instead of 8 lowered the CRPS of economics (574 rows, a monthly
# series) by 16%, of GAGurine by 2%, of diamonds by 1%; without the limit
# per row, Boston's 11 encoded columns got 18 bins each (198 inputs from
# 364 rows) and its CRPS rose 1.6%.  16 bins at most gained 10% on
# economics, and 16 or 24 at every size lost most of the gains on beaver1,
# cpus and road (91 to 167 rows), whose columns then had too few distinct
# values or rows per bin.  The location networks are trained with and
# without them on the same folds and seeds, and the encodings are kept
# when the out-of-fold error is lower by more than ple_z standard errors
# of the rows' paired differences (clearly_better(), the
# one-standard-error rule of pick_bridge()): with any fall kept, a fall of
# 8% on Boston (p = 13, 405 rows per fit; z = 0.6) came with a rise of 28%
# in one fold's CRPS, and with ple_z = 2 they were not kept on beaver1
# (body temperature against time, 91 rows per fit; falls of 10-30% with z
# of 0.5-1.9), whose CRPS they lower by a quarter.  When every fold has
# at least loss_choice_rows (200) rows, a least-squares fit of the first
# fold's residuals on the encodings screens the trial (ple_screen()):
# unless it predicts the fold better, no network with the encodings is
# trained, which keeps the trial nearly free where they do not help (a
# default fit of a simulation model at n = 5000, side by side: 5.2-5.4 s,
# against 5.8-6.1 s when the first fold's network with the encodings
# screened the others, and 5.0-5.2 s without the trial; on
# bench/realdata.R's largest sets the two screens led to the same choice
# in 24 of 25 fits).  On smaller folds one fold's error is too noisy to
# screen with: a screen by the first network lost most of beaver1's and
# cpus' gains (a quarter and an eighth off the CRPS), and the trial costs
# little there.  The scale networks and the bridge keep the predictors as
# they are.
ple_bins <- 8L
ple_rows <- 20L
ple_max_bins <- 24L
ple_input_rows <- 4L
ple_z <- 1

# The number of bins for the encodings of `cols` columns learned from n
# training rows.
ple_count <- function(n, cols = 1L)
  as.integer(max(ple_bins, min(ple_max_bins, n %/% ple_rows, n %/% (ple_input_rows * cols))))

# The columns of the standardised predictors that get encodings: those
# with more than 2 * ple_bins distinct values on the training rows of
# positive weight (factors' indicator columns have two); none with
# control$piecewise FALSE or without cross-fitting, whose out-of-fold
# errors judge the choice.
ple_columns <- function(prep, control) {
  if (!isTRUE(control$piecewise) || length(prep$lseed) < 2L) return(integer())
  r <- prep$tidx[prep$wt > 0]
  which(vapply(seq_len(ncol(prep$Xs)), function(j) length(unique(prep$Xs[r, j])), 0L) >
          2L * ple_bins)
}

# The encodings of columns `cols` of the standardised predictors: the
# columns and their bin edges, at the quantiles of their training values
# (rows of positive weight).
ple_spec <- function(prep, cols) {
  r <- prep$tidx[prep$wt > 0]
  nb <- ple_count(length(r), length(cols))
  list(cols = as.integer(cols), knots = lapply(cols, function(j)
    unique(stats::quantile(prep$Xs[r, j], seq(0, 1, length.out = nb + 1L), names = FALSE,
                           type = 7))))
}

# prep with the encodings `ple` (ple_spec()) appended to its predictors,
# `ple` with the location networks' architecture for them (`net`, with the
# wider input layer), and starting weights for that architecture, drawn
# under the first location network's seed (so that a fit without the
# encodings draws nothing more from R's generator).
ple_prep <- function(prep, ple) {
  prep$Xs <- ple_inputs(ple, prep$Xs)
  prep$lnet$p <- ncol(prep$Xs)
  ple$net <- prep$lnet
  prep$ple <- ple
  K <- length(prep$ltheta0)
  prep$ltheta0 <- with_seed(prep$lseed[[1L]][1L], lapply(seq_len(K), function(k)
    init_theta(prep$lnet, isTRUE(prep$zero_out))))
  prep
}

# The standardised predictors X with the encodings of `ple` appended (X
# itself for ple = NULL), or with `append` FALSE the encodings alone.
ple_inputs <- function(ple, X, append = TRUE) {
  if (is.null(ple)) return(X)
  enc <- lapply(seq_along(ple$cols), function(i) {
    b <- ple$knots[[i]]
    x <- X[, ple$cols[i]]
    vapply(seq_len(length(b) - 1L), function(k)
      pmin(1, pmax(0, (x - b[k]) / (b[k + 1L] - b[k]))), numeric(length(x)))
  })
  E <- matrix(unlist(enc), nrow(X))
  if (append) cbind(X, E) else E
}

# Whether the trial of the encodings `ple` (ple_spec()) is screened out
# before any network with them is trained: with folds of at least
# loss_choice_rows rows, unless ple_screen() finds on the first fold that
# they could help the location networks `screen` (cross_fit() without
# them).
ple_screened <- function(prep, ple, screen, linear) {
  K <- length(prep$ltheta0)
  K > 1L && min(tabulate(prep$fold, K)) >= loss_choice_rows &&
    !ple_gain(ple_screen(prep, ple, fold_rows(prep, K, 1L)[[1L]], screen, prep$Ys, linear))
}

# Whether the screen's errors (ple_screen()) say the encodings help.
ple_gain <- function(err) err[["with"]] < err[["without"]]

# Whether the encodings `ple` could help the location networks, judged
# before any network with them is trained, on the first fold (`rows`, its
# rows as in cross_fit()): the residuals of the network without them
# (`screen`, trained on the fold's training rows) at those rows are
# regressed on the encodings by weighted least squares (with linear_fit()'s
# ridge, ridge_solve()), and the encodings pass (ple_gain()) when the
# network's prediction plus that regression's predicts the fold's own rows
# better than the network alone.  What a smooth network has missed along one
# predictor, a trend that bends many times, shows in its residuals there
# as a piecewise-linear function of the predictor.  Returns the weighted
# squared errors of the fold's rows, `with` and `without` the regression.
# The encodings are made `size` rows at a time, so that a rejected trial
# never holds them for all rows (at a million rows, 24 bins of 5 columns
# take 1 GB a copy).
ple_screen <- function(prep, ple, rows, screen, target, linear, size = block_rows) {
  X <- prep$Xs
  theta <- as.matrix(screen$theta)[, 1L]
  B <- if (linear) matrix(screen$linears[, , 1L], ncol(X) + 1L)
  enc <- function(r) cbind(1, ple_inputs(ple, X[r, , drop = FALSE], append = FALSE))
  tr <- rows$train
  m <- sum(lengths(ple$knots) - 1L) + 1L
  A <- matrix(0, m, m)
  b <- matrix(0, m, ncol(target))
  for (i in row_blocks(length(tr), size)) {
    r <- tr[i]
    G <- regression_net(prep$lnet, theta, X[r, , drop = FALSE])
    if (linear) G <- G + linear_part(B, X[r, , drop = FALSE])
    E <- enc(r)
    A <- A + crossprod(E, E * rows$wt[i])
    b <- b + crossprod(E, (target[r, , drop = FALSE] - G) * rows$wt[i])
  }
  C <- ridge_solve(A, b, sum(rows$wt))
  err <- c(with = 0, without = 0)
  for (i in row_blocks(length(rows$valid), size)) {
    r <- rows$valid[i]
    Y <- target[r, , drop = FALSE]
    P <- screen$pred[r, , drop = FALSE]
    err <- err + c(sum(rows$wv[i] * rowSums((Y - (P + enc(r) %*% C))^2)),
                   sum(rows$wv[i] * rowSums((Y - P)^2)))
  }
  err
}

# The indices 1..n in consecutive blocks of at most `size`.
row_blocks <- function(n, size = block_rows) unname(split(seq_len(n), (seq_len(n) - 1L) %/% size))
block_rows <- 16384L

# Whether location networks b are clearly better than a: the weighted
# squared out-of-fold errors of the training rows, paired, lower with b on
# average by more than ple_z standard errors of their difference.
clearly_better <- function(prep, a, b) {
  t <- prep$tidx
  err <- function(P) prep$wt * rowSums((prep$Ys[t, , drop = FALSE] - P[t, , drop = FALSE])^2)
  dif <- err(a$pred) - err(b$pred)
  se <- stats::sd(dif) / sqrt(length(dif))
  is.finite(se) && mean(dif) > ple_z * se
}

# The weighted mean squared out-of-fold error of the location networks
# (their predictions P at all rows) over the training rows.
oof_loss <- function(prep, Y, P) {
  tidx <- prep$tidx
  sum(prep$wt * rowSums((Y[tidx, , drop = FALSE] - P[tidx, , drop = FALSE])^2)) /
    sum(prep$wt)
}

# The scale networks stop 5 checks after their best, the location networks
# 10.  A scale network learns a smooth spread and was best after a few
# dozen epochs at n = 5000 (12-102), so that 10 checks more were half its
# run.  With 5 (and the bridge without the predictors at most 4,000 steps,
# fixed_epochs()) every CRPS of the simulation models stayed within 0.1%
# (bench/accuracy.R, 3 seeds) and of bench/realdata.R's sets within 0.25%;
# with 5 for the location networks too, m1's CRPS rose 0.9%.
scale_patience <- 5

# The rows of the K networks of a cross-fit: network j trains on the
# training rows outside fold j (weights wt) and is validated on fold j's
# (weights wv; wsum their weight in all), or with K = 1 on the validation
# rows; those of networks `which` alone.
fold_rows <- function(prep, K, which = seq_len(K)) {
  tidx <- prep$tidx
  fold <- if (K > 1L) prep$fold else rep(0L, length(tidx))  # K = 1: no row in "fold 1"
  lapply(which, function(j) {
    inf <- fold == j
    list(train = tidx[!inf], valid = if (K > 1L) tidx[inf] else prep$vidx,
         wt = prep$wt[!inf] / mean(prep$wt[!inf]),
         wv = if (K > 1L) prep$wt[inf] / mean(prep$wt[inf]) else prep$wv,
         wsum = sum(prep$wt[inf]))
  })
}

# Regression networks for `target` (n x d) from the initial weights in
# theta0 (a list, one per fold) and the seeds in `seeds`: one network on
# the training rows, validated on the validation rows, or one per fold of
# prep$fold.  With `linear`, each network learns the residual of a weighted
# least-squares linear fit on its own training rows (linear_fit()), and
# the fit's `linear` coefficients are the mean of those.  Returns the
# weights (a vector, or npar x K), the linear coefficients (or NULL), the
# predictions at all rows (out of fold at the training rows) and the
# training records.
cross_fit <- function(prep, target, theta0, seeds, what, settings, threads, verbose,
                      linear = FALSE, label = what) {
  K <- length(theta0)
  Xs <- prep$Xs
  pred <- matrix(0, nrow(target), ncol(target))
  rows <- fold_rows(prep, K)
  nf <- min(lengths(lapply(rows, `[[`, "valid")))
  jobs <- lapply(seq_len(K), function(j) {
    r <- rows[[j]]
    B <- if (linear) linear_fit(Xs, target, r$wt, r$train)
    c(r, list(theta0 = theta0[[j]], target = if (linear) target - linear_part(B, Xs) else target,
              Xs = Xs, seed = seeds[[j]], B = B))
  })
  # the prediction of fold j's network (run r) at its own fold's rows
  fold_pred <- function(j, r) {
    va <- jobs[[j]]$valid
    P <- regression_net(prep$lnet, r$theta, Xs[va, , drop = FALSE])
    if (linear) P <- P + linear_part(jobs[[j]]$B, Xs[va, , drop = FALSE])
    P
  }
  shared <- K > 1L && (nf < min_choice_rows || isTRUE(prep$shared_epoch))
  runs <- train_nets(prep$lnet, jobs, threads, verbose, what, settings,
                     labels = sprintf("%s network %d/%d", label, seq_len(K), K),
                     group = sprintf("%s networks 1-%d/%d (side by side)", label, K, K),
                     progress = prep$progress, cap = shared)
  if (shared) runs <- shared_epoch(prep$lnet, jobs, runs, settings, threads, verbose, what,
                                    label)
  res <- lapply(seq_len(K), function(j) {
    r <- runs[[j]]
    if (K > 1L) pred[jobs[[j]]$valid, ] <<- fold_pred(j, r)
    r$linear <- jobs[[j]]$B
    r
  })
  theta <- if (K == 1L) res[[1L]]$theta else
    vapply(res, `[[`, numeric(length(theta0[[1L]])), "theta")
  B <- if (linear) Reduce(`+`, lapply(res, `[[`, "linear")) / K
  rows <- if (K > 1L) prep$vidx else seq_len(nrow(target))
  if (length(rows)) {
    P <- regression_net(prep$lnet, theta, Xs[rows, , drop = FALSE])
    if (linear) P <- P + linear_part(B, Xs[rows, , drop = FALSE])
    pred[rows, ] <- P
  }
  list(theta = theta, linear = B, pred = pred,
       linears = if (linear && K > 1L) simplify2array(lapply(res, `[[`, "linear"),
                                                      higher = TRUE),
       epochs = vapply(res, `[[`, 0L, "epochs"),
       best_epoch = vapply(res, `[[`, 0L, "best_epoch"),
       steps = sum(vapply(res, `[[`, 0, "steps")),
       seconds = sum(vapply(res, `[[`, 0, "seconds")), shared = shared)
}

# The preparation for the location and scale networks of a fit with
# fewer than min_choice_rows held-out rows (fit_prepare()'s `holdin`): the
# held-out rows join the training rows in the cross-fitting folds (their
# folds `vfold`), so that the networks and their linear parts learn from
# all rows.  The held-out rows keep their part: each is out of fold for
# one network, which did not see it, and its residual from that network
# validates the bridge, which trains on the training rows alone, and
# scores the fit (holdout_scores()).  The networks share one epoch
# (shared_epoch()) when the training rows alone would have made folds of
# fewer than min_choice_rows rows, as without the held-out rows.  Before,
# the location never saw a tenth of the rows of a small fit (4 of the 40
# rows of a training fold of LifeCycleSavings in bench/realdata.R).
holdin_prep <- function(prep) {
  K <- length(prep$ltheta0)
  prep$shared_epoch <- min(tabulate(prep$fold, K)) < min_choice_rows
  prep$tidx <- c(prep$tidx, prep$vidx)
  prep$fold <- c(prep$fold, prep$vfold)
  prep$wt <- prep$wall
  prep$vidx <- integer()
  prep
}

# One epoch for all the cross-fitted networks of a stage, for folds of
# fewer than min_choice_rows rows.  Each network is early-stopped on its
# own fold, the rows whose residuals it then gives the bridge; on a
# handful of rows the epoch that scores them best also makes their
# residuals smallest, and the bridge learns too narrow a law (as `lm`'s
# residuals would be without its degrees-of-freedom correction).  Here
# the epoch (0, the starting weights, included) is the one with the
# lowest validation loss summed over all folds, weighted by their
# weights, among the checks that every network reached: one choice on
# all training rows.  Each network is then retrained to that epoch from
# the same start and seed (the same steps and learning rates as its first
# run, so the same weights it had there); with epoch 0, it keeps its
# starting weights (the linear fit).  On bench/tinydata.R's sets of 15
# to 111 rows the 90% intervals of 74% (trees), 73% (women), 83% (swiss)
# and 85% (rock) became 90%, 87%, 87% and 90%, and the pooled CRPS
# relative to lm's 0.784 from 0.806.  Applied to every fold size (a
# scratch build), the 50% intervals of bench/realdata.R's sets moved
# toward 50% but the CRPS of quine and cpus (folds of 21 and 30 rows) rose
# 10% and 21%.
shared_epoch <- function(net, jobs, runs, settings, threads, verbose, what, label = what) {
  E <- min(vapply(runs, `[[`, 0L, "epochs"))
  W <- vapply(jobs, `[[`, 0, "wsum")
  start <- vapply(runs, `[[`, 0, "start_loss")
  V <- matrix(vapply(runs, function(r) r$valid_loss[seq_len(E)], numeric(E)), E)
  e <- which.min(c(sum(W * start), drop(V %*% W))) - 1L
  redo <- which(vapply(runs, `[[`, 0L, "best_epoch") != e)
  if (e > 0L && length(redo)) {
    again <- train_nets(net, jobs[redo], threads, verbose, what,
                        replace(settings, c("keep_last", "stop_epoch"), c(1, e)),
                        labels = sprintf("%s network %d/%d, to epoch %d", label, redo,
                                         length(jobs), e),
                        group = sprintf("%s networks, to epoch %d (side by side)", label, e))
  }
  for (i in seq_along(redo)) {
    j <- redo[i]
    if (e == 0L) {
      runs[[j]]$theta <- jobs[[j]]$theta0
    } else {
      runs[[j]]$theta <- again[[i]]$theta
      runs[[j]]$steps <- runs[[j]]$steps + again[[i]]$steps
      runs[[j]]$seconds <- runs[[j]]$seconds + again[[i]]$seconds
    }
    runs[[j]]$best_epoch <- e
  }
  runs
}

# Weighted least-squares coefficients ((p + 1) x d, intercept first) of Y
# on the standardised X, over rows `rows` of both (w their weights), with
# a small ridge penalty (1e-6 of the weight sum on the slopes) that keeps
# them finite with collinear or too many predictors.
linear_fit <- function(X, Y, w, rows = seq_len(nrow(X))) {
  X1 <- design(X, rows)
  B <- ridge_solve(crossprod(X1, X1 * w), crossprod(X1, Y[rows, , drop = FALSE] * w), sum(w))
  dimnames(B) <- NULL
  B
}

# The solution of the normal equations A B = b of a weighted least-squares
# fit (intercept first, weights summing to wsum) with linear_fit()'s ridge
# on the slopes.
ridge_solve <- function(A, b, wsum) {
  diag(A)[-1L] <- diag(A)[-1L] + 1e-6 * wsum
  solve(A, b)
}

linear_part <- function(B, X) cbind(1, X) %*% B

# The design matrix of a linear fit on rows `rows` of X: a column of ones
# and those rows of X, made a column at a time (X[rows, ] and cbind()
# would hold two copies of the rows at once).
design <- function(X, rows = seq_len(nrow(X))) {
  X1 <- matrix(1, length(rows), ncol(X) + 1L)
  for (j in seq_len(ncol(X))) X1[, j + 1L] <- X[rows, j]
  X1
}

# A fit whose preconditioning is that of its j-th cross-fitted location
# and scale networks alone (with their own linear part, without cell
# effects), for diagnosis:
# the bridge learned the law of the residuals of each network on the rows
# it did not see, while a fit maps its draws through the mean of the
# networks (bench/realdata-diag.R --members compares the two).
member_fit <- function(object, j) {
  pre <- object$precondition
  K <- if (is.matrix(pre$location)) ncol(pre$location) else 1L
  if (K < 2L) stopf("the fit has no cross-fitted preconditioning networks")
  j <- check_count(j, "j", 1, K)
  pre$location <- pre$location[, j, drop = FALSE]
  if (!is.null(pre$scale)) pre$scale <- pre$scale[, j, drop = FALSE]
  if (!is.null(pre$linear)) {
    if (is.null(pre$linear_folds))
      stopf("the fit does not keep its networks' linear parts (made by an older version)")
    pre$linear <- pre$linear_folds[, , j]
    dim(pre$linear) <- dim(pre$linear_folds)[1:2]
  }
  pre$linear_folds <- NULL
  # the cell effects belong to the mean of the networks
  pre$cells <- NULL
  object$precondition <- pre
  set_format(object)
}

# The location m(x) of a preconditioned fit at standardised rows X (n x d):
# the mean of its networks, or at rows in a cell of a fit with cell
# effects (cell_fit()) the mean over the networks whose fold holds rows of
# that cell of each network's location plus its effect there.
location_net <- function(pre, X) {
  XL <- ple_inputs(pre$ple, X)
  net <- location_arch(pre)
  m <- regression_net(net, pre$location, XL)
  if (!is.null(pre$linear)) m <- m + linear_part(pre$linear, XL)
  if (is.null(pre$cells)) return(m)
  i <- match(cell_keys(key_columns(X, pre$cells$cols)), pre$cells$key)
  hit <- which(!is.na(i))
  if (length(hit))
    m[hit, ] <- cell_location(pre$cells, i[hit],
                              network_locations(net, pre$location, pre$linear_folds,
                                                XL[hit, , drop = FALSE]))
  m
}

# The location networks' architecture: that of the preconditioning
# (pre$net, which the scale networks share), or with piecewise-linear
# encodings, whose networks take more inputs, theirs (pre$ple$net).
location_arch <- function(pre) if (is.null(pre$ple)) pre$net else pre$ple$net

# Each cross-fitted network's location (with its own linear part, from
# `linears`, (p + 1) x d x K, or NULL) at standardised rows X: a list of K
# matrices (rows x d).
network_locations <- function(net, theta, linears, X) {
  lapply(seq_len(ncol(theta)), function(k) {
    P <- regression_net(net, theta[, k], X)
    if (is.null(linears)) P else P + linear_part(matrix(linears[, , k], ncol = net$d), X)
  })
}

# The location at rows in cells i of `cells` (keys, `effect`: cells x d x
# K, `member`: cells x K, whether fold k holds rows of the cell) from the
# networks' locations F there (network_locations()): the mean over the
# member folds k of F_k + effect_k.
cell_location <- function(cells, i, F) {
  M <- cells$member[i, , drop = FALSE]
  out <- 0
  for (k in seq_along(F))
    out <- out + M[, k] * (F[[k]] + matrix(cells$effect[i, , k], ncol = ncol(F[[k]])))
  out / rowSums(M)
}

# The columns of X that key the cells: `cols` (a factor's, level_fit()),
# or all of them for cols = NULL.
key_columns <- function(X, cols = NULL) if (is.null(cols)) X else X[, cols, drop = FALSE]

# Rows of the standardised predictors X as keys: rows with the same
# values (to 10 significant digits) share a key, a "cell".
cell_keys <- function(X) {
  do.call(paste, c(lapply(seq_len(ncol(X)), function(j) sprintf("%.10g", X[, j])),
                   sep = "|"))
}

# Whether the fit tries cell effects (sbcg_control(cell_effects = TRUE)):
# with cross-fitting, whose folds judge them, when at least cell_min_share
# of the training rows share their predictors' values with another
# training row, and the training rows fall into at least cell_min_cells
# cells.  The between-cell variance that sets the effects' shrinkage is
# estimated from the cells, poorly from a few; and a few cells (a small
# factorial design) are a handful of points the networks fit themselves.
# On the 45 sets of bench/realdata.R with repeated rows, effects kept
# whenever the out-of-fold check saw a gain lowered the CRPS by up to 8%
# (cabbages, mpg, DNase) but raised it on small designs of 6 to 28 cells
# (Puromycin +11%, CO2 +6%, quine +3%, poisons +3%, ToothGrowth +3%).
# With at least 30 cells and 10 rows judged (cell_fit()) the geometric
# mean over the 45 sets was 0.996, the largest rise 1.3% (IGF) and the
# largest falls 7.1% (mpg) and 5.7% (DNase); cabbages' gain, judged on
# fewer than 10 rows per fold, went with the rule.
cell_min_share <- 0.1
cell_min_cells <- 30L

# The share of the values x that have another value of x within 2e-9 of
# them, relative to the larger of the two.
near_share <- function(x) {
  o <- sort(x)
  near <- diff(o) <= 2e-9 * pmax(abs(o[-1L]), abs(o[-length(o)]))
  mean(c(near, FALSE) | c(FALSE, near))
}

# cell_candidates(): the cell keys of all rows (cell_keys()) when the fit
# tries them, else NULL.  Not when the held-out rows joined the folds
# (holdin_prep()): their residuals would then enter their own cells'
# effects, and their scores (holdin_draws(), through one network of each
# kind) could not leave them out.  Such fits seldom keep them: of the 325
# fits of bench/realdata.R's 5-fold cross-validation of its 65 sets of
# fewer than 125 rows, all with held-out rows in the folds, 12 tried cell
# effects and none kept them.  Making the keys takes seconds at 10^5
# rows, so a necessary condition comes first: rows whose keys agree have,
# in every column, values within 1e-9 of each other relative to them (10
# significant digits), so when in some column fewer than cell_min_share
# of the training rows have another within twice that (near_share()), no
# cell can hold that share and no key is made.
cell_candidates <- function(prep, control) {
  if (!isTRUE(control$cell_effects) || is.null(prep$fold) || isTRUE(prep$holdin))
    return(NULL)
  for (j in seq_len(ncol(prep$Xs)))
    if (near_share(prep$Xs[prep$tidx, j]) < cell_min_share) return(NULL)
  key <- cell_keys(prep$Xs)
  kt <- key[prep$tidx]
  if (mean(duplicated(kt) | duplicated(kt, fromLast = TRUE)) >= cell_min_share &&
      length(unique(kt)) >= cell_min_cells) key
}

# Random intercepts of groups of training rows (`g`, one key per training
# row) from the residuals R (all rows x d), as cell_fit() and
# level_effects() take them: per group and response component, the
# weighted mean residual of its rows shrunk toward 0 by n / (n + tau), n
# their weight and tau = s2w / s2b the ratio of the within-group to the
# between-group variance of the residuals (method of moments over the
# groups).  Each training row is judged by the effect of the other rows of
# its group (which its residual did not enter); with fewer than
# min_choice_rows such rows (as for the choice of the bridge), or no lower
# out-of-fold error with those effects than without, NULL.  Else the
# groups' weighted sums S and weights N (rowsum() order), tau, and the
# change of location at all rows (`oof`: those leave-one-out effects at
# the training rows, 0 elsewhere).
group_effects <- function(prep, R, g) {
  tidx <- prep$tidx
  w <- prep$wt
  Rt <- R[tidx, , drop = FALSE]
  WR <- Rt * w
  S <- rowsum(WR, g)
  N <- drop(rowsum(w, g))
  pos <- N > 0
  M <- S / ifelse(pos, N, 1)
  df <- sum(w > 0) - sum(pos)
  if (df < 1L) return(NULL)
  j <- match(g, rownames(S))
  s2w <- colSums(w * (Rt - M[j, , drop = FALSE])^2) / df
  s2b <- colSums(M[pos, , drop = FALSE]^2) / sum(pos) - s2w * mean(1 / N[pos])
  if (!any(s2b > 0)) return(NULL)
  tau <- ifelse(s2b > 0, s2w / s2b, Inf)
  A <- matrix(0, nrow(R), ncol(R))
  others <- N[j] - w
  A[tidx, ] <- shrink_means(S[j, , drop = FALSE] - WR, others, tau)
  judged <- sum(w > 0 & others > 1e-12 * max(N))
  if (judged < min_choice_rows || !(oof_loss(prep, R, A) < oof_loss(prep, R, 0 * R)))
    return(NULL)
  list(S = S, N = N, tau = tau, oof = A)
}

# Group sums S (groups x d) of weights N as shrunk means: S / N times
# N / (N + tau) per component, 0 for groups of no weight.
shrink_means <- function(S, N, tau) {
  E <- sweep(S, 1L, pmax(N, 1e-300), "/") * outer(N, tau, function(n, t) n / (n + t))
  E[!(N > 1e-12), ] <- 0
  E
}

# Cell effects on top of the cross-fitted location networks `lres`, from
# their out-of-fold residuals R (all rows x d), for the rows' cell keys
# `key` (cell_candidates()).  Rows with the same
# predictor values (a cell) often share more than a smooth location gives
# them (the same car model, the same subject): a random intercept per
# cell.  Each network k gets, per cell and response component, the
# shrunk mean residual of the cell's rows in its fold (the rows it did
# not see; group_effects() over the cells within the folds).  The
# location at a cell is then the mean over the folds holding its rows of
# network k's location plus its effect (cell_location()); elsewhere the
# networks' mean, as without.  Kept when it predicts the training rows
# better, each judged by network k with the effect of the other rows of
# its cell in its fold (which that network saw neither of), with at least
# min_choice_rows such rows; else NULL.
# Returns the change of location at all rows (`oof`: out of fold at the
# training rows, at the held-out rows that of new rows) and the fit's
# `cells`: keys, `effect` (cells x d x K) and `member` (cells x K).
cell_fit <- function(prep, R, lres, key) {
  kt <- key[prep$tidx]
  K <- ncol(lres$theta)
  # cells within the folds
  kf <- paste(prep$fold, kt)
  ge <- group_effects(prep, R, kf)
  if (is.null(ge)) return(NULL)
  S <- ge$S
  N <- ge$N
  pos <- N > 0
  A <- ge$oof
  w <- prep$wt
  # the cells of rows of positive weight, and the folds that hold them
  cells <- sort(unique(kt[w > 0]))
  E <- shrink_means(S, N, ge$tau)
  effect <- array(0, c(length(cells), ncol(R), K))
  member <- matrix(FALSE, length(cells), K)
  # each fold-cell's fold and cell, from its first row
  first <- match(rownames(S), kf)
  fk <- prep$fold[first]
  ck <- match(kt[first], cells)
  for (k in seq_len(K)) {
    r <- fk == k & pos & !is.na(ck)
    effect[ck[r], , k] <- E[r, ]
    member[ck[r], k] <- TRUE
  }
  out <- list(key = cells, effect = effect, member = member)
  v <- prep$vidx
  i <- match(key[v], cells)
  hit <- !is.na(i)
  if (any(hit)) {
    X <- prep$Xs[v[hit], , drop = FALSE]
    F <- network_locations(prep$lnet, lres$theta, lres$linears, X)
    A[v[hit], ] <- cell_location(out, i[hit], F) - Reduce(`+`, F) / K
  }
  list(oof = A, cells = out)
}

# A factor of many levels with few training rows each (a subject, a
# batch, a variety), as its indicator columns among the location
# networks' inputs, lets each network follow the few training rows of each
# level, and a linear fit has a coefficient per level to fit to them.  A
# mixed model would take the levels as random effects instead, shrunk
# toward 0 by how much they differ.  So with cell_effects, when some
# factor (a term of its own, fit_prepare()'s `factor_columns`) has at
# least level_min_levels levels among the training rows, and fewer than
# level_max_rows training rows per level on average, the location
# networks are also trained with its columns set to 0, and its levels
# get a random intercept each from the out-of-fold residuals
# (level_fit(), level_effects()), kept as cells keyed by the factor's
# columns.  The fit keeps the one of the two with the lower out-of-fold
# error.  Of several such factors, the one with the most levels is tried.
# Not with mean_residuals, whose residuals the effects would have to
# follow, nor without folds.  When the held-out rows joined the folds
# (holdin_prep()), their residuals enter the effects as the training
# rows' do, and each is scored with its level's effect from the other
# rows (`level_shift` in fit_member(), holdin_draws()), where cell effects
# are not tried (cell_candidates()).  On bench/realdata.R the trial ran on
# ten sets: the 56 varieties of nlme's Wheat2, 4 plots each, became
# effects and its CRPS fell 27%; michelson's 20 runs of 5 (-15%),
# muscle's 21 strips (-37%), Loblolly's 14 seeds (-14%) and barley's 10
# varieties (-6%), with the held-out rows in the folds, too; Oxide +3%,
# singer +0.2%; on Oxboys (26 boys, heights against age) and DNase (11
# runs) the factor stayed among the inputs in every fit or nearly.
level_min_levels <- 8L
level_max_rows <- 25
level_round_ratio <- 2

# The factor whose levels the location tries as effects (the comment
# above): its name, its columns, and the key of every row (its level),
# or NULL.
level_candidates <- function(prep, control) {
  if (!isTRUE(control$cell_effects) || is.null(prep$fold) ||
      isTRUE(control$mean_residuals) || !length(prep$factor_columns)) return(NULL)
  r <- prep$tidx[prep$wt > 0]
  best <- NULL
  for (f in names(prep$factor_columns)) {
    cols <- prep$factor_columns[[f]]
    # a factor has at most one level more than its columns: one that
    # cannot qualify, or beat the best so far, makes no keys (which take
    # a string per row)
    most <- length(cols) + 1L
    if (most < level_min_levels || length(r) >= level_max_rows * most ||
        (!is.null(best) && most <= best$levels)) next
    key <- cell_keys(prep$Xs[, cols, drop = FALSE])
    L <- length(unique(key[r]))
    if (L >= level_min_levels && length(r) < level_max_rows * L &&
        (is.null(best) || L > best$levels))
      best <- list(name = f, cols = cols, key = key, levels = L)
  }
  best
}

# The location networks of prep (cross_fit()) trained with the columns of
# factor `lev` (level_candidates()) set to 0, and the effects of its
# levels on top (level_effects()), fitted in turn as a mixed model's
# backfitting does: the networks on the response, the effects on their
# out-of-fold residuals, the networks again on the response less those
# effects, and the effects again on their residuals.  Where the levels
# differ much, networks that take them as noise learn the predictors'
# part poorly: on 40 levels of 6 rows, an effect per level of SD 1 and
# noise of SD 0.3, the second round lowered the out-of-fold mean square
# error from 0.12 to 0.076 (the factor as inputs: 0.083; on test rows
# from the same law the two did about as well as each other).  The second
# round is left out when the first one's error is more than
# level_round_ratio times `base`, the out-of-fold error of the networks
# with the factor among their inputs, which it cannot come near from
# there: on the fits of bench/realdata.R's sets the second round took the
# first round's error down by at most 39%, and wherever the first was
# more than twice the inputs' (every fit of Oxboys, whose 26 boys grow
# at their own rates; 3.2 to 6.2 times) the second stayed above three
# times it.
# Returns the cross-fit, its out-of-fold predictions with the effects, and
# the effects as cells keyed by the factor's columns (`cols`), which every
# network shares (`member` all TRUE); without effects (level_effects()
# keeps none) the networks alone.
level_fit <- function(prep, lev, settings, threads, verbose, linear, base) {
  # the networks with the effects on top, the effects as cells keyed by
  # the factor's columns
  with_effects <- function(fit, eff) {
    fit$pred <- fit$pred + eff$oof
    list(fit = fit, cells = c(eff$cells, list(cols = lev$cols, factor = lev$name)),
         shift = eff$oof)
  }
  pm <- prep
  pm$Xs[, lev$cols] <- 0
  fit <- masked_fit(pm, prep$Ys, lev, settings, threads, verbose, linear, "")
  eff <- level_effects(prep, prep$Ys - fit$pred, lev$key, ncol(fit$theta))
  if (is.null(eff)) return(list(fit = fit))
  if (oof_loss(prep, prep$Ys, fit$pred + eff$oof) > level_round_ratio * base)
    return(with_effects(fit, eff))
  f2 <- masked_fit(pm, prep$Ys - eff$all, lev, settings, threads, verbose, linear, ", again")
  f2$steps <- fit$steps + f2$steps
  f2$seconds <- fit$seconds + f2$seconds
  e2 <- level_effects(prep, prep$Ys - f2$pred, lev$key, ncol(f2$theta))
  if (is.null(e2)) list(fit = f2) else with_effects(f2, e2)
}

# The location networks' cross-fit on prep `pm`, whose columns of factor
# `lev` are 0, for `target`; then their first layer's weights on those
# columns, which never moved from their start, and the linear parts'
# coefficients there are set to 0, so that the networks ignore the
# factor at any row.
masked_fit <- function(pm, target, lev, settings, threads, verbose, linear, again) {
  fit <- cross_fit(pm, target, pm$ltheta0, pm$lseed, "location", settings, threads,
                   verbose, linear = linear,
                   label = sprintf("location (levels of '%s' as effects%s)", lev$name, again))
  h <- pm$lnet$hidden[1L]
  fit$theta[as.vector(outer(seq_len(h), (lev$cols - 1L) * h, `+`)), ] <- 0
  if (linear) {
    fit$linear[1L + lev$cols, ] <- 0
    fit$linears[1L + lev$cols, , ] <- 0
  }
  fit
}

# Effects of the levels (keys `key` of all rows) from the out-of-fold
# residuals R (all rows x d) of location networks that ignore the factor:
# per level and response component, the shrunk mean residual of the
# level's training rows (group_effects()), as a random intercept in a
# mixed model.  Unlike cell_fit()'s cells, whose rows share every
# predictor and which a network fits at the rows it sees, a level's rows
# carry their effect to every network's residuals alike, so all its
# training rows inform one effect that the K networks share.  Kept when
# it predicts the training rows better, each row judged by the effect of
# the other rows of its level, with at least min_choice_rows such rows;
# else NULL.  Returns the change of location at all rows (`oof`), each
# training row's level's effect from all its level's rows (`all`, what
# the networks' second round subtracts; 0 at the held-out rows), and the
# effects as cells (key, `effect`: levels x d x K, `member`: levels x K,
# all TRUE).
level_effects <- function(prep, R, key, K) {
  kt <- key[prep$tidx]
  ge <- group_effects(prep, R, kt)
  if (is.null(ge)) return(NULL)
  A <- ge$oof
  pos <- ge$N > 0
  lv <- rownames(ge$S)[pos]
  E <- shrink_means(ge$S[pos, , drop = FALSE], ge$N[pos], ge$tau)
  v <- prep$vidx
  i <- match(key[v], lv)
  A[v[!is.na(i)], ] <- E[i[!is.na(i)], ]
  U <- matrix(0, nrow(R), ncol(R))
  it <- match(kt, lv)
  U[prep$tidx[!is.na(it)], ] <- E[it[!is.na(it)], ]
  list(oof = A, all = U, cells = list(key = lv, effect = array(rep(E, K), c(length(lv), ncol(R), K)),
                                      member = matrix(TRUE, length(lv), K)))
}

# How much of the scale network to use, per response component: the power
# g in [0, 1] of s(x)^g (0: a constant scale, 1: the network's) under which
# the residuals r (rows x d) are most likely as Laplace variables of scale
# c s(x)^g, c profiled out: minimise sum w (g log s) + W log(sum w |r| / s^g).
# With cross-fitted (out-of-fold) s this is an honest choice: a scale
# network that only learned noise, and whose out-of-fold values are then
# far off at some rows, gets little weight.
scale_power <- function(R, S, w) {
  g <- seq(0, 1, by = 0.05)
  W <- sum(w)
  vapply(seq_len(ncol(R)), function(k) {
    ls <- log(S[, k])
    a <- abs(R[, k])
    crit <- vapply(g, function(gi) sum(w * gi * ls) + W * log(sum(w * a * exp(-gi * ls))), 0)
    # no finite value: residuals all zero (a constant response)
    if (any(is.finite(crit))) g[which.min(replace(crit, !is.finite(crit), Inf))] else 0
  }, 0)
}

# The scale s(x)^g of a preconditioned fit at standardised rows X (n x d; 1
# without a scale network; g = 1 for fits made before the power existed).
scale_net <- function(pre, X) {
  if (is.null(pre$scale)) return(matrix(1, nrow(X), pre$net$d))
  S <- sweep(regression_net(pre$net, pre$scale, X), 2L, pre$floor, pmax)
  if (is.null(pre$scale_power)) S else sweep(S, 2L, pre$scale_power, `^`)
}

# The centre and scale that map the bridge's standardised draws Z to the
# response's scale at standardised rows X: y_center + y_scale * Z without
# preconditioning (one value per component), and with it
# y_center + y_scale (m(x) + s(x) (center + scale_factor Z)), a centre and
# a scale per row (nrow(X) x d, as vectors); for a constant response
# (object$constant: the constant, NA for other columns) the constant and 0.
# With preconditioning also the networks' m(x) and s(x) (matrices), which
# a bridge that sees them takes as inputs (location_features()).
draw_scale <- function(object, X) {
  s <- object$scaling
  yc <- as.double(s$y_center)
  ys <- as.double(s$y_scale)
  pre <- object$precondition
  cv <- if (is.null(object$constant)) rep(NA_real_, length(yc)) else object$constant
  const <- !is.na(cv)
  if (is.null(pre))
    return(list(center = rep(ifelse(const, cv, yc), each = nrow(X)),
                scale = rep(ifelse(const, 0, ys), each = nrow(X))))
  m <- location_net(pre, X)
  s_x <- scale_net(pre, X)
  C <- sweep(m + sweep(s_x, 2L, pre$center, "*"), 2L, ys, "*") + rep(yc, each = nrow(X))
  S <- sweep(s_x, 2L, ys * pre$scale_factor, "*")
  # a constant response: every draw is the constant
  C[, const] <- rep(cv[const], each = nrow(X))
  S[, const] <- 0
  list(center = as.double(C), scale = as.double(S), m = m, s = s_x)
}

# The symmetric (ZCA) whitening of the bridge's target: from the weighted
# covariance C = V diag(l) V' of its training rows R (n x d, columns of
# mean about 0 and variance 1 after standardisation), whiten =
# V diag(l')^(-1/2) V' and its inverse mix = V diag(l')^(1/2) V', where
# l' = pmax(l, 1e-4 mean(l)) keeps the map finite for collinear or
# constant columns.  The bridge learns R %*% whiten; its draws Z map back
# as Z %*% mix (both matrices are symmetric).
decorrelation <- function(R, w) {
  w <- w / sum(w)
  C <- crossprod(R * sqrt(w))
  e <- eigen(C, symmetric = TRUE)
  l <- pmax(e$values, 1e-4 * max(mean(e$values), 1e-12))
  V <- e$vectors
  list(whiten = V %*% (t(V) / sqrt(l)), mix = V %*% (t(V) * sqrt(l)))
}
