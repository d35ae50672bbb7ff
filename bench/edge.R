# A law with a hard edge: where the mass of m7 (bench/accuracy.R) lies
# against a default fit's quantiles.  m7 is y = s(x) L with L > 0, a
# lognormal mixture whose density rises steeply just above 0.  For seeds
# 1 and 2 (n = 5000, 500 test points, as in bench/accuracy.R) the default
# fit is sampled with 20 (the default), 100 and 400 steps, 1000 draws per
# test x; printed: the share of the true law (its exact draws at each test
# x) below the fit's 5% and 25% quantiles, and the share of negative
# draws.  Then a fit to L alone (a predictor that does not matter), with
# the same shares below its 2%, 5% and 25% quantiles at three x.  One
# thread throughout.
#
#   Rscript bench/edge.R [--seeds 2] [--steps 20,100,400]
suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
check_options(c("seeds", "steps"))
accuracy_defs(here)
seeds <- seq_len(as.integer(opt_value("seeds", 2)))
steps <- as.integer(strsplit(opt_value("steps", "20,100,400"), ",")[[1L]])

below <- function(truth, q) mean(truth < q)
for (s in seeds) {
  d <- model_data("m7", s, 5000, 500)
  fit <- sbfit(d$Xtr, d$ytr, seed = s, threads = 1)
  for (K in steps) {
    M <- sbsample(fit, d$Xte, ndraws = 1000, steps = K, seed = s, threads = 1, format = "matrix")
    q <- t(apply(M, 1L, stats::quantile, c(0.05, 0.25), names = FALSE))
    cat(sprintf("m7 seed %d, %3d steps: true law below the fit's 5%% quantile %.4f, below its 25%% %.4f; negative draws %.4f\n",
                s, K, mean(d$Ytrue < q[, 1L]), mean(d$Ytrue < q[, 2L]), mean(M < 0)))
  }
}

set.seed(1)
rl <- function(n) exp(0.5 * (stats::rnorm(n) + sample(c(-2, 2), n, TRUE)))
x <- stats::runif(5000, -3, 3)
fit <- sbfit(data.frame(x = x), rl(5000), seed = 1, threads = 1)
truth <- rl(2e5)
M <- sbsample(fit, data.frame(x = c(-2, 0, 2)), ndraws = 20000, seed = 1, threads = 1,
              format = "matrix")
for (i in 1:3) {
  q <- stats::quantile(M[i, ], c(0.02, 0.05, 0.25), names = FALSE)
  cat(sprintf("L alone, x = %2d: true law below the fit's 2%%, 5%%, 25%% quantiles %.4f %.4f %.4f; negative draws %.4f\n",
              c(-2, 0, 2)[i], below(truth, q[1]), below(truth, q[2]), below(truth, q[3]), mean(M[i, ] < 0)))
}
