# sbscore() and score_draws(): proper scores (CRPS, energy score, pinball
# loss) and calibration (PIT, interval coverage) of draws against observed
# responses, and the print, summary and plot methods of the scores.
# sbscore() samples through sampling.R, score_draws() takes any method's
# draws; both score through score_core().

#' Score a fit on data with observed responses
#'
#' `sbscore()` draws `ndraws` samples of \eqn{Y | X = x} at every row of
#' `newdata`, which must also hold the observed responses, and scores the
#' draws against the observations with proper scoring rules and calibration
#' checks.  `score_draws()` computes the same scores from any method's draws
#' (a quantile regression forest's, engression's, a bootstrap's), so that
#' methods can be compared on the same footing.
#'
#' For each row (and, for several responses, each component) with
#' observation \eqn{y} and draws \eqn{X_1, \dots, X_m}:
#' * `crps`, the continuous ranked probability score of the empirical
#'   distribution of the draws,
#'   \deqn{\frac1m \sum_j |X_j - y| - \frac1{2m^2} \sum_{j,k} |X_j - X_k|,}{mean |X_j - y| - sum_{j,k} |X_j - X_k| / (2 m^2),}
#'   the "edf" estimator, the default of `scoringRules::crps_sample()`,
#'   computed in \eqn{O(m \log m)}{O(m log m)} from the sorted draws
#'   (\eqn{\sum_{j,k}|X_j - X_k| = 2\sum_i (2i - m - 1) X_{(i)}}{sum |X_j - X_k| = 2 sum_i (2i - m - 1) X_(i)}).
#'   Smaller is better; it is in the units of \eqn{y}.
#' * `pinball<p>` for each `p` in `probs`, the pinball (quantile) loss
#'   \eqn{(y - q_p)(p - 1\{y < q_p\})}{(y - q) (p - [y < q])} of the type 7
#'   sample quantile \eqn{q_p}{q} of the draws (type 1 for a count fit, as
#'   in [sbcondstats()], and for `score_draws(discrete = TRUE)`).  Smaller
#'   is better.
#' * `pit`, the probability integral transform
#'   \eqn{(r + 1/2) / (m + 1)}{(r + 1/2) / (m + 1)}, \eqn{r} the number of
#'   draws below \eqn{y} (ties count one half): the mid-point of the rank
#'   cell of \eqn{y} among the draws.  For a calibrated forecast its
#'   distribution is uniform on (0, 1).  The draws of a count fit
#'   (`support = "count"`) often equal \eqn{y}, and the mid-point of those
#'   ties is not uniform even when the law is right; there the ties are
#'   broken by a number \eqn{u} in (0, 1) fixed for each row (from the
#'   call's seed): \eqn{(r + u (e + 1)) / (m + 1)}{(r + u (e + 1)) / (m + 1)},
#'   \eqn{e} the draws equal to \eqn{y}, the randomised PIT, uniform for a
#'   calibrated count forecast.  The same holds for a law cut at 0
#'   (`support = "auto"` on a response never below 0, see [sbfit()]),
#'   whose draws below 0 are all 0.  `score_draws()` takes the mid-point unless
#'   `discrete = TRUE`, which breaks the ties the same way, with fixed
#'   numbers spread evenly over the rows.
#' * `cover<L>` for each `L` in `level`, whether \eqn{y} lies in the central
#'   interval from the \eqn{(1 - L)/2} to the \eqn{(1 + L)/2} sample quantile
#'   (type 7) of the draws.  For a calibrated forecast of a continuous
#'   response its mean is about \eqn{L (m - 1)/(m + 1)}{L (m - 1) / (m + 1)},
#'   which tends to `L` as the number of draws grows.  The closed interval
#'   between two quantiles of a count law, whose ends are atoms, covers
#'   more than `L` even when the law is right; for a count fit, and one
#'   cut at 0, `cover<L>` is therefore whether the randomised `pit` lies in
#'   \eqn{[(1 - L)/2, (1 + L)/2]}{[(1 - L)/2, (1 + L)/2]}, which a
#'   calibrated forecast does with chance `L` (the held-out coverage that
#'   `print()` of the fit shows is read the same way).  `score_draws()`
#'   reads the interval unless `discrete = TRUE`.
#' * `es`, for several response components only: the energy score of the
#'   joint draws, \eqn{\frac1m \sum_j \|X_j - y\| - \frac1{2m^2}
#'   \sum_{j,k} \|X_j - X_k\|}{mean ||X_j - y|| - sum_{j,k} ||X_j - X_k|| /
#'   (2 m^2)} with the Euclidean norm (the estimator of
#'   `scoringRules::es_sample()`), repeated on each component's line of the
#'   row so that its mean over lines is its mean over rows.  The energy
#'   score of one component is its CRPS.
#'
#' The scores depend on the scale of the response: compare methods on the
#' same data only.
#'
#' @inheritParams sbcondstats
#' @param newdata a data frame holding the predictors and the observed
#'   responses (under the names of the fit's formula, or the column names of
#'   `y` for fits from a matrix), one row per observation to score (none
#'   gives a result of no rows).
#' @param probs probabilities of the quantiles whose pinball loss is
#'   reported.
#' @param level nominal levels, in (0, 1), of the central intervals whose
#'   coverage is reported (called `levels` in sbcg 0.1).
#' @param levels the old name of `level`, still accepted with a message.
#' @param ... not used, and unknown arguments are an error; for `plot()`,
#'   graphical parameters (`main`, `xlab`, `xlim`, ...), which replace the
#'   defaults.
#' @return A data frame of class `"sbscore"` with one line per row of
#'   `newdata` (and response component, in column `.response`, for several):
#'   `.row`, `.response`, `y` (the observation), `crps`, `pinball<p>`, `pit`,
#'   `cover<L>` and, for several components, `es`.  Lines whose draws are
#'   not all finite (a diverging fit) hold `NA`.  A row of `newdata` that
#'   observes some of several responses is scored on those (unless
#'   `na.action` is [stats::na.omit()] or [stats::na.fail()]); its missing
#'   components and its `es` are `NA`.  Observations outside the fit's
#'   `support` are scored too, with a warning that names them.  Attributes
#'   `n` (draws per
#'   row), `probs`, `levels` and `ynames`.  Its `print()` shows the average
#'   scores, `summary()` adds their standard errors, the coverage table and
#'   the PIT summary, and `plot()` draws the PIT histogram and the
#'   nominal against the empirical coverage.
#' @seealso [sbcondstats()] for the statistics themselves.
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(600, -2, 2))
#' d$y <- d$x + (0.3 + 0.2 * abs(d$x)) * rnorm(600)
#' train <- d[1:500, ]
#' test <- d[501:600, ]
#' # a toy budget so that the example runs in a second; real fits keep the default
#' fit <- sbfit(y ~ x, train, control = sbcg_control(epochs = 20), seed = 1)
#' sc <- sbscore(fit, test, ndraws = 100, seed = 2)
#' sc
#' summary(sc)
#' plot(sc)
#' # the same scores for another method's draws, here the true law
#' truth <- outer(test$x, rep(1, 100)) +
#'   (0.3 + 0.2 * abs(test$x)) * matrix(rnorm(100 * 100), 100)
#' score_draws(truth, test$y)
#' @export
sbscore <- function(object, newdata, ndraws = object$control$draws,
                    probs = c(0.05, 0.5, 0.95),
                    level = c(0.5, 0.8, 0.9, 0.95), steps = NULL,
                    method = NULL, threads = sbcg_threads(), seed = NULL,
                    chunk_size = 10000L, verbose = FALSE, na.action = stats::na.pass,
                    ..., n, levels) {
  check_dots(...)
  nname <- renamed_arg("sbscore", "ndraws", "n", !missing(ndraws), !missing(n))
  if (!missing(n)) ndraws <- n
  lname <- renamed_arg("sbscore", "level", "levels", !missing(level), !missing(levels))
  if (!missing(levels)) level <- levels
  s <- sampling_setup(object, newdata, ndraws, steps, method, threads = threads,
                      seed = seed, chunk_size = chunk_size, verbose = verbose,
                      n_min = 2L, held = "chunk", response = TRUE,
                      na.action = na.action, n_name = nname)
  probs <- check_probs(probs)
  levels <- check_levels(level, lname)
  outside <- outside_support(object$support, s$Yall)
  if (!is.null(outside))
    warnf("'newdata': %s %s outside the fit's support (%s needs %s) in row(s) %s: the fitted law gives such values no chance, and their scores say only how far off they are",
          outside$responses, if (length(outside$cols) > 1L) "lie" else "lies",
          support_text(object$support), outside$what, outside$rows)
  r <- sampling_run(s, score_chunk, probs = probs, levels = levels,
                    extra = function(rows) list(y = s$Y[rows, , drop = FALSE]))
  out <- bind_chunks(lapply(r$parts, `[[`, "scores"), c("sbscore", "data.frame"))
  out <- pad_rows(out, s, object$ynames)
  # a skipped row still shows its observation
  out$y <- as.vector(t(s$Yall))[(out$.row - 1L) * s$d +
                                  if (s$d > 1L) match(out$.response, object$ynames) else 1L]
  # newdata's row names, so that scores can be matched to its rows (also
  # when folds' scores are bound together)
  rn <- newdata_rownames(newdata)[out$.row]
  attr(out, "row.names") <- if (s$d > 1L) paste(rn, out$.response, sep = ".") else rn
  structure(out, n = s$n, probs = probs, levels = levels, ynames = object$ynames,
            steps = s$g$steps, method = s$g$method)
}

