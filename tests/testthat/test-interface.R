test_that("sbfit returns a plain list of class sbfit", {
  fit <- small_fit()
  expect_s3_class(fit, "sbfit")
  expect_type(unclass(fit), "list")
  expect_type(fit$theta, "double")
  expect_length(fit$theta, sbcg:::net_npar(fit$net))
  expect_equal(fit$ynames, "y")
  expect_equal(fit$xnames, c("x", "fb", "fc"))
  expect_equal(nobs(fit), 300L)
  # epochs = 3: a bridge with x trains up to 3, one without min_epochs (1)
  expect_equal(nrow(fit$history), if (fit$bridge_x) 3L else 1L)
  expect_true(all(is.finite(fit$history$train)))
  expect_equal(formula(fit), y ~ x + f, ignore_attr = TRUE)
  cf <- coef(fit)
  expect_named(cf, c("layer1", "layer2", "layer3"))
  expect_equal(dim(cf$layer1$weight), c(16L, 1L + 16L + 3L))
  expect_equal(colnames(cf$layer1$weight)[c(1, 18:20)], c("z.y", "x", "fb", "fc"))
})

test_that("sbsample returns long and matrix forms that agree", {
  fit <- small_fit()
  nd <- data.frame(x = c(-1, 0, 1), f = factor(c("a", "b", "c")))
  long <- sbsample(fit, nd, ndraws = 8, seed = 3)
  expect_s3_class(long, "data.frame")
  expect_named(long, c(".row", "x", "f", ".draw", "y"))
  expect_identical(long$x, rep(nd$x, each = 8))
  expect_identical(long$f, rep(nd$f, each = 8))
  expect_equal(nrow(long), 24L)
  expect_equal(long$.row, rep(1:3, each = 8))
  expect_equal(long$.draw, rep(1:8, 3))
  m <- sbsample(fit, nd, ndraws = 8, seed = 3, format = "matrix")
  expect_equal(dim(m), c(3L, 8L))
  expect_equal(as.vector(t(m)), long$y)
  # draw j of row i depends only on the seed, i and j (for this fit, which
  # pools two bridges, when the calls' draws are multiples of 2)
  m2 <- sbsample(fit, nd, ndraws = 4, seed = 3, format = "matrix")
  expect_identical(unname(m2), unname(m[, 1:4]))
  m3 <- sbsample(fit, nd[1:2, ], ndraws = 8, seed = 3, format = "matrix")
  expect_identical(unname(m3), unname(m[1:2, ]))
})

test_that("sbcondstats summarises the draws", {
  fit <- small_fit()
  nd <- data.frame(x = c(-1, 1), f = factor(c("a", "b")))
  st <- sbcondstats(fit, nd, ndraws = 50, probs = c(0.1, 0.5, 0.9), seed = 4,
                    keep_draws = TRUE)
  expect_s3_class(st, "sbcondstats")
  expect_named(st, c(".row", "x", "f", "mean", "sd", "q0.1", "q0.5", "q0.9", "density"))
  m <- attr(st, "draws")
  expect_equal(dim(m), c(2L, 50L))
  expect_equal(st$mean, rowMeans(m), ignore_attr = TRUE)
  expect_equal(st$sd, apply(m, 1, sd), ignore_attr = TRUE)
  q <- t(apply(m, 1, quantile, probs = c(0.1, 0.5, 0.9), names = FALSE))
  expect_equal(cbind(st$q0.1, st$q0.5, st$q0.9), q, ignore_attr = TRUE)
  expect_s3_class(st$density[[1]], "density")
  expect_equal(st$density[[2]]$y, stats::density(m[2, ], bw = "SJ", n = 512)$y)
  out <- capture.output(print(st))
  expect_false(any(grepl("list", out)))
  expect_true(any(grepl("q0.5", out)))
  p <- predict(fit, nd, ndraws = 50, seed = 4)
  expect_equal(unname(p), st$mean)
  pq <- predict(fit, nd, type = "quantile", probs = c(0.1, 0.9), ndraws = 50, seed = 4)
  expect_equal(dim(pq), c(2L, 2L))
  expect_equal(unname(pq[, 2]), st$q0.9)
  expect_equal(unname(predict(fit, nd, type = "sd", ndraws = 50, seed = 4)), st$sd)
})

