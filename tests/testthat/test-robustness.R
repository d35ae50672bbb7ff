test_that("a diverging fit is reported as a status, not returned silently", {
  # weights so large that the forward pass overflows: the first batch's loss
  # is not finite and training stops with status 2 (sbfit() turns that into
  # the error "training diverged ...; try a smaller 'lr'")
  net <- list(d = 1L, p = 1L, hidden = c(8L, 8L), activation = "silu", freq = c(1, 10))
  set.seed(1)
  theta <- sbcg:::init_theta(net) * 1e250
  x <- matrix(runif(50)); y <- matrix(rnorm(50))
  settings <- sbcg:::train_settings(
    sbcg_control(lr = 1e-3, lr_schedule = "constant", batch_size = 10),
    list(epochs = 5, min_epochs = 0, valid_every = 1, val_reps = 1), resid = 1)
  res <- .Call(sbcg:::C_sbcg_train, sbcg:::net_arch(net), net$freq, theta, x, y,
               rep(1, 50), matrix(0, 0, 1), matrix(0, 0, 1), double(), settings,
               1:2, 1L, FALSE, sbcg:::kernel_set(), NULL, NULL)
  expect_identical(res$status, 2L)
  expect_identical(res$epochs, 1L)
  expect_true(all(is.finite(res$theta)))
})

test_that("data on the scale of 1e6, 1e-6 or 1e-170 fit like the unit scale", {
  d <- gauss_data(300, 42)
  ctl <- small_control(epochs = 5)
  f1 <- sbfit(y ~ x, d, control = ctl, seed = 1)
  nd <- data.frame(x = c(-1, 0, 1))
  p1 <- predict(f1, nd, ndraws = 50, seed = 2)
  # 1e-170: squares below the smallest double, yet the same standardisation
  for (s in c(1e6, 1e-6, 1e-170)) {
    ds <- transform(d, y = y * s, x = x * s)
    fs <- sbfit(y ~ x, ds, control = ctl, seed = 1)
    ps <- predict(fs, transform(nd, x = x * s), ndraws = 50, seed = 2)
    # standardisation makes the two problems the same up to rounding
    expect_equal(ps / s, p1, tolerance = 1e-6)
  }
})

test_that("heavy tails, duplicated rows and a constant predictor fit and sample", {
  set.seed(43)
  n <- 400
  d <- data.frame(x = runif(n), k = 1)
  d$y <- d$x + rcauchy(n)
  d <- rbind(d, d[rep(1:10, 20), ])
  expect_warning(f <- sbfit(y ~ x + k, d, control = small_control(epochs = 5), seed = 1),
                 "predictor column 'k' is constant")
  m <- sbsample(f, data.frame(x = c(0.2, 0.8), k = 1), ndraws = 200, format = "matrix", seed = 1)
  expect_true(all(is.finite(m)))
  # the draws stay on the scale of the data
  expect_lt(max(abs(m)), 10 * max(abs(d$y)))
})

test_that("fits of 5 to 10 rows give laws of real width", {
  # with no held-out row and no cross-fitting, such fits learned their rows'
  # residuals to the last digit: every draw at a row was the same number
  for (n in c(5, 8, 10)) {
    set.seed(n)
    d <- data.frame(x = runif(n))
    d$y <- 2 * d$x + rnorm(n, sd = 0.5)
    f <- suppressWarnings(sbfit(y ~ x, d, control = small_control(epochs = 50), seed = 1))
    expect_gte(f$n_valid, 1L)
    expect_gt(NCOL(f$precondition$location), 1L)
    m <- sbsample(f, data.frame(x = c(0.25, 0.75)), ndraws = 400, format = "matrix", seed = 2)
    # the law's spread against the residual SD of lm(): a law of zero width
    # gives 0; the t law of lm()'s prediction interval about 1.1 to 1.4
    s_lm <- summary(stats::lm(y ~ x, d))$sigma
    expect_true(all(apply(m, 1, stats::IQR) > 0.2 * s_lm), info = paste("n =", n))
  }
})

