# Memory of the draws a call returns: the R heap's peak during
# sbsample(format = "matrix"), sbcondstats(keep_draws = TRUE) and
# sbsample(format = "long") against the size of the draws themselves (the
# long data frame itself is five times that: the draws, the two
# predictors repeated for each draw, and integer .row and .draw columns).
#
#   Rscript bench/drawmemory.R                 # 30,000 rows x 1000 draws
#   Rscript bench/drawmemory.R --rows 10000    # fewer rows
#
# The fit: a two-predictor toy law (2000 rows, 30 epochs, the bridge
# without the predictors), whose size does not matter here.  Before each
# call gc(reset = TRUE) sets R's record of its peak heap use to the heap
# then in use; after the call, gc()'s "max used" of vector cells, less
# that baseline, is the call's peak ("peak_MB"), and "ratio" is that peak
# over the draws' size (rows x draws x 8 bytes).  Memory that the C code
# takes outside R's heap (a few megabytes of per-thread buffers) is not
# counted.  MB = 2^20 bytes.
suppressPackageStartupMessages(library(sbcg))
args <- commandArgs(TRUE)
opt <- function(name, default) {
  i <- match(paste0("--", name), args)
  if (is.na(i)) default else as.numeric(args[i + 1L])
}
rows <- opt("rows", 3e4)
ndraws <- opt("draws", 1000)
set.seed(1)
d <- data.frame(x1 = runif(2000), x2 = runif(2000))
d$y <- d$x1 + rnorm(2000, sd = 0.2)
fit <- sbfit(y ~ ., d, seed = 1, control = sbcg_control(epochs = 30, bridge_inputs = "none"))
nd <- data.frame(x1 = runif(rows), x2 = runif(rows))
size_mb <- rows * ndraws * 8 / 2^20
peak <- function(expr) {
  base <- gc(reset = TRUE)[2L, 2L]
  t0 <- proc.time()[[3L]]
  force(expr)
  c(peak_MB = gc()[2L, 6L] - base, seconds = proc.time()[[3L]] - t0)
}
res <- rbind(
  `sbsample(format = "matrix")` = peak(sbsample(fit, nd, ndraws = ndraws, seed = 1, format = "matrix")),
  `sbcondstats(keep_draws = TRUE)` = peak(sbcondstats(fit, nd, ndraws = ndraws, seed = 1,
                                                      keep_draws = TRUE, density = FALSE)),
  `sbsample(format = "long")` = peak(sbsample(fit, nd, ndraws = ndraws, seed = 1, format = "long")))
cat(sprintf("sbcg %s, %s UTC; %d rows x %d draws = %.0f MB of draws\n",
            format(utils::packageVersion("sbcg")), format(Sys.time(), "%Y-%m-%d %H:%M", tz = "UTC"),
            as.integer(rows), as.integer(ndraws), size_mb))
print(data.frame(call = rownames(res), peak_MB = round(res[, "peak_MB"]),
                 ratio = round(res[, "peak_MB"] / size_mb, 2), seconds = round(res[, "seconds"], 1)),
      row.names = FALSE)
