# Fitting: sbfit() and its formula and default methods turn the data into
# standardised matrices, and sbfit_core() runs the phases of a fit in order:
# fit_prepare() (every draw from R's RNG: the validation split, folds,
# initial weights, seeds), train_budget() (the one place that decides
# epochs, the earliest stop, validation checks), fit_precondition()
# (scaling.R), the bridges' training (one .Call each: the training loop is
# bridge_fit() in src/bridge.c; with bridge_inputs = "auto" one bridge that
# sees x and one that does not), fit_assemble() (the plain-list fit), the
# held-out scores (holdout.R) and pick_bridge(), which keeps one bridge or
# pools both.
# sbfit_support() wraps sbfit_core() with the response's support
# (support.R).

#' Fit a conditional Schrödinger bridge
#'
#' `sbfit()` learns the conditional distribution of a response \eqn{Y}
#' (one or several numeric columns) given predictors \eqn{X}.  It trains a
#' neural network \eqn{D(z, t, x)} that predicts \eqn{Y} from the point
#' \eqn{Z_t = tY + \sqrt{t(1-t)}\,\epsilon} of a Brownian bridge from 0 to
#' \eqn{Y}; the drift \eqn{(D(z, t, x) - z)/(1 - t)} then carries the
#' diffusion \eqn{dZ_t = b\,dt + dW_t}, \eqn{Z_0 = 0}, to a draw of
#' \eqn{Y | X = x} at \eqn{t = 1} (Huang 2024).  Draws come from
#' [sbsample()], summaries from [sbcondstats()] and [predict.sbfit()].
#'
#' Predictors may be numeric, logical, character or factors (the last three
#' enter through [stats::model.matrix()] as in [stats::lm()]), or dates,
#' date-times and time differences (taken as numbers, as `lm()` takes
#' them; `newdata` must then give the same kind).  A predictor column that
#' is constant on the fit's rows is ignored, with a warning, and so are
#' its other values in `newdata` (predicted as if they were that
#' constant, again with a warning: a factor level whose rows all have
#' weight 0 is such a column); a factor,
#' character or logical predictor that takes one value there is an error
#' (its contrasts need two).  Rows with
#' missing values are handled by `na.action` in the formula method and are
#' an error in the default method; infinite values are always an error.
#' Predictors and responses are centred and scaled before training (see
#' `standardize` in [sbcg_control()]); the scalings are kept in the fit.
#'
#' Copies of rows, as in data expanded by frequency, are taken as one row
#' weighted by their count.  A row counts as a copy when it repeats
#' another exactly, predictors and response, in a fit with predictors; when
#' among the distinct rows (at least 10) at least 90% of the predictor
#' rows, and 90% of the responses, differ (repeats of coarse values, such
#' as factors, counts or rounded numbers, happen by chance, as they would
#' in new rows); and when there are at least 2 such copies making at least
#' 5% of the rows (a few exact ties are chance too).  The networks then train as on the
#' copies (with the same weights, to the bit), but copies are held out and
#' cross-fitted together, so that no held-out row is a copy of a training
#' row; the recalibration weighs the held-out rows by their counts.
#'
#' The fit is a plain list: it keeps the weights, scalings, terms and
#' settings but no copy of the training data, and `saveRDS()` /
#' `readRDS()` round-trip it exactly.
#'
#' @section Reproducibility: all randomness comes from R's random number
#'   generator.  A `seed` selects R's default generators for the call
#'   (Mersenne-Twister, Inversion, Rejection), whatever [RNGkind()] the
#'   session uses, and leaves the session's generators and state as they
#'   were.  With the same `seed` (or the same [set.seed()] and
#'   [RNGkind()] before the call) the fit is identical, bit for bit, for
#'   any value of `threads`,
#'   with the same kernels and precision (`options(sbcg.kernels)` and
#'   `options(sbcg.precision)`, see [sbcg-package]; the portable and the
#'   AVX2 kernels differ in the last bits).
#'
#' @section Warnings: a fit judges itself on its held-out rows (`validation`
#'   in [sbcg_control()]) and warns when
#'   * there are fewer than 20 of them, too few to judge its calibration
#'     (every fit of fewer than 200 rows at the default `validation`: use
#'     [sbscore()] on other data to judge it);
#'   * their 90% intervals cover far less or far more than 90% of them
#'     (by more than 5 points and three binomial standard errors), or,
#'     where those look right, their 50% intervals far from 50% (by more
#'     than 10 points and three binomial standard errors);
#'   * they score a higher CRPS than a Gaussian linear model fitted to the
#'     same training rows, by more than three standard errors or more than
#'     twice as high;
#'   * their loss is more than 3 times the training loss (overfitting);
#'   * there are none although `validation` is above 0 (too few rows
#'     to hold one out; `validation = 0` asks for none and does not warn,
#'     and `print()` says the fit cannot judge itself).
#'   It also warns for a numeric predictor column that is constant on its
#'   rows (ignored), for fewer than 20 sampler steps, for a response
#'   that is constant (whose held-out rows have nothing to judge, and do
#'   not warn) or has at most five distinct values (each seen at least
#'   twice on average), and for response values more than 1000 median
#'   absolute deviations from the median (the raw `mad(y, constant = 1)`,
#'   or, when more than half the values are equal, that of the others; on
#'   the scale the fit learns on), which the least-squares location and
#'   scale follow far.
#'
#'   The warnings have class `"sbcg_warning"`, and the one about too few
#'   held-out rows also `"sbcg_few_heldout"`, so that a loop over small
#'   fits (the folds of a cross-validation) can silence that one alone:
#'   `withCallingHandlers(sbfit(...), sbcg_few_heldout = function(w)
#'   invokeRestart("muffleWarning"))`.
#'
#' @param formula a formula `y ~ x1 + x2` or, for several responses,
#'   `cbind(y1, y2) ~ .`; `y ~ 1` fits the unconditional law of `y` (with
#'   one constant predictor inside), a baseline for the conditional fits,
#'   whose `newdata` may be left out or have any columns.  A transformed
#'   response such as `log(price) ~ .` is modelled, and reported, on the
#'   scale written: draws and statistics are of `log(price)` (see `support`
#'   for keeping a positive response positive on its own scale).  As with
#'   [lm()], it may also be given by name after `data`
#'   (`sbfit(data = d, formula = y ~ x)`, `sbfit(d, y ~ x)`) or as a string.
#' @param data a data frame holding the variables of `formula`.
#' @param weights optional non-negative case weights (not all zero); they
#'   multiply each row's term in the training and validation losses.  Rows
#'   of weight zero are left out of the fit, as if not given (`nobs()`
#'   does not count them; `print()` says how many).  The held-out scores,
#'   and the recalibration learned from them, weight each held-out row by
#'   its weight, with the effective number of rows
#'   \eqn{(\sum w)^2 / \sum w^2}{(sum w)^2 / sum w^2} standing for their
#'   number in the map's shrinkage and the warnings.  A row is held out,
#'   and cross-fitted, whole: for a table of counts (one row per cell and
#'   response value, the count as its weight) give the rows instead,
#'   `d[rep(seq_len(nrow(d)), d$n), ]`.  Held out whole, each cell's rows
#'   leave out of fold all the cell's observations of one value, which
#'   makes the residuals the bridge learns too large: for `MASS::housing`
#'   (satisfaction 1 to 3 given three factors, 72 rows for 1681 people) the
#'   fit with `weights = Freq` put the conditional SD at 0.96 in every
#'   cell, the fit of the expanded rows at 0.74 to 0.79; the cells' own
#'   SDs lie between 0.66 and 0.89, 0.81 pooled.
#' @param subset optional expression or index selecting the rows to use.
#' @param na.action what to do with missing values; see [stats::na.omit()].
#' @param contrasts `NULL`, or a named list of contrasts for factor
#'   predictors, as in [lm()] (`list(f = "contr.sum")`); `newdata` is then
#'   coded the same way.
#' @param x a numeric matrix or data frame of predictors (default method).
#'   Matrix columns without names are called `x1`, `x2`, ... by position,
#'   in the fit and in `newdata`.
#' @param y a numeric vector or matrix of responses (default method).
#' @param control settings from [sbcg_control()], or a named list of the
#'   settings to change.
#' @param threads number of threads for training (results do not depend
#'   on it).  With more than one, the independent networks of a fit (the
#'   location and the scale networks of the cross-fitting folds, the two
#'   bridges of `bridge_inputs = "auto"`) train side by side, one thread
#'   each, and a network trained alone shares each optimiser step among
#'   the threads, falling back to one thread while that is measured faster
#'   (on a machine busy with other work).  The default is 1; sampling uses
#'   [sbcg_threads()].
#' @param seed a number passed to [set.seed()] (the caller's generator
#'   state is restored afterwards), or `NULL` to draw one from R's random
#'   number generator.  Either way the fit keeps it as `seed`, and
#'   `sbfit(..., seed = fit$seed)` rebuilds the fit exactly.
#' @param support where the response lives: `"auto"` (the default, see
#'   below), `"real"` (the whole real line), `"positive"`, `"count"`
#'   (non-negative whole numbers), or `c(lower, upper)` (either may be
#'   infinite).  A bounded or
#'   positive response is fitted on a log or logit scale (`log(y - lower)`,
#'   `-log(upper - y)`, or `qlogis((y - lower) / (upper - lower))`) and every
#'   draw is mapped back, so that draws, quantiles, probabilities and scores
#'   stay in the support; the bounds are open, so the training responses
#'   must lie strictly inside.  Counts are fitted as `log(1 + y + u)` with
#'   `u` uniform on (0, 1) and drawn as `max(0, floor(exp(z) - 1))`: whole
#'   numbers whose probabilities `P(Y = k | x)` are those of the fitted law
#'   (the `u` come from the fit's seed); the 1 keeps the zeros from
#'   spreading down an exponential tail of `log(u)`.  Count fits saved
#'   before the 1 was added (`format` below 7) keep `log(y + u)` and
#'   `floor(exp(z))`.  The held-out rows judge a count fit by
#'   randomised PITs: the observed count's rank among the draws, with its
#'   ties broken at random, which is uniform when the law is right (the
#'   mid-point of the ties is not), and the held-out coverage that
#'   `print()` shows and the recalibration map are read from them.  For
#'   several responses the support applies to each.  On the log scale (one
#'   bound, or counts) the fit also tries its skewed predictors on a
#'   log-like scale (`skew_transform` in [sbcg_control()]), since a straight
#'   line in a skewed predictor grows exponentially on the response's
#'   scale.
#'
#'   `"auto"`: for one response, not constant, whose values are all
#'   positive, or whole numbers from 0 with a 0 among them (and more than
#'   two values), two fits
#'   with the same seed, and so the same held-out rows, one on the real line
#'   and one with `"positive"` or `"count"`; the fit keeps the one whose draws
#'   score the lower CRPS on the held-out rows (on the response's own
#'   scale), records both in `support_choice`, and `print()` shows them.
#'   With fewer than 50 held-out rows (fits of fewer than about 500 rows)
#'   the two are also scored out of fold on every row, each row by the law its
#'   cross-fitted location and scale give it with the other rows'
#'   residuals (`support_choice_oof`), and the log scale is kept when the
#'   log ratios of its CRPS to the real line's, held out and out of fold,
#'   add up to less than 0.
#'   Which scale predicts better depends on the data: on the 95 real data
#'   sets of `bench/realdata.R` (in the package's sources) with such
#'   responses, the log scale alone scored better on some sets and much
#'   worse on others, and the choice lowered the CRPS by 3% in geometric
#'   mean against the real line (see `bench/HISTORY.md` in the package's
#'   sources).  Such a fit takes about twice as long (its `seconds` counts
#'   both fits); the warnings of the fit that is dropped are not shown.
#'   `support = "real"` skips the second fit.
#'   Other responses, and fits without held-out rows (`validation = 0`, or
#'   too few rows), stay on the real line, and `print()` then says when the
#'   responses are whole numbers, positive, or in (0, 1).  Where `"auto"`
#'   keeps the real line for one response that is never below 0 on the
#'   fit's rows (counts, amounts with zeros, positive values), the law is
#'   cut at 0: its draws below 0 are set to 0 (`support$floor`, and
#'   `format` 12), as in a Tobit model, so that no draw is a negative
#'   count or amount.  For a response that is never below 0 this can only
#'   lower the CRPS and the pinball losses (the CDF below 0 moves to 0).
#'   The held-out scores that `print()` shows, and the choice of support,
#'   are those of the law before the cut.
#' @param verbose print a progress line per network, labelled with its
#'   place among the fit's networks, an upper bound on the time left for
#'   the fit (from the second network on: early stopping usually ends
#'   sooner) and what it is (`[7/12, at most 0:54 left in this fit] scale
#'   network 2/5`), then the epoch, the losses, the time used and at most
#'   left for that network; it updates in place.  An ensemble,
#'   `support = "auto"` and a bridge on the response itself (`direct_share`
#'   in [sbcg_control()]) make several fits in turn: a message names each
#'   before its lines, which count its networks alone.  The progress lines
#'   go to the console's output; the messages can be silenced with
#'   [suppressMessages()], the lines with `verbose = FALSE`.
#' @param ... not used; unknown arguments are an error.
#' @return An object of class `"sbfit"`, a list with, among others, `theta`
#'   (the network weights), `net` (its description), `scaling`, `history`
#'   (losses per epoch), `control`, `call`, `seed` (the seed it was trained
#'   with, drawn from R's generator when not given), `support` (the
#'   support fitted), `support_choice` (the held-out CRPS of both fits,
#'   when `"auto"` compared two; `support_choice_oof` their out-of-fold
#'   CRPS, on fewer than 50 held-out rows), `recalibration` (the map of
#'   `recalibrate` in [sbcg_control()]; its `n` held-out rows and
#'   `training` rows it was learned from, its `tails`, the degrees of freedom
#'   of the Student-t tails of a fit with fewer than 10 held-out rows, and
#'   `deconv`, the mean share of the standardised residual's variance that
#'   `deconvolve` took out),
#'   `linear` (the linear part of the law and its share, `linear_mix` in
#'   [sbcg_control()]; absent when the out-of-fold choice kept none),
#'   `direct` (the bridge on the response itself, its share of the draws
#'   and its own held-out scores, `direct_share` in [sbcg_control()]),
#'   `choice_direct` (the held-out CRPS of the fit's law and of that
#'   bridge, which decided whether it was kept) and
#'   `precision` (of the network's passes, `getOption("sbcg.precision")`;
#'   see [sbcg]).
#'   `sbfit(..., seed = fit$seed)` with the same data, control and precision
#'   rebuilds the fit.  An ensemble (`ensemble` in [sbcg_control()])
#'   pools several fits with their own seeds: these elements then describe
#'   the first, `members` holds the others, and the held-out scores
#'   (`holdout`) are those of the pooled law.  So does a fit that pools its
#'   two bridges (`bridge_inputs` in [sbcg_control()]; `pooled_bridges` is
#'   then `TRUE`): `theta` and `history` are those of the bridge that sees
#'   \eqn{x}, and `members` holds the other (and, in an ensemble, the
#'   other fits' two bridges in turn).
#' @references Huang, J. (2024). Conditional generative learning with a
#'   Schrödinger bridge. arXiv:2409.17294.
#' @seealso [sbcg_control()], [sbsample()], [sbcondstats()],
#'   [predict.sbfit()]
#' @examples
#' set.seed(1)
#' n <- 1000
#' x <- runif(n, -2, 2)
#' y <- sin(x) + (0.2 + 0.2 * abs(x)) * rnorm(n)
#' # a toy budget so that the example runs in a second; real fits keep the default
#' fit <- sbfit(y ~ x, data = data.frame(x, y),
#'              control = sbcg_control(epochs = 30), seed = 1)
#' fit
#' sbcondstats(fit, data.frame(x = c(-1, 0, 1)), seed = 2)
#' @export
sbfit <- function(x, ...) UseMethod("sbfit")

