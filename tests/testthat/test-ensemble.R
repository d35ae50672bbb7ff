# Ensembles (sbcg_control(ensemble = M)): M fits of the same data with
# their own seeds, whose laws are pooled in equal shares.

ens_data <- function() gauss_data(200, 4)
# without a linear part or a direct bridge, whose draws would replace some
# of the members' (test-linear.R and test-direct.R add one to an ensemble)
ens_control <- function(...) small_control(linear_mix = FALSE, direct_share = 0, ...)

test_that("ensemble = 1, the default, is the single fit, to the bit", {
  expect_identical(sbcg_control()$ensemble, 1L)
  d <- ens_data()
  f0 <- sbfit(y ~ x, d, control = ens_control(), seed = 3)
  ctl <- ens_control()
  ctl$ensemble <- NULL  # the control of a fit made before ensembles
  f1 <- sbfit(y ~ x, d, control = ctl, seed = 3)
  # 20 held-out rows: its two bridges pooled, the other one its one member
  expect_true(f0$pooled_bridges)
  expect_length(f0$members, 1L)
  expect_identical(f0$format, 10L)
  expect_identical(f1$members[[1]]$theta, f0$members[[1]]$theta)
  expect_identical(f1$theta, f0$theta)
  expect_identical(f1$precondition$location, f0$precondition$location)
  nd <- data.frame(x = c(-1, 1))
  expect_identical(sbsample(f1, nd, ndraws = 20, seed = 1), sbsample(f0, nd, ndraws = 20, seed = 1))
})

test_that("an ensemble keeps its members, their seeds and the shared held-out rows", {
  d <- ens_data()
  f1 <- sbfit(y ~ x, d, control = ens_control(), seed = 3)
  f3 <- sbfit(y ~ x, d, control = ens_control(ensemble = 3), seed = 3)
  # three fits, each pooling its two bridges (20 held-out rows)
  expect_identical(f3$format, 10L)
  expect_length(f3$members, 5L)
  # the first member is the single fit of the same seed, both its bridges
  expect_identical(f3$theta, f1$theta)
  expect_identical(f3$members[[1]]$theta, f1$members[[1]]$theta)
  expect_identical(f3$precondition$location, f1$precondition$location)
  seeds <- c(f3$seed, vapply(f3$members, `[[`, 0, "seed"))
  expect_equal(seeds[1L], 3)
  # the two bridges of a fit share its seed, the fits' seeds differ
  expect_identical(seeds[c(FALSE, TRUE)], seeds[c(TRUE, FALSE)])
  expect_false(anyDuplicated(seeds[c(TRUE, FALSE)]) > 0)
  # each member was trained: its networks differ from the first's, and
  # its two bridges share them
  for (k in 2:6) {
    m <- sbcg:::member_object(f3, k)
    expect_identical(identical(m$precondition, f3$precondition), k == 2L)
    expect_identical(m$net, f3$net)
  }
  expect_identical(f3$members[[3]]$precondition, f3$members[[2]]$precondition)
  # the held-out scores are the ensemble's own, on the same rows
  expect_identical(f3$holdout$n, f1$holdout$n)
  expect_true(is.finite(f3$holdout$crps))
  # its time counts every member's: the first's plus the second's and the
  # third's (members 2 and 4 hold their totals, 3 and 5 their second
  # bridges); not compared with f1's, a separate run of a few milliseconds
  expect_gt(f3$seconds, f3$members[[2]]$seconds + f3$members[[4]]$seconds)
  out <- capture.output(print(f3))
  expect_match(out, "Ensemble: 3 fits pooled in equal shares", all = FALSE, fixed = TRUE)
  out <- capture.output(print(summary(f3)))
  expect_match(out, "Ensemble:  3 fits", all = FALSE, fixed = TRUE)
})

test_that("an ensemble's draws are dealt to its members in turn", {
  d <- ens_data()
  f3 <- sbfit(y ~ x, d, control = ens_control(ensemble = 3, bridge_inputs = "x"), seed = 5)
  nd <- data.frame(x = c(-1.5, 0, 1.5))
  D <- sbsample(f3, nd, ndraws = 12, seed = 7, format = "matrix")
  # draw j comes from member (j - 1) %% 3 + 1, which samples its share
  # with its own random streams (the call's seed for the first)
  m1 <- sbsample(sbcg:::member_object(f3, 1L), nd, ndraws = 4, seed = 7, format = "matrix")
  expect_identical(D[, c(1, 4, 7, 10)], m1)
  # the first m draws do not depend on how many follow (m a multiple of 3)
  expect_identical(sbsample(f3, nd, ndraws = 6, seed = 7, format = "matrix"), D[, 1:6])
  # stratified draws come in groups from one member each
  st <- sbcondstats(f3, nd, ndraws = 200, seed = 2, keep_draws = TRUE, density = FALSE)
  expect_identical(attr(st, "members"), 3L)
  expect_identical(attr(st, "strata"), 20L)
})

