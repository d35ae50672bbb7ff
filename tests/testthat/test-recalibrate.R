# Recalibration from the held-out PITs (sbcg_control(recalibrate = TRUE)).

test_that("calibrated PITs give a map near the identity", {
  set.seed(1)
  n <- 2000
  map <- sbcg:::recalibration_map(runif(n), rnorm(25000), weight = 1)
  v <- c(0.05, 0.25, 0.5, 0.75, 0.95)
  # the knots are quantiles of n uniform scores, SE sqrt(l (1 - l) / n) on
  # the score's scale, half that on the level's
  se <- sqrt(0.25 / n) / 2
  expect_true(all(abs(sbcg:::recal_inverse(map, v) - v) < 4 * se))
  # and T moves standardised draws by no more than those levels do
  z <- qnorm(v)
  expect_true(all(abs(pnorm(sbcg:::recal_apply(map, z)) - v) < 4 * se + 0.01))
})

test_that("a law twice too wide is narrowed to the right coverage", {
  # the fit's law N(0, 2^2), the truth N(0, 1): PIT = pnorm(y / 2); the
  # standardised draws are those of the fit's law divided by its scale 2
  set.seed(2)
  n <- 2000
  y <- rnorm(n)
  Z <- rnorm(25000)
  map <- sbcg:::recalibration_map(pnorm(y / 2), Z)
  draws <- 2 * sbcg:::recal_apply(map, rnorm(2e5))
  cover <- function(level) {
    q <- quantile(draws, c((1 - level) / 2, (1 + level) / 2), names = FALSE)
    pnorm(q[2]) - pnorm(q[1])
  }
  # the map's error is that of the empirical quantile of n scores (the
  # conformal coverage has SD sqrt(L (1 - L) / n)); the 2e5 draws add
  # little
  expect_lt(abs(cover(0.5) - 0.5), 4 * sqrt(0.25 / n))
  expect_lt(abs(cover(0.9) - 0.9), 4 * sqrt(0.09 / n))
  # without the map the 50% interval covers 82%
  expect_equal(2 * pnorm(2 * qnorm(0.75)) - 1, 0.82, tolerance = 0.01)
  # the map is symmetric and keeps the median
  v <- c(0.1, 0.3)
  expect_equal(sbcg:::recal_inverse(map, 1 - v), 1 - sbcg:::recal_inverse(map, v))
  expect_equal(sbcg:::recal_apply(map, median(Z)), median(Z), tolerance = 0.02)
})

test_that("the warning of too few held-out rows has a class of its own, to muffle it alone", {
  d <- gauss_data(60, 7)
  expect_warning(sbfit(y ~ x, d, control = small_control(), seed = 1),
                 "only 6 held-out rows", class = "sbcg_few_heldout")
  d$y[3] <- 1e6
  w <- warnings_of(withCallingHandlers(
    sbfit(y ~ x, d, control = small_control(), seed = 1, support = "real"),
    sbcg_few_heldout = function(w) invokeRestart("muffleWarning")))
  expect_false(any(grepl("held-out rows", w)))
  expect_true(any(grepl("far from the others", w)))
})

test_that("scores that differ only by rounding do not drop the map", {
  # held-out PITs from 100 draws lie on a grid of 1/101, where two quantiles
  # of the scores can differ by rounding alone; such a pair once gave T two
  # knots at one level, and the fit no map at all
  set.seed(3)
  Z <- rnorm(25000)
  lost <- 0L
  for (i in 1:60) {
    pit <- (stats::rbinom(250, 100, pnorm(rnorm(250) / 2)) + 0.5) / 101
    map <- sbcg:::recalibration_map(pit, Z)
    if (is.null(map)) {
      lost <- lost + 1L
      next
    }
    expect_true(all(diff(map$s) > 1e-9) && all(diff(map$z) > 0) && all(diff(map$tz) > 0))
  }
  expect_identical(lost, 0L)
  # knots of T are kept where both z and tz rise
  expect_identical(sbcg:::increasing_knots(c(1, 2, 2, 3, 4), c(1, 2, 3, 3, 5)), c(1L, 2L, 4L, 5L))
})

