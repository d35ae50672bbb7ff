# Recalibration of a fit's predictive laws from the PIT values of its
# held-out rows (sbcg_control(recalibrate = TRUE), the default for one
# response), and with 10 to 199 of them of training rows too
# (training_pits()).
#
# The PIT of a held-out row is its predictive CDF at the observed
# response, F(y | x); if the laws are right, the PITs are uniform.  A
# central interval of level L covers the rows whose score |2 F(y | x) - 1|
# is at most L, so the share of held-out scores at most L estimates its
# coverage.  The map H from a score to that share, H(s) = #{scores <= s} /
# (n + 1), is the split-conformal calibration of the score |F(y | x) -
# 1/2| (Chernozhukov, Wuthrich and Zhu 2021, "Distributional conformal
# prediction", PNAS 118): the law whose central interval of level L is the
# fit's interval of level H^{-1}(L) covers a new row with probability L,
# up to 1 / (n + 1), when the held-out rows and the new one are
# exchangeable.  Here H is linear between a few quantiles of the scores
# (recalibration_map()), and it is shrunk toward the identity, the map of
# a fit that needs none, by as much as the scores fail to show that the
# fit needs one: H_w(s) = w H(s) + (1 - w) s with w = max(0, 1 - 1 / (6
# W2)), W2 the Cramer-von Mises statistic of the n scores against the
# uniform law, and at most n / (n + 25) (recal_weight()). The integrated
# squared error of H_w about the scores' true law is about w^2 / (6 n) +
# (1 - w)^2 B, B the integrated squared gap between that law and the
# uniform one; it is least at w = n B / (n B + 1/6), and as E(W2) is about
# n B + 1/6, this w is estimated by (W2 - 1/6) / W2, a positive-part
# James-Stein weight.  A fit whose held-out scores are as uniform as
# chance allows keeps its own law (W2 below 1/6: w = 0); at the 5%
# critical value of W2, 0.46, w = 0.64, and at 1, beyond the 0.5% one, w =
# 0.83.  The first version of the map took a fixed w = n / (n + 25)
# whatever the scores said: with 200 held-out rows nine-tenths of a map
# whose own error at the 50% level is about 3.5 points.  Cross-validation,
# which pools five fits, averages that noise away, but one fit keeps it:
# over the 97 sets of bench/realdata.R, the root mean square of each fit's
# coverage error beyond binomial noise was 3.9 points at 50% with the
# fixed weight, 3.7 without a map and 3.4 with this weight, at the same
# CRPS and with as few per-set coverages off as the fixed weight gave
# (bench/HISTORY.md, item "The map weighted by the evidence"). The
# scores of the held-out rows are not quite those of new rows: the rows
# chose the bridge (and the epoch of the one that sees the predictors),
# and on bench/realdata.R's sets their 50% intervals covered about one
# point more of them than of the test rows (52.7% against 51.6%, pooled;
# 3 points on `ggplot2::diamonds`).  Other weights, measured over the
# 139 sets of its eight panels, did no better (bench/HISTORY.md, item
# "Other weights for the held-out map").

# The map is symmetric: a central interval of level L becomes one of level
# H^{-1}(L) of the same law, with the same share above and below.  It
# changes widths, not the centre: a one-sided map, fitted to the PITs
# themselves, was measured too and did no better (bench/HISTORY.md, item
# "Recalibration from the held-out rows").
#
# The map acts on the bridge's standardised draws Z, before each row's
# centre and scale, so that every draw is mapped on its own (the draws stay
# independent, and the first m of a call are those of a call with m): with
# F the law of Z, pooled over the held-out rows, a draw z becomes
# T(z) = F^{-1}(G^{-1}(F(z))), where G is the symmetric map of levels with
# 2 G(u) - 1 = sign(2u - 1) H_w(|2u - 1|).  When the bridge does not see
# the predictors, Z has the same law at every row and T recalibrates each
# row's law exactly; when it does, T is that of the pooled law, which the
# rows' laws differ from only in shape.  T is kept as a monotone
# piecewise-linear map between quantiles of F, moved by a constant beyond
# them.  A fit keeps all this as `recalibration`: the knots `s` (scores,
# 0 to 1) and `level` (H_w there, increasing), those of T (`z`, `tz`), the
# number of held-out rows, W2 (`cvm`) and w (`weight`); maps saved by
# earlier versions have a fixed pseudo-count `prior` instead of the last
# two.  On fits with fewer than min_choice_rows held-out rows T also holds
# the Student-t tails of tail_map(), whose degrees of freedom the map
# keeps as `tails`.  Only fits of one response whose draws have a centre
# and scale per row (preconditioned fits) get a map.  A fit with a linear
# part (linear.R) learns it from the PITs of its mixture, the law it
# samples, and applies it to the bridge's draws alone: a mixture whose
# intervals are too wide gets a bridge whose intervals are narrower, which
# corrects the mixture's widths in part (a share w of its draws).

