# Methods for fits of class "sbfit": print, summary, plot (the loss
# curves), coef, nobs, formula, and predict and simulate, which call
# sbcondstats() and sbsample().

# The preconditioning in words: which networks, how many (cross-fitted),
# their epochs, the linear part, the power of the scale and the cells.
pre_string <- function(pre) {
  K <- if (is.matrix(pre$location)) ncol(pre$location) else 1L
  sprintf("%s%s %s%s, %s epochs%s%s%s%s%s%s",
          if (is.null(pre$scale)) "location network" else "location and scale networks",
          if (K > 1L) sprintf(" (%d%s, cross-fitted)", K, if (is.null(pre$scale)) "" else " of each")
          else "",
          net_string(pre$net), if (is.null(pre$linear)) "" else " on a linear fit",
          paste(unique(range(pre$epochs)), collapse = "-"),
          if (is.null(pre$scale_power)) "" else
            sprintf(", scale power %s", paste(format(pre$scale_power), collapse = " ")),
          if (isTRUE(pre$input_decay_tried)) {
            if (pre$input_decay > 0)
              sprintf(", input decay %g (out-of-fold error lower than without)", pre$input_decay)
            else ", no input decay (out-of-fold error lower than with)"
          } else if (isTRUE(pre$input_decay > 0)) sprintf(", input decay %g", pre$input_decay)
          else "",
          if (is.null(pre$residual_shrink)) "" else
            sprintf(", residuals moved %s of the way to the networks' mean's",
                    paste(format(pre$residual_shrink, digits = 2), collapse = " ")),
          if (!is.null(pre$cells$factor))
            sprintf(", effects of %d levels of '%s' instead of its columns among the location inputs (out-of-fold error lower than with them)",
                    length(pre$cells$key), pre$cells$factor)
          else if (!is.null(pre$cells))
            sprintf(", effects of %d cells of rows with the same predictors (out-of-fold error lower than without)",
                    length(pre$cells$key))
          else if (isTRUE(pre$tried_cells)) ", no cell effects (out-of-fold error lower than with)"
          else "",
          if (is.null(pre$tried_levels) || !is.null(pre$cells$factor)) ""
          else if (!is.null(pre$level_factor))
            sprintf(", '%s' left out of the location inputs (out-of-fold error lower than with it)",
                    pre$level_factor)
          else sprintf(", '%s' among the location inputs (out-of-fold error lower than with effects of its levels instead)",
                       pre$tried_levels),
          if (!is.null(pre$ple))
            sprintf(", piecewise-linear encodings of %d predictor column%s as further location inputs (out-of-fold error clearly lower than without)",
                    length(pre$ple$cols), if (length(pre$ple$cols) > 1L) "s" else "")
          else if (isTRUE(pre$tried_ple))
            ", no piecewise-linear encodings (out-of-fold error not clearly lower with them)"
          else "")
}

# Which predictors a fit took on a log-like scale (skew_transform), or
# NULL when it tried none.
skew_line <- function(fit) {
  xl <- fit$scaling$x_log
  if (any(xl > 0))
    return(sprintf("Skewed predictors as asinh(x / c) (out-of-fold error lower than on their own scale): %s",
                   paste(fit$xnames[xl > 0], collapse = ", ")))
  if (isTRUE(fit$precondition$skew_tried))
    return("Skewed predictors on their own scale (out-of-fold error lower than on a log scale)")
  NULL
}

# The epochs kept of the preconditioning networks: each network's best,
# or, with folds too small to choose their own (shared_epoch()), the one
# epoch of each stage, chosen on all folds.
pre_epochs <- function(pre) {
  if (!isTRUE(pre$shared_epoch))
    return(sprintf("best epochs %s", paste(unique(range(pre$best_epoch)), collapse = "-")))
  if (is.null(pre$scale))
    return(sprintf("epoch %d for every fold, chosen on all folds' rows", pre$best_epoch[1L]))
  sprintf("epochs %d (location) and %d (scale) for every fold, chosen on all folds' rows",
          pre$best_epoch[1L], pre$best_epoch[length(pre$best_epoch) %/% 2L + 1L])
}

# What the bridge of a preconditioned fit sees, and how that was chosen.
bridge_string <- function(fit) {
  # y ~ 1: no predictors to see or not
  if (is_unconditional(fit))
    return(if (isTRUE(fit$pooled_bridges))
      "two pooled in equal shares, each learning the one law of the standardised residual (no predictors)" else
      "one law of the standardised residual (no predictors)")
  if (isTRUE(fit$pooled_bridges)) return(pooled_string(fit))
  loc <- isTRUE(fit$location_inputs)
  seen <- if (loc) "the location and log scale" else "the predictors"
  txt <- if (isFALSE(fit$bridge_x))
    "without the predictors: one law of the standardised residual at every x" else
      if (bridge_sees_x(fit)) {
        if (loc) "with the location and log scale as its inputs, in place of the predictors"
        else "with the predictors"
      } else sprintf("with %s, whose weights ignore them: one law at every x", seen)
  with <- if (loc && isFALSE(fit$bridge_x)) "with the location and log scale" else "with them"
  ch <- fit$bridge_choice
  loss <- fit$bridge_loss
  if (!is.null(loss) && (fit$n_valid >= loss_choice_rows || length(fit$ynames) > 1L)) {
    txt <- sprintf("%s (chosen by the validation loss: %s %s, %s without)", txt,
                   loss_text(loss[["x"]]), with, loss_text(loss[["none"]]))
  } else if (!is.null(ch)) {
    cv <- fit$bridge_cover90
    txt <- sprintf("%s (chosen on the held-out rows: CRPS %.4g %s, %.4g without%s)",
                   txt, ch[["x"]], with, ch[["none"]],
                   if (is.null(cv)) "" else
                     sprintf("; 90%% intervals cover %.0f%% and %.0f%%",
                             100 * cv[["x"]], 100 * cv[["none"]]))
  } else if (isFALSE(fit$bridge_x) && identical(fit$control$bridge_inputs, "auto")) {
    txt <- sprintf("%s (%d held-out rows are too few to judge a bridge with them)", txt,
                   fit$n_valid)
  }
  txt
}

