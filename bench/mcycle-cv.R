# 5-fold cross-validation of sbcg's default fit on MASS::mcycle (accel ~
# times), repeated with fresh fit seeds: CRPS ("fair" estimator from 1000
# draws per held-out row) and coverage of the central 50% and 90%
# intervals, pooled over the held-out rows, and the mean scale power of
# the fits.  Folds from set.seed(1); one thread.
#
#   Rscript bench/mcycle-cv.R              # 2 repetitions
#   Rscript bench/mcycle-cv.R --reps 5
#   R_LIBS=<library> Rscript bench/mcycle-cv.R   # another installed version
suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
check_options("reps")
reps <- as.integer(opt_value("reps", "2"))
data(mcycle, package = "MASS")
set.seed(1)
fold <- sample(rep_len(1:5, nrow(mcycle)))
out <- NULL
for (r in seq_len(reps)) for (k in 1:5) {
  tr <- mcycle[fold != k, ]
  te <- mcycle[fold == k, ]
  fit <- suppressWarnings(sbfit(accel ~ times, tr, seed = 10 * r + k, threads = 1))
  D <- sbsample(fit, te, ndraws = 1000, format = "matrix", seed = 1)
  m <- ncol(D)
  S <- t(apply(D, 1L, sort))
  y <- te$accel
  crps <- rowMeans(abs(D - y)) - rowSums(sweep(S, 2L, 2 * seq_len(m) - m - 1, "*")) / (m * (m - 1))
  q <- t(apply(D, 1L, stats::quantile, c(0.05, 0.25, 0.75, 0.95)))
  out <- rbind(out, data.frame(crps = sum(crps), c50 = sum(y >= q[, 2] & y <= q[, 3]),
                               c90 = sum(y >= q[, 1] & y <= q[, 4]), n = length(y),
                               pow = fit$precondition$scale_power))
}
cat(sprintf("sbcg %s, %d repetitions of 5 folds, %s\n", utils::packageVersion("sbcg"), reps,
            format(Sys.time(), "%Y-%m-%d %H:%M %Z")))
cat(sprintf("CRPS %.3f; 50%% interval covers %.3f, 90%% interval %.3f; mean scale power %.2f\n",
            sum(out$crps) / sum(out$n), sum(out$c50) / sum(out$n), sum(out$c90) / sum(out$n),
            mean(out$pow)))
