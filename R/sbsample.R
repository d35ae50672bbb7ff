# sbsample(): draws of Y | X = x for every row of newdata, as a long data
# frame or a rows x draws matrix.  Its documentation also describes, for
# the three sampling functions, the sampler, reproducibility and the
# chunks; the code they share (the preamble, the call of the C sampler, the
# shape of the draws) is in sampling.R, the chunks in future.R.

#' Draw from the fitted conditional distribution
#'
#' For every row of `newdata`, `sbsample()` runs `ndraws` chains of the fitted
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
#'   `newdata` then depends only on that seed, `i` and `j` (for a fit that
#'   pools several laws, also on whether the call's draws divide evenly
#'   among them; below): the same bits for
#'   any `threads`, any `chunk_size` and any [future::plan()] (with the
#'   same kernels and precision, see [sbcg-package]), and the first `k`
#'   draws of a call with `ndraws > k` equal those of a call with
#'   `ndraws = k` (with `stratify = TRUE`, when the two calls' groups,
#'   below, have the same size and `k` is a multiple of it).  A fit that
#'   pools several laws (two bridges, or an ensemble: `sbcg_control()`)
#'   deals each row's draws, or groups of draws, to them in turn; where
#'   the draws of a call do not divide evenly among the laws, each row
#'   starts the deal at a law of its own, fixed by the seed and the row,
#'   so that every draw has the pooled law.  For such a fit the first `k`
#'   draws equal those of a call with `ndraws = k` when both calls' draws
#'   (or groups) are multiples of the number of laws.
#'
#' @section Stratified noise: Without the drift, a chain would end at a
#'   weighted sum \eqn{L} of its noise terms, a normal variable.  With
#'   `stratify = TRUE` the draws of a row come in groups of \eqn{m}
#'   (\eqn{m} = 25, or `ndraws %/% 10` when that is smaller; independent
#'   draws below 20): each draw of a group draws \eqn{L} from its own one of
#'   \eqn{m} equal-probability strata, in random order, and then its noise
#'   terms from their exact conditional law given \eqn{L}.  Every draw has
#'   the law of an independent chain, and the groups are independent of each
#'   other, but the draws within a group are spread evenly over the noise,
#'   so that statistics of the draws (means, SDs, quantiles, probabilities)
#'   vary less from call to call.  With 1000 draws a row, on default fits
#'   of the seven simulation models and three real data sets of the
#'   package's benchmarks, the Monte Carlo variance of the 5%, 50% and 95%
#'   quantiles was 4% to 75% of that of 1000 independent draws, and of the
#'   mean 1% to 30% (`bench/strata.R` in the package's sources).  The gain
#'   is largest where the law is close to a smooth transform of a normal
#'   one, and smallest in the tails of laws with separate modes.
#'   [sbcondstats()] and [predict.sbfit()] stratify by default and compute
#'   their standard errors from the groups; `sbsample()` does not by
#'   default, since draws that are not independent within a row would bias
#'   estimates that pair draws with each other (the spread term of the
#'   CRPS, for one).
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
#'   one chunk's draws per worker are ever in memory.  `sbcondstats()`'s
#'   density estimates, on by default, are summaries of `density_n` points
#'   each (about 9 kB a row): for tens of thousands of rows, ask for
#'   `density = FALSE` unless the densities are wanted.
#'
#' @param object a fit from [sbfit()].
#' @param newdata a data frame (or, for fits from a matrix, a matrix) of
#'   predictor values, one row per conditional distribution wanted.  A
#'   `newdata` of no rows gives a result of no rows.  Rows that lie well
#'   outside the predictor values the fit learned from give a warning of
#'   class `sbcg_extrapolation`: the networks' answers there are
#'   extrapolation, which no training row checks.  Beyond the range the
#'   location and scale networks extrapolate, while a bridge that sees the
#'   predictors reads them at the range's edge, so that the law keeps the
#'   shape it has there (without preconditioning, where the bridge alone
#'   makes the law, the whole law is that at the edge).  A row warns when,
#'   in some column of the model matrix (on the log-like scale for a
#'   skewed predictor that the fit reads on it), it lies beyond the range
#'   by more than its width, or by more than a tenth of it where the
#'   networks move the law there by more than its spread from the law at
#'   the edge (its centre by more than its scale, or its scale by more than
#'   a factor of 2).  So do
#'   rows more than half of whose draws lie beyond the range of the fit's
#'   responses by more than its width (class `sbcg_far_law`), as where a
#'   fit on the log scale grows without bound in a corner few rows reach.
#' @param ndraws number of draws per row (called `n` in sbcg 0.1,
#'   as in `stats::simulate()`'s `nsim` and brms' `ndraws`).
#' @param n the old name of `ndraws`, still accepted with a message.
#' @param steps number of sampler steps; `NULL` takes the fit's
#'   `sbcg_control(steps)` (20 by default).
#' @param method `"em_denoise"` (Euler--Maruyama with a noiseless last
#'   step), `"em"` (Euler--Maruyama, the paper's) or `"bridge"`; see
#'   Details.  `NULL` takes the fit's `sbcg_control(sampler)`.
#' @param format `"long"` for a data frame with one row per draw, or
#'   `"matrix"` for a rows x draws matrix (an array rows x draws x responses
#'   when the response has several components).
#' @param grid optional increasing vector of times in \eqn{[0, 1]}
#'   overriding `steps` and the grid shape; the chains start at
#'   `grid[1]` and stop at the last value.
#' @param threads number of threads; by default [sbcg_threads()]: the
#'   CPUs the process may use, capped by `mc.cores`, `OMP_THREAD_LIMIT` /
#'   `OMP_NUM_THREADS` and `_R_CHECK_LIMIT_CORES_`, unless the option
#'   `sbcg.threads` says otherwise.  Results do not depend on it.
#' @param seed `NULL` or a number for [set.seed()]; the caller's generator
#'   state is restored afterwards.
#' @param chunk_size largest number of rows of `newdata` handled at once;
#'   see the section "Large newdata" of [sbsample()].  The results do not
#'   depend on it.
#' @param verbose whether to report progress: a message per chunk (when
#'   there are several) and, for a call that runs longer than two seconds
#'   in this session, a progress line with the rows done, the time used and
#'   an estimate of the time left.
#' @param na.action what to do with rows of `newdata` that have missing
#'   predictor values (for [sbscore()], or no observed response; a row
#'   that misses some of several responses is scored on the others unless
#'   `na.action` is `na.omit` or `na.fail`), as in
#'   [stats::predict.lm()]: [stats::na.pass()] (the default) and
#'   [stats::na.exclude()] give such rows `NA` results, in place, so that
#'   the result stays aligned with `newdata`; [stats::na.omit()] leaves
#'   them out (`.row` still gives each row's place in `newdata`);
#'   [stats::na.fail()] makes them an error.  Infinite values are always
#'   an error.  A row's draws do not depend on which other rows are
#'   missing.
#' @param stratify whether to stratify the sampler's noise within each row;
#'   see the section "Stratified noise".
#' @param ... not used; unknown arguments are an error.
#' @return With `format = "long"`, a data frame with columns `.row` (row of
#'   `newdata`), the predictor columns of `newdata` (those the fit uses, as
#'   given: a Date stays a Date; leaving out any whose name the result
#'   already uses), `.draw` (draw number) and one column per response
#'   component, named as in the fit: ready for ggplot2 without a join.  With `format = "matrix"`, a matrix or array as
#'   described under `format`.
#' @seealso [sbcondstats()] for summaries of the draws.
#' @examples
#' set.seed(1)
#' d <- data.frame(x = runif(500, -2, 2))
#' d$y <- d$x + sign(rnorm(500)) + 0.2 * rnorm(500)
#' # a toy budget so that the example runs in a second; real fits keep the default
#' fit <- sbfit(y ~ x, d, control = sbcg_control(epochs = 20), seed = 1)
#' draws <- sbsample(fit, data.frame(x = c(-1, 1)), ndraws = 100, seed = 2)
#' head(draws)
#' @export
sbsample <- function(object, newdata, ndraws = object$control$draws, steps = NULL,
                     method = NULL, format = c("long", "matrix"), grid = NULL,
                     threads = sbcg_threads(), seed = NULL, chunk_size = 10000L,
                     verbose = FALSE, na.action = stats::na.pass, stratify = FALSE,
                     ..., n) {
  check_dots(...)
  check_no_se(sys.call())
  if (missing(newdata) && is_unconditional(object)) newdata <- data.frame(row.names = 1L)
  nname <- renamed_arg("sbsample", "ndraws", "n", !missing(ndraws), !missing(n))
  if (!missing(n)) ndraws <- n
  s <- sampling_setup(object, newdata, ndraws, steps, method, grid, threads = threads,
                      seed = seed, chunk_size = chunk_size, verbose = verbose,
                      na.action = na.action, n_name = nname)
  format <- check_choice(format, c("long", "matrix"), "format")
  strata <- if (check_flag(stratify, "stratify")) draw_strata(s$n) else 0L
  pf <- predictor_frame(object, newdata)
  # the long format repeats .row, .draw and the predictors on every draw's
  # line: checked before any sampling
  if (format == "long")
    check_draw_count(length(s$rows_out), s$n, s$d, nname,
                     other = 2L + length(setdiff(names(pf), c(".row", ".draw", object$ynames))))
  r <- sampling_run(s, sample_chunk, strata = strata)
  draws <- join_draws(lapply(r$parts, `[[`, "draws"), r$nrows, s$n, s$d)
  # the chunks' draws are let go before the draws are shaped
  r <- NULL
  shape_draws(object, pad_draws(draws, s), length(s$rows_out), s$n, format,
              s$rn_out, s$rows_out, pf = pf)
}

# One chunk of sbsample(): the raw draws (chain order) and the count of
# non-finite draws.
sample_chunk <- function(ch, object, n, g, cseed, threads, strata, progress = NULL) {
  sample_rows(object, ch$X, ch$rowid, n, g, cseed, threads, progress = progress,
              strata = strata)
}