# The bridges of a fit that pools them (pool_bridges()).
pooled_string <- function(fit) {
  seen <- if (isTRUE(fit$location_inputs)) "the location and log scale" else "the predictors"
  one <- if (bridge_sees_x(member_object(fit, 1L))) sprintf("one with %s", seen) else
    sprintf("one with %s (whose weights ignore them)", seen)
  ch <- fit$bridge_choice
  cv <- fit$bridge_cover90
  sprintf("two pooled in equal shares, %s and one without (%d held-out rows, too few to choose between them: CRPS %.4g and %.4g%s); the lines below describe the first",
          one, fit$n_valid, ch[["x"]], ch[["none"]],
          if (is.null(cv)) "" else sprintf("; 90%% intervals cover %.0f%% and %.0f%%",
                                           100 * cv[["x"]], 100 * cv[["none"]]))
}

decorrelated_line <- "Decorrelated: the bridge learns the residuals whitened by their covariance on the training rows"

# A kept validation loss, Inf for the starting weights.
loss_text <- function(l) {
  if (is.finite(l)) sprintf("%.4g", l) else "no epoch beat the start"
}

net_string <- function(net) {
  paste(net_widths(net), collapse = " -> ")
}

act_label <- function(a) c(silu = "SiLU", relu = "ReLU", tanh = "tanh")[[a]]

sampler_label <- function(m) {
  if (identical(m, "bridge")) "Brownian-bridge steps" else
    if (identical(m, "em_denoise")) "Euler-Maruyama, noiseless last step" else "Euler-Maruyama"
}

# The corner of the plot region (xlim x ylim) that the points (x, y) crowd
# least, for a legend; `logy` when the y axis is logarithmic.
free_corner <- function(x, y, xlim, ylim, logy = FALSE) {
  ok <- is.finite(x) & is.finite(y)
  if (logy) ok <- ok & y > 0
  x <- x[ok]
  y <- y[ok]
  if (logy) {
    y <- log(y)
    ylim <- log(ylim)
  }
  u <- (x - xlim[1L]) / diff(xlim)
  v <- (y - ylim[1L]) / diff(ylim)
  corners <- c("topright", "topleft", "bottomright", "bottomleft")
  count <- c(sum(u > 0.55 & v > 0.65, na.rm = TRUE), sum(u < 0.45 & v > 0.65, na.rm = TRUE),
             sum(u > 0.55 & v < 0.35, na.rm = TRUE), sum(u < 0.45 & v < 0.35, na.rm = TRUE))
  corners[which.min(count)]
}

#' Methods for fitted conditional Schrödinger bridges
#'
#' Printing, summaries, loss curves, coefficients and simulation for fits
#' from [sbfit()].
#'
#' @param x,object a fit from [sbfit()].
#' @param ... for `update()`, arguments of [sbfit()] to change; for
#'   `model.frame()`, `model.matrix()` and `weights()`, `data`, `subset`
#'   and `na.action` in place of the fit's; for `plot()`, graphical
#'   parameters; otherwise not used.
#' @name sbfit-methods
#' @return `print()` returns `x` invisibly; `summary()` an object of class
#'   `"summary.sbfit"`; `coef()` a list with, per layer, the `weight`
#'   matrix (outputs x inputs) and the `bias` vector; `nobs()` the number
#'   of rows used in fitting (training and validation; rows of weight zero
#'   are left out; rows that repeat others exactly count, though the fit
#'   takes each group of them as one row weighted by the count);
#'   `formula()` the model formula; `model.frame()` and `model.matrix()` the fit's model
#'   frame and design matrix; `weights()` the case weights, `NULL` for an
#'   unweighted fit; `update()` the new fit, or its call with `evaluate =
#'   FALSE`.
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(300), y = rnorm(300))
#' # a toy budget so that the example runs in a second; real fits keep the default
#' fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 10), seed = 1)
#' print(fit)
#' summary(fit)
#' plot(fit)
#' str(coef(fit), max.level = 1)
#' nobs(fit)
#' formula(fit)
NULL

#' @rdname sbfit-methods
#' @export
print.sbfit <- function(x, ...) {
  check_fit(x, "x")
  cat("Conditional Schr\u00f6dinger bridge fit (sbcg)\n")
  if (!is.null(x$call)) cat("Call: ", paste(deparse(x$call), collapse = "\n"), "\n", sep = "")
  net <- x$net
  if (is_unconditional(x))
    cat(sprintf("Response: %s; no predictors: the unconditional law (newdata may be left out)\n",
                paste(x$ynames, collapse = ", ")))
  else
    cat(sprintf("Response: %s; %d predictor column%s\n",
                paste(x$ynames, collapse = ", "), net$p, if (net$p == 1L) "" else "s"))
  cat(support_line(x), "\n", sep = "")
  cat(sprintf("Network: %s, %s, %s parameters\n", net_string(net),
              act_label(net$activation), format(length(x$theta), big.mark = ",")))
  pre <- x$precondition
  if (!is.null(pre))
    cat(sprintf("Preconditioning: %s; the bridge models the standardised residuals\nBridge: %s\n",
                pre_string(pre), bridge_string(x)))
  if (!is.null(x$mix)) cat(decorrelated_line, "\n", sep = "")
  en <- ensemble_line(x)
  if (!is.null(en)) cat("Ensemble: ", en, "\n", sep = "")
  sk <- skew_line(x)
  if (!is.null(sk)) cat(sk, "\n", sep = "")
  if (!is.null(x$linear)) cat(linear_line(x$linear), "\n", sep = "")
  dl <- direct_line(x)
  if (!is.null(dl)) cat(dl, "\n", sep = "")
  h <- x$history
  stop_txt <- stop_string(x$stopped_early, x$fixed_budget, "all epochs")
  cat(sprintf("Training: %d rows (%d for validation%s), %d epochs (%s), best epoch %d, %.1f s%s%s\n",
              x$n, x$n_valid, paste0(zero_weight_txt(x$n_zero_weight), na_txt(x$na.action),
                                     copied_txt(x$n_copied, x$n)),
              nrow(h), stop_txt,
              x$best_epoch, x$seconds,
              if (is.numeric(x$threads)) sprintf(" on %d thread%s", as.integer(x$threads),
                                                 if (x$threads == 1) "" else "s") else "",
              if (is.character(x$precision) && length(x$precision) == 1L)
                sprintf(", %s precision", x$precision) else ""))
  if (nrow(h) && x$best_epoch == 0L) {
    cat("Loss (standardised scale): no epoch beat the starting weights on the validation rows; the fit keeps them\n")
  } else if (nrow(h)) {
    b <- x$best_epoch
    if (x$n_valid > 0)
      cat(sprintf("Loss (standardised scale): train %.4g, validation %.4g\n",
                  h$train[b], h$valid[b]))
    else cat(sprintf("Loss (standardised scale): train %.4g\n", h$train[b]))
  }
  cat(sprintf("Sampler: %s, %d steps, %d draws by default\n",
              sampler_label(x$control$sampler), x$control$steps, x$control$draws))
  cat(format_holdout(x$holdout, recal = x$recalibration, validation = x$control$validation,
                     n_valid = x$n_valid, copies = isTRUE(x$copy_weights)), sep = "\n")
  invisible(x)
}

