# High-dimensional responses: how sbcg's training and sampling time grow
# with the number d of response components.
#
#   Rscript bench/highdim.R                  # d = 1, 16, 64, 256
#   Rscript bench/highdim.R --quick          # d = 1, 16, 64; 50 epochs, 1 repetition
#   Rscript bench/highdim.R --dims 1,8,32 --n 2000 --epochs 20
#
# The full run takes a few minutes on one core.
#
# Options: --quick; --dims d1,d2,...; --n (training rows, default 5000);
# --epochs (default 200); --hidden w1,w2,... (hidden widths, default those
# sbcg_control() chooses for each d, default_hidden(d)); --rows, --draws (sampling test: newdata rows and
# draws per row, default 100 x 100); --steps (sampler steps, default the
# package's, sbcg_control()$steps); --reps (repetitions of each timing, the median is
# reported; default 3); --threads (default 1); --seed.  Run it niced
# (nice -n 19), with nothing else heavy running.  --control "ARGS":
# further sbcg_control() arguments, as R code (for example --control
# "decorrelate = FALSE").
#
# Data: a curve observed on a grid of d points s_j = (j - 1/2) / d in (0, 1),
# given 3 covariates X ~ Uniform(-1, 1)^3:
#   Y(s) = a(x) sin(2 pi s + b(x)) + sigma(x) e(s),
#   a(x) = 1 + x1 / 2,  b(x) = pi x2 / 2,  sigma(x) = 0.25 + 0.1 x3,
#   e(s) = c (z0 + sum_{k=1}^{3} (z_k cos(2 pi k s) + w_k sin(2 pi k s)) / k),
# z0, z_k, w_k independent N(0, 1), c = 1 / sqrt(1 + sum_k k^-2): a smooth
# random curve with unit variance at every s.  So the conditional mean of
# Y(s) is a(x) sin(2 pi s + b(x)) and its conditional SD is sigma(x), the
# same at every s, and neighbouring components are strongly correlated.
#
# Training budget: the same for every d, a fixed number of epochs
# (sbcg_control(epochs = E, validation = 0): no validation split, no early
# stopping, so every d runs exactly E * ceiling(n / batch_size) optimiser
# steps); the network is the default one (default_hidden(d): 64-64 up to
# d = 32, 128-128 beyond, with decorrelated responses) unless --hidden
# says otherwise.  The sampling time is that of
# sbsample(fit, newdata, ndraws = draws, format = "matrix") for `rows` new rows.
#
# Why linear in d at fixed widths (--hidden): the network maps (z, time embedding, x), of width
# d + 16 + 3, through hidden layers h1, ..., hL to d outputs, so one
# evaluation costs (d + 19) h1 + sum h_i h_{i+1} + hL d multiply-adds in
# training.  The sampler computes the time and x parts of the first layer
# once per step and once per chain, so a sampler step costs
# d h1 + sum h_i h_{i+1} + hL d.  Both are a + b d; the table reports them
# ("train_MAC", "step_MAC") next to the times, and a least-squares line
# through the times.  The default widths are fixed beyond d = 32
# (default_hidden()), so both are linear in d there.
#
# Accuracy, as a check that the fits are sensible: from the sampling test's
# draws, the root mean square (over the rows and the d grid points) of the
# error of the pointwise mean and SD against the truth.  With m draws the
# Monte Carlo error alone is about sigma / sqrt(m) for the mean and
# sigma / sqrt(2 m) for the SD ("mc_floor" gives the first).  Without
# decorrelation (--control "decorrelate = FALSE") and with hidden layers
# not much wider than d, the SDs come out too large (rmse_sd grows with
# d): near t = 1 the network must remove the noise from the d - 7
# directions that the curves do not fill, and its output can move z in no
# more directions than the last hidden layer has units.

suppressPackageStartupMessages(library(sbcg))
args <- commandArgs(TRUE)
options(width = 120)
opt <- function(name, default) {
  i <- which(args == paste0("--", name))
  if (!length(i)) return(default)
  if (i[1L] == length(args)) stop(sprintf("--%s needs a value", name), call. = FALSE)
  args[i[1L] + 1L]
}
quick <- "--quick" %in% args
dims <- as.integer(strsplit(opt("dims", if (quick) "1,16,64" else "1,16,64,256"), ",",
                            fixed = TRUE)[[1L]])
