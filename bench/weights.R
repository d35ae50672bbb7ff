# Case weights (sbfit(weights = )): a fit told to ignore half of its rows
# should judge itself, recalibrate and predict as if they were not there.
# Default settings otherwise, one thread, seed 1 for data and fit.
#
#   Rscript bench/weights.R
#
# Data: x ~ U(0, 1), n = 1000, y = x + e; every other row has weight 1
# and e ~ N(0, 0.2^2), the others weight 1e-4 and e ~ N(0, 20^2).  The
# law of the rows of weight 1 is N(x, 0.2^2), whose central 90% interval
# is 2 * 1.645 * 0.2 = 0.658 wide.  Printed: the fit's held-out rows (their
# number, their effective number under the weights, and the coverage of
# the central 50% and 90% intervals of the fit's own law, before its
# recalibration, as the fit reports it: weighted by the case weights in
# versions that weight the held-out rows) and its 90% prediction
# intervals at x = 0.2 and 0.8 with their widths.
suppressPackageStartupMessages(library(sbcg))
options(sbcg.threads = 1L)
cat(sprintf("bench/weights.R, sbcg %s, %s UTC\n", packageVersion("sbcg"),
            format(Sys.time(), tz = "UTC")))
set.seed(1)
n <- 1000
d <- data.frame(x = runif(n))
wild <- rep(c(TRUE, FALSE), n / 2)
d$y <- d$x + ifelse(wild, rnorm(n, sd = 20), rnorm(n, sd = 0.2))
w <- ifelse(wild, 1e-4, 1)
fit <- suppressWarnings(sbfit(y ~ x, d, weights = w, support = "real", seed = 1))
h <- fit$holdout
cat(sprintf("held-out rows: %d (effective number %s); the fit's own law covers %.2f (50%%) and %.2f (90%%) of them\n",
            h$n, if (is.null(h$n_eff)) "not computed" else sprintf("%.1f", h$n_eff),
            h$cover50, h$cover90))
p <- predict(fit, data.frame(x = c(0.2, 0.8)), interval = "prediction", level = 0.9)
cat("90% prediction intervals (truth: x -+ 0.329, width 0.658):\n")
print(cbind(x = c(0.2, 0.8), round(p, 3), width = round(p[, "upr"] - p[, "lwr"], 3)),
      row.names = FALSE)
