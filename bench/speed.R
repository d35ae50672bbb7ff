# Speed of sbcg's training and sampling, side by side in the same run with
# a PyTorch CPU implementation of the same network, loss, optimiser and
# sampler (bench/torch_sb.py, Debian's python3-torch).
#
#   Rscript bench/speed.R            # full run (about 25 minutes)
#   Rscript bench/speed.R --quick    # fewer repetitions and steps
#   Rscript bench/speed.R --no-torch # sbcg only
#   Rscript bench/speed.R --defaults # only the figures of sbcg's defaults
#                                    # (default network, sbfit(), sbcondstats(), memory)
#
# Figures are medians over repeated runs.  GFLOP/s count 2 flops per
# multiply-add of the dense layers only (activations, embedding and random
# numbers are not counted).
suppressPackageStartupMessages(library(sbcg))
args <- commandArgs(TRUE)
quick <- "--quick" %in% args
defaults_only <- "--defaults" %in% args
use_torch <- !("--no-torch" %in% args) && !defaults_only
reps <- if (quick) 1L else 3L
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
py <- "/usr/bin/python3"

# ---- machine -------------------------------------------------------------
cpu <- readLines("/proc/cpuinfo")
model <- sub(".*: ", "", grep("^model name", cpu, value = TRUE)[1])
mhz <- as.numeric(sub(".*: ", "", grep("^cpu MHz", cpu, value = TRUE)[1]))
flags <- strsplit(sub(".*: ", "", grep("^flags", cpu, value = TRUE)[1]), " ")[[1]]
cores <- parallel::detectCores()
# AVX2 + FMA: two 256-bit FMA pipes, 4 doubles, 2 flops each = 16 per cycle
fpc <- if (all(c("avx2", "fma") %in% flags)) 16 else 4
peak1 <- mhz / 1000 * fpc
cat(sprintf("sbcg %s, %s\n", packageVersion("sbcg"), R.version.string))
cat(sprintf("CPU: %s, %d cores, %.0f MHz (/proc/cpuinfo), AVX2 %s, FMA %s\n", model,
            cores, mhz, "avx2" %in% flags, "fma" %in% flags))
cat(sprintf("peak double precision: %.1f GFLOP/s per core = %.0f MHz x %d flops/cycle (%s), %.1f GFLOP/s on %d cores\n",
            peak1, mhz, fpc, if (fpc == 16) "2 FMA units x 4 doubles x 2" else "SSE2",
            peak1 * cores, cores))
cat(sprintf("BLAS: %s; sbcg kernels: %s\n", extSoftVersion()[["BLAS"]],
            sbcg:::use_kernels()))
cat(sprintf("date: %s; mode: %s\n\n", format(Sys.time(), "%Y-%m-%d %H:%M"),
            if (quick) "quick" else "full"))

# ---- PyTorch ---------------------------------------------------------------
torch_ok <- FALSE
if (use_torch) {
  has <- function() system2(py, c("-c", shQuote("import torch")), stdout = FALSE,
                            stderr = FALSE) == 0
  if (!file.exists(py) || !has()) {
    if (Sys.info()[["user"]] == "root") {
      cat("installing python3-torch with apt-get ...\n")
      system("apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-torch > /dev/null 2>&1")
    }
  }
  torch_ok <- file.exists(py) && has()
  if (!torch_ok) cat("PyTorch: not available (python3-torch could not be installed); sbcg only\n\n")
}
torch_run <- function(...) {
  a <- c(file.path(here, "torch_sb.py"), ...)
  out <- system2(py, a, stdout = TRUE)
  rec <- out[length(out)]
  times <- as.numeric(strsplit(sub(".*\"times\": \\[([^]]*)\\].*", "\\1", rec), ",")[[1]])
  list(times = times, version = sub(".*\"torch\": \"([^\"]*)\".*", "\\1", rec))
}
if (torch_ok) {
  tv <- system2(py, c("-c", shQuote("import torch; print(torch.__version__)")), stdout = TRUE)
  cat(sprintf("PyTorch %s (Debian python3-torch), float64, same BLAS (libblas.so.3)\n\n", tv))
}

