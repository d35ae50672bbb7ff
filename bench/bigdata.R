# Small models, big data: size, fit time and peak memory of sbcg's fit as
# the number of training rows grows, next to grf's quantile forest.
#
#   Rscript bench/bigdata.R                      # n = 1e4, 1e5, 1e6
#   Rscript bench/bigdata.R --quick              # n = 1e4, 1e5
#   Rscript bench/bigdata.R --sizes 1e4,3e5      # any sizes
#
# The full run takes some 15 to 30 minutes on one core, most of it
# grf at n = 1e5 (2000 trees, several GB); at n = 1e6 grf's forest needs
# tens of GB, so on a machine with less memory it is skipped (see below).
#
# Options: --quick; --sizes N1,N2,... (training rows); --methods sbcg,grf;
# --threads T (threads of both fits, default 1); --trees K (grf's num.trees,
# default 2000, grf's own default); --samples S (sbcg's training budget in
# (row, time, noise) triples, default that of sbcg_control(), 1.2e7); --seed.
# Run it niced (nice -n 19) on a shared machine, with nothing else heavy
# running: the timings and the memory figures are for one process alone.
#
# Data: model m2 of DESIGN.md, p = 5, X ~ Uniform(-3, 3)^5,
#   Y = X1^2 + exp(X2 + X3/4) + X4 - X5 + ((1 + X2^2 + X5^2)/2) eps.
#
# Each fit runs in a fresh R process (Rscript on a small script written to a
# temporary file), so that its memory high-water mark is its own.  That
# process loads the package, generates the data (a 5-column double matrix
# and a vector, 48 bytes a row), reads VmHWM from /proc/self/status
# ("hwm_data"), fits (wall time "fit_s"), reads VmHWM again ("hwm_fit"),
# and only then measures the fit: `rds_MB` is the size of the file written
# by saveRDS() with its default (gzip) compression, `obj_MB` is
# object.size().  "fit_peak_MB" = hwm_fit - hwm_data is the memory the fit
# needed beyond the data (an upper bound: the high-water mark cannot go
# down, so it is the peak of the fit only if the fit exceeds the peak of
# generating the data).  MB = 2^20 bytes.
#
# Settings.  sbcg: sbfit(x, y) with the default sbcg_control() (the budget
# of `samples` triples gives ceiling(samples / n_train) epochs, at least 20,
# so from about n = 2e5 rows the 20-epoch floor makes the budget grow with
# n; early stopping on the 10% validation rows may end it sooner; "size" is
# the number of epochs run).  grf: quantile_forest(X, Y) with its defaults
# (2000 trees; "size" is the number of trees) except num.threads, which is
# set to --threads for both methods (grf would otherwise take all cores).
# A forest keeps the training data and the training rows of every leaf, so
# its size grows with n; before a large n the script projects grf's memory
# from the largest n run so far (linearly in n) and skips the run, saying
# so, if the projection exceeds 80% of the memory available.

args <- commandArgs(TRUE)
options(width = 120)
opt <- function(name, default) {
  i <- which(args == paste0("--", name))
  if (!length(i)) return(default)
  if (i[1L] == length(args)) stop(sprintf("--%s needs a value", name), call. = FALSE)
  args[i[1L] + 1L]
}
num_list <- function(s) as.numeric(strsplit(s, ",", fixed = TRUE)[[1L]])
quick <- "--quick" %in% args
sizes <- num_list(opt("sizes", if (quick) "1e4,1e5" else "1e4,1e5,1e6"))
methods <- strsplit(opt("methods", "sbcg,grf"), ",", fixed = TRUE)[[1L]]
threads <- as.integer(opt("threads", "1"))
trees <- as.integer(opt("trees", "2000"))
samples <- as.numeric(opt("samples", format(sbcg::sbcg_control()$samples)))
seed <- as.integer(opt("seed", "1"))
if (anyNA(sizes) || any(sizes < 100)) stop("--sizes must be numbers >= 100", call. = FALSE)
if (!all(methods %in% c("sbcg", "grf"))) stop("--methods must be among sbcg, grf", call. = FALSE)
sizes <- sort(unique(round(sizes)))

file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg))) else "bench"
lib <- file.path(here, "lib")
if (dir.exists(lib)) .libPaths(c(lib, .libPaths()))
if ("grf" %in% methods && !requireNamespace("grf", quietly = TRUE)) {
  cat("grf is not installed (looked in", lib, "and the default library); sbcg only\n")
  methods <- setdiff(methods, "grf")
}
rscript <- file.path(R.home("bin"), "Rscript")

# ---- the worker: one fit in a fresh process ------------------------------
worker <- '
a <- commandArgs(TRUE)
method <- a[1]; n <- as.numeric(a[2]); seed <- as.integer(a[3])
threads <- as.integer(a[4]); trees <- as.integer(a[5]); samples <- as.numeric(a[6])
out <- a[7]; lib <- a[8]
if (dir.exists(lib)) .libPaths(c(lib, .libPaths()))
hwm <- function() {
  s <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", s)) / 1024
}
suppressPackageStartupMessages(if (method == "sbcg") library(sbcg) else library(grf))
set.seed(seed)
p <- 5
X <- matrix(runif(n * p, -3, 3), n, p, dimnames = list(NULL, paste0("x", 1:p)))
y <- X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + X[, 4] - X[, 5] +
  (1 + X[, 2]^2 + X[, 5]^2) / 2 * rnorm(n)
