# Cell effects (sbcg_control(cell_effects)): rows that share all their
# predictors' values get a shrunken random intercept on top of the
# location networks when it predicts the folds' rows better.

# 40 cells (x1 in 1:8, x2 in 1:5), 10 rows each, a smooth trend in x1 and
# an effect per cell of SD 1 that no smooth function of x1, x2 follows;
# noise of SD 0.3.
cell_data <- function(seed) {
  set.seed(seed)
  g <- expand.grid(x1 = 1:8, x2 = 1:5)
  g$u <- rnorm(nrow(g))
  d <- g[rep(seq_len(nrow(g)), each = 10), ]
  d$y <- 0.5 * d$x1 + d$u + rnorm(nrow(d), sd = 0.3)
  rownames(d) <- NULL
  list(d = d, cells = g)
}

test_that("cell effects are kept for data with a random effect per cell, and move its means", {
  cd <- cell_data(1)
  ctl <- small_control(epochs = 30, direct_share = 0)
  on <- sbfit(y ~ x1 + x2, cd$d, control = ctl, seed = 1, support = "real")
  off <- sbfit(y ~ x1 + x2, cd$d, control = replace(ctl, "cell_effects", FALSE), seed = 1,
               support = "real")
  pc <- on$precondition$cells
  expect_false(is.null(pc))
  # format 10: its two bridges are pooled; the first alone is format 8
  expect_identical(on$format, 10L)
  expect_identical(sbcg:::fit_format(sbcg:::member_object(on, 1L)), 8L)
  expect_identical(nrow(pc$effect), 40L)
  expect_null(off$precondition$cells)
  expect_false(off$precondition$tried_cells)
  expect_match(paste(capture.output(print(on)), collapse = " "),
               "effects of 40 cells of rows with the same predictors", fixed = TRUE)
  # the conditional means at the 40 cells against the cells' true means:
  # each cell's effect is estimated from about 9 training rows of noise SD
  # 0.3 (standard error 0.1), so an RMSE of 0.3 is three standard errors;
  # without the effects the networks follow no more than the smooth part
  # of the cells' spread of SD 1
  truth <- 0.5 * cd$cells$x1 + cd$cells$u
  m_on <- rowMeans(sbsample(on, cd$cells, ndraws = 2000, seed = 2, format = "matrix"))
  m_off <- rowMeans(sbsample(off, cd$cells, ndraws = 2000, seed = 2, format = "matrix"))
  rmse <- function(m) sqrt(mean((m - truth)^2))
  expect_lt(rmse(m_on), 0.3)
  expect_lt(rmse(m_on), rmse(m_off) / 2)
  # saved and read back, the fit draws the same
  f <- tempfile(fileext = ".rds")
  saveRDS(on, f)
  expect_identical(sbsample(readRDS(f), cd$cells[1:3, ], ndraws = 20, seed = 3),
                   sbsample(on, cd$cells[1:3, ], ndraws = 20, seed = 3))
})

test_that("at a cell the location is its folds' networks plus their effects; elsewhere unchanged", {
  cd <- cell_data(2)
  # one bridge, without the predictors: its draws move with the location only
  fit <- sbfit(y ~ x1 + x2, cd$d, control = small_control(epochs = 30, bridge_inputs = "none",
                                                         direct_share = 0),
               seed = 1, support = "real")
  pre <- fit$precondition
  expect_false(is.null(pre$cells))
  K <- ncol(pre$location)
  expect_identical(dim(pre$cells$effect), c(40L, 1L, K))
  expect_identical(dim(pre$cells$member), c(40L, K))
  # effects only from folds that hold rows of the cell
  expect_true(all(pre$cells$effect[, 1L, ][!pre$cells$member] == 0))
  bare <- fit
  bare$precondition$cells <- NULL
  bare$format <- sbcg:::fit_format(bare)
  expect_true(bare$format < 8L)
  # a row between the cells, and a cell's row
  nd <- data.frame(x1 = c(4.5, 3), x2 = c(2.5, 4))
  a <- sbsample(fit, nd, ndraws = 50, seed = 5, format = "matrix")
  b <- sbsample(bare, nd, ndraws = 50, seed = 5, format = "matrix")
  expect_identical(a[1, ], b[1, ])
  # at the cell: the mean over the member folds k of network k's location
  # (its own weights and linear part) plus its effect, computed here from
  # the stored weights
  X <- sbcg:::newdata_matrix(fit, nd[2, ])
  i <- match(sbcg:::cell_keys(X), pre$cells$key)
  expect_false(is.na(i))
  ks <- which(pre$cells$member[i, ])
  loc <- vapply(ks, function(k) {
    h <- X
    for (l in seq_along(pre$net$hidden)) {
      lay <- sbcg:::net_layers(pre$net, pre$location[, k])[[l]]
      h <- h %*% t(lay$weight) + rep(lay$bias, each = nrow(h))
      h <- h / (1 + exp(-h))
    }
    last <- sbcg:::net_layers(pre$net, pre$location[, k])[[length(pre$net$hidden) + 1L]]
    out <- h %*% t(last$weight) + last$bias
    out + cbind(1, X) %*% pre$linear_folds[, , k] + pre$cells$effect[i, 1L, k]
  }, 0)
  m_bare <- sbcg:::location_net(bare$precondition, X)
  expect_equal(unname(a[2, ] - b[2, ]),
               unname(rep((mean(loc) - m_bare[1, 1]) * fit$scaling$y_scale, 50)),
               tolerance = 1e-5)
})

