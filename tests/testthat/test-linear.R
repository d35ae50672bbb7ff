# A linear part in the law (sbcg_control(linear_mix = TRUE), linear.R).

lin_data <- function(n, seed) {
  set.seed(seed)
  x1 <- runif(n, -2, 2)
  x2 <- rnorm(n)
  data.frame(x1 = x1, x2 = x2, y = 1 + 2 * x1 - x2 + rnorm(n))
}

test_that("linear_mix is a flag, on by default", {
  expect_true(sbcg_control()$linear_mix)
  expect_error(sbcg_control(linear_mix = "yes"), "linear_mix")
  expect_error(sbcg_control(linear_mix = NA), "linear_mix")
  d <- lin_data(60, 1)
  fit2 <- function(...) suppressWarnings(sbfit(y ~ x1 + x2, d, control = small_control(...),
                                               seed = 2, support = "real"),
                                         classes = "sbcg_few_heldout")
  on <- fit2()
  off <- fit2(linear_mix = FALSE)
  expect_false(is.null(on$linear))
  expect_null(off$linear)
  # the networks and the bridge are the same to the bit
  expect_identical(off$theta, on$theta)
  no_time <- function(p) p[setdiff(names(p), "seconds")]
  expect_identical(no_time(off$precondition), no_time(on$precondition))
  # the recalibration is learned from the held-out PITs of the law it
  # samples, with the linear part (its Cramer-von Mises statistic is that
  # of those PITs' scores)
  expect_false(identical(on$holdout$pit, off$holdout$pit))
  cvm <- function(f) sbcg:::cvm_uniform(pmin(1, abs(2 * f$holdout$pit - 1)))
  expect_equal(on$recalibration$cvm, cvm(on))
  expect_equal(off$recalibration$cvm, cvm(off))
})

test_that("the linear draws are a share 1 - w of each row's, spread over rows and prefixes", {
  cseed <- c(123456L, 654321L)
  for (q in c(0.05, 0.3, 0.5, 0.95)) {
    L <- sbcg:::linear_draws(1000L, 0:99, cseed, q)
    # each row's count is q n rounded one way or the other
    expect_true(all(abs(colSums(L) - 1000 * q) < 1 + 1e-9))
    # a call of fewer draws marks the same first draws
    expect_identical(sbcg:::linear_draws(37L, 0:99, cseed, q), L[1:37, ])
    # with one draw a row, a share q of the rows: the offsets are spread
    # evenly (a Weyl sequence), so the count is within a few of q n
    one <- sbcg:::linear_draws(1L, 0:999, cseed, q)
    expect_lt(abs(sum(one) - 1000 * q), 5)
  }
  # which rows' draws are linear does not follow which member of a pool
  # their deal starts at: with one draw a row, the rows of either start
  # hold a share q of linear draws (within 4 binomial standard errors)
  ids <- 0:19999
  one <- sbcg:::linear_draws(1L, ids, cseed, 0.25)[1L, ]
  off <- sbcg:::deal_offsets(cseed, ids, 2L)
  for (o in 0:1) {
    k <- sum(off == o)
    expect_lt(abs(mean(one[off == o]) - 0.25), 4 * sqrt(0.25 * 0.75 / k))
  }
  # groups of draws stay whole
  G <- sbcg:::linear_draws(40L, 0:9, cseed, 0.5, gs = 4L)
  expect_true(all(G[c(TRUE, FALSE, FALSE, FALSE), ] == G[c(FALSE, TRUE, FALSE, FALSE), ]))
  expect_true(all(abs(colSums(G) / 4 - 5) <= 1))
})

