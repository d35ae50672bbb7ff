# A fit's judgement of itself: the scores of its predictive distributions
# on the rows it held out (the validation rows, which no network was
# trained on; with fewer than 10 of them, scored through the location and
# scale networks that did not see each, holdin_draws()), next to a Gaussian
# linear model fitted to the training rows, and the warnings sbfit() gives
# when they look wrong.

# Scores on the held-out rows of `prep` (at most `rows` of them, the first
# in a random order drawn from the fit's seed) for the fit `fit`, from `m`
# draws per row: mean CRPS (and that of the Gaussian linear model),
# coverage of the central 50% and 90% intervals, the PIT values; NULL
# without held-out rows.  250 rows give the 90% coverage a standard error
# of 2 points at a cost of 25,000 chains.  With d > 16 response components
# each row gives d scores and a chain costs about d times as much, so the
# rows go down to 4000 / d, but not below 50 (d = 256: 50 rows, 12,800
# scores).  Fewer rows get more draws each (about 25,000 chains in all up
# to d = 16, 25,000 * 16 / d beyond; between 100 and 1000 per row): on a
# few dozen rows the Monte Carlo error of 100 draws per row is not small
# next to the differences the scores are read for (the choice of support,
# the recalibration map, the warnings).  Y holds the
# responses on their own scale (before the map of a support), and the
# draws are mapped back by fit$support: the scores are on the scale the
# user reads.  The coverage of a central interval is the share of rows
# whose PIT lies in it: that judges the fit's law, where the interval
# between the type-7 quantiles of m draws covers less than its level even
# when the law is right (90% with 100 draws: (95.05 - 5.95) / 101 = 88.2%
# of new rows, against 91 / 101 for the PIT of rank r, (r - 0.5) / 101).
# The PITs of counts are randomised (score_core()'s `u`): many draws
# equal the observed count, and the mid-point PIT of a tie is not uniform
# even when the law is right, so the recalibration map learned from it
# (and the coverage read from it) would be wrong; the quantiles' intervals
# of whole-number draws, whose end atoms count whole, cover more than
# their level.
#
# `skip`: leave out the first `skip` rows of that order (their random
# streams too), for scores of further rows (recal_pits()).
holdout_scores <- function(fit, prep, Y, threads, m = NULL, rows = holdout_rows(ncol(Y)),
                           skip = 0L) {
  v <- holdout_subset(prep, rows, skip)
  nv <- length(v)
  if (nv == 0L) return(NULL)
  d <- ncol(Y)
  if (is.null(m)) m <- as.integer(min(1000, max(100, ceiling(25000 * min(1, 16 / d) / nv))))
  # case weights: each scored line (row and component, score_core()'s
  # order) counts by its row's weight; unweighted fits take plain means
  wl <- holdout_weights(prep, v, d)
  prep$vidx <- v
  X <- prep$Xs[v, , drop = FALSE]
  raw <- if (is.null(prep$vfold)) {
    sample_raw(fit, X, skip + seq_len(nv) - 1, m, sampler_grid(fit, warn = FALSE), prep$hseed,
               threads)
  } else {
    holdin_draws(fit, prep, v, X, skip, m, threads)
  }
  N <- nv * m
  Ms <- lapply(seq_len(d), function(k)
    matrix(raw$draws[(k - 1) * N + seq_len(N)], nv, m, byrow = TRUE))
  # ties broken by uniform numbers from the held-out seed and the rows
  # skipped, so that a fit's PITs are the same on every rebuild
  u <- if (is_count_fit(fit))
    with_seed((sum(prep$hseed %% 65536L) + skip) %% .Machine$integer.max, stats::runif(nv))
  sc <- score_core(Ms, Y[v, , drop = FALSE], 0.5, c(0.5, 0.9), colnames(Y), v,
                   discrete = is_count_fit(fit), u = u)
  gauss <- gauss_crps(prep, Y)
  # a constant response (sbfit() says so) draws its constant: its lines,
  # CRPS 0 and PIT 1/2, would only dilute the others' scores
  const <- if (is.null(fit$constant)) rep(FALSE, d) else !is.na(fit$constant)
  live <- rep(!const, nv)
  ok <- !is.na(sc$crps) & (live | all(const))
  if (!is.null(wl)) wl <- wl[ok]
  out <- list(n = nv, draws = m, scale = "response", crps = wmean(sc$crps[ok], wl),
              crps_gauss = wmean(gauss[ok], wl),
              crps_diff_se = wmean_se(sc$crps[ok] - gauss[ok], wl),
              cover50 = pit_cover(sc$pit[ok], 0.5, wl), cover90 = pit_cover(sc$pit[ok], 0.9, wl),
              pit = sc$pit[ok],
              loss_ratio = if (fit$best_epoch > 0)
                fit$history$valid[fit$best_epoch] / fit$history$train[fit$best_epoch] else NA_real_)
  if (!is.null(wl)) {
    out$pit_w <- wl
    out$n_eff <- sum(wl)^2 / sum(wl^2)
  }
  if (!is.null(u)) out$ties <- "random"
  if (!is.null(prep$vfold)) out$out_of_fold <- TRUE
  if (all(const)) out$constant <- TRUE
  if (d > 1L) out$components <- sum(!const) + all(const) * d
  out
}