# One chunk of sbscore().
score_chunk <- function(ch, object, n, g, cseed, threads, probs, levels, progress = NULL) {
  r <- sample_rows(object, ch$X, ch$rowid, n, g, cseed, threads, progress = progress)
  nr <- nrow(ch$X)
  N <- nr * n
  # each component's draws as rows of n, filled row by row (one copy)
  Ms <- lapply(seq_len(object$net$d), function(k)
    matrix(r$draws[(k - 1) * N + seq_len(N)], nr, n, byrow = TRUE))
  count <- is_count_fit(object)
  # (a law cut at 0 has an atom there, whose ties with y = 0 are broken as
  # a count law's)
  atoms <- count || is.numeric(object$support$floor)
  list(scores = score_core(Ms, ch$y, probs, levels, object$ynames, ch$rowid + 1,
                          discrete = count,
                          u = if (atoms) tie_breaks(cseed, ch$rowid)),
       nonfinite = r$nonfinite, bad_rows = r$bad_rows,
       far_rows = r$far_rows)
}

# The numbers in (0, 1) that break the ties of a count fit's PITs in
# sbscore(), one per row: frac(c + (rowid + 1) phi), phi the golden ratio's
# conjugate and c from the call's seed.  They depend on the row alone, not
# on the chunks, and are spread evenly over (0, 1) whatever the rows; being
# fixed before the draws, they are independent of them and of y.
tie_breaks <- function(cseed, rowid) {
  seed_phase(cseed[1L], rowid, 0.6180339887498949)
}

