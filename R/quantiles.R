# Quantiles of draws: type 7 sample quantiles of each row of a rows x
# draws matrix, and the names of their columns (q0.05, q0.5, ...), for
# sbcondstats(), predict(), sbscore() and score_draws().

# Column names for quantiles: q0.05, q0.5, ...
quantile_names <- function(probs) {
  paste0("q", trimws(formatC(probs, format = "fg", digits = 6)))
}

# Rows of M sorted (non-finite values last).
row_sort <- function(M) {
  if (nrow(M) == 1L) matrix(sort(M, na.last = TRUE), 1L) else
    t(apply(M, 1L, sort, na.last = TRUE))
}

# Quantiles (type 7) of each row of M; S = row_sort(M) if already known.
# With `discrete`, type 1 (the inverse of the empirical distribution
# function), so that quantiles of counts are counts.
row_quantiles <- function(M, probs, S = row_sort(M), discrete = FALSE) {
  n <- ncol(S)
  if (discrete) {
    j <- pmin(n, pmax(1L, ceiling(n * probs - 1e-9 * n)))
    Q <- S[, j, drop = FALSE]
    colnames(Q) <- quantile_names(probs)
    return(Q)
  }
  h <- (n - 1) * probs + 1
  lo <- floor(h)
  hi <- pmin(lo + 1L, n)
  f <- h - lo
  Q <- S[, lo, drop = FALSE] +
    sweep(S[, hi, drop = FALSE] - S[, lo, drop = FALSE], 2L, f, "*")
  Q[, f == 0] <- S[, lo[f == 0], drop = FALSE]
  colnames(Q) <- quantile_names(probs)
  Q
}