# How a bridge's training ended, for print() and summary().
stop_string <- function(stopped_early, fixed_budget, otherwise) {
  if (isTRUE(stopped_early)) "stopped early"
  else if (isTRUE(fixed_budget)) "a fixed budget, the last weights kept"
  else otherwise
}

#' @rdname sbfit-methods
#' @export
summary.sbfit <- function(object, ...) {
  check_fit(object)
  s <- object$scaling
  xn <- as.character(object$xnames)
  px <- if (is_unconditional(object)) integer() else seq_along(xn)
  sc <- rbind(data.frame(variable = xn[px], role = rep("predictor", length(px)),
                         center = s$x_center[px], scale = s$x_scale[px]),
              data.frame(variable = object$ynames, role = "response",
                         center = s$y_center, scale = s$y_scale))
  h <- object$history
  b <- object$best_epoch  # 0: the starting weights, whose losses are not recorded
  structure(list(call = object$call, net = object$net,
                 npar = length(object$theta), control = object$control,
                 scaling = sc, n = object$n, n_train = object$n_train,
                 n_valid = object$n_valid, n_zero_weight = object$n_zero_weight,
                 n_copied = object$n_copied,
                 na.action = object$na.action,
                 epochs = nrow(h),
                 best_epoch = object$best_epoch,
                 stopped_early = object$stopped_early,
                 fixed_budget = object$fixed_budget,
                 train_loss = if (nrow(h) && b > 0) h$train[b] else NA_real_,
                 valid_loss = if (nrow(h) && b > 0) h$valid[b] else NA_real_,
                 steps = object$steps_run, seconds = object$seconds,
                 weighted = isTRUE(object$weighted), copy_weights = object$copy_weights,
                 precondition = object$precondition,
                 holdout = object$holdout, recalibration = object$recalibration,
                 bridge = if (!is.null(object$precondition)) bridge_string(object),
                 decorrelated = !is.null(object$mix), ensemble = ensemble_line(object),
                 linear = object$linear, direct = direct_line(object),
                 support = support_line(object),
                 fitted_scale = !is.null(object$support) && object$support$type != "real"),
            class = "summary.sbfit")
}

#' @rdname sbfit-methods
#' @export
print.summary.sbfit <- function(x, ...) {
  cat("Conditional Schr\u00f6dinger bridge fit (sbcg)\n\n")
  if (!is.null(x$call)) cat("Call:\n", paste(deparse(x$call), collapse = "\n"), "\n\n", sep = "")
  ctl <- x$control
  if (!is.null(x$support)) cat(sub("^Support: ", "Support:   ", x$support), "\n", sep = "")
  cat(sprintf("Network:   %s, %s, %s parameters\n", net_string(x$net),
              act_label(x$net$activation), format(x$npar, big.mark = ",")))
  cat(sprintf("Time:      %d sinusoidal frequencies in [%g, %g] of %s; training times in [%g, %g]%s\n",
              length(x$net$freq), ctl$freq_range[1L], ctl$freq_range[2L],
              if (identical(x$net$time_map, "logit")) "the log-odds time" else "t",
              ctl$t_min, ctl$t_max,
              if (isTRUE(ctl$t_tail > 0)) sprintf(", %g%% uniform in log-odds", 100 * ctl$t_tail) else ""))
  pre <- x$precondition
  if (!is.null(pre))
    cat(sprintf("Precond.:  %s (%s)\n", pre_string(pre), pre_epochs(pre)))
  if (!is.null(x$bridge)) cat(sprintf("Bridge:    %s\n", x$bridge))
  if (isTRUE(x$decorrelated)) cat(decorrelated_line, "\n", sep = "")
  if (!is.null(x$ensemble)) cat("Ensemble:  ", x$ensemble, "\n", sep = "")
  if (!is.null(x$linear)) cat(sub("^Linear part: ", "Linear:    ", linear_line(x$linear)), "\n", sep = "")
  if (!is.null(x$direct)) cat(sub("^Direct bridge: ", "Direct:    ", x$direct), "\n", sep = "")
  cat(sprintf("Optimiser: Adam, lr %g (%s), batch %d, weight decay %g\n",
              ctl$lr, ctl$lr_schedule, ctl$batch_size, ctl$weight_decay))
  cat(sprintf("Data:      %d rows: %d training, %d validation%s%s\n", x$n,
              x$n_train, x$n_valid,
              if (!x$weighted) "" else if (isTRUE(x$copy_weights)) "; the copies' counts as weights"
              else "; case weights",
              paste0(zero_weight_txt(x$n_zero_weight), na_txt(x$na.action),
                     copied_txt(x$n_copied, x$n))))
  cat(sprintf("Training:  %s (%s optimiser steps), %s; best epoch %d; %.1f s\n",
              if (isTRUE(x$fixed_budget)) sprintf("%d epochs", x$epochs) else
                sprintf("%d of at most %d epochs", x$epochs, ctl$epochs),
              format(x$steps, big.mark = ","),
              stop_string(x$stopped_early, x$fixed_budget, "ran all epochs"),
              x$best_epoch, x$seconds))
  if (x$best_epoch == 0L)
    cat("Loss:      no epoch beat the starting weights on the validation rows\n")
  else
    cat(sprintf("Loss at best epoch: train %.4g, validation %s\n", x$train_loss,
                if (is.na(x$valid_loss)) "-" else format(signif(x$valid_loss, 4))))
  cat(sprintf("Sampler:   %s, %d steps, grid power %g, %d draws by default\n",
              sampler_label(ctl$sampler), ctl$steps, ctl$grid_power, ctl$draws))
  cat(format_holdout(x$holdout, detail = TRUE, recal = x$recalibration,
                     validation = ctl$validation, n_valid = x$n_valid,
                     copies = isTRUE(x$copy_weights)), sep = "\n")
  cat(if (isTRUE(x$fitted_scale)) "\nStandardisation (the response's on its fitted scale):\n" else
        "\nStandardisation:\n")
  print(x$scaling, row.names = FALSE, digits = 4)
  invisible(x)
}