# The weight w of the map learned from the n held-out scores `sc` (in
# [0, 1]): max(0, 1 - 1 / (6 W2)), W2 the Cramer-von Mises statistic of the
# scores against the uniform law (its mean is 1/6 when they are uniform),
# but at most n / (n + recal_prior), the weight of a fixed shrinkage as if
# recal_prior uniform scores were added: W2 is noisy itself on a handful
# of rows (on the 26 rows of MASS::road in bench/realdata.R, 2 held-out
# rows per fold, the weight without that bound raised the CRPS by 10%).
# `cvm`: W2 of the scores, when the caller has it.
# `n`: the number of scores, or with case weights their effective number
# (sum w)^2 / sum w^2.
recal_weight <- function(sc, cvm = cvm_uniform(sc), n = length(sc)) {
  min(n / (n + recal_prior), max(0, 1 - 1 / (6 * cvm)))
}

# The pseudo-count of uniform scores of that bound.
recal_prior <- 25

# The Cramer-von Mises statistic n * int (F_n(u) - u)^2 du of the values v
# (in [0, 1]) against the uniform law.  With weights w, F_n is the
# weighted distribution function and n the effective number of values,
# (sum w)^2 / sum w^2; the integral is taken exactly, piece by piece
# between the sorted values.
cvm_uniform <- function(v, w = NULL) {
  n <- length(v)
  if (is.null(w)) return(1 / (12 * n) + sum((sort(v) - (2 * seq_len(n) - 1) / (2 * n))^2))
  o <- order(v)
  v <- v[o]
  p <- w[o] / sum(w)
  Fv <- c(0, cumsum(p))
  a <- c(0, v)
  b <- c(v, 1)
  # int_a^b (F - u)^2 du on each piece where F is constant
  sum(w)^2 / sum(w^2) * sum(((Fv - a)^3 - (Fv - b)^3) / 3)
}

# Quantiles of x at probabilities p under weights w: the weighted
# distribution function's inverse, linear between the mid-points of each
# value's weight.
wquantile <- function(x, w, p) {
  # (one value is every quantile: approx() needs two)
  if (length(x) == 1L) return(rep(x, length(p)))
  o <- order(x)
  x <- x[o]
  w <- w[o]
  stats::approx((cumsum(w) - w / 2) / sum(w), x, p, rule = 2, ties = "ordered")$y
}

# The probability levels of F at which T's knots sit.
recal_levels <- c(5e-4, 1e-3, 2e-3, 5e-3, seq(0.01, 0.99, by = 0.005), 0.995, 0.998, 0.999, 0.9995)

