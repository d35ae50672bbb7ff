# Wall and CPU time of a default sbfit() at n = 5000, p = 5 (the law of
# model m2 of bench/accuracy.R), one thread, two seeds, for each library
# given (an installed sbcg in each), one after the other in one run, so
# that versions can be compared side by side:
#
#   Rscript bench/fittime.R                       # the sbcg R finds
#   Rscript bench/fittime.R lib-old lib-new       # two installed versions
#
# On a machine busy with other work, the CPU time is the steadier figure.
libs <- commandArgs(TRUE)
if (!length(libs)) libs <- NA_character_
set.seed(1)
n <- 5000
X <- matrix(runif(n * 5, -3, 3), n, 5)
y <- X[, 1]^2 + exp(X[, 2] + X[, 3] / 4) + X[, 4] - X[, 5] +
  (1 + X[, 2]^2 + X[, 5]^2) / 2 * rnorm(n)
cat(sprintf("bench/fittime.R, %s UTC; load average %s\n", format(Sys.time(), tz = "UTC"),
            paste(readLines("/proc/loadavg", warn = FALSE), collapse = " ")))
for (lib in libs) {
  # each library in its own R process, so that two versions never share a session
  code <- sprintf(
    'library(sbcg%s); X <- readRDS("%s"); y <- readRDS("%s")
     t <- sapply(1:2, function(i) { c0 <- proc.time(); sbfit(X, y, seed = i, threads = 1)
       d <- proc.time() - c0; c(d[["user.self"]] + d[["sys.self"]], d[["elapsed"]]) })
     cat(sprintf("sbcg %%s from %%s: CPU %%s s, wall %%s s (seeds 1, 2)\\n", packageVersion("sbcg"),
                 dirname(find.package("sbcg")), paste(round(t[1, ], 1), collapse = ", "),
                 paste(round(t[2, ], 1), collapse = ", ")))',
    if (is.na(lib)) "" else sprintf(', lib.loc = "%s"', normalizePath(lib)),
    fx <- tempfile(fileext = ".rds"), fy <- tempfile(fileext = ".rds"))
  saveRDS(X, fx)
  saveRDS(y, fy)
  system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)))
}