test_that("the weight shrinks the map toward the identity", {
  set.seed(3)
  pit <- pnorm(rnorm(100) / 2)
  Z <- rnorm(25000)
  m0 <- sbcg:::recalibration_map(pit, Z, weight = 1)
  m1 <- sbcg:::recalibration_map(pit, Z, weight = 0.5)
  # H_w = w H + (1 - w) s at the knots
  expect_equal(m1$s, m0$s)
  expect_equal(m1$level, (m0$level + m0$s) / 2)
  # the central 50% interval of the shrunk map lies between the two
  l0 <- sbcg:::recal_inverse(m0, 0.75)
  l1 <- sbcg:::recal_inverse(m1, 0.75)
  expect_true(l0 < l1 && l1 < 0.75)
  # with weight 0 the map is the identity, and so is T
  m2 <- sbcg:::recalibration_map(pit, Z, weight = 0)
  v <- c(0.01, 0.2, 0.5, 0.9)
  expect_equal(sbcg:::recal_inverse(m2, v), v)
  expect_equal(m2$tz, m2$z)
  # 20 knots from 100 rows, 2 pieces below 50 rows
  expect_length(m0$s, 21L)
  expect_length(sbcg:::recalibration_map(pit[1:30], Z)$s, 3L)
  expect_null(sbcg:::recalibration_map(numeric(), Z))
  expect_null(sbcg:::recalibration_map(pit, rep(1, 25000)))
})

test_that("the map's weight follows the evidence that the fit needs one", {
  # the Cramer-von Mises statistic is n times the integral of
  # (F_n(u) - u)^2, here by the midpoint rule on a fine grid
  set.seed(8)
  v <- runif(40)
  u <- (seq_len(2e5) - 0.5) / 2e5
  Fn <- findInterval(u, sort(v)) / 40
  expect_equal(sbcg:::cvm_uniform(v), 40 * mean((Fn - u)^2), tolerance = 1e-4)
  # uniform scores: W2 exceeds its 5% critical value 0.461 (weight 0.64)
  # in about 5% of samples; 400 samples of 250 give 20 such, SD 4.4
  w <- replicate(400, sbcg:::recal_weight(runif(250)))
  expect_lt(abs(sum(w > 1 - 1 / (6 * 0.461)) - 20), 4 * sqrt(400 * 0.05 * 0.95))
  # and weight 0 (W2 below its mean 1/6) in most of them
  expect_gt(mean(w == 0), 0.5)
  # a law twice too wide, seen on 2000 rows: the whole map, up to the
  # bound n / (n + 25)
  y <- rnorm(2000)
  expect_equal(sbcg:::recal_weight(abs(2 * pnorm(y / 2) - 1)), 2000 / 2025)
  # on 4 rows the bound, 4 / 29, caps even scores that are all far off
  expect_equal(sbcg:::recal_weight(c(0.01, 0.02, 0.03, 0.04)), 4 / 29)
  map <- sbcg:::recalibration_map(pnorm(y / 2), rnorm(25000))
  expect_equal(map$weight, sbcg:::recal_weight(abs(2 * pnorm(y / 2) - 1)))
  expect_equal(map$cvm, sbcg:::cvm_uniform(abs(2 * pnorm(y / 2) - 1)))
})

test_that("T is monotone, moves the tails by a constant and keeps non-finite draws", {
  set.seed(4)
  map <- sbcg:::recalibration_map(pnorm(rnorm(300) * 1.5), rnorm(25000))
  z <- c(-50, -10, seq(-3, 3, by = 0.01), 10, 50)
  tz <- sbcg:::recal_apply(map, z)
  expect_true(all(diff(tz) > 0))
  expect_equal(tz[2] - z[2], tz[1] - z[1])
  expect_equal(tz[length(z)] - z[length(z)], tz[length(z) - 1] - z[length(z) - 1])
  # a law too narrow is widened
  expect_gt(tz[length(z) - 1], 10)
  expect_identical(sbcg:::recal_apply(map, c(NA, Inf, -Inf, NaN)), c(NA, Inf, -Inf, NaN))
  M <- matrix(z[1:6], 3)
  expect_identical(dim(sbcg:::recal_apply(map, M)), dim(M))
})

