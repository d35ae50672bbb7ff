# A share of the law from a bridge on the response itself
# (sbcg_control(direct_share)).  A preconditioned fit's bridge learns the
# standardised residual (y - m(x)) / s(x); where the response's law has
# modes or heaps at fixed values (durations recorded in whole minutes,
# a law with two modes whose weights change with x), those move with m(x)
# and s(x) in the residual's scale, and a bridge that learns y itself, as
# the paper's does, finds them more easily.  On most data sets the
# preconditioned fit is the better one (on bench/realdata.R's 140 sets
# the bridge on y alone scored 6.8% higher CRPS in geometric mean), but
# the mixture that gives a fifth of each row's draws to the bridge on y
# scored lower than either (bench/HISTORY.md, item "A fifth of the law
# from the bridge on the response itself").  Where the held-out rows are
# too few to choose between the two (fewer than loss_choice_rows of them;
# the choice by their CRPS favoured the bridge on y, which they also stop,
# and scored 2.9% above the preconditioned fit), the fit trains that
# bridge too, on the same rows, and keeps its weights in `direct` with
# the share.  Its draws are the bridge's own law, not mapped by the
# recalibration (learned from the preconditioned law's standardised
# draws) nor mixed with the linear part.

# Whether a fit gets the direct bridge: a share above 0, one response that
# is not constant, a preconditioned fit and 1 to loss_choice_rows - 1
# held-out rows.
direct_applies <- function(control, Y, pre, const, nv) {
  share <- control$direct_share
  is.numeric(share) && share > 0 && ncol(Y) == 1L && !is.null(pre) && all(is.na(const)) &&
    nv >= 1L && nv < loss_choice_rows
}

# Whether the fit keeps the direct bridge it trained, from the held-out
# CRPS of its own law (before the map) and of the direct bridge's
# (`crps`, named fit and direct): unless the direct bridge's is more than
# direct_worse times the fit's.  Those rows also stopped the direct
# bridge, which learns the whole law and so looks better on them than on
# new rows (its held-out CRPS was the lower in 426 of 695 fits of
# bench/realdata.R's 140 sets, though on new rows it scored 6.8% higher in
# geometric mean): only a bridge that does far worse even there is left
# out.  On those sets that was 3% of the folds, three of them
# Remifentanil's, where the bridge on y alone scored 1.55 times the fit's
# CRPS on new rows and a fifth of it made the 50% intervals cover 60% of
# the 1992 rows instead of 53% (56% with the rule); the rule lowered the
# CRPS as much as keeping the bridge always (bench/HISTORY.md, item "A
# fifth of the law from the bridge on the response itself").
direct_keeps <- function(crps) {
  if (length(crps) != 2L || !all(is.finite(crps))) return(TRUE)
  crps[["direct"]] <= direct_worse * crps[["fit"]]
}

direct_worse <- 1.3

# The seed of the direct bridge's fit: drawn from the fit's seed by another
# stream than the members' (member_seeds()).
direct_seed <- function(seed) {
  with_seed(bitwXor(as.integer(seed), 1431655765L), sample.int(.Machine$integer.max, 1L))
}

# What the fit keeps of the direct bridge's fit (the rest it shares: the
# scalings, terms, support and control).
direct_fields <- c("theta", "net", "bridge_x", "fixed_budget", "seed", "history",
                   "best_epoch", "stopped_early", "steps_run", "seconds", "holdout")

# The direct bridge: a fit of the same rows (`prep$vidx` held out)
# without preconditioning; returns what `direct` keeps, with the share.
# It reads the predictors as the fit does, standardised on the log-like
# scale `x_log` of skewed columns where the fit's location networks kept
# it (a fit without preconditioning would not try that scale): it is
# trained on those columns, whose standardisation is then the fit's.
direct_bridge <- function(X, Y, w, xinfo, control, threads, seed, verbose, const, support,
                          Yscore, prep, x_log, share) {
  ctl <- control
  ctl$precondition <- "none"
  ctl$ensemble <- 1L
  ctl$direct_share <- 0
  f <- fit_member(log_cols(X, x_log), Y, w, xinfo, ctl, threads, direct_seed(seed), verbose,
                  const, support, Yscore, vidx = prep$vidx,
                  label = if (verbose) "bridge on the response itself")$fit
  c(list(share = share), f[intersect(direct_fields, names(f))])
}