test_that("draws that do not divide evenly among the members still come from all of them", {
  d <- ens_data()
  f3 <- sbfit(y ~ x, d, control = ens_control(ensemble = 3, bridge_inputs = "x"), seed = 5)
  nd <- data.frame(x = rep(0.5, 600))
  # one draw per row: every row starts the deal at its own member, spread
  # evenly (each member's share within 4 binomial SEs of 1/3)
  off <- sbcg:::deal_offsets(c(123L, 456L), 0:599, 3L)
  expect_true(all(off %in% 0:2))
  expect_lt(max(abs(tabulate(off + 1L, 3L) / 600 - 1 / 3)), 4 * sqrt(2 / 9 / 600))
  # row i's draw is the first of its member's own streams
  X <- sbcg:::newdata_matrix(f3, nd)
  g <- sbcg:::sampler_grid(f3, warn = FALSE)
  cs <- c(11L, 22L)
  one <- sbcg:::sample_raw(f3, X, 0:599, 1L, g, cs, 1L)$draws
  Ms <- lapply(1:3, function(k)
    sbcg:::sample_raw(sbcg:::member_object(f3, k), X, 0:599, 1L, g,
                      sbcg:::member_cseed(cs, k), 1L)$draws)
  from <- sbcg:::deal_offsets(cs, 0:599, 3L) + 1L
  expect_identical(one, vapply(seq_len(600), function(i) Ms[[from[i]]][i], 0))
  expect_identical(sort(unique(from)), 1:3)
  D1 <- sbsample(f3, nd, ndraws = 1, seed = 7, format = "matrix")
  # the same deal with any chunking of the rows, and with four draws a row
  expect_identical(sbsample(f3, nd, ndraws = 1, seed = 7, format = "matrix", chunk_size = 7), D1)
  # stratified groups that do not divide evenly (1001 draws: 41 groups of
  # 25, the last partial, among 3 members): each row's draws are its own,
  # whatever the chunks
  st <- sbcondstats(f3, nd[1:6, , drop = FALSE], ndraws = 1001, seed = 2, density = FALSE)
  expect_identical(st, sbcondstats(f3, nd[1:6, , drop = FALSE], ndraws = 1001, seed = 2,
                                   density = FALSE, chunk_size = 1))
  # four draws of a row: a whole round of three, then one from the member
  # that starts its deal
  D4 <- sbcg:::sample_raw(f3, X[1:5, , drop = FALSE], 0:4, 4L, g, cs, 1L)$draws
  D4 <- matrix(D4, 4L)
  M4 <- lapply(1:3, function(k)
    matrix(sbcg:::sample_raw(sbcg:::member_object(f3, k), X[1:5, , drop = FALSE], 0:4, 2L, g,
                             sbcg:::member_cseed(cs, k), 1L)$draws, 2L))
  for (i in 1:5) {
    o <- from[i] - 1L
    who <- (0:3 + o) %% 3L + 1L
    expect_identical(D4[, i], vapply(1:4, function(j)
      M4[[who[j]]][sum(who[seq_len(j)] == who[j]), i], 0))
  }
})

test_that("an ensemble's law is the equal mixture of its members' laws", {
  d <- ens_data()
  # with and without the recalibration map, which every member applies
  for (rc in c(FALSE, TRUE)) {
    f3 <- sbfit(y ~ x, d, control = ens_control(ensemble = 3, recalibrate = rc), seed = 6)
    nd <- data.frame(x = 0.5)
    n <- 6000
    pe <- sbcondstats(f3, nd, ndraws = n, at = c(-0.5, 1, 2.5), seed = 1, density = FALSE,
                      stratify = FALSE)
    an <- attr(pe, "at_names")
    expect_length(an, 3L)
    # three fits of two pooled bridges each (20 held-out rows): six laws
    M <- sbcg:::n_members(f3)
    expect_identical(M, 6L)
    pm <- vapply(seq_len(M), function(k)
      unlist(sbcondstats(sbcg:::member_object(f3, k), nd, ndraws = n, at = c(-0.5, 1, 2.5),
                         seed = 10 + k, density = FALSE, stratify = FALSE)[an]),
      numeric(3))
    pbar <- rowMeans(pm)
    pens <- unlist(pe[an])
    # both are Monte Carlo estimates: the ensemble's of n draws (n / M per
    # member), the members' mean of M n; the SE of the difference
    se <- sqrt(pbar * (1 - pbar) / n + rowMeans(pm * (1 - pm)) / (M * n))
    expect_true(all(abs(pens - pbar) < 4 * se + 1e-12))
    # and not simply the first member's law where the members differ
    if (!rc) expect_true(any(abs(pm[, -1] - pm[, 1]) > 0.01))
  }
})