test_that("multivariate responses work through cbind()", {
  set.seed(5)
  d <- data.frame(x = runif(200))
  d$y1 <- d$x + rnorm(200, sd = 0.1)
  d$y2 <- -d$x + rnorm(200, sd = 0.2)
  fit <- sbfit(cbind(y1, y2) ~ x, d, control = small_control(), seed = 1)
  expect_equal(fit$ynames, c("y1", "y2"))
  nd <- data.frame(x = c(0.2, 0.8))
  long <- sbsample(fit, nd, ndraws = 5, seed = 1)
  expect_named(long, c(".row", "x", ".draw", "y1", "y2"))
  a <- sbsample(fit, nd, ndraws = 5, seed = 1, format = "matrix")
  expect_equal(dim(a), c(2L, 5L, 2L))
  expect_equal(as.vector(t(a[, , "y2"])), long$y2)
  st <- sbcondstats(fit, nd, ndraws = 20, seed = 1)
  expect_equal(nrow(st), 4L)
  expect_equal(st$.response, c("y1", "y2", "y1", "y2"))
  expect_equal(dim(predict(fit, nd, ndraws = 20, seed = 1)), c(2L, 2L))
  expect_equal(dim(predict(fit, nd, type = "quantile", ndraws = 20, seed = 1)), c(2L, 3L, 2L))
  sim <- simulate(fit, nsim = 2, seed = 1, newdata = nd)
  expect_named(sim, c("sim_1.y1", "sim_1.y2", "sim_2.y1", "sim_2.y2"))
})

test_that("the default method takes a matrix or a data frame", {
  set.seed(6)
  x <- matrix(runif(400), 200, 2, dimnames = list(NULL, c("a", "b")))
  y <- x[, 1] - x[, 2] + rnorm(200, sd = 0.1)
  fit <- sbfit(x, y, control = small_control(), seed = 1)
  expect_equal(fit$xnames, c("a", "b"))
  expect_equal(nrow(sbsample(fit, x[1:3, ], ndraws = 2, seed = 1)), 6L)
  expect_equal(nrow(sbsample(fit, data.frame(b = 0.9, a = 0.2), ndraws = 2, seed = 1)), 2L)
  # columns without names are called x1, x2, ... by position, in the fit
  # and in newdata
  xp <- unname(x)
  colnames(xp) <- c("a", "")
  fp <- sbfit(xp, y, control = small_control(), seed = 1)
  expect_identical(fp$xnames, c("a", "x2"))
  expect_identical(sbsample(fp, xp[1:3, ], ndraws = 2, seed = 1, format = "matrix"),
                   sbsample(fp, cbind(a = x[1:3, 1], x2 = x[1:3, 2]), ndraws = 2, seed = 1,
                            format = "matrix"))
  expect_named(sbsample(fp, xp[1:3, ], ndraws = 2, seed = 1), c(".row", "a", "x2", ".draw", "y"))
  f0 <- sbfit(unname(x), y, control = small_control(), seed = 1)
  expect_identical(f0$xnames, c("x1", "x2"))
  expect_identical(f0$theta, fit$theta)
  xd <- x
  colnames(xd) <- c("a", "a")
  expect_error(sbfit(xd, y, control = small_control()), "'x' must have unique column names")
  # a named vector is neither; the message names both forms a matrix fit takes
  expect_error(sbsample(fit, c(a = 1, b = 2), ndraws = 2),
               "'newdata' must be a data frame or a matrix")
  fit2 <- sbfit(as.data.frame(x), y, control = small_control(), seed = 1)
  expect_identical(fit2$theta, fit$theta)
  expect_equal(formula(fit), y ~ a + b, ignore_attr = TRUE)
})

