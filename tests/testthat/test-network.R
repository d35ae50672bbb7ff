# The C network against a plain-R re-implementation, and its gradient
# against central finite differences.

r_forward <- function(net, theta, z, t, x) {
  act <- switch(net$activation,
                silu = function(a) a / (1 + exp(-a)),
                relu = function(a) pmax(a, 0),
                tanh = tanh)
  L <- sbcg:::net_layers(net, theta)
  t <- ref_time_feature(t, net$time_map)  # t, or the clamped log-odds time
  H <- cbind(z, sin(outer(t, net$freq)), cos(outer(t, net$freq)), x)
  for (l in seq_along(L)) {
    H <- H %*% t(L[[l]]$weight) + matrix(L[[l]]$bias, nrow(H), length(L[[l]]$bias), byrow = TRUE)
    if (l < length(L)) H <- act(H)
  }
  H
}

test_that("the time embedding agrees with libm's sin and cos with every kernel set", {
  # frequencies up to 9e4 reduce arguments far from zero by multiples of
  # pi/2 (a wrong quadrant would change the output by O(1)); 203 rows, in
  # chunks of 128 and 75: the portable kernels' blocks of 8 and a tail of 3
  set.seed(5)
  net <- list(d = 1L, p = 1L, hidden = c(6L, 5L), activation = "silu",
              freq = c(0.5, 7.3, 100, 1e4, 9e4))
  theta <- sbcg:::init_theta(net)
  n <- 203
  t <- c(0, 1, 0.5, runif(n - 3))
  z <- matrix(rnorm(n), n)
  x <- matrix(rnorm(n), n)
  ref <- r_forward(net, theta, z, t, x)
  for (k in c("auto", "portable"))
    expect_equal(with_kernels(k, sbcg:::nn_forward(net, theta, z, t, x)), ref,
                 tolerance = 1e-12, label = k)
})

test_that("forward pass equals a plain-R re-implementation", {
  set.seed(1)
  for (act in c("silu", "relu", "tanh")) {
    net <- list(d = 2L, p = 3L, hidden = c(7L, 5L, 4L), activation = act,
                freq = c(0.5, 2, 9))
    theta <- sbcg:::init_theta(net)
    expect_length(theta, sbcg:::net_npar(net))
    # 300 rows: more than one chunk of 128 rows
    n <- 300
    z <- matrix(rnorm(2 * n), n)
    t <- runif(n)
    x <- matrix(rnorm(3 * n), n)
    expect_equal(sbcg:::nn_forward(net, theta, z, t, x),
                 r_forward(net, theta, z, t, x), tolerance = 1e-13)
  }
  # the log-odds time map, including times beyond its clamp (t = 0, 1e-9,
  # 1 - 1e-9) and near 1
  net <- list(d = 1L, p = 2L, hidden = c(6L, 5L), activation = "silu",
              freq = c(1, 7, 40), time_map = "logit")
  theta <- sbcg:::init_theta(net)
  t <- c(0, 1e-9, 1e-5, 0.3, 0.5, 1 - 1e-4, 1 - 1e-6, 1 - 1e-9, runif(200))
  n <- length(t)
  z <- matrix(rnorm(n), n)
  x <- matrix(rnorm(2 * n), n)
  got <- sbcg:::nn_forward(net, theta, z, t, x)
  expect_equal(got, r_forward(net, theta, z, t, x), tolerance = 1e-13)
  # times near 1 that the linear map can hardly tell apart are far apart
  lin <- sbcg:::nn_forward(utils::modifyList(net, list(time_map = "linear")), theta, z, t, x)
  expect_false(isTRUE(all.equal(got, lin)))
  expect_equal(ref_time_feature(c(0, 0.5, 1), "logit"), c(0, 0.5, 1))
  expect_equal(ref_time_feature(1 - 1e-5, "logit") - ref_time_feature(1 - 1e-4, "logit"),
               log(10) / 28, tolerance = 1e-4)
})

