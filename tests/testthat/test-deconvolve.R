# The location networks' spread taken out of the bridge's law
# (deconvolution_map(), deconvolve_fit(); sbcg_control(deconvolve = )).

# A Laplace law of variance 1, and its quantiles.
rlaplace1 <- function(n) {
  u <- runif(n) - 0.5
  -sign(u) * log(1 - 2 * abs(u)) / sqrt(2)
}
qlaplace1 <- function(p) ifelse(p < 0.5, log(2 * p), -log(2 * (1 - p))) / sqrt(2)

test_that("the deconvolution map recovers the law under Gaussian noise", {
  # Z = E + N(0, tau^2), tau^2 0.1 or 0.5 per draw, 20,000 draws.  Over 20
  # seeds the mapped quantiles at 0.05 / 0.25 / 0.75 / 0.95 missed E's by
  # 0.017 / 0.002 / -0.004 / -0.004 on average with SD 0.032 / 0.012 /
  # 0.015 / 0.037 for a Gaussian E, and by -0.033 / 0.041 / -0.044 /
  # 0.029 with SD 0.036 / 0.013 / 0.014 / 0.034 for a Laplace E (the
  # mixture's Gaussians of width 0.25 round its peak): the bounds are the
  # bias plus four SDs.  Z's own quantiles miss by more than the bounds.
  q <- c(0.05, 0.25, 0.75, 0.95)
  set.seed(1)
  N <- 20000
  t2 <- sample(c(0.1, 0.5), N, TRUE)
  for (law in c("gauss", "laplace")) {
    E <- if (law == "gauss") rnorm(N) else rlaplace1(N)
    truth <- if (law == "gauss") qnorm(q) else qlaplace1(q)
    Z <- E + rnorm(N) * sqrt(t2)
    m <- sbcg:::deconvolution_map(Z, t2)
    expect_true(sbcg:::recalibration_ok(m))
    expect_equal(m$deconv, mean(t2))
    zq <- quantile(Z, q, names = FALSE)
    err <- abs(sbcg:::recal_apply(m, zq) - truth)
    bound <- if (law == "gauss") c(0.15, 0.055, 0.065, 0.16) else c(0.18, 0.09, 0.1, 0.17)
    expect_true(all(err < bound), label = paste(law, paste(signif(err, 2), collapse = " ")))
    expect_true(all(abs(zq - truth) > bound), label = law)
  }
})

test_that("the deconvolution map is the identity's absence when nothing is to take out", {
  set.seed(2)
  Z <- rnorm(5000)
  expect_null(sbcg:::deconvolution_map(Z, rep(0, 5000)))
  expect_null(sbcg:::deconvolution_map(Z, rep(sbcg:::deconv_min / 2, 5000)))
  # too few draws for the map's knots
  expect_null(sbcg:::deconvolution_map(Z[1:20], rep(0.3, 20)))
  # non-finite draws are left out
  m <- sbcg:::deconvolution_map(c(Z, NA, Inf), c(rep(0.3, 5000), 0.3, 0.3))
  expect_true(sbcg:::recalibration_ok(m))
  # a row's tau^2 counts at most deconv_max
  big <- sbcg:::deconvolution_map(Z, rep(2, 5000))
  expect_identical(big, sbcg:::deconvolution_map(Z, rep(sbcg:::deconv_max, 5000)))
  expect_identical(big$deconv, sbcg:::deconv_max)
  # the map narrows a Gaussian law of variance 1 to about 1 - 0.3
  zq <- quantile(Z, c(0.25, 0.75), names = FALSE)
  w <- diff(sbcg:::recal_apply(m, zq)) / diff(zq)
  expect_equal(w, sqrt(0.7), tolerance = 0.05)
})