test_that("weights, subset and na.action are honoured", {
  d <- gauss_data(300, 7)
  d$y[5] <- NA
  fit <- sbfit(y ~ x, d, control = small_control(), seed = 1)
  expect_equal(nobs(fit), 299L)
  expect_error(sbfit(y ~ x, d, na.action = na.fail, control = small_control()),
               "missing values")
  fit_s <- sbfit(y ~ x, d, subset = x > 0, control = small_control(), seed = 1)
  expect_equal(nobs(fit_s), sum(d$x > 0 & !is.na(d$y)))
  w <- rep(1, 300)
  fit_w1 <- sbfit(y ~ x, d, weights = w, control = small_control(), seed = 1)
  expect_identical(fit_w1$theta, fit$theta)
  w2 <- runif(300)
  fit_w2 <- sbfit(y ~ x, d, weights = w2, control = small_control(), seed = 1)
  expect_false(identical(fit_w2$theta, fit$theta))
  expect_true(fit_w2$weighted)
})

test_that("rows of weight zero are left out, as if not given", {
  d <- gauss_data(300, 8)
  out <- seq(3, 300, by = 3)
  # wild responses on the rows of weight zero must not move anything: the
  # scalings, the held-out rows, their scores and the recalibration
  d$y[out] <- d$y[out] + rnorm(length(out), sd = 50)
  w <- ifelse(seq_len(300) %in% out, 0, 1)
  ctl <- small_control(epochs = 20)
  fw <- sbfit(y ~ x, d, weights = w, control = ctl, seed = 1)
  fs <- sbfit(y ~ x, d[-out, ], control = ctl, seed = 1)
  expect_identical(fw$theta, fs$theta)
  expect_identical(fw$scaling, fs$scaling)
  expect_identical(fw$holdout, fs$holdout)
  expect_identical(fw$recalibration, fs$recalibration)
  nd <- data.frame(x = c(-1, 1))
  expect_identical(predict(fw, nd, probs = c(0.1, 0.9)), predict(fs, nd, probs = c(0.1, 0.9)))
  expect_identical(nobs(fw), 200L)
  expect_identical(fw$n_zero_weight, 100L)
  expect_false(fw$weighted)
  expect_output(print(fw), "100 rows of weight zero left out")
  expect_output(print(summary(fw)), "100 rows of weight zero left out")
  # the default method too, and other positive weights still act
  w3 <- w * runif(300, 0.5, 1.5)
  fx <- sbfit(as.matrix(d["x"]), d$y, weights = w3, control = ctl, seed = 1, support = "real")
  expect_identical(nobs(fx), 200L)
  expect_true(fx$weighted)
  # one row of positive weight is too few
  expect_error(sbfit(y ~ x, d, weights = as.numeric(seq_len(300) == 1), control = ctl),
               "at least 2 rows")
})

test_that("offset() terms are refused, not ignored", {
  d <- gauss_data(100, 9)
  d$z <- runif(100)
  expect_error(sbfit(y ~ x + offset(z), d, control = small_control()),
               "'formula' has an offset\\(\\) term")
})

test_that("print, summary and plot methods run", {
  fit <- small_fit()
  expect_output(print(fit), "Schr")
  expect_output(print(fit), "16 -> 16")
  s <- summary(fit)
  expect_s3_class(s, "summary.sbfit")
  expect_output(print(s), "Standardisation")
  expect_output(print(sbcg_control()), "hidden")
  pdf(NULL)
  on.exit(dev.off())
  expect_identical(plot(fit), fit)
  st <- sbcondstats(fit, data.frame(x = c(-1, 1), f = "a"), ndraws = 30, seed = 1)
  expect_identical(plot(st), st)
  sim <- simulate(fit, nsim = 3, seed = 2, newdata = data.frame(x = 0, f = "b"))
  expect_named(sim, c("sim_1", "sim_2", "sim_3"))
  expect_equal(attr(sim, "seed"), 2, ignore_attr = TRUE)
})

