# Scores: CRPS, energy score, pinball loss, PIT and coverage, from any
# draws (score_draws) and from a fit (sbscore).

crps_brute <- function(x, y) {
  m <- length(x)
  mean(abs(x - y)) - sum(abs(outer(x, x, "-"))) / (2 * m^2)
}
es_brute <- function(X, y) {
  # X: m x d draws, y: d-vector
  m <- nrow(X)
  D <- as.matrix(dist(X))
  mean(sqrt(rowSums(sweep(X, 2, y)^2))) - sum(D) / (2 * m^2)
}
crps_normal <- function(y, mu, s) {
  z <- (y - mu) / s
  s * (z * (2 * pnorm(z) - 1) + 2 * dnorm(z) - 1 / sqrt(pi))
}

test_that("the O(m log m) CRPS equals the O(m^2) edf definition", {
  set.seed(1)
  for (m in c(1, 2, 3, 7, 50)) {
    D <- matrix(rexp(4 * m) * sample(c(-1, 1), 4 * m, TRUE), 4, m)
    y <- c(-1, 0, 0.3, 5)
    sc <- score_draws(D, y)
    expect_equal(sc$crps, vapply(1:4, function(i) crps_brute(D[i, ], y[i]), 0),
                 tolerance = 1e-13, info = paste("m =", m))
  }
  # ties among the draws and with the observation
  D <- matrix(c(1, 1, 2, 2, 2, 3), 1)
  expect_equal(score_draws(D, 2)$crps, crps_brute(D[1, ], 2), tolerance = 1e-14)
  expect_equal(score_draws(c(4, 4, 4), 4)$crps, 0)
})

test_that("the energy score equals its O(m^2) definition and reduces to the CRPS", {
  set.seed(2)
  A <- array(rnorm(3 * 20 * 2), c(3, 20, 2))
  Y <- matrix(rnorm(6), 3, 2)
  sc <- score_draws(A, Y)
  expect_equal(nrow(sc), 6L)
  expect_equal(sc$.response, rep(c("y1", "y2"), 3))
  es <- vapply(1:3, function(i) es_brute(A[i, , ], Y[i, ]), 0)
  expect_equal(sc$es[c(1, 3, 5)], es, tolerance = 1e-13)
  expect_identical(sc$es[c(1, 3, 5)], sc$es[c(2, 4, 6)])
  # per-component scores are those of the margins
  expect_equal(sc$crps[sc$.response == "y2"], score_draws(A[, , 2], Y[, 2])$crps)
  expect_equal(sc$pit[sc$.response == "y1"], score_draws(A[, , 1], Y[, 1])$pit)
  # a second component that is always 0 leaves the CRPS of the first
  B <- A
  B[, , 2] <- 0
  Z <- cbind(Y[, 1], 0)
  expect_equal(score_draws(B, Z)$es[c(1, 3, 5)], score_draws(A[, , 1], Y[, 1])$crps,
               tolerance = 1e-13)
  # component names come from the array or the observations
  dimnames(A) <- list(NULL, NULL, c("u", "v"))
  expect_equal(unique(score_draws(A, Y)$.response), c("u", "v"))
})

test_that("CRPS and energy score agree with scoringRules", {
  skip_if_not_installed("scoringRules")
  set.seed(3)
  D <- matrix(rnorm(5 * 40, sd = 2), 5, 40)
  y <- rnorm(5)
  expect_equal(score_draws(D, y)$crps,
               scoringRules::crps_sample(y, D, method = "edf"), tolerance = 1e-12)
  A <- array(rnorm(4 * 30 * 3), c(4, 30, 3))
  Y <- matrix(rnorm(12), 4, 3)
  es_sr <- vapply(1:4, function(i) scoringRules::es_sample(Y[i, ], t(A[i, , ])), 0)
  expect_equal(score_draws(A, Y)$es[seq(1, 12, by = 3)], es_sr, tolerance = 1e-12)
})

