# The bridge with and without the predictors (sbcg_control(bridge_inputs)).

test_that("a bridge without the predictors draws one standardised law at every x", {
  d <- gauss_data(300, 4)
  fit <- sbfit(y ~ x, d, control = small_control(bridge_inputs = "none", linear_mix = FALSE, direct_share = 0), seed = 4)
  expect_false(fit$bridge_x)
  expect_null(fit$bridge_choice)
  ns <- asNamespace("sbcg")
  # the same seed and row at two x: the draws, mapped back by the location
  # and scale of each x, are the same standardised draws
  std <- function(x) {
    nd <- data.frame(x = x)
    M <- sbsample(fit, nd, ndraws = 200, format = "matrix", seed = 9)
    sc <- ns$draw_scale(fit, ns$newdata_matrix(fit, nd))
    (M - sc$center) / sc$scale
  }
  expect_equal(std(-1.5), std(1.7), tolerance = 1e-10)
})

test_that("statistics of a bridge without x map one set of standardised draws to every row", {
  d <- gauss_data(300, 4)
  fit <- sbfit(y ~ x, d, control = small_control(bridge_inputs = "none", linear_mix = FALSE, direct_share = 0), seed = 4)
  ns <- asNamespace("sbcg")
  nd <- data.frame(x = c(-1.5, 0.3, 1.7))
  st <- sbcondstats(fit, nd, ndraws = 300, probs = c(0.1, 0.5, 0.9), density = FALSE,
                    keep_draws = TRUE, seed = 9)
  D <- attr(st, "draws")
  sc <- ns$draw_scale(fit, ns$newdata_matrix(fit, nd))
  Z <- (D - sc$center) / sc$scale
  # every row: the same standardised draws, those of row 1 in sbsample()
  expect_equal(Z[2, ], Z[1, ], tolerance = 1e-10)
  expect_equal(Z[3, ], Z[1, ], tolerance = 1e-10)
  M <- sbsample(fit, nd, ndraws = 300, format = "matrix", seed = 9, stratify = TRUE)
  expect_equal(unname(D[1, ]), unname(M[1, ]), tolerance = 1e-12)
  # hence each row's quantiles are its location and scale applied to the
  # quantiles of the standardised draws
  qz <- quantile(Z[1, ], c(0.1, 0.5, 0.9), names = FALSE)
  expect_equal(unname(st$q0.9), sc$center + sc$scale * qz[3], tolerance = 1e-10)
  expect_equal(unname(st$mean), sc$center + sc$scale * mean(Z[1, ]), tolerance = 1e-10)
  # the rows' statistics do not depend on the other rows in the call, nor
  # on the chunking or the thread count
  one <- sbcondstats(fit, nd[3, , drop = FALSE], ndraws = 300, density = FALSE, seed = 9)
  expect_identical(one$mean, st$mean[3])
  two <- sbcondstats(fit, nd, ndraws = 300, probs = c(0.1, 0.5, 0.9), density = FALSE,
                     seed = 9, chunk_size = 1, threads = 2)
  expect_identical(two$q0.5, st$q0.5)
  # predict() answers from the same draws
  p <- predict(fit, nd, probs = c(0.1, 0.5, 0.9), ndraws = 300, seed = 9)
  expect_equal(unname(p[, 2]), unname(st$q0.5))
  # sbsample() keeps every row's draws independent: other standardised draws
  Zs <- (M - sc$center) / sc$scale
  expect_gt(max(abs(Zs[2, ] - Zs[1, ])), 0.1)
})

