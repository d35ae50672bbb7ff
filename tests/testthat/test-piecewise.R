# Piecewise-linear encodings (sbcg_control(piecewise)): numeric predictors
# with many distinct values also reach the location networks as a
# piecewise-linear basis, kept when the out-of-fold error is clearly lower.

# A mean that steps between 0 and 1 at x = 2.5, 5 and 7.5, which a
# short-trained network on x alone smooths into a ramp; noise of SD 0.1.
step_data <- function(n, seed) {
  set.seed(seed)
  x <- runif(n, 0, 10)
  data.frame(x = x, y = floor(x / 2.5) %% 2 + 0.1 * rnorm(n))
}

test_that("the encodings are kept for a mean that bends many times, and follow it", {
  d <- step_data(400, 1)
  ctl <- small_control(hidden = c(32, 32), epochs = 20)
  on <- sbfit(y ~ x, d, control = ctl, seed = 1, support = "real")
  off <- sbfit(y ~ x, d, control = replace(ctl, "piecewise", FALSE), seed = 1, support = "real")
  ple <- on$precondition$ple
  expect_false(is.null(ple))
  # format 10: its two bridges are pooled; the first alone is format 9
  expect_identical(on$format, 10L)
  expect_identical(sbcg:::fit_format(sbcg:::member_object(on, 1L)), 9L)
  expect_identical(ple$cols, 1L)
  # 360 training rows: 18 bins, with edges at the quantiles 0, 1/18, ...,
  # 1 of their standardised x: 19 increasing edges within the range of x,
  # with 20 training rows (and some of the 40 held-out ones) in each bin
  X <- sbcg:::newdata_matrix(on, d)
  b <- ple$knots[[1L]]
  expect_length(b, 19L)
  expect_true(all(diff(b) > 0) && b[1L] >= min(X) && b[19L] <= max(X))
  expect_true(all(tabulate(findInterval(X[, 1L], b, rightmost.closed = TRUE), 18L) >= 19L))
  expect_identical(ple$net$p, 19L)
  expect_null(off$precondition$ple)
  expect_false(off$precondition$tried_ple)
  expect_true(on$precondition$tried_ple)
  expect_match(paste(capture.output(print(on)), collapse = " "),
               "piecewise-linear encodings of 1 predictor column", fixed = TRUE)
  # the conditional means at 8 points 0.6 or more from the steps against
  # the true 0 / 1: without the encodings the location networks stop on a
  # ramp through the steps (RMSE 0.45 on four data sets), with them they
  # follow the steps (0.10-0.14)
  g <- data.frame(x = c(0.6, 1.9, 3.1, 4.4, 5.6, 6.9, 8.1, 9.4))
  truth <- floor(g$x / 2.5) %% 2
  rmse <- function(fit) sqrt(mean((predict(fit, g) - truth)^2))
  expect_lt(rmse(on), rmse(off) / 2)
  expect_lt(rmse(on), 0.25)
  # saved and read back, the fit draws the same
  f <- tempfile(fileext = ".rds")
  saveRDS(on, f)
  expect_identical(sbsample(readRDS(f), g[1:3, , drop = FALSE], ndraws = 20, seed = 3),
                   sbsample(on, g[1:3, , drop = FALSE], ndraws = 20, seed = 3))
})

test_that("the number of bins grows with the training rows, from 8 to 24", {
  # 8 below 180 rows, then one bin per 20 rows, at most 24
  n <- c(2, 40, 179, 180, 199, 200, 360, 479, 480, 5000)
  expect_identical(vapply(n, sbcg:::ple_count, 0L),
                   c(8L, 8L, 8L, 9L, 9L, 10L, 18L, 23L, 24L, 24L))
  # and at most one input per 4 rows over all columns, but never below 8
  expect_identical(sbcg:::ple_count(364, 11), 8L)
  expect_identical(sbcg:::ple_count(1000, 5), 24L)
  expect_identical(sbcg:::ple_count(1000, 12), 20L)
  expect_identical(sbcg:::ple_count(5000, 5), 24L)
  # 100 training rows: 8 bins (11 held-out rows: too few to judge the
  # fit's calibration, which it says)
  expect_warning(fit <- sbfit(y ~ x, step_data(112, 3), seed = 1, support = "real",
                              control = small_control(hidden = c(32, 32), epochs = 20)),
                 "held-out rows")
  expect_false(is.null(fit$precondition$ple))
  expect_length(fit$precondition$ple$knots[[1L]], 9L)
})

