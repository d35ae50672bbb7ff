#' Conditional means, SDs, quantiles and densities
#'
#' `sbcondstats()` draws `n` samples of \eqn{Y | X = x} for every row of
#' `newdata` with [sbsample()] and summarises them: the sample mean and
#' standard deviation, the quantiles at `probs` (type 7 of
#' [stats::quantile()]) and a kernel density estimate from
#' [stats::density()].
#'
#' @inheritParams sbsample
#' @param probs probabilities of the quantiles to report.
#' @param density whether to compute the density estimates.
#' @param bw,adjust,density_n bandwidth rule, its multiplier and the number
#'   of grid points of each density estimate, as in [stats::density()].
#' @return A data frame of class `"sbcondstats"` with one row per row of
#'   `newdata` (and per response component, in column `.response`, when the
#'   response has several): `.row`, `mean`, `sd`, one column per value of
#'   `probs` named `q` followed by the probability (`q0.05`, `q0.5`, ...),
#'   and, if `density = TRUE`, a list column `density` of objects of class
#'   `"density"`, which `plot()` and `lines()` draw.  Its print method leaves
#'   out the density column; its plot method overlays the densities.
#' @seealso [predict.sbfit()] for the means or quantiles alone.
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(500, -2, 2))
#' d$y <- d$x + (0.3 + 0.2 * abs(d$x)) * rnorm(500)
#' fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 20), seed = 1)
#' st <- sbcondstats(fit, data.frame(x = c(-1, 0, 1)), seed = 2)
#' st
#' plot(st)
#' @export
sbcondstats <- function(object, newdata, n = object$control$draws,
                        probs = c(0.05, 0.5, 0.95), steps = NULL,
                        method = NULL, density = TRUE, bw = "nrd0",
                        adjust = 1, density_n = 512L, threads = 1L,
                        seed = NULL, ...) {
  check_dots(...)
  check_fit(object)
  if (missing(newdata)) stopf("'newdata' is missing: the fit keeps no copy of the training data")
  n <- check_count(n, "n", 2, 1e8)
  probs <- check_probs(probs)
  density <- check_flag(density, "density")
  adjust <- check_number(adjust, "adjust", 0, Inf, lo_open = TRUE, hi_open = TRUE)
  density_n <- check_count(density_n, "density_n", 2, 1e6)
  bw <- check_bw(bw)
  threads <- check_threads(threads)
  seed <- check_seed(seed)
  X <- newdata_matrix(object, newdata)
  check_draw_count(nrow(X), n, object$net$d)
  g <- sampler_grid(object, steps, method)
  cseed <- with_seed(seed, draw_seed())
  draws <- sample_rows(object, X, seq_len(nrow(X)) - 1, n, g, cseed, threads)
  out <- summarise_draws(draws, nrow(X), n, object$ynames, probs, density,
                         bw, adjust, density_n)
  attr(out, "n") <- n
  attr(out, "probs") <- probs
  attr(out, "steps") <- g$steps
  attr(out, "method") <- g$method
  out
}

# Column names for quantiles: q0.05, q0.5, ...
quantile_names <- function(probs) {
  paste0("q", trimws(formatC(probs, format = "fg", digits = 6)))
}

# Quantiles (type 7) of each row of M.
row_quantiles <- function(M, probs) {
  n <- ncol(M)
  # rows with non-finite draws keep their length (NA sorted last)
  S <- if (nrow(M) == 1L) matrix(sort(M, na.last = TRUE), 1L) else
    t(apply(M, 1L, sort, na.last = TRUE))
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

summarise_draws <- function(draws, nrow, n, ynames, probs, density, bw,
                            adjust, density_n) {
  d <- length(ynames)
  N <- nrow * n
  parts <- lapply(seq_len(d), function(k) {
    M <- t(matrix(draws[(k - 1) * N + seq_len(N)], n, nrow))
    mu <- rowMeans(M)
    sdv <- sqrt(rowSums((M - mu)^2) / (n - 1))
    df <- data.frame(.row = seq_len(nrow))
    if (d > 1L) df$.response <- ynames[k]
    df$mean <- mu
    df$sd <- sdv
    Q <- row_quantiles(M, probs)
    bad <- rowSums(!is.finite(M)) > 0
    if (any(bad)) {
      df$mean[bad] <- NA_real_
      df$sd[bad] <- NA_real_
      Q[bad, ] <- NA_real_
    }
    for (j in seq_along(probs)) df[[colnames(Q)[j]]] <- Q[, j]
    if (density) {
      dens <- lapply(seq_len(nrow), function(i) {
        v <- M[i, ]
        if (!all(is.finite(v))) return(NULL)
        de <- stats::density(v, bw = bw, adjust = adjust, n = density_n)
        de$data.name <- sprintf("row %d, %s", i, ynames[k])
        de$call <- quote(sbcondstats())
        de
      })
      df$density <- I(dens)
    }
    df
  })
  out <- do.call(rbind, parts)
  if (d > 1L) out <- out[order(out$.row), , drop = FALSE]
  rownames(out) <- NULL
  class(out) <- c("sbcondstats", "data.frame")
  out
}

#' @rdname sbcondstats
#' @param x an `"sbcondstats"` object.
#' @param digits number of significant digits to print.
#' @export
print.sbcondstats <- function(x, digits = 4L, ...) {
  df <- as.data.frame(unclass_stats(x))
  has_dens <- "density" %in% names(df)
  df$density <- NULL
  print(df, digits = digits, ...)
  if (has_dens)
    cat("(density estimates in column 'density'; plot() draws them)\n")
  invisible(x)
}

unclass_stats <- function(x) {
  class(x) <- "data.frame"
  x
}

#' @rdname sbcondstats
#' @param rows which rows of `x` to draw (at most 8 by default).
#' @param legend whether to add a legend.
#' @export
plot.sbcondstats <- function(x, rows = seq_len(min(nrow(x), 8L)),
                             legend = TRUE, ...) {
  legend <- check_flag(legend, "legend")
  if (!is.data.frame(x) || !"density" %in% names(x) || !is.list(x$density))
    stopf("'x' has no density column: call sbcondstats() with density = TRUE")
  nr <- length(x$density)
  if (!is.numeric(rows) || !length(rows) || anyNA(rows) || any(rows < 1) || any(rows > nr))
    stopf("'rows' must be row numbers of 'x' (1 to %d)", nr)
  dens <- x$density[rows]
  keep <- !vapply(dens, is.null, NA)
  dens <- dens[keep]
  rows <- rows[keep]
  if (!length(dens)) stopf("the selected rows have no density estimate")
  xr <- range(unlist(lapply(dens, `[[`, "x")))
  yr <- c(0, max(unlist(lapply(dens, `[[`, "y"))))
  cols <- grDevices::hcl.colors(max(2L, length(dens)), "Dark 3")[seq_along(dens)]
  resp <- if (".response" %in% names(x)) paste0(" ", x$.response[rows]) else ""
  graphics::plot(NA, xlim = xr, ylim = yr, xlab = "y", ylab = "density",
                 main = "Estimated conditional densities", ...)
  for (i in seq_along(dens))
    graphics::lines(dens[[i]]$x, dens[[i]]$y, col = cols[i], lwd = 2)
  if (legend)
    graphics::legend("topright", legend = paste0("row ", x$.row[rows], resp),
                     col = cols, lwd = 2, bty = "n")
  invisible(x)
}