test_that("the CRPS of normal draws matches the closed form within Monte Carlo error", {
  set.seed(4)
  m <- 20000
  mu <- c(0, 1, -3, 10)
  s <- c(1, 0.5, 2, 3)
  y <- c(0.3, -0.2, -3, 17)
  D <- matrix(rnorm(4 * m, mu, s), 4, m)
  est <- score_draws(D, y)$crps
  # the edf estimator is biased upwards by E|X - X'| / (2 m) = s / (sqrt(pi) m);
  # its standard error is sd(g(X)) / sqrt(m), g(x) = |x - y| - E|x - X'|
  for (i in 1:4) {
    z <- (D[i, ] - mu[i]) / s[i]
    g <- abs(D[i, ] - y[i]) - s[i] * (z * (2 * pnorm(z) - 1) + 2 * dnorm(z))
    se <- sd(g) / sqrt(m)
    target <- crps_normal(y[i], mu[i], s[i]) + s[i] / (sqrt(pi) * m)
    expect_lt(abs(est[i] - target), 4 * se)
  }
})

test_that("pinball loss, PIT and coverage follow their definitions", {
  set.seed(5)
  D <- matrix(rnorm(3 * 11), 3, 11)
  y <- c(-0.5, 0.1, 3)
  sc <- score_draws(D, y, probs = c(0.1, 0.5), level = c(0.5, 0.9))
  expect_named(sc, c(".row", "y", "crps", "pinball0.1", "pinball0.5", "pit",
                     "cover0.5", "cover0.9"))
  for (i in 1:3) {
    q <- quantile(D[i, ], c(0.1, 0.5), names = FALSE)
    expect_equal(sc$pinball0.1[i], (y[i] - q[1]) * (0.1 - (y[i] < q[1])))
    expect_equal(sc$pinball0.5[i], abs(y[i] - q[2]) / 2)
    expect_equal(sc$pit[i], (sum(D[i, ] < y[i]) + 0.5) / 12)
    b <- quantile(D[i, ], c(0.25, 0.75, 0.05, 0.95), names = FALSE)
    expect_identical(sc$cover0.5[i], y[i] >= b[1] && y[i] <= b[2])
    expect_identical(sc$cover0.9[i], y[i] >= b[3] && y[i] <= b[4])
  }
  expect_identical(sc$pit[3], 11.5 / 12)
  expect_false(sc$cover0.9[3])
  # ties count one half in the PIT
  expect_equal(score_draws(c(1, 2, 2, 3), 2)$pit, (1 + 0.5 * 2 + 0.5) / 5)
})

test_that("PIT and coverage of calibrated draws are uniform and nominal", {
  # 2000 observations from the same law as their 99 draws: the PIT
  # (r + 1/2) / 100 is uniform on 100 points, mean 0.5 and SD 0.2887; the
  # coverage of level L is Binomial(2000, about L) / 2000
  set.seed(6)
  N <- 2000
  mu <- runif(N, -5, 5)
  s <- runif(N, 0.5, 2)
  D <- matrix(rnorm(N * 99, mu, s), N, 99)
  y <- rnorm(N, mu, s)
  sc <- score_draws(D, y, level = c(0.5, 0.9))
  expect_lt(abs(mean(sc$pit) - 0.5), 4 * 0.2887 / sqrt(N))
  expect_lt(abs(sd(sc$pit) - 0.2887), 0.02)
  # type 7 quantiles of 99 draws span 98 L of the 100 rank cells of y
  for (L in c(0.5, 0.9)) {
    cov <- mean(sc[[paste0("cover", L)]])
    p <- 98 * L / 100
    expect_lt(abs(cov - p), 4 * sqrt(p * (1 - p) / N))
  }
  # and draws that are too narrow are not
  bad <- score_draws(mu + (D - mu) / 3, y, level = 0.9)
  expect_lt(mean(bad$cover0.9), 0.6)
  expect_gt(sd(bad$pit), 0.35)
})

