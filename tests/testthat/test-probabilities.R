# sbcondstats(): probabilities P(Y <= y0 | x), Monte Carlo standard errors
# and the draws kept with the statistics.

# the bridge with x: every row's draws are its own (a bridge without x
# shares one set of standardised draws among the rows of a call); no
# linear part, whose draws are not independent (test-linear.R tests its
# errors)
fit_p <- sbfit(y ~ x, gauss_data(200, 21),
               control = small_control(bridge_inputs = "x", linear_mix = FALSE), seed = 1)
stopifnot(sbcg:::bridge_sees_x(fit_p))
nd_p <- data.frame(x = c(-1, 0, 1.5))

test_that("'at' as a vector gives one probability column per threshold", {
  st <- sbcondstats(fit_p, nd_p, ndraws = 300, at = c(-1, 0, 2.5), density = FALSE, seed = 7)
  expect_named(st, c(".row", "x", "mean", "sd", "q0.05", "q0.5", "q0.95", "pm1", "p0", "p2.5"))
  m <- sbsample(fit_p, nd_p, ndraws = 300, seed = 7, format = "matrix", stratify = TRUE)
  expect_identical(st$pm1, unname(rowMeans(m <= -1)))
  expect_identical(st$p0, unname(rowMeans(m <= 0)))
  # far magnitudes named in exponent form, not in hundreds of digits
  expect_identical(sbcg:::at_names(c(1e300, -2.5e-8, 1e-4, -Inf)),
                   c("p1e300", "pm2.5em8", "p0.0001", "pmInf"))
  # thresholds that 15 digits do not tell apart get 17
  expect_identical(sbcg:::at_names(c(1, 1 + 1e-15)), c("p1", "p1.0000000000000011"))
  expect_identical(sbcg:::at_names(c(1, 1 + 1e-14)), c("p1", "p1.00000000000001"))
  expect_identical(st$p2.5, unname(rowMeans(m <= 2.5)))
  # the other columns are unchanged by 'at'
  st0 <- sbcondstats(fit_p, nd_p, ndraws = 300, density = FALSE, seed = 7)
  expect_identical(st$q0.5, st0$q0.5)
  expect_identical(attr(st, "at"), c(-1, 0, 2.5))
})

test_that("infinite thresholds give probabilities 0 and 1, as pnorm() does", {
  st <- sbcondstats(fit_p, nd_p, ndraws = 100, at = c(-Inf, 0, Inf), se = TRUE,
                    density = FALSE, seed = 7)
  expect_identical(st$pmInf, rep(0, 3))
  expect_identical(st$pInf, rep(1, 3))
  expect_identical(c(st$se_pmInf, st$se_pInf), rep(0, 6))
  A <- cbind(c(-Inf, 0, Inf), Inf)
  P <- predict(fit_p, nd_p, at = A, ndraws = 100, seed = 7)
  expect_equal(unname(P[c(1, 3), 1]), c(0, 1))
  expect_equal(unname(P[, 2]), rep(1, 3))
})

