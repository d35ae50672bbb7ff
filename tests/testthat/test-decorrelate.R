# Decorrelated bridges: the whitening map of the bridge's target, the
# draws mapped back, the default by the number of components, and the
# fit's format.

test_that("the whitening map and its inverse are symmetric inverses that whiten", {
  set.seed(1)
  R <- matrix(rnorm(500 * 4), 500) %*% matrix(c(1, 0.8, 0, 0, 0, 0.6, 0.3, 0,
                                                 0, 0, 1, 0.9, 0, 0, 0, 0.1), 4)
  w <- runif(500)
  dc <- sbcg:::decorrelation(R, w)
  expect_equal(dc$whiten %*% dc$mix, diag(4), tolerance = 1e-10)
  expect_equal(dc$whiten, t(dc$whiten), tolerance = 1e-12)
  Z <- R %*% dc$whiten
  expect_equal(crossprod(Z * sqrt(w / sum(w))), diag(4), tolerance = 1e-8)
  # a constant (all-zero) column keeps the maps finite and stays zero
  R0 <- cbind(R, 0)
  dc0 <- sbcg:::decorrelation(R0, w)
  expect_true(all(is.finite(dc0$whiten)) && all(is.finite(dc0$mix)))
  expect_equal(max(abs((R0 %*% dc0$whiten)[, 5])), 0, tolerance = 1e-8)
})

test_that("decorrelate = NULL whitens 2 to 4096 components; a bad value is named", {
  expect_null(sbcg_control()$decorrelate)
  expect_error(sbcg_control(decorrelate = "yes"), "'decorrelate'")
  expect_error(sbcg_control(decorrelate = NA), "'decorrelate'")
  expect_false(sbcg:::auto_decorrelate(1L))
  expect_true(sbcg:::auto_decorrelate(2L))
  expect_true(sbcg:::auto_decorrelate(4096L))
  expect_false(sbcg:::auto_decorrelate(4097L))
  set.seed(3)
  x <- matrix(rnorm(60), 60)
  ctl <- sbcg_control(epochs = 1, folds = 1, precondition = "none", validation = 0,
                      hidden = c(16, 16))
  f1 <- sbfit(x, matrix(rnorm(60), 60), control = ctl, seed = 1)
  expect_null(f1$mix)
  expect_identical(f1$format, 2L)
  expect_false(f1$control$decorrelate)
  f2 <- sbfit(x, matrix(rnorm(60 * 2), 60), control = ctl, seed = 1)
  expect_identical(dim(f2$mix), c(2L, 2L))
  expect_identical(f2$format, 3L)
  expect_true(f2$control$decorrelate)
  # asked for explicitly, it can be turned off
  f2n <- sbfit(x, matrix(rnorm(60 * 2), 60), control = sbcg_control(epochs = 1, folds = 1,
               precondition = "none", validation = 0, hidden = c(16, 16), decorrelate = FALSE),
               seed = 1)
  expect_null(f2n$mix)
})

test_that("a decorrelated fit draws the residuals' correlation", {
  # Y | x bivariate normal with correlation 0.9 around a mean that moves
  # with x: after an epoch of training the bridge outputs about nothing,
  # so the draws' correlation is that of the whitening map, estimated on
  # the training rows
  set.seed(4)
  n <- 1500
  x <- runif(n)
  rho <- 0.9
  e1 <- rnorm(n)
  e2 <- rho * e1 + sqrt(1 - rho^2) * rnorm(n)
  Y <- cbind(a = x + e1, b = -x + 0.5 * e2)
  fit <- suppressWarnings(sbfit(data.frame(x = x), Y,
    control = sbcg_control(epochs = 2, decorrelate = TRUE, bridge_inputs = "none"), seed = 1))
  expect_identical(fit$format, 3L)
  m <- 4000
  s <- sbsample(fit, data.frame(x = 0.5), ndraws = m, format = "matrix", seed = 2)
  r <- cor(s[1, , 1], s[1, , 2])
  # standard errors of a correlation near rho: (1 - rho^2) / sqrt(size),
  # for the draws and for the residuals of the training rows the map was
  # estimated on
  se <- (1 - rho^2) * sqrt(1 / m + 1 / fit$n_train)
  expect_lt(abs(r - rho), 4 * se)
  # the shared draws of sbcondstats() (a bridge without x) are mixed too
  st <- sbcondstats(fit, data.frame(x = 0.5), ndraws = m, keep_draws = TRUE, seed = 2)
  D <- attr(st, "draws")
  expect_lt(abs(cor(D[1, , 1], D[1, , 2]) - rho), 4 * se)
  # without decorrelation the same bridge draws nearly uncorrelated
  # components, which shows the map is what carries the correlation
  fit0 <- suppressWarnings(sbfit(data.frame(x = x), Y,
    control = sbcg_control(epochs = 2, decorrelate = FALSE, bridge_inputs = "none"), seed = 1))
  s0 <- sbsample(fit0, data.frame(x = 0.5), ndraws = m, format = "matrix", seed = 2)
  expect_lt(cor(s0[1, , 1], s0[1, , 2]), rho - 4 * se)
})

