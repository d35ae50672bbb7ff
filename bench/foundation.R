# Figures for the foundation: recovered conditional mean and SD on the
# heteroscedastic Gaussian test model, the share of draws in each mode of
# model m3 at x = 2, and the wall time of sbfit() + sbcondstats() on
# MASS::mcycle with default settings.
#   Rscript bench/foundation.R
library(sbcg)
cat(sprintf("sbcg %s, %s, %d cores\n", packageVersion("sbcg"), R.version.string,
            parallel::detectCores()))

set.seed(1)
n <- 2000
x <- runif(n, -2, 2)
d <- data.frame(x = x, y = 1 + 2 * x + (0.5 + abs(x)) * rnorm(n))
fit <- sbfit(y ~ x, d, seed = 1)
xs <- c(-1.5, -0.75, 0.75, 1.5)
st <- sbcondstats(fit, data.frame(x = xs), ndraws = 4000, density = FALSE, seed = 3)
cat("\nGaussian model y = 1 + 2x + (0.5 + |x|) eps, n = 2000, defaults, 4000 draws:\n")
print(data.frame(x = xs, mean = st$mean, true_mean = 1 + 2 * xs,
                 err_mean = st$mean - (1 + 2 * xs), sd = st$sd,
                 true_sd = 0.5 + abs(xs), err_sd = st$sd - (0.5 + abs(xs))),
      digits = 3, row.names = FALSE)

set.seed(2)
x <- runif(n, -3, 3)
y <- sample(c(-1, 1), n, replace = TRUE) * x + 0.25 * rnorm(n)
fit3 <- sbfit(y ~ x, data.frame(x, y), seed = 1)
s <- sbsample(fit3, data.frame(x = 2), ndraws = 4000, format = "matrix", seed = 3)[1, ]
cat("\nModel m3 (y = +-x + 0.25 eps), n = 2000, defaults, 4000 draws at x = 2:\n")
cat(sprintf("  share > 0: %.3f; within 0.75 of +2: %.3f; within 0.75 of -2: %.3f\n",
            mean(s > 0), mean(abs(s - 2) < 0.75), mean(abs(s + 2) < 0.75)))
cat(sprintf("  SD of the draws in the upper mode: %.3f (truth 0.25)\n", sd(s[s > 0])))

data(mcycle, package = "MASS")
nd <- data.frame(times = c(10, 20, 30, 40, 50))
times <- t(replicate(3, {
  t0 <- proc.time()[["elapsed"]]
  f <- sbfit(accel ~ times, mcycle)
  t1 <- proc.time()[["elapsed"]]
  invisible(sbcondstats(f, nd))
  t2 <- proc.time()[["elapsed"]]
  c(fit = t1 - t0, condstats = t2 - t1)
}))
cat(sprintf("\nMASS::mcycle, defaults (3 runs): median sbfit() %.1f s, sbcondstats() for 5 rows x 200 draws %.2f s\n",
            median(times[, "fit"]), median(times[, "condstats"])))