test_that("sbscore scores the fit's draws", {
  fit <- sbfit(y ~ x, gauss_data(200, 31), control = small_control(), seed = 1)
  test <- gauss_data(25, 32)
  sc <- sbscore(fit, test, ndraws = 60, seed = 4)
  expect_s3_class(sc, "sbscore")
  expect_named(sc, c(".row", "y", "crps", "pinball0.05", "pinball0.5", "pinball0.95",
                     "pit", "cover0.5", "cover0.8", "cover0.9", "cover0.95"))
  m <- sbsample(fit, test, ndraws = 60, seed = 4, format = "matrix")
  ref <- score_draws(m, test$y)
  for (nm in names(ref)) expect_identical(sc[[nm]], ref[[nm]], info = nm)
  expect_equal(attr(sc, "n"), 60L)
  expect_equal(attr(sc, "levels"), c(0.5, 0.8, 0.9, 0.95))
  # the response may be an expression of the data
  dl <- transform(gauss_data(200, 33), y = exp(y / 4))
  fl <- sbfit(log(y) ~ x, dl, control = small_control(), seed = 1)
  tl <- transform(test, y = exp(y / 4))
  expect_equal(sbscore(fl, tl, ndraws = 20, seed = 1)$y, log(tl$y))
  # with what the response's transformation learned from the training rows
  # (scale(y): their mean and SD), as predict.lm() takes it, not from newdata
  dt <- gauss_data(200, 33)
  fs <- sbfit(scale(y) ~ x, dt, control = small_control(), seed = 1)
  expect_equal(sbscore(fs, test, ndraws = 20, seed = 1)$y, (test$y - mean(dt$y)) / sd(dt$y))
  expect_equal(sbscore(fs, test[3, ], ndraws = 20, seed = 1)$y, (test$y[3] - mean(dt$y)) / sd(dt$y))
  # and fits from a matrix take the response by its column name
  set.seed(34)
  X <- matrix(runif(400), 200, 2, dimnames = list(NULL, c("a", "b")))
  fm <- sbfit(X, X[, 1] + rnorm(200), control = small_control(), seed = 1)
  nd <- data.frame(a = c(0.2, 0.5), b = 0.3, y = c(0, 1))
  expect_equal(sbscore(fm, nd, ndraws = 20, seed = 1)$y, c(0, 1))
})

test_that("sbscore with several responses adds the energy score", {
  set.seed(35)
  d <- data.frame(x = runif(200))
  d$y1 <- d$x + rnorm(200, sd = 0.1)
  d$y2 <- -d$x + rnorm(200, sd = 0.2)
  fit <- sbfit(cbind(y1, y2) ~ x, d, control = small_control(), seed = 1)
  expect_output(print(fit), "means over 2 responses on their own scales")
  sc <- sbscore(fit, d[1:10, ], ndraws = 40, seed = 2)
  expect_equal(nrow(sc), 20L)
  expect_equal(sc$.response, rep(c("y1", "y2"), 10))
  a <- sbsample(fit, d[1:10, ], ndraws = 40, seed = 2, format = "matrix")
  ref <- score_draws(a, as.matrix(d[1:10, c("y1", "y2")]))
  for (nm in names(ref)) expect_identical(sc[[nm]], ref[[nm]], info = nm)
  s <- summary(sc)
  expect_equal(s$scores$mean[s$scores$score == "es"], mean(sc$es[c(TRUE, FALSE)]))
  expect_equal(s$n_rows, 10L)
  expect_output(print(sc), "es")
  # a missing response blanks its own scores and the energy score only
  dm <- d[1:10, ]
  dm$y2[3] <- NA
  dm[5, c("y1", "y2")] <- NA
  sm <- sbscore(fit, dm, ndraws = 40, seed = 2)
  r3 <- sm$.row == 3
  expect_identical(sm$crps[r3], c(sc$crps[r3][1], NA))
  expect_identical(sm$pit[r3], c(sc$pit[r3][1], NA))
  expect_true(all(is.na(sm$es[r3])))
  expect_true(all(is.na(sm$crps[sm$.row == 5])))
  # (row 5 has no score; row 3 one of two)
  expect_identical(summary(sm)$n_rows, 9L)
  ok <- !(sm$.row %in% c(3, 5))
  expect_identical(sm$crps[ok], sc$crps[ok])
  expect_identical(sm$y[sm$.row == 3], c(d$y1[3], NA))
  expect_identical(unique(sbscore(fit, dm, ndraws = 40, seed = 2, na.action = na.omit)$.row),
                   setdiff(1:10, c(3L, 5L)))
  expect_error(sbscore(fit, dm, ndraws = 40, na.action = na.fail), "row\\(s\\) 3, 5")
})

