# Closed-form and sample CRPS shared by the bench scripts (realdata.R,
# smalldata.R, tinydata.R).

# CRPS of N(mu, sd^2) at y.
crps_norm <- function(y, mu, sd) {
  z <- (y - mu) / sd
  sd * (z * (2 * pnorm(z) - 1) + 2 * dnorm(z) - 1 / sqrt(pi))
}

# CRPS of mu + s T_df at y (df > 1; Jordan, Krueger and Lerch 2019, scoringRules).
crps_t <- function(y, mu, s, df) {
  z <- (y - mu) / s
  s * (z * (2 * pt(z, df) - 1) + 2 * dt(z, df) * (df + z^2) / (df - 1) -
         2 * sqrt(df) * beta(0.5, df - 0.5) / ((df - 1) * beta(0.5, df / 2)^2))
}

# The "fair" CRPS of the draws M (rows x m draws) at y, row by row:
# mean |X - y| - sum_{i != j} |X_i - X_j| / (2 m (m - 1)), unbiased for the
# CRPS of the law the draws come from, from the sorted draws.
crps_draws <- function(M, y) {
  m <- ncol(M)
  S <- t(apply(M, 1L, sort))
  w <- 2 * seq_len(m) - m - 1
  rowMeans(abs(M - y)) - rowSums(sweep(S, 2L, w, "*")) / (m * (m - 1))
}
