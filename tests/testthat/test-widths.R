# Hidden widths chosen from the number of response components, the size
# limit of the network, and the held-out rows of many-component fits.

test_that("default widths are 64-64 up to 32 components and 128-128 beyond", {
  expect_null(sbcg_control()$hidden)
  expect_identical(default_hidden(1), c(64L, 64L))
  expect_identical(default_hidden(32), c(64L, 64L))
  expect_identical(default_hidden(33), c(128L, 128L))
  expect_identical(default_hidden(256), c(128L, 128L))
  expect_identical(default_hidden(5000), c(128L, 128L))
  expect_error(default_hidden(0), "'d'")
  expect_error(default_hidden(NA), "'d'")
})

test_that("a one-response fit keeps the 64-64 network, and the fit records the widths", {
  d <- gauss_data(200, 1)
  fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 1, folds = 1), seed = 1)
  expect_identical(fit$net$hidden, c(64L, 64L))
  expect_identical(fit$control$hidden, c(64L, 64L))
  expect_identical(fit$precondition$net$hidden, c(64L, 64L))
  # given widths are kept as given
  fit2 <- sbfit(y ~ x, d, control = sbcg_control(epochs = 1, folds = 1, hidden = 8), seed = 1)
  expect_identical(fit2$net$hidden, 8L)
})

test_that("a many-component fit gets the default widths and decorrelation", {
  set.seed(2)
  x <- matrix(rnorm(100), 100)
  y <- matrix(rnorm(100 * 70), 100)
  fit <- sbfit(x, y, control = sbcg_control(epochs = 1, folds = 1, precondition = "none",
                                            validation = 0), seed = 1)
  expect_identical(fit$net$hidden, c(128L, 128L))
  expect_identical(dim(fit$mix), c(70L, 70L))
  m <- sbsample(fit, x[1:2, , drop = FALSE], ndraws = 3, steps = 20, format = "matrix", seed = 1)
  expect_identical(dim(m), c(2L, 3L, 70L))
})

test_that("a response too wide for sbcg.max_parameters is a clear error naming the option", {
  old <- options(sbcg.max_parameters = 5e4)
  on.exit(options(old))
  x <- matrix(rnorm(20), 20)
  y <- matrix(rnorm(20 * 300), 20)
  expect_error(sbfit(x, y, control = sbcg_control(epochs = 1)),
               "chosen for 300 response components.*sbcg.max_parameters")
  expect_error(sbfit(x, y, control = sbcg_control(epochs = 1, hidden = c(400, 400))),
               "'control\\$hidden' \\(400, 400\\).*sbcg.max_parameters")
})

test_that("held-out rows shrink with many components, not for few", {
  expect_identical(sbcg:::holdout_rows(1L), 250L)
  expect_identical(sbcg:::holdout_rows(16L), 250L)
  expect_identical(sbcg:::holdout_rows(64L), 63L)
  expect_identical(sbcg:::holdout_rows(256L), 50L)
  expect_identical(sbcg:::holdout_rows(5000L), 50L)
})