#' @rdname sbfit
#' @export
sbfit.formula <- function(formula, data, weights, subset, na.action,
                          control = sbcg_control(), threads = 1L, seed = NULL,
                          verbose = FALSE, support = "auto", contrasts = NULL, ...) {
  check_dots(...)
  if (!is.null(contrasts) && (!is.list(contrasts) || is.null(names(contrasts)) ||
                              any(names(contrasts) == "")))
    stopf("'contrasts' must be NULL or a named list, as in lm(): list(f = \"contr.sum\")")
  cl <- sbfit_call(match.call())
  if (!missing(data) && !is.data.frame(data) && !is.list(data) && !is.environment(data))
    stopf("'data' must be a data frame")
  mf <- match.call(expand.dots = FALSE)
  m <- match(c("formula", "data", "subset", "weights", "na.action"), names(mf), 0L)
  mf <- mf[c(1L, m)]
  mf$drop.unused.levels <- TRUE
  mf[[1L]] <- quote(stats::model.frame)
  has_data <- !missing(data)
  hint <- function() if (has_data) posixlt_hint(data) else ""
  mf <- tryCatch(eval(mf, parent.frame()), error = function(e)
    stopf("cannot build the model frame from 'formula' and 'data': %s%s",
          conditionMessage(e), hint()))
  mt <- attr(mf, "terms")
  if (attr(mt, "response") == 0L) stopf("'formula' must have a response")
  if (!is.null(attr(mt, "offset")))
    stopf("'formula' has an offset() term, which sbfit() does not support; for a known shift, model the response minus it (I(y - z) ~ ...)")
  y <- stats::model.response(mf)
  if (!is.numeric(y) || is.complex(y))
    stopf("the response in 'formula' must be numeric")
  if (is.null(dim(y))) {
    y <- matrix(as.double(y), ncol = 1L,
                dimnames = list(NULL, deparse1(mt[[2L]])))
  } else {
    y <- as.matrix(y)
    storage.mode(y) <- "double"
    colnames(y) <- response_names(colnames(y), mt[[2L]], ncol(y))
  }
  w <- stats::model.weights(mf)
  xt <- stats::delete.response(mt)
  check_predictor_columns(mf[-1L][setdiff(names(mf)[-1L], "(weights)")], "data")
  check_levels_present(mf[-1L][setdiff(names(mf)[-1L], "(weights)")], "data")
  tn <- times_as_numeric(mf)
  mf <- tn$mf
  mt <- attr(mf, "terms")
  pm <- predictor_matrix(mt, mf, contrasts)
  pm$xinfo$times <- tn$times
  # the variables that newdata must hold: those the formula took from
  # `data`; others (pi, a constant set beside the call) are looked up where
  # the formula was written, as predict.lm() does
  dn <- if (missing(data)) NULL else tryCatch(names(data), error = function(e) NULL)
  if (!is.null(dn)) {
    pm$xinfo$data_vars <- intersect(all.vars(xt), dn)
    pm$xinfo$response_vars <- intersect(all.vars(mt[[2L]]), dn)
  }
  if (ncol(pm$X) == 0L) {
    # y ~ 1, the unconditional law: the same machinery with one constant
    # predictor column (zero after standardisation) that newdata need not give
    if (attr(mt, "intercept") == 0L)
      stopf("'formula' must have a predictor or an intercept (y ~ 1 for the unconditional law)")
    pm$X <- matrix(0, nrow(y), 1L, dimnames = list(NULL, ".constant"))
    pm$xinfo$intercept_only <- TRUE
  }
  fit <- sbfit_support(pm$X, y, w, pm$xinfo, control, threads, seed, verbose,
                       support, xname = "data", yname = "data")
  fit$call <- call_with_seed(cl, fit$seed)
  fit$formula <- stats::formula(mt)
  fit$terms <- mt
  fit$na.action <- attr(mf, "na.action")
  fit
}

#' @rdname sbfit
#' @export
sbfit.default <- function(x, y, weights = NULL, control = sbcg_control(),
                          threads = 1L, seed = NULL, verbose = FALSE,
                          support = "auto", ...) {
  # a formula given by name, after `data`, or as a string: the formula
  # method, as lm() takes them
  redirect <- formula_call(match.call(), if (!missing(x)) x, if (!missing(y)) y)
  if (!is.null(redirect)) return(eval(redirect, parent.frame()))
  check_dots(...)
  cl <- sbfit_call(match.call())
  if (missing(y)) stopf("'y' is missing")
  if (is.data.frame(y)) y <- as.matrix(y)
  if (!is.numeric(y) || is.complex(y) || (!is.null(dim(y)) && length(dim(y)) != 2L))
    stopf("'y' must be a numeric vector or matrix")
  if (is.null(dim(y))) {
    y <- matrix(as.double(y), ncol = 1L, dimnames = list(NULL, "y"))
  } else {
    if (is.null(colnames(y)))
      colnames(y) <- if (ncol(y) == 1L) "y" else paste0("y", seq_len(ncol(y)))
    storage.mode(y) <- "double"
  }
  if (is.data.frame(x)) {
    if (nrow(x) != nrow(y)) stopf("'x' and 'y' must have the same number of rows")
    if (anyDuplicated(names(x)) || any(names(x) == ""))
      stopf("'x' must have unique, non-empty column names")
    check_predictor_columns(x, "x")
    check_levels_present(x, "x")
    if (ncol(x) == 0L) stopf("'x' must have at least one column")
    if (anyNA(x)) stopf("'x' has missing values")
    mt <- stats::terms(~ ., data = x)
    tn <- times_as_numeric(stats::model.frame(mt, x, na.action = stats::na.pass))
    pm <- predictor_matrix(attr(tn$mf, "terms"), tn$mf)
    X <- pm$X
    xinfo <- pm$xinfo
    xinfo$times <- tn$times
  } else {
    if (is.null(dim(x))) {
      if (!is.numeric(x) || is.complex(x)) stopf("'x' must be a numeric matrix or a data frame")
      x <- matrix(x, ncol = 1L)
    }
    if (!is.numeric(x) || is.complex(x) || length(dim(x)) != 2L)
      stopf("'x' must be a numeric matrix or a data frame")
    if (ncol(x) == 0L) stopf("'x' must have at least one column")
    if (nrow(x) != nrow(y)) stopf("'x' and 'y' must have the same number of rows")
    colnames(x) <- fill_colnames(colnames(x), ncol(x))
    if (anyDuplicated(colnames(x)))
      stopf("'x' must have unique column names")
    X <- x
    storage.mode(X) <- "double"
    xinfo <- list(type = "matrix", names = colnames(x))
  }
  fit <- sbfit_support(X, y, weights, xinfo, control, threads, seed, verbose, support)
  fit$call <- call_with_seed(cl, fit$seed)
  fit
}