test_that("'at' as a matrix gives row-specific thresholds", {
  A <- cbind(nd_p$x, nd_p$x + 1)
  st <- sbcondstats(fit_p, nd_p, ndraws = 200, at = A, se = TRUE, density = FALSE, seed = 3)
  expect_named(st, c(".row", "x", "mean", "sd", "q0.05", "q0.5", "q0.95", "at_1", "at_2",
                     "p_1", "p_2", "se_mean", "se_sd", "se_q0.05", "se_q0.5",
                     "se_q0.95", "se_p_1", "se_p_2"))
  expect_identical(st$at_1, nd_p$x)
  expect_identical(st$at_2, nd_p$x + 1)
  m <- sbsample(fit_p, nd_p, ndraws = 200, seed = 3, format = "matrix", stratify = TRUE)
  expect_identical(st$p_1, unname(rowMeans(m <= A[, 1])))
  expect_identical(st$p_2, unname(rowMeans(m <= A[, 2])))
  # a one-row matrix for one-row newdata
  st1 <- sbcondstats(fit_p, nd_p[2, , drop = FALSE], ndraws = 200, at = matrix(c(0, 1), 1),
                     density = FALSE, seed = 3)
  m1 <- sbsample(fit_p, nd_p[2, , drop = FALSE], ndraws = 200, seed = 3, format = "matrix",
                 stratify = TRUE)
  expect_identical(c(st1$p_1, st1$p_2), c(mean(m1 <= 0), mean(m1 <= 1)))
  # a row with a missing predictor keeps its thresholds, with NA
  # probabilities; na.omit leaves it out, with its thresholds
  nd_na <- rbind(nd_p, data.frame(x = NA_real_))
  A_na <- cbind(c(A[, 1], 7), c(A[, 2], 8))
  st_na <- sbcondstats(fit_p, nd_na, ndraws = 200, at = A_na, density = FALSE, seed = 3)
  expect_identical(st_na$at_1, A_na[, 1])
  expect_identical(st_na$at_2, A_na[, 2])
  expect_identical(st_na$p_1, c(st$p_1, NA))
  st_om <- sbcondstats(fit_p, nd_na[c(4, 1), , drop = FALSE], ndraws = 200,
                       at = A_na[c(4, 1), ], density = FALSE, seed = 3, na.action = na.omit)
  expect_identical(st_om$.row, 2L)
  expect_identical(c(st_om$at_1, st_om$at_2), A_na[1, ])
})

test_that("standard errors follow their formulas (independent draws)", {
  st <- sbcondstats(fit_p, nd_p, ndraws = 250, probs = c(0, 0.25, 0.5, 1), at = 0,
                    se = TRUE, seed = 11, stratify = FALSE)
  m <- sbsample(fit_p, nd_p, ndraws = 250, seed = 11, format = "matrix")
  n <- 250
  expect_equal(st$se_mean, unname(apply(m, 1, sd)) / sqrt(n))
  m4 <- rowMeans((m - rowMeans(m))^4)
  s <- apply(m, 1, sd)
  expect_equal(st$se_sd, unname(sqrt((m4 - s^4 * (n - 3) / (n - 1)) / n) / (2 * s)))
  expect_equal(st$se_p0, sqrt(st$p0 * (1 - st$p0) / n))
  for (i in 1:3) {
    h <- bw.SJ(m[i, ], method = "ste")  # the default bw = "SJ"
    q <- quantile(m[i, ], 0.25, names = FALSE)
    f <- mean(dnorm((q - m[i, ]) / h)) / h
    expect_equal(st$se_q0.25[i], sqrt(0.25 * 0.75 / n) / f)
    # the same bandwidth as the density column
    expect_equal(st$density[[i]]$bw, h)
  }
  expect_true(all(is.na(st$se_q0)) && all(is.na(st$se_q1)))
  # adjust and a numeric bw change the quantile errors as they should
  st2 <- sbcondstats(fit_p, nd_p, ndraws = 250, probs = 0.5, se = TRUE, bw = 0.4,
                     adjust = 0.5, density = FALSE, seed = 11, stratify = FALSE)
  f2 <- vapply(1:3, function(i) {
    mean(dnorm((st2$q0.5[i] - m[i, ]) / 0.2)) / 0.2
  }, 0)
  expect_equal(st2$se_q0.5, sqrt(0.25 / n) / f2)
})

