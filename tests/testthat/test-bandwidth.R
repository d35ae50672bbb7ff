# Sheather and Jones' bandwidth of sbcondstats()'s densities
# (sj_bandwidth(), src/bandwidth.c) against stats::bw.SJ(), which it
# computes faster.

# Pairs of values by the distance between their bins, counted pair by pair.
pairs_by_distance <- function(w) {
  b <- rep(seq_along(w), w)
  D <- abs(outer(b, b, "-"))
  tabulate(D[upper.tri(D)] + 1L, length(w))
}

test_that("the pair counts are those of every pair of draws", {
  set.seed(1)
  for (w in list(c(3L, 0L, 1L, 2L), c(0L, 0L, 5L), 7L, c(1L, 1L), rpois(40, 2),
                 c(rep(0L, 20), 4L, rep(0L, 19), 3L))) {
    cnt <- .Call(sbcg:::C_sbcg_sj_counts, as.integer(w))
    expect_identical(cnt, as.double(pairs_by_distance(w)), info = deparse(w))
  }
})

test_that("the bandwidth is stats::bw.SJ()'s, with both methods", {
  set.seed(2)
  samples <- list(
    normal = rnorm(1000),
    negative = rnorm(1000, -50, 3),
    skewed = rexp(1000),
    two_modes = c(rnorm(500, -2.5, 0.27), rnorm(500, 2.5, 0.27)),
    heavy = rt(1500, 2),
    rounded = round(rnorm(1000), 2),
    uniform = runif(1000),
    lognormal = rlnorm(2000, 0, 2),
    just_binned = rnorm(501)
  )
  for (nm in names(samples)) for (m in c("ste", "dpi")) {
    v <- samples[[nm]]
    expect_equal(sbcg:::sj_bandwidth(v, m), stats::bw.SJ(v, method = m),
                 tolerance = 1e-10, info = paste(nm, m))
  }
  # at most 500 draws: stats::bw.SJ() itself
  v <- rnorm(500)
  expect_identical(sbcg:::sj_bandwidth(v), stats::bw.SJ(v))
})

test_that("draws too sparse for the rule fail as in stats::bw.SJ()", {
  v <- c(rep(0, 999), 1)
  expect_error(stats::bw.SJ(v), "too sparse")
  expect_error(sbcg:::sj_bandwidth(v), "too sparse")
  expect_error(sbcg:::sj_bandwidth(rep(2, 1000)))
  # and sbcondstats()'s bandwidth falls back to bw.nrd0() on them
  expect_equal(sbcg:::kde_bw(v, "SJ", 1), stats::bw.nrd0(v))
})

test_that("the C routines reject what they cannot count", {
  expect_error(.Call(sbcg:::C_sbcg_sj_counts, c(1, 2)), "integer vector")
  expect_error(.Call(sbcg:::C_sbcg_sj_counts, integer()), "between 1 and")
  expect_error(.Call(sbcg:::C_sbcg_sj_counts, c(1L, NA)), "not NA or negative")
  expect_error(.Call(sbcg:::C_sbcg_sj_counts, c(1L, -1L)), "not NA or negative")
  cnt <- c(0, 1, 2)
  expect_error(.Call(sbcg:::C_sbcg_sj_psi, 1L, 0.1, cnt, 1, 4L), "'n'")
  expect_error(.Call(sbcg:::C_sbcg_sj_psi, 10L, 0, cnt, 1, 4L), "'d'")
  expect_error(.Call(sbcg:::C_sbcg_sj_psi, 10L, 0.1, cnt, NA_real_, 4L), "'h'")
  expect_error(.Call(sbcg:::C_sbcg_sj_psi, 10L, 0.1, cnt, 1, 5L), "'order'")
  expect_error(.Call(sbcg:::C_sbcg_sj_psi, 10L, 0.1, 1:3, 1, 4L), "'cnt'")
  expect_true(is.finite(.Call(sbcg:::C_sbcg_sj_psi, 10L, 0.1, cnt, 1, 6L)))
})