test_that("training times follow the mixture of uniform and log-odds-uniform times", {
  # the trainer's own time law (the validation draws use the same code)
  times <- function(m, t_min, t_max, tail, seed = 1:2) {
    settings <- sbcg:::train_settings(
      sbcg_control(), list(epochs = 1, min_epochs = 0, valid_every = 1, val_reps = 1),
      resid = 1, t_min = t_min, t_max = t_max, t_tail = tail)
    .Call(sbcg:::C_sbcg_times, as.integer(m), settings, as.integer(seed))
  }
  m <- 40000
  t <- times(m, 1e-5, 1 - 1e-6, 0.5)
  expect_true(all(t >= 1e-5 & t <= 1 - 1e-6))
  # P(t > 1 - 1e-3) = 0.5 * (1e-3 - 1e-6) + 0.5 * (qlogis range share)
  lo <- qlogis(1e-5)
  hi <- qlogis(1 - 1e-6)
  p <- 0.5 * (1e-3 - 1e-6) / (1 - 1e-6 - 1e-5) + 0.5 * (hi - qlogis(1 - 1e-3)) / (hi - lo)
  expect_lt(abs(mean(t > 1 - 1e-3) - p), 5 * sqrt(p * (1 - p) / m))
  # without the tail: uniform on [t_min, t_max] (Kolmogorov-Smirnov)
  u <- times(m, 0.2, 0.4, 0)
  expect_true(all(u >= 0.2 & u <= 0.4))
  expect_gt(suppressWarnings(stats::ks.test(u, "punif", 0.2, 0.4)$p.value), 1e-4)
  # the stream follows the seed
  expect_identical(times(10, 0.2, 0.4, 0.3), times(10, 0.2, 0.4, 0.3))
  expect_false(identical(times(10, 0.2, 0.4, 0.3), times(10, 0.2, 0.4, 0.3, 3:4)))
})

test_that("a fit saved in format 1 (before regression networks) still samples", {
  old <- readRDS(test_path("fixtures", "fit-format1.rds"))
  expect_identical(old$fit$format, 1L)
  expect_null(old$fit$precondition$net$kind)
  got <- with_precision("double", sbsample(old$fit, old$newdata, ndraws = 20, seed = 2,
                                            format = "matrix"))
  # the same draws up to the rounding of the sampler's time embedding
  expect_equal(got, old$draws, tolerance = 1e-12)
  # and, in single precision, up to float rounding (as in test-kernels.R)
  expect_equal(sbsample(old$fit, old$newdata, ndraws = 20, seed = 2, format = "matrix"),
               old$draws, tolerance = 1e-5)
  # it held rows out but did not score them
  expect_output(print(old$fit), "Held-out rows: 20, not scored")
})

test_that("gradient equals central finite differences", {
  set.seed(2)
  for (resid in c(FALSE, TRUE)) for (act in c("silu", "tanh")) {
    # the tanh networks see the log-odds time
    net <- list(d = 2L, p = 3L, hidden = c(6L, 4L), activation = act,
                freq = c(1, 3), time_map = if (act == "tanh") "logit" else "linear")
    theta <- sbcg:::init_theta(net)
    n <- 150
    x <- matrix(rnorm(3 * n), n)
    y <- matrix(rnorm(2 * n), n)
    t <- runif(n, 0.01, 0.99)
    e <- matrix(rnorm(2 * n), n)
    w <- runif(n)
    f <- function(th) sbcg:::nn_loss_grad(net, th, x, y, t, e, w, resid)$loss
    g <- sbcg:::nn_loss_grad(net, theta, x, y, t, e, w, resid)$grad
    h <- 1e-5
    num <- vapply(seq_along(theta), function(i) {
      a <- b <- theta
      a[i] <- a[i] + h
      b[i] <- b[i] - h
      (f(a) - f(b)) / (2 * h)
    }, 0)
    # central differences err by O(h^2) times the third derivative, and by
    # rounding of about 1e-16 / h in the loss; both are below 1e-8 here
    expect_equal(g, num, tolerance = 1e-6)
    expect_lt(max(abs(g - num)), 1e-8 + 1e-6 * max(abs(num)))
  }
})

test_that("the loss is the weighted mean squared error of the target", {
  set.seed(3)
  net <- list(d = 1L, p = 2L, hidden = 4L, activation = "silu", freq = 1)
  theta <- sbcg:::init_theta(net)
  n <- 50
  x <- matrix(rnorm(2 * n), n)
  y <- matrix(rnorm(n), n)
  t <- runif(n, 0.01, 0.99)
  e <- matrix(rnorm(n), n)
  w <- runif(n)
  z <- t * y + sqrt(t * (1 - t)) * e
  out <- r_forward(net, theta, z, t, x)
  expect_equal(sbcg:::nn_loss_grad(net, theta, x, y, t, e, w, FALSE)$loss,
               sum(w * (out - y)^2) / n)
  target <- (y - z) / sqrt(1 - t)
  expect_equal(sbcg:::nn_loss_grad(net, theta, x, y, t, e, w, TRUE)$loss,
               sum(w * (out - target)^2) / n)
})

