# A share of the law from a bridge on the response itself
# (sbcg_control(direct_share), direct.R).

# (100 epochs: with fewer, the bridge on y is left out, its held-out CRPS
# far above the fit's; direct_keeps())
direct_fit <- function(d, seed = 2, ...) {
  ctl <- utils::modifyList(list(epochs = 100), list(...))
  suppressWarnings(sbfit(y ~ x, d, control = do.call(small_control, ctl), seed = seed,
                         support = "real"))
}

test_that("direct_share is a number in [0, 0.9], a fifth by default", {
  expect_identical(sbcg_control()$direct_share, 0.2)
  expect_identical(sbcg_control(direct_share = 0)$direct_share, 0)
  for (bad in list(-0.1, 0.95, NA, "a", c(0.1, 0.2)))
    expect_error(sbcg_control(direct_share = bad), "'direct_share' must be a single number")
})

test_that("the direct draws are a share q of each row's, spread over rows and prefixes", {
  cseed <- c(123456L, 654321L)
  for (q in c(0.05, 0.2, 0.5)) {
    D <- sbcg:::direct_draws(1000L, 0:99, cseed, q)
    expect_true(all(abs(colSums(D) - 1000 * q) < 1 + 1e-9))
    expect_identical(sbcg:::direct_draws(37L, 0:99, cseed, q), D[1:37, ])
    one <- sbcg:::direct_draws(1L, 0:999, cseed, q)
    expect_lt(abs(sum(one) - 1000 * q), 5)
  }
  # which draws are direct does not follow which are linear: with one draw
  # a row, the rows whose draw is linear hold a share q of direct ones
  # (within 4 binomial standard errors)
  ids <- 0:19999
  dir1 <- sbcg:::direct_draws(1L, ids, cseed, 0.2)[1L, ]
  lin1 <- sbcg:::linear_draws(1L, ids, cseed, 0.25)[1L, ]
  expect_lt(abs(mean(dir1[lin1]) - 0.2), 4 * sqrt(0.2 * 0.8 / sum(lin1)))
  # groups of draws stay whole
  G <- sbcg:::direct_draws(40L, 0:9, cseed, 0.5, gs = 4L)
  expect_true(all(G[c(TRUE, FALSE, FALSE, FALSE), ] == G[c(FALSE, TRUE, FALSE, FALSE), ]))
})

test_that("a fit with few held-out rows adds the direct bridge and keeps the rest to the bit", {
  d <- gauss_data(150, 4)
  on <- direct_fit(d)
  off <- direct_fit(d, direct_share = 0)
  dr <- on$direct
  expect_false(is.null(dr))
  expect_null(off$direct)
  expect_identical(dr$share, 0.2)
  expect_identical(on$format, 15L)
  expect_identical(dr$base_format, off$format)
  # trained on the same rows, without preconditioning, its own weights
  expect_identical(dr$holdout$n, on$holdout$n)
  expect_false(identical(dr$theta, on$theta))
  # everything else is the fit without it: the networks, the bridge, the
  # held-out scores and the map
  no_time <- function(p) if (is.list(p)) lapply(p[setdiff(names(p), "seconds")], no_time) else p
  for (k in c("theta", "precondition", "holdout", "recalibration", "linear", "members"))
    expect_identical(no_time(on[[k]]), no_time(off[[k]]), label = k)
  expect_output(print(on), "Direct bridge: 20% of each row's draws from a bridge on the response itself")
  expect_output(print(summary(on)), "Direct: ")
  # saved and read back, the same draws; the first m draws of a call are
  # those of a call of m draws (m even: the two pooled bridges deal them)
  nd <- data.frame(x = c(-1.5, 0, 1))
  p <- tempfile(fileext = ".rds")
  saveRDS(on, p)
  g <- readRDS(p)
  a <- sbsample(on, nd, ndraws = 60, format = "matrix", seed = 3)
  expect_identical(sbsample(g, nd, ndraws = 60, format = "matrix", seed = 3), a)
  expect_identical(sbsample(on, nd, ndraws = 26, format = "matrix", seed = 3), a[, 1:26])
  # each row holds 12 direct draws of 60, the others those of the fit
  # without it
  b <- sbsample(off, nd, ndraws = 60, format = "matrix", seed = 3)
  expect_true(all(rowSums(a != b) <= 12))
  expect_true(all(rowSums(a == b) >= 48))
})