# The fit `object` as the direct bridge alone: its network and weights, no
# preconditioning, members, linear part or map.
direct_object <- function(object) {
  out <- object
  for (nm in c("direct", "members", "pooled_bridges", "linear", "recalibration",
               "precondition", "mix", "location_inputs"))
    out[[nm]] <- NULL
  dr <- object$direct
  out[setdiff(names(dr), "share")] <- dr[setdiff(names(dr), "share")]
  out$control$precondition <- "none"
  out$control$ensemble <- 1L
  set_format(out)
}

# The object without its direct bridge.
direct_rest <- function(object) {
  object$direct <- NULL
  set_format(object)
}

# The random streams of the direct bridge's draws: the call's seed with
# its second half changed, apart from the members' (member_cseed()).
direct_cseed <- function(cseed) c(cseed[1L], bitwXor(cseed[2L], 1048576L))

# Which of n draws (n x rows, rows with ids rowid) are the direct
# bridge's, for a share q and groups of gs draws (share_draws()), with
# a phase from the seed's other half and a step of its own.
direct_draws <- function(n, rowid, cseed, q, gs = 1L) {
  share_draws(n, seed_phase(cseed[1L], rowid, 0.7320508075688772), q, gs)
}

# Draws of a fit with a direct bridge (sample_raw()'s arguments and chain
# order, one response): the rest of the fit's draws, of which a share of
# each row's, chosen by direct_draws(), are then the direct bridge's.
# Row j's k_j direct draws are the first k_j of its own chains (the
# direct bridge samples max k_j per row, with direct_cseed()), so that a
# row's draws do not depend on the other rows of the call and the first m
# draws of a call are those of a call of m draws.
sample_direct <- function(object, X, rowid, n, g, cseed, threads, block, progress, shared,
                          strata) {
  r <- sample_raw(direct_rest(object), X, rowid, n, g, cseed, threads, block,
                  progress = progress, shared = shared, strata = strata)
  gs <- if (strata > 1L) strata else 1L
  D <- direct_draws(n, rowid, cseed, object$direct$share, gs)
  k <- colSums(D)
  if (!any(k > 0L)) return(r)
  p <- sample_raw(direct_object(object), X, rowid, max(k), g, direct_cseed(cseed), threads,
                  block, shared = shared, strata = strata)
  P <- matrix(p$draws, max(k), nrow(X))
  idx <- which(D)
  draws <- r$draws
  draws[idx] <- P[cbind(sequence(k), (idx - 1L) %/% n + 1L)]
  list(draws = draws)
}

# Whether `dr` may be the direct bridge of `object` (check_fit(), which
# then checks direct_object() as a fit): a share in (0, 1), one response,
# a network and its weights.
direct_ok <- function(dr, object) {
  tryCatch(is.list(dr) && is.numeric(dr$share) && length(dr$share) == 1L &&
             is.finite(dr$share) && dr$share > 0 && dr$share < 1 &&
             is.list(object$net) && identical(as.numeric(object$net$d), 1) &&
             is.list(dr$net) && identical(as.numeric(dr$net$d), 1) && is.numeric(dr$theta),
           error = function(e) FALSE)
}

# What print() and summary() say of the direct bridge (NULL for a fit
# that trained none).
direct_line <- function(object) {
  dr <- object$direct
  ch <- object$choice_direct
  if (is.null(dr)) {
    if (length(ch) != 2L) return(NULL)
    return(sprintf("Direct bridge: trained on the response itself and left out: its held-out CRPS %s is more than %g times the fit's, %s",
                   format(signif(ch[["direct"]], 4)), direct_worse, format(signif(ch[["fit"]], 4))))
  }
  h <- dr$holdout
  sprintf("Direct bridge: %g%% of each row's draws from a bridge on the response itself (no preconditioning; %d epochs%s)%s",
          100 * dr$share, nrow(dr$history),
          if (isTRUE(dr$fixed_budget)) "" else sprintf(", best %d", dr$best_epoch),
          if (is.null(h)) "" else sprintf("; its held-out CRPS alone %s", format(signif(h$crps, 4))))
}