test_that("stratified draws: standard errors from the spread of the groups", {
  n <- 250
  m <- sbcg:::draw_strata(n)
  expect_identical(m, 25L)
  st <- sbcondstats(fit_p, nd_p, ndraws = n, probs = c(0, 0.25), at = 0, se = TRUE,
                    density = FALSE, seed = 11)
  expect_identical(attr(st, "strata"), m)
  D <- sbsample(fit_p, nd_p, ndraws = n, seed = 11, format = "matrix", stratify = TRUE)
  g <- rep(seq_len(n / m), each = m)
  G <- n / m
  # sqrt(G / (G - 1) * sum over groups of (sum of the group's influence
  # values)^2) / n
  group_se <- function(psi) sqrt(G / (G - 1) * sum(tapply(psi, g, sum)^2)) / n
  for (i in 1:3) {
    v <- D[i, ]
    expect_equal(st$se_mean[i], group_se(v - mean(v)))
    expect_equal(st$se_sd[i], group_se(((v - mean(v))^2 - var(v)) / (2 * sd(v))))
    expect_equal(st$se_p0[i], group_se((v <= 0) - mean(v <= 0)))
    h <- bw.SJ(v, method = "ste")
    q <- quantile(v, 0.25, names = FALSE)
    f <- mean(dnorm((q - v) / h)) / h
    # quantiles: the larger of that and the SD of the quantiles of 10
    # batches of groups (groups dealt round-robin) over sqrt(10)
    qb <- tapply(v, (g - 1) %% 10, quantile, probs = 0.25, names = FALSE)
    expect_equal(st$se_q0.25[i], max(group_se(0.25 - (v <= q)) / f, sd(qb) / sqrt(10)))
  }
  expect_true(all(is.na(st$se_q0)))
  # summarised again from the kept draws: the same errors
  kd <- sbcondstats(fit_p, nd_p, ndraws = n, probs = 0.25, at = 0, density = FALSE,
                    keep_draws = TRUE, seed = 11)
  expect_identical(attr(kd, "draws"), D)
  st2 <- sbcondstats(kd, probs = c(0, 0.25), at = 0, se = TRUE, density = FALSE)
  expect_identical(st2$se_mean, st$se_mean)
  expect_identical(st2$se_q0.25, st$se_q0.25)
  # more draws extend fewer when the groups keep their size (25 for 250
  # draws and more) and the fewer fill whole groups
  D5 <- sbsample(fit_p, nd_p, ndraws = 500, seed = 11, format = "matrix", stratify = TRUE)
  expect_identical(D5[, 1:250], D)
  # too few draws for ten groups: independent draws, textbook errors
  expect_identical(sbcg:::draw_strata(19), 0L)
  expect_identical(sbcg:::draw_strata(20), 2L)
  expect_identical(sbcg:::draw_strata(1e6), 25L)
  st3 <- sbcondstats(fit_p, nd_p, ndraws = 19, probs = 0.5, se = TRUE, density = FALSE, seed = 2)
  expect_identical(attr(st3, "strata"), 0L)
  D3 <- sbsample(fit_p, nd_p, ndraws = 19, seed = 2, format = "matrix")
  expect_equal(st3$se_mean, unname(apply(D3, 1, sd)) / sqrt(19))
})

test_that("standard errors match the spread of independent replicates", {
  # 80 copies of one row: independent streams, so 80 independent replicate
  # estimates; the SD of an SD of 80 values is about 8% of it, and the
  # bounds below are more than 3.5 of those from 1.  The squared errors are
  # unbiased for the variance, so the SD is set against their root mean
  # square.  Stratified draws (the default) estimate their errors from 16
  # groups of 25 draws; the error of a probability then hangs on the few
  # groups where the threshold's stratum tips the count, so single
  # estimates vary a lot and their mean square less (about 10% here)
  R <- 80
  n <- 400
  ratio <- function(est, se) sd(est) / sqrt(mean(se^2))
  for (stratify in c(FALSE, TRUE)) {
    st <- sbcondstats(fit_p, data.frame(x = rep(0.5, R)), ndraws = n,
                      probs = c(0.1, 0.5, 0.9), at = 1, se = TRUE, density = FALSE,
                      seed = 5, stratify = stratify)
    lab <- if (stratify) "stratified" else "independent"
    for (v in c("mean", "sd", "q0.1", "q0.5", "q0.9", "p1")) {
      r <- ratio(st[[v]], st[[paste0("se_", v)]])
      expect_gt(r, 0.7, label = paste(lab, v))
      expect_lt(r, 1.4, label = paste(lab, v))
    }
  }
})

test_that("stratified quantiles get a positive error when every group splits alike", {
  # 200 draws in groups of 20, p = 0.1: on a near-Gaussian fit every group
  # holds exactly two draws below the 10% quantile, so the groups' counts
  # cannot show its spread; the sectioning estimate does.  60 replicate
  # rows: the SD of the estimates and the root mean square of the errors
  # agree within the noise of 60 replicates (SD of an SD about 9%) and
  # the slack of sectioning on batches of one group
  R <- 60
  st <- sbcondstats(fit_p, data.frame(x = rep(0.5, R)), ndraws = 200, probs = 0.1,
                    se = TRUE, density = FALSE, seed = 3)
  expect_true(all(st$se_q0.1 > 0))
  r <- sd(st$q0.1) / sqrt(mean(st$se_q0.1^2))
  expect_gt(r, 0.5)
  expect_lt(r, 1.4)
})