# Draws at the held-out rows v (standardised predictors X) of a fit whose
# held-out rows joined the cross-fitting folds (holdin_prep()): each row
# through the location and scale of the one network of each kind that did
# not see it (member_fit(), which leaves out cell effects: such fits have
# none, cell_candidates()), with the random stream of its place in the
# order of holdout_scores(), in sample_raw()'s layout.  When the location
# took a factor's levels as effects (level_fit()), each row's location
# moves by its level's effect from the other rows of its level
# (prep$level_shift, per held-out row and component, on the standardised
# scale), through the centre of its own call (a row's draws depend on its
# stream alone, so one call per row gives the same bits as one per fold).
holdin_draws <- function(fit, prep, v, X, skip, m, threads) {
  vi <- match(v, prep$vidx)
  vf <- prep$vfold[vi]
  g <- sampler_grid(fit, warn = FALSE)
  rowid <- skip + seq_along(v) - 1
  if (is.null(prep$level_shift))
    return(list(draws = as.vector(fold_draws(fit, X, vf, rowid, m, g, prep$hseed, threads))))
  d <- fit$net$d
  # draw, row, component: sample_raw()'s order
  D <- array(0, c(m, length(v), d))
  for (j in sort(unique(vf))) {
    mf <- member_fit(fit, j)
    for (ii in which(vf == j)) {
      mi <- mf
      mi$scaling$y_center <- mf$scaling$y_center +
        prep$level_shift[vi[ii], ] * mf$scaling$y_scale
      r <- sample_raw(mi, X[ii, , drop = FALSE], rowid[ii], m, g, prep$hseed, threads)
      D[, ii, ] <- array(r$draws, c(m, 1L, d))
    }
  }
  list(draws = as.vector(D))
}

# Draws of `fit` at standardised rows X, each row through the location and
# scale of the cross-fitted networks of its fold in `fold` (member_fit()),
# with random streams `rowid` (one per row) of the call's seed `cseed`: an
# array (draw, row, component), sample_raw()'s order.  A row's draws depend
# on its stream alone, so one call per fold gives the bits of one per row.
fold_draws <- function(fit, X, fold, rowid, m, g, cseed, threads) {
  d <- fit$net$d
  D <- array(0, c(m, nrow(X), d))
  for (j in sort(unique(fold))) {
    i <- which(fold == j)
    r <- sample_raw(member_fit(fit, j), X[i, , drop = FALSE], rowid[i], m, g, cseed, threads)
    D[, i, ] <- array(r$draws, c(m, length(i), d))
  }
  D
}

holdout_rows <- function(d) if (d <= 16L) 250L else max(50L, as.integer(ceiling(4000 / d)))

# The held-out rows scored: at most `rows` of them after the first `skip`
# in the random order prep$vorder, sorted.
holdout_subset <- function(prep, rows, skip = 0L) {
  v <- prep$vidx[prep$vorder]
  sort(v[skip + seq_len(max(0L, min(length(v) - skip, rows)))])
}

# The CRPS, on the responses' own scale (Y, one column), of the law that
# the preconditioning alone gives each row out of fold: row i's location
# and scale from the networks that did not see it, m_i + s_i u_j, with u_j
# the residuals (in units of their own rows' scale) of the other training
# rows, through the fit's scaling and support; the mean over the training
# and held-out rows, weighted by their weights.  NULL without `oof`
# (fit_precondition(): no preconditioning, or several responses).  On a
# handful of held-out rows support = "auto" compares two fits by it as
# well as by the CRPS of those rows (auto_keeps_alt()).
oof_crps <- function(prep, oof, support, Y) {
  if (is.null(oof)) return(NULL)
  t <- prep$tidx
  rows <- c(t, prep$vidx)
  u <- oof$u[t]
  m <- length(u)
  sy <- prep$sy
  crps <- vapply(seq_along(rows), function(k) {
    i <- rows[k]
    z <- (oof$m[i] + oof$s[i] * (if (k <= m) u[-k] else u)) * sy$scale[1L] + sy$center[1L]
    x <- sort(support_inverse(support, z))
    n <- length(x)
    mean(abs(x - Y[i, 1L])) - sum((2 * seq_len(n) - n - 1) * x) / n^2
  }, 0)
  w <- c(prep$wt, prep$wv)
  sum(w * crps) / sum(w)
}