# Column names of a predictor matrix of k columns: column j without a name
# (cbind(x, rnorm(n)) names only its first) is called xj, as are all
# without any names.
fill_colnames <- function(nm, k) {
  if (is.null(nm)) nm <- character(k)
  none <- is.na(nm) | nm == ""
  nm[none] <- paste0("x", seq_len(k))[none]
  nm
}

# Names for the k columns of a matrix response whose names `nm` may be
# missing, empty or repeated (cbind(log(y), y) names only its second): the
# arguments of a cbind() on the formula's left-hand side `lhs` as written
# where they have none, else y1, y2, ...; made unique.
response_names <- function(nm, lhs, k) {
  if (is.null(nm)) nm <- rep("", k)
  args <- if (is.call(lhs) && identical(lhs[[1L]], as.name("cbind")) && length(lhs) == k + 1L)
    vapply(as.list(lhs)[-1L], deparse1, "") else paste0("y", seq_len(k))
  nm[is.na(nm) | nm == ""] <- args[is.na(nm) | nm == ""]
  make.unique(nm)
}

# The call `cl` of a fit with the seed it drew when none was given, so
# that update() refits with the same seed (changing only what it is told)
# and the printed call rebuilds the fit.
call_with_seed <- function(cl, seed) {
  if (is.null(cl$seed) && is.numeric(seed)) cl$seed <- seed
  cl
}

# The call of sbfit.formula() for a call `cl` of sbfit.default() that
# meant it (x, y: the values of its first two arguments, NULL if missing):
# `formula = ` among the other arguments; a data frame then a formula,
# sbfit(d, y ~ x); a formula as one string, sbfit("y ~ x", d).  NULL
# otherwise.
formula_call <- function(cl, x, y) {
  args <- as.list(cl)[-1L]
  nm <- names(args)
  if (is.null(nm)) nm <- rep("", length(args))
  # the first two unnamed arguments are x and y
  pos <- which(nm == "")
  nm[pos[seq_len(min(2L, length(pos)))]] <- c("x", "y")[seq_len(min(2L, length(pos)))]
  is_text <- function(v) is.character(v) && length(v) == 1L && !is.na(v) && grepl("~", v, fixed = TRUE)
  as_formula <- function(e) as.call(list(quote(stats::as.formula), e))
  if ("formula" %in% nm) {
    if ("y" %in% nm)
      stopf("give 'formula' and 'data', or 'x' and 'y', not both")
    nm[nm == "x"] <- "data"
  } else if ((inherits(y, "formula") || is_text(y)) && (is.data.frame(x) || is.list(x))) {
    if (is_text(y)) args[[which(nm == "y")]] <- as_formula(args[[which(nm == "y")]])
    nm[nm == "x"] <- "data"
    nm[nm == "y"] <- "formula"
  } else if (is_text(x)) {
    args[[which(nm == "x")]] <- as_formula(args[[which(nm == "x")]])
    nm[nm == "x"] <- "formula"
    nm[nm == "y"] <- "data"
  } else {
    return(NULL)
  }
  names(args) <- nm
  as.call(c(list(sbfit.formula), args))
}

# The call of a fit as the user would write it, sbfit(...), not the
# unexported method that match.call() names, so that update() works.
sbfit_call <- function(cl) {
  cl[[1L]] <- quote(sbfit)
  cl
}

# Date, date-time and difftime columns of model frame mf as numbers, as
# lm() takes them: days since 1970-01-01, seconds since 1970-01-01 UTC,
# seconds.  Returns list(mf, times): the frame, with the terms' data
# classes updated, and the original kind of each converted column, by name,
# so that newdata must give the same kind.
times_as_numeric <- function(mf) {
  times <- character()
  for (nm in names(mf)) {
    kind <- time_kind(mf[[nm]])
    if (!is.null(kind)) {
      mf[[nm]] <- time_number(mf[[nm]])
      times[nm] <- kind
    }
  }
  mt <- attr(mf, "terms")
  if (length(times) && !is.null(mt)) {
    dc <- attr(mt, "dataClasses")
    if (!is.null(dc)) {
      dc[intersect(names(times), names(dc))] <- "numeric"
      attr(mt, "dataClasses") <- dc
    }
    attr(mf, "terms") <- mt
  }
  list(mf = mf, times = times)
}

# A hint for a model frame that failed on data holding POSIXlt columns,
# which model.frame() refuses ("invalid type (list)") as lm() does; "" for
# none.
posixlt_hint <- function(data) {
  lt <- if (is.data.frame(data)) names(data)[vapply(data, inherits, NA, "POSIXlt")]
  if (!length(lt)) return("")
  sprintf(" (%s: POSIXlt date-times, which a model frame cannot hold; convert with as.POSIXct())",
          paste0("'", lt, "'", collapse = ", "))
}

time_kind <- function(v) {
  if (inherits(v, "Date")) "Date" else if (inherits(v, "POSIXt")) "POSIXct" else
    if (inherits(v, "difftime")) "difftime" else NULL
}

time_number <- function(v) {
  if (inherits(v, "POSIXlt")) v <- as.POSIXct(v)
  if (inherits(v, "difftime")) return(as.numeric(v, units = "secs"))
  as.numeric(unclass(v))
}

# The predictor matrix of model frame mf (no intercept column) and what
# newdata needs to rebuild it: the terms without the response, the factor
# levels, the contrasts and the data classes.
predictor_matrix <- function(mt, mf, contrasts = NULL) {
  M <- if (is.null(contrasts)) stats::model.matrix(mt, mf) else
    tryCatch(stats::model.matrix(mt, mf, contrasts.arg = contrasts),
             error = function(e) stopf("'contrasts': %s", conditionMessage(e)))
  X <- drop_intercept(M)
  xt <- stats::delete.response(mt)
  xinfo <- list(type = "terms", terms = xt, xlevels = stats::.getXlevels(mt, mf),
                contrasts = attr(X, "contrasts"), dataClasses = attr(xt, "dataClasses"),
                factor_columns = factor_columns(M, xt))
  attr(X, "contrasts") <- NULL
  attr(X, "assign") <- NULL
  list(X = X, xinfo = xinfo)
}

# The columns of the predictor matrix (model matrix M without its
# intercept) that each factor of the formula makes as a term of its own
# (a main effect; character and logical predictors are factors too): a
# named list of column indices, one element per such factor.
factor_columns <- function(M, xt) {
  asg <- attr(M, "assign")[colnames(M) != "(Intercept)"]
  labs <- attr(xt, "term.labels")
  dc <- attr(xt, "dataClasses")
  fac <- names(dc)[dc %in% c("factor", "ordered", "character", "logical")]
  k <- which(labs %in% fac)
  out <- lapply(k, function(j) which(asg == j))
  names(out) <- labs[k]
  out[lengths(out) > 0L]
}

drop_intercept <- function(X) {
  keep <- colnames(X) != "(Intercept)"
  X2 <- X[, keep, drop = FALSE]
  attr(X2, "contrasts") <- attr(X, "contrasts")
  X2
}

# Predictor columns must be numeric, logical, character, factors, or
# dates, date-times and time differences (taken as numbers).
check_predictor_columns <- function(df, argname) {
  for (nm in names(df)) {
    v <- df[[nm]]
    ok <- (is.numeric(v) && !is.complex(v) && (is.null(dim(v)) || is.matrix(v))) ||
      (!is.null(time_kind(v)) && is.null(dim(v))) ||
      is.factor(v) || is.character(v) || is.logical(v)
    if (!ok)
      stopf("'%s': column '%s' is of class %s; predictors must be numeric, logical, character, factor, Date, POSIXct or difftime",
            argname, nm, paste(class(v), collapse = "/"))
  }
  invisible(TRUE)
}

# Factor, character and logical predictors of the model frame's columns
# df need two levels on the fit's rows for their contrasts: one alone (a
# column of one value, or one left by `subset` or missing values) is an
# error that names it, where model.matrix() would not.
check_levels_present <- function(df, argname) {
  for (nm in names(df)) {
    v <- df[[nm]]
    if (!(is.factor(v) || is.character(v) || is.logical(v))) next
    lv <- unique(as.character(v[!is.na(v)]))
    if (length(lv) < 2L)
      stopf("'%s': predictor '%s' takes %s on the fit's rows, and a factor needs two values; leave it out",
            argname, nm, if (length(lv)) sprintf("one value (\"%s\")", lv) else "no value")
  }
  invisible(TRUE)
}

# The response's support around sbfit_core(): checks `support`, maps the
# responses to the real line (support.R), fits, and keeps the support in
# the fit, with a hint for print() when a fit left on the real line has
# responses that suggest another.  The seed is drawn here when not given
# (the same draw sbfit_core() would make), since counts need it first.
# support = "auto" (support_auto()) fits the real line and, for one
# positive response or one of whole numbers with zeros, the log scale, and
# keeps the fit with the lower held-out CRPS.
sbfit_support <- function(X, Y, w, xinfo, control, threads, seed, verbose, support,
                          xname = "x", yname = "y") {
  seed <- check_seed(seed)
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  # (errors about the rows left name them by their place in the data)
  name_rows <- function(X) {
    if (is.null(rownames(X))) rownames(X) <- seq_len(nrow(X))
    X
  }
  # rows of weight zero are left out, as if not given: they would
  # otherwise still move the centring and scaling, the held-out rows and
  # their scores, the recalibration and the choice of support
  zero <- if (is.null(w)) integer() else which(check_weights(w, nrow(Y)) == 0)
  if (length(zero)) {
    X <- name_rows(X)[-zero, , drop = FALSE]
    Y <- Y[-zero, , drop = FALSE]
    w <- w[-zero]
  }
  # rows that repeat others exactly (copy_groups()): one row each, weighted
  # by their count
  copies <- copy_groups(X, Y)
  user_weights <- !is.null(w)
  if (!is.null(copies)) {
    X <- name_rows(X)
    first <- !duplicated(copies)
    w <- as.vector(rowsum(if (is.null(w)) rep(1, nrow(Y)) else w, copies, reorder = FALSE))
    X <- X[first, , drop = FALSE]
    Y <- Y[first, , drop = FALSE]
  }
  fit <- if (is_auto_support(support))
    support_auto(X, Y, w, xinfo, control, threads, seed, verbose, xname, yname) else
      sbfit_support_one(X, Y, w, xinfo, control, threads, seed, verbose, support,
                        xname, yname, keep_oof = FALSE)
  if (length(zero)) fit$n_zero_weight <- length(zero)
  if (!is.null(copies)) {
    fit$n_copied <- sum(!first)
    # (weights that count copies alone: print() says so)
    if (!user_weights) fit$copy_weights <- TRUE
  }
  fit
}