n <- as.integer(opt("n", "5000"))
epochs <- as.integer(opt("epochs", if (quick) "50" else "200"))
rows <- as.integer(opt("rows", "100"))
draws <- as.integer(opt("draws", "100"))
steps <- as.integer(opt("steps", sbcg_control()$steps))
reps <- as.integer(opt("reps", if (quick) "1" else "3"))
threads <- as.integer(opt("threads", "1"))
hidden <- opt("hidden", "")
hidden <- if (nzchar(hidden)) as.integer(strsplit(hidden, ",", fixed = TRUE)[[1L]])
extra_control <- opt("control", "")
seed <- as.integer(opt("seed", "1"))
if (anyNA(dims) || any(dims < 1)) stop("--dims must be positive integers", call. = FALSE)
if (anyNA(c(n, epochs, rows, draws, steps, reps, threads, seed)) ||
    any(c(n, epochs, rows, draws, steps, reps, threads) < 1))
  stop("--n, --epochs, --rows, --draws, --steps, --reps and --threads must be positive integers",
       call. = FALSE)
if (draws < 2) stop("--draws must be at least 2", call. = FALSE)

# ---- the curve model -------------------------------------------------------
K <- 3
cnorm <- 1 / sqrt(1 + sum(1 / seq_len(K)^2))
curve_truth <- function(X, d) {
  s <- (seq_len(d) - 0.5) / d
  a <- 1 + X[, 1] / 2
  b <- pi * X[, 2] / 2
  list(mean = a * sin(outer(b, 2 * pi * s, function(b, s) s + b)),
       sd = 0.25 + 0.1 * X[, 3])
}
curve_data <- function(nr, d) {
  X <- matrix(stats::runif(nr * 3, -1, 1), nr, 3, dimnames = list(NULL, paste0("x", 1:3)))
  s <- (seq_len(d) - 0.5) / d
  k <- seq_len(K)
  B <- rbind(1, t(cos(2 * pi * outer(s, k)) / rep(k, each = d)),
             t(sin(2 * pi * outer(s, k)) / rep(k, each = d)))  # (2K + 1) x d
  Z <- matrix(stats::rnorm(nr * (2 * K + 1)), nr, 2 * K + 1)
  tr <- curve_truth(X, d)
  Y <- tr$mean + tr$sd * cnorm * (Z %*% B)
  colnames(Y) <- sprintf("y%03d", seq_len(d))
  list(X = X, Y = Y)
}

# ---- header --------------------------------------------------------------
cpu <- readLines("/proc/cpuinfo")
model <- sub(".*: ", "", grep("^model name", cpu, value = TRUE)[1L])
ctl <- eval(parse(text = sprintf("sbcg_control(epochs = epochs, validation = 0, hidden = hidden%s%s)",
                                 if (nzchar(extra_control)) ", " else "", extra_control)))
cat("High-dimensional responses: curve on a grid of d points given 3 covariates\n")
cat(sprintf("command: Rscript bench/highdim.R %s\n", paste(args, collapse = " ")))
cat(sprintf("machine: %s, %d cores; %s; sbcg %s; BLAS %s\n", model,
            parallel::detectCores(), R.version.string, utils::packageVersion("sbcg"),
            extSoftVersion()[["BLAS"]]))
cat(sprintf("date: %s\n", format(Sys.time(), "%Y-%m-%d %H:%M %Z")))
cat(sprintf("training: n = %d rows, sbcg_control(epochs = %d, validation = 0%s%s): hidden widths %s, batch %d, %s (row, time, noise) triples, %d optimiser steps for every d\n",
            n, epochs, if (is.null(hidden)) "" else
              sprintf(", hidden = c(%s)", paste(hidden, collapse = ", ")),
            if (nzchar(extra_control)) paste0(", ", extra_control) else "",
            if (is.null(hidden)) "default_hidden(d)" else paste(hidden, collapse = ", "),
            ctl$batch_size,
            format(n * epochs, big.mark = ","), epochs * ceiling(n / ctl$batch_size)))