test_that("sectioning errors of a pooled law deal every member into each batch", {
  # draws as sample_members() deals a pooled law's groups of 25: in turn to
  # two members whose laws differ (N(0, 1) and N(2, 1)).  Batches of one
  # member's groups alone would take the gap between the members' medians
  # for Monte Carlo error (about 16 times the true error here).  Against
  # the SD of the pooled median over 300 replicates (its own error about
  # 4%), the mean sectioning error must agree within the slack of
  # sectioning on batches of 100 draws
  set.seed(31)
  R <- 300
  m <- 25L
  n <- 1000L
  member <- (seq_len(n) - 1L) %/% m %% 2L
  reps <- replicate(R, {
    v <- rnorm(n, mean = 2 * member)
    M <- matrix(v, 1L)
    c(quantile(v, 0.5, names = FALSE), sbcg:::section_quantile_se(M, 0.5, m, members = 2L))
  })
  r <- sd(reps[1, ]) / sqrt(mean(reps[2, ]^2))
  expect_gt(r, 0.75)
  expect_lt(r, 1.33)
  # 215 draws in groups of 21, units of two groups: five whole units and 5
  # draws over, which are left out of the batches (as a sixth batch of 5
  # draws, they made the error 3 to 4 times too large); the quartiles of
  # i.i.d. N(0, 1) draws over 300 replicates, the same bounds (batches of
  # 42 draws, 4 degrees of freedom: a wider spread of the estimate, whose
  # mean square the bounds judge)
  reps <- replicate(R, {
    v <- rnorm(215L)
    c(quantile(v, 0.25, names = FALSE),
      sbcg:::section_quantile_se(matrix(v, 1L), 0.25, 21L, members = 2L))
  })
  r <- sd(reps[1, ]) / sqrt(mean(reps[2, ]^2))
  expect_gt(r, 0.75)
  expect_lt(r, 1.33)
})

test_that("stratified draws vary less than independent ones, with the same law", {
  # the same 60 replicate rows as above: the variance of the mean over the
  # replicates drops far below that of independent draws (a location-scale
  # law is nearly a monotone map of the stratified noise sum); an F test
  # at the 1e-6 level on 59 and 59 degrees of freedom
  R <- 60
  nd <- data.frame(x = rep(0.5, R))
  a <- sbcondstats(fit_p, nd, ndraws = 200, density = FALSE, seed = 8, stratify = FALSE)
  b <- sbcondstats(fit_p, nd, ndraws = 200, density = FALSE, seed = 8)
  expect_lt(var(b$mean) / var(a$mean), qf(1e-6, R - 1, R - 1))
  # pooled draws of the two kinds agree in law: two-sample Kolmogorov-Smirnov
  # on 12000 draws each
  x <- sbsample(fit_p, nd, ndraws = 200, seed = 9, format = "matrix", stratify = TRUE)
  y <- sbsample(fit_p, nd, ndraws = 200, seed = 10, format = "matrix")
  expect_gt(suppressWarnings(stats::ks.test(as.vector(x), as.vector(y))$p.value), 1e-4)
})