test_that("the C sampler follows the Euler-Maruyama recursion", {
  # With no noise (bridge scheme on a 1-step grid ends on D), the sampler's
  # draws are deterministic functions of the network: compare with R.
  set.seed(4)
  d <- data.frame(x = runif(200), y = rnorm(200))
  fit <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(8, 8), epochs = 2,
                                                 validation = 0, precondition = "none"), seed = 1)
  nd <- data.frame(x = c(0.1, 0.5, 0.9))
  # grid 0 -> 1 in one step: Z_1 = Z_0 + a F(0, 0, x) with a = 1 (residual)
  expect_warning(got <- with_precision("double", sbsample(fit, nd, ndraws = 3, grid = c(0, 1),
                                                         method = "bridge", format = "matrix",
                                                         seed = 1)),
                 "'grid': 1 sampler step")
  xs <- (nd$x - fit$scaling$x_center) / fit$scaling$x_scale
  Fv <- sbcg:::nn_forward(fit$net, fit$theta, matrix(0, 3, 1), rep(0, 3),
                          matrix(xs, 3))
  want <- fit$scaling$y_center + fit$scaling$y_scale * Fv[, 1]
  expect_equal(got, matrix(want, 3, 3), ignore_attr = TRUE, tolerance = 1e-12)

  # two Euler-Maruyama steps with noise reproduce the R recursion given the
  # same normals: check the mean over draws against R's recursion with the
  # draws' own implied noise is not possible, so check the first step's
  # distribution instead: after grid c(0, 0.5), Z = a F + sqrt(0.5) eps.
  expect_warning(got <- sbsample(fit, nd[1, , drop = FALSE], ndraws = 20000,
                                 grid = c(0, 0.5), method = "em", format = "matrix", seed = 2),
                 "'grid'")
  z <- (got[1, ] - fit$scaling$y_center) / fit$scaling$y_scale
  F0 <- sbcg:::nn_forward(fit$net, fit$theta, matrix(0, 1, 1), 0,
                          matrix(xs[1], 1))[1, 1]
  m <- length(z)
  # mean 0.5 * F0, variance 0.5: tolerances of 5 standard errors
  expect_lt(abs(mean(z) - 0.5 * F0), 5 * sqrt(0.5 / m))
  expect_lt(abs(var(z) - 0.5), 5 * 0.5 * sqrt(2 / (m - 1)))
})