test_that("a decorrelated fit survives saveRDS(), and a malformed mix is caught", {
  set.seed(5)
  x <- matrix(rnorm(80), 80)
  y <- matrix(rnorm(80 * 3), 80) %*% matrix(c(1, 0.5, 0, 0, 1, 0.5, 0, 0, 1), 3)
  fit <- suppressWarnings(sbfit(x, y, control = sbcg_control(epochs = 2, folds = 1,
                                                             decorrelate = TRUE), seed = 1))
  f <- tempfile(fileext = ".rds")
  on.exit(unlink(f))
  saveRDS(fit, f)
  back <- readRDS(f)
  nd <- x[1:2, , drop = FALSE]
  expect_identical(sbsample(back, nd, ndraws = 5, seed = 3, format = "matrix"),
                   sbsample(fit, nd, ndraws = 5, seed = 3, format = "matrix"))
  bad <- fit
  bad$mix <- NULL
  expect_error(sbsample(bad, nd, ndraws = 2), "'object\\$mix'")
  bad <- fit
  bad$mix <- bad$mix[1:2, 1:2]
  expect_error(sbsample(bad, nd, ndraws = 2), "'object\\$mix'")
  bad <- fit
  bad$format <- 2L
  expect_error(sbsample(bad, nd, ndraws = 2), "'object\\$mix'")
})

test_that("a constant component of a decorrelated fit stays constant", {
  set.seed(6)
  x <- matrix(rnorm(100), 100)
  y <- cbind(a = rnorm(100), b = 2, c = rnorm(100))
  fit <- suppressWarnings(sbfit(x, y, control = sbcg_control(epochs = 2, folds = 1,
                                                             decorrelate = TRUE), seed = 1))
  s <- sbsample(fit, x[1:3, , drop = FALSE], ndraws = 50, format = "matrix", seed = 1)
  expect_true(all(s[, , "b"] == 2))
  expect_true(all(is.finite(s)))
})

test_that("without preconditioning, every row of a decorrelated fit gets its components' centres", {
  # two responses of very different centres: the draws of each row must keep
  # y1 near 0 and y2 near 100, whatever the number of rows asked for
  set.seed(8)
  n <- 300
  d <- data.frame(x = runif(n, -1, 1))
  d$y1 <- 0.3 * rnorm(n)
  d$y2 <- 100 + 0.3 * rnorm(n)
  f <- sbfit(cbind(y1, y2) ~ x, d, seed = 1,
             control = small_control(precondition = "none", validation = 0))
  expect_true(f$control$decorrelate)
  m <- predict(f, data.frame(x = c(0, 0.5, -0.5)), ndraws = 200, seed = 2)
  # the draws' SD is about 0.3 after scaling, so 5 units is far outside any error
  expect_true(all(abs(m[, "y1"]) < 5))
  expect_true(all(abs(m[, "y2"] - 100) < 5))
  # and the first row's draws are the same alone or among others
  expect_identical(unname(sbsample(f, data.frame(x = 0.5), ndraws = 20, seed = 2,
                                   format = "matrix")),
                   unname(sbsample(f, data.frame(x = c(0.5, 0)), ndraws = 20, seed = 2,
                                   format = "matrix")[1, , , drop = FALSE]))
})
