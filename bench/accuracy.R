# Accuracy benchmark of sbcg against conditional-distribution peers on the
# simulation models m1-m7 of DESIGN.md.
#
#   Rscript bench/accuracy.R                      # full: m1-m7, n = 5000, 500 test x, 3 seeds
#   Rscript bench/accuracy.R --quick              # n = 2000, 200 test x, 1 seed, paper
#                                                 # recipe shortened (see below)
#   Rscript bench/accuracy.R --models m1,m3 --seeds 1
#   Rscript bench/accuracy.R --methods sbcg_paper,grf --n 5000 --test 500
#
# Options: --quick, --full-paper (keep the paper recipe whole in --quick),
# --models m1,...,m7, --seeds K (seeds 1..K), --methods
# (any of sbcg_default, sbcg_paper, grf, drf, qrf, np, and qrf_exact, which
# is not run by default), --threads (per method, default 1), --n, --test,
# --draws (draws per test x for both sbcg methods; default 200 for the paper
# recipe and sbcg_control()$draws for sbcg_default), --out DIR (default
# bench/results).  Run it niced (nice -n 19) on a shared machine.
#
# For every model and seed: X ~ Uniform(-3, 3)^p, n training pairs, `test`
# test points and one fresh Y at each test point.  For every method the
# predictive distribution at each test x is scored by
#   mse_mean  mean over test x of (predicted mean - true conditional mean)^2
#   mse_sd    the same for the conditional standard deviation
#   sd_ratio  mean predicted SD / mean true SD over test x (below 1: the
#             predictive distributions are too narrow on average)
#   crps      mean CRPS of the predictive distribution at the fresh Y
#   cover90   share of fresh Y inside the predictive 5%-95% interval
#   fit_s, pred_s  wall seconds of fitting and of producing the predictive
#             distribution (draws, forest weights, CDF grid); scoring is
#             not timed.
#   cpu_s     CPU seconds (user + system) of this R process for fit +
#             predict: on a shared machine wall time depends on the load,
#             CPU time much less (every method runs on one thread).
# The predictive distributions are
#   sbcg      the empirical distribution of `draws` draws (sample SD with
#             n - 1, type-7 quantiles as in sbcondstats());
#   grf, drf  the forest-weighted empirical distribution of the training
#             responses (get_forest_weights(), get_sample_weights()):
#             weighted mean and SD, quantiles by inverting the weighted CDF;
#   qrf       quantregForest's own predictive distribution: predict() with
#             `what` a function gets, for each x, one stored training
#             response per tree (the one the package keeps for the terminal
#             node), ntree equally weighted atoms, scored like draws;
#             qrf_exact instead uses Meinshausen's (2006) weights over all
#             training rows, built from the terminal nodes;
#   np        the kernel conditional density on a y grid, integrated to a
#             CDF (one-covariate models m3-m6 only).
# The CRPS of a distribution with atoms v_k and weights w_k (sum 1) is
# computed exactly as sum_k w_k |v_k - y| - 1/2 sum_jk w_j w_k |v_j - v_k|
# after sorting; for draws w_k = 1/m (the CRPS of the empirical
# distribution of the draws).  For np, CRPS = integral (F(z) - 1{z >= y})^2 dz
# on the grid.  The row "truth" scores the true conditional law by 2000
# exact draws per test x: its CRPS is the floor a method can reach in
# expectation, its coverage is 0.90 up to the binomial error of the test
# points, and its MSEs are Monte Carlo error only.
# Every method runs on one thread (--threads K for K).

suppressWarnings(suppressMessages({
  library(stats)
  library(Matrix)
}))

## --------------------------------------------------------------- options

source_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) normalizePath(dirname(f[1L])) else normalizePath("bench")
})
source(file.path(source_dir, "cli.R"))
check_options(c("quick", "full-paper", "threads", "models", "seeds", "methods", "n", "test", "draws", "out"))
quick <- "--quick" %in% args
full_paper <- "--full-paper" %in% args
all_models <- paste0("m", 1:7)
all_methods <- c("sbcg_default", "sbcg_paper", "grf", "drf", "qrf", "np")
extra_methods <- "qrf_exact"  # only when asked for with --methods
models <- strsplit(opt_value("models", paste(all_models, collapse = ",")), ",")[[1L]]
if (!all(models %in% all_models)) stop("--models must be among m1..m7", call. = FALSE)
methods <- strsplit(opt_value("methods", paste(all_methods, collapse = ",")), ",")[[1L]]
if (!all(methods %in% c(all_methods, extra_methods)))
  stop(sprintf("--methods must be among %s", paste(c(all_methods, extra_methods), collapse = ", ")),
       call. = FALSE)