test_that("skewed predictors are tried on a log-like scale and kept when they predict better", {
  set.seed(8)
  n <- 300
  d <- data.frame(u = rlnorm(n, 0, 1.2), v = runif(n), w = -rlnorm(n), k = rpois(n, 1))
  # candidates: never negative, over 10 distinct values, skewness above 1.5
  c0 <- sbcg:::skew_candidates(as.matrix(d))
  expect_equal(c0, c(min(d$u) / 2, 0, 0, 0))
  expect_equal(sbcg:::skew_candidates(cbind(10 - d$u)), 0)  # a long left tail
  # y is linear in log(u): the networks on the log scale predict better
  d$y <- log(d$u) + 0.2 * rnorm(n)
  ctl <- list(hidden = c(16, 16), epochs = 20, skew_transform = TRUE)
  fit <- sbfit(y ~ u + v, d, control = ctl, seed = 1)
  expect_equal(fit$scaling$x_log, c(min(d$u) / 2, 0))
  expect_true(fit$precondition$skew_tried)
  expect_output(print(fit), "Skewed predictors as asinh\\(x / c\\).*: u")
  # new rows go through the same map before standardisation
  # (0.01 lies well below the training rows on the log-like scale)
  nd <- data.frame(u = c(0.01, 1, 30), v = 0.5)
  expect_warning(X <- sbcg:::newdata_matrix(fit, nd),
                 "row\\(s\\) \\(1\\) lie well outside.*u = 0.01 where.*\\(far on the log-like scale the fit reads it on\\)",
                 class = "sbcg_extrapolation")
  expect_equal(X[, 1], (asinh(nd$u / fit$scaling$x_log[1]) - fit$scaling$x_center[1]) /
                 fit$scaling$x_scale[1], ignore_attr = TRUE)
  m <- suppressWarnings(predict(fit, nd, seed = 1), classes = "sbcg_extrapolation")
  expect_true(all(abs(m - log(nd$u)) < 0.5))
  # off (the default), or with no skewed column, nothing is tried, and a
  # fit is the bits it was before the option existed (no draws from the
  # generator)
  off <- sbfit(y ~ u + v, d, control = replace(ctl, "skew_transform", FALSE), seed = 1)
  expect_null(off$scaling$x_log)
  expect_false(off$precondition$skew_tried)
  # NULL (the default): off on the real line, where the fit is the bits
  # of FALSE, and on for a response fitted on the log scale; the fit's
  # control keeps the choice
  expect_null(sbcg_control()$skew_transform)
  auto <- ctl[c("hidden", "epochs")]
  real <- sbfit(y ~ u + v, d, control = auto, seed = 1)
  expect_false(real$control$skew_transform)
  expect_identical(real$theta, off$theta)
  expect_identical(real$precondition$location, off$precondition$location)
  d$yp <- exp(d$y)
  d$yc <- rpois(n, exp(d$y))
  for (sup in c("positive", "count")) {
    lg <- sbfit(if (sup == "count") yc ~ u + v else yp ~ u + v, d, control = auto,
                seed = 1, support = sup)
    expect_true(lg$control$skew_transform)
    expect_true(lg$precondition$skew_tried)
    no <- sbfit(if (sup == "count") yc ~ u + v else yp ~ u + v, d,
                control = replace(auto, "skew_transform", FALSE), seed = 1, support = sup)
    expect_false(no$precondition$skew_tried)
  }
  expect_true(sbcg:::log_scale_support(sbcg:::check_support(c(0, Inf), d$yp, "y")))
  expect_false(sbcg:::log_scale_support(sbcg:::check_support(c(0, 1e3), d$yp, "y")))
  expect_false(sbcg:::log_scale_support(NULL))
  f1 <- sbfit(y ~ v, d, control = ctl, seed = 1)
  f2 <- sbfit(y ~ v, d, control = replace(ctl, "skew_transform", FALSE), seed = 1)
  expect_identical(f1$theta, f2$theta)
  expect_identical(f1$precondition$location, f2$precondition$location)
  # a fit saved without the field predicts as before
  old <- off
  old$scaling$x_log <- NULL
  expect_identical(suppressWarnings(predict(old, nd, seed = 1), classes = "sbcg_extrapolation"),
                   suppressWarnings(predict(off, nd, seed = 1), classes = "sbcg_extrapolation"))
  bad <- fit
  bad$scaling$x_log <- c(-1, 0)
  expect_error(predict(bad, nd), "scaling")
})