#' @rdname sbfit-methods
#' @param log whether to draw the loss on a log scale (ignored when a loss is
#'   not positive).
#' @details `plot()` draws the training loss per epoch and, when the fit
#'   held rows out for validation, the validation loss at the epochs where
#'   it was computed, on the standardised scale; the epoch whose weights the
#'   fit keeps (the best validation loss) is circled and marked by a dotted
#'   line, when an epoch beat the starting weights (otherwise the subtitle
#'   says the fit kept them).  Graphical parameters in `...` (`main`, `ylim`, `col`, ...)
#'   override the defaults.  A fit that pools several laws (two bridges, or
#'   an ensemble) shows the training of the first bridge, as its title says.
#' @export
plot.sbfit <- function(x, log = TRUE, ...) {
  check_fit(x, "x")
  if ("which" %in% names(list(...)))
    stopf("unknown argument 'which': plot() of a fit draws its loss curves; plot(sbscore(fit, newdata)) draws the PIT and the coverage")
  log <- check_flag(log, "log")
  h <- x$history
  if (!is.data.frame(h) || !nrow(h) || !all(c("epoch", "train", "valid") %in% names(h)))
    stopf("'x' has no loss history")
  tr_ok <- is.finite(h$train)
  va_ok <- is.finite(h$valid)
  if (!any(tr_ok | va_ok)) stopf("'x' has no finite loss to plot")
  vals <- c(h$train[tr_ok], h$valid[va_ok])
  if (log && any(vals <= 0)) log <- FALSE
  has_v <- any(va_ok)
  best <- x$best_epoch
  col_t <- "grey30"
  col_v <- "#D55E00"
  sub <- if (has_v && best == 0L) {
    sprintf("no validation check of %d (over %d epochs) beat the starting weights; the fit keeps them",
            sum(va_ok), nrow(h))
  } else if (has_v) {
    sprintf("best validation loss at epoch %d of %d%s; the fit keeps its weights",
            best, nrow(h), if (isTRUE(x$stopped_early)) " (stopped early)" else "")
  } else sprintf("%d epochs, no validation rows: the fit keeps the last weights", nrow(h))
  args <- utils::modifyList(list(
    x = h$epoch[tr_ok], y = h$train[tr_ok], type = if (sum(tr_ok) <= 30L) "o" else "l",
    pch = 16, cex = 0.6, col = col_t, lwd = 2, ylim = range(vals), xlim = range(h$epoch),
    log = if (log) "y" else "", xlab = "epoch",
    ylab = if (log) "loss (standardised scale, log axis)" else "loss (standardised scale)",
    main = if (n_members(x) > 1L) sprintf("Training and validation loss (the first of %d bridges)",
                                           n_members(x)) else "Training and validation loss"),
    list(...))
  do.call(graphics::plot, args)
  graphics::mtext(sub, side = 3, line = 0.3, cex = 0.8)
  if (has_v) {
    graphics::lines(h$epoch[va_ok], h$valid[va_ok], col = col_v, lwd = 2,
                    type = if (sum(va_ok) <= 30L) "o" else "l", pch = 16, cex = 0.8)
    if (best >= 1L && best <= nrow(h) && is.finite(h$valid[best])) {
      graphics::abline(v = best, lty = 3, col = "grey50")
      graphics::points(best, h$valid[best], pch = 21, cex = 2, lwd = 2, col = col_v)
    }
  }
  where <- free_corner(c(h$epoch[tr_ok], h$epoch[va_ok]), c(h$train[tr_ok], h$valid[va_ok]),
                       args$xlim, args$ylim, logy = grepl("y", args$log))
  # (the best epoch marked only where one beat the starting weights)
  mark <- has_v && best >= 1L
  graphics::legend(where, bg = grDevices::adjustcolor("white", 0.8), box.col = NA,
                   legend = c("training", if (has_v) "validation", if (mark) "best epoch"),
                   col = c(col_t, if (has_v) col_v, if (mark) col_v),
                   lwd = c(2, if (has_v) 2, if (mark) 2), lty = c(1, if (has_v) 1, if (mark) NA),
                   pch = c(NA, if (has_v) NA, if (mark) 21), pt.cex = 1.5)
  invisible(x)
}

#' @rdname sbfit-methods
#' @export
coef.sbfit <- function(object, ...) {
  check_fit(object)
  net <- object$net
  inp <- c(paste0("z.", object$ynames),
           if (length(net$freq)) c(paste0("sin.", seq_along(net$freq)),
                                   paste0("cos.", seq_along(net$freq))),
           object$xnames)
  net_layers(net, object$theta, inp)
}

#' @rdname sbfit-methods
#' @export
nobs.sbfit <- function(object, ...) {
  object$n + if (is.null(object$n_copied)) 0L else object$n_copied
}