test_that("the location with encodings is the networks' mean on the encoded inputs", {
  d <- step_data(400, 2)
  fit <- sbfit(y ~ x, d, control = small_control(hidden = c(32, 32), epochs = 20), seed = 1,
               support = "real")
  pre <- fit$precondition
  expect_false(is.null(pre$ple))
  # (rows 1 and 5 lie beyond the training range, where the networks may
  # move the law enough to warn)
  nd <- data.frame(x = c(-1, 0.3, 4.2, 9.9, 12))
  X <- suppressWarnings(sbcg:::newdata_matrix(fit, nd), classes = "sbcg_extrapolation")
  # the encodings by hand: 1 for the bins below x, the share of its own
  # bin, 0 above (and 0 or 1 beyond the training range)
  b <- pre$ple$knots[[1L]]
  E <- t(vapply(X[, 1L], function(x) {
    k <- findInterval(x, b, rightmost.closed = TRUE)
    out <- as.numeric(seq_len(length(b) - 1L) < k)
    if (k >= 1L && k < length(b)) out[k] <- (x - b[k]) / (b[k + 1L] - b[k])
    out
  }, numeric(length(b) - 1L)))
  XL <- sbcg:::ple_inputs(pre$ple, X)
  expect_equal(unname(XL), unname(cbind(X, E)), tolerance = 1e-12)
  # each cross-fitted network evaluated here from its stored weights
  net <- pre$ple$net
  K <- ncol(pre$location)
  loc <- Reduce(`+`, lapply(seq_len(K), function(k) {
    h <- XL
    lays <- sbcg:::net_layers(net, pre$location[, k])
    for (l in seq_along(net$hidden)) {
      h <- h %*% t(lays[[l]]$weight) + rep(lays[[l]]$bias, each = nrow(h))
      h <- h / (1 + exp(-h))
    }
    last <- lays[[length(net$hidden) + 1L]]
    h %*% t(last$weight) + last$bias
  })) / K + cbind(1, XL) %*% pre$linear
  expect_equal(unname(sbcg:::location_net(pre, X)), unname(loc), tolerance = 1e-5)
})

expect_ple_left_out <- function(d, ctl, tried)
  expect_trial_left_out(d, ctl, "piecewise", "tried_ple", "ple", tried)

test_that("fits where the encodings are not tried, or not kept, are unchanged", {
  ctl <- small_control(epochs = 10)
  # 16 distinct values of x: not tried
  set.seed(5)
  d1 <- data.frame(x = rep(1:16, 20))
  d1$y <- d1$x / 8 + rnorm(nrow(d1))
  expect_ple_left_out(d1, ctl, tried = FALSE)
  # a straight line and noise: tried, and the out-of-fold error is not
  # clearly lower (a line needs no bends)
  c1 <- expect_ple_left_out(gauss_data(300, 3), ctl, tried = TRUE)
  expect_match(paste(capture.output(print(c1)), collapse = " "),
               "no piecewise-linear encodings", fixed = TRUE)
})

test_that("on folds of 200 rows or more a regression on the first fold screens the trial", {
  # 1500 rows: 1080 training rows in folds of 216, 24 bins; a straight
  # line, where the first fold's residuals regressed on the encodings do
  # not predict that fold better (with seed 1; on 4 of seeds 1-6, and on
  # the other two the trial is not kept), so that no network with the
  # encodings is trained (no progress line for them) and the fit is the
  # one without the encodings, to the bit
  d <- gauss_data(1500, 4)
  ctl <- small_control()
  out <- capture.output(on <- sbfit(y ~ x, d, control = ctl, verbose = TRUE, seed = 1,
                                    support = "real"))
  # (and the bridge on the response itself, a fit of its own: 150 held-out
  # rows)
  expect_length(out, 5 + 5 + 2 + 1)
  expect_match(out[13], "^\r?\\[1/1\\] bridge 1/1 ")
  expect_match(out[5], "^\r?\\[5/17, at most [0-9]+:[0-9]{2} left in this fit\\] location network 5/5: ")
  expect_match(out[6], "^\r?\\[11/17, at most [0-9]+:[0-9]{2} left in this fit\\] scale network 1/5: ")
  expect_true(on$precondition$tried_ple)
  expect_null(on$precondition$ple)
  off <- sbfit(y ~ x, d, control = replace(ctl, "piecewise", FALSE), seed = 1, support = "real")
  expect_identical(on$theta, off$theta)
  expect_identical(on$precondition$location, off$precondition$location)
  # the step law on as many rows: the regression predicts the first fold
  # better, the five networks are trained, and the encodings are kept
  s <- sbfit(y ~ x, step_data(1500, 5), control = small_control(hidden = c(32, 32), epochs = 20),
             seed = 1, support = "real")
  expect_false(is.null(s$precondition$ple))
  expect_identical(ncol(s$precondition$location), 5L)
  # two responses that both step, with weights: the regression screens
  # both columns together, and the encodings are kept
  d2 <- step_data(1500, 6)
  set.seed(2)
  d2$y2 <- 2 * d2$y + 0.1 * rnorm(nrow(d2))
  d2$w <- runif(nrow(d2), 0.5, 2)
  s2 <- sbfit(cbind(y, y2) ~ x, d2, weights = w, seed = 1, support = "real",
              control = small_control(hidden = c(32, 32), epochs = 20))
  expect_false(is.null(s2$precondition$ple))
  expect_true(all(is.finite(sbsample(s2, data.frame(x = c(1, 6)), ndraws = 20,
                                     format = "matrix"))))
})