n_seeds <- as.integer(opt_value("seeds", if (quick) 1 else 3))
n_train <- as.integer(opt_value("n", if (quick) 2000 else 5000))
n_test <- as.integer(opt_value("test", if (quick) 200 else 500))
# draws per test x: the paper recipe's 200, and sbcg's own default
# (sbcg_control()$draws) for sbcg_default, unless --draws sets both
n_draws <- as.integer(opt_value("draws", 200))
default_draws <- if (is.null(opt_value("draws", NULL))) NA_integer_ else n_draws
# Threads for every method (sbcg through option sbcg.threads, which its
# default `threads = sbcg_threads()` reads; the forests' num.threads /
# nthreads).  One by default: a fair comparison, and the CPU seconds are
# then the work done.
n_threads <- as.integer(opt_value("threads", 1))
options(sbcg.threads = n_threads)
stopifnot(n_seeds >= 1, n_train >= 100, n_test >= 10, n_draws >= 10, n_threads >= 1)

out_dir <- opt_value("out", file.path(source_dir, "results"))

## ----------------------------------------------------------------- peers

source(file.path(source_dir, "peers.R"))
peer_of <- c(grf = "grf", drf = "drf", qrf = "quantregForest", qrf_exact = "quantregForest",
             np = "np")
need <- unique(peer_of[intersect(methods, names(peer_of))])
peer_status <- if (length(need)) peer_setup(need) else character()
options(np.messages = FALSE, width = 250)
suppressPackageStartupMessages(library(sbcg))

## ---------------------------------------------------------------- header

cpu <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^model name\\s*:", "", l[1L])) else NA_character_
}, error = function(e) NA_character_)
git_rev <- tryCatch(suppressWarnings(system2("git", c("-C", shQuote(dirname(source_dir)),
                                                      "describe", "--always", "--dirty"),
                                             stdout = TRUE, stderr = FALSE)),
                    error = function(e) character())
pkg_version <- function(p) tryCatch(as.character(utils::packageVersion(p)),
                                    error = function(e) "not installed")