# The map from the held-out PIT values `pit` and standardised draws Z of
# the fit at the held-out rows (NULL without PITs, or when Z has too few
# distinct values to place T's knots).  H is linear between knots at the
# quantiles of the held-out scores at levels k / K (type 6, the quantile
# of level l lying at rank l (n + 1)), with K = 2, 10 or 20 for fewer than
# 50, fewer than 100 and more held-out rows: at least 5 scores per piece,
# and knots at the levels 0.5 and 0.9 once there are 50.  A knot at every
# score would put spikes in the recalibrated densities wherever two
# held-out scores lie close together.  `weight`: w, by default
# recal_weight() of the scores.  With case weights, `pw` (one per PIT) and
# `zw` (one per draw of Z) weight the quantiles and the statistic, and the
# effective number of rows stands for n.  `nk`: the number of held-out
# rows that sets K, when training rows' PITs join theirs (training_pits()):
# those make the map's levels more precise, not its shape finer (a map of
# 20 pieces read from a few hundred PITs put steps into the densities).
recalibration_map <- function(pit, Z, weight = NULL, pw = NULL, zw = NULL, nk = NULL) {
  ok <- is.finite(pit)
  pit <- pit[ok]
  if (!is.null(pw)) pw <- pw[ok]
  ok <- is.finite(Z)
  Z <- Z[ok]
  if (!is.null(zw)) zw <- zw[ok]
  n <- length(pit)
  if (n == 0L || length(Z) < 2L * length(recal_levels)) return(NULL)
  ne <- if (is.null(pw)) n else sum(pw)^2 / sum(pw^2)
  if (is.null(nk)) nk <- ne
  K <- if (nk >= 100) 20L else if (nk >= 50) 10L else 2L
  l <- seq(0, 1, length.out = K + 1L)
  sc <- pmin(1, abs(2 * pit - 1))
  li <- l[-c(1L, K + 1L)]
  s <- c(0, if (is.null(pw)) stats::quantile(sc, li, type = 6, names = FALSE) else
    wquantile(sc, pw, li), 1)
  s <- pmin(1, pmax(0, s))
  cvm <- cvm_uniform(sc, pw)
  w <- if (is.null(weight)) recal_weight(sc, cvm, ne) else weight
  level <- w * l + (1 - w) * s
  # (scores that differ only by rounding, as PITs on a grid of 1 / (m + 1)
  # can, make one knot)
  keep <- c(TRUE, diff(s) > 1e-9 & diff(level) > 1e-9)
  map <- list(s = s[keep], level = level[keep], n = n, cvm = cvm, weight = w)
  zq <- function(p) if (is.null(zw)) stats::quantile(Z, p, names = FALSE, type = 7) else
    wquantile(Z, zw, p)
  z <- zq(recal_levels)
  tz <- zq(recal_inverse(map, recal_levels))
  k <- increasing_knots(z, tz)
  if (length(k) < 2L) return(NULL)
  map$z <- z[k]
  map$tz <- tz[k]
  map
}

# The knots (indices) of T kept where z and tz both increase: from the
# first, each next one that lies above the last kept in both.  Levels
# closer than the resolution of Z's draws, or ties among them, would
# otherwise make T flat or undefined there.
increasing_knots <- function(z, tz) {
  k <- 1L
  for (i in seq_along(z)[-1L])
    if (z[i] > z[k[length(k)]] && tz[i] > tz[k[length(k)]]) k <- c(k, i)
  k
}

# A map of the law of the standardised draws Z alone, learned from no
# held-out rows (its levels unchanged: s and level 0 and 1, n, W2 and w
# 0): T sends Z's quantiles at recal_levels to `tz`, with the knots kept
# where both increase (levels where Z's draws tie make one knot, as in
# recalibration_map()), and the fields `...` (tail_map()'s `tails`,
# deconvolution_map()'s `deconv`).  NULL with fewer than two such knots.
law_map <- function(Z, tz, ...) {
  z <- stats::quantile(Z, recal_levels, names = FALSE, type = 7)
  k <- increasing_knots(z, tz)
  if (length(k) < 2L) return(NULL)
  c(list(s = c(0, 1), level = c(0, 1), n = 0L, cvm = 0, weight = 0, z = z[k], tz = tz[k]),
    list(...))
}

# The PITs the map is learned from: those of holdout_scores(), and with
# more than 250 held-out rows those of further rows, up to `rows` in all,
# 100 draws each as for the first 250 (the map's coverage at level L has a
# standard error of sqrt(L (1 - L) / n): 1.9 points at 90% from 250 rows,
# 0.9 from 1000).
# Returns list(pit, w), w their case weights (NULL for an unweighted fit).
recal_pits <- function(fit, prep, Y, threads, rows = 1000L) {
  h <- fit$holdout
  if (length(prep$vidx) <= h$n) return(list(pit = h$pit, w = h$pit_w))
  more <- holdout_scores(fit, prep, Y, threads, m = 100L, rows = rows - h$n, skip = h$n)
  list(pit = c(h$pit, more$pit), w = if (!is.null(h$pit_w)) c(h$pit_w, more$pit_w))
}