test_that("fits of one response carry a map that sampling applies draw by draw", {
  d <- gauss_data(300, 5)
  # one bridge (format 5 with the map, 2 without); the held-out map alone
  # (the deconvolution map changes the held-out scores: test-deconvolve.R)
  fit <- sbfit(y ~ x, d, control = small_control(bridge_inputs = "none", deconvolve = FALSE),
               seed = 1)
  off <- sbfit(y ~ x, d, control = small_control(recalibrate = FALSE, bridge_inputs = "none"),
               seed = 1)
  expect_identical(fit$format, 5L)
  expect_identical(off$format, 2L)
  expect_null(off$recalibration)
  expect_identical(fit$recalibration$n, fit$holdout$n)
  # the map changes no network, nor the held-out scores it is learned from
  expect_identical(fit$theta, off$theta)
  expect_identical(fit$holdout, off$holdout)
  nd <- data.frame(x = c(-1, 0, 1.5))
  D <- sbsample(fit, nd, ndraws = 40, seed = 3, format = "matrix")
  D0 <- sbsample(off, nd, ndraws = 40, seed = 3, format = "matrix")
  # (its held-out scores give this map a weight above 0: it moves draws)
  expect_gt(fit$recalibration$weight, 0)
  expect_false(isTRUE(all.equal(D, D0)))
  # the same draws, each mapped on its own: their ranks in a row are kept,
  # and the first m draws are those of a call with m
  expect_identical(t(apply(D, 1, rank)), t(apply(D0, 1, rank)))
  expect_identical(sbsample(fit, nd, ndraws = 10, seed = 3, format = "matrix"), D[, 1:10])
  # print() shows the map; the held-out scores are the networks' own
  out <- capture.output(print(fit))
  expect_match(out, "before recalibration", all = FALSE, fixed = TRUE)
  expect_match(out, "Recalibration: from the PITs of the 30 held-out rows", all = FALSE,
               fixed = TRUE)
  out <- capture.output(print(summary(fit)))
  expect_match(out, "Recalibration:", all = FALSE, fixed = TRUE)
  expect_false(any(grepl("Recalibration", capture.output(print(off)))))
  # saved and read back, the fit draws the same
  path <- tempfile(fileext = ".rds")
  saveRDS(fit, path)
  expect_identical(sbsample(readRDS(path), nd, ndraws = 40, seed = 3, format = "matrix"), D)
  # statistics come from the recalibrated draws
  st <- sbcondstats(fit, nd, ndraws = 2000, probs = c(0.25, 0.75), seed = 4, density = FALSE)
  st0 <- sbcondstats(off, nd, ndraws = 2000, probs = c(0.25, 0.75), seed = 4, density = FALSE)
  expect_false(isTRUE(all.equal(st$q0.75 - st$q0.25, st0$q0.75 - st0$q0.25)))
})

test_that("with more than 250 held-out rows the map reads up to 1000", {
  fit <- sbfit(y ~ x, gauss_data(3000, 10), control = small_control(), seed = 1)
  # 300 held-out rows: 250 scored for print(), all 300 for the map
  expect_identical(fit$n_valid, 300L)
  expect_identical(fit$holdout$n, 250L)
  expect_identical(fit$recalibration$n, 300L)
})

test_that("no map without held-out rows, preconditioning or a single response", {
  d <- gauss_data(200, 6)
  expect_null(suppressWarnings(sbfit(y ~ x, d, control = small_control(validation = 0),
                                     seed = 1))$recalibration)
  expect_null(sbfit(y ~ x, d, control = small_control(precondition = "none"),
                    seed = 1)$recalibration)
  d$y2 <- d$y + rnorm(200)
  f2 <- sbfit(cbind(y, y2) ~ x, d, control = small_control(bridge_inputs = "none"), seed = 1)
  expect_null(f2$recalibration)
  expect_identical(f2$format, if (is.null(f2$mix)) 2L else 3L)
})

test_that("counts stay whole and ensembles share one map", {
  set.seed(7)
  d <- data.frame(x = runif(300))
  d$y <- rpois(300, exp(1 + d$x))
  fc <- sbfit(y ~ x, d, support = "count", control = small_control(), seed = 1)
  expect_type(fc$recalibration, "list")
  D <- sbsample(fc, data.frame(x = c(0.2, 0.8)), ndraws = 50, seed = 1, format = "matrix")
  expect_true(all(D == round(D) & D >= 0))
  f3 <- sbfit(y ~ x, gauss_data(200, 4), control = small_control(ensemble = 3, linear_mix = FALSE),
              seed = 6)
  # three fits of two pooled bridges each (20 held-out rows), one map
  expect_identical(f3$format, 10L)
  expect_length(f3$members, 5L)
  expect_null(f3$members[[1]]$recalibration)
  m2 <- sbcg:::member_object(f3, 2L)
  expect_identical(m2$recalibration, f3$recalibration)
  expect_identical(m2$format, 5L)
})