test_that("a linear law is mixed in where it scores better out of fold", {
  d <- lin_data(60, 1)
  f <- suppressWarnings(sbfit(y ~ x1 + x2, d, control = small_control(linear_mix = TRUE),
                              seed = 2, support = "real"), classes = "sbcg_few_heldout")
  # 60 rows of a linear law with Gaussian noise: three epochs leave the
  # networks at their linear start, and least squares' own law competes
  lin <- f$linear
  expect_false(is.null(lin))
  expect_identical(f$format, 14L)
  expect_true(lin$weight >= 0.75 && lin$weight < 1)
  expect_lte(lin$crps_mix, lin$crps_fit)
  # the law itself: least squares on the training rows, on the
  # standardised scale
  fm <- stats::lm(y ~ x1 + x2, d)
  expect_equal(lin$df, fm$df.residual - (nrow(d) - f$n_train))
  expect_output(print(f), "Linear part: [0-9.]+% of the draws")
  expect_output(print(summary(f)), "Linear: ")
  # saved and read back, the same draws
  p <- tempfile(fileext = ".rds")
  saveRDS(f, p)
  g <- readRDS(p)
  nd <- data.frame(x1 = c(-1, 0, 1.5), x2 = c(0, 1, -1))
  expect_identical(sbsample(g, nd, ndraws = 50, seed = 4), sbsample(f, nd, ndraws = 50, seed = 4))
  # a malformed part is refused with a clear error
  bad <- f
  bad$linear$weight <- 1.5
  expect_error(sbsample(bad, nd), "'object\\$linear' is malformed")
  bad <- f
  bad$linear <- NULL
  expect_error(sbsample(bad, nd), "format' is 14 exactly")
})

test_that("the mixture's draws have the mixture's law", {
  d <- gauss_data(200, 3)
  f <- sbfit(y ~ x, d, control = small_control(linear_mix = TRUE), seed = 3, support = "real")
  # out of fold, the networks' law and least squares' score about alike
  # on these heteroscedastic rows: the largest share allowed
  expect_equal(f$linear$weight, 0.75)
  nd <- data.frame(x = 0.5)
  m <- 20000L
  y <- sbsample(f, nd, ndraws = m, format = "matrix", seed = 5)[1, ]
  own <- f
  own$linear <- NULL
  own$format <- sbcg:::fit_format(own)
  y0 <- sbsample(own, nd, ndraws = m, format = "matrix", seed = 6)[1, ]
  lin <- f$linear
  X <- sbcg:::apply_scaling(as.matrix(nd), list(center = f$scaling$x_center,
                                                scale = f$scaling$x_scale))
  mo <- sbcg:::linear_moments(lin, X)
  mu <- mo$mu * lin$y_scale + lin$y_center
  s <- mo$sd * lin$y_scale
  w <- lin$weight
  # mean and P(Y <= c) of the mixture, against the two laws' (the
  # networks' from independent draws): within 4 standard errors
  want <- w * mean(y0) + (1 - w) * mu
  se <- sqrt(w^2 * var(y0) / m + var(y) / m)
  expect_lt(abs(mean(y) - want), 4 * se)
  for (c0 in stats::quantile(y, c(0.1, 0.5, 0.9))) {
    pw <- w * mean(y0 <= c0) + (1 - w) * stats::pt((c0 - mu) / s, lin$df)
    se <- sqrt(w^2 * pw * (1 - pw) / m + pw * (1 - pw) / m)
    expect_lt(abs(mean(y <= c0) - pw), 4 * se)
  }
  # the held-out scores are those of the mixture
  expect_false(is.null(f$holdout))
})

test_that("a law far from linear keeps the networks' alone", {
  set.seed(3)
  n <- 400
  x <- runif(n, -3, 3)
  d <- data.frame(x = x, y = sign(x) * 3 + 0.2 * rnorm(n))
  f <- sbfit(y ~ x, d, control = sbcg_control(linear_mix = TRUE, hidden = c(32, 32)),
             seed = 1, support = "real")
  # a step of height 6 against noise of SD 0.2: out of fold, any share of
  # the linear law (residual SD about 1.3) raises the CRPS
  expect_null(f$linear)
  expect_identical(f$format, sbcg:::fit_format(f))
})

# 15 rows of 11 predictors that do not matter, and their fit
noise_rows <- function() {
  set.seed(4)
  d <- as.data.frame(matrix(rnorm(15 * 12), 15))
  names(d)[12] <- "y"
  d
}
fit_noise <- function(d, ...) {
  suppressWarnings(sbfit(y ~ ., d, control = small_control(...), seed = 1, support = "real"),
                   classes = "sbcg_few_heldout")
}

test_that("the fit's linear law is the one its folds judged", {
  # on the folds' 11 or 12 rows least squares keeps the intercept alone;
  # on all 14 training rows it could keep the 11 predictors with two
  # degrees of freedom, a law no fold judged, whose prediction intervals
  # at new rows are far wider than the response's spread
  f <- fit_noise(noise_rows())
  expect_identical(f$linear$cols, 1L)
  expect_identical(f$linear$df, 13L)
})

