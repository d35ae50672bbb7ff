# A linear part in the law (sbcg_control(linear_mix = TRUE)).
#
# On small or nearly linear data a Gaussian linear model is hard to beat,
# and the networks, the bridge and the recalibration each add some noise
# of their own.  A fit of one response may then mix into its law the
# predictive law of a linear model with constant variance: a share 1 - w
# of each row's draws comes from the Student-t law of least squares on the
# fit's own scale (the support's), mapped back to the response as the
# bridge's draws are.  The weight w is chosen out of fold on the training
# rows, from the folds of the cross-fitted location and scale networks:
# each row's law from the fit is the law the preconditioning gives it
# (its location and scale from the networks that did not see it, with the
# other training rows' standardised residuals, as oof_crps()), its law
# from the linear model that of least squares on the other folds, and w
# is the weight, on a grid of 0.05 from linear_min_weight to 1, whose
# mixture of the two scores the lowest CRPS over those rows.

# Rows and atoms used to choose the weight: at most this many of each.
linear_rows <- 400L
# Quantiles that stand for a row's Student-t law in the choice.
linear_atoms <- 100L
# The grid of weights, and the least weight of the fit's own law: at most
# a quarter of the draws linear.  With any share allowed,
# bench/realdata.R's sets of 24 to 48 rows lost as often as they gained,
# by up to 11% (bench/HISTORY.md, item "A Gaussian linear law in the
# mix"); so did a share beyond the bound wherever it scored lower by two
# standard errors.  Only where the fit's own law scores out of fold at least 1.5
# times the linear law's CRPS (on 15 rows of 11 predictors 8 times; at
# most 1.16 on the first fold of the 128 sets below 1000 rows of
# bench/realdata.R's eight panels) may the share be larger.
linear_grid <- seq(0, 1, by = 0.05)
linear_min_weight <- 0.75
linear_gross <- 1.5
linear_gross_se <- 2

# Least squares of the standardised responses Ys[rows] on the design of
# the standardised predictors Xs[rows, ] with weights w (intercept only
# when there are too few rows for the predictors, or with `intercept`):
# the coefficients of the columns kept (`cols`), the residual scale, the
# degrees of freedom and the inverse of the weighted design's R factor,
# for the Student-t predictive law mu = x'b, scale sigma sqrt(1 + x'
# (X'WX)^-1 x).
linear_law <- function(Xs, Ys, rows, w, intercept = FALSE) {
  X1 <- design(Xs, rows)
  if (intercept || nrow(X1) <= ncol(X1) + 1L) X1 <- X1[, 1L, drop = FALSE]
  f <- stats::lm.wfit(X1, Ys[rows], w)
  r <- f$rank
  keep <- f$qr$pivot[seq_len(r)]
  n <- sum(w > 0)
  df <- max(1L, n - r)
  list(cols = keep, coef = unname(f$coefficients[keep]),
       sigma = sqrt(sum(w * f$residuals^2) / df), df = df,
       rinv = backsolve(qr.R(f$qr)[seq_len(r), seq_len(r), drop = FALSE], diag(r)))
}

# The centre and scale of the Student-t law of `lin` at the standardised
# rows Xs (all of them).
linear_moments <- function(lin, Xs) {
  X1 <- design(Xs)[, lin$cols, drop = FALSE]
  h <- rowSums((X1 %*% lin$rinv)^2)
  list(mu = drop(X1 %*% lin$coef), sd = lin$sigma * sqrt(1 + h))
}

# The mixture's CRPS per row, for weight w of the atoms F (rows x a) and
# 1 - w of G (rows x b), from the terms of CRPS(P, y) = E|X - y| -
# E|X - X'| / 2: their mean distances to y, within each set and between
# the two.
mix_terms <- function(F, G, y) {
  gini <- function(A) {
    A <- row_sort(A)
    m <- ncol(A)
    drop(A %*% (2 * seq_len(m) - m - 1)) * 2 / m^2
  }
  cross <- vapply(seq_len(nrow(F)), function(i) {
    g <- sort(G[i, ])
    cg <- c(0, cumsum(g))
    m <- length(g)
    x <- F[i, ]
    k <- findInterval(x, g)
    mean(x * k - cg[k + 1L] + (cg[m + 1L] - cg[k + 1L]) - x * (m - k)) / m
  }, 0)
  list(AF = rowMeans(abs(F - y)), AG = rowMeans(abs(G - y)), BFF = gini(F), BGG = gini(G),
       BFG = cross)
}
mix_crps <- function(tm, w) {
  w * tm$AF + (1 - w) * tm$AG -
    (w^2 * tm$BFF + (1 - w)^2 * tm$BGG + 2 * w * (1 - w) * tm$BFG) / 2
}