test_that("several responses: probabilities per component, joint draws kept", {
  set.seed(9)
  d <- data.frame(x = runif(200))
  d$y1 <- d$x + rnorm(200, sd = 0.1)
  d$y2 <- -d$x + rnorm(200, sd = 0.2)
  # a bridge that sees x: its rows' draws are sbsample()'s (a bridge
  # without x shares them between rows, as does one that kept its starting
  # weights; test-bridge-inputs.R); no held-out rows, so it keeps its last
  fit <- sbfit(cbind(y1, y2) ~ x, d, seed = 1,
               control = small_control(bridge_inputs = "x", validation = 0))
  expect_true(sbcg:::bridge_sees_x(fit))
  nd <- data.frame(x = c(0.2, 0.8))
  st <- sbcondstats(fit, nd, ndraws = 100, at = c(0, 0.5), se = TRUE, keep_draws = TRUE,
                    density = FALSE, seed = 2)
  expect_equal(st$.response, c("y1", "y2", "y1", "y2"))
  a <- attr(st, "draws")
  expect_identical(a, sbsample(fit, nd, ndraws = 100, seed = 2, format = "matrix",
                               stratify = TRUE))
  expect_equal(dim(a), c(2L, 100L, 2L))
  expect_identical(st$p0.5[st$.response == "y2"], unname(rowMeans(a[, , "y2"] <= 0.5)))
  expect_identical(st$p0[st$.response == "y1"], unname(rowMeans(a[, , "y1"] <= 0)))
  # a joint probability from the kept draws: the components of a draw stay
  # together, as in the long form, where they share a line
  long <- sbsample(fit, nd, ndraws = 100, seed = 2, stratify = TRUE)
  expect_equal(unname(rowMeans(a[, , "y1"] <= 0.5 & a[, , "y2"] <= 0)),
               as.vector(tapply(long$y1 <= 0.5 & long$y2 <= 0, long$.row, mean)))
  # one row of thresholds per row of the result
  A <- matrix(c(0.1, -0.1, 0.9, -0.9), 4, 1)
  st2 <- sbcondstats(fit, nd, ndraws = 100, at = A, density = FALSE, seed = 2)
  expect_identical(st2$at_1, A[, 1])
  expect_identical(st2$p_1, c(mean(a[1, , 1] <= 0.1), mean(a[1, , 2] <= -0.1),
                              mean(a[2, , 1] <= 0.9), mean(a[2, , 2] <= -0.9)))
  # one row per row of newdata applies to every component
  st3 <- sbcondstats(fit, nd, ndraws = 100, at = matrix(c(0, 1), 2), density = FALSE, seed = 2)
  expect_identical(st3$at_1, c(0, 0, 1, 1))
  # a row with a missing predictor keeps each component's threshold
  nd3 <- rbind(nd, data.frame(x = NA_real_))
  A3 <- matrix(c(0.1, -0.1, 0.9, -0.9, 5, -5), 6, 1)
  st4 <- sbcondstats(fit, nd3, ndraws = 100, at = A3, density = FALSE, seed = 2)
  expect_identical(st4$at_1, A3[, 1])
  expect_identical(st4$p_1, c(st2$p_1, NA, NA))
  expect_error(sbcondstats(fit, nd, ndraws = 20, at = matrix(0, 3, 1)),
               "'at' has 3 rows.*\\(2\\).*\\(4\\)")
})

test_that("rows with non-finite draws get NA probabilities and errors", {
  big <- fit_p
  big$theta <- big$theta * 1e250
  expect_warning(st <- sbcondstats(big, nd_p, ndraws = 5, probs = 0.5, at = 0, se = TRUE, seed = 1),
                 "non-finite")
  bad <- is.na(st$mean)
  expect_true(any(bad))
  expect_true(all(is.na(st$p0[bad])) && all(is.na(st$se_p0[bad])))
  expect_true(all(is.na(st$se_q0.5[bad])))
})