#' @rdname sbfit-methods
#' @export
formula.sbfit <- function(x, ...) {
  check_fit(x, "x")
  if (!is.null(x$formula)) return(x$formula)
  # a fit from a data frame: its variables (the terms it built); from a
  # matrix: its columns; names that are not syntactic in backquotes
  bq <- function(v) ifelse(make.names(v) == v, v, paste0("`", v, "`"))
  xt <- x$xinfo$terms
  rhs <- if (!is.null(xt)) attr(xt, "term.labels") else bq(x$xnames)
  if (!length(rhs)) rhs <- "1"
  yn <- bq(x$ynames)
  lhs <- if (length(yn) == 1L) yn else sprintf("cbind(%s)", paste(yn, collapse = ", "))
  stats::as.formula(paste(lhs, "~", paste(rhs, collapse = " + ")), env = globalenv())
}

#' @rdname sbfit-methods
#' @details `terms()` works for fits from a formula or a data frame,
#'   `model.frame()`, `model.matrix()` and `weights()` for fits from a
#'   formula.  The fit keeps no copy of the data, so `model.frame()`
#'   evaluates the fit's call again, in the environment of its formula (as
#'   [stats::lm()] does with `model = FALSE`): the data must still be found
#'   there, or be given, `model.frame(fit, data = d)`.  When the frame it
#'   finds does not have the number of rows the fit used, it stops rather
#'   than return other data.  `model.matrix()` codes factors with the fit's
#'   contrasts and, as for `lm()`, includes the intercept column, which the
#'   fit's networks do not take.  `fitted()` and `residuals()` stop with a
#'   message: a conditional law has no single fitted value; `predict(fit,
#'   newdata = <training data>)` gives the conditional means and
#'   [sbscore()] the probability integral transforms, the residuals of a
#'   distributional fit.
#' @export
terms.sbfit <- function(x, ...) {
  check_fit(x, "x")
  if (!is.null(x$terms)) return(x$terms)
  if (!is.null(x$formula)) return(stats::terms(x$formula))
  # a fit from a data frame: the terms of its variables
  if (!is.null(x$xinfo$terms)) return(stats::terms(stats::formula(x)))
  stopf("'x' was fitted from a matrix: it has no terms; fit it with a formula, sbfit(y ~ ., data)")
}

#' @rdname sbfit-methods
#' @param formula a fit from [sbfit()] (the name is that of the generic).
#' @export
model.frame.sbfit <- function(formula, ...) {
  fit <- formula
  check_fit(fit, "formula")
  if (is.null(fit$formula) || !is.call(fit$call))
    stopf("'formula' was fitted from 'x' and 'y' (a matrix or data frame): it has no model frame; the data are the 'x' and 'y' given to sbfit()")
  # data, subset and na.action in place of the call's: data and na.action
  # evaluated where given, subset (unevaluated) within the data
  given <- match.call(expand.dots = FALSE)$...
  given <- given[intersect(names(given), c("data", "subset", "na.action"))]
  fcall <- fit$call
  m <- match(c("formula", "data", "subset", "weights", "na.action"), names(fcall), 0L)
  fcall <- fcall[c(1L, m)]
  fcall$drop.unused.levels <- TRUE
  # factors keep the fit's levels, whatever the data hold
  if (length(fit$xinfo$xlevels)) fcall$xlev <- fit$xinfo$xlevels
  fcall[[1L]] <- quote(stats::model.frame)
  fcall$formula <- stats::terms(fit)
  env <- environment(fit$formula)
  if (is.null(env)) env <- parent.frame()
  if (length(given)) {
    genv <- new.env(parent = env)
    for (a in names(given)) {
      if (a == "subset") {
        fcall$subset <- given$subset
        next
      }
      assign(paste0(".sbcg_", a), eval(given[[a]], parent.frame()), envir = genv)
      fcall[[a]] <- as.name(paste0(".sbcg_", a))
    }
    env <- genv
  }
  mf <- tryCatch(eval(fcall, env), error = function(e) {
    if ("data" %in% names(given))
      stopf("cannot build the model frame of the fit on 'data': %s", conditionMessage(e))
    stopf("cannot rebuild the model frame: the fit keeps no copy of the data, and evaluating its call failed (%s); give the data, model.frame(fit, data = d)",
          conditionMessage(e))
  })
  used <- stats::nobs(fit) + if (is.null(fit$n_zero_weight)) 0L else fit$n_zero_weight
  if (!length(given) && nrow(mf) != used)
    stopf("cannot rebuild the model frame: the data that the fit's call finds now (in the environment of its formula) give %d rows, but the fit used %d; give the data, model.frame(fit, data = d)",
          nrow(mf), used)
  mf
}

#' @rdname sbfit-methods
#' @importFrom stats model.matrix
#' @export
model.matrix.sbfit <- function(object, ...) {
  mf <- frame_of(object, match.call(expand.dots = FALSE)$..., parent.frame())
  stats::model.matrix(stats::terms(object), mf, contrasts.arg = object$xinfo$contrasts)
}

# model.frame(object, <dots>) with the arguments `dots` as the caller
# wrote them (unevaluated, so that a subset is taken within the data),
# evaluated from the caller's frame `env`.
frame_of <- function(object, dots, env) {
  eval(as.call(c(list(quote(stats::model.frame), quote(object)), dots)),
       list(object = object), env)
}

#' @rdname sbfit-methods
#' @export
weights.sbfit <- function(object, ...) {
  check_fit(object, "object")
  if (!is.call(object$call) || is.null(object$call$weights)) return(NULL)
  if (is.null(object$formula))
    stopf("'object' was fitted from 'x' and 'y': it keeps no copy of its case weights, which are the 'weights' given to sbfit()")
  stats::model.weights(frame_of(object, match.call(expand.dots = FALSE)$..., parent.frame()))
}

