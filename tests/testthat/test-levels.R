# Level effects (sbcg_control(cell_effects), level_fit()): a factor of many
# levels with few rows each may leave the location networks' inputs, its
# levels then taking shrunken random intercepts, when that predicts the
# folds' rows better.

# Short fits without a linear part, whose draws would not move with an
# edited level's effect (test-linear.R tests that part).
lev_control <- function(...) small_control(epochs = 30, linear_mix = FALSE, ...)

# 40 levels of g, 6 rows each, an effect per level of SD 1, a smooth
# trend in a continuous x (so that no two rows share all predictors, and
# the cells of all predictors are not tried), noise of SD 0.3.
level_data <- function(seed, sd_level = 1) {
  set.seed(seed)
  lev <- sprintf("g%02d", 1:40)
  u <- stats::setNames(rnorm(40, sd = sd_level), lev)
  d <- data.frame(g = factor(rep(lev, each = 6), levels = lev), x = runif(240, -2, 2))
  d$y <- sin(d$x) + u[as.character(d$g)] + rnorm(240, sd = 0.3)
  list(d = d, u = u)
}

test_that("the factor columns of a formula's predictor matrix are found per factor term", {
  d <- data.frame(y = 1:12, x = rnorm(12), g = factor(rep(c("a", "b", "c"), 4)),
                  h = rep(c("u", "v"), 6), o = factor(rep(1:4, 3), ordered = TRUE),
                  b = rep(c(TRUE, FALSE), each = 6))
  mf <- stats::model.frame(y ~ x + g + h + o + b + x:g, d)
  pm <- sbcg:::predictor_matrix(attr(mf, "terms"), mf)
  fc <- pm$xinfo$factor_columns
  expect_identical(names(fc), c("g", "h", "o", "b"))
  cn <- colnames(pm$X)
  expect_identical(cn[fc$g], c("gb", "gc"))
  expect_identical(cn[fc$h], "hv")
  expect_identical(cn[fc$o], c("o.L", "o.Q", "o.C"))
  expect_identical(cn[fc$b], "bTRUE")
  # numeric predictors alone: none
  mf2 <- stats::model.frame(y ~ x, d)
  expect_length(sbcg:::predictor_matrix(attr(mf2, "terms"), mf2)$xinfo$factor_columns, 0L)
})

test_that("the factor tried has enough levels and few rows per level; of several, the most levels", {
  ctl <- sbcg_control()
  prep_of <- function(levels, n, extra = NULL) {
    g <- factor(rep_len(seq_len(levels), n))
    X <- stats::model.matrix(~ g)[, -1L, drop = FALSE]
    fc <- list(g = seq_len(ncol(X)))
    if (!is.null(extra)) {
      h <- factor(rep_len(seq_len(extra), n))
      X <- cbind(X, stats::model.matrix(~ h)[, -1L, drop = FALSE])
      fc$h <- ncol(X) - (extra - 2L):0L
    }
    list(Xs = X, tidx = seq_len(n), wt = rep(1, n), fold = rep_len(1:5, n),
         factor_columns = fc)
  }
  lc <- function(prep, control = ctl) sbcg:::level_candidates(prep, control)
  # 7 levels: too few; 8 levels of 25 rows each: too many rows per level
  expect_null(lc(prep_of(7, 70)))
  expect_null(lc(prep_of(8, 200)))
  got <- lc(prep_of(8, 199))
  expect_identical(got$name, "g")
  expect_identical(got$levels, 8L)
  expect_identical(got$cols, 1:7)
  expect_identical(length(unique(got$key)), 8L)
  # of two factors that qualify, the one with more levels
  two <- lc(prep_of(10, 120, extra = 12))
  expect_identical(two$name, "h")
  expect_identical(two$cols, 10:20)
  # not with cell_effects = FALSE, mean_residuals, or without folds; with
  # the held-out rows in the folds too
  expect_null(lc(prep_of(8, 100), sbcg_control(cell_effects = FALSE)))
  expect_null(lc(prep_of(8, 100), sbcg_control(mean_residuals = TRUE)))
  expect_identical(lc(replace(prep_of(8, 100), "holdin", TRUE))$name, "g")
  expect_null(lc(replace(prep_of(8, 100), "fold", list(NULL))))
  # levels whose rows all have weight zero do not count
  p <- prep_of(8, 100)
  p$wt[p$Xs[, 7] == 1] <- 0
  expect_null(lc(p))
})