test_that("scores keep newdata's row names, and rbind() of folds' scores keeps rows apart", {
  set.seed(36)
  d <- data.frame(x = runif(90))
  d$y1 <- d$x + rnorm(90, sd = 0.1)
  d$y2 <- -d$x + rnorm(90, sd = 0.2)
  fold <- rep(1:3, 30)
  one <- lapply(1:3, function(k) {
    # (60 rows: the fits warn that 6 held-out rows are too few)
    f <- suppressWarnings(sbfit(y1 ~ x, d[fold != k, ], control = small_control(), seed = k))
    sbscore(f, d[fold == k, ], ndraws = 30, seed = k)
  })
  expect_identical(rownames(one[[2]]), as.character(which(fold == 2)))
  all <- do.call(rbind, one)
  expect_s3_class(all, "sbscore")
  expect_identical(all$.row, 1:90)
  expect_identical(sort(as.integer(rownames(all))), 1:90)
  expect_identical(all$crps, unlist(lapply(one, `[[`, "crps")))
  s <- summary(all)
  expect_identical(s$n_rows, 90L)
  expect_equal(s$scores$mean[s$scores$score == "crps"], mean(all$crps))
  expect_output(print(all), "against 90 observations")
  # several responses: the energy score of every fold's rows
  two <- lapply(1:3, function(k) {
    f <- suppressWarnings(sbfit(cbind(y1, y2) ~ x, d[fold != k, ], control = small_control(),
                                seed = k))
    sbscore(f, d[fold == k, ], ndraws = 30, seed = k)
  })
  expect_identical(rownames(two[[1]])[1:2], paste0(which(fold == 1)[1], c(".y1", ".y2")))
  s2 <- summary(do.call(rbind, two))
  es <- unlist(lapply(two, function(x) x$es[!duplicated(x$.row)]))
  expect_equal(s2$scores$mean[s2$scores$score == "es"], mean(es))
  expect_identical(s2$n_rows, 90L)
  # parts whose newdata share row names: the lines numbered
  expect_identical(rownames(rbind(one[[1]], one[[1]])), as.character(1:60))
  # parts that differ in what they score do not bind
  expect_error(rbind(one[[1]], two[[1]]), "same responses, 'probs' and 'level'")
  expect_error(rbind(one[[1]], one[[2]][c("crps", "pit")]), "sbscore\\(\\) or score_draws\\(\\) only")
})