test_that("standard errors of stratified ensemble draws use each member's spread", {
  # group sums from three members with different means: about their own
  # member's mean the spread is that of the noise; about the overall mean
  # it would add the members' differences
  set.seed(1)
  m <- 10L
  G <- 30L
  n <- m * G
  reps <- replicate(400, {
    mu <- rep(rep(c(-3, 0, 3), length.out = G), each = m)
    x <- mu + rnorm(n)
    c(est = mean(x), se = sbcg:::strata_se(matrix(x - mean(x), 1L), m, 3L),
      se1 = sbcg:::strata_se(matrix(x - mean(x), 1L), m, 1L))
  })
  # the estimator's true SD is 1 / sqrt(n) (the members' shares are fixed)
  truth <- 1 / sqrt(n)
  rms <- sqrt(mean(reps["se", ]^2))
  # 400 replicates: the RMS of the estimates is within a few percent
  expect_lt(abs(rms / truth - 1), 0.08)
  expect_gt(mean(reps["se1", ]), 2 * truth)
  expect_lt(abs(sd(reps["est", ]) / truth - 1), 4 / sqrt(2 * 399))
})

test_that("ensembles survive saveRDS(), and other methods work on them", {
  d <- ens_data()
  f3 <- sbfit(y ~ x, d, control = ens_control(ensemble = 2), seed = 8)
  path <- tempfile(fileext = ".rds")
  saveRDS(f3, path)
  g <- readRDS(path)
  nd <- data.frame(x = c(-1, 1))
  expect_identical(predict(g, nd, probs = c(0.1, 0.9)), predict(f3, nd, probs = c(0.1, 0.9)))
  sc <- sbscore(f3, d[1:30, ], ndraws = 50, seed = 1)
  expect_true(all(is.finite(sc$crps)))
  sim <- simulate(f3, nsim = 2, seed = 1, newdata = nd)
  expect_identical(dim(sim), c(2L, 2L))
  u <- update(f3, control = ens_control(ensemble = 1))
  expect_length(u$members, 1L)
})

test_that("malformed ensembles and settings are refused with the argument's name", {
  expect_error(sbcg_control(ensemble = 0), "'ensemble'")
  expect_error(sbcg_control(ensemble = 21), "'ensemble'")
  expect_error(sbcg_control(ensemble = 1.5), "'ensemble'")
  d <- ens_data()
  f3 <- sbfit(y ~ x, d, control = ens_control(ensemble = 2), seed = 8)
  nd <- data.frame(x = 0)
  bad <- f3
  bad$members <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "members")
  bad <- f3
  bad$members[[1]]$theta <- bad$members[[1]]$theta[-1]
  expect_error(sbsample(bad, nd, ndraws = 5), "members\\[\\[1\\]\\]\\$theta")
  bad <- f3
  bad$members <- list()
  expect_error(sbsample(bad, nd, ndraws = 5), "members")
  single <- sbfit(y ~ x, d, control = ens_control(), seed = 8)
  single$members <- f3$members
  expect_error(sbsample(single, nd, ndraws = 5), "members")
})

