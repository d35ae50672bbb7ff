# Ensembles: a fit that pools the laws of several fits of the same data
# (sbcg_control(ensemble = M)).  Each member is a whole fit with its own
# seed: its own cross-fitting folds, starting weights, training order and
# bridges.  All members share the held-out rows and the scale of
# the predictors, and the ensemble is the equal mixture of their laws: its
# draws come from the members in turn.  The first member is the fit itself
# (with ensemble = 1 the only one); the others are kept in fit$members,
# with what sampling needs of them, and the fit's format is 4, which
# versions that do not know ensembles refuse to read.  A single fit whose
# two bridges are pooled (pool_bridges()) is sampled the same way, with
# the other bridge as its one other member.

# The number of members of a fit: control$ensemble (1 for the controls of
# fits made before ensembles).
fit_ensemble_size <- function(control) {
  if (is.null(control$ensemble)) 1L else as.integer(control$ensemble)
}

# The seeds of M members: the fit's own first, then M - 1 drawn from it.
member_seeds <- function(seed, M) {
  c(seed, with_seed(seed, sample.int(.Machine$integer.max, M - 1L)))
}

# A member's preparation with the first member's scale of the predictors
# (x_log from its choice between the raw and the log-like scale of skewed
# predictors, skew_transform), so that every member reads the same
# standardised predictors.
member_scale <- function(prep, x_log) {
  if (!is.null(prep$alt) && any(x_log > 0)) prep <- on_log_scale(prep)
  prep$alt <- NULL
  prep
}

# What a member keeps beyond what it shares with the first (the scalings,
# terms, support and control).
member_fields <- c("theta", "net", "precondition", "mix", "bridge_x", "location_inputs",
                   "fixed_budget", "seed",
                   "history", "best_epoch", "stopped_early", "steps_run", "seconds",
                   "bridge_choice", "bridge_loss", "bridge_cover90")

# A fit whose two bridges (fits[[1]] sees x, fits[[2]] does not;
# pick_bridge()) are pooled in equal shares: the first with the second as
# its other member, sharing its preconditioning (kept once, in the
# first: the second does not read the inputs of a bridge that sees the
# location and scale) and seed.  It is sampled as an ensemble of two;
# its held-out scores, those of the pool, are left to sbfit_core(), which
# scores the law it keeps once.  Format 10.
pool_bridges <- function(fits) {
  first <- fits[[1L]]
  first$pooled_bridges <- TRUE
  other <- fits[[2L]]
  other$precondition <- NULL
  ensemble_fit(first, list(other))
}

# The fit `first` with the other members attached.  Members whose bridges
# are pooled bring both, the second with its member's preconditioning (a
# fit of M members that each pool two bridges holds 2M - 1 in `members`,
# with and without the predictors in turn).
ensemble_fit <- function(first, members) {
  parts <- function(m) c(list(m[intersect(member_fields, names(m))]),
                         lapply(m$members, function(b) {
                           if (is.null(b$precondition)) b$precondition <- m$precondition
                           b
                         }))
  first$members <- c(first$members, unlist(lapply(members, parts), recursive = FALSE))
  first$seconds <- first$seconds + sum(vapply(members, `[[`, 0, "seconds"))
  set_format(first)
}

# The format of a fit from what it holds (check_fit() lists them): 14
# when a share of its law is a linear model's (linear.R), which earlier
# versions would leave out; 13
# when its cells, or a member's, are the levels of a factor (level_fit()),
# which earlier versions would key by all the predictors; 12 when its law
# on the real line is cut at `support$floor`; 11
# when predictor columns were constant on its rows (`scaling$x_const`),
# which earlier versions would read at their new values; 10
# when its two bridges are pooled (pool_bridges()), which earlier versions
# would not read as an ensemble; 9 when
# its location networks, or a member's, take piecewise-linear encodings
# (ple_inputs()), which earlier versions would not append; 8 when
# its location, or a member's, has cell effects (cell_location()), which
# earlier versions would leave out; 7 for a
# count fit on the log(1 + y + u) scale (support_offset()), which earlier
# versions would map back as floor(exp(z)); 6 when its bridge, or a
# member's, sees the location and scale (location_features()), which
# earlier versions would feed the predictors instead; otherwise 5 with a
# recalibration map, 4 with members, 3 with a decorrelating mix, 2 else.
fit_format <- function(object) {
  if (!is.null(object$direct)) return(15L)
  if (!is.null(object$linear)) return(14L)
  by_level <- function(o) !is.null(o$precondition$cells$cols)
  if (by_level(object) || any(vapply(object$members, by_level, NA))) return(13L)
  if (is.numeric(object$support$floor)) return(12L)
  if (!is.null(object$scaling$x_const)) return(11L)
  if (isTRUE(object$pooled_bridges)) return(10L)
  ple <- function(o) !is.null(o$precondition$ple)
  if (ple(object) || any(vapply(object$members, ple, NA))) return(9L)
  cells <- function(o) !is.null(o$precondition$cells)
  if (cells(object) || any(vapply(object$members, cells, NA))) return(8L)
  if (identical(object$support$type, "count") && support_offset(object$support) > 0) return(7L)
  feat <- function(o) isTRUE(o$bridge_x) && !is.null(o$precondition$features)
  if (feat(object) || any(vapply(object$members, feat, NA))) return(6L)
  if (!is.null(object$recalibration)) 5L else if (!is.null(object$members)) 4L else
    if (!is.null(object$mix)) 3L else 2L
}