test_that("summary and print report averages, coverage and PIT", {
  set.seed(7)
  D <- matrix(rnorm(50 * 30), 50, 30)
  y <- rnorm(50)
  sc <- score_draws(D, y)
  s <- summary(sc)
  expect_s3_class(s, "summary.sbscore")
  expect_equal(s$scores$score, c("crps", "pinball0.05", "pinball0.5", "pinball0.95"))
  expect_equal(s$scores$mean[1], mean(sc$crps))
  expect_equal(s$scores$se[1], sd(sc$crps) / sqrt(50))
  expect_equal(s$coverage$empirical, c(mean(sc$cover0.5), mean(sc$cover0.8),
                                       mean(sc$cover0.9), mean(sc$cover0.95)))
  expect_equal(sum(s$pit$counts), 50L)
  p <- s$coverage$empirical
  expect_equal(s$coverage$se, sqrt(p * (1 - p) / 50))
  # a row's components pooled count as one cluster: two identical
  # components say no more than one
  A <- array(c(D, D), c(50, 30, 2))
  s2 <- summary(score_draws(A, cbind(y, y)))
  all2 <- s2$coverage[s2$coverage$.response == "all", ]
  expect_equal(all2$empirical, p)
  expect_equal(all2$se, s$coverage$se)
  expect_output(print(s), "Coverage of central intervals")
  out <- capture.output(res <- withVisible(print(sc)))
  expect_false(res$visible)
  expect_identical(res$value, sc)
  expect_true(any(grepl("crps", out)))
  expect_true(any(grepl("PIT: mean", out)))
  # a subset of rows stays a result; a selection of columns is a data frame
  sub <- sc[y > 0, ]
  expect_s3_class(sub, "sbscore")
  expect_identical(attr(sub, "levels"), attr(sc, "levels"))
  expect_equal(summary(sub)$scores$mean[1], mean(sc$crps[y > 0]))
  cols <- sc[, c("crps", "pit")]
  expect_identical(class(cols), "data.frame")
  expect_output(print(cols), "crps")
  expect_identical(class(sc[c("crps", "pit")]), "data.frame")
  expect_identical(sc[["crps"]], sc$crps)
})

test_that("non-finite draws of a diverging fit give NA scores and a warning", {
  fit <- sbfit(y ~ x, gauss_data(200, 36), control = small_control(), seed = 1)
  fit$theta <- fit$theta * 1e250
  expect_warning(sc <- sbscore(fit, gauss_data(4, 37), ndraws = 5, seed = 1), "non-finite")
  expect_true(anyNA(sc$crps))
  expect_identical(is.na(sc$crps), is.na(sc$pit))
  expect_output(print(summary(sc)), "have no score")
})

test_that("bad input to sbscore and score_draws gives errors naming the argument", {
  fit <- sbfit(y ~ x, gauss_data(200, 38), control = small_control(), seed = 1)
  test <- gauss_data(5, 39)
  set.seed(8)
  D <- matrix(rnorm(5 * 10), 5, 10)
  cases <- list(
    list(quote(sbscore(fit, test["x"])), "'newdata' lacks the response column\\(s\\) y"),
    list(quote(sbscore(fit, transform(test, y = as.character(y)))), "'newdata': the response y must be numeric, not character"),
    list(quote(sbscore(fit, transform(test, y = replace(y, 2, NA)), na.action = na.fail)), "'newdata' has missing values in row\\(s\\) 2"),
    list(quote(sbscore(fit, transform(test, y = replace(y, 3, Inf)))), "'newdata' has infinite responses"),
    list(quote(sbscore(fit, transform(test, y = as.character(y)))), "'newdata'.*numeric"),
    list(quote(sbscore(fit)), "'newdata' is missing"),
    list(quote(sbscore(fit, test, ndraws = 1)), "'ndraws'"),
    list(quote(sbscore(fit, test, level = 1)), "'level'"),
    list(quote(sbscore(fit, test, level = c(0.5, NA))), "'level'"),
    list(quote(sbscore(fit, test, level = c(0.5, 0.5))), "'level' must not contain duplicates"),
    list(quote(sbscore(fit, test, probs = 2)), "'probs'"),
    list(quote(sbscore(fit, test, chunk_size = 0)), "'chunk_size'"),
    list(quote(sbscore(fit, test, verbose = NA)), "'verbose'"),
    list(quote(sbscore(fit, test, nsim = 3)), "unknown argument"),
    list(quote(sbscore("fit", test)), "'object' must be a fit"),
    list(quote(score_draws(D, rnorm(4))), "'draws' and 'y' do not match"),
    list(quote(score_draws(D, matrix(0, 5, 2))), "'draws' and 'y' do not match"),
    list(quote(score_draws(array(0, c(5, 10, 2)), rnorm(5))), "'draws' and 'y' do not match"),
    list(quote(score_draws(D, replace(rnorm(5), 4, NA))), "'y' has missing or infinite values in row\\(s\\) 4"),
    list(quote(score_draws(replace(D, 7, NaN), rnorm(5))), "'draws' must be finite"),
    list(quote(score_draws(replace(D, 7, Inf), rnorm(5))), "'draws' must be finite"),
    list(quote(score_draws(D, letters[1:5])), "'y' must be a numeric"),
    list(quote(score_draws(as.character(D), 1)), "'draws' must be a numeric"),
    list(quote(score_draws(D)), "'y' is missing"),
    list(quote(score_draws(y = 1)), "'draws' is missing"),
    list(quote(score_draws(1:3, 1:2)), "'draws' is a vector"),
    list(quote(score_draws(D[, 0], rnorm(5))), "'draws' must not be empty"),
    list(quote(score_draws(D, numeric())), "'y' must not be empty"),
    list(quote(score_draws(D, rnorm(5), levels = 0)), "'levels'"),
    list(quote(score_draws(D, rnorm(5), probs = -1)), "'probs'")
  )
  for (k in seq_along(cases))
    expect_error(eval(cases[[k]][[1]]), cases[[k]][[2]], info = deparse1(cases[[k]][[1]]))
})