#' @rdname sbscore
#' @param draws draws of any method: a numeric matrix with one row per
#'   observation and one column per draw; for several response components
#'   an array rows x draws x components (as [sbsample()] with
#'   `format = "matrix"` returns); a plain vector for a single observation.
#' @param y the observations: a numeric vector with one value per row of
#'   `draws`; for several components a matrix rows x components.
#' @param discrete whether the draws come from a discrete law, such as
#'   counts (whole-number draws): then the quantiles are of type 1 and the
#'   PIT breaks the ties of an observation with the draws at random, with
#'   the coverage read from it, as `sbscore()` scores a fit with
#'   `support = "count"`.  Use it to score another method's count draws on
#'   the same footing: without it, ties count as half below, and the
#'   closed interval between two quantiles that sit on atoms covers more
#'   than its level even when the law is right.  The tie-breaking numbers
#'   are fixed (an even spread over the rows), so the scores are
#'   reproducible.
#' @export
score_draws <- function(draws, y, probs = c(0.05, 0.5, 0.95),
                        level = c(0.5, 0.8, 0.9, 0.95), discrete = FALSE, ..., levels) {
  check_dots(...)
  discrete <- check_flag(discrete, "discrete")
  if (missing(draws)) stopf("'draws' is missing")
  if (missing(y)) stopf("'y' is missing: score_draws() needs the observations")
  probs <- check_probs(probs)
  lname <- renamed_arg("score_draws", "level", "levels", !missing(level), !missing(levels))
  levels <- check_levels(if (missing(levels)) level else levels, lname)
  if (is.data.frame(y)) {
    if (!all(vapply(y, is.numeric, NA))) stopf("'y' must be numeric")
    y <- as.matrix(y)
  }
  if (!is.numeric(y) || is.complex(y) || length(dim(y)) > 2L)
    stopf("'y' must be a numeric vector or matrix")
  if (!length(y)) stopf("'y' must not be empty")
  if (anyNA(y) || any(!is.finite(y)))
    stopf("'y' has missing or infinite values in row(s) %s",
          paste(utils::head(which(if (is.matrix(y)) rowSums(!is.finite(y)) > 0 else !is.finite(y)), 5L),
                collapse = ", "))
  if (!is.numeric(draws) || is.complex(draws) || length(dim(draws)) > 3L)
    stopf("'draws' must be a numeric matrix (rows x draws) or array (rows x draws x components)")
  if (is.null(dim(draws))) {
    if (length(y) != 1L)
      stopf("'draws' is a vector, so 'y' must be a single observation; for several observations give 'draws' as a matrix with one row each")
    draws <- matrix(draws, 1L)
  }
  dd <- dim(draws)
  if (length(dd) == 2L) dd <- c(dd, 1L)
  if (dd[1L] < 1L || dd[2L] < 1L || dd[3L] < 1L) stopf("'draws' must not be empty")
  if (anyNA(draws) || any(!is.finite(draws))) stopf("'draws' must be finite (no NA, NaN or Inf)")
  Y <- if (is.matrix(y)) y else matrix(y, ncol = 1L)
  storage.mode(Y) <- "double"
  if (nrow(Y) != dd[1L] || ncol(Y) != dd[3L])
    stopf("'draws' and 'y' do not match: 'draws' has %d row(s) and %d component(s), 'y' %d observation(s) of %d component(s)",
          dd[1L], dd[3L], nrow(Y), ncol(Y))
  ynames <- if (length(dim(draws)) == 3L) dimnames(draws)[[3L]]
  if (is.null(ynames)) ynames <- colnames(Y)
  if (is.null(ynames) || anyDuplicated(ynames) || anyNA(ynames))
    ynames <- if (dd[3L] == 1L) "y" else paste0("y", seq_len(dd[3L]))
  Ms <- lapply(seq_len(dd[3L]), function(k) {
    M <- if (length(dim(draws)) == 3L) draws[, , k] else draws
    M <- matrix(as.double(M), dd[1L], dd[2L])
    M
  })
  out <- score_core(Ms, Y, probs, levels, ynames, seq_len(dd[1L]), discrete = discrete,
                    u = if (discrete) tie_breaks(0, seq_len(dd[1L]) - 1))
  structure(out, n = dd[2L], probs = probs, levels = levels, ynames = ynames)
}