test_that("PITs of counts break their ties at random, and are uniform when the law is right", {
  # y and its draws from the same discrete law (exchangeable): the rank of
  # y among the m + 1 values with ties broken at random is uniform, the
  # mid-point of its ties is not.  W2 against the uniform law: 1.17 is its
  # 0.1% critical value.
  set.seed(3)
  n <- 2000L
  m <- 200L
  M <- matrix(rpois(n * m, 1.5), n, m)
  y <- matrix(rpois(n, 1.5), n, 1)
  u <- runif(n)
  pr <- sbcg:::score_core(list(M), y, 0.5, 0.9, "y", seq_len(n), discrete = TRUE, u = u)$pit
  mid <- sbcg:::score_core(list(M), y, 0.5, 0.9, "y", seq_len(n), discrete = TRUE)$pit
  expect_equal(mid, (rowSums(M < y[, 1]) + 0.5 * rowSums(M == y[, 1]) + 0.5) / (m + 1))
  expect_true(all(pr > 0 & pr < 1))
  expect_lt(sbcg:::cvm_uniform(pr), 1.17)
  expect_gt(sbcg:::cvm_uniform(mid), 1.17)
  # each PIT lies in y's rank cell among the draws
  expect_true(all(pr >= rowSums(M < y[, 1]) / (m + 1) & pr <= (rowSums(M <= y[, 1]) + 1) / (m + 1)))
  # coverage with the ties broken: the randomised PIT in the central band,
  # L on average for this right law (4 binomial SEs); the closed interval
  # between the draws' quantiles, whose ends are atoms, covers far more
  sc <- sbcg:::score_core(list(M), y, 0.5, c(0.5, 0.9), "y", seq_len(n), discrete = TRUE, u = u)
  expect_identical(sc$cover0.5, abs(2 * pr - 1) <= 0.5)
  expect_lt(abs(mean(sc$cover0.5) - 0.5), 4 * sqrt(0.25 / n))
  expect_lt(abs(mean(sc$cover0.9) - 0.9), 4 * sqrt(0.09 / n))
  closed <- sbcg:::score_core(list(M), y, 0.5, 0.5, "y", seq_len(n), discrete = TRUE)
  expect_gt(mean(closed$cover0.5) - 0.5, 8 * sqrt(0.25 / n))
  # sbscore()'s tie breaks: uniform over rows, fixed by the seed and the row
  tb <- sbcg:::tie_breaks(c(12345L, 678L), 0:(n - 1))
  expect_lt(max(abs(ecdf(tb)(seq(0, 1, 0.1)) - seq(0, 1, 0.1))), 0.01)
  expect_identical(sbcg:::tie_breaks(c(12345L, 678L), 10:19), tb[11:20])
})

test_that("sbscore() of a count fit gives randomised PITs that do not depend on the chunks", {
  set.seed(5)
  d <- data.frame(x = runif(400, -2, 2))
  d$y <- rpois(400, exp(d$x / 2))
  fc <- sbfit(y ~ x, d, support = "count", control = small_control(), seed = 2)
  nd <- data.frame(x = runif(60, -2, 2))
  nd$y <- rpois(60, exp(nd$x / 2))
  s1 <- sbscore(fc, nd, ndraws = 50, seed = 4)
  s2 <- sbscore(fc, nd, ndraws = 50, seed = 4, chunk_size = 7)
  expect_identical(s1$pit, s2$pit)
  # each PIT lies in its rank cell; a count law's draws tie with y, so the
  # PITs are not all the cells' mid-points
  D <- sbsample(fc, nd, ndraws = 50, seed = 4, format = "matrix")
  lo <- rowSums(D < nd$y) / 51
  hi <- (rowSums(D <= nd$y) + 1) / 51
  expect_true(all(s1$pit >= lo & s1$pit <= hi))
  expect_gt(sum(abs(s1$pit - (lo + hi) / 2) > 1e-9), 30)
  # a fit on the real line keeps the mid-point
  fr <- sbfit(y ~ x, d, control = small_control(), seed = 2, support = "real")
  sr <- sbscore(fr, nd, ndraws = 50, seed = 4)
  Dr <- sbsample(fr, nd, ndraws = 50, seed = 4, format = "matrix")
  expect_equal(sr$pit, unname((rowSums(Dr < nd$y) + 0.5 * rowSums(Dr == nd$y) + 0.5) / 51))
})

