# Speed of sbcg's training and sampling, side by side in the same run with
# a PyTorch CPU implementation of the same network, loss, optimiser and
# sampler (bench/torch_sb.py, Debian's python3-torch) in float64 and
# float32, with sbcg's portable kernels against its AVX2 ones (and its AVX2
# ones against its AVX-512 ones where the CPU has AVX-512), and with
# threads on an idle machine against one busy with a competing process.
#
#   Rscript bench/speed.R            # full run
#   Rscript bench/speed.R --quick    # fewer repetitions and steps
#   Rscript bench/speed.R --no-torch # sbcg only
#   Rscript bench/speed.R --defaults # only the figures of sbcg's defaults
#                                    # (default network, sbfit(), sbcondstats(), memory)
#   Rscript bench/speed.R --only train,sample,load   # some sections:
#       train (training rates), sample (sampling rates: the recipe network,
#       and the default 64-64 at the default number of steps), load (1 and 2
#       threads with and without a competing CPU-bound process), defaults
#       (sbcondstats() with defaults), memory
#   Rscript bench/speed.R --reps 5   # repetitions of every timing
#
# Figures are medians over repeated runs; the variants of a comparison run
# interleaved (one repetition of each in turn), so that a change in the
# machine's load touches them alike.  The load average before each section
# is printed: on a machine shared with other work the ratios are what to
# read, and a ratio measured beside other CPU-bound jobs is not an idle
# figure.  GFLOP/s count 2 flops per multiply-add of the dense layers only
# (activations, embedding and random numbers are not counted).  sbcg runs
# its network's passes in single precision by default (option
# sbcg.precision); rows that say "double" run them in double, and sbcg is
# compared with PyTorch in the same precision.  A sampler row's share of
# the peak is of the peak in its precision (twice as many flops per cycle
# in single).
suppressPackageStartupMessages(library(sbcg))
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(here, "cli.R"))
check_options(c("quick", "no-torch", "defaults", "only", "reps"))
quick <- "--quick" %in% args
defaults_only <- "--defaults" %in% args
use_torch <- !("--no-torch" %in% args) && !defaults_only
reps <- as.integer(opt_value("reps", if (quick) 1L else 3L))
sections <- if (defaults_only) c("defaults", "memory") else
  strsplit(opt_value("only", "train,sample,load,defaults,memory"), ",")[[1]]
stopifnot(all(sections %in% c("train", "sample", "load", "defaults", "memory")), reps >= 1)
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
cat(sprintf("CPU: %s, %d cores, %.0f MHz (/proc/cpuinfo), AVX2 %s, FMA %s, AVX-512F %s\n", model,
            cores, mhz, "avx2" %in% flags, "fma" %in% flags, "avx512f" %in% flags))
if ("avx512f" %in% flags)
  cat("(the shares of the peak below are of the AVX2 + FMA peak; with two 512-bit FMA units the AVX-512 peak is twice that)\n")
cat(sprintf("peak double precision: %.1f GFLOP/s per core = %.0f MHz x %d flops/cycle (%s), %.1f GFLOP/s on %d cores\n",
            peak1, mhz, fpc, if (fpc == 16) "2 FMA units x 4 doubles x 2" else "SSE2",
            peak1 * cores, cores))
cat(sprintf("BLAS: %s; sbcg kernels: %s\n", extSoftVersion()[["BLAS"]],
            .Call(sbcg:::C_sbcg_kernels)))
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
# seconds of one timed run of bench/torch_sb.py (its own warm-up excluded)
torch_run <- function(...) {
  a <- c(file.path(here, "torch_sb.py"), ..., "--reps", 1)
  out <- system2(py, a, stdout = TRUE)
  rec <- out[length(out)]
  as.numeric(strsplit(sub(".*\"times\": \\[([^]]*)\\].*", "\\1", rec), ",")[[1]])[1]
}
if (torch_ok) {
  tv <- system2(py, c("-c", shQuote("import torch; print(torch.__version__)")), stdout = TRUE)
  cat(sprintf("PyTorch %s (Debian python3-torch), float64 and float32\n\n", tv))
}

