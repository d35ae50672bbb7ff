# The standardisation and least-squares helpers work a column at a time
# (so that large fits do not hold extra copies of the predictors); they
# must give the numbers of the whole-matrix formulas, to the bit.

test_that("standardize_cols() and apply_scaling() equal their sweep() forms", {
  set.seed(11)
  M <- cbind(a = rnorm(500, 3, 2), b = runif(500), c = rep(7, 500), d = rexp(500) * 1e6)
  s <- sbcg:::standardize_cols(M, TRUE)
  center <- colMeans(M)
  scale <- sqrt(colSums(sweep(M, 2L, center)^2) / (nrow(M) - 1L))
  const <- scale <= 1e-12 * abs(center)
  scale[const] <- 1
  expect_identical(s, list(center = center, scale = scale, const = const))
  expect_identical(unname(const), c(FALSE, FALSE, TRUE, FALSE))
  # a small spread about a small mean is a spread like any other; about a
  # large mean, one below rounding is not
  tiny <- cbind(u = rnorm(50) * 1e-13, v = 1e6 + c(0, 1e-11), w = 0)
  st <- sbcg:::standardize_cols(tiny, TRUE)
  expect_identical(unname(st$const), c(FALSE, TRUE, TRUE))
  expect_identical(st$scale[["u"]], sd(tiny[, "u"]))
  expect_identical(sbcg:::apply_scaling(M, s), sweep(sweep(M, 2L, center), 2L, scale, "/"))
  # an integer matrix comes back as doubles
  Mi <- matrix(1:12, 4L)
  si <- sbcg:::standardize_cols(Mi, TRUE)
  expect_identical(sbcg:::apply_scaling(Mi, si), sweep(sweep(Mi, 2L, si$center), 2L, si$scale, "/"))
  expect_identical(sbcg:::standardize_cols(M, FALSE),
                   list(center = rep(0, 4), scale = rep(1, 4), const = rep(FALSE, 4)))
  # columns to zero: 0 where given, NA staying NA
  Mz <- sbcg:::apply_scaling(cbind(M[1:3, ], e = c(1, NA, 3)), list(center = rep(1, 5), scale = rep(2, 5)),
                             zero = c(3L, 5L))
  expect_identical(Mz[, c(3L, 5L)], cbind(c = c(0, 0, 0), e = c(0, NA, 0)))
  expect_identical(Mz[, 1L], (M[1:3, 1L] - 1) / 2)
})

