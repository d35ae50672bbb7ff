# Plain-R references for the network tests: the time map of
# nn_time_feature() in src/nn.c.

# The time the embedding sees: t, or the log-odds time
# (log(t / (1 - t)) + 14) / 28 clamped to [0, 1].
ref_time_feature <- function(t, map) {
  if (!identical(map, "logit")) return(t)
  L <- 14
  pmin(pmax((stats::qlogis(t) + L) / (2 * L), 0), 1)
}

# Evaluate expr with the kernel set "auto", "avx2" or "portable" (option
# sbcg.kernels).
with_kernels <- function(kernels, expr) {
  old <- options(sbcg.kernels = kernels)
  on.exit(options(old))
  force(expr)
}

# Evaluate expr with the sampler's network in "single" or "double"
# precision (option sbcg.precision).
with_precision <- function(precision, expr) {
  old <- options(sbcg.precision = precision)
  on.exit(options(old))
  force(expr)
}