cat(sprintf("sampling: %d rows x %d draws, %d Euler-Maruyama steps; threads %d; fit and sampling times are medians of %d runs\n\n",
            rows, draws, steps, threads, reps))

# ---- runs ----------------------------------------------------------------
nemb <- 2 * ctl$n_freq
time_it <- function(expr_fun) {
  t <- numeric(reps)
  for (r in seq_len(reps)) t[r] <- system.time(val <- expr_fun(r))[["elapsed"]]
  list(time = stats::median(t), value = val)
}
res <- list()
for (d in dims) {
  set.seed(seed)
  tr <- curve_data(n, d)
  te <- curve_data(rows, d)
  cat(sprintf("  d = %4d: fit ... ", d))
  ft <- time_it(function(r) sbfit(tr$X, tr$Y, control = ctl, threads = threads, seed = seed))
  fit <- ft$value
  h <- fit$control$hidden
  cat(sprintf("%.1f s; sample ... ", ft$time))
  st <- time_it(function(r) sbsample(fit, te$X, ndraws = draws, steps = steps, format = "matrix",
                                     threads = threads, seed = seed + r))
  cat(sprintf("%.2f s\n", st$time))
  D <- st$value
  dim(D) <- c(rows, draws, d)
  mu <- apply(D, c(1L, 3L), mean)
  sdv <- apply(D, c(1L, 3L), stats::sd)
  truth <- curve_truth(te$X, d)
  res[[length(res) + 1L]] <- data.frame(
    d = d, hidden = paste(h, collapse = "-"), fit_s = ft$time, sample_s = st$time,
    train_MAC = (d + nemb + 3) * h[1] + sum(h[-1] * h[-length(h)]) + h[length(h)] * d,
    step_MAC = d * h[1] + sum(h[-1] * h[-length(h)]) + h[length(h)] * d,
    rmse_mean = sqrt(mean((mu - truth$mean)^2)),
    rmse_sd = sqrt(mean((sdv - truth$sd)^2)),
    mc_floor = sqrt(mean(truth$sd^2) / draws))
}
tab <- do.call(rbind, res)

cat("\ntimes in seconds; MAC = multiply-adds per network evaluation (per row in training, per chain and step in sampling)\n")
print(data.frame(d = tab$d, hidden = tab$hidden, fit_s = sprintf("%.2f", tab$fit_s),
                 fit_per_d1 = sprintf("%.1f", tab$fit_s / tab$fit_s[1L]),
                 train_MAC = tab$train_MAC,
                 sample_s = sprintf("%.3f", tab$sample_s),
                 sample_per_d1 = sprintf("%.1f", tab$sample_s / tab$sample_s[1L]),
                 step_MAC = tab$step_MAC,
                 rmse_mean = sprintf("%.3f", tab$rmse_mean),
                 rmse_sd = sprintf("%.3f", tab$rmse_sd),
                 mc_floor = sprintf("%.3f", tab$mc_floor)),
      row.names = FALSE, right = TRUE)
cat(sprintf("(*_per_d1: time relative to d = %d)\n", tab$d[1L]))

if (nrow(tab) >= 3L) {
  line_fit <- function(y, what) {
    l <- stats::lm(y ~ tab$d)
    cf <- stats::coef(l)
    dev <- max(abs(stats::fitted(l) / y - 1))
    cat(sprintf("%-8s time = %.4g + %.4g d s; R^2 = %.4f; largest deviation from the line %.0f%%\n",
                what, cf[1L], cf[2L], summary(l)$r.squared, 100 * dev))
  }
  cat("\nleast-squares lines through the times:\n")
  line_fit(tab$fit_s, "fit")
  line_fit(tab$sample_s, "sample")
  if (length(unique(tab$hidden)) == 1L)
  cat(sprintf("%-8s MACs  = %d + %d d per training row, %d + %d d per sampler step\n", "network",
              nemb * h[1] + 3L * h[1] + sum(h[-1] * h[-length(h)]), h[1] + h[length(h)],
              sum(h[-1] * h[-length(h)]), h[1] + h[length(h)]))
}
