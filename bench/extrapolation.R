# How often predict() warns of extrapolation (class sbcg_extrapolation)
# on new rows drawn from the training rows' own law, and where it must.
#
#   Rscript bench/extrapolation.R [--calls 10]
#
# For each case a default fit (seed 1, one thread) of
# y = X1 + X2^2 + (0.5 + 0.5 |X3|) e, X ~ N(0, I_p), e ~ N(0, 1), then
# `--calls` calls of predict(fit, 500 new rows from the same law, probs =
# 0.5, ndraws = 50); it prints the share of calls that warned, next to the
# share in which some row lay beyond the training range by more than a
# tenth of its width in some column (the rows the warning considers; on
# its own that rule warned on all of them).  Then MASS::mcycle, which
# levels off near 0 after 40 ms: the warnings at times = -50 and 65
# (training rows 2.4 to 57.6).
args <- commandArgs(TRUE)
calls <- 10L
if (length(k <- which(args == "--calls"))) calls <- as.integer(args[k + 1L])
suppressPackageStartupMessages(library(sbcg))
cat(sprintf("bench/extrapolation.R, %s UTC; sbcg %s\n\n", format(Sys.time(), tz = "UTC"),
            packageVersion("sbcg")))
law <- function(n, p) {
  X <- matrix(rnorm(n * p), n, dimnames = list(NULL, paste0("X", seq_len(p))))
  data.frame(y = X[, 1] + X[, 2]^2 + (0.5 + 0.5 * abs(X[, 3])) * rnorm(n), X)
}
warned <- function(expr) {
  w <- FALSE
  withCallingHandlers(expr, sbcg_extrapolation = function(e) {
    w <<- TRUE
    invokeRestart("muffleWarning")
  })
  w
}
for (case in list(c(n = 200, p = 5), c(n = 1000, p = 5), c(n = 1000, p = 50))) {
  n <- case[["n"]]
  p <- case[["p"]]
  set.seed(1)
  d <- law(n, p)
  fit <- suppressWarnings(sbfit(y ~ ., d, seed = 1, threads = 1))
  X <- as.matrix(d[-1])
  r <- apply(X, 2L, range)
  tenth <- (r[2L, ] - r[1L, ]) / 10
  beyond <- 0L
  warns <- 0L
  for (k in seq_len(calls)) {
    nd <- law(500, p)[-1]
    M <- as.matrix(nd)
    if (any(sweep(M, 2L, r[1L, ] - tenth, "<") | sweep(M, 2L, r[2L, ] + tenth, ">")))
      beyond <- beyond + 1L
    if (warned(predict(fit, nd, probs = 0.5, ndraws = 50, threads = 1))) warns <- warns + 1L
  }
  cat(sprintf("n = %4d, p = %2d: %2d of %d calls had a row beyond a tenth of the range; %2d warned\n",
              n, p, beyond, calls, warns))
}
fit <- suppressWarnings(sbfit(accel ~ times, MASS::mcycle, seed = 1, threads = 1))
for (t in c(-50, 65))
  cat(sprintf("mcycle, times = %3d: %s\n", t,
              if (warned(predict(fit, data.frame(times = t), threads = 1))) "warned" else "no warning"))