# Scores of draws Ms (a list, per component, of rows x draws matrices)
# against Y (rows x components).  One line per row and component.  `u`
# (one per row, in (0, 1)) breaks the ties of y with the draws in the PIT:
# (r + u (e + 1)) / (m + 1), r the draws below y and e those equal to it,
# y's rank among the m + 1 values with its ties broken at random.  When y
# and the draws are exchangeable this is uniform on (0, 1), ties or not;
# the mid-point, u = 1/2 (u = NULL), is not when many draws tie with y, as
# those of counts do.
score_core <- function(Ms, Y, probs, levels, ynames, rows, discrete = FALSE, u = NULL) {
  dimnames(Y) <- NULL
  d <- length(Ms)
  nr <- nrow(Ms[[1L]])
  m <- ncol(Ms[[1L]])
  w <- 2 * seq_len(m) - m - 1
  lp <- c((1 - levels) / 2, (1 + levels) / 2)
  pn <- paste0("pinball", sub("^q", "", quantile_names(probs)))
  cn <- paste0("cover", sub("^q", "", quantile_names(levels)))
  bad_any <- rep(FALSE, nr)
  parts <- lapply(seq_len(d), function(k) {
    M <- Ms[[k]]
    y <- Y[, k]
    bad <- rowSums(!is.finite(M)) > 0
    bad_any <<- bad_any | bad
    S <- row_sort(M)
    df <- list(.row = as.integer(rows))
    if (d > 1L) df$.response <- rep(ynames[k], nr)
    df$y <- y
    # E|X - y| - E|X - X'| / 2 with sum_{j,k} |X_j - X_k| = 2 sum_i w_i X_(i)
    df$crps <- rowMeans(abs(M - y)) - rowSums(sweep(S, 2L, w, "*")) / m^2
    Q <- unname(row_quantiles(M, probs, S, discrete))
    for (j in seq_along(probs))
      df[[pn[j]]] <- (y - Q[, j]) * (probs[j] - (y < Q[, j]))
    df$pit <- (rowSums(M < y) + (if (is.null(u)) 0.5 else u) * (rowSums(M == y) + 1)) / (m + 1)
    L <- length(levels)
    if (is.null(u)) {
      B <- unname(row_quantiles(M, lp, S, discrete))
      for (j in seq_len(L))
        df[[cn[j]]] <- y >= B[, j] & y <= B[, L + j]
    } else {
      # with ties broken at random: the randomised PIT in the central band
      # of width L, which a calibrated law puts there with chance L; the
      # closed interval between two quantiles of a law with atoms covers
      # more than L even when the law is right
      for (j in seq_len(L))
        df[[cn[j]]] <- abs(2 * df$pit - 1) <= levels[j]
    }
    if (any(bad))
      for (nm in setdiff(names(df), c(".row", ".response", "y")))
        df[[nm]][bad] <- if (is.logical(df[[nm]])) NA else NA_real_
    df
  })
  if (d > 1L) {
    es <- vapply(seq_len(nr), function(i) {
      if (bad_any[i]) return(NA_real_)
      Xi <- vapply(Ms, function(M) M[i, ], numeric(m))
      dim(Xi) <- c(m, d)
      mean(sqrt(rowSums(sweep(Xi, 2L, Y[i, ])^2))) - sum(stats::dist(Xi)) / m^2
    }, 0)
    for (k in seq_len(d)) parts[[k]]$es <- es
  }
  ord <- order(rep(seq_len(nr), d), rep(seq_len(d), each = nr))
  cols <- lapply(names(parts[[1L]]), function(nm) do.call(c, lapply(parts, `[[`, nm))[ord])
  names(cols) <- names(parts[[1L]])
  structure(cols, row.names = .set_row_names(nr * d),
            class = c("sbscore", "data.frame"))
}

