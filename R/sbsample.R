#' Draw from the fitted conditional distribution
#'
#' For every row of `newdata`, `sbsample()` runs `n` chains of the fitted
#' diffusion from \eqn{Z_0 = 0} to \eqn{t = 1} and returns their end points,
#' which are draws of \eqn{Y | X = x}.
#'
#' The sampler evaluates the network on the grid
#' \eqn{t_k = 1 - (1 - k/K)^\gamma}, \eqn{k = 0, \dots, K}, with
#' \eqn{K} = `steps` and \eqn{\gamma} = `grid_power` of [sbcg_control()].
#' Euler--Maruyama (`method = "em"`, the paper's scheme) steps
#' \deqn{Z_{k+1} = Z_k + h_k \frac{D(Z_k, t_k, x) - Z_k}{1 - t_k} +
#'   \sqrt{h_k}\,\epsilon_k,}{Z[k+1] = Z[k] + h[k] (D - Z[k]) / (1 - t[k]) +
#'   sqrt(h[k]) eps[k],}
#' \eqn{h_k = t_{k+1} - t_k}; the last step, to \eqn{t = 1}, lands on
#' \eqn{D + \sqrt{h}\epsilon}.  That last noise term has SD
#' \eqn{\sqrt{h}} (0.1 on the standardised scale with 100 steps) and
#' inflates conditional SDs smaller than that.  The default,
#' `method = "em_denoise"`, takes the same Euler--Maruyama steps but lands
#' the last one on the denoised value \eqn{D} itself.  `method = "bridge"`
#' keeps the drift and scales the noise of every step by
#' \eqn{\sqrt{(1 - t_{k+1})/(1 - t_k)}}, the exact Brownian-bridge
#' transition towards the current denoised value; it slightly underestimates
#' larger conditional SDs, since it treats the denoised value as known.  The part
#' of the network that depends on \eqn{x} only is computed once per chain,
#' the part that depends on \eqn{t} only once per step.
#'
#' @section Reproducibility: each call draws one seed from R's random number
#'   generator (set it with `seed` or [set.seed()]); draw `j` for row `i` of
#'   `newdata` then depends only on that seed, `i` and `j`: the same bits for
#'   any `threads`, any `chunk_size` and any [future::plan()], and the first
#'   `m` draws of a call with `n > m` equal those of a call with `n = m`.
#'
#' @section Large newdata: `newdata` is processed in chunks of at most
#'   `chunk_size` rows.  When a [future::plan()] other than sequential is
#'   set and the package \pkg{future.apply} is installed, the chunks are
#'   evaluated by [future.apply::future_lapply()] on the plan's workers
#'   (another R session, a cluster, a batch scheduler); otherwise one after
#'   the other in this session.  The seed is drawn once here and every row
#'   keeps its index in `newdata`, so the result is identical to the
#'   sequential one.  The workers must have the same version of sbcg
#'   installed: if they cannot load it, or run another version, the call
#'   stops with an error that says so.  `threads` applies within each
#'   worker.  For [sbsample()] the whole result comes back to this session;
#'   [sbcondstats()] and [sbscore()] return only their summaries, so only
#'   one chunk's draws per worker are ever in memory.
#'
#' @param object a fit from [sbfit()].
#' @param newdata a data frame (or, for fits from a matrix, a matrix) of
#'   predictor values, one row per conditional distribution wanted.
#' @param n number of draws per row.
#' @param steps number of sampler steps.
#' @param method `"em_denoise"` (Euler--Maruyama with a noiseless last
#'   step), `"em"` (Euler--Maruyama, the paper's) or `"bridge"`; see
#'   Details.  `NULL` takes the fit's `sbcg_control(sampler)`.
#' @param format `"long"` for a data frame with one row per draw, or
#'   `"matrix"` for a rows x draws matrix (an array rows x draws x responses
#'   when the response has several components).
#' @param grid optional increasing vector of times in \eqn{[0, 1]}
#'   overriding `steps` and the grid shape; the chains start at
#'   `grid[1]` and stop at the last value.
#' @param threads number of threads; by default [sbcg_threads()], all
#'   cores unless the option `sbcg.threads` says otherwise.  Results do not
#'   depend on it.
#' @param seed `NULL` or a number for [set.seed()]; the caller's generator
#'   state is restored afterwards.
#' @param chunk_size largest number of rows of `newdata` handled at once;
#'   see the section "Large newdata" of [sbsample()].  The results do not
#'   depend on it.
#' @param verbose whether to report progress with a message per chunk (when
#'   there are several).
#' @param ... not used; unknown arguments are an error.
#' @return With `format = "long"`, a data frame with columns `.row` (row of
#'   `newdata`), `.draw` (draw number) and one column per response component,
#'   named as in the fit.  With `format = "matrix"`, a matrix or array as
#'   described under `format`.
#' @seealso [sbcondstats()] for summaries of the draws.
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(500, -2, 2))
#' d$y <- d$x + sign(rnorm(500)) + 0.2 * rnorm(500)
#' fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 20), seed = 1)
#' draws <- sbsample(fit, data.frame(x = c(-1, 1)), n = 100, seed = 2)
#' head(draws)
#' @export
sbsample <- function(object, newdata, n = object$control$draws, steps = NULL,
                     method = NULL, format = c("long", "matrix"), grid = NULL,
                     threads = sbcg_threads(), seed = NULL, chunk_size = 10000L,
                     verbose = FALSE, ...) {
  check_dots(...)
  check_fit(object)
  format <- check_choice(format, c("long", "matrix"), "format")
  if (missing(newdata)) stopf("'newdata' is missing: the fit keeps no copy of the training data")
  n <- check_count(n, "n", 1, 1e8)
  threads <- check_threads(threads)
  seed <- check_seed(seed)
  chunk_size <- check_chunk_size(chunk_size)
  verbose <- check_flag(verbose, "verbose")
  X <- newdata_matrix(object, newdata)
  check_draw_count(nrow(X), n, object$net$d)
  g <- sampler_grid(object, steps, method, grid)
  cseed <- with_seed(seed, draw_seed())
  ck <- make_chunks(X, chunk_size)
  parts <- run_chunks(ck$chunks, ck$rows, sample_chunk, object = object, n = n,
                      g = g, cseed = cseed, threads = threads, verbose = verbose)
  warn_nonfinite(parts, as.double(nrow(X)) * n)
  draws <- join_draws(lapply(parts, `[[`, "draws"), lengths(ck$rows), n,
                      object$net$d)
  shape_draws(object, draws, nrow(X), n, format, rownames(X))
}