test_that("fits without standardisation run, and keep their columns as they are", {
  # (the paper's recipe, bench/accuracy.R's sbcg_paper, turns it off)
  d <- gauss_data(200, 23)
  d$z <- 5
  # (a toy fit on raw scales: its held-out warnings are beside the point;
  # without standardisation a constant column is the user's to keep)
  msgs <- character()
  f <- withCallingHandlers(
    sbfit(y ~ x + z, d, seed = 1, support = "real",
          control = small_control(standardize = FALSE, precondition = "none")),
    warning = function(w) {
      msgs <<- c(msgs, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  expect_false(any(grepl("constant", msgs)))
  expect_identical(unname(f$scaling$x_center), c(0, 0))
  expect_identical(unname(f$scaling$x_scale), c(1, 1))
  expect_null(f$scaling$x_const)
  expect_true(all(is.finite(predict(f, data.frame(x = 0, z = 5), probs = 0.5))))
})

test_that("a response of tiny spread is scaled by its SD, and fits as at unit scale", {
  d <- gauss_data(200, 21)
  ctl <- small_control(epochs = 20)
  f1 <- sbfit(y ~ x, d, control = ctl, seed = 1, support = "real")
  dt <- transform(d, y = y * 1e-13)
  ft <- sbfit(y ~ x, dt, control = ctl, seed = 1, support = "real")
  expect_identical(unname(ft$scaling$y_scale), sd(dt$y))
  # the same law up to the factor: the standardised responses differ only
  # by rounding, so the draws agree to far below their spread
  nd <- data.frame(x = c(-1.5, 0, 1.5))
  p1 <- predict(f1, nd, probs = c(0.05, 0.5, 0.95))
  pt <- predict(ft, nd, probs = c(0.05, 0.5, 0.95)) / 1e-13
  expect_lt(max(abs(pt - p1)), 1e-3 * sd(d$y))
})

test_that("rows of newdata well outside the training rows warn that they are extrapolation", {
  # a steep trend with little noise: beyond the range the location moves
  # the law by many times its spread
  set.seed(23)
  x <- runif(200, -2, 2)
  d <- data.frame(x = x, y = 1 + 10 * x + 0.1 * rnorm(200), f = factor(rep(c("a", "b"), 100)))
  # a row of weight 0 far out does not widen the range the fit learned from
  d$x[1] <- 40
  w <- c(0, rep(1, 199))
  f <- sbfit(y ~ x + f, d, weights = w, control = small_control(epochs = 2, validation = 0.2), seed = 1,
             support = "real")
  r <- range(d$x[-1])
  expect_identical(unname(f$scaling$x_range[, "x"]), r)
  expect_identical(unname(f$scaling$x_range[, "fb"]), c(0, 1))
  tenth <- diff(r) / 10
  # a tenth of the width beyond either end is allowed; further is not
  # where the law moves, with the rows and the first one's value named
  inside <- data.frame(x = c(r[1] - 0.9 * tenth, 0, r[2] + 0.9 * tenth), f = "b")
  expect_warning(predict(f, inside, ndraws = 20), NA)
  out <- data.frame(x = c(0, r[1] - 1.1 * tenth, 0.5, r[2] + 1.1 * tenth), f = c("a", "b", "a", "b"))
  expect_identical(sbcg:::moved_rows(f, sbcg:::newdata_matrix(f, out[c(1, 3), ])), c(FALSE, FALSE))
  expect_warning(p <- predict(f, out, ndraws = 20),
                 sprintf("'newdata': 2 row\\(s\\) \\(2, 4\\) lie well outside the predictor values the fit learned from, e.g. row 2 has x = %s where they span %s to %s",
                         format(r[1] - 1.1 * tenth, digits = 4), format(r[1], digits = 4),
                         format(r[2], digits = 4)),
                 class = "sbcg_extrapolation")
  expect_true(all(is.finite(p)))
  # one warning for all the sampling functions, and none for missing rows
  expect_warning(sbsample(f, out, ndraws = 5), class = "sbcg_extrapolation")
  expect_warning(sbcondstats(f, out, ndraws = 20, density = FALSE), class = "sbcg_extrapolation")
  expect_warning(sbscore(f, transform(out, y = 0), ndraws = 20), class = "sbcg_extrapolation")
  expect_warning(predict(f, data.frame(x = c(NA, 0), f = "a"), ndraws = 20), NA)
  # a fit saved before the range was kept does not warn; a malformed one
  # is refused
  old <- f
  old$scaling$x_range <- NULL
  expect_warning(predict(old, out, ndraws = 20), NA)
  bad <- f
  bad$scaling$x_range <- bad$scaling$x_range[, 1L, drop = FALSE]
  expect_error(predict(bad, out), "'object\\$scaling' does not match")
  # without preconditioning the bridge alone makes the law, and it reads
  # every row at the range's edge: nothing moves there, and only rows
  # beyond the range by more than its width warn
  fn <- sbfit(y ~ x + f, d, weights = w, seed = 1, support = "real",
              control = small_control(epochs = 2, validation = 0.2, precondition = "none"))
  expect_warning(predict(fn, out, ndraws = 20), NA)
  far <- data.frame(x = c(r[2] + 0.9 * diff(r), r[1] - 1.1 * diff(r)), f = "a")
  expect_warning(predict(fn, far, ndraws = 20), "1 row\\(s\\) \\(2\\) lie well outside",
                 class = "sbcg_extrapolation")
})

test_that("the bridge sees rows beyond the fit's predictor range at its edge", {
  d <- gauss_data(200, 25)
  d$f <- factor(rep(c("a", "b"), 100))
  ctl <- small_control(epochs = 30, validation = 0.2, precondition = "none", bridge_inputs = "x")
  f <- sbfit(y ~ x + f, d, control = ctl, seed = 1, support = "real")
  r <- range(d$x)
  # without preconditioning the bridge alone makes the law: a row beyond
  # the range gets the draws of the row at its edge, with the same seed
  # and position in newdata
  edge <- data.frame(x = c(0.3, r[2], r[1]), f = c("a", "b", "a"))
  far <- data.frame(x = c(0.3, r[2] + 3, r[1] - 1e3), f = c("a", "b", "a"))
  s_edge <- sbsample(f, edge, ndraws = 50, seed = 3, format = "matrix")
  s_far <- suppressWarnings(sbsample(f, far, ndraws = 50, seed = 3, format = "matrix"))
  expect_identical(unname(s_far), unname(s_edge))
  # and inside the range nothing moves: the clamp leaves every training
  # row's standardised predictors as they are, to the bit
  X <- sbcg:::newdata_matrix(f, d)
  expect_identical(sbcg:::x_clamped(f, X), X)
  # the bridge did learn something of x: without the clamp (a fit saved
  # before sbcg kept the range) the far rows' draws differ from the edge's
  old <- f
  old$scaling$x_range <- NULL
  s_old <- suppressWarnings(sbsample(old, far, ndraws = 50, seed = 3, format = "matrix"))
  expect_identical(s_old[1, ], s_edge[1, ])
  expect_false(identical(s_old[2, ], s_edge[2, ]))
})

test_that("training rows read back through poly() are not moved by rounding", {
  # predict.poly() computes a training row's columns a few ulps from the
  # fit's model matrix; such a row is inside the range, not beyond it
  set.seed(1)
  d <- data.frame(x = runif(400, -2, 2), z = rnorm(400))
  d$y <- 1 + 2 * d$x + rnorm(400)
  f <- sbfit(y ~ poly(x, 3) + z, d, control = small_control(epochs = 2, validation = 0.2),
             seed = 1, support = "real")
  X <- sbcg:::newdata_matrix(f, d)
  B <- sbcg:::apply_scaling(f$scaling$x_range, list(center = f$scaling$x_center,
                                                     scale = f$scaling$x_scale))
  # the case at hand: some column's value lies beyond its end, by rounding
  expect_true(any(sweep(X, 2L, B[2L, ], ">") | sweep(X, 2L, B[1L, ], "<")))
  expect_identical(sbcg:::x_clamped(f, X), X)
})

test_that("a bridge that sees the location and scale reads them at the range's edge", {
  d <- gauss_data(300, 26)
  d$z <- runif(300)
  ctl <- small_control(epochs = 20, validation = 0.2, bridge_inputs = "location")
  f <- sbfit(y ~ x + z, d, control = ctl, seed = 1, support = "real")
  expect_false(is.null(f$precondition$features))
  r <- range(d$x)
  edge <- sbcg:::newdata_matrix(f, data.frame(x = c(r[2], 0.5), z = c(0.5, min(d$z))))
  far <- suppressWarnings(sbcg:::newdata_matrix(f, data.frame(x = c(r[2] + 4, 0.5),
                                                              z = c(0.5, min(d$z) - 2))))
  # the bridge's inputs at the far rows are those at the edge; the
  # networks' own location and scale still extrapolate
  expect_identical(sbcg:::bridge_x(f, far), sbcg:::bridge_x(f, edge))
  expect_false(isTRUE(all.equal(sbcg:::draw_scale(f, far)$center,
                                sbcg:::draw_scale(f, edge)$center)))
  # and so are its standardised draws, with the same streams
  g <- sbcg:::sampler_grid(f)
  z_far <- sbcg:::sample_raw(f, far, c(0, 1), 40L, g, c(5L, 7L), 1L, standardised = TRUE)
  z_edge <- sbcg:::sample_raw(f, edge, c(0, 1), 40L, g, c(5L, 7L), 1L, standardised = TRUE)
  expect_identical(z_far, z_edge)
})

test_that("laws far outside the responses the fit learned from warn", {
  d <- gauss_data(200, 24)
  # a row of weight 0 far out does not widen the responses' range
  d$y[1] <- 1e4
  w <- c(0, rep(1, 199))
  f <- sbfit(y ~ x, d, weights = w, control = small_control(epochs = 2, validation = 0.2),
             seed = 1, support = "real")
  r <- range(d$y[-1])
  expect_identical(unname(f$scaling$y_range[, 1]), r)
  nd <- data.frame(x = c(-1, 0, 1))
  expect_warning(predict(f, nd, ndraws = 50), NA)
  # the rule: more than half of a row's draws beyond the range by more
  # than its width (here 0 to 1, so below -1 or above 2)
  R <- cbind(y = c(0, 1))
  D <- c(rep(3, 6), rep(0.5, 4),      # row 1: 6 of 10 beyond
         rep(-1.5, 5), rep(0.5, 5),   # row 2: exactly half, not more
         rep(1.9, 10))                # row 3: within the width
  expect_identical(which(sbcg:::draw_checks(D, 10L, 3L, 1L, R)$far), 1L)
  # NaN draws count for neither side: 4 far of 7 others, or none left
  D2 <- c(rep(NaN, 3), rep(3, 4), rep(0.5, 3), rep(NaN, 10), rep(0.5, 10))
  expect_identical(which(sbcg:::draw_checks(D2, 10L, 3L, 1L, R)$far), 1L)
  # read in blocks of rows: the same as all at once, across the blocks'
  # edges (600 rows of 1000 draws of two components, blocks of 262 rows)
  set.seed(2)
  A <- array(runif(1000 * 600 * 2), c(1000, 600, 2))
  A[1:501, c(1, 262, 263, 600), 2] <- 5
  A[1:500, 300, 1] <- -5
  A[7, c(10, 263, 524), 1] <- NaN
  A[9, 524, 2] <- Inf
  R2 <- cbind(a = c(0, 1), b = c(0, 1))
  ck <- sbcg:::draw_checks(as.vector(A), 1000L, 600L, 2L, R2)
  expect_identical(which(ck$far), c(1L, 262L, 263L, 600L))
  expect_identical(which(ck$bad), c(10L, 263L, 524L))
  expect_identical(ck$nonfinite, 4)
  expect_identical(which(sbcg:::draw_checks(D, 10L, 3L, 1L, NULL)$far), integer())
  # a fit whose responses' range lies far from its laws names every row,
  # in each sampling function, with the range
  g <- f
  g$scaling$y_range <- cbind(y = c(100, 101))
  msg <- "'newdata': more than half the draws of 3 row\\(s\\) \\(1, 2, 3\\) lie further outside the responses the fit learned from \\(100 to 101\\)"
  expect_warning(predict(g, nd, ndraws = 50), msg, class = "sbcg_far_law")
  expect_warning(sbsample(g, nd, ndraws = 10), msg, class = "sbcg_far_law")
  expect_warning(sbscore(g, transform(nd, y = 0), ndraws = 50), msg, class = "sbcg_far_law")
  # only the rows whose laws are far: rows around x = 1 have centre near 3
  g$scaling$y_range <- cbind(y = c(-1, 0))
  expect_warning(predict(g, data.frame(x = c(-1, 1.5)), ndraws = 200),
                 "draws of 1 row\\(s\\) \\(2\\)", class = "sbcg_far_law")
  # fits saved before the range was kept do not warn; malformed ranges are
  # refused
  old <- g
  old$scaling$y_range <- NULL
  expect_warning(predict(old, nd, ndraws = 50), NA)
  bad <- f
  bad$scaling$y_range <- c(0, 1)
  expect_error(predict(bad, nd), "'object\\$scaling' does not match")
})

test_that("a predictor constant on the fit's rows is ignored, with a warning", {
  d <- gauss_data(200, 22)
  d$z <- 5
  expect_warning(f <- sbfit(y ~ x + z, d, control = small_control(epochs = 20, linear_mix = FALSE),
                            seed = 1, support = "real"),
                 "'data': predictor column 'z' is constant: it carries no information")
  expect_identical(f$scaling$x_const, 2L)
  expect_identical(f$format, 11L)
  # other values of z move nothing, with a warning naming their rows; NA
  # rows stay NA
  nd <- data.frame(x = 0.3, z = c(5, 50, -500, NA))
  expect_warning(p <- predict(f, nd, probs = c(0.1, 0.9)),
                 "'newdata': predictor column 'z' was 5 on every row the fit learned from, so the fit cannot tell its other values apart; row\\(s\\) 2, 3 are predicted as if it were 5")
  expect_warning(predict(f, nd[c(1, 4), ]), NA)
  expect_identical(p[2, ], p[1, ])
  expect_identical(p[3, ], p[1, ])
  expect_true(all(is.na(p[4, ])))
  # the format and the columns must agree
  bad <- f
  bad$format <- 10L
  expect_error(predict(bad, nd), "format' is 11 exactly when")
  bad <- f
  bad$scaling$x_const <- 3L
  expect_error(predict(bad, nd), "'object\\$scaling' does not match")
  # saved and read again: the same predictions
  tf <- tempfile(fileext = ".rds")
  saveRDS(f, tf)
  expect_identical(suppressWarnings(predict(readRDS(tf), nd)), suppressWarnings(predict(f, nd)))
  # a factor level whose rows all have weight 0: its dummy column is 0 on
  # the fit's rows, and new rows of that level say so
  dg <- d
  dg$g <- factor(rep(c("a", "b", "c"), length.out = 200))
  wg <- ifelse(dg$g == "c", 0, 1)
  fg <- suppressWarnings(sbfit(y ~ x + g, dg, weights = wg, control = small_control(epochs = 2),
                               seed = 1, support = "real"))
  expect_warning(predict(fg, data.frame(x = 0, g = c("a", "c", "b"))),
                 "predictor column 'gc' was 0 on every row .* row\\(s\\) 2 are predicted")
  # two constant columns, x/y interface: one warning naming both
  X <- cbind(x = d$x, a = 1, b = 0)
  expect_warning(sbfit(X, d$y, control = small_control(epochs = 2), seed = 1, support = "real"),
                 "'x': predictor columns 'a', 'b' are constant: they carry")
  # y ~ 1 has one constant column inside and says nothing of it
  expect_warning(f0 <- sbfit(y ~ 1, d, control = small_control(epochs = 2, validation = 0.1),
                             seed = 1, support = "real"), NA)
  expect_null(f0$scaling$x_const)
})

test_that("design() and linear_fit() on a subset of rows equal cbind() on that subset", {
  set.seed(12)
  X <- matrix(rnorm(300 * 4), 300, 4, dimnames = list(NULL, paste0("x", 1:4)))
  Y <- cbind(X %*% c(1, -2, 0.5, 0) + rnorm(300), rnorm(300))
  rows <- sort(sample(300, 200))
  w <- runif(200)
  X1 <- cbind(1, X[rows, ])
  expect_identical(sbcg:::design(X, rows), unname(X1))
  expect_identical(sbcg:::design(X), unname(cbind(1, X)))
  expect_identical(sbcg:::linear_fit(X, Y, w, rows),
                   sbcg:::linear_fit(X[rows, ], Y[rows, , drop = FALSE], w))
  # the weighted least-squares solution, up to the small ridge
  ref <- unname(stats::lm.wfit(X1, Y[rows, ], w)$coefficients)
  expect_equal(sbcg:::linear_fit(X, Y, w, rows), ref, tolerance = 1e-5)
})
