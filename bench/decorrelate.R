# Decorrelated bridges (sbcg_control(decorrelate)): the same fits with and
# without the whitening map of the bridge's target, on two responses of
# several correlated components whose true law is known.
#
#   Rscript bench/decorrelate.R            # both cases, one thread
#   Rscript bench/decorrelate.R --seed 2
#
# ellipse  Y in R^2 given x ~ U(0, 1): a point of a circle of radius
#          r = 1 + x + 0.08 e (uniform angle, e standard normal) mapped by
#          A = [1 0; 0.9 0.3], so that the two components are strongly
#          correlated and the law lies in a thin band around an ellipse.
#          3000 rows, sbcg_control(samples = 2e6); 2000 draws at x = 0.1,
#          0.5, 0.9 are mapped back by A^-1, and their radii compared with
#          the truth: mean error, SD (true 0.08) and 5% quantile error.
# curve    the 32-point curves of the vignette (a smooth random curve
#          around a(x) sin(2 pi s + b(x)) with SD sigma(x), 1000 rows,
#          samples = 5e5, lr = 5e-3, hidden 64-64), 500 draws at three x
#          sampled with method = "bridge": the RMS error of the pointwise
#          mean, the mean pointwise SD against the truth and the mean
#          correlation of neighbouring points (true 0.976).
# Fit seconds are those of sbfit() on one thread.

suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
check_options("seed")
seed <- as.integer(opt_value("seed", "1"))
options(sbcg.threads = 1L)
cat(sprintf("sbcg %s, %s; seed %d; %s\n\n", utils::packageVersion("sbcg"), R.version.string,
            seed, format(Sys.time(), "%Y-%m-%d %H:%M %Z")))

# ---- ellipse --------------------------------------------------------------
set.seed(seed)
n <- 3000
x <- stats::runif(n)
A <- matrix(c(1, 0.9, 0, 0.3), 2)
Y <- local({
  th <- stats::runif(n, 0, 2 * pi)
  r <- 1 + x + 0.08 * stats::rnorm(n)
  cbind(r * cos(th), r * sin(th)) %*% t(A)
})
colnames(Y) <- c("a", "b")
xs <- c(0.1, 0.5, 0.9)
cat("ellipse: radius of the draws mapped back by A^-1 (truth: error 0, SD 0.08, 5% quantile error",
    sprintf("%.3f)\n", stats::qnorm(0.05) * 0.08))
for (dc in c(FALSE, TRUE)) {
  fit <- suppressWarnings(sbfit(data.frame(x = x), Y, seed = seed,
                                control = sbcg_control(samples = 2e6, decorrelate = dc)))
  D <- sbsample(fit, data.frame(x = xs), ndraws = 2000, format = "matrix", seed = seed)
  tab <- t(vapply(seq_along(xs), function(i) {
    r <- sqrt(rowSums((D[i, , ] %*% t(solve(A)))^2))
    c(x = xs[i], mean_error = mean(r) - (1 + xs[i]), sd = stats::sd(r),
      q05_error = unname(stats::quantile(r, 0.05)) - (1 + xs[i]))
  }, numeric(4)))
  cat(sprintf("  decorrelate = %s: fit %.1f s\n", dc, fit$seconds))
  print(round(as.data.frame(tab), 3), row.names = FALSE)
}

# ---- curves ---------------------------------------------------------------
d <- 32
s <- (seq_len(d) - 0.5) / d
basis <- rbind(1, t(cos(2 * pi * outer(s, 1:3))) / 1:3,
               t(sin(2 * pi * outer(s, 1:3))) / 1:3)
cnorm <- 1 / sqrt(1 + sum(1 / (1:3)^2))
curve_mean <- function(X) (1 + X[, 1] / 2) * sin(outer(pi * X[, 2] / 2, 2 * pi * s, "+"))
curve_sd <- function(X) 0.25 + 0.1 * X[, 3]
set.seed(seed + 4)
Xc <- matrix(stats::runif(1000 * 3, -1, 1), ncol = 3, dimnames = list(NULL, c("x1", "x2", "x3")))
Yc <- curve_mean(Xc) + curve_sd(Xc) * cnorm * (matrix(stats::rnorm(1000 * 7), 1000, 7) %*% basis)
colnames(Yc) <- sprintf("y%02d", 1:d)
Xn <- rbind(c(-0.8, 0, -0.8), c(0, 0.5, 0), c(0.8, -0.5, 0.8))
colnames(Xn) <- colnames(Xc)
true_cor <- cnorm^2 * (1 + sum(cos(2 * pi * (1:3) / d) / (1:3)^2))
cat(sprintf("\ncurves, d = %d: pointwise mean and SD, neighbour correlation (truth %.3f)\n", d, true_cor))
for (dc in c(FALSE, TRUE)) {
  fit <- sbfit(Xc, Yc, seed = seed, control = sbcg_control(hidden = c(64, 64), samples = 5e5,
                                                            lr = 5e-3, decorrelate = dc))
  D <- sbsample(fit, Xn, ndraws = 500, method = "bridge", format = "matrix", seed = seed)
  tab <- t(vapply(1:3, function(i) {
    Di <- D[i, , ]
    R <- sweep(Di, 2L, colMeans(Di))
    c(rmse_mean = sqrt(mean((colMeans(Di) - curve_mean(Xn[i, , drop = FALSE])[1, ])^2)),
      mean_sd = mean(apply(Di, 2L, stats::sd)), true_sd = curve_sd(Xn[i, , drop = FALSE])[[1L]],
      neighbour_cor = mean(vapply(1:(d - 1), function(j) stats::cor(R[, j], R[, j + 1]), 0)))
  }, numeric(4)))
  cat(sprintf("  decorrelate = %s: fit %.1f s\n", dc, fit$seconds))
  print(round(as.data.frame(tab), 3), row.names = FALSE)
}