test_that("a count fit of a Poisson law judges itself calibrated, with no map and no warning", {
  # with the mid-point PIT the held-out scores of this fit bunched at the
  # centre (W2 1.8): a map that narrowed a right law, and a warning that its
  # intervals covered 100% of the rows
  set.seed(11)
  d <- data.frame(x = runif(1000, -2, 2))
  d$y <- rpois(1000, exp(d$x / 2))
  expect_silent(fc <- sbfit(y ~ x, d, support = "count",
                            control = sbcg_control(hidden = c(32, 32), epochs = 60), seed = 3))
  h <- fc$holdout
  expect_identical(h$n, 100L)
  # 1% critical value of W2: 0.74; coverage within 3 binomial SE
  expect_lt(fc$recalibration$cvm, 0.74)
  expect_lt(abs(h$cover90 - 0.9), 3 * sqrt(0.09 / h$n))
  expect_lt(abs(h$cover50 - 0.5), 3 * sqrt(0.25 / h$n))
  expect_identical(h$ties, "random")
  expect_match(paste(capture.output(print(fc)), collapse = "\n"), "ties broken at random")
  expect_null(sbfit(y ~ x, d, control = small_control(), seed = 3, support = "real")$holdout$ties)
})

test_that("malformed maps are refused", {
  fit <- sbfit(y ~ x, gauss_data(200, 8),
             control = small_control(bridge_inputs = "none", linear_mix = FALSE),
             seed = 1)
  nd <- data.frame(x = 0)
  bad <- fit
  bad$recalibration$level <- rev(bad$recalibration$level)
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$recalibration'")
  bad <- fit
  bad$recalibration$tz <- bad$recalibration$tz[-1]
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$recalibration'")
  bad <- fit
  bad$recalibration <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "format 5")
  bad <- fit
  bad$format <- 2L
  expect_error(sbsample(bad, nd, ndraws = 5), "format 5")
})

test_that("the C sampler applies the map as recal_apply() does", {
  set.seed(9)
  net <- list(d = 1L, p = 1L, hidden = c(4L, 3L), activation = "silu", freq = 1)
  theta <- sbcg:::init_theta(net) * 3
  map <- sbcg:::recalibration_map(pnorm(rnorm(300) * 1.3), rnorm(25000))
  K <- 5L
  run <- function(knots, center = 0, scale = 1) {
    .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net), net$freq, theta,
          matrix(c(-1, 0.5), 2, 1), c(0, 1), 50L, seq(0, 0.8, length.out = K), rep(1, K),
          rep(0.3, K), rep(0.5, K), c(3L, 4L), 16L, 1L, center, scale, sbcg:::kernel_set(),
          sbcg:::net_precision(), 0L, knots)$draws
  }
  z <- run(double())
  knots <- sbcg:::recal_knots(list(recalibration = map))
  expect_equal(run(knots), sbcg:::recal_apply(map, z), tolerance = 1e-12)
  # per row: centre and scale after the map (draws fastest, then rows)
  expect_equal(run(knots, c(1, 2), c(2, 3)),
               rep(c(1, 2), each = 50) + rep(c(2, 3), each = 50) * sbcg:::recal_apply(map, z),
               tolerance = 1e-12)
  expect_error(run(c(1, 2, 3)), "'knots'")
  expect_error(run(c(2, 1, 0, 1)), "'knots' must increase")
  expect_error(run(c(1, 2, 1, 0)), "'knots' must increase")
  expect_error(run(c(1, 2, NA, 3)), "'knots'")
  expect_error(run(1:4), "'knots'")
})

test_that("a map saved with a fixed pseudo-count (before weights) still samples and prints", {
  old <- readRDS(test_path("fixtures", "fit-format5-prior.rds"))
  expect_identical(old$fit$format, 5L)
  expect_null(old$fit$recalibration$weight)
  # the same draws, up to float rounding where other kernels run (as in
  # test-kernels.R)
  expect_equal(sbsample(old$fit, old$newdata, ndraws = 20, seed = 2, format = "matrix"),
               old$draws, tolerance = 1e-5)
  expect_match(capture.output(print(old$fit)),
               "Recalibration: from the PITs of the 20 held-out rows (shrunk as if 25 more were uniform)",
               all = FALSE, fixed = TRUE)
})

test_that("the coverage warning names the map only when it acts", {
  h <- list(n = 250L, cover50 = 0.3, cover90 = 0.7, crps = 1, crps_gauss = 1,
            crps_diff_se = 0.1, loss_ratio = 1)
  expect_warning(sbcg:::holdout_warnings(h, recal = TRUE),
                 "too narrow: .* 70% .*the recalibration learned from these rows widens them")
  w <- tryCatch(sbcg:::holdout_warnings(h, recal = FALSE), warning = conditionMessage)
  expect_match(w, "too narrow")
  expect_no_match(w, "recalibration")
  h$cover90 <- 0.99
  expect_warning(sbcg:::holdout_warnings(h, recal = TRUE), "too wide: .*narrows them")
})