# Names of the score columns of x.
score_columns <- function(x) {
  nms <- names(x)
  c("crps", grep("^pinball", nms, value = TRUE), if ("es" %in% nms) "es")
}

#' @rdname sbscore
#' @param x,object an `"sbscore"` object.
#' @param digits number of significant digits to print.
#' @export
print.sbscore <- function(x, digits = 4L, ...) {
  s <- summary(x)
  cat(score_heading(s), "\n", sep = "")
  tab <- s$scores[c(if (".response" %in% names(s$scores)) ".response", "score", "mean")]
  print(tab, digits = digits, row.names = FALSE)
  cat(sprintf("Coverage of central intervals%s: %s\n",
              if (length(s$ynames) > 1L) " (all components)" else "",
              paste(sprintf("%s -> %.1f%%", pct(s$levels),
                            100 * s$coverage_all$empirical), collapse = ", ")))
  cat(sprintf("PIT: mean %.3f, sd %.3f (uniform: 0.500, 0.289)\n", s$pit$mean, s$pit$sd))
  if (s$n_na > 0)
    cat(sprintf("%d line(s) have no score: a missing predictor or response, or draws that were not finite\n", s$n_na))
  cat(sprintf("(one line per observation%s in the data frame; summary() and plot() for more)\n",
              if (length(s$ynames) > 1L) " and component" else ""))
  invisible(x)
}