# The format of `object` without its linear part, which the part keeps
# (`base_format`), so that check_fit() checks the rest of a fit of format
# 14 as that format, not as the one the rest of it would now give.
base_format <- function(object) {
  object$linear <- NULL
  fit_format(object)
}

# `object` with its format (and the base_format of its direct bridge, or
# else of its linear part) set from what it holds.
set_format <- function(object) {
  dr <- object$direct
  if (!is.null(dr)) {
    object$direct <- NULL
    object <- set_format(object)
    dr$base_format <- object$format
    object$direct <- dr
  } else if (!is.null(object$linear)) object$linear$base_format <- base_format(object)
  object$format <- fit_format(object)
  object
}

# The number of members of a fit (1 for a fit without members).
n_members <- function(object) 1L + length(object$members)

# Member k of an ensemble as a fit of its own (k = 1: the fit without its
# members), with the ensemble's recalibration map, which each member
# applies to its own standardised draws.
member_object <- function(object, k) {
  out <- object
  out$members <- NULL
  out$pooled_bridges <- NULL
  out$control$ensemble <- 1L
  if (k > 1L) {
    m <- object$members[[k - 1L]]
    out$mix <- NULL
    out[names(m)] <- m
  }
  set_format(out)
}

# The random streams of member k: the call's seed for the first member,
# the seed with its second half changed for the others.
member_cseed <- function(cseed, k) {
  if (k == 1L) cseed else c(cseed[1L], bitwXor(cseed[2L], as.integer(k - 1L)))
}

# Draws of an ensemble, in sample_raw()'s chain order: the draws of each
# row are dealt to the members in turn, one draw at a time, or for
# stratified draws (strata > 1) one group of `strata` draws at a time, so
# that every group comes from one member and keeps its strata.  Member k
# samples its share with its own random streams, so that the first m draws
# of a call equal those of a call with m draws when m is a multiple of the
# number of members (times the group size, for stratified draws).  When
# the groups do not divide evenly among the members (one draw from two
# bridges, say), each row starts the deal at its own member
# (deal_offsets()), so that every draw has the pooled law, not the first
# members' alone; the rows that start at the same member share their
# deal, and each member samples their share in one call, so that a row's
# draws do not depend on the other rows of the call (or its chunks).
sample_members <- function(object, X, rowid, n, g, cseed, threads, block, progress, shared,
                           strata, standardised = FALSE) {
  M <- n_members(object)
  gs <- if (strata > 1L) strata else 1L
  nr <- nrow(X)
  group <- (seq_len(n) - 1L) %/% gs
  off <- if ((max(group) + 1L) %% M == 0L) rep(0L, nr) else deal_offsets(cseed, rowid, M)
  d <- object$net$d
  out <- array(0, c(n, nr, d))
  for (o in sort(unique(off))) {
    rows <- which(off == o)
    Xo <- if (length(rows) == nr) X else X[rows, , drop = FALSE]
    # the member of each draw of these rows
    who <- (group + o) %% M + 1L
    for (k in seq_len(M)) {
      pos <- which(who == k)
      if (!length(pos)) next
      p <- sample_raw(member_object(object, k), Xo, rowid[rows],
                      length(pos), g, member_cseed(cseed, k), threads, block, shared = shared,
                      strata = strata, standardised = standardised)
      out[pos, rows, ] <- array(p$draws, c(length(pos), length(rows), d))
    }
  }
  if (!is.null(progress)) progress$tick(nr)
  list(draws = as.vector(out))
}

# The member at which each row (rowid, its index in newdata from 0) starts
# the deal of its draws among M members: fixed by the call's seed and the
# row, and spread evenly over the members whatever the rows (as
# tie_breaks(), from the seed's other half and another step, so that the
# deal and a count's tie-breaking numbers are unrelated).
deal_offsets <- function(cseed, rowid, M) {
  u <- seed_phase(cseed[2L], rowid, 0.7548776662466927)
  as.integer(pmin(M - 1, floor(M * u)))
}

# What print() and summary() say of an ensemble (NULL for a single fit,
# also one whose two bridges are pooled, which the line on the bridge
# describes): its members' seeds and bridges; the other lines of print()
# describe the first member, the held-out scores the ensemble.
ensemble_line <- function(object) {
  pooled <- isTRUE(object$pooled_bridges)
  M <- n_members(object)
  if (M == 1L || (pooled && M == 2L)) return(NULL)
  objs <- lapply(seq_len(M), member_object, object = object)
  seeds <- vapply(objs, function(o) if (is.numeric(o$seed)) format(o$seed) else "?", "")
  if (pooled)
    return(sprintf("%d fits pooled in equal shares (seeds %s), each with its two bridges; the other lines describe the first, the held-out scores all %d",
                   M %/% 2L, paste(seeds[c(TRUE, FALSE)], collapse = ", "), M %/% 2L))
  br <- vapply(objs, function(o) if (isFALSE(o$bridge_x)) "without" else "with", "")
  sprintf("%d fits pooled in equal shares (seeds %s; bridges %s the predictors); the other lines describe the first, the held-out scores all %d",
          M, paste(seeds, collapse = ", "), paste(br, collapse = "/"), M)
}