test_that("held-out rows warn of a wrong middle, and of a CRPS far above the Gaussian's", {
  # the 90% intervals about right, the 50% ones 80%: a middle too wide
  # (3 binomial SEs of 250 rows: 9.5 points, so the bound is 10)
  h <- list(n = 250L, cover50 = 0.8, cover90 = 0.9, crps = 1, crps_gauss = 1,
            crps_diff_se = 0.1, loss_ratio = 1)
  expect_warning(sbcg:::holdout_warnings(h), "middle looks too wide: .* 80% .*90% intervals: 90%")
  h$cover50 <- 0.25
  expect_warning(sbcg:::holdout_warnings(h, recal = TRUE), "middle looks too narrow: .*widens them")
  h$cover50 <- 0.59
  expect_warning(sbcg:::holdout_warnings(h), NA)
  # with case weights the effective number of rows sets the bound: 20
  # rows give 3 SEs of 34 points
  h$n_eff <- 20
  h$cover50 <- 0.8
  expect_warning(sbcg:::holdout_warnings(h), NA)
  h$n_eff <- NULL
  # one wild row can make the CRPS's error as large as its gap to the
  # Gaussian's; more than twice that CRPS warns all the same
  h$cover50 <- 0.5
  h$crps <- 1e20
  h$crps_diff_se <- 1e20
  expect_warning(sbcg:::holdout_warnings(h), "worse than a Gaussian linear model")
  h$crps <- 1.9
  h$crps_diff_se <- 1
  expect_warning(sbcg:::holdout_warnings(h), NA)
})

test_that("Student-t tails turn a Gaussian law into a t law with the same median |Z|", {
  # a Gaussian Z without sampling noise: its 25,000 quantiles
  Z <- qnorm((seq_len(25000) - 0.5) / 25000)
  p <- sbcg:::recal_levels
  i <- match(c(0.05, 0.25, 0.75, 0.95), round(p, 6))
  for (nu in c(5, 9, 30)) {
    m <- sbcg:::tail_map(Z, nu)
    expect_identical(m$tails, nu)
    # c Z sqrt(nu / W) is c times a t law with nu degrees of freedom, c
    # keeping the median of |Z|; the map's only error is its quadrature
    # (2000 quantiles of Z times 200 of W), below 1e-3 here (7.4e-4 at
    # nu = 5; there is no sampling noise)
    cc <- qnorm(0.75) / qt(0.75, nu)
    expect_lt(max(abs(m$tz[i] - cc * qt(p[i], nu))), 1e-3)
    expect_lt(abs(median(abs(sbcg:::recal_apply(m, Z))) - median(abs(Z))), 1e-4)
    # the 90% interval wider, the more so the fewer degrees of freedom
    expect_gt(m$tz[i[4]], qnorm(0.95))
  }
  expect_gt(sbcg:::tail_map(Z, 5)$tz[i[4]], sbcg:::tail_map(Z, 30)$tz[i[4]])
  # at least 3 degrees of freedom, whose t law has a variance
  expect_identical(sbcg:::tail_map(Z, 1)$tails, 3)
  expect_null(sbcg:::tail_map(Z[1:100], 9))
})

test_that("Student-t tails keep their map when Z's draws tie at some levels", {
  # a fifth of the draws at exactly 0: the quantiles of Z at the levels
  # 0.4 to 0.6 tie, and those knots make one
  Z <- c(rep(0, 5000), qnorm((seq_len(20000) - 0.5) / 20000))
  m <- sbcg:::tail_map(Z, 9)
  expect_true(sbcg:::recalibration_ok(m))
  expect_lt(length(m$z), length(sbcg:::recal_levels))
  expect_identical(sum(m$z == 0), 1L)
  # the tails are there: T(z) beyond z at the upper levels
  expect_gt(m$tz[length(m$tz)], m$z[length(m$z)])
})

