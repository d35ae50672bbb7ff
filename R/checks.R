# Argument checks: every check of an argument of the exported functions
# (and of a fit passed to them), and the helpers stopf() and warnf() that
# the R code's errors and warnings go through.  Each check stops with a
# message that names the argument, in the style of R's own ("'n' must be a
# whole number >= 1"), and returns the argument in the form the code
# uses.  A fit is checked by check_fit(); newdata is checked and turned
# into the standardised predictor matrix by newdata_matrix() (and its
# responses, for sbscore(), by newdata_response()).  The settings of
# sbcg_control() are checked in control.R, the data of sbfit() in sbfit.R.

# Every error and warning raised in R goes through these two, so that it
# can be translated as nnet's are: the format is looked up in the domain
# R-sbcg (gettextf()), and stop() and warning() do not look it up again.
stopf <- function(fmt, ..., call. = FALSE) {
  stop(gettextf(fmt, ..., domain = "R-sbcg"), call. = call., domain = NA)
}

# Warnings have class "sbcg_warning", and `class` before it, so that a
# caller can muffle one kind (withCallingHandlers(..., sbcg_few_heldout =
# function(w) invokeRestart("muffleWarning"))).
warnf <- function(fmt, ..., call. = FALSE, class = NULL) {
  msg <- gettextf(fmt, ..., domain = "R-sbcg")
  if (call.) return(warning(msg, call. = TRUE, domain = NA))
  warning(structure(class = c(class, "sbcg_warning", "warning", "condition"),
                    list(message = msg, call = NULL)))
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
#' `sbcg.threads` if it is set; otherwise the CPUs this process may use,
#' capped by every limit that is set:
#' * the CPUs of the process's affinity mask and of its cgroup's CPU quota
#'   (on Linux, read from `/proc/self/status` and `/sys/fs/cgroup`), not
#'   all the cores of the machine that [parallel::detectCores()] counts;
#' * `getOption("mc.cores")`, the limit R's parallel package and many
#'   others follow;
#' * the environment variables `OMP_THREAD_LIMIT` and `OMP_NUM_THREADS`;
#' * 2 when `_R_CHECK_LIMIT_CORES_` asks to limit cores (as
#'   `R CMD check --as-cran` does).
#'
#' On a shared server, set `options(sbcg.threads = )` or `mc.cores`.
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
  lim <- c(cpus = available_cpus(),
           mc.cores = first_count(getOption("mc.cores")),
           OMP_THREAD_LIMIT = first_count(Sys.getenv("OMP_THREAD_LIMIT")),
           OMP_NUM_THREADS = first_count(Sys.getenv("OMP_NUM_THREADS")),
           `_R_CHECK_LIMIT_CORES_` = if (check_limits_cores()) 2L else NA_integer_,
           max = 1024L)
  lim <- lim[!is.na(lim)]
  as.integer(min(lim))
}

# The first whole number >= 1 in x (a number, or a string such as the
# "4,2" of OMP_NUM_THREADS), or NA.
first_count <- function(x) {
  if (is.null(x) || !length(x)) return(NA_integer_)
  if (is.character(x)) x <- suppressWarnings(as.numeric(strsplit(x[1L], ",", fixed = TRUE)[[1L]][1L]))
  x <- suppressWarnings(as.numeric(x[1L]))
  if (length(x) != 1L || is.na(x) || !is.finite(x) || x < 1) return(NA_integer_)
  as.integer(min(floor(x), 1024))
}

check_limits_cores <- function() {
  lim <- Sys.getenv("_R_CHECK_LIMIT_CORES_", "")
  nzchar(lim) && !identical(tolower(lim), "false")
}