# PITs of training rows for the map of a fit with fewer than
# loss_choice_rows held-out rows: the map learned from a few dozen
# held-out PITs alone is noisy (at 16 rows the 50% coverage it reads has
# a standard error of 12.5 points), while the training rows' PITs are
# nearly those of new rows when each row is drawn through the one
# cross-fitted location and scale network that did not see it: the
# bridge learned exactly those out-of-fold residuals, but it learns one
# law of the standardised residual (or one that moves with the location
# and scale alone), which cannot follow each row's own.  On 48 sets of
# 150 to 1000 rows of bench/realdata.R's panels, with two seeds, the
# training rows' central 50% and 90% intervals, before any map, covered
# 50.7% and 91.1% of them (seed 100: 50.0% and 90.7%) where the test
# rows' covered 50.7% and 89.9% (50.6% and 90.0%); a map from the
# held-out and training PITs together left 4 and 4 of the 96 per-set
# coverages beyond two binomial standard errors of nominal, against 8 and
# 5 from the held-out rows alone (bench/HISTORY.md, item "Training rows'
# PITs in the map").  At
# most `rows` training rows (a random subset from the held-out seed),
# `m` draws each, with the random streams of the rows after the held-out
# ones.  Returns list(pit, w) as recal_pits() does, or NULL for fits
# whose held-out rows joined the folds, or with loss_choice_rows or more
# of them, for ensembles, and for fits without cross-fitted networks or
# with cell effects (whose training rows' residuals the networks alone
# do not give).
training_pits <- function(fit, prep, Y, threads, rows = 500L, m = 200L) {
  pre <- fit$precondition
  nv <- length(prep$vidx)
  if (nv == 0L || nv >= loss_choice_rows || !is.null(prep$vfold) || is.null(pre) ||
      !is.null(pre$cells) || !is.matrix(pre$location) || ncol(pre$location) < 2L ||
      fit_ensemble_size(fit$control) > 1L)
    return(NULL)
  t <- prep$tidx
  fold <- prep$fold
  k <- seq_along(t)
  hs <- sum(prep$hseed %% 65536L)
  if (length(t) > rows) k <- sort(with_seed(hs + 1L, sample.int(length(t), rows)))
  D <- fold_draws(fit, prep$Xs[t[k], , drop = FALSE], fold[k], nv + k - 1, m,
                  sampler_grid(fit, warn = FALSE), prep$hseed, threads)
  # (rows x draws)
  M <- t(matrix(D, m))
  u <- if (is_count_fit(fit)) with_seed(hs + 2L, stats::runif(length(k)))
  sc <- score_core(list(M), Y[t[k], , drop = FALSE], 0.5, c(0.5, 0.9), colnames(Y), t[k],
                   discrete = is_count_fit(fit), u = u)
  ok <- is.finite(sc$pit)
  list(pit = sc$pit[ok], w = if (isTRUE(prep$weighted)) prep$wt[k][ok])
}

# Standardised draws of `fit` at the held-out rows of `prep` (those of
# holdout_scores(), with its random streams), about 25,000 in all and at
# least 100 per row: list(z, w), w the case weight of each draw's row
# (NULL for an unweighted fit).
holdout_standardised <- function(fit, prep, threads, rows = holdout_rows(1L)) {
  v <- holdout_subset(prep, rows)
  if (!length(v)) return(list(z = numeric(), w = NULL))
  m <- as.integer(min(1000, max(100, ceiling(25000 / length(v)))))
  z <- sample_raw(fit, prep$Xs[v, , drop = FALSE], seq_along(v) - 1, m,
                  sampler_grid(fit, warn = FALSE), prep$hseed, threads, standardised = TRUE)$draws
  # the draws come row by row, m each
  list(z = z, w = holdout_weights(prep, v, m))
}

# 25,000 standardised draws of a fit whose bridge does not see x, whose
# law is then the same at every row (the first row's inputs, 25 streams of
# 1000 draws from the held-out rows' seed).
law_draws <- function(fit, prep, threads) {
  sample_raw(fit, prep$Xs[rep(1L, 25L), , drop = FALSE], 0:24, 1000L,
             sampler_grid(fit, warn = FALSE), prep$hseed, threads, standardised = TRUE)$draws
}

