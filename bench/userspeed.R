# What a user waits for: default sbfit() and predict() of three quantiles,
# for each library given (an installed sbcg in each), each in its own R
# process, one after the other in one run, so that versions compare side
# by side:
#
#   Rscript bench/userspeed.R                     # the sbcg R finds
#   Rscript bench/userspeed.R lib-old lib-new     # two installed versions
#   Rscript bench/userspeed.R --quick lib-new     # one repetition of each case
#   Rscript bench/userspeed.R --rounds 4 --quick lib-a lib-b lib-c
#       # four rounds, each running every library once in turn: on a
#       # machine whose speed drifts, the versions then meet the same
#       # drift; figures are the medians over rounds, with their range
#   Rscript bench/userspeed.R --kernels avx2,portable lib-old lib-new
#       # each library with each kernel set in turn (options(sbcg.kernels);
#       # default "auto", the best the CPU has): the portable kernels are
#       # what CPUs without AVX2, and arm64, run
#
# Cases:
#   fit mcycle        sbfit(accel ~ times, MASS::mcycle), one thread
#   fit 30 rows       sbfit(y ~ x) on 30 rows of a linear law with spread
#                     growing in x (bench/smalldata.R's lin30), one thread
#   fit n=5000        sbfit() at n = 5000, p = 5 (the law of model m2 of
#                     bench/accuracy.R), one thread
#   predict ...       predict(fit, 500 rows, probs = c(0.05, 0.5, 0.95)) of
#                     those fits (default draws and steps), one and two threads;
#                     for the n = 5000 fit also with ndraws = 400, two threads
#   condstats ...     sbcondstats(fit, those 500 rows), its defaults (three
#                     quantiles, mean, SD and a density per row), two threads
#   cv mcycle         5-fold cross-validation of mcycle: fit and the three
#                     quantiles of the held-out rows, one thread
# Figures are medians over repetitions (fits: seeds 1-3; predictions: three
# calls), wall seconds, with the CPU seconds (user + system) of the process
# next to them: on a machine busy with other work, CPU time is the steadier
# figure for one thread.
args <- commandArgs(TRUE)
quick <- "--quick" %in% args
rounds <- 1L
if (length(k <- which(args == "--rounds"))) {
  rounds <- suppressWarnings(as.integer(args[k + 1L]))
  if (is.na(rounds) || rounds < 1L) stop("--rounds needs a whole number >= 1", call. = FALSE)
  args <- args[-c(k, k + 1L)]
}
kernels <- "auto"
if (length(k <- which(args == "--kernels"))) {
  kernels <- strsplit(args[k + 1L], ",", fixed = TRUE)[[1L]]
  if (anyNA(kernels) || !all(kernels %in% c("auto", "avx2", "portable")))
    stop("--kernels needs a list of auto, avx2, portable", call. = FALSE)
  args <- args[-c(k, k + 1L)]
}
libs <- setdiff(args, "--quick")
if (!length(libs)) libs <- NA_character_
reps <- if (quick) 1L else 3L
cat(sprintf("bench/userspeed.R, %s UTC; %s; load average %s\n", format(Sys.time(), tz = "UTC"),
            R.version.string, paste(readLines("/proc/loadavg", warn = FALSE), collapse = " ")))
cat(sprintf("CPU: %s\n\n", sub(".*: ", "", grep("^model name", readLines("/proc/cpuinfo"),
                                                 value = TRUE)[1L])))
set.seed(1)
n <- 5000
X <- matrix(runif(n * 5, -3, 3), n, 5, dimnames = list(NULL, paste0("x", 1:5)))
y <- X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + X[, 4] - X[, 5] +
  (1 + X[, 2]^2 + X[, 5]^2) / 2 * rnorm(n)
Xnew <- matrix(runif(500 * 5, -3, 3), 500, 5, dimnames = list(NULL, paste0("x", 1:5)))
fdat <- tempfile(fileext = ".rds")
saveRDS(list(X = X, y = y, Xnew = Xnew), fdat)
fout <- tempfile(fileext = ".rds")

code <- '
suppressPackageStartupMessages(library(sbcg%s))
options(sbcg.kernels = "%s")
dat <- readRDS("%s"); reps <- %d
tm <- function(expr) {
  c0 <- proc.time(); force(expr); d <- proc.time() - c0
  c(wall = d[["elapsed"]], cpu = d[["user.self"]] + d[["sys.self"]])
}
med <- function(M) c(wall = stats::median(M["wall", ]), cpu = stats::median(M["cpu", ]))
res <- list()
q3 <- c(0.05, 0.5, 0.95)
nd <- data.frame(times = seq(2.4, 57.6, length.out = 500))
fits <- list()
res[["fit mcycle"]] <- med(sapply(seq_len(reps), function(s) tm(suppressWarnings(
  fits[[s]] <<- sbfit(accel ~ times, data = MASS::mcycle, seed = s, threads = 1)))))