test_that("the linear share passes a quarter only where the fit's own law is far worse", {
  q <- (seq_len(99) - 0.5) / 99
  atoms <- function(n, s) s * outer(rep(1, n), stats::qnorm(q))
  choice <- function(n, sf, seed) {
    set.seed(seed)
    y <- rnorm(n)
    ch <- sbcg:::linear_choice(sbcg:::mix_terms(atoms(n, sf), atoms(n, 1), y), rep(1, n))
    sbcg:::linear_grid[ch$best]
  }
  # the fit's law four times too wide on 200 rows: the linear law alone
  expect_identical(choice(200, 4, 1), 0)
  # 30% too wide: the CRPS is lowest below 0.75, but the fit's own law
  # scores less than 1.5 times the linear law's, and the bound holds
  set.seed(2)
  y <- rnorm(2000)
  tm <- sbcg:::mix_terms(atoms(2000, 1.3), atoms(2000, 1), y)
  ch <- sbcg:::linear_choice(tm, rep(1, 2000))
  expect_lt(which.min(ch$crps), ch$best)
  expect_identical(sbcg:::linear_grid[ch$best], 0.75)
  # far worse on average, but from one row of four, the others a little
  # better: the paired differences leave the gain in doubt (terms of a
  # CRPS linear in the weight)
  tm <- list(AF = c(8, 0.5, 0.5, 0.5), AG = c(1, 0.6, 0.6, 0.6), BFF = 0, BGG = 0, BFG = 0)
  ch <- sbcg:::linear_choice(tm, rep(1, 4))
  expect_gt(ch$crps[length(ch$crps)], 1.5 * ch$crps[1L])
  expect_identical(sbcg:::linear_grid[ch$best], 0.75)
  # every row far worse: the linear law alone
  tm$AF <- c(2, 1.8, 1.9, 2.1)
  expect_identical(sbcg:::linear_grid[sbcg:::linear_choice(tm, rep(1, 4))$best], 0)
  # 15 rows of 11 predictors that do not matter: the networks' law is far
  # too wide out of fold, and the linear law takes more than a quarter of
  # the draws
  d <- noise_rows()
  f <- fit_noise(d)
  expect_lt(f$linear$weight, 0.75)
  expect_lte(f$linear$crps_mix, f$linear$crps_fit)
  spread <- function(f) apply(sbsample(f, d[1:3, ], ndraws = 2000, format = "matrix", seed = 1),
                              1L, sd)
  # the networks alone spread their draws over about six times the
  # response's SD; with the linear part, less than twice
  expect_true(all(spread(fit_noise(d, linear_mix = FALSE)) > 4 * sd(d$y)))
  expect_true(all(spread(f) < 2 * sd(d$y)))
})

test_that("weighted fits and count fits take a linear part on their own scale", {
  d <- lin_data(80, 7)
  w <- rep(c(1, 2), 40)
  f <- suppressWarnings(sbfit(y ~ x1 + x2, d, weights = w,
                              control = small_control(linear_mix = TRUE), seed = 2,
                              support = "real"), classes = "sbcg_few_heldout")
  expect_true(is.null(f$linear) || (f$linear$weight >= 0 && f$linear$weight < 1))
  set.seed(8)
  dc <- data.frame(x = runif(120))
  dc$y <- rpois(120, exp(1 + dc$x))
  fc <- suppressWarnings(sbfit(y ~ x, dc, control = small_control(linear_mix = TRUE), seed = 3,
                               support = "count"), classes = "sbcg_few_heldout")
  yc <- sbsample(fc, data.frame(x = c(0.2, 0.8)), ndraws = 400, format = "matrix", seed = 1)
  # the draws stay counts, linear ones too
  expect_true(all(yc >= 0 & yc == round(yc)))
})