# The case weights of the held-out rows v of `prep`, each repeated `each`
# times (per response component, or per draw); NULL for an unweighted fit.
holdout_weights <- function(prep, v, each) {
  if (isTRUE(prep$weighted)) rep(prep$wv[match(v, prep$vidx)], each = each)
}

# The share of PIT values in the central interval of probability `level`,
# weighted by w (NULL: unweighted).
pit_cover <- function(pit, level, w = NULL) wmean(abs(pit - 0.5) <= level / 2, w)

# The mean of x weighted by w (NULL: the plain mean), and its standard
# error, sqrt(sum w^2 (x - mean)^2 / (1 - sum w^2)) for weights scaled to
# sum 1 (sd(x) / sqrt(n) for equal weights).
wmean <- function(x, w = NULL) if (is.null(w)) mean(x) else sum(w * x) / sum(w)
wmean_se <- function(x, w = NULL) {
  if (is.null(w)) return(stats::sd(x) / sqrt(length(x)))
  w <- w / sum(w)
  sqrt(sum(w^2 * (x - sum(w * x))^2) / (1 - sum(w^2)))
}

# CRPS at the held-out rows (one per row and component, in the order of
# score_core()) of the Gaussian linear model with constant variance fitted
# by weighted least squares to the training rows (intercept only when
# there are too few rows for the predictors):
# CRPS(N(mu, s^2), y) = s (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)).
gauss_crps <- function(prep, Y) {
  t <- prep$tidx
  v <- prep$vidx
  X1 <- design(prep$Xs, t)
  if (nrow(X1) <= ncol(X1) + 1L) X1 <- X1[, 1L, drop = FALSE]
  out <- vapply(seq_len(ncol(Y)), function(k) {
    f <- stats::lm.wfit(X1, Y[t, k], prep$wt)
    s <- sqrt(sum(prep$wt * f$residuals^2) / max(1, length(t) - f$rank))
    b <- f$coefficients
    b[is.na(b)] <- 0
    mu <- design(prep$Xs, v)[, seq_len(ncol(X1)), drop = FALSE] %*% b
    # (a response without spread: the point mass at mu, CRPS |y - mu|)
    if (!(s > 0)) return(abs(Y[v, k] - mu))
    z <- (Y[v, k] - mu) / s
    s * (z * (2 * stats::pnorm(z) - 1) + 2 * stats::dnorm(z) - 1 / sqrt(pi))
  }, numeric(length(v)))
  as.vector(t(matrix(out, length(v))))
}

# sbfit()'s warnings from the held-out scores h (NULL: no held-out rows);
# `recal`: whether a recalibration map was learned from them.
holdout_warnings <- function(h, recal = FALSE) {
  # a constant response has nothing to judge (sbfit() has said so)
  if (is.null(h) || isTRUE(h$constant)) return(invisible())
  if (h$n < 20L) {
    warnf("only %d held-out rows: too few for the fit to judge its calibration; use sbscore() on other data, or a larger 'control$validation'",
          h$n, class = "sbcg_few_heldout")
    return(invisible())
  }
  # binomial errors of the coverages; with case weights, of n_eff equally
  # weighted rows
  ne <- if (is.null(h$n_eff)) h$n else h$n_eff
  se <- sqrt(0.9 * 0.1 / ne)
  se50 <- sqrt(0.5 * 0.5 / ne)
  fix <- function(how) if (recal)
    sprintf("; the recalibration learned from these rows %s them, but a law this far off deserves a look", how) else ""
  if (h$cover90 < 0.9 - max(3 * se, 0.05)) {
    warnf(paste0("the predictive distributions look too narrow: their 90%% intervals cover %.0f%% of the %d held-out rows (50%% intervals: %.0f%%)",
                 fix("widens")), 100 * h$cover90, h$n, 100 * h$cover50)
  } else if (h$cover90 > 0.9 + max(3 * se, 0.05)) {
    warnf(paste0("the predictive distributions look too wide: their 90%% intervals cover %.0f%% of the %d held-out rows",
                 fix("narrows")), 100 * h$cover90, h$n)
  } else if (abs(h$cover50 - 0.5) > max(3 * se50, 0.1)) {
    # the 90% intervals about right, the middle far off (heavy tails, say)
    wide <- h$cover50 > 0.5
    warnf(paste0("the predictive distributions' middle looks too %s: their 50%% intervals cover %.0f%% of the %d held-out rows (90%% intervals: %.0f%%)",
                 fix(if (wide) "narrows" else "widens")),
          if (wide) "wide" else "narrow", 100 * h$cover50, h$n, 100 * h$cover90)
  }
  # worse than the Gaussian by more than its noise, or by far: a single
  # wild row can make the noise as large as the gap
  if (isTRUE(h$crps > h$crps_gauss + 3 * h$crps_diff_se || h$crps > 2 * h$crps_gauss))
    warnf("on the %d held-out rows the fit scores worse than a Gaussian linear model (CRPS %.4g against %.4g)",
          h$n, h$crps, h$crps_gauss)
  if (is.finite(h$loss_ratio) && h$loss_ratio > 3)
    warnf("the held-out loss is %.1f times the training loss: the fit looks overfitted; try a smaller network or more 'weight_decay' in sbcg_control()",
          h$loss_ratio)
  invisible()
}

