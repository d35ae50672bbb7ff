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

small_fit <- function(seed = 1, ...) {
  d <- gauss_data(300, seed)
  d$f <- factor(rep(c("a", "b", "c"), length.out = nrow(d)))
  sbfit(y ~ x + f, d, control = small_control(...), seed = seed)
}