test_that("the mixture's draws have the mixture's law", {
  d <- gauss_data(150, 4)
  f <- direct_fit(d)
  nd <- data.frame(x = 0.5)
  m <- 20000L
  y <- sbsample(f, nd, ndraws = m, format = "matrix", seed = 5)[1, ]
  y0 <- sbsample(sbcg:::direct_rest(f), nd, ndraws = m, format = "matrix", seed = 6)[1, ]
  y1 <- sbsample(sbcg:::direct_object(f), nd, ndraws = m, format = "matrix", seed = 7)[1, ]
  q <- f$direct$share
  # P(Y <= c) of the mixture against the two laws' from independent
  # draws: within 4 standard errors
  for (c0 in stats::quantile(y, c(0.1, 0.5, 0.9))) {
    p0 <- mean(y0 <= c0)
    p1 <- mean(y1 <= c0)
    pw <- (1 - q) * p0 + q * p1
    se <- sqrt(((1 - q)^2 * p0 * (1 - p0) + q^2 * p1 * (1 - p1)) / m + pw * (1 - pw) / m)
    expect_lt(abs(mean(y <= c0) - pw), 4 * se)
  }
})

test_that("fits with many held-out rows, none, or no preconditioning have no direct bridge", {
  d <- gauss_data(150, 4)
  expect_null(direct_fit(d, validation = 0)$direct)
  expect_null(direct_fit(d, precondition = "none")$direct)
  big <- gauss_data(450, 5)
  many <- direct_fit(big, validation = 0.5)
  expect_gte(many$n_valid, 200)
  expect_null(many$direct)
  # two responses: none either
  d$y2 <- d$y + rnorm(nrow(d))
  two <- suppressWarnings(sbfit(cbind(y, y2) ~ x, d, control = small_control(), seed = 1))
  expect_null(two$direct)
})

test_that("a fit with a direct bridge is checked as the format beneath it, and the bridge as a fit", {
  d <- gauss_data(150, 4)
  f <- direct_fit(d)
  nd <- d[1:2, ]
  bad <- f
  bad$direct <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "format' is 15 exactly")
  bad <- f
  bad$direct$share <- 1.5
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$direct' is malformed")
  bad <- f
  bad$direct$base_format <- 99L
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$direct\\$base_format' must be")
  bad <- f
  bad$direct$theta <- bad$direct$theta[-1]
  expect_error(sbsample(bad, nd, ndraws = 5), "object\\$direct")
  # an ensemble gets one direct bridge, over its members' dealt draws
  e <- direct_fit(d, ensemble = 2)
  expect_false(is.null(e$direct))
  expect_identical(e$direct$base_format, sbcg:::direct_rest(e)$format)
  expect_false(is.null(e$members))
  expect_error(sbcg:::check_fit(e), NA)
  expect_identical(dim(sbsample(e, nd, ndraws = 10, format = "matrix", seed = 1)), c(2L, 10L))
})

test_that("a direct bridge far worse on the held-out rows is left out, and print() says so", {
  keeps <- sbcg:::direct_keeps
  expect_true(keeps(c(fit = 1, direct = 1.3)))
  expect_false(keeps(c(fit = 1, direct = 1.31)))
  expect_true(keeps(c(fit = 1, direct = 0.5)))
  expect_true(keeps(c(fit = NA, direct = 2)))
  expect_true(keeps(c(direct = 2)))
  d <- gauss_data(150, 4)
  f <- direct_fit(d)
  expect_named(f$choice_direct, c("fit", "direct"))
  expect_identical(f$choice_direct[["fit"]], f$holdout$crps)
  expect_identical(f$choice_direct[["direct"]], f$direct$holdout$crps)
  out <- sbcg:::direct_rest(f)
  out$choice_direct <- c(fit = 1, direct = 2)
  expect_identical(out$format, f$direct$base_format)
  expect_output(print(out), "Direct bridge: trained on the response itself and left out: its held-out CRPS 2 is more than 1.3 times the fit's, 1")
  expect_output(print(summary(out)), "Direct: +trained on the response itself and left out")
  # a fit that never trained one says nothing of it
  expect_false(any(grepl("Direct", capture.output(print(direct_fit(d, direct_share = 0))))))
})

test_that("the direct bridge reads skewed predictors on the fit's log-like scale", {
  # a predictor spread over five decades, on whose log the response
  # depends: the location networks keep the log-like scale
  # (skew_transform), and the direct bridge, trained on the same
  # standardised columns, follows log(x) (read on the raw scale, its
  # inputs would be off by orders of magnitude)
  set.seed(8)
  x <- exp(runif(200, -6, 6))
  d <- data.frame(x = x, y = log(x) + rnorm(200, sd = 0.3))
  f <- suppressWarnings(sbfit(y ~ x, d, seed = 3, support = "real",
                              control = small_control(epochs = 1000, piecewise = FALSE,
                                                      skew_transform = TRUE)))
  expect_true(any(f$scaling$x_log > 0))
  expect_false(is.null(f$direct))
  nd <- data.frame(x = exp(c(-5, -3, -1, 1, 3, 5)))
  md <- rowMeans(sbsample(sbcg:::direct_object(f), nd, ndraws = 400, format = "matrix",
                          seed = 2))
  # within the noise's SD of log(x) (400 draws leave a Monte Carlo error
  # of about 0.015)
  expect_lt(max(abs(md - log(nd$x))), 0.3)
})