# Student-t tails for the bridge's law on the smallest fits (fewer than
# min_choice_rows held-out rows, whose one bridge does not see x): the law
# of Z becomes that of its scale mixture c Z sqrt(nu / W), W chi-square
# with nu = n - p - 1 degrees of freedom (n training rows, p predictor
# columns), c such that the median of |Z| stays as it was.  For a Gaussian
# Z that is the Student-t law of a linear model's prediction interval: its
# spread is learned from n residuals and so is itself uncertain, which the
# tails of a law learned from a few dozen residuals otherwise leave out.
# Keeping the median of |Z| leaves the central 50% intervals where they
# were, and widens the 90% ones by 3.5% at nu = 17, 7% at nu = 9.  On
# bench/realdata.R's 65 sets of fewer than 125 rows (bench/HISTORY.md,
# item "Student-t tails on the smallest fits") the 90% intervals of those
# fits were too short (pooled coverage 87.8%), and with the tails they covered
# more at the same CRPS.  The map acts as the recalibration map does, on
# each standardised draw (T(z) between knots at the quantiles of Z, with
# `tails` = nu); the held-out map is learned on top of it (compose_maps()).
# Z: standardised draws of the fit.
tail_map <- function(Z, nu) {
  Z <- Z[is.finite(Z)]
  if (length(Z) < 2L * length(recal_levels)) return(NULL)
  nu <- max(3, nu)
  # 2000 quantiles of Z, each scaled by 200 quantiles of sqrt(nu / W)
  zq <- stats::quantile(Z, (seq_len(2000L) - 0.5) / 2000, names = FALSE, type = 7)
  f <- sqrt(nu / stats::qchisq((seq_len(200L) - 0.5) / 200, nu))
  M <- outer(zq, f)
  cc <- stats::median(abs(zq)) / stats::median(abs(M))
  tz <- stats::quantile(cc * M, recal_levels, names = FALSE, type = 7)
  law_map(Z, tz, tails = nu)
}

# The location networks' spread taken out of the bridge's law
# (sbcg_control(deconvolve = TRUE)).  The bridge learns each training
# row's residual from the one location network that did not see it, while
# a new row gets the mean of the K networks, which errs less: if the
# networks' errors at x have variance v and covariance c, a single
# network's mean square error exceeds the mean's by (K - 1) (v - c) / K,
# the expected mean square V(x) of the K networks about their mean there.
# The residual law the bridge learns is thus the law of the new rows'
# residuals convolved with a noise of variance about V(x), which widens
# its middle most (the network error, roughly Gaussian, adds to a law
# with heavier tails); a common factor on the scale would narrow the
# tails as much as the middle.  The map takes that noise out of the law
# by deconvolution: with tau_i^2 = V(x_i) in units of the standardised
# residual at the training rows, and Z the fit's standardised draws there
# (the law the bridge learned), the law G of E in Z = E + N(0, tau^2) is
# estimated as a mixture of Gaussians of width deconv_width on a grid
# (weights by EM, the mixing law's maximum likelihood over the draws; Laird
# 1978, "Nonparametric maximum likelihood estimation of a mixing
# distribution", JASA 73), and each draw z goes to G^{-1}(F(z)), F the law
# of Z pooled over the rows, between knots at the levels of
# recal_levels as the recalibration map.  The held-out rows, which no
# network saw and which get the mean of the networks as new rows do, then
# score the law with the map, and the held-out map is learned on top of it
# (compose_maps()).  Not on fits whose held-out rows are scored through
# the networks that did not see them (prep$holdin), whose residuals have
# the single network's error.

# Width of the mixture's Gaussians (standardised units), bins of Z and
# groups of tau^2 of the EM, grid points of G, EM iterations; the least
# mean tau^2 worth a map, and the most tau^2 of one row (the standardised
# law has variance about 1: networks that disagree by more than half of
# it at a row say more about their own noise there than about the law's
# width, and taking it all out would leave a law of the mixture's width
# alone).
deconv_width <- 0.25
deconv_bins <- 120L
deconv_groups <- 6L
deconv_grid <- 100L
deconv_iter <- 300L
deconv_min <- 1e-3
deconv_max <- 0.5