# One chunk of sbsample(): the raw draws (chain order) and the count of
# non-finite chains.
sample_chunk <- function(ch, object, n, g, cseed, threads) {
  sample_raw(object, ch$X, ch$rowid, n, g, cseed, threads)
}

# Joins the chain-order draw vectors of consecutive row chunks (each
# component's block of every chunk, in turn) into one for all rows.
join_draws <- function(parts, nrows, n, d) {
  if (length(parts) == 1L) return(parts[[1L]])
  unlist(lapply(seq_len(d), function(k) {
    lapply(seq_along(parts), function(i) {
      N <- nrows[i] * n
      parts[[i]][(k - 1) * N + seq_len(N)]
    })
  }), use.names = FALSE)
}

# Check that `object` is a usable fit (also guards the C code against a
# fit edited by hand).
check_fit <- function(object, name = "object") {
  if (!inherits(object, "sbfit") || !is.list(object))
    stopf("'%s' must be a fit from sbfit()", name)
  if (!identical(object$format, 1L))
    stopf("'%s' was made by another version of sbcg (%s); refit it with this one (%s)",
          name, if (is.character(object$version)) object$version[1L] else "unknown",
          as.character(getNamespaceVersion("sbcg")))
  need <- c("theta", "net", "scaling", "xinfo", "ynames", "control")
  miss <- setdiff(need, names(object))
  if (length(miss))
    stopf("'%s' is not a complete sbfit object: it lacks %s", name,
          paste(miss, collapse = ", "))
  net <- object$net
  count_ok <- function(v, lo, hi = 1e6) is.numeric(v) && length(v) >= 1L && !anyNA(v) &&
    all(is.finite(v)) && all(v == round(v)) && all(v >= lo) && all(v <= hi)
  if (!is.list(net) || !all(c("d", "p", "hidden", "activation", "freq") %in% names(net)) ||
      !count_ok(net$d, 1) || length(net$d) != 1L || !count_ok(net$p, 0) ||
      length(net$p) != 1L || !count_ok(net$hidden, 1) || length(net$hidden) > 16L ||
      !is.character(net$activation) || length(net$activation) != 1L ||
      !net$activation %in% c("silu", "relu", "tanh") || !is.numeric(net$freq) ||
      length(net$freq) > 256L || !all(is.finite(net$freq)) ||
      !(is.null(net$time_map) || (is.character(net$time_map) && length(net$time_map) == 1L &&
                                    net$time_map %in% c("linear", "logit"))))
    stopf("'%s$net' is malformed", name)
  ok <- tryCatch({
    is.numeric(object$theta) && length(object$theta) == net_npar(net) &&
      all(is.finite(object$theta))
  }, error = function(e) FALSE)
  if (!isTRUE(ok))
    stopf("'%s$theta' does not match the network: it must hold %s finite numbers",
          name, tryCatch(format(net_npar(net)), error = function(e) "the right number of"))
  s <- object$scaling
  if (!is.list(s) || length(s$x_center) != net$p || length(s$x_scale) != net$p ||
      length(s$y_center) != net$d || length(s$y_scale) != net$d ||
      !all(vapply(s[c("x_center", "x_scale", "y_center", "y_scale")],
                  function(v) is.numeric(v) && all(is.finite(v)), NA)) ||
      any(s$x_scale <= 0) || any(s$y_scale <= 0))
    stopf("'%s$scaling' does not match the network", name)
  if (!is.character(object$ynames) || length(object$ynames) != net$d ||
      anyNA(object$ynames) || anyDuplicated(object$ynames) ||
      any(object$ynames %in% c("", ".row", ".draw", ".response")))
    stopf("'%s$ynames' must be %d unique response names other than .row, .draw and .response",
          name, net$d)
  pre <- object$precondition
  if (!is.null(pre)) {
    ln <- pre$net
    vec_ok <- function(v, len, pos = FALSE) is.numeric(v) && length(v) == len &&
      all(is.finite(v)) && (!pos || all(v > 0))
    ok <- tryCatch(is.list(pre) && is.list(ln) && identical(as.numeric(ln$d), as.numeric(net$d)) &&
                     identical(as.numeric(ln$p), as.numeric(net$p)) &&
                     count_ok(ln$hidden, 1) && length(ln$hidden) <= 16L &&
                     is.character(ln$activation) && length(ln$activation) == 1L &&
                     ln$activation %in% c("silu", "relu", "tanh") &&
                     is.numeric(ln$freq) && length(ln$freq) == 0L &&
                     vec_ok(pre$location, net_npar(ln)) &&
                     (is.null(pre$scale) || (vec_ok(pre$scale, net_npar(ln)) &&
                                               vec_ok(pre$floor, net$d, TRUE))) &&
                     vec_ok(pre$center, net$d) && vec_ok(pre$scale_factor, net$d, TRUE),
                   error = function(e) FALSE)
    if (!isTRUE(ok)) stopf("'%s$precondition' is malformed", name)
  }
  xn <- if (is.null(object$xnames)) character(0) else object$xnames
  if (!is.character(xn) || length(xn) != net$p || anyNA(xn))
    stopf("'%s$xnames' must be the %d names of the network's predictor columns",
          name, net$p)
  ctl <- object$control
  if (!is.list(ctl) || !count_ok(ctl$steps, 1) || !count_ok(ctl$draws, 1, 1e7) ||
      !is.character(ctl$sampler) || !is.character(ctl$parameterization))
    stopf("'%s$control' is malformed", name)
  meta_ok <- is.data.frame(object$history) &&
    all(c("epoch", "train", "valid") %in% names(object$history)) &&
    all(vapply(object[c("n", "n_train", "n_valid", "best_epoch", "seconds")],
               function(v) is.numeric(v) && length(v) == 1L && !is.na(v), NA))
  if (!meta_ok) stopf("'%s' has a malformed training record (history, n, best_epoch)", name)
  if (!is.list(object$xinfo) || !identical(length(object$xinfo$type), 1L) ||
      !object$xinfo$type %in% c("terms", "matrix"))
    stopf("'%s$xinfo' is malformed", name)
  invisible(object)
}