test_that("an ensemble mixes its linear part in once, over the members' dealt draws", {
  d <- lin_data(60, 1)
  f <- suppressWarnings(sbfit(y ~ x1 + x2, d, control = small_control(ensemble = 2), seed = 2,
                              support = "real"), classes = "sbcg_few_heldout")
  expect_false(is.null(f$linear))
  expect_null(f$members[[1]]$linear)
  nd <- data.frame(x1 = c(-1, 0, 1.5), x2 = c(0, 1, -1))
  X <- sbcg:::newdata_matrix(f, nd)
  g <- sbcg:::sampler_grid(f, warn = FALSE)
  cs <- c(11L, 22L)
  n <- 40L
  D <- matrix(sbcg:::sample_raw(f, X, 0:2, n, g, cs, 1L)$draws, n)
  own <- f
  own$linear <- NULL
  own$format <- sbcg:::fit_format(own)
  D0 <- matrix(sbcg:::sample_raw(own, X, 0:2, n, g, cs, 1L)$draws, n)
  # the draws marked linear are replaced, every other one is the
  # ensemble's own draw
  L <- sbcg:::linear_draws(n, 0:2, cs, 1 - f$linear$weight)
  expect_identical(D[!L], D0[!L])
  expect_true(all(D[L] != D0[L]))
})

test_that("the standard errors of a mixture's statistics do not understate their spread", {
  # The linear draws are Student-t quantiles at evenly spread points, and
  # which draws are linear is fixed by the row: the mixture's statistics
  # vary less than independent draws' would, so the errors, computed as
  # for independent draws, are on the safe side.  80 copies of one row as
  # in test-probabilities.R, with its fit (a bridge that sees x, so that
  # the copies' draws are independent): the SD over copies must not exceed
  # the root mean square error by more than that test allows.
  f <- sbfit(y ~ x, gauss_data(200, 21), control = small_control(bridge_inputs = "x"), seed = 1)
  expect_false(is.null(f$linear))
  expect_true(sbcg:::bridge_sees_x(f))
  for (stratify in c(FALSE, TRUE)) {
    st <- sbcondstats(f, data.frame(x = rep(0.5, 80)), ndraws = 400,
                      probs = c(0.1, 0.5, 0.9), at = 1, se = TRUE, density = FALSE,
                      seed = 5, stratify = stratify)
    for (v in c("mean", "sd", "q0.1", "q0.5", "q0.9", "p1"))
      expect_lt(sd(st[[v]]) / sqrt(mean(st[[paste0("se_", v)]]^2)), 1.4,
                label = paste(if (stratify) "stratified" else "independent", v))
  }
})

test_that("a fit with a linear part is checked as the format beneath it", {
  # the part keeps the fit's format without it, so that removing an
  # older part of such a fit by hand is refused as it would be without
  # the linear part (here the location and scale a bridge sees, format 6)
  d <- lin_data(200, 3)
  f <- suppressWarnings(sbfit(y ~ x1 + x2, d,
                              control = small_control(bridge_inputs = "location", direct_share = 0),
                              seed = 2, support = "real"))
  expect_identical(f$format, 14L)
  expect_identical(f$linear$base_format, 6L)
  own <- f
  own$linear <- NULL
  expect_identical(sbcg:::fit_format(own), 6L)
  nd <- d[1:2, ]
  bad <- f
  bad$precondition$features <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$format' is 6 exactly when")
  bad <- f
  bad$linear$base_format <- 99L
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$linear\\$base_format' must be")
  # a part of the first version, without it, is checked as before
  old <- f
  old$linear$base_format <- NULL
  expect_identical(sbsample(old, nd, ndraws = 5, seed = 1), sbsample(f, nd, ndraws = 5, seed = 1))
  # a member of an ensemble, as a fit of its own, keeps its own format
  # beneath the part
  e <- suppressWarnings(sbfit(y ~ x1 + x2, d, control = small_control(ensemble = 2), seed = 2,
                              support = "real"))
  m2 <- sbcg:::member_object(e, 2L)
  expect_identical(m2$linear$base_format, sbcg:::base_format(m2))
  expect_error(sbcg:::check_fit(m2), NA)
  # the cut at 0 of a fit of responses not below 0 moves both formats
  y <- abs(d$y)
  fy <- suppressWarnings(sbfit(d[c("x1", "x2")], y, control = small_control(direct_share = 0),
                               seed = 2, support = "real"))
  expect_false(is.null(fy$linear))
  cut <- sbcg:::cut_at_zero(fy, matrix(y))
  expect_identical(c(cut$format, cut$linear$base_format), c(14L, 12L))
  expect_error(sbcg:::check_fit(cut), NA)
})