# tau_i^2 at standardised rows X of the preconditioning `pre` of one
# response: the mean square of the K location networks about their mean,
# in units of the standardised residual (over s(x)^g and the residuals'
# scale factor).  The cell effects, per fold, are left out.  NULL without
# cross-fitted location networks.
network_spread <- function(pre, X) {
  if (is.null(pre) || !is.matrix(pre$location) || ncol(pre$location) < 2L) return(NULL)
  L <- network_locations(location_arch(pre), pre$location, pre$linear_folds,
                         ple_inputs(pre$ple, X))
  A <- vapply(L, function(m) m[, 1L], numeric(nrow(X)))
  A <- matrix(A, nrow(X))
  V <- rowMeans((A - rowMeans(A))^2)
  V / (scale_net(pre, X)[, 1L] * pre$scale_factor[1L])^2
}

# The deconvolution map from standardised draws Z and each draw's tau^2
# (t2, each taken at most deconv_max); NULL when there is nothing to take
# out (mean tau^2 below deconv_min) or too few distinct draws.  The EM runs on the draws binned
# (deconv_bins bins between their 0.05% and 99.95% quantiles) within
# groups of tau^2 (deconv_groups, by quantiles, each at its mean), from
# weights that follow the draws' own histogram.  The map keeps the mean
# tau^2 as `deconv`.
deconvolution_map <- function(Z, t2) {
  ok <- is.finite(Z) & is.finite(t2)
  Z <- Z[ok]
  t2 <- pmin(deconv_max, pmax(0, t2[ok]))
  if (length(Z) < 2L * length(recal_levels) || mean(t2) < deconv_min) return(NULL)
  h <- deconv_width
  lim <- stats::quantile(Z, c(5e-4, 1 - 5e-4), names = FALSE)
  if (!(lim[2L] > lim[1L])) return(NULL)
  edges <- seq(lim[1L], lim[2L], length.out = deconv_bins + 1L)
  mid <- (edges[-1L] + edges[-length(edges)]) / 2
  b <- findInterval(pmin(pmax(Z, lim[1L]), lim[2L]), edges, all.inside = TRUE)
  gq <- unique(stats::quantile(t2, seq(0, 1, length.out = deconv_groups + 1L), names = FALSE))
  grp <- if (length(gq) < 2L) rep(1L, length(t2)) else
    findInterval(t2, gq, all.inside = TRUE)
  # the bins of every group stacked: their counts, and the density of
  # each grid point's Gaussian, widened by the group's noise, at them
  s2 <- tapply(t2, grp, mean)
  cnt <- tabulate((match(grp, as.integer(names(s2))) - 1L) * deconv_bins + b,
                  length(s2) * deconv_bins)
  g <- seq(lim[1L], lim[2L], length.out = deconv_grid)
  P <- do.call(rbind, lapply(sqrt(h^2 + s2), function(sd)
    stats::dnorm(outer(mid, g, "-") / sd) / sd))
  live <- cnt > 0
  cnt <- cnt[live]
  P <- P[live, , drop = FALSE]
  # start from the draws' histogram at the grid points
  p <- tabulate(findInterval(Z, c(-Inf, (g[-1L] + g[-deconv_grid]) / 2, Inf)), deconv_grid)
  p <- (p + 1) / sum(p + 1)
  N <- sum(cnt)
  for (it in seq_len(deconv_iter))
    p <- p * drop(crossprod(P, cnt / pmax(drop(P %*% p), 1e-300))) / N
  # G's quantiles at the map's levels, from its distribution function on a
  # fine grid
  xs <- seq(lim[1L] - 6 * h, lim[2L] + 6 * h, length.out = 4000L)
  Gx <- drop(stats::pnorm(outer(xs, g, "-") / h) %*% p) / sum(p)
  keep <- c(TRUE, diff(Gx) > 0)
  tz <- stats::approx(Gx[keep], xs[keep], recal_levels, rule = 2, ties = "ordered")$y
  law_map(Z, tz, deconv = mean(t2))
}