test_that("a factor with a random effect per level becomes effects of its levels", {
  ld <- level_data(1)
  ctl <- lev_control()
  on <- sbfit(y ~ g + x, ld$d, control = ctl, seed = 1, support = "real")
  pre <- on$precondition
  expect_identical(pre$tried_levels, "g")
  expect_identical(pre$level_factor, "g")
  pc <- pre$cells
  expect_identical(pc$factor, "g")
  expect_identical(pc$cols, 1:39)
  expect_identical(nrow(pc$effect), 40L)
  expect_identical(on$format, 13L)
  expect_match(paste(capture.output(print(on)), collapse = " "),
               "effects of 40 levels of 'g' instead of its columns among the location inputs",
               fixed = TRUE)
  # the location networks ignore the factor: their first layer's weights
  # on its columns and its linear coefficients are 0
  h <- pre$net$hidden[1L]
  w1 <- as.vector(outer(seq_len(h), (pc$cols - 1L) * h, `+`))
  expect_true(all(pre$location[w1, ] == 0))
  expect_true(all(pre$linear[1L + pc$cols, ] == 0))
  expect_true(all(pre$linear_folds[1L + pc$cols, , ] == 0))
  # the conditional means at x = 0 against the levels' true means: each
  # level's effect comes from about 5 training rows of noise SD 0.3
  # (standard error 0.13), shrunk a little toward 0; an RMSE of 0.35 is
  # under three standard errors
  nd <- data.frame(g = factor(names(ld$u), levels = names(ld$u)), x = 0)
  m <- rowMeans(sbsample(on, nd, ndraws = 2000, seed = 2, format = "matrix"))
  expect_lt(sqrt(mean((m - ld$u)^2)), 0.35)
  # the effects' means follow the levels': at x = 0, two levels one unit
  # of u apart are about one unit apart
  expect_gt(stats::cor(m, ld$u), 0.95)
  # saved and read back, the fit draws the same
  f <- tempfile(fileext = ".rds")
  saveRDS(on, f)
  expect_identical(sbsample(readRDS(f), nd[1:3, ], ndraws = 20, seed = 3),
                   sbsample(on, nd[1:3, ], ndraws = 20, seed = 3))
})

test_that("the levels' effects are keyed by the factor alone, whatever the other predictors", {
  ld <- level_data(2)
  fit <- sbfit(y ~ g + x, ld$d, control = lev_control(bridge_inputs = "none"),
               seed = 1, support = "real")
  pre <- fit$precondition
  expect_false(is.null(pre$cells$cols))
  bare <- fit
  bare$precondition$cells <- NULL
  bare$format <- sbcg:::fit_format(bare)
  expect_true(bare$format < 13L)
  # rows of one level at several x: each moves by the same mean of its
  # member folds' effects (the networks ignore the factor, so the
  # networks' locations at a row do not depend on its level)
  nd <- data.frame(g = factor("g07", levels = names(ld$u)), x = c(-1.5, 0, 1.5))
  a <- sbsample(fit, nd, ndraws = 40, seed = 5, format = "matrix")
  b <- sbsample(bare, nd, ndraws = 40, seed = 5, format = "matrix")
  X <- sbcg:::newdata_matrix(fit, nd)
  i <- unique(match(sbcg:::cell_keys(X[, pre$cells$cols, drop = FALSE]), pre$cells$key))
  expect_length(i, 1L)
  expect_false(is.na(i))
  M <- pre$cells$member[i, ]
  shift <- sum(pre$cells$effect[i, 1L, M]) / sum(M) * fit$scaling$y_scale
  expect_equal(unname(a - b), matrix(shift, 3, 40), tolerance = 1e-5)
  # another level of the factor, at the same x: the same location without
  # the effects, and with them a shift by the other level's effect
  nd2 <- transform(nd, g = factor("g21", levels = names(ld$u)))
  X2 <- sbcg:::newdata_matrix(fit, nd2)
  expect_identical(unname(sbcg:::location_net(bare$precondition, X2)),
                   unname(sbcg:::location_net(bare$precondition, X)))
  j <- match(sbcg:::cell_keys(X2[1, pre$cells$cols, drop = FALSE]), pre$cells$key)
  expect_equal(unname(sbcg:::location_net(pre, X2) - sbcg:::location_net(pre, X)),
               matrix(mean(pre$cells$effect[j, 1L, ]) - mean(pre$cells$effect[i, 1L, ]), 3, 1),
               tolerance = 1e-12)
})