invisible(gc())
h0 <- hwm()
t0 <- proc.time()[["elapsed"]]
if (method == "sbcg") {
  fit <- sbfit(X, y, control = sbcg_control(samples = samples), threads = threads,
               seed = seed)
  size <- nrow(fit$history)
} else {
  fit <- quantile_forest(X, y, num.trees = trees, num.threads = threads, seed = seed)
  size <- fit[["_num_trees"]]
  if (is.null(size)) size <- trees
}
fit_s <- proc.time()[["elapsed"]] - t0
h1 <- hwm()
f <- tempfile(fileext = ".rds")
saveRDS(fit, f)
rds <- file.size(f) / 2^20
unlink(f)
obj <- as.numeric(object.size(fit)) / 2^20
saveRDS(data.frame(method = method, n = n, fit_s = fit_s, size = size,
                   rds_MB = rds, obj_MB = obj, hwm_data_MB = h0, hwm_fit_MB = h1,
                   fit_peak_MB = h1 - h0), out)
'
wfile <- tempfile("bigdata-worker-", fileext = ".R")
writeLines(worker, wfile)
on.exit(unlink(wfile), add = TRUE)

run_one <- function(method, n) {
  out <- tempfile(fileext = ".rds")
  on.exit(unlink(out))
  st <- system2(rscript, c("--vanilla", shQuote(wfile), method, format(n, scientific = FALSE),
                           seed, threads, trees, format(samples, scientific = FALSE),
                           shQuote(out), shQuote(lib)),
                stdout = "", stderr = "")
  if (st != 0L || !file.exists(out)) {
    cat(sprintf("  %s, n = %s: the worker failed (status %d)\n", method,
                format(n, big.mark = ","), st))
    return(NULL)
  }
  readRDS(out)
}

mem_available <- function() {
  m <- grep("^MemAvailable:", readLines("/proc/meminfo"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", m)) / 1024
}

# ---- header ------------------------------------------------------------
cpu <- readLines("/proc/cpuinfo")
model <- sub(".*: ", "", grep("^model name", cpu, value = TRUE)[1L])
memtot <- as.numeric(gsub("[^0-9]", "", grep("^MemTotal:", readLines("/proc/meminfo"),
                                                value = TRUE))) / 2^20
ver <- function(p) tryCatch(as.character(utils::packageVersion(p)), error = function(e) "-")
cat("Small models, big data: model m2 (p = 5), fit size, time and peak memory\n")
cat(sprintf("command: Rscript bench/bigdata.R %s\n", paste(args, collapse = " ")))
cat(sprintf("machine: %s, %d cores, %.1f GB RAM; %s\n", model, parallel::detectCores(),
            memtot, R.version.string))
cat(sprintf("packages: sbcg %s, grf %s; BLAS %s\n", ver("sbcg"), ver("grf"),
            extSoftVersion()[["BLAS"]]))
cat(sprintf("date: %s\n", format(Sys.time(), "%Y-%m-%d %H:%M %Z")))
cat(sprintf("settings: threads %d; sbcg sbcg_control(%s); grf quantile_forest() with num.trees %d%s\n\n",
            threads, if (samples == sbcg::sbcg_control()$samples) "" else sprintf("samples = %g", samples), trees,
            if (trees == 2000L) " (its default)" else ""))

# ---- runs ----------------------------------------------------------------
res <- list()
skipped <- character()
for (n in sizes) for (m in methods) {
  if (m == "grf") {
    prev <- Filter(function(r) r$method == "grf", res)
    if (length(prev)) {
      last <- prev[[length(prev)]]
      # data grow by 48 bytes a row, the forest's own memory linearly in n
      proj <- last$hwm_data_MB + 48 * (n - last$n) / 2^20 +
        (last$hwm_fit_MB - last$hwm_data_MB) * n / last$n
      if (proj > 0.8 * mem_available()) {
        skipped <- c(skipped, sprintf("grf at n = %s skipped: projected peak %.1f GB > 80%% of the %.1f GB available (--trees makes smaller forests)",
                                      format(n, big.mark = ","), proj / 1024,
                                      mem_available() / 1024))
        cat(" ", skipped[length(skipped)], "\n")
        next
      }
    }
  }
  cat(sprintf("  %-4s n = %9s ... ", m, format(n, big.mark = ",")))
  r <- run_one(m, n)
  if (is.null(r)) next
  cat(sprintf("%.1f s\n", r$fit_s))
  res[[length(res) + 1L]] <- r
}
if (!length(res)) stop("no run succeeded", call. = FALSE)
tab <- do.call(rbind, res)
tab <- tab[order(tab$method != "sbcg", tab$n), ]

cat("\nsize: epochs run (sbcg) or trees (grf); MB = 2^20 bytes\n")
out <- data.frame(method = tab$method, n = format(tab$n, big.mark = ",", scientific = FALSE),
                  fit_s = sprintf("%.1f", tab$fit_s), size = tab$size,
                  rds_MB = sprintf("%.3g", tab$rds_MB), obj_MB = sprintf("%.3g", tab$obj_MB),
                  hwm_data_MB = sprintf("%.0f", tab$hwm_data_MB),
                  hwm_fit_MB = sprintf("%.0f", tab$hwm_fit_MB),
                  fit_peak_MB = sprintf("%.0f", tab$fit_peak_MB))
print(out, row.names = FALSE, right = TRUE)
if (length(skipped)) cat("\n", paste(skipped, collapse = "\n"), "\n", sep = "")
cat(sprintf("\ndata in memory: %.1f MB per 10^5 rows (X and y as doubles)\n", 48e5 / 2^20))