test_that("with preconditioning the draws are m(x) + s(x) (c + f T(Z))", {
  set.seed(5)
  d <- data.frame(x = runif(300), y = rnorm(300))
  nd <- data.frame(x = c(0.1, 0.5, 0.9))
  for (pc in c("location-scale", "location")) {
    fit <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(8, 8), epochs = 3,
                                                   validation = 0.2, precondition = pc,
                                                   linear_mix = FALSE, direct_share = 0),
                 seed = 1)
    pre <- fit$precondition
    expect_type(pre, "list")
    # five cross-fitted location networks (sbcg_control(folds = 5))
    expect_identical(dim(pre$location), c(as.integer(sbcg:::net_npar(pre$net)), 5L))
    expect_equal(is.null(pre$scale), pc == "location")
    # one noiseless step from 0 to 1: Z = F(0, 0, x)
    expect_warning(got <- sbsample(fit, nd, ndraws = 2, grid = c(0, 1), method = "bridge",
                                   format = "matrix", seed = 1), "'grid'")
    xs <- matrix((nd$x - fit$scaling$x_center) / fit$scaling$x_scale, 3)
    Fv <- sbcg:::nn_forward(fit$net, fit$theta, matrix(0, 3, 1), rep(0, 3), xs)[, 1]
    # T: the recalibration map of the standardised draws (recalibrate.R)
    expect_type(fit$recalibration, "list")
    Fv <- sbcg:::recal_apply(fit$recalibration, Fv)
    # m(x): the mean of the five networks plus the linear part
    mv <- rowMeans(apply(pre$location, 2L, function(th)
      sbcg:::regression_net(pre$net, th, xs)[, 1])) + cbind(1, xs) %*% pre$linear
    sv <- if (is.null(pre$scale)) 1 else
      pmax(sbcg:::regression_net(pre$net, pre$scale, xs)[, 1], pre$floor)^pre$scale_power
    want <- fit$scaling$y_center +
      fit$scaling$y_scale * (mv + sv * (pre$center + pre$scale_factor * Fv))
    expect_equal(got, matrix(want, 3, 2), ignore_attr = TRUE, tolerance = 1e-12)
    # each network keeps its own linear part, whose mean is the fit's; a
    # fit of one network alone maps the draws through that network's m(x)
    expect_identical(dim(pre$linear_folds), c(2L, 1L, 5L))
    expect_equal(apply(pre$linear_folds, 1:2, mean), pre$linear, tolerance = 1e-12)
    m1 <- sbcg:::member_fit(fit, 2)
    pre1 <- m1$precondition
    expect_equal(sbcg:::location_net(pre1, xs),
                 sbcg:::regression_net(pre$net, pre$location[, 2], xs) +
                   cbind(1, xs) %*% pre$linear_folds[, , 2], tolerance = 1e-12)
    mean_of_members <- Reduce(`+`, lapply(1:5, function(j)
      sbcg:::location_net(sbcg:::member_fit(fit, j)$precondition, xs))) / 5
    expect_equal(mean_of_members, sbcg:::location_net(pre, xs), tolerance = 1e-12)
    # and it is a fit like any other: its draws map the same bridge output
    # through that network's m(x) and s(x)
    expect_warning(g1 <- sbsample(m1, nd, ndraws = 2, grid = c(0, 1), method = "bridge",
                                  format = "matrix", seed = 1), "'grid'")
    sv1 <- if (is.null(pre$scale)) 1 else
      pmax(sbcg:::regression_net(pre$net, pre$scale[, 2], xs)[, 1], pre$floor)^pre$scale_power
    want1 <- fit$scaling$y_center + fit$scaling$y_scale *
      (sbcg:::location_net(pre1, xs)[, 1] + sv1 * (pre$center + pre$scale_factor * Fv))
    expect_equal(g1, matrix(want1, 3, 2), ignore_attr = TRUE, tolerance = 1e-12)
    expect_error(sbcg:::member_fit(fit, 6), "'j' must be a whole number in \\[1, 5\\]")
    old <- fit
    old$precondition$linear_folds <- NULL
    expect_error(sbcg:::member_fit(old, 1), "older version")
    expect_no_error(predict(old, nd))
    # a fit is checked before it is used: member linear parts of the wrong shape
    bad <- fit
    bad$precondition$linear_folds <- bad$precondition$linear_folds[, , 1:4, drop = FALSE]
    expect_error(predict(bad, nd), "precondition' is malformed")
  }
  one <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(8, 8), epochs = 3, folds = 1),
               seed = 1)
  expect_null(one$precondition$linear_folds)
  expect_error(sbcg:::member_fit(one, 1), "no cross-fitted")
  # the location network is a least-squares fit: on y = 2 + 3x + 0.1 eps,
  # the SD of its residuals (scale_factor on the original scale, with
  # location only) estimates 0.1, whose standard error from n rows is
  # 0.1 / sqrt(2 n)
  n <- 1000
  d2 <- data.frame(x = runif(n, -1, 1))
  d2$y <- 2 + 3 * d2$x + 0.1 * rnorm(n)
  f2 <- sbfit(y ~ x, d2, control = sbcg_control(hidden = c(8, 8), epochs = 1000,
                                                 validation = 0, precondition = "location"),
              seed = 1)
  rsd <- f2$scaling$y_scale * f2$precondition$scale_factor
  expect_lt(abs(rsd - 0.1), 4 * 0.1 / sqrt(2 * n))
  # the scale network tracks a spread that grows with x: y = (0.6 + 0.5 x) eps
  # has E|Y - m(x)| = (0.6 + 0.5 x) sqrt(2 / pi)
  d3 <- data.frame(x = runif(n, -1, 1))
  d3$y <- (0.6 + 0.5 * d3$x) * rnorm(n)
  f3 <- sbfit(y ~ x, d3, control = sbcg_control(hidden = c(8, 8), epochs = 1000,
                                                 validation = 0), seed = 1)
  x0 <- c(-0.8, 0, 0.8)
  xs <- matrix((x0 - f3$scaling$x_center) / f3$scaling$x_scale, 3)
  s3 <- f3$scaling$y_scale *
    sbcg:::regression_net(f3$precondition$net, f3$precondition$scale, xs)[, 1]
  # tolerance: 4 SDs of a local mean of |Y| from the n / 10 rows within 0.1
  # of x, (0.6 + 0.5 x) sqrt(1 - 2 / pi) / sqrt(n / 10)
  sx <- 0.6 + 0.5 * x0
  expect_true(all(abs(s3 - sx * sqrt(2 / pi)) < 4 * sx * sqrt(1 - 2 / pi) / sqrt(n / 10)),
              info = paste(round(s3, 3), collapse = " "))
  # a fit without preconditioning has none
  fit0 <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(8, 8), epochs = 3,
                                                  precondition = "none"), seed = 1)
  expect_null(fit0$precondition)
})