test_that("bad 'at', 'se' and 'keep_draws' give errors naming them", {
  cases <- list(
    list(quote(sbcondstats(fit_p, nd_p, at = NA)), "'at' must not contain NA"),
    list(quote(sbcondstats(fit_p, nd_p, at = c(0, NaN))), "'at' must not contain NA"),
    list(quote(sbcondstats(fit_p, nd_p, at = "0")), "'at' must be NULL, a numeric"),
    list(quote(sbcondstats(fit_p, nd_p, at = list(0))), "'at' must be NULL, a numeric"),
    list(quote(sbcondstats(fit_p, nd_p, at = data.frame(a = 1:3))), "'at' must be NULL, a numeric"),
    list(quote(sbcondstats(fit_p, nd_p, at = TRUE)), "'at' must be NULL, a numeric"),
    list(quote(sbcondstats(fit_p, nd_p, at = 1i)), "'at' must be NULL, a numeric"),
    list(quote(sbcondstats(fit_p, nd_p, at = numeric())), "'at' must not be empty"),
    list(quote(sbcondstats(fit_p, nd_p, at = c(1, 1))), "'at' must not contain duplicates"),
    list(quote(sbcondstats(fit_p, nd_p, at = matrix(0, 2, 2))), "'at' has 2 rows.*one row per row of 'newdata' \\(3\\)"),
    list(quote(sbcondstats(fit_p, nd_p, at = matrix(0, 3, 0))), "'at'"),
    list(quote(sbcondstats(fit_p, nd_p, at = array(0, c(3, 1, 1)))), "'at' must be NULL, a numeric"),
    list(quote(sbcondstats(fit_p, nd_p, at = matrix(c(0, NA, 0), 3))), "'at' must not contain NA"),
    list(quote(sbcondstats(fit_p, nd_p, se = NA)), "'se' must be TRUE or FALSE"),
    list(quote(sbcondstats(fit_p, nd_p, se = "yes")), "'se' must be TRUE or FALSE"),
    list(quote(sbcondstats(fit_p, nd_p, keep_draws = 1)), "'keep_draws' must be TRUE or FALSE")
  )
  for (k in seq_along(cases))
    expect_error(eval(cases[[k]][[1]]), cases[[k]][[2]], info = deparse1(cases[[k]][[1]]))
})

test_that("the default bandwidth falls back to nrd0 on draws with few distinct values", {
  v <- c(rep(0, 99), 1)
  expect_error(stats::bw.SJ(v))
  expect_equal(sbcg:::kde_bw(v, "SJ", 1), stats::bw.nrd0(v))
  expect_equal(sbcg:::kde_bw(v, "SJ", 2), 2 * stats::bw.nrd0(v))
  set.seed(3)
  w <- c(rnorm(500, -2.5, 0.27), rnorm(500, 2.5, 0.27))
  expect_equal(sbcg:::kde_bw(w, "SJ", 1), stats::bw.SJ(w, method = "ste"))
  # a response that is nearly constant for some x: every statistic and
  # density is still returned
  set.seed(4)
  x <- runif(300)
  d <- data.frame(x = x, y = ifelse(x < 0.5, 1, 1 + rnorm(300)))
  fit <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(8, 8), epochs = 3), seed = 1)
  st <- sbcondstats(fit, data.frame(x = c(0.2, 0.8)), ndraws = 100, seed = 1)
  expect_true(all(vapply(st$density, function(de) inherits(de, "density"), NA)))
})

test_that("a result that kept its draws is summarised again without sampling", {
  fit <- small_fit(3)
  nd <- data.frame(x = c(-1, NA, 1), f = c("a", "b", "c"))
  st <- sbcondstats(fit, nd, ndraws = 200, density = FALSE, keep_draws = TRUE, seed = 5)
  again <- sbcondstats(st, probs = c(0.1, 0.9), at = c(-1, 0), se = TRUE, density = TRUE)
  fresh <- sbcondstats(fit, nd, ndraws = 200, probs = c(0.1, 0.9), at = c(-1, 0), se = TRUE,
                       seed = 5)
  cols <- c(".row", "x", "f", "mean", "sd", "q0.1", "q0.9", "pm1", "p0", "se_mean", "se_q0.9",
            "se_p0")
  expect_equal(as.data.frame(again)[cols], as.data.frame(fresh)[cols])
  expect_equal(again$density[[3]]$y, fresh$density[[3]]$y)
  expect_null(again$density[[2]])
  expect_true(all(is.na(unlist(again[2, c("mean", "q0.9", "p0")]))))
  expect_identical(attr(again, "n"), 200L)
  expect_null(attr(again, "draws"))
  expect_identical(attr(sbcondstats(st, keep_draws = TRUE), "draws"), attr(st, "draws"))
  expect_error(sbcondstats(st, nd), "'newdata' must be missing")
  st0 <- sbcondstats(fit, nd, ndraws = 50, density = FALSE, seed = 5)
  expect_error(sbcondstats(st0), "keep_draws = TRUE")
  expect_error(sbcondstats(st, probs = 2), "'probs'")
  # a subset of the rows, in any order, takes its rows' draws along
  sub <- st[c(3, 1), ]
  expect_identical(unname(attr(sub, "draws")), unname(attr(st, "draws")[c(3, 1), ]))
  s2 <- sbcondstats(sub, probs = 0.1, density = FALSE)
  expect_identical(s2$.row, c(3L, 1L))
  expect_equal(s2$q0.1, again$q0.1[c(3, 1)])
})

