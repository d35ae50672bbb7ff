# The standardisation and least-squares helpers work a column at a time
# (so that large fits do not hold extra copies of the predictors); they
# must give the numbers of the whole-matrix formulas, to the bit.

test_that("standardize_cols() and apply_scaling() equal their sweep() forms", {
  set.seed(11)
  M <- cbind(a = rnorm(500, 3, 2), b = runif(500), c = rep(7, 500), d = rexp(500) * 1e6)
  s <- sbcg:::standardize_cols(M, TRUE)
  center <- colMeans(M)
  scale <- sqrt(colSums(sweep(M, 2L, center)^2) / (nrow(M) - 1L))
  scale[scale <= 1e-12 * pmax(1, abs(center))] <- 1
  expect_identical(s, list(center = center, scale = scale))
  expect_identical(sbcg:::apply_scaling(M, s), sweep(sweep(M, 2L, center), 2L, scale, "/"))
  # an integer matrix comes back as doubles
  Mi <- matrix(1:12, 4L)
  si <- sbcg:::standardize_cols(Mi, TRUE)
  expect_identical(sbcg:::apply_scaling(Mi, si), sweep(sweep(Mi, 2L, si$center), 2L, si$scale, "/"))
  expect_identical(sbcg:::standardize_cols(M, FALSE), list(center = rep(0, 4), scale = rep(1, 4)))
})

test_that("design() and linear_fit() on a subset of rows equal cbind() on that subset", {
  set.seed(12)
  X <- matrix(rnorm(300 * 4), 300, 4, dimnames = list(NULL, paste0("x", 1:4)))
  Y <- cbind(X %*% c(1, -2, 0.5, 0) + rnorm(300), rnorm(300))
  rows <- sort(sample(300, 200))
  w <- runif(200)
  X1 <- cbind(1, X[rows, ])
  expect_identical(sbcg:::design(X, rows), unname(X1))
  expect_identical(sbcg:::design(X), unname(cbind(1, X)))
  expect_identical(sbcg:::linear_fit(X, Y, w, rows),
                   sbcg:::linear_fit(X[rows, ], Y[rows, , drop = FALSE], w))
  # the weighted least-squares solution, up to the small ridge
  ref <- unname(stats::lm.wfit(X1, Y[rows, ], w)$coefficients)
  expect_equal(sbcg:::linear_fit(X, Y, w, rows), ref, tolerance = 1e-5)
})