test_that("a bridge with x whose weights ignore x shares its draws too", {
  d <- gauss_data(300, 4)
  fit <- sbfit(y ~ x, d, control = small_control(bridge_inputs = "x", linear_mix = FALSE, direct_share = 0), seed = 4)
  ns <- asNamespace("sbcg")
  expect_true(ns$bridge_sees_x(fit))
  nd <- data.frame(x = c(-1.5, 0.3, 1.7))
  zstd <- function(f) {
    st <- sbcondstats(f, nd, ndraws = 200, density = FALSE, keep_draws = TRUE, seed = 9)
    sc <- ns$draw_scale(f, ns$newdata_matrix(f, nd))
    (attr(st, "draws") - sc$center) / sc$scale
  }
  expect_gt(max(abs(zstd(fit)[2, ] - zstd(fit)[1, ])), 0.1)
  # the starting weights of baseline = "linear" (output layer zero), which
  # a bridge keeps when no epoch beats them: the standard normal at every x
  L <- ns$net_layers(fit$net, fit$theta)
  last <- length(L)
  npar <- length(fit$theta)
  f0 <- fit
  nout <- length(L[[last]]$weight)
  f0$theta[npar - length(L[[last]]$bias) - nout + seq_len(nout)] <- 0
  expect_true(all(ns$net_layers(f0$net, f0$theta)[[last]]$weight == 0))
  expect_false(ns$bridge_sees_x(f0))
  expect_output(print(f0), "with the predictors, whose weights ignore them")
  Z <- zstd(f0)
  expect_equal(Z[2, ], Z[1, ], tolerance = 1e-10)
  expect_equal(Z[3, ], Z[1, ], tolerance = 1e-10)
  # weights of zero on the predictors in the first layer: the same
  f1 <- fit
  W1 <- L[[1]]$weight
  xcol <- ncol(W1)  # one predictor, the last input
  f1$theta[(xcol - 1) * nrow(W1) + seq_len(nrow(W1))] <- 0
  expect_true(all(ns$net_layers(f1$net, f1$theta)[[1]]$weight[, xcol] == 0))
  expect_false(ns$bridge_sees_x(f1))
  # sbsample() still draws each row on its own
  M <- sbsample(f0, nd, ndraws = 200, format = "matrix", seed = 9)
  expect_gt(max(abs(M[2, ] - M[1, ])), 0)
})

test_that("shared draws give each row the law of independent draws", {
  d <- gauss_data(300, 6)
  fit <- sbfit(y ~ x, d, control = small_control(bridge_inputs = "none"), seed = 6)
  nd <- data.frame(x = seq(-2, 2, length.out = 40))
  # 40 rows, 4000 shared draws against 4000 independent draws per row: the
  # two estimates of each row's mean differ by Monte Carlo error alone,
  # whose SD is sqrt(2) sd / sqrt(4000)
  st <- sbcondstats(fit, nd, ndraws = 4000, density = FALSE, seed = 1)
  M <- sbsample(fit, nd, ndraws = 4000, format = "matrix", seed = 2)
  z <- (st$mean - rowMeans(M)) / (sqrt(2) * apply(M, 1, sd) / sqrt(4000))
  # shared draws: z has one common part across rows, so test its largest
  # value against the bound of one standard normal, with margin
  expect_lt(max(abs(z)), 4.5)
  expect_equal(st$sd, unname(apply(M, 1, sd)), tolerance = 0.1)
})

test_that("'auto' trains both bridges and keeps the one the held-out rows support", {
  d <- gauss_data(300, 5)
  fit <- sbfit(y ~ x, d, control = small_control(), seed = 5)
  expect_named(fit$bridge_choice, c("x", "none"))
  expect_true(all(is.finite(fit$bridge_choice)))
  expect_null(fit$holdout$crps_rows)
  # each candidate is the fit that bridge_inputs asks for, bit for bit
  kept <- if (fit$bridge_x) "x" else "none"
  one <- sbfit(y ~ x, d, control = small_control(bridge_inputs = kept), seed = 5)
  expect_identical(one$theta, fit$theta)
  expect_equal(one$holdout$crps, fit$bridge_choice[[kept]])
  # no held-out rows: nothing to choose with, the bridge sees x
  fit0 <- sbfit(y ~ x, d, control = small_control(validation = 0), seed = 5)
  expect_true(fit0$bridge_x)
  expect_null(fit0$bridge_choice)
})