# ---- data and the paper's recipe -----------------------------------------------
set.seed(1)
n <- 5000; p <- 5
X <- matrix(runif(n * p, -3, 3), n, p, dimnames = list(NULL, paste0("x", 1:p)))
y <- X[, 1]^2 + rnorm(n)
recipe <- function(epochs) sbcg_control(hidden = c(32, 16), batch_size = 1000,
                                        epochs = epochs, validation = 0, lr = 1e-3,
                                        lr_schedule = "constant", standardize = FALSE,
                                        ema = 0, parameterization = "residual",
                                        precondition = "none")
macs_row <- function(widths) sum(head(widths, -1) * widths[-1])
w_recipe <- c(1 + 16 + p, 32, 16, 1)
w_default <- c(1 + 16 + p, sbcg_control()$hidden, 1)

med <- function(x) stats::median(x)
results <- list()
add <- function(...) results[[length(results) + 1L]] <<- data.frame(...)

# ---- training ----------------------------------------------------------------
if (!defaults_only) {
cat("== training: Adam steps of the paper's recipe (32-16 SiLU, batch 1000, n = 5000, p = 5, d = 1)\n")
train_steps <- if (quick) 200L else 500L
epochs <- train_steps / 5L
for (th in c(1L, 2L)) {
  sec <- replicate(reps, {
    f <- sbfit(X, y, control = recipe(epochs), threads = th, seed = 1)
    f$seconds / f$steps_run
  })
  sps <- 1 / med(sec)
  gf <- 6 * macs_row(w_recipe) * 1000 * sps / 1e9
  cat(sprintf("  sbcg     threads %d: %7.1f steps/s  %5.2f GFLOP/s\n", th, sps, gf))
  add(task = "train recipe", impl = "sbcg", threads = th, rate = sps, unit = "steps/s", gflops = gf)
  if (torch_ok) {
    tt <- torch_run("train", "--threads", th, "--steps", train_steps, "--reps", reps)
    tps <- train_steps / med(tt$times)
    tgf <- 6 * macs_row(w_recipe) * 1000 * tps / 1e9
    cat(sprintf("  PyTorch  threads %d: %7.1f steps/s  %5.2f GFLOP/s   sbcg / PyTorch = %.1f\n",
                th, tps, tgf, sps / tps))
    add(task = "train recipe", impl = "PyTorch", threads = th, rate = tps, unit = "steps/s", gflops = tgf)
  }
}
}
cat(sprintf("== training: default bridge network (%s SiLU, batch 256, averaged weights)\n",
            paste(sbcg_control()$hidden, collapse = "-")))
for (th in c(1L, 2L)) {
  sec <- replicate(reps, {
    f <- sbfit(X, y, control = sbcg_control(epochs = 20, validation = 0, precondition = "none"),
               threads = th, seed = 1)
    f$seconds / f$steps_run
  })
  sps <- 1 / med(sec)
  gf <- 6 * macs_row(w_default) * 256 * sps / 1e9
  cat(sprintf("  sbcg     threads %d: %7.1f steps/s  %5.2f GFLOP/s  (%.2f M training triples/s)\n",
              th, sps, gf, sps * 256 / 1e6))
  add(task = "train default", impl = "sbcg", threads = th, rate = sps, unit = "steps/s", gflops = gf)
}
tfit <- replicate(reps, system.time(sbfit(X, y, seed = 1))[["elapsed"]])
cat(sprintf("  sbfit() with all defaults (1 thread; location and scale networks, then the bridge), n = 5000, p = 5: %.1f s (median of %d)\n\n",
            med(tfit), reps))
add(task = "sbfit defaults n=5000", impl = "sbcg", threads = 1L, rate = med(tfit), unit = "s", gflops = NA)