# Rows that are copies of others: a group number per row (that of the
# group's first row), or NULL when the data hold none.  Rows with the same
# predictors and response are copies, not chance ties, when neither is
# coarse (among the distinct rows, the predictor rows and the responses
# are nearly all distinct too, among at least 10) and when there are many
# of them (at least 2, and 5% of the rows).  Data expanded by frequency
# (each row repeated as often as it was seen) are like that; counts, or
# factors and a few response values, repeat rows by chance, as new rows
# from their law would, and so do a few exact ties in continuous data
# (`datasets::Theoph` has two subjects of the same weight and dose, both
# at concentration 0 at time 0).  A fit takes each group of copies as one
# row weighted by its count, which trains the networks as the copies
# would, but holds out and cross-fits whole groups.  Held out one by one,
# copies let the fit judge itself on rows it had seen: with every row of
# 250 given twice, the held-out rows called the law too wide, the
# recalibration narrowed it, and its 90% intervals covered 53% of new rows
# (88% from the 250 rows).
copy_groups <- function(X, Y) {
  M <- cbind(X, Y)
  if (nrow(M) < 4L || !ncol(X) || !all(is.finite(M))) return(NULL)
  # linear hashes first (no draw from the generator): copies share h, and
  # the hashes of the distinct rows' predictors and responses tell whether
  # either is coarse without comparing rows
  hash <- function(A) drop(A %*% (1 + sin(seq_len(ncol(A)))))
  h <- hash(M)
  if (!anyDuplicated(h)) return(NULL)
  first <- !duplicated(h)
  # (on fewer than 10 distinct rows, coarseness cannot be told)
  coarse <- function(A) length(unique(hash(A)[first])) < 0.9 * sum(first)
  if (sum(first) < 10L || coarse(X) || coarse(Y)) return(NULL)
  # rows that share h are copies only if equal in every column, to the bit
  tied <- which(h %in% h[!first])
  key <- do.call(paste, c(lapply(seq_len(ncol(M)), function(j) sprintf("%a", M[tied, j])),
                          sep = " "))
  g <- seq_len(nrow(M))
  g[tied] <- tied[match(key, key)]
  if (sum(g != seq_along(g)) < max(2, 0.05 * nrow(M))) NULL else g
}

# sbfit_support() for a support that is not "auto".
sbfit_support_one <- function(X, Y, w, xinfo, control, threads, seed, verbose, support,
                              xname, yname, keep_oof) {
  sup <- check_support(support, Y, yname, rn = rownames(X))
  # (the out-of-fold CRPS only for support_auto(), which compares by it
  # and drops it)
  fit <- sbfit_core(X, support_forward(sup, Y, seed), w, xinfo, control, threads,
                    seed, verbose, xname = xname, yname = yname, support = sup,
                    Yscore = Y, score_oof = keep_oof)
  if (sup$type == "real") fit$support_hint <- support_hint(Y)
  fit$threads <- check_threads(threads)
  fit
}

# support = "auto": for one response whose values are all positive, or
# whole numbers with zeros (auto_candidate()), two fits with the same seed,
# and so the same held-out rows: on the real line and on the log scale
# ("positive" or "count"); the fit keeps the one whose draws score the
# lower CRPS on the held-out rows, both scored on the response's own
# scale, and records both figures in `support_choice`.  Other responses,
# or a fit without held-out rows, stay on the real line.  The warnings of
# the fit that is dropped are not shown.  On the 98 real data sets of
# bench/realdata.R's panels the choice lowered the CRPS geometric mean by
# 2.8% against the real line (17 sets by more than 5%, 4 raised by more
# than 5%), with the pooled coverage unchanged; "positive" alone raised
# it by 5.5% on the 53 sets of positive responses that are not whole
# numbers.
# With fewer than oof_choice_rows held-out rows (below 10 they alone
# picked the better scale in 62% of the folds of bench/realdata.R's 65
# sets of fewer than 125 rows), the two fits are also compared out of
# fold on every row (oof_crps(), `support_choice_oof`): the log scale is
# kept when the sum of the two log ratios of its CRPS to the real line's
# is negative.  In four runs of those 65 sets' 5-fold cross-validation
# (`--seed 0`, 100, 200 and 300) that lowered the CRPS geometric mean by
# 2.0%, 0.2%, 1.1% and 1.3%; on fits with 10 to 49 held-out rows, see
# oof_choice_rows.
support_auto <- function(X, Y, w, xinfo, control, threads, seed, verbose, xname, yname) {
  alt <- auto_candidate(Y)
  if (is.null(alt))
    return(cut_at_zero(sbfit_support_one(X, Y, w, xinfo, control, threads, seed, verbose,
                                         "real", xname, yname, keep_oof = FALSE), Y))
  verbose <- check_flag(verbose, "verbose")
  one <- function(sup) {
    if (verbose) message(sprintf("support: %s", sup))
    warns <- list()
    fit <- withCallingHandlers(
      sbfit_support_one(X, Y, w, xinfo, control, threads, seed, verbose, sup, xname, yname,
                        keep_oof = TRUE),
      warning = function(w) {
        warns[[length(warns) + 1L]] <<- w
        invokeRestart("muffleWarning")
      })
    list(fit = fit, warns = warns)
  }
  a <- one("real")
  keep <- a
  if (!is.null(a$fit$holdout)) {
    b <- one(alt)
    crps <- c(a$fit$holdout$crps, b$fit$holdout$crps)
    oof <- c(a$fit$oof_crps, b$fit$oof_crps)
    if (auto_keeps_alt(crps, oof)) keep <- b
    keep$fit$support_choice <- stats::setNames(crps, c("real", alt))
    if (length(oof) == 2L && all(is.finite(oof)))
      keep$fit$support_choice_oof <- stats::setNames(oof, c("real", alt))
    # (data in (0, 1) keep their hint: neither fit stays inside 1)
    keep$fit$support_hint <- if (identical(a$fit$support_hint, "unit")) "unit"
    keep$fit$seconds <- a$fit$seconds + b$fit$seconds
  }
  keep$fit$oof_crps <- NULL
  for (w in keep$warns) warning(w)
  cut_at_zero(keep$fit, Y)
}

# A fit of support = "auto" on the real line, for one response that is
# never below 0 on its rows (counts, amounts with zeros, positive values):
# its law is cut at 0, its draws below 0 set to 0 (support$floor, format
# 12).  For a response that is not below 0, moving mass from below 0 onto
# 0 can only lower the CRPS and the pinball losses.  The held-out scores,
# and the choice of support, are those of the law before the cut.
cut_at_zero <- function(fit, Y) {
  if (identical(fit$support$type, "real") && ncol(Y) == 1L && isTRUE(all(Y >= 0)) &&
      is.null(fit$constant_response) && !all(Y == Y[1L])) {
    fit$support$floor <- 0
    fit <- set_format(fit)
  }
  fit
}

# Whether support = "auto" keeps the log scale, from the held-out CRPS
# of the real line's fit and of the log scale's (crps) and, with few
# held-out rows, their out-of-fold CRPS on every row (oof, else NULL):
# by the sum of the two log ratios, or by the held-out CRPS alone.
auto_keeps_alt <- function(crps, oof = NULL) {
  pos <- function(v) length(v) == 2L && all(is.finite(v) & v > 0)
  if (pos(oof) && pos(crps)) return(log(crps[2L] / crps[1L]) + log(oof[2L] / oof[1L]) < 0)
  isTRUE(crps[2L] < crps[1L])
}

# The alternative that support = "auto" tries for the responses Y: "count"
# for one response of whole numbers with more than two values and a 0
# among them (which no log scale takes), "positive" for one whose values
# are all positive, whole numbers or not, NULL otherwise.  Whole numbers
# above 0 (weights in grams, prices, counts in the hundreds) get a
# continuous law: as counts their central intervals, whose ends are whole
# numbers, covered more than their level (on the 36 such sets of
# bench/realdata.R, the 50% intervals of ChickWeight 56%, mpg 58%), for
# the same CRPS.
auto_candidate <- function(Y) {
  if (ncol(Y) != 1L || isTRUE(all(Y == Y[1L]))) return(NULL)
  h <- support_hint(Y)
  if (is.null(h)) NULL else if (h == "count" && any(Y == 0)) "count" else
    if (all(Y > 0)) "positive" else NULL
}