# What the maps under the held-out map do (tail_map(), deconvolve_fit()),
# in words; NULL for neither.
inner_maps <- function(recal) {
  parts <- c(if (!is.null(recal$tails))
    sprintf("Student-t tails (%g degrees of freedom)", recal$tails),
    if (!is.null(recal$deconv))
      sprintf("the location networks' spread (%.2g of the standardised residual's variance) taken out",
              recal$deconv))
  if (length(parts)) paste(parts, collapse = " and ")
}

# Lines that print() and summary() show for the held-out scores h of a fit
# (NULL: none held out) and its recalibration map `recal` (NULL: none);
# with `detail`, the PIT histogram by tenths too.  The scores are those of
# the fit's own law, before the map that was learned from them.
format_holdout <- function(h, detail = FALSE, recal = NULL, validation = 0, n_valid = 0,
                           copies = FALSE) {
  if (is.null(h) && isTRUE(n_valid > 0))
    return(sprintf("Held-out rows: %d, not scored (a fit saved by a version of sbcg that did not score them)",
                   n_valid))
  inner <- inner_maps(recal)
  if (is.null(h))
    return(sprintf("Held-out rows: none (%s): the fit cannot judge itself",
                   if (isTRUE(validation > 0)) "too few rows to hold any out" else
                     "control$validation = 0"))
  out <- c(sprintf("Held-out rows (%d, %d draws each%s%s)%s: CRPS %.4g (Gaussian linear model %.4g)%s; 50%% interval covers %.0f%%, 90%% interval %.0f%%%s%s",
                   h$n, h$draws, if (is.null(h$pit_w)) "" else if (copies) ", weighted by the copies' counts"
                   else ", weighted by the case weights",
                   if (isTRUE(h$out_of_fold)) ", in the cross-fitting folds, scored out of fold" else "",
                   if (is.null(recal)) "" else if (is.null(inner)) ", before recalibration" else
                     sprintf(", with %s, before recalibration", inner),
                   h$crps, h$crps_gauss,
                   if (isTRUE(h$components > 1L))
                     sprintf(", means over %d responses on their own scales", h$components) else "",
                   100 * h$cover50, 100 * h$cover90,
                   if (identical(h$ties, "random")) " (from PITs with their ties broken at random)" else "",
                   if (isTRUE(h$constant)) " (a constant response: nothing to judge)" else
                     if (h$n < 20L) " (too few rows to judge)" else ""))
  if (detail) {
    counts <- tabulate(pmin(10L, floor(h$pit * 10) + 1L), 10L)
    out <- c(out, sprintf("  PIT by tenths (%s each if calibrated%s): %s",
                          format(length(h$pit) / 10), if (is.null(h$pit_w)) "" else ", unweighted",
                          paste(counts, collapse = " ")))
  }
  if (!is.null(inner) && recal$n == 0L) {
    # the inner maps alone, when no map could be learned on top
    out <- c(out, sprintf("Recalibration: none learned from the held-out rows; the law is the fit's with %s",
                          inner))
  } else if (!is.null(recal)) {
    own <- 2 * recal_inverse(recal, (1 + c(0.5, 0.9)) / 2) - 1
    how <- if (is.null(recal$weight)) sprintf("shrunk as if %g more were uniform", recal$prior) else
      sprintf("Cramer-von Mises statistic %.2g, weight %.2f", recal$cvm, recal$weight)
    out <- c(out, sprintf("Recalibration: from the PITs of the %d held-out rows%s (%s), the central 50%% and 90%% intervals are the fit's own %.0f%% and %.0f%% ones%s",
                          recal$n, if (is.null(recal$training)) "" else
                            sprintf(" and of %d training rows, each out of fold", recal$training),
                          how, 100 * own[1L], 100 * own[2L],
                          if (is.null(inner)) "" else sprintf(", of its law with %s", inner)))
  }
  out
}