test_that("the screen's regression, a block of rows at a time, is the one on all rows", {
  # a network with a linear part on two predictors, its residuals on 700
  # training rows regressed on 16 encodings, scored on 300 fold rows; the
  # screen encodes 97 rows at a time, the reference all at once
  set.seed(8)
  n <- 1000
  X <- matrix(rnorm(2 * n), n)
  Y <- matrix(sin(3 * X[, 1]) + X[, 2] + 0.2 * rnorm(n))
  net <- list(kind = "regression", d = 1L, p = 2L, hidden = c(8L, 8L),
              activation = "silu", freq = double(), time_map = "linear")
  theta <- sbcg:::init_theta(net)
  B <- matrix(c(0.1, 0.5, 0.9), 3)
  screen <- list(theta = matrix(theta), linears = array(B, c(3, 1, 1)),
                 pred = sbcg:::regression_net(net, theta, X) + sbcg:::linear_part(B, X))
  rows <- list(train = 301:n, valid = 1:300, wt = runif(700, 0.5, 1.5),
               wv = runif(300, 0.5, 1.5))
  ple <- list(cols = 1:2, knots = lapply(1:2, function(j) quantile(X[, j], 0:8 / 8,
                                                                   names = FALSE)))
  prep <- list(Xs = X, lnet = net)
  got <- sbcg:::ple_screen(prep, ple, rows, screen, Y, linear = TRUE, size = 97)
  tr <- rows$train
  G <- sbcg:::regression_net(net, theta, X[tr, ]) + sbcg:::linear_part(B, X[tr, ])
  C <- sbcg:::linear_fit(sbcg:::ple_inputs(ple, X[tr, ], append = FALSE), Y[tr, , drop = FALSE] - G,
                         rows$wt)
  va <- rows$valid
  P <- screen$pred[va, , drop = FALSE]
  L <- sbcg:::linear_part(C, sbcg:::ple_inputs(ple, X[va, ], append = FALSE))
  want <- c(with = sum(rows$wv * (Y[va] - (P + L))^2), without = sum(rows$wv * (Y[va] - P)^2))
  # sums in another order: equal up to rounding
  expect_equal(got, want, tolerance = 1e-10)
  expect_identical(names(got), c("with", "without"))
  # the encodings explain part of what this network missed
  expect_true(sbcg:::ple_gain(got))
  # the blocks cover the rows once, in order
  b <- sbcg:::row_blocks(700, 97)
  expect_identical(unlist(b), 1:700)
  expect_identical(lengths(b), c(rep(97L, 7), 21L))
})

test_that("malformed encodings and settings are refused", {
  d <- step_data(400, 1)
  fit <- sbfit(y ~ x, d, control = small_control(hidden = c(32, 32), epochs = 20), seed = 1,
               support = "real")
  expect_false(is.null(fit$precondition$ple))
  nd <- data.frame(x = 1:2)
  draw <- function(f) sbsample(f, nd, ndraws = 5)
  bad <- fit
  bad$precondition$ple$knots[[1L]] <- rev(bad$precondition$ple$knots[[1L]])
  expect_error(draw(bad), "'object\\$precondition' is malformed")
  bad <- fit
  bad$precondition$ple$knots[[1L]][2L] <- NA
  expect_error(draw(bad), "malformed")
  bad <- fit
  bad$precondition$ple$cols <- 2L
  expect_error(draw(bad), "malformed")
  bad <- fit
  bad$precondition$ple$knots[[1L]] <- bad$precondition$ple$knots[[1L]][-1L]
  expect_error(draw(bad), "malformed")
  bad <- fit
  bad$precondition$ple$net$hidden <- c(16L, 16L)
  expect_error(draw(bad), "malformed")
  bad <- fit
  bad$format <- 8L
  expect_error(draw(bad), "format")
  bare <- fit
  bare$precondition$ple <- NULL
  expect_error(draw(bare), "malformed")
  expect_error(sbcg_control(piecewise = NA), "'piecewise'")
  expect_error(sbcg_control(piecewise = "yes"), "'piecewise'")
})