#' @rdname sbscore
#' @export
summary.sbscore <- function(object, ...) {
  x <- object
  if (!inherits(x, "sbscore") || !all(c(".row", "crps", "pit") %in% names(x)))
    stopf("'object' must be a result of sbscore() or score_draws()")
  multi <- ".response" %in% names(x)
  resp <- if (multi) unique(x$.response) else attr(x, "ynames")[1L]
  groups <- if (multi) c(as.list(resp), list(resp)) else list(resp)
  gname <- if (multi) c(resp, "all") else resp
  mse <- function(v) {
    v <- v[!is.na(v)]
    c(mean = if (length(v)) mean(v) else NA_real_,
      se = if (length(v) > 1L) stats::sd(v) / sqrt(length(v)) else NA_real_,
      n = length(v))
  }
  sel <- function(g) if (multi) x$.response %in% g else rep(TRUE, nrow(x))
  rows_sc <- list()
  # scores per component (a mean over components of different scales
  # would mean little); coverage also pooled
  for (gi in seq_along(resp)) {
    s <- sel(groups[[gi]])
    for (sc in setdiff(score_columns(x), "es")) {
      v <- x[[sc]][s]
      rows_sc[[length(rows_sc) + 1L]] <- c(list(.response = gname[gi], score = sc),
                                           as.list(mse(v)))
    }
  }
  if ("es" %in% names(x)) {
    first <- !duplicated(x$.row)
    rows_sc[[length(rows_sc) + 1L]] <- c(list(.response = "joint", score = "es"),
                                         as.list(mse(x$es[first])))
  }
  scores <- do.call(rbind, lapply(rows_sc, as.data.frame, stringsAsFactors = FALSE))
  if (!multi) scores$.response <- NULL
  levels <- attr(x, "levels")
  cn <- paste0("cover", sub("^q", "", quantile_names(levels)))
  cov_of <- function(s) {
    data.frame(level = levels,
               empirical = vapply(cn, function(c) mean(x[[c]][s], na.rm = TRUE), 0),
               se = vapply(cn, function(c) {
                 # the lines of one row (its components) as a cluster: for
                 # one component the binomial sqrt(p (1 - p) / n)
                 v <- x[[c]][s]
                 r <- x$.row[s]
                 ok <- !is.na(v)
                 p <- mean(v[ok])
                 sqrt(sum(rowsum(v[ok] - p, r[ok])^2)) / sum(ok)
               }, 0), row.names = NULL)
  }
  coverage <- do.call(rbind, lapply(seq_along(groups), function(gi) {
    cbind(.response = gname[gi], cov_of(sel(groups[[gi]])), stringsAsFactors = FALSE)
  }))
  if (!multi) coverage$.response <- NULL
  pit <- x$pit[!is.na(x$pit)]
  structure(list(scores = scores, coverage = coverage,
                 coverage_all = cov_of(rep(TRUE, nrow(x))),
                 pit = list(mean = mean(pit), sd = stats::sd(pit),
                            counts = tabulate(pmin(10L, floor(pit * 10) + 1L), 10L)),
                 levels = levels, probs = attr(x, "probs"), ynames = resp,
                 n_rows = length(unique(x$.row[!is.na(x$crps)])), n_draws = attr(x, "n"),
                 n_na = sum(is.na(x$crps))),
            class = "summary.sbscore")
}