# ---- helpers -----------------------------------------------------------------
med <- function(x) stats::median(x)
load_now <- function() paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = " ")
section <- function(title) cat(sprintf("== %s\n   (load average before: %s)\n", title, load_now()))
# run the functions of `fns` (each returning seconds) `reps` times,
# interleaved; returns the median seconds of each
side_by_side <- function(fns, reps) {
  tm <- matrix(NA_real_, reps, length(fns), dimnames = list(NULL, names(fns)))
  for (r in seq_len(reps)) for (k in seq_along(fns)) tm[r, k] <- fns[[k]]()
  apply(tm, 2L, med)
}
# the portable kernels or the ones this CPU supports, for the call of f
with_kernels <- function(k, f) {
  old <- options(sbcg.kernels = k)
  on.exit(options(old))
  f()
}
# a competing CPU-bound process (a shell busy loop) while f runs
with_competitor <- function(f) {
  pid <- as.integer(system("sh -c 'while :; do :; done' > /dev/null 2>&1 & echo $!",
                           intern = TRUE))
  on.exit(tools::pskill(pid))
  Sys.sleep(0.2)
  f()
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
# the default widths for one response (sbcg_control(hidden = NULL) chooses them from d)
h_default <- sbcg:::default_hidden(1L)
w_default <- c(1 + 16 + p, h_default, 1)
# seconds per Adam step of sbfit() with control ctl, the network's passes
# in single precision (the default) or double
step_secs <- function(ctl, th, precision = "single") function() {
  old <- options(sbcg.precision = precision)
  on.exit(options(old))
  f <- sbfit(X, y, control = ctl, threads = th, seed = 1)
  f$seconds / f$steps_run
}
# the kernels "auto" runs: the AVX2 rows compare with the portable ones
# wherever there are AVX2 kernels, and with the AVX-512 ones where those run
kset <- .Call(sbcg:::C_sbcg_kernels)
avx2 <- kset != "portable"
avx512 <- kset == "avx512"
auto_name <- if (avx512) "AVX-512" else "AVX2"
# the rows of the other kernel sets for the timing fns$<base>
other_sets <- function(fns, base) {
  if (avx2) fns[[paste(base, "portable")]] <- function() with_kernels("portable", fns[[base]])
  if (avx512) fns[[paste(base, "avx2")]] <- function() with_kernels("avx2", fns[[base]])
  fns
}
# their ratios to the "auto" row
set_ratios <- function(m, base, what = "") {
  if (avx2) cat(sprintf("  time portable / %s kernels%s: %.2f\n", auto_name, what,
                        m[[paste(base, "portable")]] / m[[base]]))
  if (avx512) cat(sprintf("  time AVX2 / AVX-512 kernels%s: %.2f\n", what,
                          m[[paste(base, "avx2")]] / m[[base]]))
}

# ---- training ----------------------------------------------------------------
if ("train" %in% sections) {
  train_steps <- if (quick) 200L else 500L
  section(sprintf("training: Adam steps of the paper's recipe (32-16 SiLU, batch 1000, n = 5000, p = 5, d = 1), medians of %d", reps))
  for (th in c(1L, 2L)) {
    fns <- list(sbcg = step_secs(recipe(train_steps / 5L), th),
                `sbcg double` = step_secs(recipe(train_steps / 5L), th, "double"))
    fns <- other_sets(fns, "sbcg")
    if (torch_ok) {
      fns$`PyTorch float64` <- function() torch_run("train", "--threads", th, "--steps",
                                                    train_steps, "--dtype", "float64") / train_steps
      fns$`PyTorch float32` <- function() torch_run("train", "--threads", th, "--steps",
                                                    train_steps, "--dtype", "float32") / train_steps
    }
    m <- side_by_side(fns, reps)
    for (nm in names(m)) {
      sps <- 1 / m[[nm]]
      cat(sprintf("  %-16s threads %d: %7.1f steps/s  %5.2f GFLOP/s\n", nm, th, sps,
                  6 * macs_row(w_recipe) * 1000 * sps / 1e9))
    }
    cat(sprintf("  time single / double precision: %.2f\n", m[["sbcg"]] / m[["sbcg double"]]))
    set_ratios(m, "sbcg")
    if (torch_ok)
      cat(sprintf("  time sbcg / PyTorch, both float64: %.2f; both float32: %.2f; PyTorch float32 / float64: %.2f\n",
                  m[["sbcg double"]] / m[["PyTorch float64"]], m[["sbcg"]] / m[["PyTorch float32"]],
                  m[["PyTorch float32"]] / m[["PyTorch float64"]]))
  }
  section(sprintf("training: default bridge network (%s SiLU, batch 256, averaged weights), medians of %d",
                  paste(h_default, collapse = "-"), reps))
  ctl <- sbcg_control(epochs = 20, validation = 0, precondition = "none")
  fns <- list(`threads 1` = step_secs(ctl, 1L), `threads 2` = step_secs(ctl, 2L),
              `threads 1 double` = step_secs(ctl, 1L, "double"))
  fns <- other_sets(fns, "threads 1")
  m <- side_by_side(fns, reps)
  for (nm in names(m))
    cat(sprintf("  sbcg %-18s: %7.1f steps/s  %5.2f GFLOP/s  (%.2f M training triples/s)\n", nm,
                1 / m[[nm]], 6 * macs_row(w_default) * 256 / m[[nm]] / 1e9, 256 / m[[nm]] / 1e6))
  cat(sprintf("  time single / double precision (1 thread): %.2f\n",
              m[["threads 1"]] / m[["threads 1 double"]]))
  set_ratios(m, "threads 1", " (1 thread)")
  cat("\n")
}

# ---- sampling ----------------------------------------------------------------
fit <- sbfit(X, y, control = recipe(20), seed = 1)
nd <- as.data.frame(matrix(runif(500 * p, -3, 3), 500, p, dimnames = list(NULL, colnames(X))))
flops_cs <- 2 * (1 * 32 + 32 * 16 + 16 * 1) + 32
if ("sample" %in% sections) {
  section(sprintf("sampling: 100,000 chains (500 x 200 draws), recipe network, Euler-Maruyama, medians of %d", reps))
  # the network in single precision (the default) or double
  samp <- function(K, th, precision = "single") function() {
    old <- options(sbcg.precision = precision)
    on.exit(options(old))
    system.time(sbsample(fit, nd, ndraws = 200, steps = K, format = "matrix", threads = th,
                         seed = 1))[["elapsed"]]
  }
  for (K in if (quick) 100L else c(999L, 100L)) {
    fns <- list(`threads 1` = samp(K, 1L), `threads 2` = samp(K, 2L),
                `threads 1 double` = samp(K, 1L, "double"),
                `threads 2 double` = samp(K, 2L, "double"))
    fns <- other_sets(other_sets(fns, "threads 1"), "threads 2")
    if (torch_ok && K == 100L) {
      for (dt in c("float64", "float32"))
        fns[[paste("PyTorch cached", dt, "threads 2")]] <- local({
          dt <- dt
          function() torch_run("sample", "--threads", 2, "--steps", K, "--sampler", "cached",
                               "--dtype", dt)
        })
    }
    m <- side_by_side(fns, reps)
    for (nm in names(m)) {
      cs <- 1e5 * K / m[[nm]]
      # share of the peak of the threads used, in the precision used
      pk <- peak1 * (if (grepl("threads 2", nm)) 2 else 1) *
        (if (grepl("double|float64", nm)) 1 else 2)
      cat(sprintf("  steps %4d %-34s: %6.2f s  %7.2f M chain-steps/s  %5.2f GFLOP/s%s\n",
                  K, nm, m[[nm]], cs / 1e6, cs * flops_cs / 1e9,
                  if (grepl("^threads", nm)) sprintf(" (%2.0f%% of peak)", 100 * cs * flops_cs / 1e9 / pk)
                  else ""))
    }
    cat(sprintf("  steps %4d time 2 threads / 1 thread: %.2f\n", K, m[["threads 2"]] / m[["threads 1"]]))
    cat(sprintf("  steps %4d time single / double precision: %.2f (1 thread), %.2f (2 threads)\n", K,
                m[["threads 1"]] / m[["threads 1 double"]], m[["threads 2"]] / m[["threads 2 double"]]))
    if (avx2)
      cat(sprintf("  steps %4d time portable / %s kernels: %.2f (1 thread), %.2f (2 threads)\n", K,
                  auto_name, m[["threads 1 portable"]] / m[["threads 1"]],
                  m[["threads 2 portable"]] / m[["threads 2"]]))
    if (avx512)
      cat(sprintf("  steps %4d time AVX2 / AVX-512 kernels: %.2f (1 thread), %.2f (2 threads)\n", K,
                  m[["threads 1 avx2"]] / m[["threads 1"]], m[["threads 2 avx2"]] / m[["threads 2"]]))
    if (torch_ok && K == 100L)
      cat(sprintf("  steps %4d time sbcg / PyTorch cached (2 threads): %.2f (both float64), %.2f (both float32)\n", K,
                  m[["threads 2 double"]] / m[["PyTorch cached float64 threads 2"]],
                  m[["threads 2"]] / m[["PyTorch cached float32 threads 2"]]))
  }
  # the default network, 64-64, with the default number of steps: 500 x 1000
  # chains, as predict() samples a default fit that sees the predictors
  # (a short fit: the sampler's work does not depend on the weights)
  fit64 <- sbfit(X, y, control = sbcg_control(hidden = c(64, 64), epochs = 2, validation = 0,
                                              precondition = "none"), seed = 1)
  flops64 <- 2 * (1 * 64 + 64 * 64 + 64 * 1) + 64
  K <- as.integer(sbcg_control()$steps)
  s64 <- function(th) function()
    system.time(sbsample(fit64, nd, ndraws = 1000, steps = K, format = "matrix", threads = th,
                         seed = 1))[["elapsed"]]
  fns <- list(`threads 1` = s64(1L), `threads 2` = s64(2L))
  if (avx512) {
    fns$`threads 1 avx2` <- function() with_kernels("avx2", s64(1L))
    fns$`threads 2 avx2` <- function() with_kernels("avx2", s64(2L))
  }
  m <- side_by_side(fns, reps)
  for (nm in names(m)) {
    cs <- 5e5 * K / m[[nm]]
    pk <- peak1 * (if (grepl("threads 2", nm)) 2 else 1) * 2
    cat(sprintf("  default 64-64, steps %d, 500,000 chains, %-14s: %6.2f s  %7.2f M chain-steps/s  %5.2f GFLOP/s (%2.0f%% of peak)\n",
                K, nm, m[[nm]], cs / 1e6, cs * flops64 / 1e9, 100 * cs * flops64 / 1e9 / pk))
  }
  if (avx512)
    cat(sprintf("  default 64-64 time AVX2 / AVX-512 kernels: %.2f (1 thread), %.2f (2 threads)\n",
                m[["threads 1 avx2"]] / m[["threads 1"]], m[["threads 2 avx2"]] / m[["threads 2"]]))
  cat("\n")
}

# ---- threads under load ----------------------------------------------------------
# Two threads should never be slower than one, on an idle machine or beside
# another CPU-bound process.  One bridge network alone (its threads share
# every optimiser step) and sbfit() with all defaults (its location, scale
# and bridge networks train side by side, one thread each).
if ("load" %in% sections) {
  section(sprintf("threads with and without a competing CPU-bound process (a shell busy loop), medians of %d", reps))
  one <- sbcg_control(epochs = if (quick) 40 else 100, precondition = "none", bridge_inputs = "x")
  full <- if (quick) sbcg_control(epochs = 40) else sbcg_control()
  secs <- function(ctl, th) function()
    system.time(sbfit(X, y, control = ctl, threads = th, seed = 1))[["elapsed"]]
  for (job in list(list("one bridge network", one), list("sbfit() defaults", full))) {
    fns <- list(`idle, 1 thread` = secs(job[[2]], 1L), `idle, 2 threads` = secs(job[[2]], 2L),
                `busy, 1 thread` = function() with_competitor(secs(job[[2]], 1L)),
                `busy, 2 threads` = function() with_competitor(secs(job[[2]], 2L)))
    m <- side_by_side(fns, reps)
    cat(sprintf("  %-18s %s\n", job[[1]], paste(sprintf("%s %.2f s", names(m), m), collapse = ", ")))
    cat(sprintf("  %-18s time 2 threads / 1 thread: %.2f without, %.2f with the competing process\n",
                "", m[[2]] / m[[1]], m[[4]] / m[[3]]))
  }
  cat("  (\"idle\" means without the competing process this script starts; see the load average for other work)\n\n")
}

# ---- sbcondstats with defaults ---------------------------------------------------
if ("defaults" %in% sections) {
  fd <- sbfit(X, y, seed = 1)
  tfit <- replicate(reps, system.time(sbfit(X, y, seed = 1))[["elapsed"]])
  cat(sprintf("== sbfit() with all defaults (1 thread), n = 5000, p = 5: %.1f s (median of %d; load average %s)\n",
              med(tfit), reps, load_now()))
  tcs <- replicate(reps, system.time(
    sbcondstats(fd, nd, seed = 1)
  )[["elapsed"]])
  cat(sprintf("== sbcondstats() with defaults (%d steps, %d threads), 500 x values x %d draws: %.2f s\n\n",
              fd$control$steps, sbcg_threads(), fd$control$draws, med(tcs)))
}

# ---- memory ------------------------------------------------------------------
if ("memory" %in% sections) {
if (!exists("fd")) fd <- sbfit(X, y, seed = 1)
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
}
