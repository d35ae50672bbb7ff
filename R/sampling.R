# Sampling from a fit: what sbsample(), sbcondstats() and sbscore() share.
# sampling_setup() is their one preamble: it checks the fit and the
# arguments they have in common, turns newdata into the standardised
# predictor matrix and builds the sampler's grid.  sampling_run() draws the
# seed, splits the rows into chunks (future.R) and samples each with the
# caller's chunk function, which calls sample_raw(), the one caller of the
# C sampler.  Each front end adds only its own arguments and what it makes
# of the draws.

# Checks the arguments that the sampling functions share and prepares what
# sampling_run() needs.  `n_min` is the smallest `n` (2 where an SD is
# computed); `held` says which draws are in memory at once: "all" when the
# caller returns them (the draw limit applies to all rows), "chunk" when it
# keeps only summaries (the limit applies to one chunk).  `response`: newdata
# must also hold the observed responses (sbscore()), returned as `Y`.
sampling_setup <- function(object, newdata, n, steps = NULL, method = NULL,
                           grid = NULL, threads, seed, chunk_size, verbose,
                           n_min = 1L, held = c("all", "chunk"),
                           response = FALSE) {
  held <- match.arg(held)
  check_fit(object)
  if (missing(newdata)) {
    if (response)
      stopf("'newdata' is missing: it must hold the predictors and the observed responses")
    stopf("'newdata' is missing: the fit keeps no copy of the training data")
  }
  n <- check_count(n, "n", n_min, 1e8)
  threads <- check_threads(threads)
  seed <- check_seed(seed)
  chunk_size <- check_chunk_size(chunk_size)
  verbose <- check_flag(verbose, "verbose")
  X <- newdata_matrix(object, newdata)
  Y <- if (response) newdata_response(object, newdata)
  d <- object$net$d
  check_draw_count(if (held == "all") nrow(X) else min(nrow(X), chunk_size), n, d)
  g <- sampler_grid(object, steps, method, grid)
  list(object = object, X = X, Y = Y, n = n, d = d, g = g, threads = threads,
       seed = seed, chunk_size = chunk_size, verbose = verbose)
}

# Draws the seed of the call (once, here, so that every chunk and every
# worker uses the same one), splits the rows of s$X into chunks, and
# returns list(parts, nrows): fun(chunk, object, n, g, cseed, threads, ...)
# for each chunk, in order, and the number of rows of each.  `extra(r)`
# adds per-row inputs (thresholds, observations) for the rows r of a chunk.
# Warns once if any chain ended in a non-finite value.
sampling_run <- function(s, fun, ..., extra = NULL) {
  cseed <- with_seed(s$seed, draw_seed())
  ck <- make_chunks(s$X, s$chunk_size, extra)
  parts <- run_chunks(ck$chunks, ck$rows, fun, object = s$object, n = s$n,
                      g = s$g, cseed = cseed, threads = s$threads, ...,
                      verbose = s$verbose)
  warn_nonfinite(parts, as.double(nrow(s$X)) * s$n)
  list(parts = parts, nrows = lengths(ck$rows))
}

# Times, drift coefficients and noise scales of the sampler.
sampler_grid <- function(object, steps = NULL, method = NULL, grid = NULL) {
  ctl <- object$control
  method <- check_method(if (is.null(method)) ctl$sampler else method)
  if (!is.null(grid)) {
    tg <- check_grid(grid, steps)
  } else {
    steps <- check_count(if (is.null(steps)) ctl$steps else steps, "steps", 1, 1e6)
    gp <- if (is.null(ctl$grid_power)) 1 else ctl$grid_power
    tg <- 1 - (1 - seq(0, steps) / steps)^gp
    tg[length(tg)] <- 1
  }
  K <- length(tg) - 1L
  t0 <- tg[-length(tg)]
  if (any(t0 >= 1)) stopf("'grid' must reach 1 at its last value only")
  h <- diff(tg)
  s <- if (method == "bridge") sqrt(h * (1 - tg[-1L]) / (1 - t0)) else sqrt(h)
  # em_denoise: the last step, when it ends at t = 1, lands on D itself
  if (method == "em_denoise" && tg[K + 1L] == 1) s[K] <- 0
  # Z[k+1] = u Z[k] + a F + s eps; see src/bridge.c
  if (identical(ctl$parameterization, "denoiser")) {
    a <- h / (1 - t0)
    u <- 1 - a
  } else {
    a <- h / sqrt(1 - t0)
    u <- rep(1, K)
  }
  list(t = t0, u = u, a = a, s = s, method = method, steps = K)
}

# Draws for the standardised rows X, keyed by global row ids `rowid`
# (0-based), in chain order (draw fastest, then row, then component), on
# the original scale: list(draws, nonfinite).  It does not warn about
# non-finite chains, so that chunked callers can warn once for all chunks.
sample_raw <- function(object, X, rowid, n, g, cseed, threads, block = 256L) {
  net <- object$net
  sc <- draw_scale(object, X)
  res <- .Call(C_sbcg_sample, net_arch(net), as.double(net$freq),
               as.double(object$theta), bridge_x(object, X), as.double(rowid), as.integer(n),
               g$t, g$u, g$a, g$s, cseed, as.integer(block), threads, sc$center,
               sc$scale, kernel_set())
  list(draws = res$draws, nonfinite = res$nonfinite)
}

# The predictors the bridge sees: X itself, or zeros for a bridge trained
# without them (its law is the same at every x; the location and scale
# carry the dependence on x).
bridge_x <- function(object, X) {
  if (isFALSE(object$bridge_x)) X[] <- 0
  X
}

shape_draws <- function(object, draws, nrow, n, format, rn = NULL) {
  d <- object$net$d
  N <- nrow * n
  if (format == "long") {
    out <- data.frame(.row = rep(seq_len(nrow), each = n),
                      .draw = rep(seq_len(n), times = nrow))
    for (k in seq_len(d)) out[[object$ynames[k]]] <- draws[(k - 1) * N + seq_len(N)]
    return(out)
  }
  if (d == 1L) {
    m <- t(matrix(draws, n, nrow))
    dimnames(m) <- list(rn, NULL)
    return(m)
  }
  a <- array(draws, c(n, nrow, d))
  a <- aperm(a, c(2L, 1L, 3L))
  dimnames(a) <- list(rn, NULL, object$ynames)
  a
}
