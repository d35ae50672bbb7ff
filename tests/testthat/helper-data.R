# Small data sets and fits shared by the tests.

gauss_data <- function(n, seed) {
  set.seed(seed)
  x <- runif(n, -2, 2)
  data.frame(x = x, y = 1 + 2 * x + (0.5 + abs(x)) * rnorm(n))
}

small_control <- function(...) {
  args <- utils::modifyList(list(hidden = c(16, 16), epochs = 3, batch_size = 64),
                            list(...))
  do.call(sbcg_control, args)
}

# The messages of the warnings that evaluating `expr` gives, muffled.
warnings_of <- function(expr) {
  w <- character()
  withCallingHandlers(expr, warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  })
  w
}

small_fit <- function(seed = 1, ...) {
  d <- gauss_data(300, seed)
  d$f <- factor(rep(c("a", "b", "c"), length.out = nrow(d)))
  sbfit(y ~ x + f, d, control = small_control(...), seed = seed)
}

# Fits of y ~ x with and without `setting` (a flag of sbcg_control() that
# lets the preconditioning try something), the same seed: the one with it
# has tried it, or not (`tried`, recorded in precondition[[tried_field]]),
# kept nothing (precondition[[kept_field]] is NULL), and is otherwise the
# same fit to the bit.  Returns the fit with the setting.
expect_trial_left_out <- function(d, ctl, setting, tried_field, kept_field, tried) {
  on <- sbfit(y ~ x, d, control = ctl, seed = 1, support = "real")
  off <- sbfit(y ~ x, d, control = replace(ctl, setting, FALSE), seed = 1, support = "real")
  expect_identical(on$precondition[[tried_field]], tried)
  expect_null(on$precondition[[kept_field]])
  expect_identical(on$theta, off$theta)
  expect_identical(on$precondition$location, off$precondition$location)
  expect_identical(sbsample(on, d[1:5, , drop = FALSE], ndraws = 10, seed = 1),
                   sbsample(off, d[1:5, , drop = FALSE], ndraws = 10, seed = 1))
  on
}
