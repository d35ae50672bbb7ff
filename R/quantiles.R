# Quantiles of draws: type 7 sample quantiles of each row of a rows x
# draws matrix, and the names of their columns (q0.05, q0.5, ...), for
# sbcondstats(), predict(), sbscore() and score_draws().

# Column names for quantiles: q0.05, q0.5, ...; with 6 significant
# digits, or as many more as tell the levels apart (0.5 and 0.5000001
# made two columns q0.5, one of which data frames then lost).
quantile_names <- function(probs) {
  nm <- function(k) paste0("q", trimws(formatC(probs, format = "fg", digits = k)))
  for (k in 6:17) if (!anyDuplicated(out <- nm(k))) break
  out
}

# Rows of M sorted (non-finite values last).
row_sort <- function(M) {
  if (nrow(M) == 1L) matrix(sort(M, na.last = TRUE), 1L) else
    t(apply(M, 1L, sort, na.last = TRUE))
}

# The k-th smallest values of each row of M (nrow(M) x length(k)), by
# partial sorting: the same numbers as row_sort(M)[, k], at a fraction of
# the work when only a few are needed.  Rows with a missing value are
# sorted whole, missing values last, as in row_sort().  With `transposed`,
# of each column of M instead (draws x rows, each row's draws contiguous).
row_order_stats <- function(M, k, transposed = FALSE) {
  one <- function(x) {
    if (anyNA(x)) sort(x, na.last = TRUE)[k] else sort.int(x, partial = unique(k))[k]
  }
  out <- if (transposed) vapply(seq_len(ncol(M)), function(i) one(M[, i]), numeric(length(k)))
         else vapply(seq_len(nrow(M)), function(i) one(M[i, ]), numeric(length(k)))
  matrix(out, length(out) %/% length(k), length(k), byrow = TRUE)
}

# Quantiles (type 7) of each row of M; S = row_sort(M) if already known.
# With `discrete`, type 1 (the inverse of the empirical distribution
# function), so that quantiles of counts are counts.  With `transposed`,
# of each column of M.
row_quantiles <- function(M, probs, S = NULL, discrete = FALSE, transposed = FALSE) {
  n <- if (transposed) nrow(M) else ncol(M)
  pick <- function(j) {
    if (is.null(S)) row_order_stats(M, j, transposed) else S[, j, drop = FALSE]
  }
  if (discrete) {
    Q <- pick(pmin(n, pmax(1L, ceiling(n * probs - 1e-9 * n))))
    colnames(Q) <- quantile_names(probs)
    return(Q)
  }
  h <- (n - 1) * probs + 1
  lo <- floor(h)
  hi <- pmin(lo + 1L, n)
  f <- h - lo
  V <- pick(c(lo, hi))
  L <- V[, seq_along(lo), drop = FALSE]
  Q <- L + sweep(V[, length(lo) + seq_along(hi), drop = FALSE] - L, 2L, f, "*")
  Q[, f == 0] <- L[, f == 0, drop = FALSE]
  colnames(Q) <- quantile_names(probs)
  Q
}
