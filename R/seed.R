# Randomness: every random number of sbcg comes from R's generator.  A fit
# or a call of the sampling functions draws its C seeds from it with
# draw_seed(), under with_seed() when the user gives a `seed`.

# Runs with R's RNG set by `seed` (if not NULL) and restores the caller's
# RNG state afterwards, as stats:::simulate.lm does.
with_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  genv <- globalenv()
  had <- exists(".Random.seed", envir = genv, inherits = FALSE)
  if (had) old <- get(".Random.seed", envir = genv, inherits = FALSE)
  on.exit(if (had) assign(".Random.seed", old, envir = genv)
          else rm(".Random.seed", envir = genv))
  set.seed(seed)
  expr
}

# Two integers from R's RNG that key the C random streams.
draw_seed <- function() {
  as.integer(floor(stats::runif(2L) * 2147483647))
}
