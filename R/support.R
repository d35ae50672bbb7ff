# The support of the response: sbfit(support = ) maps a bounded, positive or
# count response to the real line before fitting (support_forward()), and
# sample_raw() maps every draw back (support_inverse()), so that draws,
# quantiles, probabilities and scores all respect it.  A fit keeps the
# support as `support`, a list(type, lower, upper, label); fits without one
# (made before it existed) are on the real line.
#
#   type       map before fitting           map of a draw z
#   "real"     y                            z
#   "lower"    log(y - lower)               lower + exp(z)
#   "upper"    -log(upper - y)              upper - exp(-z)
#   "interval" qlogis((y - lower)/(upper - lower))   lower + (upper - lower) plogis(z)
#   "count"    log(1 + y + u), u ~ U(0, 1)  max(0, floor(exp(z) - 1))
#
# For counts the bridge learns the law of the dequantised log(1 + y + u):
# since floor(y + u) = y, floor(exp(z) - 1) has exactly the law of y when z
# has that of log(1 + y + u), so P(Y = k | x) comes out right, and draws
# are whole numbers >= 0 (a draw below 0, which the fitted law may give,
# is a 0).  The 1 (the support's `offset`) keeps the zeros' block [0,
# log 2) as narrow as the next counts'; without it, log(u) spreads the
# zeros over an exponential tail down to minus infinity, which the
# location and scale networks take for spread.  On the 42 whole-number
# sets of bench/realdata.R the offset lowered the CRPS of count fits by
# 1.7% (geometric mean; esoph -12%, Insurance -14%, solder -7%, epil
# -5%; at most +1.3%, gilgais).  Count fits made before it have no
# `offset` (0): log(y + u) and floor(exp(z)).

# Whether `support` asks for the choice of support_auto() ("auto", or a
# prefix of it).
is_auto_support <- function(support) {
  is.character(support) && length(support) == 1L && !is.na(support) &&
    identical(pmatch(support, c("auto", "real", "positive", "count")), 1L)
}

# Checks `support` against the responses Y (a matrix; its non-finite values
# are left to the checks of sbfit_core()) and returns the support list;
# `rn` names Y's rows as the data do (NULL: their numbers).
check_support <- function(support, Y, yname, rn = rownames(Y)) {
  msg <- "'support' must be \"auto\", \"real\", \"positive\", \"count\" or c(lower, upper)"
  if (is.character(support)) {
    if (length(support) != 1L || is.na(support)) stopf(msg)
    type <- pmatch(support, c("real", "positive", "count"))
    if (is.na(type)) stopf("%s, not \"%s\"", msg, support)
    sup <- switch(type,
                  list(type = "real", lower = -Inf, upper = Inf, label = "real"),
                  list(type = "lower", lower = 0, upper = Inf, label = "positive"),
                  list(type = "count", lower = 0, upper = Inf, label = "count",
                       offset = count_offset))
  } else if (is.numeric(support) && !is.complex(support) && is.null(dim(support))) {
    if (length(support) != 2L || anyNA(support)) stopf(msg)
    lo <- as.double(support[1L])
    hi <- as.double(support[2L])
    if (lo >= hi)
      stopf("'support': the lower bound (%s) must be below the upper bound (%s)",
            format(lo), format(hi))
    type <- if (is.finite(lo) && is.finite(hi)) "interval" else if (is.finite(lo)) "lower" else
      if (is.finite(hi)) "upper" else "real"
    sup <- list(type = type, lower = lo, upper = hi,
                label = if (type == "real") "real" else sprintf("(%s, %s)", format(lo), format(hi)))
  } else {
    stopf(msg)
  }
  if (sup$type == "real") return(sup)
  out <- outside_support(sup, Y, rn)
  # (a vector 'y' of the matrix interface is its own response)
  if (!is.null(out) && identical(colnames(Y)[out$cols], yname)) out$responses <- "the response"
  if (!is.null(out))
    stopf("'support' = %s needs %s; %s in '%s' %s not, in row(s) %s",
          support_text(sup), out$what, out$responses, yname,
          if (length(out$cols) > 1L) "are" else "is", out$rows)
  sup
}