test_that("score_draws(discrete = TRUE) scores count draws as sbscore() scores count fits", {
  # y and 200 draws from the same Poisson law: with the ties broken at
  # random the central intervals cover their level (binomial error of
  # 4000 rows: at most 0.008); the closed intervals between quantiles on
  # atoms cover far more
  set.seed(12)
  n <- 4000
  lam <- rep(c(0.5, 3, 10), length.out = n)
  M <- matrix(rpois(n * 200, lam), n)
  y <- rpois(n, lam)
  sd <- score_draws(M, y, discrete = TRUE, level = c(0.5, 0.9))
  se <- sqrt(0.25 / n)
  expect_lt(abs(mean(sd$cover0.5) - 0.5), 4 * se)
  expect_lt(abs(mean(sd$cover0.9) - 0.9), 4 * se)
  expect_gt(mean(score_draws(M, y, level = 0.5)$cover0.5), 0.5 + 8 * se)
  # the same CRPS either way; whole-number quantiles (type 1)
  expect_identical(sd$crps, score_draws(M, y)$crps)
  expect_true(all(sd$pinball0.5 == (y - apply(M, 1, quantile, 0.5, type = 1)) *
                    (0.5 - (y < apply(M, 1, quantile, 0.5, type = 1)))))
  # the ties of each row are broken by its own fixed number, the same
  # whatever the other rows: a row scored alone gets its PIT of the call
  expect_identical(score_draws(M[1:5, ], y[1:5], discrete = TRUE)$pit, sd$pit[1:5])
  expect_error(score_draws(M, y, discrete = NA), "'discrete'")
})

test_that("held-out coverage from the PIT judges the law, not the draws' quantiles", {
  # y and m = 100 draws from the same law: the interval between the type-7
  # 5% and 95% quantiles of the draws covers (95.05 - 5.95) / 101 = 0.882
  # of the y on average, the PIT's central 90% 91 / 101 = 0.901
  set.seed(11)
  n <- 20000
  m <- 100
  M <- matrix(rexp(n * m), n, m)
  y <- rexp(n)
  sc <- sbcg:::score_core(list(M), cbind(y), 0.5, c(0.5, 0.9), "y", seq_len(n))
  se <- sqrt(0.09 / n)
  expect_lt(abs(mean(sc$cover0.9) - (95.05 - 5.95) / 101), 4 * se)
  expect_lt(abs(sbcg:::pit_cover(sc$pit, 0.9) - 91 / 101), 4 * se)
  expect_lt(abs(sbcg:::pit_cover(sc$pit, 0.5) - 51 / 101), 4 * sqrt(0.25 / n))
  # the two differ by far more than their sampling error
  expect_gt(sbcg:::pit_cover(sc$pit, 0.9) - mean(sc$cover0.9), 6 * se)
})

