# Argument checks.  Each stops with a message that names the argument, in
# the style of R's own: "'n' must be a whole number >= 1".

stopf <- function(fmt, ..., call. = FALSE) {
  stop(sprintf(fmt, ...), call. = call.)
}

warnf <- function(fmt, ..., call. = FALSE) {
  warning(sprintf(fmt, ...), call. = call.)
}

# A single whole number in [lo, hi].
check_count <- function(x, name, lo = 1, hi = .Machine$integer.max) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) ||
      x != round(x) || x < lo || x > hi) {
    if (is.finite(hi) && hi < .Machine$integer.max)
      stopf("'%s' must be a whole number in [%s, %s]", name, format(lo), format(hi))
    stopf("'%s' must be a whole number >= %s", name, format(lo))
  }
  as.integer(x)
}

# A vector of whole numbers, each in [lo, hi].
check_counts <- function(x, name, lo = 1, hi = 1e5) {
  if (!is.numeric(x) || length(x) < 1L || anyNA(x) || any(!is.finite(x)) ||
      any(x != round(x)) || any(x < lo) || any(x > hi))
    stopf("'%s' must be a vector of whole numbers in [%s, %s]", name,
          format(lo), format(hi))
  as.integer(x)
}

# A single number in [lo, hi] (open ends with lo_open / hi_open).
check_number <- function(x, name, lo = -Inf, hi = Inf, lo_open = FALSE,
                         hi_open = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x)
  if (ok) ok <- (if (lo_open) x > lo else x >= lo) &&
    (if (hi_open) x < hi else x <= hi)
  if (!ok)
    stopf("'%s' must be a single number in %s%s, %s%s", name,
          if (lo_open) "(" else "[", format(lo), format(hi),
          if (hi_open) ")" else "]")
  as.double(x)
}

check_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1L || is.na(x))
    stopf("'%s' must be TRUE or FALSE", name)
  x
}

#' Default number of threads
#'
#' The default of the `threads` argument of [sbsample()],
#' [sbcondstats()], [sbscore()] and [predict.sbfit()] (not of [sbfit()],
#' which trains on one thread unless told otherwise): the option
#' `sbcg.threads` if it is set, otherwise 2 when the environment variable
#' `_R_CHECK_LIMIT_CORES_` asks to limit cores (as `R CMD check --as-cran`
#' does), otherwise all cores that [parallel::detectCores()] reports.
#' Results never depend on the number of threads.
#'
#' @return A whole number >= 1.
#' @examples
#' sbcg_threads()
#' old <- options(sbcg.threads = 1)
#' sbcg_threads()
#' options(old)
#' @export
sbcg_threads <- function() {
  opt <- getOption("sbcg.threads")
  if (!is.null(opt)) return(check_count(opt, "option sbcg.threads", 1, 1024))
  lim <- Sys.getenv("_R_CHECK_LIMIT_CORES_", "")
  nc <- parallel::detectCores()
  if (is.na(nc) || nc < 1L) nc <- 1L
  if (nzchar(lim) && !identical(tolower(lim), "false")) nc <- min(nc, 2L)
  as.integer(min(nc, 1024L))
}

check_threads <- function(threads) {
  threads <- check_count(threads, "threads", 1, 1024)
  if (!.Call(C_sbcg_openmp)) threads <- 1L
  threads
}

check_seed <- function(seed) {
  if (!is.null(seed) && (!is.numeric(seed) || length(seed) != 1L ||
                         is.na(seed) || !is.finite(seed)))
    stopf("'seed' must be NULL or a single number")
  if (!is.null(seed) && abs(seed) >= 2^31)
    stopf("'seed' must be below 2^31 in absolute value")
  seed
}

# match.arg() for one of `choices`, naming the argument in its message.
check_choice <- function(x, choices, name) {
  if (identical(x, choices)) return(choices[1L])
  if (!is.character(x) || length(x) != 1L || is.na(x))
    stopf("'%s' must be one of %s", name, paste0('"', choices, '"', collapse = ", "))
  i <- pmatch(x, choices)
  if (is.na(i))
    stopf("'%s' must be one of %s, not \"%s\"", name,
          paste0('"', choices, '"', collapse = ", "), x)
  choices[i]
}

check_bw <- function(bw) {
  rules <- c("nrd0", "nrd", "ucv", "bcv", "sj", "sj-ste", "sj-dpi")
  ok <- (is.character(bw) && length(bw) == 1L && tolower(bw) %in% rules) ||
    (is.numeric(bw) && length(bw) == 1L && is.finite(bw) && bw > 0)
  if (!ok)
    stopf("'bw' must be a positive number or one of %s", paste0('"', rules, '"', collapse = ", "))
  bw
}

check_probs <- function(probs) {
  if (!is.numeric(probs) || length(probs) < 1L || anyNA(probs) ||
      any(probs < 0) || any(probs > 1))
    stopf("'probs' must be a numeric vector of probabilities in [0, 1]")
  if (anyDuplicated(probs)) stopf("'probs' must not contain duplicates")
  if (is.unsorted(probs)) {
    warnf("'probs' were sorted into increasing order")
    probs <- sort(probs)
  }
  as.double(probs)
}

# Largest number of draws one call may return (rows x n x responses); the
# option sbcg.max_draws raises it.
check_draw_count <- function(nrow, n, d) {
  lim <- getOption("sbcg.max_draws", 2e8)
  tot <- as.double(nrow) * n * d
  if (tot > lim)
    stopf("'n' = %s draws for %d rows of 'newdata' and %d response(s) make %.3g values, more than getOption(\"sbcg.max_draws\") = %.3g; ask for fewer or raise the option",
          format(n), nrow, d, tot, lim)
  invisible(tot)
}

check_dots <- function(...) {
  if (...length()) {
    nms <- names(list(...))
    if (is.null(nms)) nms <- rep("", ...length())
    nms[nms == ""] <- "<unnamed>"
    stopf("unknown argument(s): %s", paste0("'", nms, "'", collapse = ", "))
  }
}

# Runs with R's RNG set by `seed` (if not NULL) and restores the caller's
# RNG state afterwards, as stats:::simulate.lm does.
with_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  genv <- globalenv()
  had <- exists(".Random.seed", envir = genv, inherits = FALSE)
  if (had) old <- get(".Random.seed", envir = genv, inherits = FALSE)
  on.exit(if (had) assign(".Random.seed", old, envir = genv)
          else rm(".Random.seed", envir = genv))
  set.seed(seed)
  expr
}

# Two integers from R's RNG that key the C random streams.
draw_seed <- function() {
  as.integer(floor(stats::runif(2L) * 2147483647))
}
