# The response's support (sbfit(support = )): counts, proportions, a
# log-normal response and diamond prices, each fitted on the real line and
# with its support, default settings otherwise, one thread.
#
#   Rscript bench/support.R
#
# Cases (seed 1 for data, fits and draws):
#   count       x ~ U(-2, 2), y ~ Poisson(exp(x / 2)), n = 1000: P(Y = 0 | x = -1)
#               (true exp(-exp(-1/2)) = 0.545) from 4000 draws, with its Monte
#               Carlo standard error; shares of whole-number and negative draws
#   proportion  y = plogis(x + 0.5 eps), n = 1000: share of draws outside (0, 1)
#   lognormal   y = exp(x / 2 + 0.5 eps), n = 1000: share of negative draws
#   diamonds    ggplot2::diamonds, price ~ . (ordered factors as plain
#               factors), 3000 training and 500 test rows
#               drawn by set.seed(1): CRPS of 1000 draws per test row ("fair"
#               estimator), coverage of the central 90% interval, share of
#               test rows with a negative draw
# Draws on a grid of 200 x values in the range of x for the first three.
suppressPackageStartupMessages(library(sbcg))
options(sbcg.threads = 1L)
cat(sprintf("bench/support.R, sbcg %s, %s UTC\n", packageVersion("sbcg"),
            format(Sys.time(), tz = "UTC")))
crps <- function(M, y) {
  m <- ncol(M)
  w <- 2 * seq_len(m) - m - 1
  S <- t(apply(M, 1L, sort))
  mean(rowMeans(abs(M - y)) - rowSums(sweep(S, 2L, w, "*")) / (m * (m - 1)))
}
set.seed(1)
n <- 1000
x <- runif(n, -2, 2)
grid <- data.frame(x = seq(-2, 2, length.out = 200))
cases <- list(
  count = list(y = rpois(n, exp(x / 2)), support = "count"),
  proportion = list(y = plogis(x + 0.5 * rnorm(n)), support = c(0, 1)),
  lognormal = list(y = exp(x / 2 + 0.5 * rnorm(n)), support = "positive"))
for (nm in names(cases)) {
  cs <- cases[[nm]]
  d <- data.frame(x = x, y = cs$y)
  for (sup in list("real", cs$support)) {
    t0 <- proc.time()[["elapsed"]]
    fit <- suppressWarnings(sbfit(y ~ x, d, support = sup, seed = 1))
    M <- sbsample(fit, grid, ndraws = 1000, format = "matrix", seed = 1)
    lab <- sprintf("%-10s support %-8s", nm, paste(format(sup), collapse = ", "))
    out <- switch(nm,
      count = {
        p0 <- mean(sbsample(fit, data.frame(x = -1), ndraws = 4000, format = "matrix",
                            seed = 1) <= 0)
        sprintf("P(Y = 0 | x = -1) %.3f (MC se %.3f; true %.3f); whole-number draws %.1f%%, negative %.1f%%",
                p0, sqrt(p0 * (1 - p0) / 4000), exp(-exp(-0.5)), 100 * mean(M == round(M)),
                100 * mean(M < 0))
      },
      proportion = sprintf("draws outside (0, 1): %.2f%%", 100 * mean(M <= 0 | M >= 1)),
      lognormal = sprintf("negative draws: %.2f%%", 100 * mean(M < 0)))
    cat(sprintf("%s %s (%.0f s)\n", lab, out, proc.time()[["elapsed"]] - t0))
  }
}
if (requireNamespace("ggplot2", quietly = TRUE)) {
  dm <- as.data.frame(ggplot2::diamonds)
  for (v in names(dm)) if (is.ordered(dm[[v]])) dm[[v]] <- factor(dm[[v]], ordered = FALSE)
  set.seed(1)
  i <- sample(nrow(dm), 3500)
  tr <- dm[i[1:3000], ]
  te <- dm[i[3001:3500], ]
  for (sup in c("real", "positive")) {
    t0 <- proc.time()[["elapsed"]]
    fit <- suppressWarnings(sbfit(price ~ ., tr, support = sup, seed = 1))
    M <- sbsample(fit, te, ndraws = 1000, format = "matrix", seed = 2)
    q <- t(apply(M, 1L, stats::quantile, c(0.05, 0.95)))
    cat(sprintf("diamonds   support %-8s CRPS %.1f; 90%% interval covers %.1f%%; rows with a negative draw %.1f%% (%.0f s)\n",
                sup, crps(M, te$price), 100 * mean(te$price >= q[, 1] & te$price <= q[, 2]),
                100 * mean(rowSums(M < 0) > 0), proc.time()[["elapsed"]] - t0))
  }
} else cat("diamonds: ggplot2 is not installed\n")