test_that("a factor whose levels change the slope stays among the inputs; a rejected trial changes nothing", {
  # 10 levels of 20 rows, each with its own slope in x: intercepts per
  # level cannot follow that, the networks with the factor among their
  # inputs can
  set.seed(1)
  lev <- sprintf("g%02d", 1:10)
  b <- stats::setNames(seq(-2, 2, length.out = 10), lev)
  d <- data.frame(g = factor(rep(lev, each = 20), levels = lev), x = runif(200, -2, 2))
  d$y <- b[as.character(d$g)] * d$x + rnorm(200, sd = 0.3)
  ctl <- small_control(epochs = 300)
  on <- sbfit(y ~ g + x, d, control = ctl, seed = 1, support = "real")
  off <- sbfit(y ~ g + x, d, control = replace(ctl, "cell_effects", FALSE), seed = 1,
               support = "real")
  expect_identical(on$precondition$tried_levels, "g")
  expect_null(on$precondition$level_factor)
  expect_null(on$precondition$cells)
  expect_null(off$precondition$tried_levels)
  expect_match(paste(capture.output(print(on)), collapse = " "),
               "'g' among the location inputs (out-of-fold error lower than with effects of its levels instead)",
               fixed = TRUE)
  # the trial draws nothing from R's generator: the fit is the one without
  # it, apart from the record of the trial and its training time
  strip <- function(f) {
    f$precondition[c("tried_levels", "steps_run", "seconds")] <- NULL
    f[c("call", "control", "seconds")] <- NULL
    f$members <- lapply(f$members, function(m) replace(m, "seconds", NULL))
    f$direct$seconds <- NULL
    f
  }
  expect_identical(strip(on), strip(off))
})

test_that("with the held-out rows in the folds, each is scored with its level's effect from the others", {
  # fewer than 100 rows: the held-out rows join the folds; 16 levels of 6
  ld <- level_data(3)
  d <- ld$d[ld$d$g %in% names(ld$u)[1:16], ]
  d$g <- droplevels(d$g)
  fit <- withCallingHandlers(
    sbfit(y ~ g + x, d, control = lev_control(), seed = 1, support = "real"),
    sbcg_few_heldout = function(w) invokeRestart("muffleWarning"))
  expect_identical(fit$precondition$tried_levels, "g")
  # holdin_draws() moves each held-out row's draws by its level's effect
  # (standardised) times the response's scale, on a row's own stream
  v <- c(3L, 7L)
  X <- sbcg:::newdata_matrix(fit, d[v, ])
  prep <- list(vidx = v, vfold = c(1L, 2L), hseed = c(11L, 12L))
  a <- sbcg:::holdin_draws(fit, prep, v, X, 0, 50L, 1L)
  prep$level_shift <- matrix(c(0.5, -1), 2L, 1L)
  b <- sbcg:::holdin_draws(fit, prep, v, X, 0, 50L, 1L)
  expect_equal(matrix(b$draws - a$draws, 50L),
               matrix(rep(c(0.5, -1) * fit$scaling$y_scale, each = 50L), 50L), tolerance = 1e-10)
  # one row alone draws what it drew beside the other
  one <- sbcg:::holdin_draws(fit, prep, v[2L], X[2L, , drop = FALSE], 1, 50L, 1L)
  expect_identical(one$draws, matrix(b$draws, 50L)[, 2L])
})

test_that("a factor without effect is left out of the location, its weights at 0", {
  # 40 levels of pure noise: its columns among the location inputs add
  # only noise, and the honest out-of-fold check drops them
  ld <- level_data(4, sd_level = 0)
  fit <- sbfit(y ~ g + x, ld$d, control = lev_control(), seed = 1,
               support = "real")
  pre <- fit$precondition
  expect_identical(pre$level_factor, "g")
  h <- pre$net$hidden[1L]
  w1 <- as.vector(outer(seq_len(h), (seq_len(39) - 1L) * h, `+`))
  expect_true(all(pre$location[w1, ] == 0))
  expect_true(all(pre$linear[2:40, ] == 0))
  # without effects kept, the location is the same at every level
  if (is.null(pre$cells)) {
    expect_true(fit$format < 13L)
    expect_match(paste(capture.output(print(fit)), collapse = " "),
                 "'g' left out of the location inputs", fixed = TRUE)
    X <- sbcg:::newdata_matrix(fit, data.frame(g = factor(c("g01", "g30"),
                                                          levels = names(ld$u)), x = 0.5))
    m <- sbcg:::location_net(pre, X)
    expect_identical(unname(m[1, ]), unname(m[2, ]))
  }
})

test_that("malformed level effects are refused", {
  ld <- level_data(1)
  fit <- sbfit(y ~ g + x, ld$d, control = lev_control(), seed = 1,
               support = "real")
  expect_identical(fit$format, 13L)
  nd <- ld$d[1:2, ]
  bad <- fit
  bad$precondition$cells$cols <- c(1L, 1L)
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$precondition\\$cells' is malformed")
  bad$precondition$cells$cols <- 100L
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$precondition\\$cells' is malformed")
  bad$precondition$cells$cols <- 1
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$precondition\\$cells' is malformed")
  bad <- fit
  bad$format <- 12L
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$format' is 13 exactly when")
  bad <- fit
  bad$precondition$cells$cols <- NULL
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$format' is 13 exactly when")
})
