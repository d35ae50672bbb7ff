# Randomness: every random number of sbcg comes from R's generator.  A fit
# or a call of the sampling functions draws its C seeds from it with
# draw_seed(), under with_seed() when the user gives a `seed`.

# Runs with R's RNG set by `seed` (if not NULL) and restores the caller's
# RNG state afterwards, as stats:::simulate.lm does.  The seed always
# selects R's default generators (Mersenne-Twister, Inversion,
# Rejection), so that a seed gives the same fit and draws whatever
# RNGkind() the session uses (parallel work often sets L'Ecuyer-CMRG);
# the caller's generators come back with its state.
with_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  genv <- globalenv()
  had <- exists(".Random.seed", envir = genv, inherits = FALSE)
  if (had) old <- get(".Random.seed", envir = genv, inherits = FALSE)
  kinds <- RNGkind()
  on.exit({
    # (re-seeds, which the caller's state then overwrites; the warning
    # of a "Rounding" sampler was the caller's to see when it chose it)
    suppressWarnings(RNGkind(kinds[1L], kinds[2L], kinds[3L]))
    if (had) assign(".Random.seed", old, envir = genv)
    else rm(".Random.seed", envir = genv)
  })
  set.seed(seed, kind = "Mersenne-Twister", normal.kind = "Inversion",
           sample.kind = "Rejection")
  expr
}

# Two integers from R's RNG that key the C random streams.
draw_seed <- function() {
  as.integer(floor(stats::runif(2L) * 2147483647))
}

# A number in [0, 1) per row fixed by one half `c` of a call's seed and
# the row's id (rowid, from 0): frac(c / (2^31 - 1) + (rowid + 1) step),
# a Weyl sequence over the rows for an irrational `step`, so that rows of
# any subset spread evenly over [0, 1).  Different steps give numbers that
# do not follow each other (tie_breaks(), deal_offsets(), sample_linear()).
seed_phase <- function(c, rowid, step) (c / 2147483647 + (rowid + 1) * step) %% 1
