# A bridge that sees the location and log scale of the preconditioning
# instead of the predictors (bridge_inputs = "location", and "auto" with
# fewer than 200 held-out rows).

# y's law is a scaled gamma whose shape grows with its mean: skewed where
# the mean is low, nearly symmetric where it is high; x3 plays no part.
skew_data <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(x1 = runif(n), x2 = runif(n), x3 = runif(n))
  mu <- exp(1 + 1.5 * d$x1 + 1.5 * d$x2)
  k <- 0.5 * mu
  d$y <- mu * stats::rgamma(n, shape = k) / k
  d
}

test_that("the bridge's inputs are the standardised location and log scale", {
  # (on the real line, uncut: the law itself)
  d <- skew_data(300, 1)
  fit <- sbfit(y ~ x1 + x2 + x3, d, seed = 1, support = "real",
               control = small_control(bridge_inputs = "location"))
  expect_identical(fit$format, 6L)
  expect_true(fit$bridge_x)
  expect_true(fit$location_inputs)
  pre <- fit$precondition
  expect_length(pre$features$center, 2L)
  expect_true(all(pre$features$scale > 0))
  Xs <- sbcg:::apply_scaling(as.matrix(d[1:5, c("x1", "x2", "x3")]),
                             list(center = fit$scaling$x_center, scale = fit$scaling$x_scale))
  B <- sbcg:::bridge_x(fit, Xs)
  m <- sbcg:::location_net(pre, Xs)[, 1]
  s <- sbcg:::scale_net(pre, Xs)[, 1]
  expect_equal(B[, 1], unname(m - pre$features$center[1]) / pre$features$scale[1])
  expect_equal(B[, 2], unname(log(s) - pre$features$center[2]) / pre$features$scale[2])
  expect_true(all(B[, 3] == 0))
  nd <- d[1:2, c("x1", "x2", "x3")]
  expect_output(print(fit), "location and log scale as its inputs")
  # when the bridge without x was kept, print() names what the other saw
  txt <- sbcg:::bridge_string(list(
    bridge_x = FALSE, location_inputs = TRUE, n_valid = 30L,
    bridge_choice = c(x = 0.8, none = 0.9), bridge_cover90 = c(x = 0.8, none = 0.9)))
  expect_match(txt, "CRPS 0.8 with the location and log scale, 0.9 without", fixed = TRUE)
  # saved and read back, the same draws
  f <- tempfile(fileext = ".rds")
  saveRDS(fit, f)
  expect_identical(sbsample(readRDS(f), nd, ndraws = 20, seed = 2),
                   sbsample(fit, nd, ndraws = 20, seed = 2))
})

test_that("'auto' sees the location and scale on few rows, the predictors on many", {
  d <- skew_data(300, 2)
  fa <- sbfit(y ~ x1 + x2 + x3, d, seed = 2, control = small_control())
  # both bridges were trained and pooled; the one that sees x did so
  # through m and s, and the preconditioning they share keeps its inputs
  expect_named(fa$bridge_choice, c("x", "none"))
  expect_true(fa$location_inputs)
  expect_true(fa$pooled_bridges)
  expect_identical(fa$format, 10L)
  expect_identical(sbcg:::fit_format(sbcg:::member_object(fa, 1L)), 6L)
  expect_type(fa$precondition$features, "list")
  # one predictor: the bridge sees it, as with "x"
  g <- gauss_data(300, 2)
  f1 <- sbfit(y ~ x, g, seed = 2, control = small_control(bridge_inputs = "location"))
  fx <- sbfit(y ~ x, g, seed = 2, control = small_control(bridge_inputs = "x"))
  expect_null(f1$location_inputs)
  expect_identical(f1$format, 5L)
  expect_identical(f1$theta, fx$theta)
  # 200 or more held-out rows: the predictors themselves
  big <- skew_data(2000, 3)
  fb <- sbfit(y ~ x1 + x2 + x3, big, seed = 3, control = small_control(epochs = 2))
  expect_gte(fb$n_valid, 200L)
  expect_null(fb$location_inputs)
  expect_null(fb$precondition$features)
  # several responses or no scale network: the predictors
  fl <- sbfit(y ~ x1 + x2 + x3, d, seed = 2,
              control = small_control(bridge_inputs = "location", precondition = "location"))
  expect_null(fl$precondition$features)
  expect_identical(fl$format, 5L)
})

test_that("ensemble members each see their own location and scale", {
  d <- skew_data(200, 4)
  fe <- sbfit(y ~ x1 + x2 + x3, d, seed = 4,
              control = small_control(bridge_inputs = "location", ensemble = 2))
  expect_identical(fe$format, 6L)
  expect_length(fe$members, 1L)
  expect_type(fe$members[[1]]$precondition$features, "list")
  m2 <- sbcg:::member_object(fe, 2L)
  expect_identical(m2$format, 6L)
  expect_identical(m2$precondition, fe$members[[1]]$precondition)
  s <- sbcondstats(fe, d[1:2, ], ndraws = 100, seed = 1, density = FALSE)
  expect_true(all(is.finite(s$sd) & s$sd > 0))
})

test_that("malformed location inputs and formats are refused", {
  d <- skew_data(200, 5)
  fit <- sbfit(y ~ x1 + x2 + x3, d, seed = 5,
               control = small_control(bridge_inputs = "location", linear_mix = FALSE))
  bad <- fit
  bad$format <- 5L
  expect_error(sbsample(bad, d[1, ], ndraws = 5), "format")
  bad <- fit
  bad$precondition$features$scale <- c(1, -1)
  expect_error(sbsample(bad, d[1, ], ndraws = 5), "precondition")
  bad <- fit
  bad$precondition$features <- NULL
  expect_error(sbsample(bad, d[1, ], ndraws = 5), "format")
  bad <- fit
  bad$format <- 16L
  expect_error(sbsample(bad, d[1, ], ndraws = 5), "another version")
  expect_error(sbcg_control(bridge_inputs = "scale"), "bridge_inputs")
})

test_that("through the location and scale the law's shape follows its level", {
  # Skewness of the draws where the mean is low and where it is high: 2.3
  # and 0.38 for the true law.  A bridge without the predictors draws one
  # standardised law everywhere (the same skewness up to Monte Carlo
  # error); through m and s the bridge can skew the low rows more.  The
  # tolerance is three standard errors of the difference, from the spread
  # of the skewness over 20 batches of the draws.
  d <- skew_data(1000, 6)
  nd <- data.frame(x1 = c(0, 1), x2 = c(0, 1), x3 = 0.5)
  skew <- function(v) mean((v - mean(v))^3) / mean((v - mean(v))^2)^1.5
  gap <- function(bi) {
    f <- sbfit(y ~ x1 + x2 + x3, d, seed = 1, support = "real",
               control = sbcg_control(bridge_inputs = bi, hidden = c(32, 32),
                                       linear_mix = FALSE))
    D <- sbsample(f, nd, ndraws = 4000, seed = 2, format = "matrix")
    b <- rep(1:20, each = 200)
    g <- vapply(1:20, function(k) skew(D[1, b == k]) - skew(D[2, b == k]), 0)
    c(gap = skew(D[1, ]) - skew(D[2, ]), se = stats::sd(g) / sqrt(20))
  }
  loc <- gap("location")
  none <- gap("none")
  expect_lt(abs(none[["gap"]]), 3 * none[["se"]])
  expect_gt(loc[["gap"]] - none[["gap"]], 3 * sqrt(loc[["se"]]^2 + none[["se"]]^2))
})