#' @rdname sbscore
#' @export
print.summary.sbscore <- function(x, digits = 4L, ...) {
  cat(score_heading(x), "\n\n", sep = "")
  cat("Average scores (smaller is better) and their standard errors over observations:\n")
  print(x$scores, digits = digits, row.names = FALSE)
  cat("\nCoverage of central intervals (nominal level, empirical coverage, its standard error):\n")
  print(x$coverage, digits = digits, row.names = FALSE)
  cat(sprintf("\nPIT: mean %.3f, sd %.3f (uniform: 0.500, 0.289); counts in tenths of (0, 1): %s\n",
              x$pit$mean, x$pit$sd, paste(x$pit$counts, collapse = " ")))
  if (x$n_na > 0)
    cat(sprintf("%d line(s) have no score: a missing predictor or response, or draws that were not finite\n", x$n_na))
  invisible(x)
}

# The first line of print() and summary() of scores (s: a summary).
score_heading <- function(s) {
  sprintf("Scores of %s draws per row against %d observation%s%s",
          paste(unique(range(s$n_draws)), collapse = " to "), s$n_rows, if (s$n_rows == 1L) "" else "s",
          if (length(s$ynames) > 1L) sprintf(" of %d components", length(s$ynames)) else "")
}

#' @rdname sbscore
#' @param which which panels to draw: `"pit"` (a histogram of the PIT
#'   values, with the uniform density and, dashed, the range that a bin of
#'   a calibrated forecast stays in with probability about 95%) and / or
#'   `"coverage"` (empirical against nominal coverage of the central
#'   intervals; grey bars show the range, nominal +/- 1.96 binomial
#'   standard errors, that a calibrated forecast stays in with probability
#'   about 95%).
#' @param response for several response components, the names of those to
#'   include (all by default, pooled).  Both ranges treat the pooled PITs
#'   as independent; a row's components are often correlated, which makes
#'   the pooled figures noisier than the ranges say.
#' @param breaks number of bins of the PIT histogram.
#' @export
plot.sbscore <- function(x, which = c("pit", "coverage"), response = NULL,
                         breaks = 10L, ...) {
  if (!inherits(x, "sbscore") || !all(c(".row", "pit") %in% names(x)))
    stopf("'x' must be a result of sbscore() or score_draws()")
  if (!is.character(which) || !length(which) || anyNA(which) ||
      !all(which %in% c("pit", "coverage")) || anyDuplicated(which))
    stopf("'which' must be \"pit\", \"coverage\" or both")
  breaks <- check_count(breaks, "breaks", 2, 1000)
  s <- rep(TRUE, nrow(x))
  if (!is.null(response)) {
    resp <- if (".response" %in% names(x)) unique(x$.response) else NULL
    if (is.null(resp) || !is.character(response) || !length(response) ||
        anyNA(response) || !all(response %in% resp))
      stopf("'response' must name response components of 'x'%s",
            if (is.null(resp)) " (it has only one)" else paste0(": ", paste(resp, collapse = ", ")))
    s <- x$.response %in% response
  }
  pit <- x$pit[s]
  pit <- pit[!is.na(pit)]
  if (!length(pit)) stopf("'x' has no finite scores to plot")
  if (length(which) > 1L) {
    op <- graphics::par(mfrow = c(1L, length(which)))
    on.exit(graphics::par(op))
  }
  if ("pit" %in% which) {
    br <- seq(0, 1, length.out = breaks + 1L)
    N <- length(pit)
    half <- 1.96 * sqrt((1 / breaks) * (1 - 1 / breaks) / N) * breaks
    h <- graphics::hist(pit, breaks = br, plot = FALSE)
    plot_with(list(h, freq = FALSE, col = "grey85", border = "white",
                   ylim = c(0, max(h$density, 1 + half) * 1.05),
                   xlab = "PIT value", ylab = "density", main = "PIT histogram"), ...)
    graphics::abline(h = 1, col = "#0072B2", lwd = 2)
    graphics::abline(h = 1 + c(-1, 1) * half, col = "#0072B2", lty = 2)
    graphics::mtext("dashed: 95% range of a bin if calibrated", side = 3, line = 0.3,
                    cex = 0.75)
  }
  if ("coverage" %in% which) {
    levels <- attr(x, "levels")
    cn <- paste0("cover", sub("^q", "", quantile_names(levels)))
    emp <- vapply(cn, function(c) mean(x[[c]][s], na.rm = TRUE), 0)
    nn <- vapply(cn, function(c) sum(!is.na(x[[c]][s])), 0)
    se <- sqrt(levels * (1 - levels) / nn)
    lim <- range(c(levels, emp, levels - 2 * se, levels + 2 * se), 0.4, 1)
    lim <- c(max(0, lim[1L]), min(1, lim[2L]))
    plot_with(list(levels, emp, xlim = lim, ylim = lim, pch = 19, col = "#D55E00",
                   xlab = "nominal coverage", ylab = "empirical coverage",
                   main = "Central interval coverage"), ...)
    graphics::abline(0, 1, col = "grey50")
    graphics::segments(levels, levels - 1.96 * se, levels, levels + 1.96 * se,
                       col = "grey50", lwd = 6, lend = 1)
    graphics::points(levels, emp, pch = 19, col = "#D55E00")
    graphics::mtext("grey: 95% range if calibrated", side = 3, line = 0.3, cex = 0.75)
  }
  invisible(x)
}