test_that("'auto' with fewer than 10 held-out rows trains only the bridge without x", {
  d <- gauss_data(60, 6)
  # 10% of 60 rows: 6 held out, too few to judge the choice
  fit <- suppressWarnings(sbfit(y ~ x, d, control = small_control(), seed = 2))
  expect_identical(fit$n_valid, 6L)
  expect_false(fit$bridge_x)
  expect_null(fit$bridge_choice)
  expect_output(print(fit), "6 held-out rows are too few to judge a bridge with them")
  one <- suppressWarnings(sbfit(y ~ x, d, control = small_control(bridge_inputs = "none"),
                                seed = 2))
  expect_identical(one$theta, fit$theta)
  # asked for, the bridge with x is still trained
  fx <- suppressWarnings(sbfit(y ~ x, d, control = small_control(bridge_inputs = "x"), seed = 2))
  expect_true(fx$bridge_x)
  # 10 held-out rows: both are trained and one is chosen
  f2 <- suppressWarnings(sbfit(y ~ x, d, control = small_control(validation = 1 / 6), seed = 2))
  expect_identical(f2$n_valid, 10L)
  expect_named(f2$bridge_choice, c("x", "none"))
})

test_that("the bridge without x trains min_epochs epochs and keeps its last weights", {
  d <- gauss_data(300, 7)
  ctl <- small_control(epochs = 40, min_epochs = 12, patience = 1, valid_every = 2)
  fn <- sbfit(y ~ x, d, control = modifyList(ctl, list(bridge_inputs = "none")), seed = 3)
  # a fixed budget: exactly min_epochs, the held-out rows scored once, at
  # the end, and the last weights kept whatever that score
  expect_identical(nrow(fn$history), 12L)
  expect_identical(fn$best_epoch, 12L)
  expect_false(fn$stopped_early)
  expect_identical(which(!is.na(fn$history$valid)), 12L)
  expect_true(is.finite(fn$holdout$crps))
  expect_true(fn$fixed_budget)
  expect_output(print(fn), "12 epochs \\(a fixed budget, the last weights kept\\)")
  expect_output(print(summary(fn)), "Training: +12 epochs \\([0-9,]+ optimiser steps\\), a fixed budget, the last weights kept")
  # the bridge with x is early-stopped on the held-out rows as set
  fx <- sbfit(y ~ x, d, control = modifyList(ctl, list(bridge_inputs = "x")), seed = 3)
  expect_gt(sum(!is.na(fx$history$valid)), 1L)
  expect_false(fx$fixed_budget)
  expect_gte(nrow(fx$history), 12L)
  # "auto" trains both so, and the one it keeps is bit for bit the same
  fa <- sbfit(y ~ x, d, control = ctl, seed = 3)
  expect_identical(fa$theta, if (fa$bridge_x) fx$theta else fn$theta)
  expect_equal(fa$bridge_loss[["none"]], fn$history$valid[12L])
  # with fewer than 10 held-out rows it is early-stopped on them as set
  f6 <- suppressWarnings(sbfit(y ~ x, d[1:60, ], seed = 3,
                               control = modifyList(ctl, list(bridge_inputs = "none"))))
  expect_identical(f6$n_valid, 6L)
  expect_gt(sum(!is.na(f6$history$valid)), 1L)
  expect_false(f6$fixed_budget)
})

test_that("below 200 held-out rows the two bridges are pooled, whatever their scores", {
  pick <- asNamespace("sbcg")$pick_bridge
  cand <- function(rows, cover = 0.9)
    list(holdout = list(crps = mean(rows), cover90 = cover, n = length(rows)),
         n_valid = length(rows))
  set.seed(1)
  base <- rexp(100)
  expect_identical(pick(list(cand(base), cand(base + 0.5 + rnorm(100, 0, 0.1)))), 0L)
  expect_identical(pick(list(cand(base + 0.5), cand(base))), 0L)
  expect_identical(pick(list(cand(base - 0.5, 0.67), cand(base, 0.90))), 0L)
  expect_identical(pick(list(cand(base[1:10]), cand(base[1:10] + 1))), 0L)
  expect_identical(pick(list(cand(1))), 1L)
  # print() of a fit that kept one bridge on fewer rows (saved by an
  # earlier version) still says what the two scored
  txt <- asNamespace("sbcg")$bridge_string(list(
    bridge_x = FALSE, n_valid = 100L, bridge_choice = c(x = 0.8, none = 0.9),
    bridge_cover90 = c(x = 0.67, none = 0.9)))
  expect_match(txt, "CRPS 0.8 with them, 0.9 without; 90% intervals cover 67% and 90%",
               fixed = TRUE)
})