# The standardised predictor matrix for newdata.
newdata_matrix <- function(object, newdata) {
  info <- object$xinfo
  if (is.null(newdata)) stopf("'newdata' must be a data frame, not NULL")
  if (is.matrix(newdata)) {
    if (info$type == "terms" && is.null(colnames(newdata)))
      stopf("'newdata' must be a data frame with columns %s",
            paste(all.vars(info$terms), collapse = ", "))
    newdata <- as.data.frame(newdata, stringsAsFactors = FALSE)
  }
  if (!is.data.frame(newdata)) stopf("'newdata' must be a data frame")
  if (nrow(newdata) == 0L) stopf("'newdata' has no rows")
  if (info$type == "terms") {
    vars <- all.vars(info$terms)
    miss <- setdiff(vars, names(newdata))
    if (length(miss))
      stopf("'newdata' lacks column(s) %s", paste(miss, collapse = ", "))
    check_predictor_columns(newdata[intersect(vars, names(newdata))], "newdata")
    mf <- tryCatch(
      stats::model.frame(info$terms, newdata, na.action = stats::na.pass,
                         xlev = info$xlevels),
      error = function(e) stopf("'newdata' does not fit the model: %s", conditionMessage(e)))
    if (!is.null(info$dataClasses))
      tryCatch(stats::.checkMFClasses(info$dataClasses, mf),
               error = function(e) stopf("'newdata': %s", conditionMessage(e)))
    X <- tryCatch(stats::model.matrix(info$terms, mf, contrasts.arg = info$contrasts),
                  error = function(e) stopf("'newdata' does not fit the model: %s",
                                            conditionMessage(e)))
    X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
    if (nrow(X) != nrow(newdata))
      stopf("'newdata' has missing values: rows with NA cannot be predicted")
  } else {
    nms <- info$names
    if (!is.null(names(newdata)) && all(nms %in% names(newdata))) {
      newdata <- newdata[nms]
    } else if (ncol(newdata) == length(nms) &&
               (is.null(names(newdata)) || all(grepl("^V[0-9]+$", names(newdata))))) {
      names(newdata) <- nms
    } else {
      stopf("'newdata' lacks column(s) %s",
            paste(setdiff(nms, names(newdata)), collapse = ", "))
    }
    for (nm in nms) {
      v <- newdata[[nm]]
      if (!is.numeric(v) || is.complex(v) || !is.null(dim(v)))
        stopf("'newdata': column '%s' must be numeric", nm)
    }
    X <- as.matrix(newdata)
    storage.mode(X) <- "double"
  }
  if (ncol(X) != object$net$p)
    stopf("'newdata' gives %d predictor columns, the fit has %d", ncol(X), object$net$p)
  bad <- rowSums(!is.finite(X)) > 0
  if (any(bad))
    stopf("'newdata' has missing or infinite values in row(s) %s",
          paste(utils::head(which(bad), 5L), collapse = ", "))
  X <- apply_scaling(X, list(center = object$scaling$x_center,
                             scale = object$scaling$x_scale))
  rownames(X) <- rownames(newdata)
  X
}

# Times, drift coefficients and noise scales of the sampler.
sampler_grid <- function(object, steps = NULL, method = NULL, grid = NULL) {
  ctl <- object$control
  method <- if (is.null(method)) ctl$sampler else method
  if (!is.character(method) || length(method) != 1L ||
      !method %in% c("em_denoise", "em", "bridge"))
    stopf("'method' must be \"em_denoise\", \"em\" or \"bridge\"")
  if (!is.null(grid)) {
    if (!is.null(steps)) stopf("give 'steps' or 'grid', not both")
    if (!is.numeric(grid) || length(grid) < 2L || anyNA(grid) ||
        any(grid < 0) || any(grid > 1) || any(diff(grid) <= 0))
      stopf("'grid' must be an increasing vector of at least 2 times in [0, 1]")
    tg <- as.double(grid)
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