#' @rdname sbscore
#' @param deparse.level not used; for [base::rbind()].
#' @details `rbind()` of scores, say those of the folds of a
#'   cross-validation, gives one result whose `summary()` and `plot()` take
#'   all their lines: each part's `.row` is renumbered after the rows of the
#'   parts before it, so that a row is never mistaken for another part's.
#'   The row names, those of each `newdata`, are kept when no two parts
#'   share one (the folds of one data set); otherwise the lines are
#'   numbered.  The parts must
#'   score the same responses at the same `probs` and `level`.
#' @export
rbind.sbscore <- function(..., deparse.level = 1) {
  parts <- Filter(Negate(is.null), list(...))
  is_score <- function(p) inherits(p, "sbscore") && all(c(".row", "crps", "pit") %in% names(p))
  if (!all(vapply(parts, is_score, NA)))
    stopf("rbind() of scores takes results of sbscore() or score_draws() only")
  attrs <- function(a) unique(lapply(parts, attr, a))
  if (length(unique(lapply(parts, names))) > 1L || length(attrs("probs")) > 1L ||
      length(attrs("levels")) > 1L || length(attrs("ynames")) > 1L)
    stopf("rbind() of scores needs the same responses, 'probs' and 'level' in every part")
  off <- 0L
  frames <- lapply(parts, function(p) {
    r <- p$.row
    class(p) <- "data.frame"
    p$.row <- r + off
    off <<- off + max(0L, r, na.rm = TRUE)
    p
  })
  # row names kept where the parts' differ (the folds of one data set),
  # else the rows numbered
  rn <- unlist(lapply(frames, rownames))
  out <- do.call(rbind, c(frames, list(make.row.names = !anyDuplicated(rn),
                                       stringsAsFactors = FALSE)))
  # attributes shared by the parts; draws per row (n) may differ
  for (a in setdiff(names(attributes(parts[[1L]])), c("names", "row.names", "class"))) {
    v <- attrs(a)
    attr(out, a) <- if (length(v) == 1L) v[[1L]] else if (a == "n") range(unlist(v)) else NULL
  }
  class(out) <- c("sbscore", "data.frame")
  out
}

#' @rdname sbscore
#' @param i,j,drop as for a data frame (`[.data.frame`).
#' @details Subsetting a result keeps its class and attributes while all its
#'   columns remain (rows selected, say, by a predictor's value), so that
#'   `summary()` and `plot()` still apply; a selection of columns is a plain
#'   data frame.
#' @export
`[.sbscore` <- function(x, i, j, drop) {
  keep_result(x, NextMethod())
}

# A subset `out` of the result x (of sbscore() or sbcondstats()): with all
# of x's columns, x's class and attributes; otherwise a plain data frame.
keep_result <- function(x, out) {
  if (!is.data.frame(out)) return(out)
  if (!identical(names(out), names(x))) {
    class(out) <- "data.frame"
    return(out)
  }
  extra <- setdiff(names(attributes(x)), c("names", "row.names", "class"))
  for (a in extra) attr(out, a) <- attr(x, a)
  out
}