test_that("the sampler's cached forward pass equals the plain-R network for every activation", {
  # noiseless steps Z <- u Z + a F(Z, t, x) on a 4-point grid, against the
  # same recursion through r_forward(); in double precision up to the
  # order of summation, in single precision up to float rounding: each
  # output takes at most ~20 rounded operations of relative error 6e-8 per
  # layer and step, so 1e-5 relative leaves a wide margin
  set.seed(9)
  for (act in c("silu", "relu", "tanh")) for (single in 0:1) {
    net <- list(d = 2L, p = 3L, hidden = c(7L, 5L), activation = act,
                freq = c(0.5, 2, 9), time_map = if (act == "relu") "logit" else "linear")
    theta <- sbcg:::init_theta(net)
    x <- matrix(rnorm(9), 3)
    tg <- c(0, 0.3, 0.6, 0.9)
    u <- c(1, 0.9, 0.8, 0.7)
    a <- c(0.5, 0.4, 0.3, 0.2)
    res <- .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net), net$freq, theta, x,
                 c(0, 1, 2), 2L, tg, u, a, rep(0, 4), 1:2, 256L, 1L, c(0, 0), c(1, 1),
                 sbcg:::kernel_set(), single, 0L, double())
    Z <- matrix(0, 3, 2)
    for (k in 1:4) Z <- u[k] * Z + a[k] * r_forward(net, theta, Z, rep(tg[k], 3), x)
    draws <- array(res$draws, c(2, 3, 2))  # draw fastest, then row, then component
    for (j in 1:2) expect_equal(draws[j, , ], Z, tolerance = if (single) 1e-5 else 1e-12,
                                info = paste(act, single))
    if (single) expect_false(isTRUE(all.equal(draws[1, , ], Z, tolerance = 1e-12)))
  }
})

test_that("early stopping stops after 'patience' checks and keeps the best weights", {
  # pure noise: the validation loss soon stops improving
  set.seed(11)
  d <- data.frame(x = runif(300), y = rnorm(300))
  ctl <- sbcg_control(hidden = c(16, 16), epochs = 400, lr = 1e-2, lr_schedule = "constant",
                      valid_every = 1, patience = 3, min_epochs = 0, ema = 0,
                      precondition = "none")
  fit <- sbfit(y ~ x, d, control = ctl, seed = 1)
  h <- fit$history
  expect_true(fit$stopped_early)
  expect_lt(nrow(h), 400L)
  expect_false(anyNA(h$valid))
  expect_identical(fit$best_epoch, which.min(h$valid))
  expect_identical(nrow(h) - fit$best_epoch, 3L)
  # the same fit with min_epochs = 50 may not stop before epoch 50
  fit50 <- sbfit(y ~ x, d, control = utils::modifyList(ctl, list(min_epochs = 50)), seed = 1)
  expect_gte(nrow(fit50$history), 50L)
  expect_identical(fit50$history$valid[seq_len(nrow(h))], h$valid)
})

test_that("Adam's pass that also updates the moving average and float weights trains the same bits", {
  # Adam writes the weights' moving average and their float copy in its
  # own pass, except when a decay of the predictors' inputs (wd_input)
  # changes the weights after it: then separate passes do.  A decay of
  # 1e-300 takes that path while multiplying by 1 - lr * 1e-300 = 1
  # exactly, so both paths must give the same weights and losses, with
  # validation checks (which overwrite the float copy) in between.
  set.seed(21)
  net <- list(kind = "regression", d = 1L, p = 2L, hidden = c(12L, 8L),
              activation = "silu", freq = double(), time_map = "linear")
  n <- 90
  Xs <- matrix(rnorm(2 * n), n)
  target <- matrix(sin(2 * Xs[, 1]) + Xs[, 2] + 0.3 * rnorm(n))
  job <- list(theta0 = sbcg:::init_theta(net), target = target, Xs = Xs,
              train = 1:70, valid = 71:n, wt = rep(1, 70), wv = rep(1, 20), seed = c(3L, 1L))
  old <- options(sbcg.kernels = "auto", sbcg.precision = "single")
  on.exit(options(old), add = TRUE)
  for (k in c("auto", "portable")) for (prec in c("single", "double")) {
    options(sbcg.kernels = k, sbcg.precision = prec)
    st <- sbcg:::train_settings(
      sbcg_control(lr = 0.01, ema = 0.9, batch_size = 32, patience = 1000),
      list(epochs = 12, min_epochs = 0, valid_every = 2, val_reps = 1),
      resid = 0, t_min = 0, t_max = 0, t_tail = 0)
    fused <- sbcg:::train_nets(net, list(job), 1L, FALSE, "location", st, labels = "a",
                               group = "g")[[1L]]
    apart <- sbcg:::train_nets(net, list(job), 1L, FALSE, "location",
                               replace(st, "wd_input", 1e-300), labels = "a",
                               group = "g")[[1L]]
    info <- paste(k, prec)
    expect_identical(fused$theta, apart$theta, info = info)
    expect_identical(fused$valid_loss, apart$valid_loss, info = info)
    expect_identical(fused$train_loss, apart$train_loss, info = info)
    # and training moved the weights: the comparison is not of two copies
    # of the start
    expect_gt(max(abs(fused$theta - job$theta0)), 1e-3)
  }
})