# The finite values of the responses Y (a matrix) outside the support
# `sup`: NULL, or list(what, responses, rows, cols): what the support
# needs, the responses that break it ("the response 'y'") and the rows
# where they do (the first five), as text, and the columns' indices.
outside_support <- function(sup, Y, rn = rownames(Y)) {
  if (is.null(sup) || (sup$type == "real" && !is.numeric(sup$floor))) return(NULL)
  v <- as.vector(Y)
  ok <- !is.finite(v)
  bad <- if (sup$type == "count") !ok & (v < 0 | v != round(v)) else
    if (sup$type == "real") !ok & v < sup$floor else
    !ok & (v <= sup$lower | v >= sup$upper)
  if (!any(bad)) return(NULL)
  dim(bad) <- dim(Y)
  rows <- which(rowSums(bad) > 0)
  cols <- which(colSums(bad) > 0)
  rows <- if (is.null(rn)) rows else rn[rows]
  cn <- colnames(Y)
  list(what = switch(sup$type, count = "non-negative whole numbers",
                     real = sprintf("values of at least %s, where its law is cut", format(sup$floor)),
                     lower = sprintf("values above %s", format(sup$lower)),
                     upper = sprintf("values below %s", format(sup$upper)),
                     interval = sprintf("values strictly between %s and %s",
                                        format(sup$lower), format(sup$upper))),
       responses = if (is.null(cn)) "the response" else
         sprintf("the response%s %s", if (length(cols) > 1L) "s" else "",
                 paste0("'", cn[cols], "'", collapse = ", ")),
       rows = paste0(paste(utils::head(rows, 5L), collapse = ", "),
                     if (length(rows) > 5L) sprintf(" and %d more", length(rows) - 5L) else ""),
       cols = cols)
}

# Whether a support is fitted on the log scale (one bound, or counts):
# where sbcg_control(skew_transform = NULL) tries skewed predictors on a
# log-like scale.
log_scale_support <- function(sup) !is.null(sup) && sup$type %in% c("lower", "upper", "count")

support_text <- function(sup) {
  if (sup$label %in% c("real", "positive", "count")) sprintf("\"%s\"", sup$label) else
    sprintf("c(%s, %s)", format(sup$lower), format(sup$upper))
}

# The responses Y mapped to the real line; `seed` keys the dequantising
# noise of counts (drawn from R's generator, apart from the fit's own
# stream).
support_forward <- function(sup, Y, seed) {
  switch(sup$type,
    real = Y,
    lower = log(Y - sup$lower),
    upper = -log(sup$upper - Y),
    interval = stats::qlogis((Y - sup$lower) / (sup$upper - sup$lower)),
    count = {
      u <- with_seed((seed + 7919) %% .Machine$integer.max,
                     stats::runif(length(Y)))
      log(Y + u + support_offset(sup))
    })
}

# The offset of a count support's log scale (count_offset; 0 for fits made
# before it).
support_offset <- function(sup) if (is.null(sup$offset)) 0 else sup$offset
count_offset <- 1

# Draws z (on the fitted scale) mapped back to the response's support.
# The bounds are open: where the map rounds onto a bound (exp(z) below
# the smallest double, plogis(z) of 1 for z above about 37), the draw
# becomes a value just inside it (inside_bound()).
support_inverse <- function(sup, z) {
  if (is.null(sup)) return(z)
  switch(sup$type,
    real = if (is.null(sup$floor)) z else pmax(z, sup$floor),
    lower = pmax(sup$lower + exp(z), inside_bound(sup$lower, 1)),
    upper = pmin(sup$upper - exp(-z), inside_bound(sup$upper, -1)),
    interval = pmin(pmax(sup$lower + (sup$upper - sup$lower) * stats::plogis(z),
                         inside_bound(sup$lower, 1)), inside_bound(sup$upper, -1)),
    count = pmax(0, floor(exp(z) - support_offset(sup))))
}

# The draws z of a fit (chain order: draw, row, then component) on the
# response's scale: support_inverse(), and for a constant response of a
# fit with a support its constant exactly (`constant_response`: the
# constant on the response's scale, NA for other columns), which the
# round trip through the support's map would leave a rounding off.
response_draws <- function(object, z) {
  y <- support_inverse(object$support, z)
  cy <- object$constant_response
  if (!is.null(cy)) {
    N <- length(y) %/% length(cy)
    for (k in which(!is.na(cy))) y[(k - 1) * N + seq_len(N)] <- cy[k]
  }
  y
}

# A double next to the bound a on the side `sign` (1 above, -1 below):
# one or two units in the last place away, or the smallest normal double
# away from 0.
inside_bound <- function(a, sign) {
  a + sign * max(abs(a) * .Machine$double.eps, .Machine$double.xmin)
}

# Whether a fit's draws are counts (discrete statistics).
is_count_fit <- function(object) identical(object$support$type, "count")

# The bounds of a fit's support, c(lower, upper) (c(-Inf, Inf) on the
# real line and for fits without a support).
support_bounds <- function(object) {
  sup <- object$support
  if (is.list(sup) && is.numeric(sup$floor)) return(c(sup$floor, Inf))
  if (is.list(sup) && is.numeric(sup$lower) && is.numeric(sup$upper)) c(sup$lower, sup$upper) else
    c(-Inf, Inf)
}

