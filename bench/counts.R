# Count responses fitted with sbfit(support = "count"): how close the
# fitted law P(Y = k | x) is to the true one, and how the fit judges its
# own calibration on its held-out rows.  Three laws of a count with mean
# mu(x) = exp(x / 2), x ~ U(-2, 2): Poisson, negative binomial (size 2:
# variance mu + mu^2 / 2) and zero-inflated Poisson (a structural zero
# with probability 0.3, the rest Poisson(mu / 0.7), so the mean is mu).
# n = 1000 training rows, default settings, one thread, seeds 1 to
# --seeds (data and fit).
#
#   Rscript bench/counts.R [--seeds 5]
#
# Per law, the means over seeds of:
#   tv      the total-variation distance 0.5 sum_k |p_hat(k | x) - p(k | x)|
#           between the law of 4000 draws and the true law, averaged over
#           41 x values evenly spaced in (-2, 2) (a law drawn from the true
#           one scores about 0.012 with 4000 draws: the Monte Carlo floor,
#           printed as "floor")
#   p0err   |P_hat(Y = 0 | x = -1) - P(Y = 0 | x = -1)|, from 4000 draws
#   ho50, ho90  the fit's own held-out coverage of its central 50% and 90%
#           intervals (fit$holdout), read from the held-out PITs
#   cvm, weight the Cramer-von Mises statistic of the held-out scores and
#           the weight of the recalibration map learned from them (0: no
#           map; 1/6 is the statistic's mean under calibration)
suppressPackageStartupMessages(library(sbcg))
args <- commandArgs(TRUE)
seeds <- if (length(i <- match("--seeds", args)) && !is.na(i)) as.integer(args[i + 1L]) else 5L
stopifnot(seeds >= 1L)
cat(sprintf("bench/counts.R, sbcg %s, %s UTC, seeds 1-%d\n\n", packageVersion("sbcg"),
            format(Sys.time(), "%Y-%m-%d %H:%M", tz = "UTC"), seeds))

laws <- list(
  poisson = list(r = function(mu) stats::rpois(length(mu), mu),
                 d = function(k, mu) stats::dpois(k, mu)),
  negbin = list(r = function(mu) stats::rnbinom(length(mu), size = 2, mu = mu),
                d = function(k, mu) stats::dnbinom(k, size = 2, mu = mu)),
  zip = list(r = function(mu) ifelse(stats::runif(length(mu)) < 0.3, 0L,
                                     stats::rpois(length(mu), mu / 0.7)),
             d = function(k, mu) 0.3 * (k == 0) + 0.7 * stats::dpois(k, mu / 0.7)))
grid <- seq(-2, 2, length.out = 41)
K <- 0:200
m <- 4000L
tv_of <- function(M, dlaw) {
  mean(vapply(seq_along(grid), function(i) {
    pe <- tabulate(pmin(M[i, ], max(K)) + 1L, length(K)) / ncol(M)
    0.5 * sum(abs(pe - dlaw(K, exp(grid[i] / 2))))
  }, 0))
}
out <- NULL
for (nm in names(laws)) {
  law <- laws[[nm]]
  rows <- lapply(seq_len(seeds), function(s) {
    set.seed(s)
    x <- stats::runif(1000, -2, 2)
    d <- data.frame(x = x, y = law$r(exp(x / 2)))
    fit <- suppressWarnings(sbfit(y ~ x, d, support = "count", seed = s, threads = 1))
    M <- sbsample(fit, data.frame(x = grid), ndraws = m, format = "matrix", seed = s,
                  threads = 1)
    set.seed(100 + s)
    floor_tv <- tv_of(t(vapply(grid, function(g) law$r(rep(exp(g / 2), m)), numeric(m))),
                      law$d)
    p0 <- mean(sbsample(fit, data.frame(x = -1), ndraws = m, format = "matrix", seed = s,
                        threads = 1) == 0)
    rc <- fit$recalibration
    c(tv = tv_of(M, law$d), floor = floor_tv, p0err = abs(p0 - law$d(0, exp(-1 / 2))),
      ho50 = fit$holdout$cover50, ho90 = fit$holdout$cover90,
      cvm = if (is.null(rc)) NA else rc$cvm, weight = if (is.null(rc)) NA else rc$weight)
  })
  out <- rbind(out, data.frame(law = nm, t(colMeans(do.call(rbind, rows)))))
}
print(out, digits = 3, row.names = FALSE)