test_that("a fit that pools its bridges draws half from each, and says so", {
  set.seed(5)
  d <- data.frame(x = runif(300, -1, 1))
  d$y <- d$x + (0.5 + 0.3 * d$x) * rnorm(300)
  f <- suppressWarnings(sbfit(y ~ x, d, control = small_control(direct_share = 0), seed = 2))
  expect_identical(f$n_valid, 30L)
  expect_true(f$pooled_bridges)
  expect_identical(f$format, 10L)
  expect_length(f$members, 1L)
  expect_true(f$bridge_x)
  expect_false(f$members[[1]]$bridge_x)
  # one preconditioning (kept once) and one seed for both
  expect_null(f$members[[1]]$precondition)
  expect_identical(asNamespace("sbcg")$member_object(f, 2L)$precondition, f$precondition)
  expect_identical(f$members[[1]]$seed, f$seed)
  expect_named(f$bridge_choice, c("x", "none"))
  # draws alternate between the two bridges, each with its own streams
  nd <- data.frame(x = c(-0.5, 0.5))
  both <- sbsample(f, nd, ndraws = 40, seed = 1, format = "matrix")
  one <- function(k) asNamespace("sbcg")$member_object(f, k)
  expect_identical(both[, c(TRUE, FALSE)],
                   sbsample(one(1), nd, ndraws = 20, seed = 1, format = "matrix"))
  expect_false(identical(both[, c(FALSE, TRUE)], both[, c(TRUE, FALSE)]))
  expect_output(print(f), "Bridge: two pooled in equal shares, one with the predictors")
  expect_output(print(f), "30 held-out rows, too few to choose between them: CRPS")
  expect_false(any(grepl("^Ensemble", capture.output(print(f)))))
  # the held-out scores are the pool's
  expect_identical(f$holdout$n, 30L)
  expect_true(is.finite(f$holdout$crps) && !f$holdout$crps %in% f$bridge_choice)
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(f, path)
  g <- readRDS(path)
  expect_identical(predict(g, nd, seed = 4), predict(f, nd, seed = 4))
  # malformed pools are refused with the element's name
  bad <- f
  bad$members <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "members")
  bad <- f
  bad$members[[1]]$bridge_x <- TRUE
  expect_error(sbsample(bad, nd, ndraws = 5), "members.*with and without the predictors")
  bad <- f
  bad$pooled_bridges <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "format")
  bad <- f
  bad$pooled_bridges <- "yes"
  expect_error(sbsample(bad, nd, ndraws = 5), "pooled_bridges")
})

test_that("with 200 held-out rows or more, the lower validation loss decides", {
  pick <- asNamespace("sbcg")$pick_bridge
  cand <- function(loss, best = length(loss), nv = 200L)
    list(n_valid = nv, best_epoch = best, history = data.frame(valid = loss),
         holdout = list(crps_rows = rep(1, nv)))
  expect_identical(pick(list(cand(c(0.9, 0.85)), cand(c(0.9, 0.88)))), 1L)
  expect_identical(pick(list(cand(c(0.9, 0.89)), cand(c(0.9, 0.88)))), 2L)
  # the starting weights kept (best epoch 0): at least every recorded loss
  expect_identical(pick(list(cand(c(0.9, 0.95), best = 0L), cand(c(0.9, 0.95)))), 2L)
  expect_identical(pick(list(cand(c(0.9, 0.95)), cand(c(0.9, 0.95), best = 0L))), 1L)
  expect_identical(pick(list(cand(0.9, best = 0L), cand(0.9, best = 0L))), 2L)
  # below 200 rows both are pooled, whatever the losses
  expect_identical(pick(list(cand(c(0.9, 0.5), nv = 199L), cand(c(0.9, 0.88), nv = 199L))), 0L)
  # but the bridges of several responses are not: the loss decides at any
  # number of held-out rows
  two <- function(...) c(cand(...), list(ynames = c("y1", "y2")))
  expect_identical(pick(list(two(c(0.9, 0.5), nv = 30L), two(c(0.9, 0.88), nv = 30L))), 1L)
  expect_identical(pick(list(two(c(0.9, 0.95), nv = 30L), two(c(0.9, 0.88), nv = 30L))), 2L)
})