# The support that the training responses suggest when the fit was left on
# the real line, for print(): "count" for non-negative whole numbers (with
# more than two values), "unit" for values strictly in (0, 1), "positive"
# for positive values; NULL otherwise.
support_hint <- function(Y) {
  v <- as.vector(Y)
  v <- v[is.finite(v)]
  if (!length(v)) return(NULL)
  if (all(v >= 0) && all(v == round(v)) && length(unique(v)) > 2L) return("count")
  if (all(v > 0 & v < 1)) return("unit")
  if (all(v > 0)) return("positive")
  NULL
}

# check_fit()'s check of the support of a fit.
support_ok <- function(sup) {
  is.null(sup) || (is.list(sup) && is.character(sup$type) && length(sup$type) == 1L &&
                     sup$type %in% c("real", "lower", "upper", "interval", "count") &&
                     is.numeric(sup$lower) && is.numeric(sup$upper) &&
                     length(sup$lower) == 1L && length(sup$upper) == 1L &&
                     !is.na(sup$lower) && !is.na(sup$upper) && sup$lower < sup$upper &&
                     (is.null(sup$offset) || (sup$type == "count" && is.numeric(sup$offset) &&
                                                length(sup$offset) == 1L &&
                                                sup$offset %in% c(0, count_offset))))
}

# The line of print() about the support.
support_line <- function(x) {
  sup <- x$support
  if (is.null(sup) || sup$type == "real") {
    hint <- switch(if (is.null(x$support_hint)) "none" else x$support_hint,
      count = "the responses are non-negative whole numbers: support = \"count\" gives whole-number draws and P(Y = k | x)",
      unit = "the responses lie in (0, 1): support = c(0, 1) keeps the draws there",
      positive = "the responses are positive: support = \"positive\" keeps the draws positive",
      NULL)
    if (!is.null(hint))
      hint <- sprintf(" (%s; %s)", hint, if (x$support_hint == "unit") unit_advice else
        if (length(x$ynames) > 1L)
          sprintf("refit with update(fit, support = \"%s\") and compare the held-out scores",
                  x$support_hint) else
          "support = \"auto\", the default, also fits the log scale and keeps the fit with the lower held-out CRPS, given held-out rows")
    cut <- if (is.numeric(sup$floor))
      sprintf(", its draws below %s set to %s (the responses are never below it)",
              format(sup$floor), format(sup$floor)) else ""
    return(sprintf("Support: the real line%s%s%s", cut, choice_text(x),
                   if (is.null(hint)) "" else hint))
  }
  # fits made before held-out scores were on the response's scale (their
  # holdout has no `scale`) scored them on the fitted scale
  old <- !is.null(x$holdout) && !identical(x$holdout$scale, "response")
  sprintf("Support: %s, %s; draws, statistics%s on the response's own scale%s%s%s",
          support_text(sup),
          switch(sup$type,
            lower = "fitted on the log scale", upper = "fitted on the log scale",
            interval = "fitted on the logit scale",
            count = sprintf("whole numbers, fitted as log(%sy + u) with u uniform on (0, 1)",
                            if (support_offset(sup) > 0) "1 + " else "")),
          if (old) "" else " and held-out scores",
          if (old) ", held-out scores on the fitted scale" else "", choice_text(x),
          if (identical(x$support_hint, "unit"))
            sprintf(" (the responses lie in (0, 1), but this support reaches past 1; %s)",
                    unit_advice) else "")
}

# The advice of print() for responses in (0, 1) fitted on another support.
unit_advice <- "refit with update(fit, support = c(0, 1)) and compare the held-out scores: the fit then learns on the logit scale, which may predict better or worse"

# support = "auto": the CRPS of the two fits it compared, on the held-out
# rows and, with fewer than oof_choice_rows of them, out of fold on every
# row too (oof_crps()).
choice_text <- function(x) {
  ch <- x$support_choice
  if (is.null(ch)) return("")
  f <- function(v) format(v, digits = 4)
  oof <- x$support_choice_oof
  if (!is.null(oof))
    return(sprintf(" (chosen by support = \"auto\" on the %d held-out rows and, as they are few, out of fold on all %d rows: CRPS %s and %s on the real line, %s and %s as \"%s\")",
                   x$n_valid, x$n, f(ch[[1L]]), f(oof[[1L]]), f(ch[[2L]]), f(oof[[2L]]),
                   names(oof)[2L]))
  sprintf(" (chosen by support = \"auto\" on the held-out rows: CRPS %s on the real line, %s as \"%s\")",
          f(ch[[1L]]), f(ch[[2L]]), names(ch)[2L])
}