# The weight of the fit's own law (its index in linear_grid), from the
# terms `tm` of the rows' mixture CRPS (mix_terms()) and the rows' weights
# wj: the lowest mean CRPS for w >= linear_min_weight; the lowest of all
# where the fit's own law is far worse than the linear law (its CRPS at
# least linear_gross times as large) and the lowest beats the bound's by
# more than linear_gross_se standard errors of the rows' paired
# differences.  Also the mean CRPS at every weight.
linear_choice <- function(tm, wj) {
  # the rows' CRPS at each weight (rows x weights)
  R <- matrix(vapply(linear_grid, function(v) mix_crps(tm, v), wj), length(wj))
  crps <- colSums(wj * R) / sum(wj)
  best <- which.min(replace(crps, linear_grid < linear_min_weight - 1e-9, Inf))
  low <- which.min(crps)
  if (low != best && crps[length(crps)] >= linear_gross * crps[1L]) {
    dif <- R[, best] - R[, low]
    mw <- sum(wj * dif) / sum(wj)
    se <- sqrt(sum(wj * (dif - mw)^2) / sum(wj) / max(1, length(dif) - 1))
    if (mw > linear_gross_se * se) best <- low
  }
  list(crps = crps, best = best)
}

# The linear part of a fit (the comment at the top), or NULL when the
# mixture's out-of-fold CRPS is lowest with the fit's law alone (w = 1).
# prep: the fit's preparation (its folds; with held-out rows in the folds,
# those too), oof: the preconditioning's out-of-fold location, scale and
# standardised residuals (fit_precondition()), Y: the responses on their
# own scale.  The law itself is fitted to all training rows.
linear_mixture <- function(prep, oof, support, Y) {
  if (is.null(oof) || is.null(prep$fold) || length(prep$tidx) < 3L) return(NULL)
  holdin <- isTRUE(prep$holdin)
  rows <- if (holdin) c(prep$tidx, prep$vidx) else prep$tidx
  fold <- if (holdin) c(prep$fold, prep$vfold) else prep$fold
  w <- if (holdin) prep$wall else prep$wt
  Ys <- prep$Ys[, 1L]
  sy <- prep$sy
  to_y <- function(z) support_inverse(support, z * sy$scale[1L] + sy$center[1L])
  # the rows judged and the residuals that stand for the fit's law
  pick <- function(n, m) if (n <= m) seq_len(n) else unique(round(seq(1, n, length.out = m)))
  j <- pick(length(rows), linear_rows)
  ut <- oof$u[prep$tidx]
  pool <- sort(ut)[pick(length(ut), linear_rows)]
  q <- (seq_len(linear_atoms) - 0.5) / linear_atoms
  # per row, the pool less one atom: its own residual when the pool holds
  # it, else one chosen by the row
  pool_less <- function(r) {
    at <- match(oof$u[r], pool)
    pool[-(if (is.na(at)) 1L + r %% length(pool) else at)]
  }
  parts <- lapply(sort(unique(fold[j])), function(k) {
    jk <- j[fold[j] == k]
    i <- rows[jk]
    lin <- linear_law(prep$Xs, Ys, rows[fold != k], w[fold != k])
    mo <- linear_moments(lin, prep$Xs[i, , drop = FALSE])
    G <- to_y(outer(mo$mu, rep(1, linear_atoms)) + outer(mo$sd, stats::qt(q, lin$df)))
    F <- to_y(t(vapply(i, function(r) oof$m[r] + oof$s[r] * pool_less(r), pool[-1L])))
    list(j = jk, F = matrix(F, length(i)), G = matrix(G, length(i)),
         intercept = identical(lin$cols, 1L))
  })
  j <- unlist(lapply(parts, `[[`, "j"))
  F <- do.call(rbind, lapply(parts, `[[`, "F"))
  G <- do.call(rbind, lapply(parts, `[[`, "G"))
  y <- Y[rows[j], 1L]
  wj <- w[j]
  ch <- linear_choice(mix_terms(F, G, y), wj)
  crps <- ch$crps
  best <- ch$best
  if (linear_grid[best] >= 1) return(NULL)
  # the law the folds judged: intercept only if a fold's law was (with
  # few rows, least squares on all the training rows' predictors could
  # keep them all with a degree of freedom or two)
  intercept <- any(vapply(parts, `[[`, NA, "intercept"))
  c(linear_law(prep$Xs, Ys, prep$tidx, prep$wt, intercept),
    list(y_center = sy$center[1L], y_scale = sy$scale[1L], weight = linear_grid[best],
         crps_fit = crps[length(crps)], crps_linear = crps[1L], crps_mix = crps[best],
         rows = length(j)))
}