test_that("the held-out map composes with the tails", {
  set.seed(4)
  inner <- sbcg:::tail_map(rnorm(25000), 9)
  Zi <- sbcg:::recal_apply(inner, rnorm(25000))
  outer <- sbcg:::recalibration_map(pnorm(rnorm(200) / 2), Zi, weight = 1)
  both <- sbcg:::compose_maps(inner, outer)
  # at inner's knots the composed map is outer after inner, exactly
  expect_equal(both$tz, sbcg:::recal_apply(outer, inner$tz))
  expect_identical(both$z, inner$z)
  expect_identical(both$tails, 9)
  expect_identical(both[c("s", "level", "n", "cvm", "weight")],
                   outer[c("s", "level", "n", "cvm", "weight")])
  # between them it is close to it: the two maps are piecewise linear on
  # knots 0.005 apart in probability
  z <- qnorm(c(0.1, 0.3, 0.62, 0.87))
  expect_equal(sbcg:::recal_apply(both, z),
               sbcg:::recal_apply(outer, sbcg:::recal_apply(inner, z)), tolerance = 0.01)
  expect_identical(sbcg:::compose_maps(inner, NULL), inner)
  # an outer map so flat between -1 and 1 that the composed knots there
  # round to one value: those knots make one, and the rest is kept
  flat <- list(s = c(0, 1), level = c(0, 1), n = 10L, cvm = 0, weight = 0,
               z = c(-1, 1), tz = c(1e6, 1e6 + 1e-9))
  both <- sbcg:::compose_maps(inner, flat)
  expect_true(sbcg:::recalibration_ok(both))
  expect_lt(length(both$z), length(inner$z))
  expect_true(all(both$z %in% inner$z))
  expect_identical(both$tz, sbcg:::recal_apply(flat, inner$tz)[match(both$z, inner$z)])
  expect_identical(both$tails, 9)
  # a fit with the tails alone says so
  h <- list(n = 5L, draws = 1000L, crps = 1, crps_gauss = 1.2, cover50 = 0.6, cover90 = 1)
  out <- sbcg:::format_holdout(h, recal = inner)
  expect_match(out[1L], "with Student-t tails (9 degrees of freedom)", fixed = TRUE)
  expect_identical(out[2L], "Recalibration: none learned from the held-out rows; the law is the fit's with Student-t tails (9 degrees of freedom)")
})

test_that("fits with fewer than 10 held-out rows get Student-t tails, others not", {
  d <- gauss_data(40, 5)
  expect_warning(fit <- sbfit(y ~ x, d, control = small_control(epochs = 20), seed = 1,
                              support = "real"), "too few for the fit to judge")
  expect_lt(fit$n_valid, 10L)
  # n training rows, one predictor column
  expect_identical(fit$recalibration$tails, max(3, fit$n_train - 1 - 1))
  out <- capture.output(print(fit))
  expect_true(any(grepl(sprintf("with Student-t tails \\(%g degrees of freedom\\)",
                                fit$recalibration$tails), out)))
  expect_true(any(grepl(", of its law with Student-t tails", out, fixed = TRUE)))
  # the sampler applies the composed map to every standardised draw
  expect_true(sbcg:::recalibration_ok(fit$recalibration))
  # without recalibration, no tails either
  expect_warning(off <- sbfit(y ~ x, d, control = small_control(epochs = 20, recalibrate = FALSE),
                              seed = 1, support = "real"), "too few for the fit to judge")
  expect_null(off$recalibration)
  # the tails widen the held-out rows' laws: there they are in the scores
  expect_false(identical(fit$holdout$pit, off$holdout$pit))
  # a fit with 10 or more held-out rows has none
  big <- sbfit(y ~ x, gauss_data(200, 5), control = small_control(), seed = 1,
               support = "real")
  expect_gte(big$n_valid, 10L)
  expect_null(big$recalibration$tails)
})

test_that("weighted helpers reduce to the unweighted ones and follow their formulas", {
  set.seed(41)
  v <- runif(60)
  # the weighted Cramer-von Mises statistic: equal weights give the usual
  # one; whole-number weights the usual one of the values repeated, on
  # the effective number of values
  expect_equal(sbcg:::cvm_uniform(v, rep(2.5, 60)), sbcg:::cvm_uniform(v), tolerance = 1e-12)
  k <- sample(1:4, 60, replace = TRUE)
  expect_equal(sbcg:::cvm_uniform(v, k),
               sum(k)^2 / sum(k^2) / sum(k) * sbcg:::cvm_uniform(rep(v, k)), tolerance = 1e-12)
  # weighted quantiles: equal weights give type 5
  p <- c(0.01, 0.1, 0.5, 0.77, 0.99)
  expect_equal(sbcg:::wquantile(v, rep(3, 60), p), quantile(v, p, type = 5, names = FALSE))
  # means, their errors and coverage
  x <- rnorm(60)
  w <- runif(60)
  expect_identical(sbcg:::wmean(x), mean(x))
  expect_equal(sbcg:::wmean(x, w), weighted.mean(x, w))
  expect_equal(sbcg:::wmean_se(x, rep(1, 60)), sd(x) / sqrt(60))
  expect_equal(sbcg:::pit_cover(v, 0.5, w), weighted.mean(abs(v - 0.5) <= 0.25, w))
  # a map from weighted PITs: equal weights keep the unweighted map's weight
  pit <- pnorm(rnorm(300) * 1.3)
  Z <- rnorm(25000)
  m0 <- sbcg:::recalibration_map(pit, Z)
  m1 <- sbcg:::recalibration_map(pit, Z, pw = rep(2, 300), zw = rep(1, 25000))
  expect_equal(m1$weight, m0$weight, tolerance = 1e-12)
  expect_equal(m1$z, m0$z, tolerance = 0.01)
})