# The fit `fit` (one response, from fit_member()) with the deconvolution
# map composed after its map (the Student-t tails, if any), from about
# 10,000 standardised draws at up to 500 of its training rows (their own
# random streams, apart from the held-out rows'); the fit as it is when
# there is nothing to take out.  The held-out rows then score the law with
# the map (sbfit_core()).
deconvolve_fit <- function(fit, prep, threads) {
  t <- prep$tidx
  if (isTRUE(prep$holdin) || length(t) < 2L) return(fit)
  rows <- t[unique(round(seq(1, length(t), length.out = min(length(t), 500L))))]
  t2 <- network_spread(fit$precondition, prep$Xs[rows, , drop = FALSE])
  if (is.null(t2) || mean(t2) < deconv_min) return(fit)
  m <- as.integer(max(20L, ceiling(10000 / length(rows))))
  seed <- c(prep$hseed[1L], bitwXor(prep$hseed[2L], 0x2545F491L))
  Z <- sample_raw(fit, prep$Xs[rows, , drop = FALSE], seq_along(rows) - 1, m,
                  sampler_grid(fit, warn = FALSE), seed, threads, standardised = TRUE)$draws
  inner <- fit$recalibration
  if (!is.null(inner)) Z <- recal_apply(inner, Z)
  # the draws come row by row, m each
  dm <- deconvolution_map(Z, rep(t2, each = m))
  if (is.null(dm)) return(fit)
  fit$recalibration <- if (is.null(inner)) dm else compose_maps(inner, dm)
  fit
}

# The map that applies `inner` (the tails of tail_map(), or the
# deconvolution map of deconvolve_fit(), or both) and then `outer` (the
# deconvolution map, or the held-out map of recalibration_map(), learned
# from draws that went through `inner`): outer's description (knots s and
# level, n, W2, w) with the knots of T at inner's where the composition
# increases, and inner's `tails` and `deconv` (outer's own `deconv` if it
# has one).  `inner` alone when there is no outer map.
compose_maps <- function(inner, outer) {
  if (is.null(outer)) return(inner)
  tz <- recal_apply(outer, inner$tz)
  k <- increasing_knots(inner$z, tz)
  if (length(k) < 2L) return(inner)
  outer$z <- inner$z[k]
  outer$tz <- tz[k]
  outer$tails <- inner$tails
  if (is.null(outer$deconv)) outer$deconv <- inner$deconv
  outer
}

# The probability levels u (0 to 1) of the fit's own law at which the
# recalibrated law puts the levels v: G^{-1}(v).
recal_inverse <- function(map, v) {
  a <- 2 * v - 1
  s <- stats::approx(map$level, map$s, abs(a), rule = 2, ties = "ordered")$y
  (1 + sign(a) * s) / 2
}

# The knots of T as the C sampler takes them (empty without a map).
recal_knots <- function(object) {
  rc <- object$recalibration
  if (is.null(rc)) double() else c(rc$z, rc$tz)
}

# T applied to standardised draws Z (a vector or a matrix; non-finite
# draws stay as they are), as the C sampler applies it: the tests check
# the one against the other.
recal_apply <- function(map, Z) {
  z <- map$z
  tz <- map$tz
  K <- length(z)
  out <- Z
  ok <- is.finite(Z)
  v <- Z[ok]
  tv <- stats::approx(z, tz, v, rule = 2, ties = "ordered")$y
  lo <- v < z[1L]
  hi <- v > z[K]
  tv[lo] <- v[lo] + (tz[1L] - z[1L])
  tv[hi] <- v[hi] + (tz[K] - z[K])
  out[ok] <- tv
  out
}

# Checks a fit's map (NULL: none).
recalibration_ok <- function(map) {
  if (is.null(map)) return(TRUE)
  knots <- function(a, b) is.numeric(a) && is.numeric(b) && length(a) >= 2L &&
    length(b) == length(a) && all(is.finite(a)) && all(is.finite(b)) &&
    all(diff(a) > 0) && all(diff(b) > 0)
  ok <- tryCatch(is.list(map) && knots(map$s, map$level) &&
                   map$s[1L] == 0 && map$level[1L] == 0 &&
                   map$s[length(map$s)] == 1 && map$level[length(map$level)] == 1 &&
                   knots(map$z, map$tz),
                 error = function(e) FALSE)
  isTRUE(ok)
}