#' @rdname sbfit-methods
#' @param formula. for `update()`, changes to the formula, as in
#'   [stats::update.formula()] (`. ~ . + x2`); only for fits from a formula.
#' @param evaluate for `update()`, whether to refit (`TRUE`) or return the
#'   new call.
#' @details `update(fit, ...)` refits with the arguments given replacing
#'   those of the fit's call, as [stats::update()] does, with one
#'   difference: a `control` written out as `list(...)` or
#'   `sbcg_control(...)` changes only the settings it names and keeps the
#'   others of the fit's call, so `update(fit, control = list(epochs =
#'   200))` keeps the fit's other settings (a setting given as `NULL` takes
#'   its default).  Any other expression, such as a variable holding
#'   settings, replaces the fit's `control`, and `control = NULL` goes back
#'   to the defaults.  The fit's call holds its seed, so the refit uses the
#'   same seed unless `seed` is given.
#' @export
update.sbfit <- function(object, formula., ..., evaluate = TRUE) {
  check_fit(object, "object")
  cl <- object$call
  if (!is.call(cl)) stopf("'object' has no call to update")
  # fits saved by versions whose call named the method
  if (is.name(cl[[1L]]) && as.character(cl[[1L]]) %in% c("sbfit.formula", "sbfit.default"))
    cl[[1L]] <- quote(sbfit)
  if (!missing(formula.)) {
    if (is.null(cl$formula))
      stopf("'object' was fitted from 'x' and 'y', not from a formula: update() can change its other arguments; to change the predictors, fit sbfit(y ~ ., data)")
    cl$formula <- stats::update(stats::formula(object), formula.)
  }
  extras <- match.call(expand.dots = FALSE)$...
  if ("control" %in% names(extras) && !is.null(extras$control) && !is.null(cl$control))
    extras$control <- merge_control_calls(cl$control, extras$control)
  # (an argument given as NULL is removed, so it takes its default)
  for (a in names(extras)) cl[[a]] <- extras[[a]]
  if (!isTRUE(evaluate)) return(cl)
  eval(cl, parent.frame())
}

# The expression of the control of an updated call: `new` (written out as
# list(...) or sbcg_control(...) with named settings) changes the settings
# it names and keeps the others of `old`; as one call of old's function
# when `old` is written out too, otherwise modifyList(old, list(...)).  Any
# other `new` (a variable, a function of one's own) replaces `old`, as in
# stats::update().
merge_control_calls <- function(old, new) {
  spelled <- function(e) {
    if (!is.call(e) || !deparse1(e[[1L]]) %in%
        c("list", "sbcg_control", "sbcg::sbcg_control", "sbcg:::sbcg_control"))
      return(FALSE)
    args <- as.list(e)[-1L]
    !length(args) || (!is.null(names(args)) && all(names(args) != ""))
  }
  if (!spelled(new)) return(new)
  set <- as.list(new)[-1L]
  if (!spelled(old))
    return(as.call(list(quote(utils::modifyList), old, as.call(c(list(quote(list)), set)))))
  # (a setting given as NULL is dropped, so it takes its default)
  args <- as.list(old)[-1L]
  for (a in names(set)) args[[a]] <- set[[a]]
  # (old's own function: list, or sbcg_control as the call named it)
  as.call(c(list(old[[1L]]), args))
}

#' @rdname sbfit-methods
#' @export
fitted.sbfit <- function(object, ...) {
  stopf("a fit of a conditional law has no single fitted value; use predict(fit, newdata = <training data>) for the conditional means, or type = \"quantile\" for quantiles")
}

#' @rdname sbfit-methods
#' @export
residuals.sbfit <- function(object, ...) {
  stopf("a fit of a conditional law has no single residual; use y - predict(fit, newdata = <training data>) for residuals from the conditional mean, or sbscore(fit, <training data>)$pit for probability integral transforms")
}

#' @rdname sbfit-methods
#' @details `logLik()`, `vcov()` and `sigma()` stop with a message: the
#'   fit has no likelihood to compare (and so no AIC), its network weights
#'   no standard errors, and its conditional spread changes with the
#'   predictors.  To compare fits, score them on rows they did not see
#'   with [sbscore()] (`fit$holdout` holds the fit's own held-out scores);
#'   conditional SDs come from `predict(fit, newdata, type = "sd")`, and the
#'   Monte Carlo error of any statistic from `sbcondstats(se = TRUE)`.
#' @export
logLik.sbfit <- function(object, ...) {
  stopf("a fit of sbcg has no likelihood (and so no AIC or BIC): compare fits by their scores on rows they did not see, sbscore(fit, newdata), or by their held-out scores in print(fit)")
}

#' @rdname sbfit-methods
#' @export
vcov.sbfit <- function(object, ...) {
  stopf("the weights of a fit of sbcg have no standard errors (and so no confidence intervals): predict(fit, newdata, interval = \"prediction\") gives intervals for the response, and sbcondstats(fit, newdata, se = TRUE) the Monte Carlo errors of its statistics")
}

#' @rdname sbfit-methods
#' @export
sigma.sbfit <- function(object, ...) {
  stopf("a fit of sbcg has no single residual SD: its conditional SD changes with the predictors; predict(fit, newdata, type = \"sd\") gives it at the rows of 'newdata'")
}

#' @rdname sbfit-methods
#' @param probs probabilities, for `quantile()`.
#' @param newdata predictor values, for `quantile()`; required, but for a
#'   fit of the unconditional law (`y ~ 1`), whose quantiles it then gives.
#' @details `quantile(fit, probs, newdata)` is
#'   `predict(fit, newdata, type = "quantile", probs = probs)`: the
#'   conditional quantiles at the rows of `newdata`.
#' @export
quantile.sbfit <- function(x, probs = c(0.05, 0.5, 0.95), newdata, ...) {
  # y ~ 1: the unconditional law's quantiles, as predict() gives them
  if (missing(newdata) && is_unconditional(x)) newdata <- data.frame(row.names = 1L)
  if (missing(newdata))
    stopf("'newdata' is missing: quantile() of a fit gives conditional quantiles at the rows of 'newdata', as predict(fit, newdata, probs = ...) does")
  stats::predict(x, newdata, type = "quantile", probs = probs, ...)
}