test_that("ensembles of several responses, of counts and with log-scaled predictors", {
  set.seed(2)
  n <- 150
  d <- data.frame(x = runif(n), z = rexp(n)^3)
  d$y <- 1 + 2 * d$x + rnorm(n)
  d$y2 <- d$y + rnorm(n)
  d$cnt <- rpois(n, exp(d$x))
  nd <- data.frame(x = c(0.2, 0.8), z = c(0.5, 2))
  # each member whitens its own residuals: its own mix
  f <- suppressWarnings(sbfit(cbind(y, y2) ~ x, d, control = ens_control(ensemble = 2),
                              seed = 1))
  # 15 held-out rows: two fits of one bridge each (several responses are
  # not pooled), each with its own mix
  expect_identical(f$format, 4L)
  expect_length(f$members, 1L)
  expect_false(is.null(f$mix))
  expect_false(is.null(f$members[[1]]$mix))
  expect_false(identical(f$mix, f$members[[1]]$mix))
  expect_identical(dim(sbsample(f, nd, ndraws = 6, seed = 1, format = "matrix")), c(2L, 6L, 2L))
  # counts: every member's draws are whole numbers
  fc <- suppressWarnings(sbfit(cnt ~ x, d, control = ens_control(ensemble = 2), seed = 1,
                               support = "count"))
  D <- sbsample(fc, nd, ndraws = 20, seed = 1, format = "matrix")
  expect_true(all(D >= 0 & D == round(D)))
  # skewed predictors: the members read the first member's scale (here
  # the log-like one, which the first keeps for a response linear in log z)
  d$y3 <- log(d$z + 0.01) + rnorm(n, sd = 0.3)
  fs <- suppressWarnings(sbfit(y3 ~ x + z, d, seed = 1,
                               control = ens_control(ensemble = 2, skew_transform = TRUE,
                                                       epochs = 30)))
  expect_true(any(fs$scaling$x_log > 0))
  nz <- data.frame(x = 0.5, z = c(0.1, 1, 5))
  # each member's mean rises with z and follows log z (a range of 3.8
  # over these points, noise SD 0.3) to well within that range (the
  # first bridge of each fit: its two are pooled)
  expect_true(fs$pooled_bridges)
  for (k in c(1L, 3L)) {
    m <- predict(sbcg:::member_object(fs, k), nz)
    expect_true(all(diff(m) > 0))
    expect_lt(max(abs(m - log(nz$z + 0.01))), 1.5)
  }
})

test_that("mean_residuals moves the out-of-fold residuals toward those of the networks' mean", {
  set.seed(3)
  lnet <- list(kind = "regression", d = 1L, p = 1L, hidden = 8L, activation = "silu",
               freq = double(), time_map = "linear")
  K <- 4L
  theta <- vapply(seq_len(K), function(k) sbcg:::init_theta(lnet, FALSE),
                  numeric(length(sbcg:::init_theta(lnet, FALSE))))
  n <- 60L
  X <- matrix(runif(n, -2, 2), n)
  tidx <- 1:48
  vidx <- 49:60
  fold <- rep_len(seq_len(K), length(tidx))
  P <- vapply(seq_len(K), function(k) sbcg:::regression_net(lnet, theta[, k], X), numeric(n))
  pred <- matrix(rowMeans(P), n)
  pred[tidx, 1] <- P[cbind(tidx, fold)]
  Y <- matrix(sin(X) + rnorm(n, sd = 0.3), n)
  R <- Y - pred
  prep <- list(lnet = lnet, Xs = X, tidx = tidx, vidx = vidx, wt = rep(1, length(tidx)))
  out <- sbcg:::mean_residuals(prep, list(theta = theta, linears = NULL, pred = pred), R)
  lam <- out$shrink
  expect_true(lam >= 0 && lam <= 1)
  # the residuals' mean square drops by the networks' spread on the
  # held-out rows, V, when it can (else lambda minimises it)
  V <- mean(rowMeans((P[vidx, ] - rowMeans(P[vidx, ]))^2))
  D <- rowMeans(P[tidx, ]) - pred[tidx, 1]
  a <- mean(D^2)
  b <- mean(R[tidx, 1] * D)
  expect_true(b^2 >= a * V && lam > 0 && lam < 1)  # this data: the drop V is reachable
  expect_equal(mean(out$R[tidx, 1]^2), mean(R[tidx, 1]^2) - V, tolerance = 1e-10)
  expect_equal(out$R[tidx, 1], R[tidx, 1] - lam * D)
  expect_identical(out$R[vidx, 1], R[vidx, 1])
  # in a fit: off by default, on with cross-fitting, recorded per component
  d <- ens_data()
  f0 <- sbfit(y ~ x, d, control = ens_control(), seed = 2)
  expect_null(f0$precondition$residual_shrink)
  f1 <- sbfit(y ~ x, d, control = ens_control(mean_residuals = TRUE), seed = 2)
  s1 <- f1$precondition$residual_shrink
  expect_length(s1, 1L)
  expect_true(s1 >= 0 && s1 <= 1)
  expect_identical(f1$precondition$location, f0$precondition$location)
  expect_match(capture.output(print(f1)), "residuals moved", all = FALSE, fixed = TRUE)
  expect_false(any(grepl("residuals moved", capture.output(print(f0)), fixed = TRUE)))
  f2 <- sbfit(y ~ x, d, control = ens_control(mean_residuals = TRUE, folds = 1), seed = 2)
  expect_null(f2$precondition$residual_shrink)
  expect_error(sbcg_control(mean_residuals = NA), "'mean_residuals'")
})