# ---- sampling ----------------------------------------------------------------
fit <- sbfit(X, y, control = recipe(20), seed = 1)
nd <- as.data.frame(matrix(runif(500 * p, -3, 3), 500, p, dimnames = list(NULL, colnames(X))))
flops_cs <- 2 * (1 * 32 + 32 * 16 + 16 * 1) + 32
if (!defaults_only) {
cat("== sampling: 100,000 chains (500 x 200 draws), recipe network, Euler-Maruyama\n")
for (K in c(999L, 100L)) {
  for (th in c(1L, 2L)) {
    tm <- replicate(reps, system.time(
      sbsample(fit, nd, ndraws = 200, steps = K, format = "matrix", threads = th, seed = 1)
    )[["elapsed"]])
    cs <- 1e5 * K / med(tm)
    gf <- cs * flops_cs / 1e9
    cat(sprintf("  sbcg    steps %4d threads %d: %6.2f s  %7.2f M chain-steps/s  %5.2f GFLOP/s (%4.1f%% of %d-core peak)\n",
                K, th, med(tm), cs / 1e6, gf, 100 * gf / (peak1 * th), th))
    add(task = sprintf("sample %d steps", K), impl = "sbcg", threads = th,
        rate = cs, unit = "chain-steps/s", gflops = gf)
  }
}
if (torch_ok) {
  Kt <- if (quick) 20L else 999L
  for (smp in c("cached", "plain")) {
    # the plain sampler is slow: its 999-step figure comes from 100 steps
    Ks <- if (smp == "plain" && !quick) 100L else Kt
    tt <- torch_run("sample", "--threads", 2, "--steps", Ks, "--reps", 1, "--sampler", smp)
    cs <- 1e5 * Ks / med(tt$times)
    cat(sprintf("  PyTorch steps %4d threads 2 (%s sampler): %6.1f s  %7.2f M chain-steps/s\n",
                Ks, smp, med(tt$times), cs / 1e6))
    add(task = sprintf("sample %d steps", Ks), impl = paste("PyTorch", smp), threads = 2L,
        rate = cs, unit = "chain-steps/s", gflops = cs * flops_cs / 1e9)
  }
}
res <- do.call(rbind, results)
s2 <- res$rate[res$impl == "sbcg" & res$task == "sample 999 steps" & res$threads == 2]
s1 <- res$rate[res$impl == "sbcg" & res$task == "sample 999 steps" & res$threads == 1]
cat(sprintf("  2 threads / 1 thread (999 steps): %.2f\n", s2 / s1))
if (torch_ok) {
  pt <- res$rate[grepl("^PyTorch", res$impl) & grepl("^sample", res$task)]
  cat(sprintf("  sbcg (2 threads, 999 steps) / fastest PyTorch sampler (2 threads): %.1f\n",
              s2 / max(pt)))
}
cat("\n")

}
# ---- sbcondstats with defaults ---------------------------------------------------
fd <- sbfit(X, y, seed = 1)
tcs <- replicate(reps, system.time(
  sbcondstats(fd, nd, seed = 1)
)[["elapsed"]])
cat(sprintf("== sbcondstats() with defaults (%d steps, %d threads), 500 x values x %d draws: %.2f s\n\n",
            fd$control$steps, sbcg_threads(), fd$control$draws, med(tcs)))

# ---- memory ------------------------------------------------------------------
# Peak R heap during one sampler call (gc()'s "max used", which includes
# the C code's R_alloc workspace) minus the memory of the draws it returns.
cat("== peak memory of sampling beyond the returned draws (threads 2)\n")
peak_extra <- function(rows, draws, K, fit) {
  ndm <- nd[rep_len(seq_len(nrow(nd)), rows), , drop = FALSE]
  X <- sbcg:::newdata_matrix(fit, ndm)
  g <- sbcg:::sampler_grid(fit, steps = K)
  invisible(gc(reset = TRUE))
  base <- sum(gc()[, 2])
  d <- sbcg:::sample_raw(fit, X, seq_len(rows) - 1, draws, g, c(1L, 2L), 2L)
  peak <- sum(gc()[, 6])
  out <- as.numeric(object.size(d$draws)) / 2^20
  c(peak = peak - base, out = out, extra = peak - base - out)
}
for (cfg in list(c(1000, 200, 100), c(1000, 200, 1000), c(1000, 20, 100),
                 c(1000, 2000, 100), c(100000, 20, 100))) {
  m <- peak_extra(cfg[1], cfg[2], cfg[3], fit)
  cat(sprintf("  rows %6d draws %4d steps %4d: peak %7.1f MB, draws %7.1f MB, beyond the draws %5.1f MB\n",
              cfg[1], cfg[2], cfg[3], m[["peak"]], m[["out"]], m[["extra"]]))
}
# a default fit also keeps a centre and a scale per row (preconditioning)
for (cfg in list(c(1000, 20, 100), c(100000, 20, 100))) {
  m <- peak_extra(cfg[1], cfg[2], cfg[3], fd)
  cat(sprintf("  default fit: rows %6d draws %4d steps %4d: peak %7.1f MB, draws %7.1f MB, beyond the draws %5.1f MB\n",
              cfg[1], cfg[2], cfg[3], m[["peak"]], m[["out"]], m[["extra"]]))
}
