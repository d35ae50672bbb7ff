# Sampling from a fit: the sampler's grid, the one call of the C sampler
# (sample_raw(), per chunk) and the shape of the draws, shared by
# sbsample(), sbcondstats() and sbscore().

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
  s <- object$scaling
  yc <- as.double(s$y_center)
  ys <- as.double(s$y_scale)
  pre <- object$precondition
  if (!is.null(pre)) {
    # draws = y_center + y_scale (m(x) + s(x) (center + scale_factor Z)):
    # a centre and a scale per row
    m <- regression_net(pre$net, pre$location, X)
    S <- scale_net(pre, X)
    yc <- as.double(sweep(m + sweep(S, 2L, pre$center, "*"), 2L, ys, "*") +
                      rep(yc, each = nrow(X)))
    ys <- as.double(sweep(S, 2L, ys * pre$scale_factor, "*"))
  }
  res <- .Call(C_sbcg_sample, net_arch(net), as.double(net$freq),
               as.double(object$theta), X, as.double(rowid), as.integer(n),
               g$t, g$u, g$a, g$s, cseed, as.integer(block), threads, yc, ys)
  list(draws = res$draws, nonfinite = res$nonfinite)
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