test_that("training with log-odds times and the logit time map runs the C paths", {
  set.seed(12)
  d <- data.frame(x = runif(400, -1, 1))
  d$y <- d$x + 0.3 * rnorm(400)
  ctl <- sbcg_control(hidden = c(16, 16), epochs = 30, t_tail = 0.5, time_map = "logit",
                      t_min = 1e-4, t_max = 1 - 1e-4)
  f1 <- sbfit(y ~ x, d, control = ctl, seed = 1)
  f2 <- sbfit(y ~ x, d, control = ctl, seed = 1, threads = 2)
  expect_identical(f1$theta, f2$theta)
  expect_identical(f1$net$time_map, "logit")
  # both settings change what is trained
  f0 <- sbfit(y ~ x, d, control = utils::modifyList(ctl, list(t_tail = 0)), seed = 1)
  fl <- sbfit(y ~ x, d, control = utils::modifyList(ctl, list(time_map = "linear")), seed = 1)
  expect_false(identical(f0$theta, f1$theta))
  expect_false(identical(fl$theta, f1$theta))
})

test_that("folds of fewer than 10 rows share one epoch, chosen on all of them", {
  # three regression networks, as cross_fit() sets them up
  set.seed(11)
  net <- list(kind = "regression", d = 1L, p = 1L, hidden = c(8L, 8L),
              activation = "silu", freq = double(), time_map = "linear")
  n <- 24
  Xs <- matrix(rnorm(n), n)
  target <- matrix(sin(2 * Xs[, 1]) + 0.3 * rnorm(n))
  fold <- rep_len(1:3, n)
  wts <- runif(n, 0.5, 1.5)
  jobs <- lapply(1:3, function(k) {
    inf <- fold == k
    list(theta0 = sbcg:::init_theta(net), target = target, Xs = Xs,
         train = which(!inf), valid = which(inf), wt = wts[!inf] / mean(wts[!inf]),
         wv = wts[inf] / mean(wts[inf]), wsum = sum(wts[inf]), seed = c(k, 3L))
  })
  st <- sbcg:::train_settings(sbcg_control(lr = 0.01, patience = 100), list(
    epochs = 40, min_epochs = 0, valid_every = 4, val_reps = 1), resid = 0, t_min = 0,
    t_max = 0, t_tail = 0)
  runs <- sbcg:::train_nets(net, jobs, 1L, FALSE, "location", st, labels = c("a", "b", "c"),
                            group = "g")
  # the pooled validation loss by hand: the start (epoch 0) and every check
  W <- vapply(jobs, `[[`, 0, "wsum")
  start <- vapply(jobs, function(jb) {
    P <- sbcg:::regression_net(net, jb$theta0, Xs[jb$valid, , drop = FALSE])
    sum(jb$wv * (target[jb$valid] - P)^2) / length(jb$valid)
  }, 0)
  # the trainer reports the same start, computed in the networks' single
  # precision (a relative error of order 1e-7)
  expect_equal(vapply(runs, `[[`, 0, "start_loss"), start, tolerance = 1e-5)
  checks <- seq(4, 40, by = 4)
  pooled <- c(sum(W * start), vapply(checks, function(e)
    sum(W * vapply(runs, function(r) r$valid_loss[e], 0)), 0)) / sum(W)
  want <- c(0, checks)[which.min(pooled)]
  # here epoch 40, which network 1 (best at 32) is retrained to
  expect_gt(want, 0)
  got <- sbcg:::shared_epoch(net, jobs, runs, st, 1L, FALSE, "location")
  expect_identical(vapply(got, `[[`, 0L, "best_epoch"), rep(as.integer(want), 3L))
  for (k in 1:3) {
    again <- sbcg:::train_nets(net, jobs[k], 1L, FALSE, "location",
                               replace(st, c("keep_last", "stop_epoch"), c(1, want)),
                               labels = "a", group = "g")[[1L]]
    expect_identical(got[[k]]$theta, again$theta)
    # a run that keeps its last weights does not score its start
    expect_identical(again$start_loss, NA_real_)
  }
  # a start that scores best keeps the starting weights (the linear fit)
  bad <- lapply(runs, function(r) replace(r, "valid_loss", list(r$valid_loss + 1e3)))
  got0 <- sbcg:::shared_epoch(net, jobs, bad, st, 1L, FALSE, "location")
  expect_identical(lapply(got0, `[[`, "theta"), lapply(jobs, `[[`, "theta0"))
  expect_identical(vapply(got0, `[[`, 0L, "best_epoch"), rep(0L, 3L))
})