expect_cells_left_out <- function(d, ctl, tried)
  expect_trial_left_out(d, ctl, "cell_effects", "tried_cells", "cells", tried)

test_that("fits without repeated predictor values, or with cell_effects = FALSE, are unchanged", {
  ctl <- small_control(epochs = 10)
  expect_cells_left_out(gauss_data(300, 3), ctl, tried = FALSE)
  # repeated values without a cell effect (a straight line and noise): the
  # trial rejects the effects (the estimates are pure noise, which the
  # honest out-of-fold check sees), and the fit is the one without it
  set.seed(4)
  d2 <- data.frame(x = rep(1:40, each = 8))
  d2$y <- d2$x / 20 + rnorm(nrow(d2), sd = 0.5)
  c1 <- expect_cells_left_out(d2, ctl, tried = TRUE)
  expect_match(paste(capture.output(print(c1)), collapse = " "), "no cell effects", fixed = TRUE)
})

test_that("cells whose rows all have weight zero get no effect", {
  cd <- cell_data(3)
  w <- ifelse(cd$d$x1 == 1 & cd$d$x2 == 1, 0, 1)
  fit <- sbfit(y ~ x1 + x2, cd$d, weights = w, control = small_control(epochs = 30),
               seed = 1, support = "real")
  pc <- fit$precondition$cells
  expect_false(is.null(pc))
  expect_identical(nrow(pc$effect), 39L)
  expect_true(all(rowSums(pc$member) >= 1))
  X <- sbcg:::newdata_matrix(fit, data.frame(x1 = 1, x2 = 1))
  expect_true(is.na(match(sbcg:::cell_keys(X), pc$key)))
})

test_that("malformed cell effects and settings are refused", {
  cd <- cell_data(1)
  fit <- sbfit(y ~ x1 + x2, cd$d, control = small_control(epochs = 10), seed = 1,
               support = "real")
  expect_false(is.null(fit$precondition$cells))
  bad <- fit
  bad$precondition$cells$effect <- bad$precondition$cells$effect[-1L, , , drop = FALSE]
  expect_error(sbsample(bad, cd$cells[1:2, ], ndraws = 5), "'object\\$precondition' is malformed")
  bad <- fit
  bad$precondition$cells$effect[1L] <- NaN
  expect_error(sbsample(bad, cd$cells[1:2, ], ndraws = 5), "malformed")
  bad <- fit
  bad$precondition$cells$member[1L, ] <- FALSE
  expect_error(sbsample(bad, cd$cells[1:2, ], ndraws = 5), "malformed")
  bad <- fit
  bad$format <- 5L
  expect_error(sbsample(bad, cd$cells[1:2, ], ndraws = 5), "format")
})

test_that("the cells' precheck skips the keys only where no cell could hold the share", {
  # the rule on the keys themselves, as cell_candidates() applies it
  by_keys <- function(prep) {
    key <- sbcg:::cell_keys(prep$Xs)
    kt <- key[prep$tidx]
    if (mean(duplicated(kt) | duplicated(kt, fromLast = TRUE)) >= sbcg:::cell_min_share &&
        length(unique(kt)) >= sbcg:::cell_min_cells) key
  }
  ctl <- sbcg_control()
  set.seed(3)
  n <- 1000
  tidx <- setdiff(seq_len(n), seq(5, n, by = 10))
  # designs whose rows share their values at 0% to 50%, around the 10%
  # threshold, with repeats that differ beyond the keys' 10 significant
  # digits (the same keys, other doubles) or not at all
  tried <- 0L
  for (rep_share in c(0, 0.06, 0.09, 0.13, 0.2, 0.5)) for (jitter in c(0, 1e-12)) {
    m <- round(rep_share * n / 2)
    X <- matrix(rnorm(n * 3), n, 3)
    if (m > 0) {
      src <- seq_len(m)
      X[n - m + src, ] <- X[src, ] * (1 + jitter * runif(3 * m))
    }
    prep <- list(Xs = X, tidx = tidx, fold = rep_len(1:5, length(tidx)))
    want <- by_keys(prep)
    got <- sbcg:::cell_candidates(prep, ctl)
    expect_identical(got, want, info = paste(rep_share, jitter))
    tried <- tried + !is.null(want)
  }
  # the keys are made, and tried, in the designs of 13% and more
  expect_identical(tried, 6L)
  # 40 cells of 3 rows whose values differ at 1e-11 relative: one key per
  # cell, and the precheck lets them through
  X <- matrix(rep(1:40, each = 3) * (1 + 1e-11 * runif(120)), 120, 1)
  prep <- list(Xs = X, tidx = 1:120, fold = rep_len(1:5, 120))
  expect_identical(length(unique(sbcg:::cell_keys(X))), 40L)
  expect_identical(sbcg:::cell_candidates(prep, ctl), sbcg:::cell_keys(X))
  expect_equal(sbcg:::near_share(c(1, 1 + 1e-12, 5)), 2 / 3)
  expect_identical(sbcg:::near_share(c(3, 1, 2)), 0)
})
