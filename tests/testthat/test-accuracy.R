# Statistical truth.  Tolerances: the fit cannot be more precise than a
# local estimate from the training rows near x, so each tolerance is 4
# standard errors of such an estimate (from the n_loc rows within 0.25 of
# x) combined with the Monte Carlo error of m draws.
#
# Each check runs twice: with a sixth of the default training budget
# (2 million triples, no validation rows, so that early stopping cannot end
# training before the two modes of m3 separate), in the default suite; and
# with the default settings, a few minutes, only when the environment
# variable SBCG_SLOW_TESTS is "true" (as CI sets it).  The assertions and
# their tolerances are the same.

skip_if_not_slow <- function() {
  skip_if_not(identical(tolower(Sys.getenv("SBCG_SLOW_TESTS")), "true"),
              "slow statistical test: set SBCG_SLOW_TESTS=true to run it")
}

fast_control <- function() sbcg_control(samples = 2e6, validation = 0)

# y = 1 + 2x + (0.5 + |x|) eps, x ~ U(-2, 2), n = 2000: the conditional mean,
# SD and 5% and 95% quantiles at four x.
expect_gaussian_recovered <- function(fit, n) {
  xs <- c(-1.5, -0.75, 0.75, 1.5)
  m <- 4000
  st <- sbcondstats(fit, data.frame(x = xs), ndraws = m, density = FALSE, seed = 3)
  mu <- 1 + 2 * xs
  sigma <- 0.5 + abs(xs)
  n_loc <- n * 0.5 / 4
  tol_mean <- 4 * sqrt(sigma^2 / m + sigma^2 / n_loc)
  tol_sd <- 4 * sqrt(sigma^2 / (2 * m) + sigma^2 / (2 * n_loc))
  expect_true(all(abs(st$mean - mu) < tol_mean),
              info = paste("mean errors", paste(round(st$mean - mu, 3), collapse = " ")))
  expect_true(all(abs(st$sd - sigma) < tol_sd),
              info = paste("sd errors", paste(round(st$sd - sigma, 3), collapse = " ")))
  # the 5% and 95% quantiles: SE of a local quantile estimate is
  # sqrt(p (1 - p) / n_loc) / f(q), f the normal density at q
  q <- cbind(st$q0.05, st$q0.95)
  qt <- cbind(mu + qnorm(0.05) * sigma, mu + qnorm(0.95) * sigma)
  se_q <- sqrt(0.05 * 0.95 * (1 / n_loc + 1 / m)) / (dnorm(qnorm(0.95)) / sigma)
  expect_true(all(abs(q - qt) < 4 * se_q),
              info = paste("quantile errors", paste(round(q - qt, 3), collapse = " ")))
}

# Model m3, y = +-x + 0.25 eps, x ~ U(-3, 3), n = 2000: two modes at x = 2.
m3_data <- function(n) {
  set.seed(2)
  x <- runif(n, -3, 3)
  y <- sample(c(-1, 1), n, replace = TRUE) * x + 0.25 * rnorm(n)
  data.frame(x, y)
}

# fit: one fit, or a list of fits of the same data whose draws are pooled
expect_bimodal_recovered <- function(fit, n) {
  fits <- if (inherits(fit, "sbfit")) list(fit) else fit
  s <- unlist(lapply(fits, function(f)
    sbsample(f, data.frame(x = 2), ndraws = 4000, format = "matrix", seed = 3)[1, ]))
  m <- length(s)
  n_loc <- n * 0.5 / 6
  tol_share <- 4 * sqrt(0.25 / m + 0.25 / n_loc)
  up <- mean(abs(s - 2) < 0.75)
  down <- mean(abs(s + 2) < 0.75)
  # each mode holds half the mass, less 0.3% beyond 3 SDs of the noise
  expect_lt(abs(up - 0.4987), tol_share)
  expect_lt(abs(down - 0.4987), tol_share)
  # a unimodal law with the same mean and SD, N(0, 2.016^2), would put only
  # 36% of its mass within 0.75 of +-2; the two modes hold 99.7%
  expect_gt(up + down, 0.9)
  expect_lt(abs(mean(s)), 4 * sqrt(4.0625 / m + 4.0625 / n_loc))
}

test_that("a short fit recovers the mean, SD and quantiles of a heteroscedastic Gaussian model", {
  n <- 2000
  fit <- sbfit(y ~ x, gauss_data(n, 1), control = fast_control(), seed = 1)
  expect_gaussian_recovered(fit, n)
})

test_that("a short fit of the bimodal model m3 gives bimodal draws at x = 2", {
  n <- 2000
  # twice the short budget: with 2e6 triples the two modes hold 84-94% of
  # the draws at x = 2 over fit seeds 1-4, with 4e6 96-99%
  fit <- sbfit(y ~ x, m3_data(n), control = sbcg_control(samples = 4e6, validation = 0),
               seed = 1)
  expect_bimodal_recovered(fit, n)
})

test_that("conditional mean and SD of a heteroscedastic Gaussian model are recovered", {
  skip_if_not_slow()
  n <- 2000
  fit <- sbfit(y ~ x, gauss_data(n, 1), seed = 1, threads = 2)
  expect_gaussian_recovered(fit, n)
})

test_that("the bimodal model m3 gives bimodal draws at x = 2", {
  skip_if_not_slow()
  n <- 2000
  # default fits vary with the seed at n = 2000: within 0.75 of the modes
  # lie 84%, 97% and 95% of the draws for seeds 1-3, so the test pools
  # the draws of three fits
  fits <- lapply(1:3, function(s) sbfit(y ~ x, m3_data(n), seed = s, threads = 2))
  expect_bimodal_recovered(fits, n)
})