#' Predictions from a conditional Schrödinger bridge
#'
#' Conditional means, standard deviations, quantiles, prediction intervals
#' or probabilities \eqn{P(Y \le y_0 | X = x)} at the rows of `newdata`,
#' estimated from `ndraws` draws per row, with the conventions of
#' [stats::predict.lm()].
#'
#' Giving `probs` implies `type = "quantile"`, and giving `at` implies
#' `type = "cdf"`.  `interval = "prediction"` returns, for one response, a
#' matrix with columns `fit` (the conditional mean), `lwr` and `upr` (the
#' \eqn{(1 - level)/2} and \eqn{(1 + level)/2} conditional quantiles): a
#' prediction interval for a new observation at that `x`, from the fitted
#' law.
#'
#' @section Reproducibility: unlike [sbsample()] and [sbcondstats()],
#'   `predict()` is reproducible by default: with `seed = NULL` it samples
#'   with the seed stored in the fit (`object$seed`), so two calls with the
#'   same arguments give identical numbers, as `predict()` of other models
#'   does.  Give `seed` to draw other samples.
#'
#'   As in [sbcondstats()], a fit whose bridge does not see the predictors
#'   (`object$bridge_x` is `FALSE`, or weights that ignore them) samples its
#'   standardised law once per
#'   call and maps those draws to every row, so that a call costs `ndraws`
#'   chains whatever the number of rows (see "Rows share their draws when
#'   the bridge ignores x" in [sbcondstats()]).
#'
#' @param object a fit from [sbfit()].
#' @param newdata predictor values, as for [sbsample()].
#' @param type `"mean"`, `"sd"`, `"quantile"` or `"cdf"` (the probabilities
#'   \eqn{P(Y \le y_0 | X = x)} at the thresholds `at`).
#' @param probs probabilities for `type = "quantile"`; giving them implies
#'   that type.  As in [sbcondstats()], those further into a tail than
#'   `ndraws` draws resolve give a warning.
#' @param interval `"none"` or `"prediction"`, as in [stats::predict.lm()]:
#'   `"prediction"` returns the conditional mean with the central
#'   prediction interval of level `level` (one response only).
#' @param level the level of the prediction interval, in (0, 1).
#' @param at thresholds \eqn{y_0} for `type = "cdf"`: a numeric vector, or
#'   a matrix with one row per row of `newdata` (see [sbcondstats()]);
#'   giving them implies that type.
#' @param seed `NULL` (the default) for the seed stored in the fit, or a
#'   number for [set.seed()]; see the section "Reproducibility".  The
#'   caller's generator state is left alone either way.
#' @inheritParams sbsample
#' @param na.action what to do with rows of `newdata` with missing
#'   predictors: [stats::na.pass()] (the default) or [stats::na.exclude()]
#'   give `NA` in their place, [stats::na.omit()] leaves them out,
#'   [stats::na.fail()] stops; see [sbsample()].
#' @param stratify whether to stratify the noise of each row's draws (the
#'   default), which gives the same law with a smaller Monte Carlo error;
#'   see the section "Stratified noise" of [sbsample()].
#' @return For `"mean"` and `"sd"`: a vector (one response) or a matrix with
#'   one column per response.  For `"quantile"` (and `"cdf"`): a matrix with
#'   one column per probability (threshold) for one response, or an array
#'   rows x probabilities (thresholds) x responses.  With
#'   `interval = "prediction"`: a matrix with columns `fit`, `lwr` and
#'   `upr`.  Rows are named as those of `newdata`; a `newdata` of no rows
#'   gives a result of no rows, as [stats::predict.lm()] does.
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(500, -2, 2))
#' d$y <- 2 * d$x + rnorm(500)
#' # a toy budget so that the example runs in a second; real fits keep the default
#' fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 20), seed = 1)
#' nd <- data.frame(x = c(-1, 1))
#' predict(fit, nd)
#' predict(fit, nd, probs = c(0.1, 0.5, 0.9))
#' predict(fit, nd, interval = "prediction", level = 0.9)
#' predict(fit, nd, at = c(-2, 0, 2))   # P(Y <= y0 | x)
#' identical(predict(fit, nd), predict(fit, nd))
#' @export
predict.sbfit <- function(object, newdata, type = c("mean", "sd", "quantile", "cdf"),
                          probs = c(0.05, 0.5, 0.95), interval = c("none", "prediction"),
                          level = 0.95, at = NULL, ndraws = object$control$draws,
                          steps = NULL, method = NULL, threads = sbcg_threads(),
                          seed = NULL, na.action = stats::na.pass, stratify = TRUE,
                          ..., n) {
  check_dots(...)
  check_no_se(sys.call())
  if (!missing(n)) {
    nname <- renamed_arg("predict", "ndraws", "n", !missing(ndraws), TRUE)
    ndraws <- check_count(n, nname, 2, 1e8)
  }
  types <- c("mean", "sd", "quantile", "cdf")
  interval <- check_choice(interval, c("none", "prediction"), "interval")
  if (interval == "prediction" && !missing(probs))
    stopf("'interval' = \"prediction\" takes its ends from 'level', not 'probs' (for quantiles, type = \"quantile\")")
  if (missing(type)) {
    if (!missing(probs) && !is.null(at))
      stopf("give 'probs' (quantiles) or 'at' (probabilities), not both, or set 'type'")
    type <- if (!missing(probs)) "quantile" else if (!is.null(at)) "cdf" else "mean"
  }
  type <- check_choice(type, types, "type")
  check_fit(object)
  if (missing(newdata) && is_unconditional(object)) newdata <- data.frame(row.names = 1L)
  if (missing(newdata)) stopf("'newdata' is missing: the fit keeps no copy of the training data")
  d <- length(object$ynames)
  if (interval == "prediction") {
    if (d > 1L)
      stopf("'interval' = \"prediction\" is defined for one response; this fit has %d (use type = \"quantile\")", d)
    if (type != "mean")
      stopf("'interval' = \"prediction\" goes with type = \"mean\", not \"%s\"", type)
    level <- check_number(level, "level", 0, 1, lo_open = TRUE, hi_open = TRUE)
    probs <- c((1 - level) / 2, (1 + level) / 2)
  } else if (!missing(level)) {
    check_number(level, "level", 0, 1, lo_open = TRUE, hi_open = TRUE)
  }
  if (type == "cdf" && is.null(at))
    stopf("'at' is missing: type = \"cdf\" needs the thresholds y0 of P(Y <= y0 | x)")
  if (type != "cdf" && !is.null(at))
    stopf("'at' goes with type = \"cdf\", not \"%s\"", type)
  if (is.null(seed)) seed <- fit_seed(object)
  # quantiles only where they are returned (probs given are still checked)
  if (type != "quantile" && interval == "none") {
    if (!missing(probs)) check_probs(probs)
    probs <- 0.5
  }
  if (interval == "prediction") check_probs_draws(probs, check_count(ndraws, "ndraws", 2, 1e8),
                                                  "level")
  st <- withCallingHandlers(
    sbcondstats(object, newdata, ndraws = ndraws, probs = probs, at = at, steps = steps,
                method = method, density = FALSE, stratify = stratify,
                threads = threads, seed = seed, na.action = na.action),
    # (the interval's ends have had their warning, naming 'level')
    sbcg_tail_probs = function(w) if (interval == "prediction") invokeRestart("muffleWarning"))
  rows <- unique(st$.row)
  nr <- length(rows)
  rn <- newdata_rownames(newdata)[rows]
  per_response <- function(cols, names2) {
    M <- as.matrix(unclass_stats(st)[cols])
    storage.mode(M) <- "double"  # (as.matrix() of no rows is logical)
    if (d == 1L) {
      dimnames(M) <- list(rn, names2)
      return(M)
    }
    a <- array(NA_real_, c(nr, length(cols), d), dimnames = list(rn, names2, object$ynames))
    for (k in seq_len(d)) a[, , k] <- M[st$.response == object$ynames[k], , drop = FALSE]
    a
  }
  if (interval == "prediction") {
    qn <- quantile_names(attr(st, "probs"))
    out <- cbind(fit = st$mean, lwr = st[[qn[1L]]], upr = st[[qn[2L]]])
    rownames(out) <- rn
    return(out)
  }
  if (type %in% c("mean", "sd")) {
    if (d == 1L) return(stats::setNames(st[[type]], rn))
    m <- matrix(st[[type]], nr, d, byrow = TRUE, dimnames = list(rn, object$ynames))
    return(m)
  }
  if (type == "quantile") {
    qn <- quantile_names(attr(st, "probs"))
    return(per_response(qn, qn))
  }
  pn <- attr(st, "at_names")
  per_response(pn, pn)
}