test_that("verbose prints progress, one labelled line per network", {
  d <- gauss_data(200, 8)
  out <- capture.output(fit <- sbfit(y ~ x, d, control = small_control(), verbose = TRUE,
                                     seed = 1))
  expect_match(out, "epoch 3/3", all = FALSE)
  for (lab in c("location network 1/5: ", "scale network 5/5: ",
                "bridge 1/2 \\(with the predictors\\): ",
                "bridge 2/2 \\(without the predictors\\): "))
    expect_match(out, lab, all = FALSE)
  # every network ends its own line, with its place among the 17 (x has
  # more than 16 distinct values: the location networks also try
  # piecewise-linear encodings); then the bridge on the response itself
  # (direct_share), a fit of its own, counts its one network alone
  expect_length(out, 5 + 5 + 5 + 2 + 1)
  expect_match(out[18], "^\r?\\[1/1\\] bridge 1/1 \\(with the predictors\\): ")
  expect_match(out[1], "^\r?\\[1/17\\] location network 1/5: ")
  expect_match(out[6], "^\r?\\[6/17, at most [0-9]+:[0-9]{2} left in this fit\\] location \\(piecewise-linear inputs\\) network 1/5: ")
  expect_match(out[17], "\\[17/17, at most [0-9]+:[0-9]{2} left in this fit\\] bridge 2/2")
  # the plan counts each network's training rows times its epochs (the
  # bridge without the predictors trains min_epochs)
  prep <- list(tidx = 1:100, vidx = 101:110, ltheta0 = vector("list", 5), fold = rep(1:5, 20))
  budget <- list(epochs = 40, min_epochs = 15, steps_per_epoch = 1)
  plan <- sbcg:::fit_plan(prep, sbcg_control(), budget, c(TRUE, FALSE))
  expect_equal(plan, c(rep(20 * 80, 10), 40 * 100, 15 * 100))
  # with fewer than 10 held-out rows it is early-stopped, up to all epochs
  prep$vidx <- 101:105
  expect_equal(sbcg:::fit_plan(prep, sbcg_control(), budget, FALSE),
               c(rep(20 * 80, 10), 40 * 100))
  # with 10 or more predictor columns the location networks train twice
  # (without and with input decay), unless a decay is given
  prep$lseed <- vector("list", 5)
  prep$Xs <- matrix(0, 110, 12)
  expect_equal(sbcg:::fit_plan(prep, sbcg_control(), budget, FALSE),
               c(rep(20 * 80, 15), 40 * 100))
  expect_equal(sbcg:::fit_plan(prep, sbcg_control(input_decay = 0), budget, FALSE),
               c(rep(20 * 80, 10), 40 * 100))
  # a column of more than 16 distinct values: the encodings too, unless off
  prep$Xs[, 1] <- seq_len(110)
  prep$wt <- rep(1, 100)
  expect_equal(sbcg:::fit_plan(prep, sbcg_control(), budget, FALSE),
               c(rep(20 * 80, 20), 40 * 100))
  expect_equal(sbcg:::fit_plan(prep, sbcg_control(piecewise = FALSE), budget, FALSE),
               c(rep(20 * 80, 15), 40 * 100))
  set.seed(2)
  X12 <- matrix(rnorm(100 * 12), 100)  # folds of 18 rows: no shared epoch
  out <- capture.output(f12 <- sbfit(X12, X12[, 1] + rnorm(100), control = small_control(),
                                     verbose = TRUE, seed = 1))
  expect_length(out, 5 + 5 + 5 + 5 + 2 + 1)
  expect_match(out[6], "^\r?\\[6/22, at most [0-9]+:[0-9]{2} left in this fit\\] location \\(input decay\\) network 1/5: ")
  expect_match(out[11], "^\r?\\[11/22, at most [0-9]+:[0-9]{2} left in this fit\\] location \\(piecewise-linear inputs\\) network 1/5: ")
  expect_match(out[22], "\\[22/22, at most [0-9]+:[0-9]{2} left in this fit\\] bridge 2/2")
})