# The core of both methods: checks, then one fit (fit_member()), or for an
# ensemble several, whose pooled law the held-out rows then score.
# The fit's held-out scores are those of its draws of the responses Yscore
# (the responses before the support's map, on their own scale, with the
# fit's `support` mapping the draws back).  `score_oof`: with fewer than
# oof_choice_rows held-out rows, the fit also keeps the out-of-fold CRPS
# of its preconditioning, `oof_crps` (for support_auto()).
sbfit_core <- function(X, Y, w, xinfo, control, threads, seed, verbose,
                       xname = "x", yname = "y", support = NULL, Yscore = Y, score_oof = FALSE) {
  control <- as_control(control)
  threads <- check_threads(threads)
  seed <- check_seed(seed)
  verbose <- check_flag(verbose, "verbose")
  w <- check_training_rows(X, Y, w, xname, yname)
  check_steps(control$steps, control$sampler, "'control$steps'")
  if (isTRUE(control$standardize)) {
    cx <- constant_predictors(standardize_cols(X, TRUE), xinfo)
    if (length(cx))
      warnf(if (length(cx) > 1L)
              "'%s': predictor columns %s are constant: they carry no information, and the fit ignores them" else
                "'%s': predictor column %s is constant: it carries no information, and the fit ignores it",
            xname, paste0("'", colnames(X)[cx], "'", collapse = ", "))
  }
  # hidden = NULL: widths from the number of response components, kept in
  # the fit's control as chosen
  hidden_auto <- is.null(control$hidden)
  if (hidden_auto) control$hidden <- default_hidden(ncol(Y))
  check_network_size(control, ncol(X), ncol(Y), hidden_auto)
  # skew_transform = NULL: on for a response fitted on the log scale, kept
  # in the fit's control as chosen
  if (is.null(control$skew_transform))
    control$skew_transform <- log_scale_support(support)
  const <- constant_responses(Y, yname, count_hint = is.null(support) || support$type == "real",
                              Yscore = Yscore, support = support)
  extreme_responses(Y, Yscore, yname, rownames(X))
  # an unseeded fit draws its seed from R's generator and keeps it, so that
  # sbfit(..., seed = fit$seed) rebuilds it
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  M <- fit_ensemble_size(control)
  one <- fit_member(X, Y, w, xinfo, control, threads, seed, verbose, const, support, Yscore,
                    label = if (M > 1L) sprintf("ensemble member 1/%d", M),
                    score_oof = score_oof)
  fit <- one$fit
  rescore <- one$rescore
  if (M > 1L) {
    # the other members: fits with their own seeds (folds, starting
    # weights, training order, bridge), the same held-out rows and the same
    # scale of the predictors as the first, so that the pooled law is
    # judged on rows no member saw
    seeds <- member_seeds(seed, M)
    members <- lapply(seq_len(M)[-1L], function(k)
      fit_member(X, Y, w, xinfo, control, threads, seeds[k], verbose, const, support,
                 Yscore, vidx = one$prep$vidx, x_log = fit$scaling$x_log,
                 label = sprintf("ensemble member %d/%d", k, M))$fit)
    fit <- ensemble_fit(fit, members)
    rescore <- TRUE
  }
  # the responses' range on their own scale, for far_warning()
  fit$scaling$y_range <- col_ranges(Yscore)
  # the linear part (linear.R), chosen out of fold; the held-out rows then
  # score the fit's law with it, and the map below is learned from those
  # scores, so that it corrects the mixture's widths
  if (isTRUE(control$linear_mix) && ncol(Y) == 1L && !is.null(fit$precondition) &&
      all(is.na(const))) {
    lin <- linear_mixture(one$prep, one$oof, support, Yscore)
    if (!is.null(lin)) {
      fit$linear <- lin
      rescore <- TRUE
    }
  }
  # the held-out scores of the law kept, once (the members' pool, the
  # linear part and the deconvolution all change it)
  if (rescore) fit$holdout <- holdout_scores(fit, one$prep, Yscore, threads)
  # the map from the held-out PITs (recalibrate.R), for a preconditioned
  # fit of one response that is not constant: the PITs of its law with
  # the linear part, the map acting on the bridge's standardised draws;
  # the held-out scores stay those of the law before the map, which it
  # was learned from.  Format 5: a fit with a map, which earlier versions
  # would sample without it; 6: a fit whose bridge sees the location and
  # scale (fit_format()).
  if (maps_apply(control, Y, fit$precondition, const) && !is.null(fit$holdout)) {
    # learned on top of the Student-t tails of the smallest fits
    # (tail_map()) and the deconvolution map (deconvolve_fit())
    inner <- fit$recalibration
    hz <- holdout_standardised(fit, one$prep, threads)
    Z <- hz$z
    if (!is.null(inner)) Z <- recal_apply(inner, Z)
    rp <- recal_pits(fit, one$prep, Yscore, threads)
    # with fewer than loss_choice_rows held-out rows, the training rows'
    # PITs too (training_pits())
    tp <- training_pits(fit, one$prep, Yscore, threads)
    ok <- is.finite(rp$pit)
    nh <- sum(ok)
    # (the effective number of held-out rows, which sets the map's knots)
    nk <- if (is.null(rp$w)) nh else sum(rp$w[ok])^2 / sum(rp$w[ok]^2)
    if (!is.null(tp)) rp <- list(pit = c(rp$pit, tp$pit), w = if (!is.null(rp$w)) c(rp$w, tp$w))
    map <- recalibration_map(rp$pit, Z, pw = rp$w, zw = hz$w, nk = nk)
    # `n` counts the held-out rows, `training` the training rows
    if (!is.null(tp) && !is.null(map)) {
      map$n <- nh
      map$training <- length(tp$pit)
    }
    fit$recalibration <- if (is.null(inner)) map else compose_maps(inner, map)
  }
  # a share of the law from a bridge on the response itself, on the same
  # rows (direct.R); the held-out scores and the map stay the
  # preconditioned law's.  Format 15.
  if (direct_applies(control, Y, fit$precondition, const, length(one$prep$vidx))) {
    dr <- direct_bridge(X, Y, w, xinfo, control, threads, seed, verbose, const, support,
                        Yscore, one$prep, fit$scaling$x_log, control$direct_share)
    fit$seconds <- fit$seconds + dr$seconds
    fit$choice_direct <- c(fit = fit$holdout$crps, direct = dr$holdout$crps)
    if (direct_keeps(fit$choice_direct)) fit$direct <- dr
  }
  fit <- set_format(fit)
  holdout_warnings(fit$holdout, recal = isTRUE(fit$recalibration$weight > 0))
  fit
}

# Whether a fit gets maps of its standardised draws (the Student-t tails,
# the deconvolution and the held-out map; recalibrate.R): with
# `recalibrate`, for one response that is not constant, with its
# preconditioning `pre`, whose centre and scale per row the maps act
# under.
maps_apply <- function(control, Y, pre, const) {
  isTRUE(control$recalibrate) && ncol(Y) == 1L && !is.null(pre) && all(is.na(const))
}

# One fit of an ensemble (the only one for ensemble = 1): prepare (scalings,
# split, initial weights, seeds), precondition, train the bridge or
# bridges, assemble and score each, keep one or both pooled
# (pick_bridge()).  Returns list(fit, prep, oof, rescore), `oof` the
# preconditioning's out-of-fold location, scale and residuals
# (linear_mixture()), `rescore` whether the fit's law is no longer the
# one its held-out scores are of (pooled bridges, or the deconvolution's
# map; sbfit_core() scores it).  `vidx` (the held-out rows) and `x_log`
# (the scale of skewed predictors) are given for the members after the
# first; `score_oof` as in sbfit_core().
fit_member <- function(X, Y, w, xinfo, control, threads, seed, verbose, const, support,
                       Yscore, vidx = NULL, x_log = NULL, label = NULL, score_oof = FALSE) {
  if (verbose && !is.null(label)) message(label)
  prep <- with_seed(seed, fit_prepare(X, Y, w, control, vidx = vidx))
  # the columns of each factor, whose levels the location may take as
  # effects (level_candidates())
  prep$factor_columns <- xinfo$factor_columns
  if (!is.null(vidx)) prep <- member_scale(prep, x_log)
  budget <- train_budget(control, length(prep$tidx), length(prep$vidx))
  control$epochs <- budget$epochs
  control$valid_every <- budget$valid_every
  inputs <- bridge_candidates(control, prep)
  prep$location_inputs <- any(inputs) && location_inputs(control, prep, ncol(Y))
  if (verbose) prep$progress <- fit_progress(fit_plan(prep, control, budget, inputs))
  pc <- fit_precondition(if (isTRUE(prep$holdin)) holdin_prep(prep) else prep, control,
                         budget, threads, verbose)
  # the log-like scale of skewed predictors, when the location networks kept it
  if (!is.null(pc$x)) prep <- on_log_scale(prep)
  # held-out rows in the folds, a factor's levels as effects: each such
  # row's effect from the other rows of its level, for its scores
  # (holdin_draws())
  if (isTRUE(prep$holdin) && !is.null(pc$level_shift))
    prep$level_shift <- pc$level_shift[prep$vidx, , drop = FALSE]
  # decorrelate = NULL: chosen from d, and kept in the fit's control
  if (is.null(control$decorrelate)) control$decorrelate <- auto_decorrelate(ncol(Y))
  dc <- if (control$decorrelate && ncol(Y) > 1L)
    decorrelation(pc$target[prep$tidx, , drop = FALSE], prep$wt)
  if (!is.null(dc)) pc$target <- pc$target %*% dc$whiten
  jobs <- lapply(inputs, function(use_x)
    list(theta0 = prep$theta0, target = pc$target,
         Xs = if (!use_x) prep$Xs * 0 else if (is.null(pc$feat)) prep$Xs else pc$feat,
         train = prep$tidx, valid = prep$vidx, wt = prep$wt, wv = prep$wv, seed = prep$cseed))
  runs <- train_nets(prep$net, jobs, threads, verbose, "bridge",
                     lapply(inputs, function(use_x)
                       bridge_settings(control, budget, use_x, length(prep$vidx))),
                     labels = sprintf("bridge %d/%d (%s the predictors)", seq_along(inputs),
                                      length(inputs), ifelse(inputs, "with", "without")),
                     group = sprintf("bridges 1-%d/%d (with and without the predictors, side by side)",
                                     length(inputs), length(inputs)),
                     progress = prep$progress)
  fits <- lapply(seq_along(inputs), function(i) {
    use_x <- inputs[i]
    res <- runs[[i]]
    # (the location and scale as inputs belong to the bridge that sees them)
    pre <- pc$pre
    if (!use_x) pre$features <- NULL
    fit <- fit_assemble(prep, pre, res, control, xinfo, colnames(X), colnames(Y))
    fit$bridge_x <- use_x
    if (isTRUE(prep$location_inputs)) fit$location_inputs <- TRUE
    # trained a fixed budget, its last weights kept (fixed_budget())
    fit$fixed_budget <- fixed_budget(use_x, length(prep$vidx))
    if (!is.null(dc)) fit$mix <- dc$mix
    fit$support <- support
    fit$format <- fit_format(fit)
    if (any(!is.na(const))) {
      fit$constant <- const
      if (!is.null(support) && support$type != "real")
        fit$constant_response <- ifelse(is.na(const), NA_real_, Yscore[1L, ])
    }
    fit$seed <- seed
    # the precision of the network's passes (options(sbcg.precision)),
    # which a rebuild with the same seed needs
    fit$precision <- if (net_precision() == 1L) "single" else "double"
    # Student-t tails on the smallest fits, in the held-out scores too
    if (!use_x && length(prep$vidx) < min_choice_rows && maps_apply(control, Y, pc$pre, const))
      fit$recalibration <- tail_map(law_draws(fit, prep, threads),
                                    length(prep$tidx) - ncol(prep$Xs) - 1L)
    fit$holdout <- holdout_scores(fit, prep, Yscore, threads)
    fit
  })
  pick <- pick_bridge(fits)
  fit <- if (pick == 0L) pool_bridges(fits) else fits[[pick]]
  # the location networks' spread taken out of the bridge's law
  # (deconvolve_fit())
  map <- fit$recalibration
  if (isTRUE(control$deconvolve) && maps_apply(control, Y, pc$pre, const) &&
      length(prep$vidx))
    fit <- deconvolve_fit(fit, prep, threads)
  if (score_oof && length(prep$vidx) < oof_choice_rows)
    fit$oof_crps <- oof_crps(prep, pc$oof, support, Yscore)
  if (length(fits) > 1L) {
    fit$bridge_choice <- vapply(fits, function(f) f$holdout$crps, 0)
    fit$bridge_loss <- vapply(fits, kept_valid_loss, 0)
    fit$bridge_cover90 <- vapply(fits, function(f) f$holdout$cover90, 0)
    names(fit$bridge_choice) <- names(fit$bridge_loss) <- names(fit$bridge_cover90) <-
      ifelse(inputs, "x", "none")
    # the preconditioning is shared; each bridge's training time adds up
    pre_s <- if (is.null(pc$pre)) 0 else pc$pre$seconds
    fit$seconds <- pre_s + sum(vapply(fits, `[[`, 0, "seconds") - pre_s)
  }
  # a law other than one bridge's as it was scored: the pool, or a map
  list(fit = fit, prep = prep, oof = pc$oof,
       rescore = pick == 0L || !identical(fit$recalibration, map))
}

# A warning for response values far out (on the fitted scale Y, reported
# on the response's own scale Yscore): more than 1000 median absolute
# deviations from the median, where a Gaussian sample of a million rows
# reaches about 7 and a Student-t with 3 degrees of freedom about 60.  The
# location and scale networks and their linear start are least-squares
# fits: one value of 1e6 among values of about 1 moved every conditional
# median by hundreds, with no other sign.  rn: the rows' names.
extreme_responses <- function(Y, Yscore, yname, rn = NULL) {
  for (k in seq_len(ncol(Y))) {
    v <- Y[, k]
    med <- stats::median(v)
    mad <- stats::mad(v, center = med, constant = 1)
    # more than half the values equal (zero-inflated, say): the MAD of the others
    if (mad == 0) mad <- stats::mad(v[v != med], constant = 1)
    if (!is.finite(mad) || mad == 0) next
    dist <- abs(v - med) / mad
    far <- which(dist > 1000)
    if (!length(far)) next
    far <- far[order(-dist[far])]
    show <- utils::head(far, 5L)
    warnf("'%s': the response '%s' has %d value%s far from the others (%s, in row%s %s%s; %s median absolute deviations from the median): the location and scale are least-squares fits, which such values pull far; check them, or model a transformed response",
          yname, colnames(Y)[k], length(far), if (length(far) == 1L) "" else "s",
          paste(format(Yscore[show, k], digits = 4, trim = TRUE), collapse = ", "),
          if (length(show) == 1L) "" else "s",
          paste(if (is.null(rn)) show else rn[show], collapse = ", "),
          if (length(far) > 5L) ", ..." else "",
          format(signif(dist[far[1L]], 2), big.mark = ","))
  }
  invisible()
}