test_that("several responses are summarised again component by component", {
  set.seed(2)
  d <- data.frame(x = runif(200))
  d$y1 <- d$x + rnorm(200, 0, 0.2)
  d$y2 <- -d$x + rnorm(200, 0, 0.3)
  fit <- sbfit(cbind(y1, y2) ~ x, d, control = small_control(), seed = 2)
  nd <- data.frame(x = c(0.2, 0.8))
  st <- sbcondstats(fit, nd, ndraws = 100, density = FALSE, keep_draws = TRUE, seed = 1)
  again <- sbcondstats(st, probs = 0.25, at = 0, density = FALSE)
  fresh <- sbcondstats(fit, nd, ndraws = 100, probs = 0.25, at = 0, density = FALSE, seed = 1)
  expect_equal(as.data.frame(again), as.data.frame(fresh), ignore_attr = TRUE)
  # a row kept whole takes its draws along; a line without its row's other
  # component leaves them behind
  s2 <- st[3:4, ]
  expect_equal(as.data.frame(sbcondstats(s2, probs = 0.25, at = 0, density = FALSE)),
               as.data.frame(fresh[3:4, ]), ignore_attr = TRUE)
  expect_null(attr(st[2:3, ], "draws"))
  expect_error(sbcondstats(st[2:3, ]), "keep_draws = TRUE")
})

test_that("quantiles from partial sorting equal stats::quantile() on every row", {
  set.seed(3)
  M <- matrix(rnorm(40 * 101), 40)
  M[2, 5] <- Inf
  M[3, 7] <- -Inf
  M[4, 1:3] <- 0  # ties
  probs <- c(0, 0.013, 0.05, 0.5, 0.95, 1)
  want <- t(apply(M, 1L, quantile, probs = probs, names = FALSE, type = 7))
  got <- sbcg:::row_quantiles(M, probs)
  # (quantile() interpolates as (1 - f) a + f b, these as a + f (b - a))
  expect_equal(unname(got), want, tolerance = 1e-14)
  expect_identical(colnames(got), sbcg:::quantile_names(probs))
  # names with as many digits as tell close levels apart
  expect_identical(sbcg:::quantile_names(c(0.05, 0.5, 0.95)), c("q0.05", "q0.5", "q0.95"))
  expect_identical(sbcg:::quantile_names(c(0.5, 0.5000001, 0.9)),
                   c("q0.5", "q0.5000001", "q0.9"))
  expect_identical(sbcg:::quantile_names(c(1 / 3, 0.3333334)), c("q0.3333333", "q0.3333334"))
  # type 1 for counts, and the same as the full sort passed in
  want1 <- t(apply(M, 1L, quantile, probs = probs, names = FALSE, type = 1))
  expect_identical(unname(sbcg:::row_quantiles(M, probs, discrete = TRUE)), want1)
  expect_identical(sbcg:::row_quantiles(M, probs),
                   sbcg:::row_quantiles(M, probs, S = sbcg:::row_sort(M)))
  # the same from the transpose, each row's values in a column
  expect_identical(sbcg:::row_quantiles(t(M), probs, transposed = TRUE),
                   sbcg:::row_quantiles(M, probs))
  expect_identical(sbcg:::row_quantiles(t(M), probs, discrete = TRUE, transposed = TRUE),
                   sbcg:::row_quantiles(M, probs, discrete = TRUE))
  # a row with a missing value is sorted whole, missing values last
  M[5, 9] <- NA
  expect_identical(sbcg:::row_order_stats(M[5, , drop = FALSE], c(1, 101)),
                   matrix(c(min(M[5, ], na.rm = TRUE), NA), 1))
  # one draw per row
  expect_identical(sbcg:::row_quantiles(M[1:3, 1, drop = FALSE], 0.5)[, 1], M[1:3, 1])
})