# The CPUs this process may use: the cores parallel::detectCores() counts,
# capped on Linux by the affinity mask (Cpus_allowed_list in
# /proc/self/status, as taskset and container runtimes set it) and by a
# cgroup CPU quota (cpu.max of cgroup v2, cpu.cfs_quota_us / period of v1),
# with base R only.
available_cpus <- function() {
  nc <- suppressWarnings(parallel::detectCores())
  if (is.na(nc) || nc < 1L) nc <- 1L
  read <- function(f) tryCatch(suppressWarnings(readLines(f, warn = FALSE)),
                               error = function(e) character())
  st <- read("/proc/self/status")
  al <- sub("^Cpus_allowed_list:\\s*", "", grep("^Cpus_allowed_list:", st, value = TRUE))
  if (length(al) == 1L) {
    n <- cpu_list_count(al)
    if (!is.na(n)) nc <- min(nc, n)
  }
  q <- cgroup_quota(read("/sys/fs/cgroup/cpu.max"),
                    read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                    read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
  if (!is.na(q)) nc <- min(nc, q)
  as.integer(max(1L, nc))
}

# The number of CPUs in a list such as "0-3,8,10-11"; NA if unreadable.
cpu_list_count <- function(s) {
  parts <- strsplit(trimws(s), ",", fixed = TRUE)[[1L]]
  n <- 0
  for (p in parts) {
    ab <- suppressWarnings(as.integer(strsplit(p, "-", fixed = TRUE)[[1L]]))
    if (!length(ab) || anyNA(ab) || length(ab) > 2L) return(NA_integer_)
    n <- n + if (length(ab) == 2L) ab[2L] - ab[1L] + 1L else 1L
  }
  if (n < 1) NA_integer_ else as.integer(n)
}

# CPUs allowed by a cgroup quota: v2 "max 100000" (none) or "200000 100000"
# (2 CPUs); v1 quota -1 (none) or quota and period in microseconds.
cgroup_quota <- function(v2, v1_quota, v1_period) {
  if (length(v2)) {
    f <- strsplit(trimws(v2[1L]), "\\s+")[[1L]]
    if (length(f) == 2L && f[1L] != "max") {
      q <- suppressWarnings(as.numeric(f))
      if (!anyNA(q) && all(q > 0)) return(as.integer(max(1, ceiling(q[1L] / q[2L]))))
    }
    return(NA_integer_)
  }
  if (length(v1_quota) && length(v1_period)) {
    q <- suppressWarnings(as.numeric(c(v1_quota[1L], v1_period[1L])))
    if (!anyNA(q) && all(q > 0)) return(as.integer(max(1, ceiling(q[1L] / q[2L]))))
  }
  NA_integer_
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
  if (is.na(i)) {
    amb <- choices[startsWith(choices, x)]
    stopf("'%s' must be one of %s, not \"%s\"%s", name,
          paste0('"', choices, '"', collapse = ", "), x,
          if (length(amb) > 1L && nzchar(x))
            sprintf(", which abbreviates %s alike", paste0('"', amb, '"', collapse = " and ")) else "")
  }
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

# A warning when some of `probs` lie further into a tail than n draws per
# row resolve: with less than one draw expected beyond such a quantile,
# its type-7 estimate lies between the most extreme draws and says little
# of the quantile asked for (with 100 draws, the 0.999 quantile of a
# standard normal, 3.09, is estimated by about 2.5 on average).  probs of
# exactly 0 and 1 ask for the smallest and the largest draw.
check_probs_draws <- function(probs, n, name = "probs") {
  tail <- pmin(probs, 1 - probs)
  far <- tail > 0 & tail * n < 1
  if (any(far))
    warnf("'%s': %s lie further into the tails than %d draws per row resolve (less than one draw is expected beyond them, so their quantiles are close to the most extreme draws); take 'ndraws' of %d or more",
          name, paste(format(probs[far]), collapse = ", "), n,
          as.integer(ceiling(signif(10 / min(tail[far]), 12))), class = "sbcg_tail_probs")
  invisible()
}

# Largest number of draws one call may return (rows x n x responses); the
# option sbcg.max_draws raises it.
check_draw_count <- function(nrow, n, d, n_name = "ndraws", other = 0L) {
  lim <- getOption("sbcg.max_draws", 2e8)
  if (!is.numeric(lim) || length(lim) != 1L || is.na(lim) || lim <= 0)
    stopf("option sbcg.max_draws must be a positive number, such as 2e8 (the default)")
  tot <- as.double(nrow) * n * (d + other)
  if (tot > lim)
    stopf("'%s' = %s draws for %d rows of 'newdata' and %d response(s)%s make %.3g values, more than getOption(\"sbcg.max_draws\") = %.3g; ask for fewer%s or raise the option",
          n_name, format(n), nrow, d,
          if (other > 0) sprintf(", with the long format's %d other column(s) on each draw's line", other) else "",
          tot, lim, if (other > 0) ", take format = \"matrix\"" else "")
  invisible(tot)
}

# The na.action for newdata, as a word: "pass" (the default: rows with
# missing values give NA results, aligned with newdata), "exclude" (the
# same, as predict.lm() does for newdata), "omit" (such rows are left out)
# or "fail" (an error).
check_na_action <- function(na.action) {
  words <- c("pass", "exclude", "omit", "fail")
  if (is.function(na.action)) {
    for (w in words)
      if (identical(na.action, get(paste0("na.", w), envir = asNamespace("stats"))))
        return(w)
  } else if (is.character(na.action) && length(na.action) == 1L &&
             !is.na(na.action) && na.action %in% paste0("na.", words)) {
    return(sub("^na\\.", "", na.action))
  }
  stopf("'na.action' must be na.pass, na.exclude, na.omit or na.fail")
}

# An argument renamed from `old` to `new` in `fun`: the name under which
# it was given (for the messages of the checks).  The old name is honoured
# with a message that says so (the caller then takes its value); giving
# both is an error.
renamed_arg <- function(fun, new, old, new_given, old_given) {
  if (!old_given) return(new)
  if (new_given) stopf("give '%s' or its old name '%s', not both", new, old)
  message(gettextf("%s(): argument '%s' is deprecated; use '%s'", fun, old, new,
                   domain = "R-sbcg"), domain = NA)
  old
}

# Names in `given` that are not in `known`, as an error naming them with
# the closest known names: "did you mean 'samples' or 'sampler'?".
stop_unknown <- function(given, known, what) {
  hints <- vapply(given, function(g) {
    cand <- known[startsWith(known, g)]
    if (!length(cand)) {
      dist <- utils::adist(g, known, ignore.case = TRUE)[1L, ]
      cand <- known[dist <= max(2, nchar(g) %/% 3) & dist == min(dist)]
    }
    if (!length(cand)) return(sprintf("'%s'", g))
    sprintf("'%s' (did you mean %s?)", g,
            paste0("'", cand, "'", collapse = " or "))
  }, "")
  stopf("%s: %s", what, paste(hints, collapse = ", "))
}

check_dots <- function(...) {
  if (...length()) {
    nms <- names(list(...))
    if (is.null(nms)) nms <- rep("", ...length())
    nms[nms == ""] <- "<unnamed>"
    # arguments that lm() and glm() users reach for
    habit <- c(se.fit = se_hint)
    hint <- habit[intersect(nms, names(habit))]
    stopf("unknown argument(s): %s%s", paste0("'", nms, "'", collapse = ", "),
          if (length(hint)) paste0(" (", paste(hint, collapse = "; "), ")") else "")
  }
}

# An error for `se = ` in a call of a function that has `seed` but no
# `se` (predict(), sbsample()): R would match it to `seed` by its prefix,
# and take `se = TRUE` for a seed or `se = 2` silently for seed 2.
# `call`: the call as written (sys.call() of the function).
check_no_se <- function(call) {
  if ("se" %in% names(call)) stopf("unknown argument 'se' (%s)", se_hint)
}

# Where standard errors come from, for users of predict.lm()'s se.fit.
se_hint <- "Monte Carlo standard errors come from sbcondstats(fit, newdata, se = TRUE)"

check_chunk_size <- function(chunk_size) {
  check_count(chunk_size, "chunk_size", 1, .Machine$integer.max)
}

check_levels <- function(levels, name = "level") {
  if (!is.numeric(levels) || !length(levels) || anyNA(levels) ||
      any(levels <= 0) || any(levels >= 1))
    stopf("'%s' must be a numeric vector of levels in (0, 1)", name)
  if (anyDuplicated(levels)) stopf("'%s' must not contain duplicates", name)
  sort(as.double(levels))
}

# Checks `at` and returns NULL or a list: `mode` ("vector" or "matrix")
# and `values`, an array rows x thresholds x components.
check_at <- function(at, nrow, d) {
  if (is.null(at)) return(NULL)
  if (is.logical(at) && length(at) && all(is.na(at)))
    stopf("'at' must not contain NA or NaN")
  msg <- "'at' must be NULL, a numeric vector of thresholds or a numeric matrix with one row per row of 'newdata'"
  if (is.data.frame(at) || is.list(at) || !is.numeric(at) || is.complex(at) ||
      inherits(at, c("Date", "POSIXt", "difftime")) || length(dim(at)) > 2L)
    stopf(msg)
  if (!length(at) && is.null(dim(at))) stopf("'at' must not be empty")
  if (anyNA(at)) stopf("'at' must not contain NA or NaN")
  if (is.null(dim(at))) {
    at <- as.double(at)
    if (anyDuplicated(at_names(at))) stopf("'at' must not contain duplicates")
    vals <- array(rep(at, each = nrow), c(nrow, length(at), d))
    return(list(mode = "vector", values = vals, names = at_names(at)))
  }
  k <- ncol(at)
  if (k < 1L) stopf("'at' must have at least one column")
  A <- matrix(as.double(at), nrow(at), k)
  if (nrow(A) == nrow) {
    vals <- array(rep(A, d), c(nrow, k, d))
  } else if (d > 1L && nrow(A) == nrow * d) {
    vals <- array(NA_real_, c(nrow, k, d))
    for (j in seq_len(d)) vals[, , j] <- A[(seq_len(nrow) - 1L) * d + j, , drop = FALSE]
  } else {
    stopf("'at' has %d rows; as a matrix it must have one row per row of 'newdata' (%d)%s",
          nrow(A), nrow,
          if (d > 1L) sprintf(" or one per row of the result (%d)", nrow * d) else "")
  }
  list(mode = "matrix", values = vals, names = paste0("p_", seq_len(k)))
}

# Column names of the probabilities at thresholds `at`: pm1 (for -1),
# p0.5, ...: syntactic names, the minus sign written "m"; magnitudes from
# 1e15 or below 1e-5 in exponent form (p1e300, p2.5em8), not in hundreds
# of digits; with 15 significant digits, or 17 where 15 do not tell two
# thresholds apart (1 and 1 + 1e-15).
at_names <- function(at) {
  far <- is.finite(at) & at != 0 & (abs(at) >= 1e15 | abs(at) < 1e-5)
  nm <- function(k) {
    txt <- trimws(formatC(at, format = "fg", digits = k))
    txt[far] <- sub("e-0*", "em", sub("e\\+0*", "e", trimws(formatC(at[far], format = "g", digits = k))))
    paste0("p", sub("^-", "m", txt))
  }
  out <- nm(15L)
  if (anyDuplicated(out)) nm(17L) else out
}

# The sampler scheme (`method` of the sampling functions, or the fit's).
check_method <- function(method) {
  if (!is.character(method) || length(method) != 1L ||
      !method %in% c("em_denoise", "em", "bridge"))
    stopf("'method' must be \"em_denoise\", \"em\" or \"bridge\"")
  method
}

# A sampler grid given by the user, which replaces `steps`.
check_grid <- function(grid, steps) {
  if (!is.null(steps)) stopf("give 'steps' or 'grid', not both")
  if (!is.numeric(grid) || length(grid) < 2L || anyNA(grid) ||
      any(grid < 0) || any(grid > 1) || any(diff(grid) <= 0))
    stopf("'grid' must be an increasing vector of at least 2 times in [0, 1]")
  as.double(grid)
}

# Whether v holds whole numbers in [lo, hi].
count_ok <- function(v, lo, hi = 1e6) is.numeric(v) && length(v) >= 1L && !anyNA(v) &&
  all(is.finite(v)) && all(v == round(v)) && all(v >= lo) && all(v <= hi)

# Whether a network description is well formed, within the limits of the
# C code (net_limits()).
net_ok <- function(net) {
  lim <- net_limits()
  one_of <- function(v, choices) is.character(v) && length(v) == 1L && v %in% choices
  is.list(net) && all(c("d", "p", "hidden", "activation", "freq") %in% names(net)) &&
    count_ok(net$d, 1, lim$d) && length(net$d) == 1L && count_ok(net$p, 0, lim$p) &&
    length(net$p) == 1L && count_ok(net$hidden, 1, lim$width) &&
    length(net$hidden) <= lim$hidden_layers && one_of(net$activation, c("silu", "relu", "tanh")) &&
    is.numeric(net$freq) && length(net$freq) <= lim$n_freq && all(is.finite(net$freq)) &&
    (is.null(net$time_map) || one_of(net$time_map, c("linear", "logit"))) &&
    (is.null(net$kind) || one_of(net$kind, c("bridge", "regression")))
}

# Whether a fit's preconditioning matches its bridge network `net`: the
# regression networks' weights (one network, or npar x K cross-fitted), the
# linear part (and each network's, (p + 1) x d x K, with p the location
# networks' inputs), floor, power, centre, scale factor and the
# piecewise-linear encodings.
precondition_ok <- function(pre, net) {
  ln <- pre$net
  if (!is.null(pre$ple) && !ple_ok(pre$ple, ln)) return(FALSE)
  lp <- location_arch(pre)
  vec_ok <- function(v, len, pos = FALSE) is.numeric(v) && length(v) == len &&
    all(is.finite(v)) && (!pos || all(v > 0))
  weights_ok <- function(v, npar) is.numeric(v) && all(is.finite(v)) &&
    ((is.null(dim(v)) && length(v) == npar) ||
       (is.matrix(v) && nrow(v) == npar && ncol(v) >= 1L))
  ok <- tryCatch(is.list(pre) && net_ok(ln) && !identical(ln$kind, "bridge") &&
                   identical(as.numeric(ln$d), as.numeric(net$d)) &&
                   identical(as.numeric(ln$p), as.numeric(net$p)) && length(ln$freq) == 0L &&
                   weights_ok(pre$location, net_npar(lp)) &&
                   (is.null(pre$linear) ||
                      (is.matrix(pre$linear) && identical(dim(pre$linear), as.integer(c(lp$p + 1, net$d))) &&
                         all(is.finite(pre$linear)))) &&
                   (is.null(pre$linear_folds) ||
                      (is.array(pre$linear_folds) && all(is.finite(pre$linear_folds)) &&
                         identical(dim(pre$linear_folds),
                                   c(dim(pre$linear), NCOL(pre$location))))) &&
                   (is.null(pre$scale) || (weights_ok(pre$scale, net_npar(ln)) &&
                                             vec_ok(pre$floor, net$d, TRUE) &&
                                             (is.null(pre$scale_power) ||
                                                (vec_ok(pre$scale_power, net$d) &&
                                                   all(pre$scale_power >= 0 & pre$scale_power <= 1))))) &&
                   vec_ok(pre$center, net$d) && vec_ok(pre$scale_factor, net$d, TRUE) &&
                   (is.null(pre$features) ||
                      (net$d == 1L && net$p >= 2L && !is.null(pre$scale) &&
                         vec_ok(pre$features$center, 2L) &&
                         vec_ok(pre$features$scale, 2L, TRUE))) &&
                   (is.null(pre$cells) || cells_ok(pre, net$d)),
                 error = function(e) FALSE)
  isTRUE(ok)
}

# Whether the piecewise-linear encodings `ple` of a preconditioning
# (ple_prep()) are usable with its networks' architecture `ln`: distinct
# columns among ln's inputs, increasing finite bin edges for each, and
# the location networks' architecture: ln's, with one input per bin more.
ple_ok <- function(ple, ln) {
  isTRUE(tryCatch(
    is.list(ple) && is.integer(ple$cols) && length(ple$cols) >= 1L && !anyNA(ple$cols) &&
      all(ple$cols >= 1L & ple$cols <= ln$p) && !anyDuplicated(ple$cols) &&
      is.list(ple$knots) && length(ple$knots) == length(ple$cols) &&
      all(vapply(ple$knots, function(b) is.numeric(b) && length(b) >= 2L &&
                   all(is.finite(b)) && all(diff(b) > 0), NA)) &&
      net_ok(ple$net) &&
      identical(ple$net[setdiff(names(ln), "p")], ln[setdiff(names(ln), "p")]) &&
      identical(as.numeric(ple$net$p), as.numeric(ln$p + sum(lengths(ple$knots) - 1L))),
    error = function(e) FALSE))
}

# Whether the cell effects of a preconditioning (cell_fit()) are usable:
# keys, effects (cells x d x K) and member folds (cells x K, at least one
# per cell) of its K cross-fitted networks, whose own linear parts it
# keeps when it has one.
cells_ok <- function(pre, d) {
  cl <- pre$cells
  K <- NCOL(pre$location)
  nc <- length(cl$key)
  is.list(cl) && is.character(cl$key) && nc >= 1L && !anyNA(cl$key) &&
    is.array(cl$effect) && identical(dim(cl$effect), as.integer(c(nc, d, K))) &&
    all(is.finite(cl$effect)) && is.logical(cl$member) &&
    identical(dim(cl$member), c(nc, K)) && !anyNA(cl$member) &&
    all(rowSums(cl$member) >= 1) && K >= 2L &&
    (is.null(pre$linear) || !is.null(pre$linear_folds))
}

# Check that `object` is a usable fit (also guards the C code against a
# fit edited by hand).
check_fit <- function(object, name = "object") {
  if (!inherits(object, "sbfit") || !is.list(object))
    stopf("'%s' must be a fit from sbfit()", name)
  # format 1: location and scale networks stored as bridge networks that
  # are evaluated at z = 0, t = 0; format 2: regression networks; format 3:
  # as 2, with the bridge's draws mixed by `mix` (a decorrelated fit, which
  # earlier versions, reading format 2 only, would sample wrongly); format
  # 4: an ensemble, whose other members are in `members` (ensemble.R);
  # format 5: any of 2 to 4 with a recalibration map (recalibrate.R);
  # format 6: any of 2 to 5 whose bridge (or a member's) sees the location
  # and scale instead of the predictors (fit_format(), location_features());
  # format 7: any of 2 to 6 fitted as counts on the log(1 + y + u) scale
  # (support.R); format 8: any of 2 to 7 whose location (or a member's) has
  # cell effects (scaling.R, cell_fit()); format 9: any of 2 to 8 whose
  # location networks (or a member's) take piecewise-linear encodings
  # (scaling.R, ple_prep()); format 10: any of 2 to 9 whose two bridges are
  # pooled ('pooled_bridges', the other bridge in `members`; ensemble.R,
  # pool_bridges()); format 11: any of 2 to 10 with predictor columns that
  # were constant on its rows, which new data then set to 0
  # (`scaling$x_const`); format 12: any of 2 to 11 whose law on the real
  # line is cut at `support$floor` (support = "auto" on responses never
  # below 0); format 13: any of 2 to 12 whose cells (or a member's) are the
  # levels of a factor, keyed by its columns (`precondition$cells$cols`,
  # scaling.R, level_fit()), which earlier versions would key by all;
  # format 14: any of 2 to 13 with a linear part in its law (`linear`,
  # linear.R), which keeps that format as `base_format`; format 15: any of
  # 2 to 14 with a share of its law from a bridge on the response itself
  # (`direct`, direct.R), which keeps that format as `base_format`
  if (!(is.integer(object$format) && length(object$format) == 1L &&
        object$format %in% 1:15)) {
    made <- if (is.character(object$version)) object$version[1L] else "unknown"
    this <- as.character(getNamespaceVersion("sbcg"))
    # (a format this version never wrote, though the version is the same:
    # a later build, or an edited fit)
    if (!is.null(object$format) && identical(made, this))
      stopf("'%s$format' is %s, which this version of sbcg (%s) does not read (formats 1 to 15, integers): the fit was made by another version or altered; refit it with this one",
            name, paste(format(object$format), collapse = ", "), this)
    stopf("'%s' was made by another version of sbcg (%s); refit it with this one (%s)",
          name, made, this)
  }
  # format 15: the direct bridge checked as a fit of its own, the rest as
  # the format it has without it
  if (!identical(object$format == 15L, !is.null(object$direct)))
    stopf("'%s$format' is 15 exactly when a share of its law is a bridge on the response itself ('direct')",
          name)
  # (the bridge itself is checked last, once the rest of the fit is)
  dr <- object$direct
  if (!is.null(dr)) {
    whole <- object
    base <- if (is.list(dr)) dr$base_format
    if (!(is.integer(base) && length(base) == 1L && base %in% 2:14))
      stopf("'%s$direct$base_format' must be the fit's format without its direct bridge, an integer from 2 to 14",
            name)
    object$direct <- NULL
    object$format <- base
  }
  # format 14: checked as the format it would have without its linear part
  if (!identical(object$format == 14L, !is.null(object$linear)))
    stopf("'%s$format' is 14 exactly when its law has a linear part ('linear')", name)
  # (the part itself is checked last, against the network's predictors;
  # fits of the first version of the part lack its base_format)
  lin <- object$linear
  if (!is.null(lin)) {
    base <- if (is.list(lin)) lin$base_format
    if (!is.null(base) && !(is.integer(base) && length(base) == 1L && base %in% 2:13))
      stopf("'%s$linear$base_format' must be the fit's format without its linear part, an integer from 2 to 13",
            name)
    object$linear <- NULL
    object$format <- if (is.null(base)) fit_format(object) else base
  }
  # format 13: checked as the format it would have with cells keyed by all
  # columns, once the factor's columns are found among the predictors'
  lc <- function(o) is.list(o) && is.list(o$precondition) &&
    is.list(o$precondition$cells) && !is.null(o$precondition$cells$cols)
  has13 <- lc(object) || (is.list(object$members) && any(vapply(object$members, lc, NA)))
  if (!identical(object$format == 13L, has13))
    stopf("'%s$format' is 13 exactly when its cells are the levels of a factor ('precondition$cells$cols')",
          name)
  if (has13) {
    p <- if (is.list(object$net)) object$net$p
    strip <- function(o) {
      if (!lc(o)) return(o)
      cols <- o$precondition$cells$cols
      if (!is.integer(cols) || !length(cols) || anyNA(cols) || anyDuplicated(cols) ||
          !is.numeric(p) || !all(cols %in% seq_len(p)))
        stopf("'%s$precondition$cells' is malformed: 'cols' must be predictor columns", name)
      o$precondition$cells[c("cols", "factor")] <- NULL
      o
    }
    object <- strip(object)
    if (is.list(object$members)) object$members <- lapply(object$members, strip)
    object$format <- fit_format(object)
  }
  # format 12: checked as the format it would have without the floor
  fl <- if (is.list(object$support)) object$support$floor
  if (!identical(object$format == 12L, !is.null(fl)))
    stopf("'%s$format' is 12 exactly when its law on the real line is cut at 'support$floor'",
          name)
  if (!is.null(fl)) {
    if (!is.numeric(fl) || length(fl) != 1L || !is.finite(fl) ||
        !identical(object$support$type, "real"))
      stopf("'%s$support' is malformed: 'floor' must be one finite number, on the real line", name)
    object$support$floor <- NULL
    object$format <- fit_format(object)
  }
  # format 11: checked as the format it would have without x_const
  xc <- if (is.list(object$scaling)) object$scaling$x_const
  if (!identical(object$format == 11L, !is.null(xc)))
    stopf("'%s$format' is 11 exactly when predictor columns were constant on its rows ('scaling$x_const')",
          name)
  if (!is.null(xc)) {
    p <- if (is.list(object$net)) object$net$p
    if (!is.numeric(xc) || anyNA(xc) || anyDuplicated(xc) || !is.numeric(p) ||
        !all(xc %in% seq_len(p)))
      stopf("'%s$scaling' does not match the network", name)
    object$scaling$x_const <- NULL
    object$format <- fit_format(object)
  }
  need <- c("theta", "net", "scaling", "xinfo", "ynames", "control")
  miss <- setdiff(need, names(object))
  if (length(miss))
    stopf("'%s' is not a complete sbfit object: it lacks %s", name,
          paste(miss, collapse = ", "))
  net <- object$net
  if (!net_ok(net)) stopf("'%s$net' is malformed", name)
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
      any(s$x_scale <= 0) || any(s$y_scale <= 0) ||
      (!is.null(s$x_log) && (!is.numeric(s$x_log) || length(s$x_log) != net$p ||
                             !all(is.finite(s$x_log)) || any(s$x_log < 0))) ||
      (!is.null(s$x_range) && (!is.numeric(s$x_range) || !identical(dim(s$x_range), c(2L, net$p)) ||
                               anyNA(s$x_range))) ||
      (!is.null(s$y_range) && (!is.numeric(s$y_range) || !identical(dim(s$y_range), c(2L, net$d)) ||
                               anyNA(s$y_range))))
    stopf("'%s$scaling' does not match the network", name)
  if (!is.character(object$ynames) || length(object$ynames) != net$d ||
      anyNA(object$ynames) || anyDuplicated(object$ynames) ||
      any(object$ynames %in% c("", ".row", ".draw", ".response")))
    stopf("'%s$ynames' must be %d unique response names other than .row, .draw and .response",
          name, net$d)
  cv <- object$constant
  if (!is.null(cv) && (!is.numeric(cv) || length(cv) != net$d || any(is.infinite(cv))))
    stopf("'%s$constant' must hold %d numbers (NA for a response that is not constant)",
          name, net$d)
  if (!is.null(object$bridge_x) && !(isTRUE(object$bridge_x) || isFALSE(object$bridge_x)))
    stopf("'%s$bridge_x' must be TRUE or FALSE", name)
  mix <- object$mix
  if ((object$format < 4L && !identical(is.null(mix), object$format < 3L)) ||
      (!is.null(mix) && !(is.numeric(mix) && is.matrix(mix) && all(dim(mix) == net$d) &&
                            all(is.finite(mix)))))
    stopf("'%s$mix' must be a finite %d x %d matrix in a fit of format 3, and absent otherwise",
          name, net$d, net$d)
  if (!is.null(object$precondition) && !precondition_ok(object$precondition, net))
    stopf("'%s$precondition' is malformed", name)
  xn <- if (is.null(object$xnames)) character(0) else object$xnames
  if (!is.character(xn) || length(xn) != net$p || anyNA(xn))
    stopf("'%s$xnames' must be the %d names of the network's predictor columns",
          name, net$p)
  ctl <- object$control
  if (!is.list(ctl) || !count_ok(ctl$steps, 1) || !count_ok(ctl$draws, 1, 1e7) ||
      !is.character(ctl$sampler) || !is.character(ctl$parameterization))
    stopf("'%s$control' is malformed", name)
  gp <- ctl$grid_power
  if (!is.null(gp) && !(is.numeric(gp) && length(gp) == 1L && is.finite(gp) && gp > 0))
    stopf("'%s$control$grid_power' must be a positive number", name)
  if (is.character(ctl$precondition) && length(ctl$precondition) == 1L &&
      ctl$precondition != "none" && is.null(object$precondition))
    stopf("'%s$precondition' is missing from a fit with control$precondition = \"%s\"",
          name, ctl$precondition)
  meta_ok <- is.data.frame(object$history) &&
    all(c("epoch", "train", "valid") %in% names(object$history)) &&
    all(vapply(object[c("n", "n_train", "n_valid", "best_epoch", "seconds")],
               function(v) is.numeric(v) && length(v) == 1L && !is.na(v), NA))
  if (!meta_ok) stopf("'%s' has a malformed training record (history, n, best_epoch)", name)
  if (!support_ok(object$support))
    stopf("'%s$support' is malformed", name)
  if (!is.list(object$xinfo) || !identical(length(object$xinfo$type), 1L) ||
      !object$xinfo$type %in% c("terms", "matrix"))
    stopf("'%s$xinfo' is malformed", name)
  pooled <- object$pooled_bridges
  if (!is.null(pooled) && !isTRUE(pooled))
    stopf("'%s$pooled_bridges' must be TRUE or absent", name)
  if (!identical(object$format == 10L, isTRUE(pooled)))
    stopf("'%s$format' is 10 exactly when its bridges are pooled ('pooled_bridges')", name)
  ens <- if (isTRUE(pooled)) TRUE else if (object$format >= 5L)
    fit_ensemble_size(object$control) > 1L else object$format == 4L
  if (!identical(ens, !is.null(object$members)))
    stopf("'%s$members' must be present in an ensemble (a fit of format 4, or of format 5 to 9 with control$ensemble > 1) or a fit with pooled bridges (format 10), and only there",
          name)
  has_map <- !is.null(object$recalibration)
  if ((object$format == 5L && !has_map) || (object$format < 5L && has_map) ||
      !recalibration_ok(object$recalibration))
    stopf("'%s$recalibration' must be a recalibration map in a fit of format 5 (or 6 or 7), and absent in formats 1 to 4",
          name)
  if (!identical(object$format == 6L, fit_format(object) == 6L))
    stopf("'%s$format' is 6 exactly when its bridge sees the location and scale ('precondition$features')",
          name)
  if (!identical(object$format == 7L, fit_format(object) == 7L))
    stopf("'%s$format' is 7 exactly when it is a count fit with an offset ('support$offset')",
          name)
  if (!identical(object$format == 8L, fit_format(object) == 8L))
    stopf("'%s$format' is 8 exactly when its location has cell effects ('precondition$cells')",
          name)
  if (!identical(object$format == 9L, fit_format(object) == 9L))
    stopf("'%s$format' is 9 exactly when its location networks take piecewise-linear encodings ('precondition$ple')",
          name)
  if (!is.null(object$members)) {
    if (!is.list(object$members) || !length(object$members) ||
        !all(vapply(object$members, is.list, NA)))
      stopf("'%s$members' must be a non-empty list of fits", name)
    bx <- c(isTRUE(object$bridge_x),
            vapply(object$members, function(m) isTRUE(m$bridge_x), NA))
    if (isTRUE(pooled) &&
        !identical(bx, rep(c(TRUE, FALSE), max(1L, fit_ensemble_size(object$control)))))
      stopf("'%s$members' of a fit with pooled bridges must hold the other bridges, with and without the predictors in turn",
            name)
    for (k in seq_along(object$members)) {
      m <- object$members[[k]]
      if (!identical(m$net, net))
        stopf("'%s$members[[%d]]' has another network than the fit", name, k)
      check_fit(member_object(object, k + 1L), sprintf("%s$members[[%d]]", name, k))
    }
  }
  if (!is.null(lin) && !linear_ok(lin, object))
    stopf("'%s$linear' is malformed: it must hold a linear law of the predictors and a weight in [0, 1)",
          name)
  if (!is.null(dr)) {
    if (!direct_ok(dr, whole))
      stopf("'%s$direct' is malformed: it must hold a bridge of one response and a share in (0, 1)",
            name)
    check_fit(direct_object(whole), sprintf("%s$direct", name))
  }
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
    # named as sbfit() names the columns of its 'x' (one without any names
    # is matched by position below)
    if (info$type == "matrix" && !is.null(colnames(newdata)))
      colnames(newdata) <- fill_colnames(colnames(newdata), ncol(newdata))
    newdata <- as.data.frame(newdata, stringsAsFactors = FALSE)
  }
  if (!is.data.frame(newdata))
    stopf(if (info$type == "matrix") "'newdata' must be a data frame or a matrix" else
      "'newdata' must be a data frame")
  if (isTRUE(info$intercept_only)) {
    # y ~ 1: any newdata; one constant predictor column
    X <- matrix(0, nrow(newdata), 1L, dimnames = list(NULL, ".constant"))
  } else if (info$type == "terms") {
    vars <- if (is.null(info$data_vars)) all.vars(info$terms) else info$data_vars
    miss <- setdiff(vars, names(newdata))
    if (length(miss))
      stopf("'newdata' lacks column(s) %s", paste(miss, collapse = ", "))
    mf <- tryCatch(
      stats::model.frame(info$terms, newdata, na.action = stats::na.pass,
                         xlev = info$xlevels),
      error = function(e) stopf("'newdata' does not fit the model: %s%s", conditionMessage(e),
                                posixlt_hint(newdata)))
    # checked on the model frame's columns, not the raw variables, so that
    # y ~ as.numeric(date) takes a Date column
    check_predictor_columns(mf, "newdata")
    mf <- newdata_times(mf, info$times)
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
    } else if (is.null(names(newdata)) || all(grepl("^V[0-9]+$", names(newdata)))) {
      stopf("'newdata' has %d unnamed column(s); the fit has %d (%s)", ncol(newdata),
            length(nms), paste(nms, collapse = ", "))
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
  # missing values are rows to skip (sampling_setup()); infinite ones are
  # an error
  bad <- rowSums(is.infinite(X)) > 0
  if (any(bad))
    stopf("'newdata' has infinite values in row(s) %s",
          paste(utils::head(which(bad), 5L), collapse = ", "))
  # the bound sbfit() puts on the training data (beyond it the
  # standardised values, or the networks' sums, overflow)
  bad <- rowSums(abs(X) > 1e150, na.rm = TRUE) > 0
  if (any(bad))
    stopf("'newdata' has predictor values beyond 1e150 in absolute value in row(s) %s; a fit cannot read them (sbfit() refuses them too)",
          paste(utils::head(which(bad), 5L), collapse = ", "))
  L <- log_cols(X, object$scaling$x_log)
  Xs <- apply_scaling(L, list(center = object$scaling$x_center, scale = object$scaling$x_scale),
                      zero = object$scaling$x_const)
  extrapolation_warning(object, X, L, Xs)
  const_values_warning(L, object$scaling$x_const, object$scaling$x_center)
  X <- Xs
  rownames(X) <- rownames(newdata)
  X
}

# A warning for rows of newdata's predictor matrix X whose value in a
# column that was constant on the fit's rows (indices `const`, the values
# `center`) is another: the fit learned nothing of that column and reads
# it as the constant (a factor level whose rows all had weight 0, say).
const_values_warning <- function(X, const, center) {
  for (j in const) {
    off <- which(abs(X[, j] - center[j]) > 1e-9 * max(1, abs(center[j])))
    if (length(off))
      warnf("'newdata': predictor column '%s' was %s on every row the fit learned from, so the fit cannot tell its other values apart; row(s) %s are predicted as if it were %s",
            colnames(X)[j], format(center[[j]], digits = 6), paste(utils::head(off, 5L), collapse = ", "),
            format(center[[j]], digits = 6))
  }
}

# A warning (class sbcg_extrapolation) for rows of newdata's predictor
# matrix X that lie well outside the fit's training rows, on the scale the
# networks read (L, X through log_cols() with `x_log`: skewed columns on a
# log-like scale; `range`, 2 x columns, the training rows' range, NULL for
# fits saved before sbcg kept it), where the draws come from the
# networks' extrapolation, which no training row checked (a default
# mcycle fit put the mean acceleration at times = -50 at -215).  A row
# warns if in some column it lies beyond the range by more than its width,
# or by more than a tenth of it where the location and scale networks
# move the law there by more than its spread from the law at the range's
# edge (moved_rows(); Xs: the standardised rows).  The bridge reads a row
# at the edge (x_clamped()), so the location and scale are all that
# extrapolate; a tenth of the width alone warned on most calls with a
# handful of predictors that carry no signal (500 new rows from the
# training rows' own law, five Gaussian predictors, 200 training rows:
# 98% of calls).
extrapolation_warning <- function(object, X, L, Xs) {
  range <- object$scaling$x_range
  if (is.null(range) || !nrow(X)) return(invisible())
  x_log <- object$scaling$x_log
  R <- log_cols(range, x_log)
  width <- R[2L, ] - R[1L, ]
  # rows i beyond the range by more than `share` of its width, by column
  beyond <- function(share, i = seq_len(nrow(L))) {
    far <- matrix(FALSE, length(i), ncol(L))
    for (j in which(width > 0)) {
      v <- L[i, j]
      w <- share * width[j]
      far[, j] <- !is.na(v) & (v < R[1L, j] - w | v > R[2L, j] + w)
    }
    far
  }
  far <- beyond(1 / 10)
  rows <- which(rowSums(far) > 0)
  if (!length(rows)) return(invisible())
  keep <- rowSums(beyond(1, rows)) > 0 | moved_rows(object, Xs[rows, , drop = FALSE])
  rows <- rows[keep]
  if (!length(rows)) return(invisible())
  j <- which(far[rows[1L], ])[1L]
  fmt <- function(v) format(v, digits = 4)
  logged <- !is.null(x_log) && x_log[j] > 0
  warnf("'newdata': %d row(s) (%s) lie well outside the predictor values the fit learned from, e.g. row %d has %s = %s where they span %s to %s%s; their draws come from the networks' extrapolation, which no training row checks",
        length(rows), paste(utils::head(rows, 5L), collapse = ", "), rows[1L],
        colnames(X)[j], fmt(X[rows[1L], j]), fmt(range[1L, j]), fmt(range[2L, j]),
        if (logged) " (far on the log-like scale the fit reads it on)" else "",
        class = "sbcg_extrapolation")
}

# Which standardised rows Xs the location and scale networks move, beyond
# the training rows' range, by more than the law's spread: the centre by
# more than the scale at the range's edge (x_clamped()), or the scale by
# more than a factor of 2, in some response component (draw_scale(): the
# centre and scale that map the bridge's standardised draws), in some
# member of an ensemble.  A fit without preconditioning reads every row at
# the edge: nothing moves.
moved_rows <- function(object, Xs) {
  Xc <- x_clamped(object, Xs)
  moved <- vapply(seq_len(n_members(object)), function(k) {
    o <- member_object(object, k)
    if (is.null(o$precondition)) return(rep(FALSE, nrow(Xs)))
    a <- draw_scale(o, Xs)
    b <- draw_scale(o, Xc)
    m <- abs(a$center - b$center) > b$scale | a$scale > 2 * b$scale | b$scale > 2 * a$scale
    rowSums(matrix(m, nrow(Xs)), na.rm = TRUE) > 0
  }, logical(nrow(Xs)))
  rowSums(matrix(moved, nrow(Xs))) > 0
}

# The model frame mf of newdata with its date, date-time and difftime
# columns as numbers; `times` gives the kind of each column that was one in
# the training data, which newdata must give (as lm() asks: a plain number
# for a difftime would be read in seconds, whatever the training units).
newdata_times <- function(mf, times) {
  for (nm in names(mf)) {
    kind <- time_kind(mf[[nm]])
    want <- if (is.null(times)) NA_character_ else unname(times[nm])
    if (is.null(kind) && !is.na(want))
      stopf("'newdata': column '%s' must be a %s, as in the training data, not %s", nm,
            want, class(mf[[nm]])[1L])
    if (is.null(kind)) next
    if (is.na(want))
      stopf("'newdata': column '%s' is a %s, but the fit took it as a plain number", nm, kind)
    if (!identical(kind, want))
      stopf("'newdata': column '%s' is a %s, but the fit had a %s", nm, kind, want)
    mf[[nm]] <- time_number(mf[[nm]])
  }
  mf
}

# How a formula fit computes its response from data: list(expr, env), the
# left side of the formula as the model frame evaluated it (the terms'
# `predvars`, which hold what scale(y) or poly() learned from the
# training rows, as predict.lm() uses them) and the formula's environment;
# NULL for a fit without a formula.
response_recipe <- function(object) {
  f <- object$formula
  if (!inherits(f, "formula") || length(f) != 3L) return(NULL)
  pv <- attr(object$terms, "predvars")
  expr <- if (is.call(pv) && length(pv) >= 2L && isTRUE(attr(object$terms, "response") == 1L))
    pv[[2L]] else f[[2L]]
  list(expr = expr, env = environment(f))
}

# The response of `recipe` (response_recipe()) computed on data frame
# `data`, as a rows x components matrix (not checked further).
recipe_response <- function(recipe, data) {
  Y <- eval(recipe$expr, data, recipe$env)
  if (is.data.frame(Y)) Y <- as.matrix(Y)
  if (is.null(dim(Y)) && is.numeric(Y)) Y <- matrix(Y, ncol = 1L)
  Y
}

# Observed responses in newdata, as a rows x components matrix.
newdata_response <- function(object, newdata) {
  yn <- object$ynames
  d <- length(yn)
  if (is.matrix(newdata)) newdata <- as.data.frame(newdata, stringsAsFactors = FALSE)
  f <- object$formula
  if (inherits(f, "formula") && length(f) == 3L) {
    rv <- object$xinfo$response_vars
    vars <- if (is.null(rv)) all.vars(f[[2L]]) else rv
    miss <- setdiff(vars, names(newdata))
    if (length(miss))
      stopf("'newdata' lacks the response column(s) %s: scoring needs the observed responses",
            paste(miss, collapse = ", "))
    Y <- tryCatch(recipe_response(response_recipe(object), newdata), error = function(e)
      stopf("'newdata': cannot compute the response %s: %s", deparse1(f[[2L]]),
            conditionMessage(e)))
  } else {
    miss <- setdiff(yn, names(newdata))
    if (length(miss))
      stopf("'newdata' lacks the response column(s) %s: scoring needs the observed responses",
            paste(miss, collapse = ", "))
    Y <- newdata[yn]
    if (!all(vapply(Y, function(v) is.numeric(v) && !is.complex(v), NA)))
      stopf("'newdata': the response column(s) %s must be numeric", paste(yn, collapse = ", "))
    Y <- as.matrix(Y)
    storage.mode(Y) <- "double"  # (as.matrix() of no rows is logical)
  }
  if (!is.numeric(Y) || is.complex(Y))
    stopf("'newdata': the response %s must be numeric, not %s",
          if (inherits(f, "formula") && length(f) == 3L) deparse1(f[[2L]]) else
            paste(yn, collapse = ", "), class(Y)[1L])
  if (is.null(dim(Y))) Y <- matrix(Y, ncol = 1L)
  if (ncol(Y) != d || nrow(Y) != nrow(newdata))
    stopf("'newdata': the response has %d column(s) and %d row(s); the fit needs %d and %d",
          ncol(Y), nrow(Y), d, nrow(newdata))
  storage.mode(Y) <- "double"
  bad <- rowSums(is.infinite(Y)) > 0
  if (any(bad))
    stopf("'newdata' has infinite responses in row(s) %s",
          paste(utils::head(which(bad), 5L), collapse = ", "))
  colnames(Y) <- yn
  Y
}
