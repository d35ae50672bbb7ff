# With fewer than 10 held-out rows, the held-out rows join the
# cross-fitting folds of the location and scale networks, and are scored
# out of fold (holdin_prep(), holdin_draws()).

holdin_data <- function(n, seed = 5) {
  set.seed(seed)
  d <- data.frame(x = runif(n, -1, 1))
  d$y <- 1 + 2 * d$x + rnorm(n, sd = 0.5)
  d
}

# The preparation of a fit as fit_member() made it, from the fit's seed
# and control (for y ~ x on the real line, with unit weights).
holdin_prep_of <- function(fit, d) {
  X <- matrix(d$x, ncol = 1L, dimnames = list(NULL, "x"))
  Y <- matrix(d$y, ncol = 1L, dimnames = list(NULL, "y"))
  sbcg:::with_seed(fit$seed, sbcg:::fit_prepare(X, Y, rep(1, nrow(d)), fit$control))
}

test_that("the held-out rows of a small fit join the folds, whose linear parts use them", {
  d <- holdin_data(40)
  ctl <- sbcg_control(hidden = c(8, 8), epochs = 30)
  fit <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 3, support = "real"))
  prep <- holdin_prep_of(fit, d)
  expect_true(prep$holdin)
  expect_length(prep$vidx, 4L)
  expect_length(prep$vfold, 4L)
  # the 40 rows fall into five folds of 8
  fold <- c(prep$fold, prep$vfold)
  expect_identical(as.vector(table(fold)), rep(8L, 5L))
  # network j's linear part is the least-squares fit on every row outside
  # fold j, held-out rows included
  rows <- c(prep$tidx, prep$vidx)
  pre <- fit$precondition
  for (j in 1:5) {
    B <- sbcg:::linear_fit(prep$Xs, prep$Ys, rep(1, sum(fold != j)), rows[fold != j])
    expect_equal(matrix(pre$linear_folds[, , j], ncol = 1L), B, tolerance = 1e-12)
  }
  expect_true(fit$holdout$out_of_fold)
  expect_match(paste(capture.output(print(fit)), collapse = "\n"),
               "in the cross-fitting folds, scored out of fold")
})

test_that("held-out rows in the folds are scored through the networks that did not see them", {
  d <- holdin_data(60, seed = 6)
  ctl <- sbcg_control(hidden = c(8, 8), epochs = 30, recalibrate = FALSE)
  fit <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 4, support = "real"))
  prep <- holdin_prep_of(fit, d)
  Y <- matrix(d$y, ncol = 1L, dimnames = list(NULL, "y"))
  h <- sbcg:::holdout_scores(fit, prep, Y, 1L)
  expect_identical(h$pit, fit$holdout$pit)
  # each row's draws, sampled on their own through the fit of its fold's
  # networks alone with the row's own stream, are those the scores used
  v <- sbcg:::holdout_subset(prep, sbcg:::holdout_rows(1L))
  X <- prep$Xs[v, , drop = FALSE]
  m <- h$draws
  got <- matrix(sbcg:::holdin_draws(fit, prep, v, X, 0L, m, 1L)$draws, m)
  for (i in seq_along(v)) {
    j <- prep$vfold[match(v[i], prep$vidx)]
    one <- sbcg:::sample_raw(sbcg:::member_fit(fit, j), X[i, , drop = FALSE], i - 1, m,
                             sbcg:::sampler_grid(fit), prep$hseed, 1L)$draws
    expect_identical(got[, i], one)
  }
  # the mean of the networks, which saw these rows, gives other scores
  inside <- prep
  inside$vfold <- NULL
  expect_false(identical(sbcg:::holdout_scores(fit, inside, Y, 1L)$pit, h$pit))
})

test_that("larger fits and ensembles keep their held-out rows out of the folds", {
  ctl <- sbcg_control(hidden = c(8, 8), epochs = 30)
  d <- holdin_data(100)
  fit <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 3, support = "real"))
  prep <- holdin_prep_of(fit, d)
  expect_false(prep$holdin)
  expect_null(prep$vfold)
  expect_null(fit$holdout$out_of_fold)
  d <- holdin_data(40)
  ens <- suppressWarnings(sbfit(y ~ x, d, control = sbcg_control(hidden = c(8, 8), epochs = 30,
                                                                 ensemble = 2),
                                seed = 3, support = "real"))
  expect_null(ens$holdout$out_of_fold)
  expect_false(holdin_prep_of(ens, d)$holdin)
})

test_that("fits whose held-out rows join the folds do not try cell effects", {
  # 30 cells of 4 rows, each with its own intercept
  set.seed(7)
  cell <- rep(1:30, each = 4)
  d <- data.frame(x = (cell - 15.5) / 10)
  d$y <- d$x + rnorm(30)[cell] + rnorm(120, sd = 0.3)
  ctl <- function(v) sbcg_control(hidden = c(8, 8), epochs = 30, validation = v)
  # 8 held-out rows join the folds; 12 stay out
  small <- suppressWarnings(sbfit(y ~ x, d, control = ctl(0.07), seed = 2, support = "real"))
  expect_true(small$holdout$out_of_fold)
  expect_false(small$precondition$tried_cells)
  expect_null(small$precondition$cells)
  large <- suppressWarnings(sbfit(y ~ x, d, control = ctl(0.1), seed = 2, support = "real"))
  expect_null(large$holdout$out_of_fold)
  expect_true(large$precondition$tried_cells)
})
