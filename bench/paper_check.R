# The paper's recipe in sbcg against the same recipe in PyTorch
# (bench/paper_torch.py), on the same training data of models m1 and m3.
#
#   Rscript bench/paper_check.R [--models m1,m3] [--seeds 3] [--n 5000] [--test 500]
#
# Both fit the paper's recipe (hidden 32-16 SiLU, no standardisation, the
# denoiser regresses Y, batch 1000, 10,000 Adam steps at lr 1e-3, t uniform
# on [1e-3, 1 - 1e-3]) and draw 200 samples per test x by 999
# Euler-Maruyama steps.  sbcg runs twice: exactly that recipe (ema = 0) and
# with its weight average (ema = 0.99).  Printed per model and seed: MSE of
# the conditional mean and SD against the truth, mean predicted SD over mean
# true SD, and coverage of the central 90% interval at a fresh Y.
suppressPackageStartupMessages(library(sbcg))
args <- commandArgs(trailingOnly = TRUE)
opt <- function(name, default) {
  i <- which(args == paste0("--", name))
  if (length(i)) args[i[1L] + 1L] else default
}
models <- strsplit(opt("models", "m1,m3"), ",")[[1L]]
seeds <- seq_len(as.integer(opt("seeds", 3)))
n <- as.integer(opt("n", 5000))
n_test <- as.integer(opt("test", 500))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
options(sbcg.threads = 1)

gen <- function(model, X) {
  m <- nrow(X)
  switch(model,
    m1 = X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + cos(X[, 4] + X[, 5]) + 0.1 * rnorm(m),
    m3 = sample(c(-1, 1), m, replace = TRUE) * X[, 1] + 0.25 * rnorm(m))
}
truth <- function(model, X) switch(model,
  m1 = list(mean = X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + cos(X[, 4] + X[, 5]), sd = rep(0.1, nrow(X))),
  m3 = list(mean = rep(0, nrow(X)), sd = sqrt(X[, 1]^2 + 0.0625)))
p_of <- c(m1 = 5, m3 = 1)

score <- function(M, tr, yfresh) {
  mu <- rowMeans(M)
  s <- apply(M, 1L, sd)
  q <- apply(M, 1L, quantile, c(0.05, 0.95), names = FALSE)
  c(mse_mean = mean((mu - tr$mean)^2), mse_sd = mean((s - tr$sd)^2),
    sd_ratio = mean(s) / mean(tr$sd), cover90 = mean(yfresh >= q[1, ] & yfresh <= q[2, ]))
}

ctl <- function(ema) sbcg_control(hidden = c(32, 16), standardize = FALSE, batch_size = 1000,
                                  epochs = 2000, lr = 1e-3, lr_schedule = "constant",
                                  validation = 0, parameterization = "denoiser",
                                  ema = ema, steps = 999, sampler = "em", time_map = "linear",
                                  t_tail = 0, t_min = 1e-3, t_max = 1 - 1e-3,
                                  grid_power = 1, precondition = "none")
tmp <- tempfile("paper_check")
dir.create(tmp)
rows <- list()
for (model in models) for (seed in seeds) {
  set.seed(seed)
  p <- p_of[[model]]
  X <- matrix(runif(n * p, -3, 3), n, p, dimnames = list(NULL, paste0("x", 1:p)))
  y <- gen(model, X)
  Xt <- matrix(runif(n_test * p, -3, 3), n_test, p, dimnames = list(NULL, paste0("x", 1:p)))
  yfresh <- gen(model, Xt)
  tr <- truth(model, Xt)
  for (ema in c(0, 0.99)) {
    t0 <- proc.time()[[3]]
    fit <- sbfit(X, y, control = ctl(ema), seed = seed)
    M <- sbsample(fit, Xt, ndraws = 200, format = "matrix", seed = seed)
    rows[[length(rows) + 1L]] <- c(list(model = model, seed = seed,
                                        method = sprintf("sbcg ema=%g", ema)),
                                   as.list(score(M, tr, yfresh)), secs = proc.time()[[3]] - t0)
  }
  ftr <- file.path(tmp, "train.csv"); fte <- file.path(tmp, "test.csv"); fo <- file.path(tmp, "out.csv")
  write.csv(cbind(X, y = y), ftr, row.names = FALSE)
  write.csv(Xt, fte, row.names = FALSE)
  for (dt in c("float32", "float64")) {
    t0 <- proc.time()[[3]]
    st <- system2("/usr/bin/python3", c(file.path(here, "paper_torch.py"), ftr, fte, fo,
                               "--seed", seed, "--dtype", dt))
    if (st != 0) stop("paper_torch.py failed")
    M <- as.matrix(read.csv(fo, header = FALSE))
    rows[[length(rows) + 1L]] <- c(list(model = model, seed = seed, method = paste("torch", dt)),
                                   as.list(score(M, tr, yfresh)), secs = proc.time()[[3]] - t0)
  }
  print(do.call(rbind.data.frame, rows[length(rows) - 3:0]), digits = 3)
}
res <- do.call(rbind.data.frame, rows)
cat("\nmeans over seeds\n")
print(aggregate(cbind(mse_mean, mse_sd, sd_ratio, cover90, secs) ~ model + method, res, mean), digits = 3)