# decorrelate = NULL: whiten the bridge's target of 2 to 4096 components
# (beyond, the d x d map would cost more than the network).
auto_decorrelate <- function(d) d > 1L && d <= 4096L

# Responses with few distinct values: a constant column is kept exactly
# (the result, fit$constant, holds its value on the fitted scale, NA for
# other columns; its draws are the constant), and a column of at most five
# values gets a warning, since the bridge learns a continuous law; with
# count_hint (a fit on the real line), one of whole numbers from 0 also
# points to support = "count".
constant_responses <- function(Y, yname, count_hint = FALSE, Yscore = Y, support = NULL) {
  # constant on the response's own scale (Yscore); the value kept is the
  # column's mean on the fitted scale (Y), which a count's dequantising
  # noise spreads over the constant's block
  const <- vapply(seq_len(ncol(Y)), function(k)
    if (all(Yscore[, k] == Yscore[1L, k])) mean(Y[, k]) else NA_real_, 0)
  for (k in seq_len(ncol(Y))) {
    # (counted and reported on the response's own scale, before a
    # support's map: a count's dequantising noise makes every value distinct)
    vals <- unique(Yscore[, k])
    nv <- length(vals)
    # (few values only when they repeat: 5 rows hold at most 5 values)
    few <- nv <= 5L && nrow(Y) >= 2L * nv
    if (!is.na(const[k]))
      warnf("'%s': the response '%s' is constant (%g): every draw will be %g",
            yname, colnames(Y)[k], Yscore[1L, k], Yscore[1L, k])
    else if (few && !is.null(support) && support$type == "count")
      warnf("'%s': the response '%s' has only %d distinct values (%s); the law of counts has no upper bound, and its draws may fall beyond them",
            yname, colnames(Y)[k], nv, paste(format(sort(vals), trim = TRUE), collapse = ", "))
    else if (few)
      warnf("'%s': the response '%s' has only %d distinct values; sbcg learns a continuous distribution, whose draws fall between and beyond them%s",
            yname, colnames(Y)[k], nv,
            if (count_hint && identical(support_hint(Y[, k]), "count"))
              "; for counts, support = \"count\" draws whole numbers" else "")
  }
  const
}

# The bridges to train: with the predictors as inputs (TRUE), without
# them (FALSE), or, for bridge_inputs = "auto" with held-out rows and a
# preconditioned fit (whose location and scale carry x), both; with fewer
# than min_choice_rows held-out rows, only the one without (see
# pick_bridge()).
bridge_candidates <- function(control, prep) {
  nv <- length(prep$vidx)
  switch(control$bridge_inputs, x = , location = TRUE, none = FALSE,
         auto = if (nv == 0L || control$precondition == "none") TRUE
                else if (nv < min_choice_rows) FALSE else c(TRUE, FALSE))
}

# Whether a bridge trains a fixed budget and keeps its last weights
# (bridge_settings()) rather than being early-stopped on its nv validation
# rows: the bridge without x with at least min_choice_rows of them.  It
# learns one law of the standardised residual, in one dimension, and
# cannot learn each row's residual as a bridge that sees x can.  Early
# stopping on 15 to 60 validation rows (bench/realdata.R's folds of 146 to
# 578 rows) kept its Gaussian starting weights in 15 of 45 folds, where
# the residual laws are peaked or skewed: its central 50% intervals
# covered up to 67% of held-out rows.  On fewer rows the law a fixed
# budget learns from the training residuals is too narrow (11 to 80
# residuals in the folds of bench/tinydata.R's sets of 15 to 111 rows:
# the 90% intervals of four sets 4 points narrower than with early
# stopping, which there mostly kept the Gaussian start; on 30 rows of
# bench/smalldata.R's linear law, CRPS 0.768 against 0.750).  A kernel
# estimate of those residuals' law in place of the bridge's, with their
# variance, moved neither the CRPS (-0.2% and -0.7% over bench/realdata.R's
# 65 sets of fewer than 125 rows, two seeds) nor the coverage by much
# (bench/HISTORY.md, item "A kernel estimate of the residual law on the
# smallest fits").
fixed_budget <- function(use_x, nv) !use_x && nv >= min_choice_rows

# Held-out rows below which "auto" does not try the bridge that sees x.
# When the two were chosen between by the paired differences of their
# held-out CRPS, whose standard error is meaningless on a handful of rows,
# the bridge with x was kept at n = 30 (3 held-out rows; bench/smalldata.R,
# case lin30) in 2 of 5 seeds, and in one its 90% intervals covered 76% of
# new rows.
min_choice_rows <- 10L

# Held-out rows below which support = "auto" also compares its two fits
# out of fold on every row (oof_crps(), support_auto()).  Below 10 held-out
# rows that lowered the CRPS geometric mean of bench/realdata.R's 65 sets
# of fewer than 125 rows in four runs of 5-fold cross-validation; on 10 to
# 49 held-out rows (fits of about 100 to 500 rows), whose held-out CRPS
# is still that of a few dozen rows, it lowered the CRPS geometric mean
# of the 57 such sets with positive responses or counts by 0.16% and
# 0.20% in two runs (`--seed 0` and 100; t = -2.1 over the sets), at the
# same coverage (bench/HISTORY.md, item "The support chosen out of fold
# on fits of a few hundred rows").
oof_choice_rows <- 50L

# Held-out rows from which "auto" chooses between the bridges by their
# validation loss (pick_bridge()), and from which its bridge that sees x
# sees the predictors themselves rather than the location and scale
# (location_inputs()).
loss_choice_rows <- 200L

# Whether the bridge that sees x gets the location m(x) and the log scale
# log s(x) of the preconditioning as its two inputs instead of the
# predictors (location_features()): with bridge_inputs = "location", or
# "auto" with fewer than loss_choice_rows held-out rows, for a fit of one
# response with location-scale preconditioning and at least two predictor
# columns (with one, the predictor is as low-dimensional).  On a few
# hundred rows a bridge that sees every predictor can follow each
# training row's residual, and "auto" (when it chose one bridge) then
# mostly kept the bridge without x, whose law has one shape everywhere;
# two inputs let the shape change with the law's level and spread.  On
# bench/realdata.R's 97 sets (5-fold cross-validation) the CRPS fell by
# 0.25% (geometric mean; -7% DNase, -5% midwest, -3% birthwt and
# ChickWeight, +4% cpus), with the same calibration.  With more held-out rows the bridge sees x: there it
# corrects what the location network left in the mean (m1 of
# bench/accuracy.R, p = 5, n = 5000: CRPS +1.1% with the two inputs).
location_inputs <- function(control, prep, d) {
  d == 1L && control$precondition == "location-scale" && ncol(prep$Xs) >= 2L &&
    (control$bridge_inputs == "location" ||
       (control$bridge_inputs == "auto" && length(prep$vidx) < loss_choice_rows))
}

# The bridge to keep when both were trained (fits[[1]] sees x, fits[[2]]
# does not): 1 or 2, or 0 for both, pooled in equal shares
# (pool_bridges()).  With at least 200 held-out rows: the one with the
# lower validation loss, a paired comparison on the same fixed validation
# draws (about 10,000) that early stopping on those rows barely biases; on
# model m3, whose two modes narrow with |x|, it told the bridges apart
# (losses 4-5% apart) where the held-out CRPS of 250 rows x 100 draws
# could not (differences below a quarter of their standard error).
#
# With fewer rows, both.  The held-out CRPS of 10 to 199 rows, which also
# stopped the bridges' training, tells them apart only by chance, and the
# pool of two laws scores a CRPS no higher than the mean of theirs (the
# CRPS is convex in the law).  Before, the bridge without the predictors
# was kept unless the one with them scored a lower held-out CRPS by more
# than one standard error of the paired difference, and a bridge whose
# held-out 90% intervals covered less than 0.9 minus three binomial
# standard errors was not kept when the other covered more (with 50
# predictors and 1000 rows, bench/smalldata.R's case p50, the bridge that
# saw x covered 67% of the held-out rows and 70-72% of new ones; pooled
# with the other, 85-91% over five seeds, 88.9% on average as with the
# choice; bench/smalldata.R, 2026-12-04 21:53 UTC: CRPS 0.572 against
# 0.573 there, 0.678 against 0.681 on 100 rows of the linear law).  On
# bench/realdata.R's 96 sets (5-fold cross-validation, 2026-12-04)
# pooling changed 41 sets and lowered the CRPS geometric mean by 0.3%
# against that choice (30 sets lower, 11 higher; mpg -6.3%, iris -3.5%,
# Theoph -2.8%; epil +3.0%, midwest +1.6%), with the pooled coverage of
# the 50% and 90% intervals 50.8% and 89.7% against 50.3% and 89.5%.
# Choosing by that rule when the CRPS differed by more than one standard
# error either way, and pooling only otherwise, did worse than pooling
# always on the 21 of those sets it was run on (-0.3% against -0.6%).
# Unequal shares, the weight that minimises the mixture's CRPS on the
# held-out rows, did worse than equal ones on eight of the ten sets of
# bench/realdata.R (+0.7%; bench/HISTORY.md, item "Weights for the two
# pooled bridges").
#
# Several responses are not pooled: the bridge without x draws one
# dependence between the components at every x, and a pool would halve
# any dependence that changes with x, which the components' CRPS cannot
# see.  The validation loss, of the joint draws, chooses at any number of
# held-out rows (with a correlation of 0.45 x between two responses, 1500
# rows: the pool's draws had correlation -0.38 and 0.43 at x = -1.8 and
# 1.8, where the law's is -0.81 and 0.81).
pick_bridge <- function(fits) {
  if (length(fits) == 1L) return(1L)
  if (fits[[1L]]$n_valid < loss_choice_rows && length(fits[[1L]]$ynames) < 2L) return(0L)
  loss <- vapply(fits, kept_valid_loss, 0)
  if (loss[1L] < loss[2L]) 1L else 2L
}

# The validation loss of a fit's kept weights; Inf for the starting weights
# (best epoch 0), whose loss is not recorded but is at least that of every
# epoch (both bridges start from the same weights and, with the output
# layer at zero, the same loss).
kept_valid_loss <- function(fit) {
  if (fit$best_epoch > 0L) fit$history$valid[fit$best_epoch] else Inf
}