test_that("a fit shares the folds' epoch below 10 rows per fold, not above", {
  set.seed(12)
  small <- data.frame(x = runif(40))
  small$y <- sin(4 * small$x) + 0.2 * rnorm(40)
  f1 <- suppressWarnings(sbfit(y ~ x, small, seed = 1))  # 36 training rows, folds of 7-8
  pre <- f1$precondition
  expect_true(pre$shared_epoch)
  expect_length(unique(pre$best_epoch[1:5]), 1L)
  expect_length(unique(pre$best_epoch[6:10]), 1L)
  expect_output(print(summary(f1)), "for every fold, chosen on all folds' rows")
  big <- data.frame(x = runif(150))
  big$y <- sin(4 * big$x) + 0.2 * rnorm(150)
  f2 <- suppressWarnings(sbfit(y ~ x, big, seed = 1,
                               control = sbcg_control(hidden = c(16, 16))))
  expect_false(f2$precondition$shared_epoch)
  expect_output(print(summary(f2)), "best epochs")
})

test_that("with 10 or more predictors the location networks also try input decay", {
  set.seed(13)
  n <- 300
  X <- matrix(rnorm(n * 12), n, dimnames = list(NULL, paste0("x", 1:12)))
  y <- X[, 1] + X[, 2]^2 + 0.5 * rnorm(n)
  ctl <- sbcg_control(hidden = c(16, 16), epochs = 200)
  f12 <- suppressWarnings(sbfit(X, y, seed = 1, control = ctl))
  pre <- f12$precondition
  expect_true(pre$input_decay %in% c(0, sbcg:::input_decay_try))
  # the kept networks are those of the chosen decay: trained again with it
  # from the same starts and seeds, they give the same weights
  f12b <- suppressWarnings(sbfit(X, y, seed = 1, control = ctl))
  expect_identical(f12b$precondition$location, pre$location)
  f9 <- suppressWarnings(sbfit(X[, 1:9], y, seed = 1, control = ctl))
  expect_identical(f9$precondition$input_decay, 0)
  expect_true(pre$input_decay_tried)
  expect_false(f9$precondition$input_decay_tried)
  # a decay given is used without a trial
  f9d <- suppressWarnings(sbfit(X[, 1:9], y, seed = 1,
                                control = sbcg_control(hidden = c(16, 16), epochs = 200,
                                                       input_decay = 3)))
  expect_identical(f9d$precondition$input_decay, 3)
  expect_false(f9d$precondition$input_decay_tried)
  expect_false(identical(f9d$precondition$location, f9$precondition$location))
  expect_output(print(f9d), ", input decay 3[,;]")
  expect_error(sbcg_control(input_decay = -1), "'input_decay'")
  expect_error(sbcg_control(input_decay = c(1, 2)), "'input_decay'")
  expect_output(print(f12), if (pre$input_decay > 0) "input decay 10 \\(out-of-fold" else
    "no input decay \\(out-of-fold")
  # oof_loss: the weighted mean squared error over the training rows
  prep <- list(tidx = 2:4, wt = c(1, 2, 1))
  Y <- matrix(c(0, 1, 2, 3, 4))
  P <- matrix(c(9, 1, 1, 1, 9))
  expect_equal(sbcg:::oof_loss(prep, Y, P), (0 + 2 * 1 + 4) / 4)
})