test_that("densities of a bounded support are reflected at its bounds", {
  # draws from Exp(1): the reflected estimate lives on [0, Inf), integrates
  # to 1 and finds f(0) = 1 (its bias there is of order the bandwidth,
  # about 0.05 here, its noise about 0.03), where the plain estimate
  # finds about 1/2 and spills mass below 0
  set.seed(51)
  v <- rexp(20000)
  h <- bw.SJ(v, method = "ste")
  trap <- function(de) sum(diff(de$x) * (head(de$y, -1) + tail(de$y, -1)) / 2)
  de <- sbcg:::kde_support(v, h, 1, 2048, c(0, Inf))
  expect_identical(min(de$x), 0)
  expect_equal(trap(de), 1, tolerance = 0.005)
  expect_lt(abs(de$y[1] - 1), 0.15)
  plain <- stats::density(v, bw = h, n = 2048)
  expect_lt(approx(plain$x, plain$y, 0)$y, 0.7)
  # the point estimate that the quantiles' standard errors divide by: the
  # same reflection, which finds f(q) = exp(-q) near the bound
  q <- c(0.01, 0.05, 1)
  expect_lt(max(abs(sbcg:::kde_at(v, h, q, c(0, Inf)) - exp(-q))), 0.15)
  expect_lt(sbcg:::kde_at(v, h, 0.01), 0.7)
  expect_identical(sbcg:::kde_at(v, h, 3, c(-Inf, Inf)), sbcg:::kde_at(v, h, 3))
  # the real line: stats::density() itself, on a grid of step below half
  # the bandwidth
  expect_identical(sbcg:::kde_support(v, h, 1, 2048, c(-Inf, Inf))$y,
                   stats::density(v, bw = h, n = 2048)$y)
  # both bounds: within them, integrating to 1
  u <- rbeta(5000, 1, 3)
  du <- sbcg:::kde_support(u, bw.SJ(u, method = "ste"), 1, 2048, c(0, 1))
  expect_true(all(du$x >= 0 & du$x <= 1))
  expect_equal(trap(du), 1, tolerance = 0.01)
  # a "positive" fit's densities, also when summarised again from kept draws
  d <- gauss_data(300, 52)
  d$y <- exp(d$y / 3)
  f <- sbfit(y ~ x, d, support = "positive", control = small_control(), seed = 1)
  st <- sbcondstats(f, data.frame(x = c(-1, 1)), ndraws = 400, seed = 2, keep_draws = TRUE)
  expect_true(all(vapply(st$density, function(de) min(de$x) >= 0, NA)))
  st2 <- sbcondstats(st, probs = 0.5)
  expect_identical(st2$density[[1]]$y, st$density[[1]]$y)
})

test_that("densities whose grid step would pass the bandwidth are read from a finer grid", {
  # a long right tail: 512 points over [0, max] are 4 or more bandwidths
  # apart, where stats::density()'s binned values were 1.7 times too high;
  # each returned value is the estimate's own (kde_at(), exact), up to the
  # fine grid's binning and interpolation
  set.seed(53)
  v <- exp(1.5 * rnorm(5000))
  h <- bw.SJ(v, method = "ste")
  de <- sbcg:::kde_support(v, h, 1, 512, c(0, Inf))
  expect_gt(diff(de$x[1:2]), 4 * h)
  expect_length(de$y, 512L)
  i <- c(1, 2, 3, 5, 10)
  expect_lt(max(abs(de$y[i] / sbcg:::kde_at(v, h, de$x[i], c(0, Inf)) - 1)), 0.01)
  # the same on the real line, the grid stretched by one far draw
  w <- c(rnorm(5000), 100)
  hw <- bw.SJ(w, method = "ste")
  dw <- sbcg:::kde_support(w, hw, 1, 512, c(-Inf, Inf))
  j <- which.min(abs(dw$x))
  expect_lt(abs(dw$y[j] / sbcg:::kde_at(w, hw, dw$x[j]) - 1), 0.01)
  # draws all equal near 0 (a predictor far outside the training rows)
  tiny <- rep(2.225074e-308, 100)
  dt <- sbcg:::kde_support(tiny, sbcg:::kde_bw(tiny, "SJ", 1), 1, 512, c(0, Inf))
  expect_true(all(is.finite(dt$y)) && all(dt$y >= 0))
})