# Rows, responses and weights of a fit; returns the weights (1 for none).
check_training_rows <- function(X, Y, w, xname, yname) {
  if (any(colnames(Y) %in% c(".row", ".draw", ".response")) || anyDuplicated(colnames(Y)))
    stopf("'%s': response names must be unique and not .row, .draw or .response", yname)
  n <- nrow(Y)
  if (nrow(X) != n) stopf("'x' and 'y' must have the same number of rows")
  if (n < 2L)
    stopf("'%s' must have at least 2 rows with complete values, not %d", xname, n)
  if (any_col(X, function(v) !is.finite(v)))
    stopf("'%s' has missing or infinite predictor values (%s)", xname,
          first_cell(X, !is.finite(X), rownames(X)))
  if (any_col(Y, function(v) !is.finite(v)))
    stopf("'%s' has missing or infinite response values (%s)", yname,
          first_cell(Y, !is.finite(Y), rownames(X)))
  if (any_col(X, function(v) abs(v) > 1e150))
    stopf("'%s' has predictor values beyond 1e150 in absolute value; rescale them", xname)
  if (any_col(Y, function(v) abs(v) > 1e150))
    stopf("'%s' has response values beyond 1e150 in absolute value; rescale them", yname)
  if (is.null(w)) rep(1, n) else check_weights(w, n)
}

# Where the first TRUE of `bad` (a logical matrix the shape of M) lies:
# "row r, column 'c'", the row by its name in the data (`rn`, the row
# names the model frame kept, else its number) and the column by M's name.
first_cell <- function(M, bad, rn = rownames(M)) {
  i <- which(rowSums(bad) > 0)[1L]
  j <- which(bad[i, ])[1L]
  sprintf("row %s%s", if (is.null(rn)) i else rn[i],
          if (is.null(colnames(M))) "" else sprintf(", column '%s'", colnames(M)[j]))
}

# Case weights for n rows, as doubles.
check_weights <- function(w, n) {
  if (!is.numeric(w) || length(w) != n)
    stopf("'weights' must be a numeric vector with one value per row (%d)", n)
  if (anyNA(w) || any(!is.finite(w))) stopf("'weights' must be finite")
  if (any(w < 0)) stopf("'weights' must be non-negative")
  if (all(w == 0)) stopf("'weights' must not be all zero")
  as.double(w)
}

# Whether test(v) holds anywhere in a column v of the matrix M, a column
# at a time (a test of all of M at once makes a logical matrix as large).
any_col <- function(M, test) {
  for (j in seq_len(ncol(M))) if (any(test(M[, j]))) return(TRUE)
  FALSE
}

# The network of a fit must stay within getOption("sbcg.max_parameters"),
# checked before any training; the message says where the widths came
# from (hidden = NULL chooses them from the number of responses d).
check_network_size <- function(control, p, d, hidden_auto) {
  net <- list(d = d, p = p, hidden = control$hidden,
              freq = make_freq(control$n_freq, control$freq_range))
  max_par <- getOption("sbcg.max_parameters", 5e7)
  if (net_npar(net) > max_par)
    stopf("'control$hidden' %s makes a network of %.3g parameters, more than getOption(\"sbcg.max_parameters\") = %.3g; give smaller widths in sbcg_control(hidden = ) or raise the option",
          if (hidden_auto) sprintf("(chosen for %d response components: %s)", d,
                                   paste(control$hidden, collapse = ", ")) else
            sprintf("(%s)", paste(control$hidden, collapse = ", ")),
          net_npar(net), max_par)
  invisible(TRUE)
}

# Everything a fit draws from R's RNG, in a fixed order: the validation
# split, the initial weights and the seeds of the C random streams (which
# draw the training and validation times and noise); with the standardised
# data and the networks.
fit_prepare <- function(X, Y, w, control, vidx = NULL) {
  n <- nrow(Y)
  sx <- standardize_cols(X, control$standardize)
  sy <- standardize_cols(Y, control$standardize)
  nv <- floor(control$validation * n)
  # one held-out row from 5 rows on, so that the rules of the smallest fits
  # apply (the held-out row joins the folds, the bridge without x, Student-t
  # tails); without any, a bridge trained on all rows learned their
  # residuals to the last digit, a law of zero width
  if (control$validation > 0 && nv < 1L && n >= 5L) nv <- 1L
  if (control$validation > 0 && nv < 1L && is.null(vidx))
    warnf("'control$validation' leaves no validation rows with %d rows: early stopping is off, and the fit cannot judge its calibration", n)
  if (is.null(vidx)) vidx <- if (nv > 0) sort(sample.int(n, nv)) else integer()
  tidx <- setdiff(seq_len(n), vidx)
  # (rows of weight zero were left out by sbfit_support(): all weights are
  # positive here)
  wt <- w[tidx]
  wv <- w[vidx]
  net <- list(d = ncol(Y), p = ncol(X), hidden = control$hidden,
              activation = control$activation,
              freq = make_freq(control$n_freq, control$freq_range),
              time_map = control$time_map)
  prep <- list(n = n, sx = sx, sy = sy, Xs = apply_scaling(X, sx, which(sx$const)),
               x_range = col_ranges(X),
               Ys = apply_scaling(Y, sy), tidx = tidx, vidx = vidx,
               wt = wt / mean(wt), wv = if (nv > 0) wv / mean(wv) else wv,
               weighted = any(w != 1), net = net,
               theta0 = init_theta(net, control$baseline == "linear"))
  prep$cseed <- draw_seed()
  prep$hseed <- draw_seed()
  prep$vorder <- if (nv > 0) sample.int(nv) else integer()
  if (control$precondition != "none") {
    prep$lnet <- list(kind = "regression", d = ncol(Y), p = ncol(X),
                      hidden = control$hidden, activation = control$activation,
                      freq = double(), time_map = "linear")
    # cross-fitting folds: K of them, or one per training row when there
    # are fewer (none, K = 1, below four training rows: in-sample residuals
    # of a network that fits each row would give a law of zero width); with
    # fewer than min_choice_rows held-out rows the held-out rows join the
    # folds (holdin_prep())
    K <- if (control$folds > 1L && length(tidx) >= 4L)
      min(control$folds, length(tidx)) else 1L
    prep$holdin <- K > 1L && length(vidx) > 0L && length(vidx) < min_choice_rows &&
      control$ensemble == 1L
    frows <- if (prep$holdin) c(tidx, vidx) else tidx
    if (K > 1L) {
      fold <- sample(rep_len(seq_len(K), length(frows)))
      prep$fold <- fold[seq_along(tidx)]
      if (prep$holdin) {
        prep$vfold <- fold[length(tidx) + seq_along(vidx)]
        prep$wall <- w[frows] / mean(w[frows])
      }
    }
    zero <- control$baseline == "linear"
    prep$zero_out <- zero
    prep$ltheta0 <- lapply(seq_len(K), function(k) init_theta(prep$lnet, zero))
    prep$lseed <- lapply(seq_len(K), function(k) draw_seed())
    prep$stheta0 <- lapply(seq_len(K), function(k) init_theta(prep$lnet, zero))
    prep$sseed <- lapply(seq_len(K), function(k) draw_seed())
    # skewed predictors, also tried on a log-like scale (no draws from the
    # generator: fits without them are unchanged)
    cand <- if (isTRUE(control$skew_transform) && K > 1L) skew_candidates(X) else 0
    if (any(cand > 0)) {
      XL <- log_cols(X, cand)
      sl <- standardize_cols(XL, control$standardize)
      prep$alt <- list(Xs = apply_scaling(XL, sl, which(sx$const)), sx = sl, x_log = cand)
    }
  }
  prep
}

# The training budget for ntr training rows and nv validation rows: epochs
# (from the budget in triples unless given), the earliest epoch at which
# training may stop (by default half the epochs, but no more than
# min_bridge_steps(ntr) optimiser steps: plateaus are counted in steps;
# this binds only below ~1900 rows), the epochs between validation checks,
# and the fixed validation draws per validation row (about 10,000 in all).
train_budget <- function(control, ntr, nv) {
  epochs <- if (is.null(control$epochs))
    as.integer(min(1e5, max(20, ceiling(control$samples / ntr)))) else control$epochs
  min_epochs <- if (is.null(control$min_epochs))
    min(epochs %/% 2L, ceiling(min_bridge_steps(ntr) / ceiling(ntr / control$batch_size))) else
    min(control$min_epochs, epochs)
  # a check every 50,000 training triples, and at least every 200 steps
  valid_every <- if (is.null(control$valid_every))
    as.integer(max(1, round(min(5e4 / ntr, 200 / ceiling(ntr / control$batch_size))))) else
    control$valid_every
  val_reps <- if (nv > 0) max(1L, min(200L, ceiling(1e4 / nv))) else 1L
  list(epochs = epochs, min_epochs = min_epochs, valid_every = valid_every,
       val_reps = val_reps, steps_per_epoch = ceiling(ntr / control$batch_size))
}

# The optimiser steps a bridge trains at least on ntr rows (unless half
# its epochs are fewer): 15 per row, between 2,500 and 30,000.  A bridge's
# validation loss may stall for thousands of steps before it resolves
# separate modes.  A floor of 8,000 steps instead of half the budget
# gave every CRPS of the simulation models at n = 5000 within 0.1% (and
# halved the fit's time: m2 11.8 to 6.1 s, bench/tune.R), but at n = 2000
# the bimodal m3's bridges stopped on their plateau: in
# tests/testthat/test-accuracy.R's slow test 54% of the draws of three
# fits at x = 2 lay near the two modes, where it asks for 90%.  On a
# few hundred rows the longer floor bought nothing: on the eight smallest sets of
# bench/realdata.R a floor of 5,000 steps instead of 30,000 gave the same
# CRPS (within 0.1%) and the same coverage, and one of 2,500 instead of
# 5,000 the same CRPS (within 0.01%) and coverage (within 0.6 points) on
# the seven sets of 105 to 226 training rows per fold.
min_bridge_steps <- function(ntr) min(3e4, max(2500, 15 * ntr))

# The planned work of each network of a fit, in the order they train, in
# row-epochs (an upper bound: early stopping ends networks sooner): the
# location networks of each fold (once more for each trial: input decay,
# the log scale of skewed predictors, piecewise-linear encodings, and
# twice for a factor's levels as effects), then the scale networks, then
# the bridges.
fit_plan <- function(prep, control, budget, inputs) {
  pre <- if (control$precondition == "none") numeric() else {
    ep <- regression_settings(control, budget)[["epochs"]]
    K <- length(prep$ltheta0)
    rows <- if (K > 1L) length(prep$tidx) - tabulate(prep$fold, K) else length(prep$tidx)
    rep(ep * rows, 1L + try_input_decay(prep, control) + try_skew(prep) +
                     (length(ple_columns(prep, control)) > 0L) +
                     2L * (!is.null(level_candidates(prep, control))) +
                     (control$precondition == "location-scale"))
  }
  fixed <- vapply(inputs, fixed_budget, FALSE, nv = length(prep$vidx))
  c(pre, ifelse(fixed, fixed_epochs(budget), budget$epochs) * length(prep$tidx))
}