cat("sbcg accuracy benchmark", if (quick) "(--quick)", "\n")
cat(sprintf("date: %s\n", format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z")))
cat(sprintf("%s; %s\n", R.version.string, R.version$platform))
cat(sprintf("machine: %d cores (parallel::detectCores()), CPU %s; every method on %d thread%s%s\n",
            parallel::detectCores(), cpu, n_threads, if (n_threads > 1) "s" else "",
            if (n_threads == 1) " (sbcg through options(sbcg.threads = 1))" else ""))
cat(sprintf("sbcg %s installed in %s, built %s%s\n", pkg_version("sbcg"),
            dirname(system.file(package = "sbcg")),
            utils::packageDescription("sbcg")$Built %||% "?",
            if (length(git_rev)) paste0("; repo at ", git_rev[1L]) else ""))
cat(sprintf("load average at start: %s\n", tryCatch(paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = " "),
                                                     error = function(e) "?")))
for (p in need) {
  if (nzchar(peer_status[[p]])) cat(sprintf("%s: not installed: %s\n", p, peer_status[[p]]))
  else cat(sprintf("%s %s (%s)\n", p, pkg_version(p), peer_lib()))
}
cat(sprintf("models %s; n = %d training pairs, %d test x, seeds 1..%d, %d draws per x for the paper recipe\n",
            paste(models, collapse = ","), n_train, n_test, n_seeds, n_draws))

## ----------------------------------------------------- models and truths

model_p <- c(m1 = 5, m2 = 5, m3 = 1, m4 = 1, m5 = 1, m6 = 1, m7 = 5)
m5_var <- 0.05

m7_scale <- function(X) 5 + X[, 1]^2 / 3 + X[, 2]^2 + X[, 3]^2 + X[, 4] + X[, 5]

# Y | X for each row of X (eps ~ N(0, 1)).
gen_y <- function(model, X) {
  n <- nrow(X)
  switch(model,
    m1 = X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + cos(X[, 4] + X[, 5]) + 0.1 * rnorm(n),
    m2 = X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + X[, 4] - X[, 5] +
      (1 + X[, 2]^2 + X[, 5]^2) / 2 * rnorm(n),
    m3 = sample(c(-1, 1), n, replace = TRUE) * X[, 1] + 0.25 * rnorm(n),
    m4 = tanh(X[, 1]) + rgamma(n, shape = 1, scale = 0.3),
    m5 = tanh(X[, 1] + sqrt(m5_var) * rnorm(n)),
    m6 = rgamma(n, shape = 1, scale = 0.3) * tanh(X[, 1]),
    m7 = m7_scale(X) * exp(0.5 * (rnorm(n) + sample(c(-2, 2), n, replace = TRUE))))
}

# Gauss-Hermite rule for E f(Z), Z ~ N(0, 1) (Golub-Welsch).
gauss_hermite <- function(k) {
  J <- matrix(0, k, k)
  off <- sqrt(seq_len(k - 1))
  J[cbind(1:(k - 1), 2:k)] <- off
  J[cbind(2:k, 1:(k - 1))] <- off
  e <- eigen(J, symmetric = TRUE)
  list(x = e$values, w = e$vectors[1L, ]^2 / sum(e$vectors[1L, ]^2))
}
gh <- gauss_hermite(60)

# m7: Y = s exp(eps/2) exp(mu/2): E = s e^{1/8} cosh(1), E Y^2 = s^2 e^{1/2} cosh(2).
m7_m1 <- exp(1 / 8) * cosh(1)
m7_m2 <- exp(1 / 2) * cosh(2)

# True conditional mean and SD at the rows of X.
truth <- function(model, X) {
  x <- X[, 1]
  switch(model,
    m1 = list(mean = X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + cos(X[, 4] + X[, 5]),
              sd = rep(0.1, nrow(X))),
    m2 = list(mean = X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + X[, 4] - X[, 5],
              sd = (1 + X[, 2]^2 + X[, 5]^2) / 2),
    m3 = list(mean = rep(0, nrow(X)), sd = sqrt(x^2 + 0.0625)),
    m4 = list(mean = tanh(x) + 0.3, sd = rep(0.3, nrow(X))),
    m5 = {
      V <- tanh(outer(x, sqrt(m5_var) * gh$x, "+"))
      mu <- drop(V %*% gh$w)
      list(mean = mu, sd = sqrt(pmax(drop(V^2 %*% gh$w) - mu^2, 0)))
    },
    m6 = list(mean = 0.3 * tanh(x), sd = 0.3 * abs(tanh(x))),
    m7 = {
      s <- m7_scale(X)
      list(mean = s * m7_m1, sd = s * sqrt(m7_m2 - m7_m1^2))
    })
}

# The data of one model and seed (bench/tune.R uses it too): n_train
# training pairs, n_test test x with one fresh Y each, the truth at the test
# x, and the true law there by 2000 exact draws per x.
model_data <- function(model, seed, n_train, n_test) {
  p <- model_p[[model]]
  set.seed(10000 * seed + match(model, paste0("m", 1:7)))
  Xtr <- matrix(runif(n_train * p, -3, 3), n_train, p)
  ytr <- gen_y(model, Xtr)
  Xte <- matrix(runif(n_test * p, -3, 3), n_test, p)
  yfresh <- gen_y(model, Xte)
  Ytrue <- matrix(gen_y(model, Xte[rep(seq_len(n_test), 2000), , drop = FALSE]), n_test)
  list(Xtr = Xtr, ytr = ytr, Xte = Xte, yfresh = yfresh, truth = truth(model, Xte),
       Ytrue = Ytrue)
}

## ----------------------------------------------- predictive distributions

# CRPS of the distribution with atoms v and weights w (sum 1) at y; exact.
crps_atoms <- function(v, w, y) {
  o <- order(v)
  v <- v[o]
  w <- w[o]
  below <- cumsum(w) - w
  sum(w * abs(v - y)) - sum(w * v * (2 * below + w - 1))
}

# Scores from draws: M is test x by draws.
stats_draws <- function(M, yfresh) {
  m <- ncol(M)
  S <- t(apply(M, 1L, sort))
  q <- function(p) {  # type 7
    h <- (m - 1) * p + 1
    lo <- floor(h)
    S[, lo] + (h - lo) * (S[, min(lo + 1L, m)] - S[, lo])
  }
  w <- rep(1 / m, m)
  below <- (seq_len(m) - 1) / m
  crps <- rowMeans(abs(S - yfresh)) - drop(S %*% (w * (2 * below + w - 1)))
  list(mean = rowMeans(M), sd = sqrt(rowSums((M - rowMeans(M))^2) / (m - 1)),
       q05 = q(0.05), q95 = q(0.95), crps = crps)
}

# Scores from a weight matrix W (test x by training rows, rows sum to 1).
stats_weights <- function(W, ytrain, yfresh) {
  W <- as(W, "CsparseMatrix")
  Wt <- t(W)  # column i holds the weights of test row i
  if (!inherits(Wt, "dgCMatrix")) Wt <- as(as(Wt, "generalMatrix"), "dMatrix")
  p <- Wt@p
  k <- nrow(W)
  out <- matrix(NA_real_, k, 5L, dimnames = list(NULL, c("mean", "sd", "q05", "q95", "crps")))
  for (i in seq_len(k)) {
    idx <- seq.int(p[i] + 1L, length.out = p[i + 1L] - p[i])
    w <- Wt@x[idx]
    v <- ytrain[Wt@i[idx] + 1L]
    keep <- w > 0
    w <- w[keep]
    v <- v[keep]
    w <- w / sum(w)
    o <- order(v)
    v <- v[o]
    w <- w[o]
    cw <- cumsum(w)
    mu <- sum(w * v)
    qinv <- function(pr) v[min(which(cw >= pr - 1e-12), length(v))]
    out[i, ] <- c(mu, sqrt(sum(w * (v - mu)^2)), qinv(0.05), qinv(0.95),
                  crps_atoms(v, w, yfresh[i]))
  }
  as.list(as.data.frame(out))
}

# Scores from CDF values F (test x by grid z).
stats_cdf <- function(z, F, yfresh) {
  k <- nrow(F)
  dz <- diff(z)
  out <- matrix(NA_real_, k, 5L, dimnames = list(NULL, c("mean", "sd", "q05", "q95", "crps")))
  zm <- (z[-1L] + z[-length(z)]) / 2
  for (i in seq_len(k)) {
    Fi <- F[i, ]
    pm <- diff(Fi)  # probability of each cell, placed at its midpoint
    mu <- sum(pm * zm)
    qinv <- function(pr) {
      j <- which(Fi >= pr)[1L]
      if (is.na(j)) return(z[length(z)])
      if (j == 1L) return(z[1L])
      z[j - 1L] + (pr - Fi[j - 1L]) / (Fi[j] - Fi[j - 1L]) * dz[j - 1L]
    }
    y <- yfresh[i]
    H <- as.numeric(z >= y)
    g <- (Fi - H)^2
    cr <- sum((g[-1L] + g[-length(g)]) / 2 * dz)
    # the cell holding y: integrate the two sides separately
    j <- findInterval(y, z)
    if (j >= 1L && j < length(z)) {
      Fy <- Fi[j] + (y - z[j]) / dz[j] * (Fi[j + 1L] - Fi[j])
      cr <- cr - (g[j] + g[j + 1L]) / 2 * dz[j] +
        (Fi[j]^2 + Fy^2) / 2 * (y - z[j]) + ((1 - Fy)^2 + (1 - Fi[j + 1L])^2) / 2 * (z[j + 1L] - y)
    }
    if (y < z[1L]) cr <- cr + (z[1L] - y)   # F = 0 below the grid
    if (y > z[length(z)]) cr <- cr + (y - z[length(z)])
    out[i, ] <- c(mu, sqrt(max(sum(pm * (zm - mu)^2), 0)), qinv(0.05), qinv(0.95), cr)
  }
  as.list(as.data.frame(out))
}

## --------------------------------------------------------------- methods

# The paper's recipe: 10,000 Adam steps of batch 1000 (an epoch is
# ceiling(n / 1000) steps, all rows train with validation = 0) and 999
# Euler-Maruyama steps.  --quick shortens it to 2,000 Adam steps and 200
# sampler steps unless --full-paper is given; the output says which.
paper_adam_steps <- if (quick && !full_paper) 2000 else 10000
paper_em_steps <- if (quick && !full_paper) 200 else 999
paper_control <- function(n) {
  per_epoch <- ceiling(n / 1000)
  sbcg_control(hidden = c(32, 16), activation = "silu", n_freq = 8, freq_range = c(1, 100),
               time_map = "linear", t_tail = 0, precondition = "none",
               standardize = FALSE, batch_size = 1000,
               epochs = ceiling(paper_adam_steps / per_epoch), lr = 1e-3,
               lr_schedule = "constant", warmup = 0, weight_decay = 0, ema = 0,
               validation = 0, parameterization = "denoiser", t_min = 1e-3, t_max = 1 - 1e-3,
               steps = paper_em_steps, sampler = "em", grid_power = 1, draws = n_draws)
}

elapsed <- function() proc.time()[["elapsed"]]
cpu_time <- function() {
  pt <- proc.time()
  sum(pt[c("user.self", "sys.self")]) + sum(pt[c("user.child", "sys.child")], na.rm = TRUE)
}

run_method <- function(method, Xtr, ytr, Xte, yfresh, seed) {
  colnames(Xtr) <- colnames(Xte) <- paste0("x", seq_len(ncol(Xtr)))
  c0 <- cpu_time()
  t0 <- elapsed()
  if (method %in% c("sbcg_default", "sbcg_paper")) {
    fit <- if (method == "sbcg_default") sbfit(Xtr, ytr, seed = seed) else
      sbfit(Xtr, ytr, control = paper_control(nrow(Xtr)), seed = seed)
    t1 <- elapsed()
    c1 <- cpu_time()
    nd <- if (method == "sbcg_default" && is.na(default_draws)) fit$control$draws else n_draws
    M <- sbsample(fit, Xte, ndraws = nd, format = "matrix", seed = seed)
    t2 <- elapsed()
    c2 <- cpu_time()
    stopifnot(is.matrix(M), nrow(M) == nrow(Xte), ncol(M) == nd)
    s <- stats_draws(M, yfresh)
    ctl <- fit$control
    s$note <- sprintf("%s Adam steps (%d epochs), %d sampler steps (%s)%s%s",
                      format(fit$steps_run, big.mark = ","), nrow(fit$history),
                      ctl$steps, ctl$sampler,
                      if (isTRUE(fit$stopped_early)) ", stopped early" else "",
                      if (is.null(fit$linear)) "" else
                        sprintf(", linear share %g", 1 - fit$linear$weight))
  } else if (method == "grf") {
    f <- grf::quantile_forest(Xtr, ytr, quantiles = c(0.05, 0.5, 0.95),
                              num.threads = n_threads, seed = seed)
    t1 <- elapsed()
    c1 <- cpu_time()
    W <- grf::get_forest_weights(f, Xte, num.threads = n_threads)
    t2 <- elapsed()
    c2 <- cpu_time()
    s <- stats_weights(W, ytr, yfresh)
    s$note <- sprintf("quantile_forest defaults but quantiles = c(0.05, 0.5, 0.95) for the splits, %d trees",
                      f[["_num_trees"]])
  } else if (method == "drf") {
    f <- drf::drf(Xtr, matrix(ytr, ncol = 1L), num.threads = n_threads, seed = seed)
    t1 <- elapsed()
    c1 <- cpu_time()
    W <- drf::get_sample_weights(f, Xte, num.threads = n_threads)
    t2 <- elapsed()
    c2 <- cpu_time()
    s <- stats_weights(W, ytr, yfresh)
    s$note <- sprintf("drf defaults (FourierMMD splitting), %d trees", f[["_num_trees"]])
  } else if (method == "qrf") {
    set.seed(seed)
    f <- quantregForest::quantregForest(Xtr, ytr, nthreads = n_threads)
    t1 <- elapsed()
    c1 <- cpu_time()
    # the package's predictive distribution: one stored training Y per
    # terminal node and tree (valuesNodes), i.e. ntree equally weighted
    # atoms, from which predict() takes its (type-7) quantiles
    A <- stats::predict(f, Xte, what = function(v) v)
    t2 <- elapsed()
    c2 <- cpu_time()
    s <- stats_draws(A, yfresh)
    s$note <- sprintf("quantregForest defaults, %d trees; predictive distribution = predict(qrf, x, what = function(v) v), %d atoms per x",
                      f$ntree, ncol(A))
  } else if (method == "qrf_exact") {
    set.seed(seed)
    f <- quantregForest::quantregForest(Xtr, ytr, nthreads = n_threads)
    t1 <- elapsed()
    c1 <- cpu_time()
    W <- qrf_weights(f, Xtr, Xte)
    t2 <- elapsed()
    c2 <- cpu_time()
    s <- stats_weights(W, ytr, yfresh)
    s$note <- sprintf("quantregForest defaults, %d trees; Meinshausen (2006) weights over all training rows from terminal nodes",
                      f$ntree)
  } else if (method == "np") {
    r <- np_fit_cdf(Xtr, ytr, Xte, seed)
    t1 <- t0 + r$fit_s
    t2 <- t1 + r$pred_s
    c1 <- c0 + r$fit_cpu
    c2 <- c1 + r$pred_cpu
    s <- stats_cdf(r$z, r$F, yfresh)
    s$note <- r$note
  }
  s$fit_s <- t1 - t0
  s$pred_s <- t2 - t1
  s$fit_cpu <- c1 - c0
  s$pred_cpu <- c2 - c1
  s
}

# Meinshausen (2006) weights: w_i(x) = mean over trees of
# 1{X_i in the leaf of x} / (number of training rows in that leaf), with the
# terminal nodes of the training and test rows from randomForest's
# predict(..., nodes = TRUE) (quantregForest 1.4 keeps no origNodes).
qrf_weights <- function(f, Xtr, Xte) {
  rf <- f
  class(rf) <- "randomForest"  # as predict.quantregForest() does
  te <- attr(stats::predict(rf, Xte, nodes = TRUE), "nodes")
  tr <- f$origNodes %||% attr(stats::predict(rf, Xtr, nodes = TRUE), "nodes")
  ntree <- ncol(tr)
  maxnode <- max(tr, te)
  leaf_tr <- as.vector(tr) + maxnode * (rep(seq_len(ntree), each = nrow(tr)) - 1)
  leaf_te <- as.vector(te) + maxnode * (rep(seq_len(ntree), each = nrow(te)) - 1)
  ids <- sort(unique(leaf_tr))
  size <- tabulate(match(leaf_tr, ids), length(ids))
  jt <- match(leaf_tr, ids)
  L <- sparseMatrix(i = jt, j = rep(seq_len(nrow(tr)), ntree), x = 1 / size[jt],
                    dims = c(length(ids), nrow(tr)))
  je <- match(leaf_te, ids)
  M <- sparseMatrix(i = rep(seq_len(nrow(te)), ntree), j = je, x = 1 / ntree,
                    dims = c(nrow(te), length(ids)))
  M %*% L
}

# np: bandwidths by likelihood cross-validation (cv.ml) on a random
# subsample of np_sub rows, rescaled to n by (n_sub / n)^(1/6) (the rate of a
# two-dimensional density); then npcdens on a y grid at each test x,
# integrated to a CDF by the trapezoid rule.
np_sub <- 500L
np_grid <- 400L
np_fit_cdf <- function(Xtr, ytr, Xte, seed) {
  if (ncol(Xtr) != 1L) stop("np is run on the one-covariate models only")
  set.seed(seed)
  t0 <- elapsed()
  c0 <- cpu_time()
  sub <- sample.int(nrow(Xtr), min(np_sub, nrow(Xtr)))
  d <- data.frame(y = ytr[sub], x = Xtr[sub, 1])
  bw <- np::npcdensbw(y ~ x, data = d, bwmethod = "cv.ml", nmulti = 1)
  fac <- (length(sub) / nrow(Xtr))^(1 / 6)
  bwn <- np::npcdensbw(xdat = data.frame(x = Xtr[, 1]), ydat = data.frame(y = ytr),
                       bws = c(bw$ybw * fac, bw$xbw * fac), bandwidth.compute = FALSE)
  t1 <- elapsed()
  c1 <- cpu_time()
  hy <- bwn$ybw
  z <- seq(min(ytr) - 4 * hy, max(ytr) + 4 * hy, length.out = np_grid)
  k <- nrow(Xte)
  ex <- data.frame(x = rep(Xte[, 1], each = length(z)))
  ey <- data.frame(y = rep(z, times = k))
  fd <- np::npcdens(bws = bwn, txdat = data.frame(x = Xtr[, 1]), tydat = data.frame(y = ytr),
                    exdat = ex, eydat = ey)
  D <- matrix(fd$condens, k, length(z), byrow = TRUE)
  dz <- diff(z)
  F <- cbind(0, t(apply(D, 1L, function(f) cumsum((f[-1L] + f[-length(f)]) / 2 * dz))))
  F <- F / F[, ncol(F)]
  t2 <- elapsed()
  c2 <- cpu_time()
  list(z = z, F = F, fit_s = t1 - t0, pred_s = t2 - t1, fit_cpu = c1 - c0, pred_cpu = c2 - c1,
       note = sprintf("bandwidths by cv.ml on a %d-row subsample, scaled by (%d/%d)^(1/6): y %.3g, x %.3g; %d-point y grid",
                      length(sub), length(sub), nrow(Xtr), hy, bwn$xbw, length(z)))
}

## ----------------------------------------------------------- self-checks

local({
  set.seed(99)
  v <- rnorm(7)
  w <- runif(7)
  w <- w / sum(w)
  y <- 0.3
  brute <- sum(w * abs(v - y)) - 0.5 * sum(outer(w, w) * abs(outer(v, v, "-")))
  stopifnot(abs(crps_atoms(v, w, y) - brute) < 1e-12)
  M <- matrix(rnorm(30), 3)
  sd1 <- stats_draws(M, c(0, 1, -1))
  stopifnot(abs(sd1$crps[2] - crps_atoms(M[2, ], rep(0.1, 10), 1)) < 1e-12,
            abs(sd1$q95[3] - quantile(M[3, ], 0.95)) < 1e-12)
  # CDF scoring against the exact CRPS of N(0, 1) at y = 0.7
  z <- seq(-8, 8, length.out = 4001)
  cc <- stats_cdf(z, matrix(pnorm(z), 1), 0.7)
  exact <- 0.7 * (2 * pnorm(0.7) - 1) + 2 * dnorm(0.7) - 1 / sqrt(pi)
  stopifnot(abs(cc$crps - exact) < 1e-5, abs(cc$sd - 1) < 1e-4, abs(cc$q95 - qnorm(0.95)) < 1e-4)
  # m5 truth by quadrature vs integrate(); m7 truth vs Monte Carlo
  x0 <- c(-2.5, 0.1, 1.3)
  t5 <- truth("m5", matrix(x0))
  for (i in seq_along(x0)) {
    f1 <- function(g) tanh(x0[i] + g) * dnorm(g, 0, sqrt(m5_var))
    f2 <- function(g) tanh(x0[i] + g)^2 * dnorm(g, 0, sqrt(m5_var))
    m1 <- integrate(f1, -Inf, Inf, rel.tol = 1e-12)$value
    m2 <- integrate(f2, -Inf, Inf, rel.tol = 1e-12)$value
    stopifnot(abs(t5$mean[i] - m1) < 1e-9, abs(t5$sd[i] - sqrt(m2 - m1^2)) < 1e-9)
  }
  X7 <- matrix(c(1, -2, 0.5, 2, -1), 1)
  t7 <- truth("m7", X7)
  y7 <- gen_y("m7", X7[rep(1, 2e6), , drop = FALSE])
  stopifnot(abs(mean(y7) / t7$mean - 1) < 0.01, abs(sd(y7) / t7$sd - 1) < 0.03)
  cat(sprintf("self-checks passed (CRPS formulas; m5 quadrature = integrate(); m7 closed form vs 2e6 draws: mean %.3f / %.3f, sd %.2f / %.2f)\n",
              mean(y7), t7$mean, sd(y7), t7$sd))
})

## ------------------------------------------------------------------ run

cat("paper recipe", if (paper_adam_steps < 10000) " SHORTENED BY --quick (the paper: 10,000 Adam steps, 999 EM steps; --full-paper keeps them)",
    ": ", sprintf(
  "hidden 32-16 silu, no standardisation, batch 1000, %d epochs = %s Adam steps at n = %d, lr 1e-3 constant, no validation, denoiser, t in [1e-3, 1-1e-3], %d EM steps, %d draws",
  paper_control(n_train)$epochs, format(paper_control(n_train)$epochs * ceiling(n_train / 1000), big.mark = ","),
  n_train, paper_em_steps, n_draws), "\n", sep = "")
cat("sbcg defaults: sbfit(x, y, seed = s); sbsample(fit, x_test, ndraws = ",
    if (is.na(default_draws)) sprintf("%d (the default draws)", sbcg::sbcg_control()$draws) else n_draws,
    ", format = \"matrix\", seed = s)\n", sep = "")
cat("np: one-covariate models (m3-m6) only\n\n")
flush(stdout())

rows <- list()
fmt <- function(v, digits = 3) {
  if (all(is.na(v))) return("NA")
  f <- function(a) sub("\\.$", "", formatC(signif(a, digits), digits = digits, format = "fg", flag = "#"))
  if (length(v) == 1L) return(f(v))
  sprintf("%s (%s-%s)", f(mean(v)), f(min(v)), f(max(v)))
}

print_model_table <- function(res, model) {
  r <- res[res$model == model, , drop = FALSE]
  meths <- unique(r$method)
  tab <- do.call(rbind, lapply(meths, function(m) {
    x <- r[r$method == m, , drop = FALSE]
    ok <- is.na(x$error)
    if (!any(ok))
      return(data.frame(method = m, mse_mean = "(failed)", mse_sd = "", sd_ratio = "", crps = "",
                        cover90 = "", fit_s = "", pred_s = "", cpu_s = ""))
    x <- x[ok, , drop = FALSE]
    data.frame(method = m, mse_mean = fmt(x$mse_mean), mse_sd = fmt(x$mse_sd),
               sd_ratio = fmt(x$sd_ratio, 2),
               crps = fmt(x$crps), cover90 = fmt(x$cover90, 2),
               fit_s = fmt(x$fit_s, 2), pred_s = fmt(x$pred_s, 2),
               cpu_s = fmt(x$fit_cpu + x$pred_cpu, 2))
  }))
  cat(sprintf("== %s (p = %d, n = %d, %d test x, %d seed%s; mean (min-max) over seeds) ==\n",
              model, model_p[[model]], n_train, n_test, n_seeds, if (n_seeds > 1) "s" else ""))
  print(tab, row.names = FALSE, right = FALSE)
  notes <- unique(r[!is.na(r$note) & r$seed == min(r$seed), c("method", "note")])
  for (i in seq_len(nrow(notes))) cat(sprintf("  %s: %s\n", notes$method[i], notes$note[i]))
  errs <- unique(r[!is.na(r$error), c("method", "seed", "error")])
  for (i in seq_len(nrow(errs)))
    cat(sprintf("  %s (seed %d): %s\n", errs$method[i], errs$seed[i], errs$error[i]))
  cat("\n")
  flush(stdout())
}

for (model in models) {
  p <- model_p[[model]]
  for (seed in seq_len(n_seeds)) {
    dat <- model_data(model, seed, n_train, n_test)
    Xtr <- dat$Xtr
    ytr <- dat$ytr
    Xte <- dat$Xte
    yfresh <- dat$yfresh
    tr <- dat$truth
    Ytrue <- dat$Ytrue
    scored <- list(truth = c(stats_draws(Ytrue, yfresh), list(note = "2000 exact draws per x", fit_s = NA, pred_s = NA,
                                                                 fit_cpu = NA, pred_cpu = NA)))
    for (method in methods) {
      if (method == "np" && p != 1L) next
      pk <- peer_of[method]
      if (!is.na(pk) && nzchar(peer_status[[pk]])) {
        scored[[method]] <- list(error = paste("not installed:", peer_status[[pk]]))
        next
      }
      cat(sprintf("[%s] %s seed %d: %s ...", format(Sys.time(), "%H:%M:%S"), model, seed, method))
      flush(stdout())
      scored[[method]] <- tryCatch(run_method(method, Xtr, ytr, Xte, yfresh, seed),
                                   error = function(e) list(error = paste("error:", conditionMessage(e))))
      cat(if (is.null(scored[[method]]$error))
            sprintf(" %.1f s wall, %.1f s CPU\n", scored[[method]]$fit_s + scored[[method]]$pred_s,
                    scored[[method]]$fit_cpu + scored[[method]]$pred_cpu)
          else paste0(" ", scored[[method]]$error, "\n"))
    }
    for (m in names(scored)) {
      s <- scored[[m]]
      if (!is.null(s$error)) {
        rows[[length(rows) + 1L]] <- data.frame(model = model, seed = seed, method = m,
          mse_mean = NA, mse_sd = NA, sd_ratio = NA, crps = NA, cover90 = NA, fit_s = NA, pred_s = NA,
          fit_cpu = NA, pred_cpu = NA, note = NA, error = s$error, n = n_train, n_test = n_test)
        next
      }
      rows[[length(rows) + 1L]] <- data.frame(
        model = model, seed = seed, method = m,
        mse_mean = mean((s$mean - tr$mean)^2), mse_sd = mean((s$sd - tr$sd)^2),
        sd_ratio = mean(s$sd) / mean(tr$sd),
        crps = mean(s$crps), cover90 = mean(yfresh >= s$q05 & yfresh <= s$q95),
        fit_s = s$fit_s, pred_s = s$pred_s, fit_cpu = s$fit_cpu, pred_cpu = s$pred_cpu,
        note = s$note, error = NA, n = n_train, n_test = n_test)
    }
  }
  res <- do.call(rbind, rows)
  print_model_table(res, model)
}

## --------------------------------------------------------------- output

res <- do.call(rbind, rows)
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
stamp <- format(Sys.time(), "%Y%m%d-%H%M%S")
tag <- if (quick) "-quick" else ""
raw_file <- file.path(out_dir, sprintf("accuracy-%s%s-seeds.csv", stamp, tag))
sum_file <- file.path(out_dir, sprintf("accuracy-%s%s.csv", stamp, tag))
write.csv(res, raw_file, row.names = FALSE)
ok <- res[is.na(res$error), , drop = FALSE]
agg <- do.call(rbind, lapply(split(ok, list(ok$model, ok$method), drop = TRUE), function(x) {
  one <- function(v) c(mean = mean(v), min = min(v), max = max(v))
  data.frame(model = x$model[1L], method = x$method[1L], seeds = nrow(x),
             t(c(mse_mean = one(x$mse_mean), mse_sd = one(x$mse_sd),
                 sd_ratio = one(x$sd_ratio), crps = one(x$crps),
                 cover90 = one(x$cover90), fit_s = one(x$fit_s), pred_s = one(x$pred_s),
                 fit_cpu = one(x$fit_cpu), pred_cpu = one(x$pred_cpu))),
             n = n_train, n_test = n_test, draws = n_draws)
}))
bad <- unique(res[!is.na(res$error), c("model", "method", "error")])
if (nrow(bad)) {
  bad$seeds <- 0L
  agg <- if (is.null(agg)) bad else merge(agg, bad, all = TRUE)
}
agg <- agg[order(match(agg$model, all_models), match(agg$method, c("truth", all_methods, extra_methods))), ]
write.csv(agg, sum_file, row.names = FALSE)
cat(sprintf("wrote %s (summary) and %s (per seed)\n", sum_file, raw_file))