test_that("a fit of two responses whose dependence changes with x keeps the bridge that sees x", {
  set.seed(6)
  n <- 600
  x <- runif(n, -2, 2)
  e1 <- rnorm(n)
  e2 <- 0.45 * x * e1 + sqrt(1 - (0.45 * x)^2) * rnorm(n)
  d <- data.frame(x = x, y1 = x + e1, y2 = x + e2)
  f <- suppressWarnings(sbfit(cbind(y1, y2) ~ x, d, control = small_control(epochs = 60),
                              seed = 1))
  expect_lt(f$n_valid, 200L)
  expect_null(f$pooled_bridges)
  expect_true(f$bridge_x)
  expect_output(print(f), "with the predictors (chosen by the validation loss:", fixed = TRUE)
})

test_that("with a shape that changes with x, 'auto' keeps the bridge that sees x", {
  skip_if_not(identical(tolower(Sys.getenv("SBCG_SLOW_TESTS")), "true"),
              "slow statistical test: set SBCG_SLOW_TESTS=true to run it")
  # y is unimodal for x < 0 and has two modes at -+2 for x > 0 with the
  # same mean and nearly the same mean absolute deviation: a location and
  # scale cannot tell them apart, the bridge with x can
  set.seed(11)
  n <- 3000
  x <- runif(n, -1, 1)
  y <- ifelse(x < 0, rnorm(n, 0, 2.3), sample(c(-2, 2), n, TRUE) + rnorm(n, 0, 0.3))
  fit <- sbfit(y ~ x, data.frame(x, y), seed = 11)
  expect_true(fit$bridge_x)
  expect_lt(fit$bridge_choice[["x"]], fit$bridge_choice[["none"]])
})

test_that("a fixed-budget bridge trains min_epochs, at most 4,000 steps", {
  expect_identical(sbcg:::fixed_epochs(list(min_epochs = 445, steps_per_epoch = 18)), 223L)
  expect_identical(sbcg:::fixed_epochs(list(min_epochs = 100, steps_per_epoch = 18)), 100L)
  expect_identical(sbcg:::fixed_epochs(list(min_epochs = 2500, steps_per_epoch = 1)), 2500L)
  expect_identical(sbcg:::fixed_epochs(list(min_epochs = 0, steps_per_epoch = 1)), 1L)
})

test_that("scale networks stop 5 checks after their best, location networks 10", {
  set.seed(21)
  d <- data.frame(x = runif(400, -2, 2))
  d$y <- sin(2 * d$x) + (0.3 + 0.2 * abs(d$x)) * rnorm(400)
  ctl <- sbcg_control(hidden = c(16, 16), samples = 2e5)
  fit <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 1))
  pre <- fit$precondition
  rs <- sbcg:::regression_settings(fit$control, sbcg:::train_budget(fit$control, fit$n_train,
                                                                      fit$n_valid))
  past <- (pre$epochs - pre$best_epoch) / rs[["valid_every"]]
  stopped <- pre$epochs < rs[["epochs"]]
  expect_true(any(stopped[1:5]) && any(stopped[6:10]))
  expect_true(all(past[1:5][stopped[1:5]] == 10))
  expect_true(all(past[6:10][stopped[6:10]] == 5))
})