# The progress of a fit over the networks of `plan` (fit_plan()), which
# train in that order: label(text, count) prefixes the progress label of
# the next `count` networks (trained side by side when more than one) with
# their places and, once a network has run, the time left overall at
# most (the time per row-epoch so far times the planned row-epochs left);
# done(work) records the row-epochs a network ran.
fit_progress <- function(plan) {
  st <- new.env(parent = emptyenv())
  st$t0 <- proc.time()[["elapsed"]]
  st$work <- 0
  st$k <- 0L
  list(label = function(text, count = 1L) {
    k1 <- st$k + 1L
    st$k <- st$k + count
    used <- proc.time()[["elapsed"]] - st$t0
    left <- if (st$work > 0)
      sprintf(", at most %s left in this fit", clock(used / st$work * sum(plan[k1:length(plan)])))
    else ""
    sprintf("[%s/%d%s] %s", if (count > 1L) sprintf("%d-%d", k1, st$k) else k1,
            length(plan), left, text)
  }, done = function(work) st$work <- st$work + work)
}

# The settings vector of C_sbcg_train, in the order of settings_spec in
# src/interface.c.
train_settings <- function(control, budget, resid, t_min = control$t_min,
                           t_max = control$t_max, t_tail = control$t_tail,
                           keep_last = FALSE, stop_epoch = 0, wd_input = 0,
                           overfit = 0, overfit_from = 0) {
  c(epochs = budget$epochs, min_epochs = budget$min_epochs,
    valid_every = budget$valid_every,
    patience = min(control$patience, 1e9), batch = control$batch_size,
    warmup = control$warmup, schedule = if (control$lr_schedule == "cosine") 1 else 0,
    resid = resid, t_min = t_min, t_max = t_max, t_tail = t_tail,
    lr = control$lr, lr_min = control$lr_min, beta1 = control$betas[1L],
    beta2 = control$betas[2L], adam_eps = control$adam_eps,
    weight_decay = control$weight_decay, ema = control$ema,
    val_reps = budget$val_reps, single = net_precision(),
    keep_last = if (keep_last) 1 else 0, stop_epoch = stop_epoch, wd_input = wd_input,
    overfit = overfit, overfit_from = overfit_from)
}

# The settings of a bridge: with the predictors as inputs (use_x), early
# stopping on the validation rows as set by the budget, and before
# min_epochs once it overfits (overfit_margin).  Without them and
# with at least min_choice_rows validation rows (nv), a fixed budget
# (fixed_budget(), fixed_epochs()), the learning rate decaying over it,
# and the last weights kept; the validation rows are scored at the end
# but choose nothing.
bridge_settings <- function(control, budget, use_x = TRUE, nv = 0L) {
  resid <- if (control$parameterization == "residual") 1 else 0
  if (!fixed_budget(use_x, nv))
    return(train_settings(control, budget, resid = resid, overfit = overfit_margin,
                          overfit_from = ceiling(overfit_steps / budget$steps_per_epoch)))
  e <- fixed_epochs(budget)
  train_settings(control, utils::modifyList(budget, list(epochs = e, min_epochs = e,
                                                         valid_every = e)),
                 resid = resid, keep_last = TRUE)
}

# A bridge early-stopped on its validation rows stops even before its
# floor of min_epochs once `patience` checks in a row scored more than
# overfit_margin above its best, if it has trained overfit_steps: the floor
# is there for plateaus, where the loss stays near its best for thousands
# of steps before separate modes resolve, not for a loss that climbs away
# from it.  In default fits of the simulation models (seed 1, n = 5000) and
# of m3 at n = 2000 (seeds 1-3) the rule ended only m2's and m7's bridges
# early, at epochs 550 and 825 of 1342, both long after their best (242
# and 396): the same weights in less time.  There the loss rose steadily,
# past 1% above its best about 200 and 330 epochs after it; on the
# plateaus of m1, m3-m6 and of m3 at n = 2000 it never stayed 1% above
# for 10 checks.
# Early in a run a loss can rise and then fall far below its best (small
# regressions in tests/testthat/test-threads.R), so the rule waits for
# overfit_steps, the floor of 8,000 steps that on its own kept every CRPS
# of the simulation models at n = 5000 within 0.1% (min_bridge_steps());
# below about 530 training rows the floor comes first and the rule never
# applies.
overfit_margin <- 0.01
overfit_steps <- 8000

# The epochs of a fixed-budget bridge: min_epochs (15 optimiser steps per
# training row, at least 2,500 and at most 30,000, or half the epochs), but
# at most fixed_bridge_steps steps.  It learns one law in one dimension,
# and at n = 5000 it is rarely the bridge kept; on the simulation models
# (bench/accuracy.R, 3 seeds) 4,000 steps instead of half the budget
# (24,000) left every CRPS within 0.1% (with the scale networks' shorter
# patience, scale_patience), and on bench/realdata.R, where it touches the
# sets of more than 266 training rows per fit, every set's CRPS within
# 0.25%.
fixed_epochs <- function(budget) {
  as.integer(max(1, min(budget$min_epochs,
                        ceiling(fixed_bridge_steps / budget$steps_per_epoch))))
}
fixed_bridge_steps <- 4000

# Regression networks: least squares of the target on x with the bridge's
# optimiser (times, noise and the parameterisation do not enter).  A plain
# regression needs fewer steps than the bridge's denoising, whose every
# row is seen at a new time and noise: half the bridge's epochs at most
# (on m1, whose mean must be fitted to a small fraction of its noise SD,
# a quarter left the networks short of their best), checked about 200
# times but at least every 100 optimiser steps, stopping 10 checks after
# the best (the scale networks 5: scale_patience).  On a few hundred rows,
# whose budget runs to tens of thousands of one-step epochs, the networks
# were best after at most about a thousand steps, and checks every
# epochs / 200 made each run 2,500 more.
regression_settings <- function(control, budget) {
  epochs <- max(20L, budget$epochs %/% 2L)
  b <- list(epochs = epochs, min_epochs = 0,
            valid_every = max(1L, min(epochs %/% 200L,
                                      as.integer(ceiling(100 / budget$steps_per_epoch)))),
            val_reps = 1)
  train_settings(utils::modifyList(control, list(patience = 10)), b,
                 resid = 0, t_min = 0, t_max = 0, t_tail = 0)
}

# Train `net` from theta0 on the target (standardised, n x d) at the rows
# `train` (weights wt) and `valid` (weights wv) of the standardised
# predictors Xs; stops with an error if the loss is not finite.  With
# `verbose`, the progress line starts with `label` (and, with a
# fit_progress() `progress`, the network's place in the fit and the time
# left overall).
train_net <- function(net, theta0, target, Xs, train, valid, wt, wv, seed, threads,
                      verbose, what, settings, label = what, progress = NULL) {
  if (!is.null(progress)) label <- progress$label(label)
  r <- .Call(C_sbcg_train, net_arch(net), as.double(net$freq), theta0,
             Xs, target, wt, Xs, target, wv, settings, seed, threads,
             if (verbose) paste0(label, ": ") else FALSE, kernel_set(),
             as.integer(train), as.integer(valid))
  if (!is.null(progress)) progress$done(r$epochs * length(train))
  check_diverged(r, what)
}

# Train the independent networks of one stage of a fit (the K location
# networks, the K scale networks, the bridges), all of architecture `net`,
# with the same settings (a vector) or with one settings vector per
# network (a list).  `jobs` is a list of list(theta0, target, Xs,
# train, valid, wt, wv, seed), one per network, as train_net() takes them;
# `labels` name the networks and `group` the stage.  With one thread, or
# one network, they train one after another (train_net()); otherwise side
# by side, one thread each (C_sbcg_train_group), so that threads meet a
# few times a second rather than after every optimiser step and a second
# thread speeds the stage up even on a machine busy with other work.  The
# results are the same bits either way.  The networks read their rows from
# the jobs' matrices by row number, without copies.
# With `cap` (networks that will share one epoch, shared_epoch()), a
# network trained after others ends at the fewest epochs any of them ran
# (stop_epoch, which leaves its steps and learning rates as they were):
# the shared epoch is chosen among the epochs every network reached, so
# the epochs beyond are never used, and the fit is the same bits.  One
# network of mammals' 62 rows on the log scale ran 27,600 epochs where
# the fewest were 1,400.  Networks trained side by side run uncapped.
train_nets <- function(net, jobs, threads, verbose, what, settings, labels, group,
                       progress = NULL, cap = FALSE) {
  m <- length(jobs)
  if (threads == 1L || m == 1L) {
    runs <- vector("list", m)
    for (j in seq_len(m)) {
      jb <- jobs[[j]]
      s <- if (is.list(settings)) settings[[j]] else settings
      if (cap && j > 1L) {
        fewest <- min(vapply(runs[seq_len(j - 1L)], `[[`, 0L, "epochs"))
        if (s[["stop_epoch"]] == 0 || fewest < s[["stop_epoch"]]) s[["stop_epoch"]] <- fewest
      }
      runs[[j]] <- train_net(net, jb$theta0, jb$target, jb$Xs, jb$train, jb$valid, jb$wt,
                             jb$wv, jb$seed, threads, verbose, what, s,
                             label = labels[j], progress = progress)
    }
    return(runs)
  }
  label <- if (is.null(progress)) group else progress$label(group, m)
  each <- function(name) lapply(jobs, `[[`, name)
  rows <- function(name) lapply(jobs, function(jb) as.integer(jb[[name]]))
  runs <- .Call(C_sbcg_train_group, net_arch(net), as.double(net$freq),
                each("theta0"), each("Xs"), each("target"), each("wt"),
                each("Xs"), each("target"), each("wv"), settings, each("seed"),
                threads, if (verbose) paste0(label, ": ") else FALSE, kernel_set(),
                rows("train"), rows("valid"))
  for (j in seq_len(m)) {
    if (!is.null(progress)) progress$done(runs[[j]]$epochs * length(jobs[[j]]$train))
    check_diverged(runs[[j]], what)
  }
  runs
}

# Stop with an error if a training run diverged (status 2).
check_diverged <- function(r, what) {
  if (r$status == 2L)
    stopf("training%s diverged at epoch %d: the loss is not finite; try a smaller 'lr' in sbcg_control()",
          if (what == "bridge") "" else sprintf(" of the %s network", what), r$epochs)
  invisible(r)
}

# The fit object: a plain list.
fit_assemble <- function(prep, pre, res, control, xinfo, xnames, ynames) {
  structure(list(
    theta = res$theta,
    net = prep$net,
    scaling = list(x_center = prep$sx$center, x_scale = prep$sx$scale,
                   y_center = prep$sy$center, y_scale = prep$sy$scale,
                   x_log = prep$x_log, x_const = constant_predictors(prep$sx, xinfo),
                   x_range = prep$x_range),
    precondition = pre,
    xinfo = xinfo,
    xnames = xnames,
    ynames = ynames,
    control = control,
    history = data.frame(epoch = seq_len(res$epochs), train = res$train_loss,
                         valid = res$valid_loss),
    best_epoch = res$best_epoch,
    stopped_early = res$status == 1L,
    steps_run = res$steps,
    n = prep$n, n_train = length(prep$tidx), n_valid = length(prep$vidx),
    weighted = prep$weighted,
    format = 2L,
    seconds = res$seconds + if (is.null(pre)) 0 else pre$seconds,
    version = as.character(getNamespaceVersion("sbcg"))
  ), class = "sbfit")
}