# The seed predict() samples with by default: the fit's own (fits from
# before it was kept have none; they get a fixed one), so that predict()
# gives the same numbers on every call.
fit_seed <- function(object) {
  s <- object$seed
  if (is.numeric(s) && length(s) == 1L && is.finite(s) && abs(s) < 2^31) s else 1L
}

newdata_rownames <- function(newdata) {
  rn <- rownames(newdata)
  if (is.null(rn)) rn <- as.character(seq_len(NROW(newdata)))
  rn
}

#' Simulate responses from a conditional Schrödinger bridge
#'
#' Draws `nsim` responses for each row of `newdata`, in the layout of
#' [stats::simulate()].
#'
#' @param object a fit from [sbfit()].
#' @param nsim number of draws per row.
#' @param seed `NULL` or a number for [set.seed()], as in
#'   [stats::simulate()].
#' @param newdata predictor values; required, as the fit keeps no copy of
#'   the training data.
#' @param ... passed to [sbsample()] (`steps`, `method`, `threads`).
#' @return A data frame with one row per row of `newdata` and columns
#'   `sim_1`, ..., `sim_nsim` (for several responses, `sim_1.y1`,
#'   `sim_1.y2`, ...), with attribute `"seed"` as in [stats::simulate()].
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(300), y = rnorm(300))
#' # a toy budget so that the example runs in a second; real fits keep the default
#' fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 10), seed = 1)
#' simulate(fit, nsim = 3, seed = 42, newdata = data.frame(x = c(0.2, 0.8)))
#' @importFrom stats simulate
#' @export
simulate.sbfit <- function(object, nsim = 1, seed = NULL, newdata, ...) {
  if (missing(newdata) && is_unconditional(object)) newdata <- data.frame(row.names = 1L)
  if (missing(newdata)) stopf("'newdata' is missing: the fit keeps no copy of the training data")
  nsim <- check_count(nsim, "nsim", 1, 1e8)
  if (!exists(".Random.seed", envir = .GlobalEnv, inherits = FALSE))
    stats::runif(1)
  if (is.null(seed)) {
    RNGstate <- get(".Random.seed", envir = .GlobalEnv)
  } else {
    check_seed(seed)
    # the generators with_seed() draws under, whatever the session's
    RNGstate <- structure(seed, kind = list("Mersenne-Twister", "Inversion", "Rejection"))
  }
  # (the limit on the draws checked here, to name nsim)
  if (is.data.frame(newdata) || is.matrix(newdata))
    check_draw_count(nrow(newdata), nsim, length(object$ynames), "nsim")
  A <- sbsample(object, newdata, ndraws = nsim, format = "matrix", seed = seed, ...)
  d <- length(object$ynames)
  if (d == 1L) {
    out <- as.data.frame(A)
    names(out) <- paste0("sim_", seq_len(nsim))
  } else {
    out <- as.data.frame(matrix(aperm(A, c(1L, 3L, 2L)), nrow(A)))
    names(out) <- paste0("sim_", rep(seq_len(nsim), each = d), ".",
                         rep(object$ynames, nsim))
  }
  rownames(out) <- rownames(A)
  attr(out, "seed") <- RNGstate
  out
}

# The rows na.action left out of a formula fit (its "na.action"
# attribute), as lm()'s summary reports them.
na_txt <- function(na) {
  if (!length(na) || !inherits(na, c("omit", "exclude"))) "" else
    sprintf("; %d row%s with missing values left out", length(na), if (length(na) == 1L) "" else "s")
}

# What print() and summary() say of the rows of weight zero that a fit
# left out (n of them; NULL for none).
zero_weight_txt <- function(n) {
  if (is.null(n) || n == 0L) "" else
    sprintf("; %d row%s of weight zero left out", n, if (n == 1L) "" else "s")
}

# Rows that were copies of others (copy_groups()), of `n` rows fitted:
# each group taken as one row, whose weight counts it.
copied_txt <- function(copied, n) {
  if (is.null(copied) || copied == 0L) "" else
    sprintf("; of %d rows, %d repeat others exactly, and each group of copies is one row weighted by its count",
            n + copied, copied)
}