test_that("the networks' spread is their mean square about their mean, per residual scale", {
  d <- gauss_data(300, 3)
  fit <- sbfit(y ~ x, d, control = small_control(epochs = 30, deconvolve = FALSE), seed = 1,
               support = "real")
  pre <- fit$precondition
  X <- matrix(seq(-2, 2, length.out = 7), ncol = 1) / fit$scaling$x_scale
  t2 <- sbcg:::network_spread(pre, X)
  L <- sbcg:::network_locations(sbcg:::location_arch(pre), pre$location, pre$linear_folds,
                                sbcg:::ple_inputs(pre$ple, X))
  A <- sapply(L, function(m) m[, 1L])
  V <- apply(A, 1L, function(a) mean((a - mean(a))^2))
  s <- sbcg:::scale_net(pre, X)[, 1L] * pre$scale_factor
  expect_equal(t2, V / s^2)
  # identical networks: no spread
  pre$location[] <- pre$location[, 1L]
  if (!is.null(pre$linear_folds)) pre$linear_folds[] <- pre$linear_folds[, , 1L]
  expect_equal(sbcg:::network_spread(pre, X), rep(0, 7))
  # one network: none to measure
  pre$location <- pre$location[, 1L, drop = FALSE]
  expect_null(sbcg:::network_spread(pre, X))
})

test_that("a fit takes the networks' spread out where its networks disagree", {
  # 120 rows of 20 predictors, two of them in the mean: the cross-fitted
  # location networks differ by about 5% of the residual's variance
  set.seed(4)
  x <- matrix(rnorm(120 * 20), 120)
  d <- data.frame(x, y = sin(2 * x[, 1]) + x[, 2] + rnorm(120))
  few <- "too few for the fit to judge"
  expect_warning(fit <- sbfit(y ~ ., d, control = small_control(epochs = 30), seed = 1,
                              support = "real"), few)
  expect_warning(off <- sbfit(y ~ ., d, control = small_control(epochs = 30, deconvolve = FALSE),
                              seed = 1, support = "real"), few)
  expect_gt(fit$recalibration$deconv, 0.02)
  expect_null(off$recalibration$deconv)
  # the same networks and bridges: only the map and what it scores differ
  expect_identical(fit$theta, off$theta)
  nosec <- function(p) p[setdiff(names(p), "seconds")]
  expect_identical(nosec(fit$precondition), nosec(off$precondition))
  expect_false(identical(fit$holdout$pit, off$holdout$pit))
  expect_true(sbcg:::recalibration_ok(fit$recalibration))
  # neither learned a held-out map on top (weight 0), so the draws differ
  # by the deconvolution alone: from the same random streams, the central
  # 50% intervals are narrower at every row
  expect_identical(c(fit$recalibration$weight, off$recalibration$weight), c(0, 0))
  nd <- d[1:3, ]
  iqr <- function(f) {
    Q <- predict(f, nd, type = "quantile", probs = c(0.25, 0.75), ndraws = 4000, seed = 3)
    Q[, 2L] - Q[, 1L]
  }
  expect_true(all(iqr(fit) < iqr(off)))
  out <- capture.output(print(fit))
  expect_true(any(grepl(sprintf("the location networks' spread (%.2g of the standardised residual's variance) taken out",
                                fit$recalibration$deconv), out, fixed = TRUE)))
  # a fit saved and read back samples the same
  f2 <- unserialize(serialize(fit, NULL))
  expect_identical(sbsample(f2, nd, ndraws = 50, seed = 1), sbsample(fit, nd, ndraws = 50, seed = 1))
  # without recalibration, no map at all
  expect_warning(none <- sbfit(y ~ ., d, control = small_control(epochs = 30, recalibrate = FALSE),
                               seed = 1, support = "real"), few)
  expect_null(none$recalibration)
})

test_that("fits whose held-out rows join the folds keep their law", {
  d <- gauss_data(40, 5)
  expect_warning(fit <- sbfit(y ~ x, d, control = small_control(epochs = 20), seed = 1,
                              support = "real"), "too few for the fit to judge")
  expect_lt(fit$n_valid, 10L)
  expect_null(fit$recalibration$deconv)
})

test_that("sbcg_control() checks deconvolve", {
  expect_true(sbcg_control()$deconvolve)
  expect_false(sbcg_control(deconvolve = FALSE)$deconvolve)
  expect_error(sbcg_control(deconvolve = NA), "deconvolve")
  expect_error(sbcg_control(deconvolve = "yes"), "deconvolve")
})