test_that("rows that repeat others exactly fit as one row weighted by the count", {
  # (the fits of 100 distinct rows warn that 10 held-out rows are too few)
  fit <- function(...) suppressWarnings(sbfit(..., control = small_control(), seed = 1))
  d <- gauss_data(100, 44)
  f1 <- fit(y ~ x, d)
  # every row twice, or five times: held out and cross-fitted as groups,
  # the fit of the distinct rows
  f2 <- fit(y ~ x, d[rep(1:100, 2), ])
  d5 <- d[rep(1:100, each = 5), ]
  f5 <- suppressWarnings(sbfit(y ~ x, d5, control = small_control(), seed = 1))
  expect_identical(f2$theta, f1$theta)
  expect_identical(f5$theta, f1$theta)
  expect_identical(c(nobs(f2), f2$n, f2$n_copied), c(200L, 100L, 100L))
  expect_output(print(f5), "of 500 rows, 400 repeat others exactly")
  expect_output(print(f5), "weighted by the copies' counts")
  expect_output(print(summary(f5)), "the copies' counts as weights")
  expect_identical(nrow(model.frame(f5)), 500L)
  # a small set with two repeated rows: a weighted fit of one held-out row
  d16 <- gauss_data(14, 48)[c(1:14, 1:2), ]
  f16 <- fit(y ~ x, d16)
  expect_identical(c(f16$n, f16$n_copied, f16$n_valid), c(14L, 2L, 1L))
  # fewer than 10 distinct rows are never merged: 5 rows 20 times each
  # keep their few-values warning
  d5x20 <- gauss_data(5, 50)[rep(1:5, 20), ]
  expect_warning(f5x20 <- sbfit(y ~ x, d5x20, control = small_control(), seed = 1,
                                support = "real"), "only 5 distinct values")
  expect_null(f5x20$n_copied)
  # one tie in 15 rows is taken as chance, as is one in 100 rows
  expect_null(fit(y ~ x, gauss_data(14, 48)[c(1:14, 1), ])$n_copied)
  expect_null(fit(y ~ x, d[c(1:100, 1), ])$n_copied)
  # as are weighted fits of 5 to 19 rows
  for (n in c(5, 8, 15)) {
    dw <- gauss_data(n, 49)
    fw <- suppressWarnings(sbfit(y ~ x, dw, weights = seq(0.5, 1.5, length.out = n),
                                 control = small_control(), seed = 1))
    expect_s3_class(fw, "sbfit")
  }
  # repeats of coarse values happen by chance, as in new rows: kept as rows
  set.seed(45)
  dc <- data.frame(g = factor(sample(letters[1:3], 150, TRUE)), y = rpois(150, 2))
  fc <- fit(y ~ g, dc, support = "real")
  expect_null(fc$n_copied)
  expect_identical(fc$n, 150L)
})

test_that("a response value far from all others is named in a warning", {
  d <- gauss_data(300, 46)
  d$y[7] <- 1e6
  w <- warnings_of(sbfit(y ~ x, d, control = small_control(), seed = 1, support = "real"))
  expect_true(any(grepl("1 value far from the others \\(1e\\+06, in row 7;", w)))
  # more than half the values equal: measured against the others' spread
  dz <- d
  dz$y[setdiff(1:200, 7)] <- 0
  w <- warnings_of(sbfit(y ~ x, dz, control = small_control(), seed = 1, support = "real"))
  expect_true(any(grepl("far from the others \\(1e\\+06, in row 7;", w)))
  # heavy but ordinary tails do not warn: Student-t, 3 degrees of freedom
  set.seed(47)
  d$y <- d$x + stats::rt(300, 3)
  w <- warnings_of(sbfit(y ~ x, d, control = small_control(), seed = 1, support = "real"))
  expect_false(any(grepl("far from the others", w)))
})

test_that("an interrupt (time limit) during sbfit or sbcondstats returns promptly", {
  skip_on_cran()
  # wall-clock bounds mean nothing under valgrind's 50x slowdown
  skip_if(Sys.getenv("SBCG_MEMCHECK") == "valgrind", "timing test under valgrind")
  d <- gauss_data(2000, 44)
  t0 <- proc.time()[["elapsed"]]
  expect_error({
    setTimeLimit(elapsed = 1, transient = TRUE)
    sbfit(y ~ x, d, control = sbcg_control(epochs = 100000, validation = 0), seed = 1)
  }, "time limit")
  setTimeLimit()
  expect_lt(proc.time()[["elapsed"]] - t0, 10)
  fit <- small_fit()
  t0 <- proc.time()[["elapsed"]]
  expect_error({
    setTimeLimit(elapsed = 1, transient = TRUE)
    sbcondstats(fit, data.frame(x = rep(0, 2000), f = "a"), ndraws = 10000, steps = 1000,
                density = FALSE)
  }, "time limit")
  setTimeLimit()
  expect_lt(proc.time()[["elapsed"]] - t0, 10)
  # R is still usable and the package still works
  expect_equal(nrow(sbsample(fit, data.frame(x = 0, f = "a"), ndraws = 3, seed = 1)), 3L)
})