# Which of n draws (n x rows: rows with ids rowid) are the linear law's,
# for a share q, the call's seed cseed and groups of gs draws
# (sample_linear()).  The row's phase has a step of its own: with the
# step of deal_offsets(), the rows whose few draws were linear would be
# those whose deal starts at the same member, and the fit's remaining
# draws would come from its pooled bridges in unequal shares.
linear_draws <- function(n, rowid, cseed, q, gs = 1L) {
  share_draws(n, seed_phase(cseed[2L], rowid, 0.4142135623730951), q, gs)
}

# Which of n draws (n x rows) a share q of each row's falls on, by groups
# of gs draws, from the rows' phases o in [0, 1): group j of a row is
# chosen when floor((j + 1) q + o) > floor(j q + o) (linear_draws(),
# direct_draws()).
share_draws <- function(n, o, q, gs = 1L) {
  grp <- (seq_len(n) - 1L) %/% gs
  floor(outer(grp + 1, o, function(a, b) a * q + b)) > floor(outer(grp, o, function(a, b) a * q + b))
}

# Draws of a fit with a linear part (sample_raw()'s arguments and chain
# order): the fit's own draws, of which a share 1 - w of each row's are
# then the linear law's.  Which draws those are, and their values, depend
# on the row (rowid), the call's seed and the draw's place alone, so that
# a row's draws do not depend on the other rows of the call, and the first
# m draws of a call are those of a call of m draws.  Draws come in groups
# (of `strata` draws for stratified draws, each group from one law, so
# that it keeps its strata; else of one): group j of a row is linear when
# floor((j + 1) (1 - w) + o) > floor(j (1 - w) + o), o in [0, 1) from the
# row and the seed, which spreads the share evenly over a row's groups and
# over rows.  The linear draw at place i is the Student-t quantile at
# (v + i a) mod 1, a the golden ratio's fractional part and v from the row
# and the seed: a low-discrepancy sequence, whose draws spread over the law
# more evenly than independent ones.
sample_linear <- function(object, X, rowid, n, g, cseed, threads, block, progress, shared,
                          strata) {
  lin <- object$linear
  inner <- object
  inner$linear <- NULL
  r <- sample_raw(inner, X, rowid, n, g, cseed, threads, block, progress = progress,
                  shared = shared, strata = strata)
  L <- which(linear_draws(n, rowid, cseed, 1 - lin$weight, if (strata > 1L) strata else 1L))
  if (!length(L)) return(r)
  mo <- linear_moments(lin, X)
  v <- seed_phase(cseed[1L], rowid, 0.5698402909980532)
  # the linear draws alone: draw i (from 0) of row j sits at (j - 1) n + i + 1
  j <- (L - 1L) %/% n + 1L
  U <- (v[j] + ((L - 1L) %% n) * 0.6180339887498949) %% 1
  Z <- (mo$mu[j] + mo$sd[j] * stats::qt(U, lin$df)) * lin$y_scale + lin$y_center
  draws <- r$draws
  draws[L] <- response_draws(object, Z)
  list(draws = draws)
}

# Whether `lin` is a usable linear part of `object` (check_fit()): columns
# of its design (the intercept and the predictors), finite coefficients,
# scale, degrees of freedom and R factor's inverse that match them, a
# weight in [0, 1), one response.
linear_ok <- function(lin, object) {
  tryCatch({
    p <- object$net$p
    r <- length(lin$cols)
    is.list(lin) && identical(as.numeric(object$net$d), 1) && r >= 1L &&
      is.numeric(lin$cols) && !anyNA(lin$cols) && !anyDuplicated(lin$cols) &&
      all(lin$cols %in% seq_len(p + 1L)) &&
      is.numeric(lin$coef) && length(lin$coef) == r && all(is.finite(lin$coef)) &&
      is.numeric(lin$sigma) && length(lin$sigma) == 1L && is.finite(lin$sigma) && lin$sigma >= 0 &&
      is.numeric(lin$df) && length(lin$df) == 1L && is.finite(lin$df) && lin$df >= 1 &&
      is.matrix(lin$rinv) && identical(dim(lin$rinv), c(r, r)) && all(is.finite(lin$rinv)) &&
      is.numeric(lin$weight) && length(lin$weight) == 1L && lin$weight >= 0 && lin$weight < 1 &&
      is.numeric(lin$y_center) && length(lin$y_center) == 1L && is.finite(lin$y_center) &&
      is.numeric(lin$y_scale) && length(lin$y_scale) == 1L && is.finite(lin$y_scale)
  }, error = function(e) FALSE)
}

# What print() and summary() say of a linear part.
linear_line <- function(lin) {
  sprintf("Linear part: %s%% of the draws from a Gaussian linear model's Student-t law (%g degrees of freedom), chosen out of fold on %d training rows: CRPS %s for the mixture against %s for the networks' law and %s for the linear model's",
          format(100 * (1 - lin$weight)), lin$df, as.integer(lin$rows),
          format(signif(lin$crps_mix, 4)), format(signif(lin$crps_fit, 4)),
          format(signif(lin$crps_linear, 4)))
}