test_that("a weighted fit judges itself by the weighted held-out rows", {
  # rows of tiny weight with wild responses: unweighted, the held-out 90%
  # intervals would miss them (about half the rows); weighted, they count
  # for almost nothing.  Half of 100 held-out rows are wild: unweighted
  # coverage about 0.5, weighted about 0.9 (binomial SE 0.04 on 50 rows)
  set.seed(42)
  n <- 1000
  d <- data.frame(x = runif(n))
  wild <- rep(c(TRUE, FALSE), n / 2)
  d$y <- d$x + ifelse(wild, rnorm(n, sd = 20), rnorm(n, sd = 0.2))
  w <- ifelse(wild, 1e-4, 1)
  f <- suppressWarnings(sbfit(y ~ x, d, weights = w, support = "real",
                              control = small_control(epochs = 30), seed = 1))
  h <- f$holdout
  expect_length(h$pit_w, h$n)
  expect_lt(h$n_eff, 0.6 * h$n)
  expect_gt(h$cover90, 0.78)
  expect_lt(sbcg:::pit_cover(h$pit, 0.9), 0.7)
  expect_output(print(f), "weighted by the case weights")
  # unweighted fits keep the plain scores
  f0 <- suppressWarnings(sbfit(y ~ x, d[!wild, ], support = "real",
                               control = small_control(epochs = 30), seed = 1))
  expect_null(f0$holdout$pit_w)
  expect_identical(f0$holdout$cover90, mean(abs(f0$holdout$pit - 0.5) <= 0.45))
})

test_that("with fewer than 200 held-out rows the map also reads training rows' PITs", {
  d <- gauss_data(300, 5)
  fit <- sbfit(y ~ x, d, control = small_control(), seed = 1)
  rc <- fit$recalibration
  # 30 held-out rows, and each of the 270 training rows drawn through the
  # networks that did not see it
  expect_identical(rc$n, 30L)
  expect_identical(rc$training, 270L)
  expect_match(capture.output(print(fit)),
               "from the PITs of the 30 held-out rows and of 270 training rows", all = FALSE,
               fixed = TRUE)
  # the same map on a rebuild
  expect_identical(sbfit(y ~ x, d, control = small_control(), seed = 1)$recalibration, rc)
  # at most 500 training rows are drawn
  big <- sbfit(y ~ x, gauss_data(1200, 5), control = small_control(), seed = 1)
  expect_identical(big$recalibration$n, 120L)
  expect_identical(big$recalibration$training, 500L)
  # a weighted fit reads them too
  w <- rep(c(1, 3), 150)
  fw <- sbfit(y ~ x, d, weights = w, control = small_control(), seed = 1)
  expect_identical(fw$recalibration$training, 270L)
})

test_that("training rows' PITs are left out where the networks alone do not give them", {
  # 200 or more held-out rows: those alone
  f <- sbfit(y ~ x, gauss_data(2000, 5), control = small_control(), seed = 1)
  expect_identical(f$recalibration$n, 200L)
  expect_null(f$recalibration$training)
  # fewer than 10 held-out rows, which join the cross-fitting folds
  f <- suppressWarnings(sbfit(y ~ x, gauss_data(60, 5), control = small_control(), seed = 1))
  expect_null(f$recalibration$training)
  # an ensemble, whose members have folds of their own
  f <- sbfit(y ~ x, gauss_data(300, 5), control = small_control(ensemble = 2), seed = 1)
  expect_identical(f$recalibration$n, 30L)
  expect_null(f$recalibration$training)
})