for (th in 1:2) res[[sprintf("predict mcycle, %%d thread%%s", th, if (th > 1) "s" else "")]] <-
  med(sapply(seq_len(reps), function(s) tm(predict(fits[[1]], nd, probs = q3, threads = th))))
res[["condstats mcycle, 2 threads"]] <-
  med(sapply(seq_len(reps), function(s) tm(sbcondstats(fits[[1]], nd, threads = 2))))
set.seed(1)
x30 <- runif(30, 0, 10)
d30 <- data.frame(x = x30, y = 2 + 0.5 * x30 + (0.2 + 0.2 * x30) * rnorm(30))
res[["fit 30 rows"]] <- med(sapply(seq_len(reps), function(s) tm(suppressWarnings(
  sbfit(y ~ x, data = d30, seed = s, threads = 1)))))
res[["fit n=5000, p=5"]] <- med(sapply(seq_len(min(reps, 2L)), function(s) tm(
  fits[[s]] <<- sbfit(dat$X, dat$y, seed = s, threads = 1))))
for (th in 1:2) res[[sprintf("predict n=5000 fit, %%d thread%%s", th, if (th > 1) "s" else "")]] <-
  med(sapply(seq_len(reps), function(s) tm(predict(fits[[1]], dat$Xnew, probs = q3, threads = th))))
res[["predict n=5000 fit, 400 draws, 2 threads"]] <- med(sapply(seq_len(reps), function(s)
  tm(predict(fits[[1]], dat$Xnew, probs = q3, ndraws = 400, threads = 2))))
res[["condstats n=5000 fit, 2 threads"]] <- med(sapply(seq_len(reps), function(s)
  tm(sbcondstats(fits[[1]], dat$Xnew, threads = 2))))
set.seed(1)
fold <- sample(rep(1:5, length.out = nrow(MASS::mcycle)))
res[["cv mcycle (5 folds)"]] <- tm(for (k in 1:5) {
  f <- suppressWarnings(sbfit(accel ~ times, data = MASS::mcycle[fold != k, ], seed = k, threads = 1))
  predict(f, MASS::mcycle[fold == k, ], probs = q3, threads = 1)
})
saveRDS(list(version = as.character(packageVersion("sbcg")), res = res), "%s")
'
label_of <- function(lib, kern)
  paste0(if (is.na(lib)) "default" else basename(lib), if (kern != "auto") sprintf(" [%s]", kern))
runs <- list()     # runs[[label]][[round]]: the figures of one process
versions <- list()
for (r in seq_len(rounds)) for (lib in libs) for (kern in kernels) {
  src <- sprintf(code, if (is.na(lib)) "" else sprintf(', lib.loc = "%s"', normalizePath(lib)),
                 kern, fdat, reps, fout)
  st <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(src)))
  if (st != 0 || !file.exists(fout)) stop("the run with library ", lib, " failed", call. = FALSE)
  rr <- readRDS(fout)
  unlink(fout)
  label <- label_of(lib, kern)
  runs[[label]][[r]] <- rr$res
  versions[[label]] <- rr$version
}
# per library and case: the median over rounds of wall and CPU seconds
out <- lapply(runs, function(rl) {
  cases <- names(rl[[1L]])
  setNames(lapply(cases, function(nm) {
    M <- sapply(rl, function(x) x[[nm]])
    c(wall = stats::median(M["wall", ]), cpu = stats::median(M["cpu", ]),
      lo = min(M["wall", ]), hi = max(M["wall", ]))
  }), cases)
})
if (rounds > 1L)
  cat(sprintf(paste("%d rounds, each library once per round in turn;",
                    "medians over rounds (range of wall seconds)\n\n"), rounds))
# the width of the cases' names
w <- max(nchar(unlist(lapply(out, names))))
for (label in names(out)) {
  cat(sprintf("%s (sbcg %s):\n", label, versions[[label]]))
  for (nm in names(out[[label]])) {
    x <- out[[label]][[nm]]
    cat(sprintf("  %-*s %7.2f s wall, %7.2f s CPU%s\n", w, nm, x[["wall"]], x[["cpu"]],
                if (rounds > 1L) sprintf("  (%.2f-%.2f)", x[["lo"]], x[["hi"]]) else ""))
  }
}
if (length(out) >= 2L) for (k in seq_along(out)[-1L]) {
  cat(sprintf("\nwall time ratio %s / %s:\n", names(out)[1L], names(out)[k]))
  for (nm in intersect(names(out[[1L]]), names(out[[k]])))
    cat(sprintf("  %-*s %6.2f\n", w, nm, out[[1L]][[nm]][["wall"]] / out[[k]][[nm]][["wall"]]))
}
