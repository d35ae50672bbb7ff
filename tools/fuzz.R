# tools/fuzz.R -- seeded fuzz test of sbcg's R interface and its .Call
# entry points.
#
# Usage (from the package root, against the installed package):
#   Rscript tools/fuzz.R [count] [seed] [--case=K] [--timeout=SEC]
#                        [--log=FILE] [--trace]
#     count      number of fuzzed calls (default 2000)
#     seed       seed of the run (default 1); case K of a run is generated
#                from its own seed derived from (seed, K), so a case can be
#                replayed alone with --case=K (same count and seed)
#     --timeout  elapsed-time limit per call in seconds (default 10; 20x
#                longer when running under valgrind)
#     --log      file that receives each case's description, flushed
#                BEFORE the call runs (default: sbcg-fuzz-<seed>-<pid>.log in
#                TMPDIR or /tmp; the path is printed to stderr first).
#                After a segfault or abort its last line names the call
#                that killed R; replay it with --case=K --trace.
#     --trace    also print each case's description to stdout
#   Under valgrind:
#     R -d "valgrind --error-exitcode=1 -q" --vanilla -f tools/fuzz.R --args 100 1
#
# What it does.  It trains a few small valid fits (hidden = c(4, 4),
# epochs = 1; d = 1 and d = 2; formula and matrix interfaces; a factor, a
# character and a logical predictor) and valid argument lists for every
# exported function (sbfit() formula and default methods, sbcg_control(),
# sbsample(), sbcondstats(), and the predict / simulate / print / summary /
# plot / coef / nobs / formula methods) and for the internal .Call entry
# points C_sbcg_forward, C_sbcg_loss_grad, C_sbcg_train and C_sbcg_sample.
# Each case picks one of them and applies one to three random mutations:
# wrong types (character, list, logical, complex, NULL, function, data frame
# with a list column, factor, Date, raw, environment, symbol), special
# numbers (NA, NaN, +-Inf, +-1e300, -0, 1e12, 2^31, ...), zero-length,
# length-one and doubled vectors, matrices with 0 rows / 0 columns /
# transposed / without dim / with integer, character or list storage,
# newdata with missing or extra columns or unseen factor levels, corrupted
# fit objects (theta truncated or extended, net$hidden / d / p / freq /
# activation changed, scalings of the wrong length, NULL or non-finite,
# elements deleted, class removed, ...), deleted or unknown arguments, bad
# counts, seeds, thread numbers and probabilities.
#
# Every call must end in an R error (caught and recorded) or in a valid
# value; warnings are fine.  A value is checked: dimensions and names of
# draws, summaries, predictions and simulations, finiteness of the draws
# unless a warning about non-finite chains was given, a fit that passes
# the package's own consistency check, .Call results of the right shape.
# At the end a summary is printed: calls, values, R errors, time-outs, and
# the error messages that name no argument in single quotes ('x' or the
# typographic form R uses) -- usability findings.  The exit status is 1 if
# an invalid value was returned (a "violation"), 0 otherwise.  Time-outs
# are reported but, being machine dependent, do not fail the run.
#
# Exclusions that keep the run bounded (these values are legal but slow or
# huge by design, so the generator re-draws a mutation that produces them):
#   * sampler calls with rows x draws x steps above 2e6 (sbsample() accepts
#     n up to 1e8 and steps up to 1e6 per row);
#   * C_sbcg_sample with nrow(x) * ndraw above 1e6 (the C code accepts
#     ndraw up to .Machine$integer.max: with one row that allocates 16 GB
#     and runs for hours, interruptible only by an interrupt / time limit);
#   * C_sbcg_train / sbfit with more than 1e5 row-epochs;
#   * under valgrind only: threads > 64 (valgrind aborts beyond 500 threads;
#     threads = 1024 is fuzzed in ordinary runs);
#   * sbfit() without 'control', or with a control list that leaves both
#     'epochs' and 'samples' at their defaults (that is up to 1e5 epochs,
#     seconds per call); the base control therefore always has
#     samples = 200 besides epochs = 1, and deleting 'control' is re-drawn.

main <- function() {
  opt <- parse_args(commandArgs(trailingOnly = TRUE))
  suppressPackageStartupMessages(library(sbcg))
  under_valgrind <- tryCatch(
    any(grepl("valgrind|vgpreload", readLines("/proc/self/maps", warn = FALSE))),
    error = function(e) FALSE)
  timeout <- opt$timeout * if (under_valgrind) 20 else 1
  # valgrind aborts when a process has more than 500 threads
  options(sbcg_fuzz.max_threads = if (under_valgrind) 64 else Inf)
  logfile <- opt$log %||% file.path(Sys.getenv("TMPDIR", "/tmp"),
                                    sprintf("sbcg-fuzz-%d-%d.log", opt$seed, Sys.getpid()))
  logcon <- file(logfile, open = "wt")
  message(sprintf("sbcg fuzz: logging each case to %s before running it", logfile))
  on.exit(close(logcon), add = TRUE)
  nullcon <- file(nullfile(), open = "wt")
  on.exit(close(nullcon), add = TRUE)
  grDevices::pdf(NULL)
  on.exit(grDevices::graphics.off(), add = TRUE)

  t_start <- proc.time()[["elapsed"]]
  writeLines("setup: building base fits", logcon)
  flush(logcon)
  B <- make_bases()
  t_setup <- proc.time()[["elapsed"]] - t_start

  cases <- if (is.na(opt$case)) seq_len(opt$count) else opt$case
  res <- data.frame(case = cases, target = "", outcome = "", msg = "",
                    nwarn = 0L, secs = 0, desc = "", stringsAsFactors = FALSE)
  violations <- character()
  excluded <- 0L
  t0 <- proc.time()[["elapsed"]]
  for (k in seq_along(cases)) {
    i <- cases[k]
    set.seed(case_seed(opt$seed, i))
    cs <- gen_case(B)
    excluded <- excluded + cs$excluded
    desc <- sprintf("case %d: %s", i, cs$desc)
    writeLines(desc, logcon)
    flush(logcon)
    if (opt$trace) cat(desc, "\n", sep = "")
    r <- run_case(cs, timeout, nullcon)
    res$target[k] <- cs$target
    res$outcome[k] <- r$outcome
    res$msg[k] <- r$msg
    res$nwarn[k] <- length(r$warnings)
    res$secs[k] <- r$secs
    res$desc[k] <- desc
    if (r$outcome == "value" && !is.null(cs$check)) {
      v <- tryCatch(cs$check(r$value, r$warnings),
                    error = function(e) paste("checking the value failed:",
                                              conditionMessage(e)))
      if (!is.null(v)) {
        res$outcome[k] <- "violation"
        res$msg[k] <- v
        violations <- c(violations, sprintf("%s\n      -> %s", desc, v))
      }
    }
    if (opt$trace) cat("  ->", res$outcome[k], res$msg[k], "\n")
  }
  t_fuzz <- proc.time()[["elapsed"]] - t0
  writeLines("done", logcon)
  flush(logcon)
  report(res, violations, excluded, opt, logfile, t_setup, t_fuzz, timeout,
         under_valgrind)
  invisible(length(violations) == 0L)
}

`%||%` <- function(a, b) if (is.null(a)) b else a

parse_args <- function(a) {
  opt <- list(count = 2000L, seed = 1L, case = NA_integer_, log = NULL,
              timeout = 10, trace = FALSE)
  pos <- a[!startsWith(a, "--")]
  if (length(pos) >= 1L) opt$count <- as.integer(pos[1L])
  if (length(pos) >= 2L) opt$seed <- as.integer(pos[2L])
  for (o in a[startsWith(a, "--")]) {
    key <- sub("^--([^=]*).*$", "\\1", o)
    val <- if (grepl("=", o, fixed = TRUE)) sub("^[^=]*=", "", o) else ""
    switch(key,
           case = opt$case <- as.integer(val),
           timeout = opt$timeout <- as.numeric(val),
           log = opt$log <- val,
           trace = opt$trace <- TRUE,
           stop(sprintf("unknown option '%s'", o), call. = FALSE))
  }
  if (is.na(opt$count) || opt$count < 1L) stop("'count' must be a positive integer", call. = FALSE)
  if (is.na(opt$seed)) stop("'seed' must be an integer", call. = FALSE)
  opt
}

# Each case has its own seed, so that case K can be replayed alone.
case_seed <- function(seed, i) {
  as.integer((as.double(seed) * 1000003 + i * 7919) %% 2147483647)
}

pick <- function(lst) lst[[sample.int(length(lst), 1L)]]
pick_named <- function(lst) {
  i <- sample.int(length(lst), 1L)
  list(value = lst[[i]], label = names(lst)[i])
}
mut <- function(value, label) list(value = value, label = label)

# Short deparse of a value for a label.
short <- function(v) {
  s <- tryCatch(paste(deparse(v, width.cutoff = 60L, nlines = 2L), collapse = " "),
                error = function(e) "<value>")
  if (nchar(s) > 60L) paste0(substr(s, 1L, 57L), "...") else s
}

# ---------------------------------------------------------------------------
# Value pools

SPECIALS <- list(
  "NA" = NA, "NA_real_" = NA_real_, "NA_integer_" = NA_integer_, "NaN" = NaN,
  "Inf" = Inf, "-Inf" = -Inf, "1e300" = 1e300, "-1e300" = -1e300, "-0" = -0,
  "0" = 0, "0L" = 0L, "-1" = -1, "0.5" = 0.5, "2.5" = 2.5, "1e12" = 1e12,
  "1e9" = 1e9, "2^31" = 2^31, ".Machine$integer.max" = .Machine$integer.max,
  "-.Machine$integer.max" = -.Machine$integer.max, "2^53 + 2" = 2^53 + 2,
  "1e-300" = 1e-300, "4.9e-324" = 4.9e-324)

EMPTY_ENV <- new.env(parent = emptyenv())

TYPES <- list(
  '"a"' = "a", '"1"' = "1", "TRUE" = TRUE, "FALSE" = FALSE,
  "NA_character_" = NA_character_, "1i" = 1i, "NULL" = NULL,
  "function(x) x" = function(x) x, "list(1)" = list(1), "list()" = list(),
  "data.frame with a list column" = data.frame(a = I(list(1, 2:3))),
  'factor("a")' = factor("a"), 'factor(c("2", "1"))' = factor(c("2", "1")),
  "quote(x)" = quote(x), "Date" = as.Date("2020-01-01"), "as.raw(1)" = as.raw(1),
  "environment" = EMPTY_ENV, "expression(1)" = expression(1),
  "character(0)" = character(0), "numeric(0)" = numeric(0),
  "integer(0)" = integer(0), "logical(0)" = logical(0),
  "matrix(1:4, 2)" = matrix(1:4, 2), "POSIXct" = as.POSIXct("2020-01-01", tz = "UTC"),
  "c(a = 1, b = 2)" = c(a = 1, b = 2), "1:3" = 1:3, "c(1, 2)" = c(1, 2))

mut_special <- function(v) pick_named(SPECIALS)
mut_type <- function(v) pick_named(TYPES)

mut_shape <- function(v) {
  if (!is.atomic(v)) stop("not atomic")
  n <- length(v)
  op <- sample(c("zero-length", "first element only", "doubled c(v, v)",
                 "one element dropped", "as.character()", "as.list()", "factor()",
                 "integer storage", "double storage", "as.complex()",
                 "plus 0.5", "negated", "times 1e300", "names added",
                 "as a 1-row matrix", "reversed", "as.logical()",
                 "repeated 1000 times", "attributes stripped"), 1L)
  val <- switch(op,
    "zero-length" = v[0],
    "first element only" = v[1L],
    "doubled c(v, v)" = c(v, v),
    "one element dropped" = if (n) v[-sample.int(n, 1L)] else v,
    "as.character()" = as.character(v),
    "as.list()" = as.list(v),
    "factor()" = factor(v),
    "integer storage" = { storage.mode(v) <- "integer"; v },
    "double storage" = { storage.mode(v) <- "double"; v },
    "as.complex()" = as.complex(v),
    "plus 0.5" = v + 0.5,
    "negated" = -v,
    "times 1e300" = v * 1e300,
    "names added" = stats::setNames(v, paste0("n", seq_len(n))),
    "as a 1-row matrix" = matrix(v, 1L),
    "reversed" = rev(v),
    "as.logical()" = as.logical(v),
    "repeated 1000 times" = rep(v, 1000L),
    "attributes stripped" = as.vector(v))
  mut(val, op)
}

mut_elem <- function(v) {
  if (!is.atomic(v) || length(v) == 0L) return(mut_special(v))
  i <- sample.int(length(v), 1L)
  s <- pick_named(SPECIALS)
  v[i] <- s$value
  mut(v, sprintf("element %d <- %s", i, s$label))
}

# Any value: dispatches on data frames and matrices, else a special number,
# a value of another type, a change of shape or a changed element.
mut_generic <- function(v) {
  if (is.data.frame(v) && stats::runif(1) < 0.7) return(mut_df(v))
  if (is.matrix(v) && stats::runif(1) < 0.7) return(mut_mat(v))
  k <- sample(c("special", "type", "shape", "elem"), 1L, prob = c(0.3, 0.25, 0.25, 0.2))
  r <- tryCatch(suppressWarnings(switch(k, special = mut_special(v), type = mut_type(v),
                                        shape = mut_shape(v), elem = mut_elem(v))),
                error = function(e) NULL)
  r %||% mut_special(v)
}

# From a fixed pool of values (given as a named list), or generic.
mut_pool <- function(pool, p_generic = 0.3) {
  function(v) if (stats::runif(1) < p_generic) mut_generic(v) else pick_named(pool)
}

mut_mat <- function(m) {
  nr <- nrow(m)
  nc <- ncol(m)
  op <- sample(c("0 rows", "0 columns", "transposed", "dim removed",
                 "integer storage", "extra column", "one column dropped",
                 "extra row", "one row", "NA cell", "Inf cell", "NaN cell",
                 "1e300 cell", "character storage", "logical storage",
                 "complex storage", "3-d array", "as.data.frame()",
                 "list storage", "dimnames removed", "duplicated column names",
                 "columns reordered", "huge dim attribute kept, data cut"), 1L)
  val <- switch(op,
    "0 rows" = m[0L, , drop = FALSE],
    "0 columns" = m[, 0L, drop = FALSE],
    "transposed" = t(m),
    "dim removed" = as.vector(m),
    "integer storage" = { storage.mode(m) <- "integer"; m },
    "extra column" = cbind(m, extra = seq_len(nr)),
    "one column dropped" = if (nc) m[, -sample.int(nc, 1L), drop = FALSE] else m,
    "extra row" = if (nr) rbind(m, m[1L, ]) else m,
    "one row" = m[seq_len(min(1L, nr)), , drop = FALSE],
    "NA cell" = { if (length(m)) m[sample.int(length(m), 1L)] <- NA; m },
    "Inf cell" = { if (length(m)) m[sample.int(length(m), 1L)] <- Inf; m },
    "NaN cell" = { if (length(m)) m[sample.int(length(m), 1L)] <- NaN; m },
    "1e300 cell" = { if (length(m)) m[sample.int(length(m), 1L)] <- 1e300; m },
    "character storage" = { storage.mode(m) <- "character"; m },
    "logical storage" = { storage.mode(m) <- "logical"; m },
    "complex storage" = { storage.mode(m) <- "complex"; m },
    "3-d array" = array(m, c(dim(m), 1L)),
    "as.data.frame()" = as.data.frame(m),
    "list storage" = { l <- as.list(m); dim(l) <- dim(m); l },
    "dimnames removed" = unname(m),
    "duplicated column names" = { if (nc) colnames(m) <- rep("a", nc); m },
    "columns reordered" = m[, rev(seq_len(nc)), drop = FALSE],
    "huge dim attribute kept, data cut" = matrix(m[seq_len(min(1L, length(m)))], 1L, 1L))
  mut(val, op)
}

mut_df <- function(df) {
  nr <- nrow(df)
  nms <- names(df)
  col <- if (length(nms)) sample(nms, 1L) else NA_character_
  fac <- nms[vapply(df, is.factor, NA)]
  num <- nms[vapply(df, is.numeric, NA)]
  ncol_ <- if (length(num)) sample(num, 1L) else col
  row <- if (nr) sample.int(nr, 1L) else 1L
  op <- sample(c("drop column", "extra column", "rename column", "reorder columns",
                 "0 rows", "1 row", "2 rows", "60 rows", "NA cell", "Inf cell",
                 "1e300 cell", "1e151 cell", "unseen factor level",
                 "factor column as character", "numeric column as character",
                 "numeric column as factor", "list column", "complex column",
                 "Date column", "logical column", "matrix column", "as.matrix()",
                 "as.list()", "duplicated names", "all-NA column",
                 "constant column", "integer column", "NULL", "first column only as vector",
                 "factor with unused levels", "character column as factor"), 1L)
  if (is.na(col) && !op %in% c("0 rows", "1 row", "2 rows", "60 rows", "as.matrix()",
                              "as.list()", "NULL", "extra column"))
    op <- "extra column"
  lab <- op
  val <- switch(op,
    "drop column" = { df[[col]] <- NULL; lab <- sprintf("column '%s' dropped", col); df },
    "extra column" = { df$extra <- seq_len(nr); df },
    "rename column" = { names(df)[names(df) == col] <- paste0(col, "_"); lab <- sprintf("column '%s' renamed", col); df },
    "reorder columns" = df[rev(seq_along(df))],
    "0 rows" = df[0L, , drop = FALSE],
    "1 row" = df[seq_len(min(1L, nr)), , drop = FALSE],
    "2 rows" = df[seq_len(min(2L, nr)), , drop = FALSE],
    "60 rows" = df[rep(seq_len(nr), length.out = 60L), , drop = FALSE],
    "NA cell" = { df[[col]][row] <- NA; lab <- sprintf("%s[%d] <- NA", col, row); df },
    "Inf cell" = { df[[ncol_]][row] <- Inf; lab <- sprintf("%s[%d] <- Inf", ncol_, row); df },
    "1e300 cell" = { df[[ncol_]][row] <- 1e300; lab <- sprintf("%s[%d] <- 1e300", ncol_, row); df },
    "1e151 cell" = { df[[ncol_]][row] <- 1e151; lab <- sprintf("%s[%d] <- 1e151", ncol_, row); df },
    "unseen factor level" = {
      if (length(fac)) {
        fc <- sample(fac, 1L)
        v <- df[[fc]]
        levels(v) <- c(levels(v), "zzz")
        v[row] <- "zzz"
        df[[fc]] <- v
        lab <- sprintf("%s[%d] <- unseen level 'zzz'", fc, row)
      } else {
        df[[col]] <- "zzz"
        lab <- sprintf("%s <- \"zzz\"", col)
      }
      df
    },
    "factor column as character" = {
      fc <- if (length(fac)) sample(fac, 1L) else col
      df[[fc]] <- as.character(df[[fc]])
      lab <- sprintf("%s as character", fc)
      df
    },
    "numeric column as character" = { df[[ncol_]] <- as.character(df[[ncol_]]); lab <- sprintf("%s as character", ncol_); df },
    "numeric column as factor" = { df[[ncol_]] <- factor(df[[ncol_]]); lab <- sprintf("%s as factor", ncol_); df },
    "list column" = { df[[col]] <- I(as.list(df[[col]])); lab <- sprintf("%s as a list column", col); df },
    "complex column" = { df[[ncol_]] <- suppressWarnings(as.complex(df[[ncol_]])); lab <- sprintf("%s as complex", ncol_); df },
    "Date column" = { df[[col]] <- as.Date("2020-01-01") + seq_len(nr); lab <- sprintf("%s as Date", col); df },
    "logical column" = { df[[col]] <- rep(c(TRUE, FALSE), length.out = nr); lab <- sprintf("%s as logical", col); df },
    "matrix column" = { df[[col]] <- matrix(seq_len(2L * nr), nr, 2L); lab <- sprintf("%s as a 2-column matrix", col); df },
    "as.matrix()" = as.matrix(df),
    "as.list()" = as.list(df),
    "duplicated names" = { names(df) <- rep(col, length(df)); lab <- sprintf("all names '%s'", col); df },
    "all-NA column" = { df[[col]][] <- NA; lab <- sprintf("%s all NA", col); df },
    "constant column" = { df[[col]] <- df[[col]][rep(1L, nr)]; lab <- sprintf("%s constant", col); df },
    "integer column" = { df[[ncol_]] <- suppressWarnings(as.integer(round(df[[ncol_]]))); lab <- sprintf("%s as integer", ncol_); df },
    "NULL" = NULL,
    "first column only as vector" = df[[1L]],
    "factor with unused levels" = {
      fc <- if (length(fac)) sample(fac, 1L) else col
      df[[fc]] <- factor(df[[fc]], levels = c(unique(as.character(df[[fc]])), "unused"))
      lab <- sprintf("%s gets an unused level", fc)
      df
    },
    "character column as factor" = {
      cc <- nms[vapply(df, is.character, NA)]
      cc <- if (length(cc)) sample(cc, 1L) else col
      df[[cc]] <- factor(df[[cc]])
      lab <- sprintf("%s as factor", cc)
      df
    })
  mut(val, lab)
}

mut_newdata <- function(nd) {
  if (stats::runif(1) < 0.8) {
    r <- tryCatch(suppressWarnings(if (is.data.frame(nd)) mut_df(nd) else mut_mat(nd)),
                  error = function(e) NULL)
    if (!is.null(r)) return(r)
  }
  mut_generic(nd)
}

# ---------------------------------------------------------------------------
# Corrupting a fit object

FIT_OPS <- c("delete element", "set element to NULL-like", "theta truncated",
             "theta extended", "theta element", "theta type", "theta times 1e300",
             "net$hidden", "net$d", "net$p", "net$freq", "net$activation",
             "net element deleted", "scaling", "xinfo", "ynames", "xnames",
             "control element", "class", "history", "counters", "whole object")

mut_fit <- function(o) {
  op <- sample(FIT_OPS, 1L)
  np <- length(o$theta)
  lab <- op
  sp <- function() pick_named(SPECIALS)
  o <- switch(op,
    "delete element" = { nm <- sample(names(o), 1L); o[[nm]] <- NULL; lab <- sprintf("object$%s deleted", nm); o },
    "set element to NULL-like" = {
      nm <- sample(names(o), 1L)
      s <- pick_named(list("NA" = NA, "list()" = list(), '"a"' = "a", "0" = 0, "NULL" = NULL))
      o[nm] <- list(s$value)
      lab <- sprintf("object$%s <- %s", nm, s$label)
      o
    },
    "theta truncated" = { o$theta <- o$theta[-np]; lab <- "object$theta loses its last element"; o },
    "theta extended" = { o$theta <- c(o$theta, 0.1); lab <- "object$theta gets an extra element"; o },
    "theta element" = { i <- sample.int(np, 1L); s <- sp(); o$theta[i] <- s$value; lab <- sprintf("object$theta[%d] <- %s", i, s$label); o },
    "theta type" = {
      s <- pick_named(list("as.character" = as.character(o$theta), "as.list" = as.list(o$theta),
                           "integer storage" = as.integer(o$theta * 10),
                           "matrix" = matrix(o$theta, 1L), "NULL" = NULL,
                           "complex" = as.complex(o$theta), "numeric(0)" = numeric(0),
                           "factor" = factor(o$theta)))
      o["theta"] <- list(s$value)
      lab <- sprintf("object$theta as %s", s$label)
      o
    },
    "theta times 1e300" = { o$theta <- o$theta * 1e300; lab <- "object$theta <- object$theta * 1e300"; o },
    "net$hidden" = {
      h <- o$net$hidden
      s <- pick_named(list("h + 1" = h + 1L, "extra layer" = c(h, 4L), "one layer dropped" = h[-1L],
                           "1e9" = c(1e9, h[-1L]), "NA" = c(NA, h[-1L]), "-1" = c(-1L, h[-1L]),
                           "0" = c(0L, h[-1L]), "2.5" = c(2.5, h[-1L]), '"4"' = as.character(h),
                           "NULL" = NULL, "1e5" = c(1e5, h[-1L]), "rev" = rev(h),
                           "17 layers" = rep(1L, 17L), "list" = as.list(h)))
      o$net["hidden"] <- list(s$value)
      lab <- sprintf("object$net$hidden: %s", s$label)
      o
    },
    "net$d" = {
      s <- pick_named(list("d + 1" = o$net$d + 1L, "0" = 0L, "NA" = NA, '"1"' = "1",
                           "1e9" = 1e9, "TRUE" = TRUE, "c(d, d)" = c(o$net$d, o$net$d), "-1" = -1))
      o$net$d <- s$value
      lab <- sprintf("object$net$d <- %s", s$label)
      o
    },
    "net$p" = {
      s <- pick_named(list("p + 1" = o$net$p + 1L, "0" = 0L, "NA" = NA, "-1" = -1L,
                           "1e12" = 1e12, "p - 1" = o$net$p - 1L, "2.5" = 2.5))
      o$net$p <- s$value
      lab <- sprintf("object$net$p <- %s", s$label)
      o
    },
    "net$freq" = {
      fq <- o$net$freq
      s <- pick_named(list("one dropped" = fq[-1L], "one appended" = c(fq, 2), "NA element" = replace(fq, 1L, NA),
                           "Inf element" = replace(fq, 1L, Inf), "1e300 element" = replace(fq, 1L, 1e300),
                           "as.character" = as.character(fq), "NULL" = NULL, "numeric(0)" = numeric(0),
                           "negated" = -fq))
      o$net["freq"] <- list(s$value)
      lab <- sprintf("object$net$freq: %s", s$label)
      o
    },
    "net$activation" = {
      s <- pick_named(list('"foo"' = "foo", "NA" = NA_character_, "1" = 1, "NULL" = NULL,
                           'c("silu", "relu")' = c("silu", "relu"), '"relu"' = "relu",
                           '"tanh"' = "tanh", "3" = 3, "character(0)" = character(0)))
      o$net["activation"] <- list(s$value)
      lab <- sprintf("object$net$activation <- %s", s$label)
      o
    },
    "net element deleted" = {
      nm <- sample(names(o$net), 1L)
      o$net[[nm]] <- NULL
      lab <- sprintf("object$net$%s deleted", nm)
      o
    },
    "scaling" = {
      nm <- sample(c("x_center", "x_scale", "y_center", "y_scale"), 1L)
      v <- o$scaling[[nm]]
      s <- pick_named(list("NULL" = NULL, "one extra" = c(v, 1), "one dropped" = v[-1L],
                           "NA" = replace(v, 1L, NA), "NaN" = replace(v, 1L, NaN),
                           "0" = replace(v, 1L, 0), "Inf" = replace(v, 1L, Inf),
                           "1e300" = replace(v, 1L, 1e300), "-1" = replace(v, 1L, -1),
                           '"a"' = replace(v, 1L, "a"), "list" = as.list(v)))
      o$scaling[nm] <- list(s$value)
      lab <- sprintf("object$scaling$%s: %s", nm, s$label)
      o
    },
    "xinfo" = {
      xi <- o$xinfo
      nm <- sample(unique(c(names(xi), "type", "terms", "names")), 1L)
      s <- pick_named(list("NULL" = NULL, '"matrix"' = "matrix", '"terms"' = "terms", "NA" = NA,
                           "1" = 1, "list()" = list(), '"x"' = "x", "other terms" = stats::terms(~ q + r),
                           "reversed" = tryCatch(rev(xi[[nm]]), error = function(e) NULL)))
      o$xinfo[nm] <- list(s$value)
      lab <- sprintf("object$xinfo$%s <- %s", nm, s$label)
      o
    },
    "ynames" = {
      s <- pick_named(list("NULL" = NULL, "NA" = rep(NA_character_, length(o$ynames)),
                           "1" = seq_along(o$ynames), "extra" = c(o$ynames, "extra"),
                           '".row"' = rep(".row", length(o$ynames)), '""' = rep("", length(o$ynames)),
                           "duplicated" = rep("yy", length(o$ynames))))
      o["ynames"] <- list(s$value)
      lab <- sprintf("object$ynames <- %s", s$label)
      o
    },
    "xnames" = {
      s <- pick_named(list("NULL" = NULL, "one dropped" = o$xnames[-1L], "NA" = NA_character_))
      o["xnames"] <- list(s$value)
      lab <- sprintf("object$xnames <- %s", s$label)
      o
    },
    "control element" = {
      nm <- sample(c("steps", "draws", "sampler", "grid_power", "parameterization",
                     "activation", "freq_range", "lr", "batch_size"), 1L)
      s <- pick_named(list("NA" = NA, '"x"' = "x", "0" = 0, "-1" = -1, "1e9" = 1e9, "2.5" = 2.5,
                           "NULL" = NULL, "1e300" = 1e300, "c(1, 2)" = c(1, 2), '"bridge"' = "bridge",
                           '"denoiser"' = "denoiser", "-0.5" = -0.5))
      o$control[nm] <- list(s$value)
      lab <- sprintf("object$control$%s <- %s", nm, s$label)
      o
    },
    "class" = {
      s <- pick_named(list("removed" = NULL, '"lm"' = "lm", 'c("x", "sbfit")' = c("x", "sbfit"),
                           '"sbcondstats"' = "sbcondstats"))
      class(o) <- s$value
      lab <- sprintf("class(object) <- %s", s$label)
      o
    },
    "history" = {
      s <- pick_named(list("NULL" = NULL, "0 rows" = o$history[0L, ], "NA train" = transform(o$history, train = NA),
                           "list()" = list(), "1e300" = transform(o$history, train = 1e300)))
      o["history"] <- list(s$value)
      lab <- sprintf("object$history: %s", s$label)
      o
    },
    "counters" = {
      nm <- sample(c("best_epoch", "n", "n_train", "n_valid", "seconds", "stopped_early", "steps_run"), 1L)
      s <- sp()
      o[nm] <- list(s$value)
      lab <- sprintf("object$%s <- %s", nm, s$label)
      o
    },
    "whole object" = {
      s <- pick_named(list("unclass" = unclass(o), "list()" = list(), "NULL" = NULL, "42" = 42,
                           "data.frame" = data.frame(a = 1), "empty sbfit" = structure(list(), class = "sbfit")))
      lab <- sprintf("object <- %s", s$label)
      s$value
    })
  mut(o, lab)
}

# ---------------------------------------------------------------------------
# Base objects

make_bases <- function() {
  set.seed(20240601)
  n <- 40L
  d1 <- data.frame(x = stats::runif(n, -2, 2),
                   f = factor(sample(c("a", "b", "c"), n, TRUE)))
  d1$y <- d1$x + 0.5 * as.integer(d1$f) + stats::rnorm(n, sd = 0.3)
  d2 <- data.frame(x = stats::runif(n), z = stats::rnorm(n))
  d2$y1 <- d2$x + stats::rnorm(n, sd = 0.1)
  d2$y2 <- d2$z - d2$x + stats::rnorm(n, sd = 0.2)
  X <- cbind(a = stats::runif(n), b = stats::rnorm(n))
  ym <- X[, 1L] - X[, 2L] + stats::rnorm(n, sd = 0.2)
  Y2 <- cbind(u = X[, 1L] + stats::rnorm(n), v = 2 * X[, 2L] + stats::rnorm(n))
  xdf <- data.frame(num = stats::rnorm(n), lg = rep(c(TRUE, FALSE), n / 2L),
                    ch = sample(c("p", "q"), n, TRUE), stringsAsFactors = FALSE)
  ctl <- list(hidden = c(4L, 4L), epochs = 1L, samples = 200, steps = 10L, draws = 5L)
  ctl2 <- c(ctl, list(parameterization = "denoiser", validation = 0, activation = "relu"))
  ctl3 <- c(ctl, list(sampler = "bridge", n_freq = 0L))
  ctl4 <- c(ctl, list(activation = "tanh", grid_power = 2))
  fenv <- new.env(parent = globalenv())
  fml <- function(s) stats::as.formula(s, env = fenv)
  fits <- list(
    F1 = sbfit(fml("y ~ x + f"), d1, control = ctl, seed = 1),
    F2 = sbfit(fml("cbind(y1, y2) ~ x + z"), d2, control = ctl2, seed = 2),
    M1 = sbfit(X, ym, control = ctl3, seed = 3),
    M2 = sbfit(X, Y2, control = ctl4, seed = 4),
    D1 = sbfit(xdf, ym, control = ctl, seed = 5))
  nds <- list(
    F1 = data.frame(x = c(-1, 0, 1.5), f = factor(c("a", "c", "b"), levels = c("a", "b", "c"))),
    F2 = data.frame(x = c(0.2, 0.8, 0.5), z = c(0, 1, -1)),
    M1 = X[1:3, ], M2 = X[1:3, ],
    D1 = xdf[1:3, ])
  stats_ <- list(F1 = sbcondstats(fits$F1, nds$F1, ndraws = 20, seed = 1),
                 F2 = sbcondstats(fits$F2, nds$F2, ndraws = 20, seed = 1))
  # valid .Call argument lists
  calls <- lapply(fits[c("F1", "F2", "M1")], call_bases)
  list(d1 = d1, d2 = d2, X = X, ym = ym, Y2 = Y2, xdf = xdf, ctl = ctl,
       ctls = list(F1 = ctl, F2 = ctl2, M1 = ctl3, M2 = ctl4, D1 = ctl),
       fits = fits, nds = nds, stats = stats_, calls = calls, fenv = fenv, fml = fml)
}

call_bases <- function(fit) {
  net <- fit$net
  arch <- sbcg:::net_arch(net)
  freq <- as.double(net$freq)
  theta <- fit$theta
  d <- net$d
  p <- net$p
  mk <- function(r, c) matrix(stats::rnorm(r * c), r, c)
  n <- 12L
  nv <- 4L
  nrep <- 3L
  settings <- sbcg:::train_settings(sbcg_control(batch_size = 8, patience = 10),
                                    list(epochs = 1, min_epochs = 0, valid_every = 1,
                                         val_reps = nrep), resid = 1)
  kern <- sbcg:::kernel_set()
  g <- sbcg:::sampler_grid(fit, steps = 8)
  pre <- fit$precondition
  list(
    forward = list(arch = arch, freq = freq, theta = theta, z = mk(5L, d),
                   t = stats::runif(5L), x = mk(5L, p), kern = kern),
    forward_reg = if (!is.null(pre))
      list(arch = sbcg:::net_arch(pre$net), freq = double(),
           theta = as.matrix(pre$location)[, 1L],  # one of the cross-fitted networks
           z = mk(5L, 0L), t = double(), x = mk(5L, p), kern = kern),
    loss_grad = list(arch = arch, freq = freq, theta = theta, x = mk(n, p), y = mk(n, d),
                     t = stats::runif(n, 0, 0.99), eps = mk(n, d), w = rep(1, n), resid = 1L,
                     kern = kern),
    train = list(arch = arch, freq = freq, theta = theta, x = mk(n, p), y = mk(n, d),
                 w = rep(1, n), xv = mk(nv, p), yv = mk(nv, d), wv = rep(1, nv),
                 settings = settings, seed = c(1L, 2L), threads = 1L, verbose = FALSE,
                 kern = kern),
    sample = list(arch = arch, freq = freq, theta = theta, x = mk(3L, p),
                  rowid = c(0, 1, 2), ndraw = 5L, tgrid = g$t, ucoef = g$u,
                  acoef = g$a, scoef = g$s, seed = c(1L, 2L), block = 256L, threads = 1L,
                  ycenter = rep(0, d), yscale = rep(1, d), kern = kern,
                  precision = sbcg:::net_precision(), strata = 0L))
}

# ---------------------------------------------------------------------------
# Case generation

TARGETS <- c(sbfit_formula = 10, sbfit_default = 8, sbcg_control = 6,
             sbsample = 14, sbcondstats = 10, predict = 8, simulate = 6,
             fit_methods = 8, stats_methods = 3, C_forward = 6, C_forward_reg = 3,
             C_loss_grad = 6, C_train = 7, C_sample = 8)

gen_case <- function(B) {
  target <- sample(names(TARGETS), 1L, prob = TARGETS)
  spec <- switch(target,
    sbfit_formula = spec_sbfit_formula(B), sbfit_default = spec_sbfit_default(B),
    sbcg_control = spec_control(B), sbsample = spec_sampler(B, "sbsample"),
    sbcondstats = spec_sampler(B, "sbcondstats"), predict = spec_sampler(B, "predict"),
    simulate = spec_sampler(B, "simulate"), fit_methods = spec_fit_methods(B),
    stats_methods = spec_stats_methods(B), C_forward = spec_call(B, "forward"),
    C_forward_reg = spec_call(B, "forward_reg"),
    C_loss_grad = spec_call(B, "loss_grad"), C_train = spec_call(B, "train"),
    C_sample = spec_call(B, "sample"))
  # mutate until the guard accepts (it rejects legal but huge requests)
  excluded <- 0L
  for (attempt in 1:30) {
    m <- mutate_args(spec)
    if (threads_ok(m$args) && (is.null(spec$guard) ||
        isTRUE(tryCatch(spec$guard(m$args), error = function(e) TRUE)))) break
    excluded <- excluded + 1L
    if (attempt == 30L) m <- list(args = spec$args, labels = "unmutated (guard)")
  }
  args <- m$args
  desc <- sprintf("%s[%s] %s", target, spec$variant,
                  if (length(m$labels)) paste(m$labels, collapse = "; ") else "valid base call")
  FUN <- spec$FUN
  run <- if (isTRUE(spec$dotcall)) {
    function() do.call(.Call, c(list(FUN), unname(args)), quote = TRUE, envir = B$fenv)
  } else {
    function() do.call(FUN, args, quote = TRUE, envir = B$fenv)
  }
  check <- if (is.null(spec$check)) NULL else function(value, warns) spec$check(value, warns, args)
  list(target = target, desc = desc, run = run, check = check, excluded = excluded)
}

# spec: args (valid), mutators (per argument; default mut_generic),
# optional (generators of arguments absent from args), dotcall.
mutate_args <- function(spec) {
  args <- spec$args
  labels <- character()
  nmut <- sample(0:3, 1L, prob = c(0.03, 0.62, 0.27, 0.08))
  for (j in seq_len(nmut)) {
    act <- sample(c("mutate", "delete", "add"), 1L, prob = c(0.83, 0.07, 0.10))
    if (act == "add") {
      if (length(spec$optional) && stats::runif(1) < 0.85) {
        nm <- sample(names(spec$optional), 1L)
        r <- spec$optional[[nm]]()
        args[nm] <- list(r$value)
        labels <- c(labels, sprintf("%s = %s", nm, r$label))
      } else if (isTRUE(spec$dotcall)) {
        args <- c(args, list(extra = 1))
        labels <- c(labels, "one extra argument")
      } else {
        args$unknown_arg <- 1
        labels <- c(labels, "unknown_arg = 1")
      }
    } else if (act == "delete" && length(args)) {
      nm <- sample(names(args), 1L)
      args[[nm]] <- NULL
      labels <- c(labels, sprintf("%s deleted", nm))
    } else if (length(args)) {
      nm <- sample(names(args), 1L)
      f <- spec$mutators[[nm]] %||% mut_generic
      r <- tryCatch(suppressWarnings(f(args[[nm]])), error = function(e) NULL) %||%
        mut_special(args[[nm]])
      args[nm] <- list(r$value)
      labels <- c(labels, sprintf("%s: %s", nm, r$label))
    }
  }
  list(args = args, labels = labels)
}

fit_variant <- function(B, which = names(B$fits)) sample(which, 1L)

COUNT_POOL <- list("NA" = NA, "0" = 0, "-1" = -1, "2.5" = 2.5, "1e12" = 1e12,
                   "Inf" = Inf, '"5"' = "5", "TRUE" = TRUE, "c(2, 3)" = c(2, 3),
                   "1" = 1, "2L" = 2L, "NULL" = NULL, "-0" = -0, "1e300" = 1e300,
                   "2^31" = 2^31, "NaN" = NaN, "integer(0)" = integer(0))
THREADS_POOL <- list("0" = 0, "1e6" = 1e6, "NA" = NA, "1024L" = 1024L, "2L" = 2L,
                     "1025" = 1025, "-1" = -1, '"2"' = "2", "TRUE" = TRUE, "1.5" = 1.5,
                     "NULL" = NULL, "NA_integer_" = NA_integer_, "c(1, 2)" = c(1, 2))
SEED_POOL <- list('"a"' = "a", "NA" = NA, "1e300" = 1e300, "2^31" = 2^31, "c(1, 2)" = c(1, 2),
                  "list(1)" = list(1), "-1" = -1, "0.5" = 0.5, "Inf" = Inf, "NULL" = NULL,
                  "TRUE" = TRUE, "1i" = 1i, "-2^31" = -2^31, ".Machine$integer.max" = .Machine$integer.max,
                  "factor(1)" = factor(1), "numeric(0)" = numeric(0))
FLAG_POOL <- list("NA" = NA, '"yes"' = "yes", "1" = 1, "c(TRUE, FALSE)" = c(TRUE, FALSE),
                  "NULL" = NULL, "TRUE" = TRUE, "logical(0)" = logical(0))
PROBS_POOL <- list("-0.1" = -0.1, "1.1" = 1.1, "NA" = c(0.5, NA), "numeric(0)" = numeric(0),
                   "c(0, 1)" = c(0, 1), "0.5" = 0.5, '"0.5"' = "0.5", "c(0.5, 0.5)" = c(0.5, 0.5),
                   "Inf" = Inf, "seq(0, 1, 0.01)" = seq(0, 1, 0.01), "NaN" = NaN,
                   "c(0.1, 0.1000001)" = c(0.1, 0.1000001), "TRUE" = TRUE, "-0" = -0)

spec_sbfit_formula <- function(B) {
  v <- sample(c("F1", "F2", "F3"), 1L)
  info <- switch(v,
    F1 = list(f = "y ~ x + f", data = B$d1, R = "y", P1 = "x", P2 = "f", ctl = B$ctl),
    F2 = list(f = "cbind(y1, y2) ~ x + z", data = B$d2, R = "cbind(y1, y2)", P1 = "x", P2 = "z",
              ctl = B$ctls$F2),
    F3 = list(f = "y ~ .", data = B$d1, R = "y", P1 = "x", P2 = "f", ctl = B$ctl))
  n <- nrow(info$data)
  fpool <- c("R ~ 1", "~ P1", "R ~ nonexistent", "P2 ~ P1", "cbind(R, P2) ~ P1",
             "R ~ P1 | P2", "R ~ poly(P1, 50)", "R ~ P1 + P1", "log(R) ~ P1",
             "R ~ 0 + P2", "R ~ P1:P2", "R ~ .^2", "R ~ . - P1", "I(R * 1e200) ~ P1",
             "R ~ I(P1 * 1e-320)", "R ~ I(P1 > 0)", "R ~ offset(P1) + P2",
             "R ~ I(as.character(P2))", "R + P1 ~ P2", "R ~ log(P1)", "R ~ P1 + P2",
             "P1 ~ R", "R ~ I(P1^2) + P2", "R ~ factor(P1)", "cbind(R, R) ~ P1")
  mut_formula <- function(old) {
    if (stats::runif(1) < 0.25) return(mut_generic(old))
    s <- sample(fpool, 1L)
    s <- gsub("P2", info$P2, gsub("P1", info$P1, gsub("R", info$R, s, fixed = TRUE), fixed = TRUE),
              fixed = TRUE)
    mut(B$fml(s), s)
  }
  list(variant = v, FUN = sbcg::sbfit,
       args = list(formula = B$fml(info$f), data = info$data, control = info$ctl,
                   threads = 1L, seed = 1, verbose = FALSE),
       mutators = list(formula = mut_formula, data = mut_df_or_generic,
                       control = mut_control_arg, threads = mut_pool(THREADS_POOL),
                       seed = mut_pool(SEED_POOL), verbose = mut_pool(FLAG_POOL)),
       optional = list(
         weights = function() pick_named(list(
           "runif(n)" = stats::runif(n), "rep(0, n)" = rep(0, n), "one negative" = replace(rep(1, n), 3L, -1),
           "one NA" = replace(rep(1, n), 2L, NA), "length n - 1" = rep(1, n - 1L), '"a"' = "a",
           "rep(1e300, n)" = rep(1e300, n), "one Inf" = replace(rep(1, n), 1L, Inf),
           "quote(x)" = quote(x), "c(1e-300, rep(1e300, n - 1))" = c(1e-300, rep(1e300, n - 1L)),
           "NULL" = NULL, "factor" = factor(rep(1:2, length.out = n)))),
         subset = function() pick_named(list(
           "c(TRUE, FALSE)" = c(TRUE, FALSE), "1:5" = 1:5, "-1" = -1, "0" = 0, "NA" = NA,
           '"a"' = "a", "1e12" = 1e12, "1" = 1, "1:2" = 1:2, "rep(FALSE, n)" = rep(FALSE, n),
           "quote(x > 0)" = quote(x > 0))),
         na.action = function() pick_named(list(
           "na.fail" = stats::na.fail, "na.exclude" = stats::na.exclude, '"na.omit"' = "na.omit",
           "NULL" = NULL, "function(x) x" = function(x) x, "na.pass" = stats::na.pass, "42" = 42))),
       check = check_fit_value,
       guard = guard_fit)
}

mut_df_or_generic <- function(v) {
  if (is.data.frame(v) && stats::runif(1) < 0.8) {
    r <- tryCatch(suppressWarnings(mut_df(v)), error = function(e) NULL)
    if (!is.null(r)) return(r)
  }
  mut_generic(v)
}

# The control argument of sbfit(): a changed, deleted or unknown setting,
# an sbcg_control object with a corrupted element, or another type.
mut_control_arg <- function(ctl) {
  if (!is.list(ctl)) return(mut_generic(ctl))
  k <- sample(c("setting", "delete", "unknown", "unnamed", "object", "type"), 1L,
              prob = c(0.55, 0.1, 0.08, 0.07, 0.1, 0.1))
  switch(k,
    setting = {
      nm <- sample(setdiff(names(formals(sbcg::sbcg_control)), "samples"), 1L)
      cur <- ctl[[nm]] %||% eval(formals(sbcg::sbcg_control)[[nm]])
      r <- mut_generic(cur)
      ctl[nm] <- list(r$value)
      mut(ctl, sprintf("$%s <- %s", nm, r$label))
    },
    delete = {
      nm <- sample(names(ctl), 1L)
      ctl[[nm]] <- NULL
      if (is.null(ctl$epochs)) ctl$samples <- 200
      mut(ctl, sprintf("$%s removed", nm))
    },
    unknown = { ctl$bogus <- 1; mut(ctl, "unknown setting 'bogus'") },
    unnamed = mut(unname(ctl), "names removed"),
    object = {
      o <- do.call(sbcg::sbcg_control, ctl)
      nm <- sample(names(o), 1L)
      r <- mut_generic(o[[nm]])
      o[nm] <- list(r$value)
      mut(o, sprintf("sbcg_control object with $%s <- %s", nm, r$label))
    },
    type = mut_generic(ctl))
}

spec_sbfit_default <- function(B) {
  v <- sample(c("M1", "M2", "D1", "V1"), 1L)
  info <- switch(v,
    M1 = list(x = B$X, y = B$ym, ctl = B$ctls$M1),
    M2 = list(x = B$X, y = B$Y2, ctl = B$ctls$M2),
    D1 = list(x = B$xdf, y = B$ym, ctl = B$ctl),
    V1 = list(x = B$X[, 1L], y = B$ym, ctl = B$ctl))
  n <- length(B$ym)
  list(variant = v, FUN = sbcg::sbfit,
       args = list(x = info$x, y = info$y, control = info$ctl, threads = 1L, seed = 1,
                   verbose = FALSE),
       mutators = list(control = mut_control_arg, threads = mut_pool(THREADS_POOL),
                       seed = mut_pool(SEED_POOL), verbose = mut_pool(FLAG_POOL)),
       optional = list(weights = function() pick_named(list(
         "runif(n)" = stats::runif(n), "rep(0, n)" = rep(0, n), "one negative" = replace(rep(1, n), 3L, -1),
         "one NA" = replace(rep(1, n), 2L, NA), "length n - 1" = rep(1, n - 1L), '"a"' = "a",
         "one Inf" = replace(rep(1, n), 1L, Inf), "matrix" = matrix(1, n, 1L),
         "NULL" = NULL, "zero except one" = replace(rep(0, n), 1L, 1)))),
       check = check_fit_value,
       guard = guard_fit)
}

spec_control <- function(B) {
  fm <- formals(sbcg::sbcg_control)
  fm <- fm[names(fm) != "..."]  # settings only (the dots catch misspelled names)
  str_pool <- list('"SILU"' = "SILU", '""' = "", "NA_character_" = NA_character_,
                   'c("relu", "tanh")' = c("relu", "tanh"), '"re"' = "re", "1" = 1,
                   "NULL" = NULL, '"cosine"' = "cosine", '"bridge"' = "bridge")
  mutators <- list(activation = mut_pool(str_pool), lr_schedule = mut_pool(str_pool),
                   sampler = mut_pool(str_pool), parameterization = mut_pool(str_pool))
  # every setting may be mutated: start from its default
  args <- list(hidden = c(4L, 4L), epochs = 1L)
  nm <- sample(setdiff(names(fm), names(args)), 2L)
  for (a in nm) args[a] <- list(eval(fm[[a]]))
  list(variant = "-", FUN = sbcg::sbcg_control, args = args, mutators = mutators,
       optional = lapply(stats::setNames(nm = setdiff(names(fm), names(args))), function(a)
         function() mut_generic(eval(fm[[a]]))),
       check = function(value, warns, args) {
         if (!inherits(value, "sbcg_control")) return("sbcg_control() returned no 'sbcg_control' object")
         if (!is.list(value)) return("sbcg_control() returned no list")
         NULL
       })
}

spec_sampler <- function(B, fun) {
  v <- fit_variant(B)
  fit <- B$fits[[v]]
  nd <- B$nds[[v]]
  base <- list(object = fit, newdata = nd, ndraws = 5, seed = 1)
  if (fun == "simulate") base <- list(object = fit, nsim = 2, seed = 1, newdata = nd)
  grid_pool <- list("c(0, 0.5, 1)" = c(0, 0.5, 1), "c(0.5, 0, 1)" = c(0.5, 0, 1),
                    "c(0, NA, 1)" = c(0, NA, 1), "1" = 1, "c(0, 2)" = c(0, 2),
                    "c(0, 1)" = c(0, 1), "c(0.999999, 1)" = c(0.999999, 1),
                    '"a"' = "a", "c(0, 0.5)" = c(0, 0.5), "c(0, 1, 1)" = c(0, 1, 1),
                    "c(-0.1, 1)" = c(-0.1, 1), "c(0, 1 - 1e-16, 1)" = c(0, 1 - 1e-16, 1),
                    "c(0, 1e-300, 1)" = c(0, 1e-300, 1), "NULL" = NULL)
  steps_pool <- list("1" = 1, "0" = 0, "NA" = NA, "2.5" = 2.5, "1e9" = 1e9, '"10"' = "10",
                     "-1" = -1, "Inf" = Inf, "c(1, 2)" = c(1, 2), "NULL" = NULL, "3L" = 3L)
  method_pool <- list('"em"' = "em", '"bridge"' = "bridge", '"x"' = "x", "NA" = NA,
                      'c("em", "bridge")' = c("em", "bridge"), "1" = 1, '"EM"' = "EM")
  optional <- list(steps = function() pick_named(steps_pool),
                   method = function() pick_named(method_pool),
                   threads = function() pick_named(THREADS_POOL))
  mutators <- list(object = mut_fit, newdata = mut_newdata, ndraws = mut_pool(COUNT_POOL),
                   nsim = mut_pool(COUNT_POOL), seed = mut_pool(SEED_POOL))
  FUN <- switch(fun, sbsample = sbcg::sbsample, sbcondstats = sbcg::sbcondstats,
                predict = stats::predict, simulate = stats::simulate)
  if (fun == "sbsample") {
    optional$format <- function() pick_named(list('"matrix"' = "matrix", '"long"' = "long",
      '"m"' = "m", '"wide"' = "wide", "NA" = NA, "1" = 1, 'c("long", "matrix")' = c("long", "matrix")))
    optional$grid <- function() pick_named(grid_pool)
  }
  if (fun %in% c("sbcondstats", "predict"))
    optional$probs <- function() pick_named(PROBS_POOL)
  if (fun %in% c("sbsample", "sbcondstats", "predict"))
    optional$stratify <- function() pick_named(c(FLAG_POOL, list("FALSE" = FALSE)))
  if (fun == "sbcondstats") {
    optional$density <- function() pick_named(FLAG_POOL)
    optional$bw <- function() pick_named(list('"SJ"' = "SJ", '"foo"' = "foo", "-1" = -1, "NA" = NA,
                                              "0" = 0, "Inf" = Inf, "function" = function(x) 0.1,
                                              "1e-300" = 1e-300, '"nrd"' = "nrd", "1e300" = 1e300))
    optional$adjust <- function() pick_named(list("0" = 0, "-1" = -1, "Inf" = Inf, "NA" = NA,
                                                  '"a"' = "a", "1e-300" = 1e-300, "c(1, 2)" = c(1, 2)))
    optional$density_n <- function() pick_named(list("1" = 1, "2" = 2, "1e9" = 1e9, "NA" = NA,
                                                     "2.5" = 2.5, '"512"' = "512"))
  }
  if (fun == "predict")
    optional$type <- function() pick_named(list('"sd"' = "sd", '"quantile"' = "quantile",
      '"q"' = "q", '"median"' = "median", "NA" = NA, "1" = 1, 'c("mean", "sd")' = c("mean", "sd")))
  if (fun == "simulate") {
    optional$steps <- function() pick_named(steps_pool)
    optional$format <- function() pick_named(list('"long"' = "long"))
  }
  check <- switch(fun, sbsample = check_sbsample, sbcondstats = check_sbcondstats,
                  predict = check_predict, simulate = check_simulate)
  list(variant = v, FUN = FUN, args = base, mutators = mutators, optional = optional,
       check = check, guard = guard_sampler)
}

spec_fit_methods <- function(B) {
  v <- fit_variant(B)
  m <- sample(c("print", "summary", "print(summary)", "plot", "coef", "nobs", "formula",
                "print(sbcg_control)"), 1L)
  FUN <- switch(m, print = print, summary = summary,
                "print(summary)" = function(object, ...) print(summary(object, ...)),
                plot = plot, coef = stats::coef, nobs = stats::nobs, formula = stats::formula,
                "print(sbcg_control)" = print)
  obj <- if (m == "print(sbcg_control)") B$fits[[v]]$control else B$fits[[v]]
  args <- if (m %in% c("print", "plot", "formula", "print(sbcg_control)")) list(x = obj) else list(object = obj)
  mutators <- list(x = if (m == "print(sbcg_control)") mut_generic_list else mut_fit, object = mut_fit)
  optional <- if (m == "plot") list(log = function() pick_named(FLAG_POOL)) else list()
  list(variant = sprintf("%s %s", v, m), FUN = FUN, args = args, mutators = mutators,
       optional = optional, check = NULL)
}

# A list with one element changed, deleted or added.
mut_generic_list <- function(l) {
  if (!is.list(l) || !length(l) || stats::runif(1) < 0.2) return(mut_generic(l))
  nm <- sample(names(l), 1L)
  if (stats::runif(1) < 0.2) {
    l[[nm]] <- NULL
    return(mut(l, sprintf("$%s deleted", nm)))
  }
  r <- mut_generic(l[[nm]])
  l[nm] <- list(r$value)
  mut(l, sprintf("$%s <- %s", nm, r$label))
}

spec_stats_methods <- function(B) {
  v <- sample(names(B$stats), 1L)
  m <- sample(c("print", "plot"), 1L)
  st <- B$stats[[v]]
  mut_st <- function(s) {
    op <- sample(c("density column dropped", "class changed", "column changed", "0 rows",
                   "density element NULL", "generic"), 1L)
    switch(op,
      "density column dropped" = { s$density <- NULL; mut(s, op) },
      "class changed" = { class(s) <- "sbcondstats"; mut(s, "class(x) <- \"sbcondstats\" only") },
      "column changed" = { r <- mut_generic_list(unclass(s)); y <- r$value
        if (is.list(y)) class(y) <- class(s); mut(y, paste("column", r$label)) },
      "0 rows" = mut(s[0L, ], op),
      "density element NULL" = { s$density[1L] <- list(NULL); mut(s, op) },
      generic = mut_generic(s))
  }
  optional <- if (m == "plot") list(
    rows = function() pick_named(list("0" = 0, "NA" = NA, "100" = 100, '"1"' = "1", "-1" = -1,
                                      "c(1, 1)" = c(1, 1), "1.5" = 1.5, "integer(0)" = integer(0))),
    legend = function() pick_named(FLAG_POOL)) else list(
    digits = function() pick_named(list("0" = 0, "NA" = NA, "-1" = -1, "100" = 100, '"a"' = "a")))
  list(variant = sprintf("%s %s", v, m), FUN = if (m == "print") print else plot,
       args = list(x = st), mutators = list(x = mut_st), optional = optional, check = NULL)
}

spec_call <- function(B, which) {
  has <- names(B$calls)[!vapply(B$calls, function(cl) is.null(cl[[which]]), NA)]
  v <- sample(has, 1L)
  args <- B$calls[[v]][[which]]
  FUN <- switch(which, forward = , forward_reg = sbcg:::C_sbcg_forward,
                loss_grad = sbcg:::C_sbcg_loss_grad,
                train = sbcg:::C_sbcg_train, sample = sbcg:::C_sbcg_sample)
  int_pool <- list("0L" = 0L, "-1L" = -1L, "NA_integer_" = NA_integer_, "1e5 + 1" = 100001L,
                   "1e6 + 1" = 1000001L, "257L" = 257L, "17L" = 17L, "3L" = 3L,
                   ".Machine$integer.max" = .Machine$integer.max, "100000L" = 100000L, "1L" = 1L,
                   "2L" = 2L)
  mut_arch <- function(a) {
    k <- sample(c("element", "length", "storage", "generic"), 1L, prob = c(0.55, 0.15, 0.1, 0.2))
    switch(k,
      element = { i <- sample.int(length(a), 1L); s <- pick_named(int_pool); a[i] <- s$value
        mut(a, sprintf("arch[%d] <- %s", i, s$label)) },
      length = if (stats::runif(1) < 0.5) mut(a[-length(a)], "last element dropped") else
        mut(c(a, 4L), "element 4L appended"),
      storage = mut(as.double(a), "double storage"),
      generic = mut_generic(a))
  }
  mut_settings <- function(st) {
    k <- sample(c("element", "delete", "extra", "type"), 1L, prob = c(0.7, 0.1, 0.1, 0.1))
    switch(k,
      element = { i <- sample.int(length(st), 1L); r <- mut_special(st[[i]])
        v <- suppressWarnings(as.double(r$value)[1L])
        st[i] <- v; mut(st, sprintf("settings[%s] <- %s", names(st)[i], format(v))) },
      delete = { i <- sample.int(length(st), 1L); mut(st[-i], sprintf("settings[%s] dropped", names(st)[i])) },
      extra = mut(c(st, zzz = 1), "extra element"),
      type = mut_generic(st))
  }
  mutators <- list(arch = mut_arch, settings = mut_settings,
                   kern = mut_pool(list("2L" = 2L, "-1L" = -1L, "NA" = NA_integer_, '"avx2"' = "avx2",
                                        "1L" = 1L, "0L" = 0L, "0.5" = 0.5)),
                   precision = mut_pool(list("2L" = 2L, "-1L" = -1L, "NA" = NA_integer_,
                                             '"single"' = "single", "0L" = 0L, "0.5" = 0.5)),
                   strata = mut_pool(list("1L" = 1L, "-1L" = -1L, "NA" = NA_integer_, "2L" = 2L,
                                          "3L" = 3L, "5L" = 5L, "6L" = 6L, "1e6" = 1e6,
                                          "2.5" = 2.5)),
                   threads = mut_pool(c(THREADS_POOL, list("1024L" = 1024L)), 0.4),
                   seed = mut_pool(list("c(NA, 1L)" = c(NA_integer_, 1L), "1:3" = 1:3, "c(1, 2)" = c(1, 2),
                                        "1L" = 1L, "c(-1L, .Machine$integer.max)" = c(-1L, .Machine$integer.max))),
                   verbose = mut_pool(c(FLAG_POOL, list("TRUE" = TRUE))),
                   resid = mut_pool(list("2L" = 2L, "NA" = NA, '"1"' = "1", "TRUE" = TRUE,
                                         "0L" = 0L, "0.5" = 0.5, "-1" = -1)),
                   ndraw = mut_pool(list("1e5" = 1e5, "0" = 0, "-1" = -1, "2^31" = 2^31,
                                         "NA" = NA, "0.5" = 0.5, "1L" = 1L, '"5"' = "5")),
                   block = mut_pool(list("1L" = 1L, "2^20" = 2^20, "2^20 + 1" = 2^20 + 1, "0L" = 0L,
                                         "3L" = 3L, "NA" = NA)),
                   scoef = function(s) if (stats::runif(1) < 0.5) mut(-s, "negated") else mut_generic(s),
                   tgrid = function(tg) if (stats::runif(1) < 0.5)
                     mut(replace(tg, length(tg), 1), "last time set to 1") else mut_generic(tg),
                   t = function(tt) if (stats::runif(1) < 0.4)
                     mut(replace(tt, 1L, 1), "t[1] <- 1") else mut_generic(tt))
  list(variant = v, FUN = FUN, args = args, mutators = mutators, optional = list(),
       dotcall = TRUE, check = switch(which, forward = , forward_reg = check_forward,
                                      loss_grad = check_loss_grad,
                                      train = check_train, sample = check_csample),
       guard = switch(which, train = guard_ctrain, sample = guard_csample, NULL))
}

# ---------------------------------------------------------------------------
# Guards: reject legal but huge or slow requests (see the header)

num1 <- function(v, default) {
  if (is.numeric(v) && length(v) == 1L && !is.na(v) && is.finite(v)) as.double(v) else default
}

threads_ok <- function(a) {
  th <- a$threads
  !(is.numeric(th) && length(th) == 1L && !is.na(th) &&
      th > getOption("sbcg_fuzz.max_threads", Inf) && th <= 1024)
}

guard_sampler <- function(a) {
  o <- a$object
  nr <- if (is.data.frame(a$newdata) || is.matrix(a$newdata)) NROW(a$newdata) else 1
  ctl <- if (is.list(o)) o$control else NULL
  n <- num1(a$ndraws %||% a$n %||% a$nsim, num1(if (is.list(ctl)) ctl$draws, 5))
  steps <- num1(a$steps, if (is.numeric(a$grid)) length(a$grid) else
    num1(if (is.list(ctl)) ctl$steps, 10))
  if (n > 1e8 || steps > 1e6) return(TRUE)  # rejected by the checks anyway
  nr * max(n, 1) * max(steps, 1) <= 2e6
}

guard_fit <- function(a) {
  if (!"control" %in% names(a)) return(FALSE)  # sbcg_control(): 1e5 epochs
  ctl <- a$control
  if (!is.list(ctl)) return(TRUE)
  ep <- num1(ctl$epochs, NA)
  if (is.na(ep)) {
    if (!is.null(ctl$epochs)) return(TRUE)  # invalid, rejected
    ep <- min(1e5, max(20, ceiling(num1(ctl$samples, 1.2e7) / 30)))
  }
  if (ep > 1e7) return(TRUE)
  h <- ctl$hidden
  if (is.numeric(h) && length(h) <= 16L && all(is.finite(h) & h >= 1 & h <= 1e5) && sum(h) > 1e4) return(FALSE)
  ep * 40 <= 1e5
}

guard_ctrain <- function(a) {
  st <- a$settings
  if (!is.numeric(st) || is.null(names(st))) return(TRUE)
  ep <- num1(st[["epochs"]], 1)
  n <- if (is.matrix(a$y)) nrow(a$y) else 12
  ep > 1e7 || ep * n <= 1e5
}

guard_csample <- function(a) {
  nd <- num1(a$ndraw, 5)
  nr <- if (is.matrix(a$x)) nrow(a$x) else 3
  nd > .Machine$integer.max || nd * nr <= 1e6
}

# ---------------------------------------------------------------------------
# Checks of returned values: NULL if fine, else what is wrong.

nonfinite_warned <- function(warns) any(grepl("non-finite", warns))

# Rows of newdata with missing values get NA results in place (the
# default na.action, na.pass), without a warning; so non-finite values
# need a warning only when newdata is complete.
newdata_complete <- function(a) {
  nd <- a$newdata
  !(is.data.frame(nd) || is.matrix(nd)) || all(stats::complete.cases(nd))
}

draws_ok <- function(vals, warns, what, a = NULL) {
  if (!is.numeric(vals)) return(sprintf("%s are not numeric", what))
  if (any(!is.finite(vals)) && !nonfinite_warned(warns) && (is.null(a) || newdata_complete(a)))
    return(sprintf("%s contain %d non-finite values but no warning was given", what,
                   sum(!is.finite(vals))))
  NULL
}

eff_n <- function(a, name = "ndraws") {
  v <- a[[name]]
  if (is.null(v)) v <- a$object$control$draws
  as.integer(v)
}

check_fit_value <- function(value, warns, a) {
  if (!inherits(value, "sbfit")) return("sbfit() returned an object that is not an 'sbfit'")
  e <- tryCatch({ sbcg:::check_fit(value); NULL }, error = function(e) conditionMessage(e))
  if (!is.null(e)) return(paste("sbfit() returned a fit that fails check_fit():", e))
  if (!all(is.finite(value$theta))) return("sbfit() returned non-finite weights")
  if (!is.data.frame(value$history) || nrow(value$history) < 1L) return("sbfit() returned no loss history")
  NULL
}

check_sbsample <- function(value, warns, a) {
  o <- a$object
  d <- length(o$ynames)
  nr <- NROW(a$newdata)
  n <- eff_n(a)
  fmt <- match.arg(a$format %||% "long", c("long", "matrix"))
  if (fmt == "long") {
    if (!is.data.frame(value)) return("sbsample(format = \"long\") returned no data frame")
    if (nrow(value) != nr * n)
      return(sprintf("sbsample() returned %d rows, expected %d x %d", nrow(value), nr, n))
    # .row, the predictor columns of newdata, .draw, then the responses
    if (ncol(value) < 2L + d || !identical(names(value)[1L], ".row") ||
        !identical(utils::tail(names(value), d + 1L), c(".draw", o$ynames)))
      return(sprintf("sbsample() returned columns %s, expected .row, predictors, .draw and the %d responses",
                     paste(names(value), collapse = ", "), d))
    if (!identical(value$.row, rep(seq_len(nr), each = n)) ||
        !identical(value$.draw, rep(seq_len(n), times = nr)))
      return("sbsample() long format has wrong '.row' / '.draw' values")
    return(draws_ok(unlist(value[o$ynames], use.names = FALSE), warns, "sbsample() draws", a))
  }
  want <- if (d == 1L) c(nr, n) else c(nr, n, d)
  if (!identical(as.integer(dim(value)), as.integer(want)))
    return(sprintf("sbsample(format = \"matrix\") has dim %s, expected %s",
                   paste(dim(value), collapse = " x "), paste(want, collapse = " x ")))
  draws_ok(as.vector(value), warns, "sbsample() draws", a)
}

check_sbcondstats <- function(value, warns, a) {
  o <- a$object
  d <- length(o$ynames)
  nr <- NROW(a$newdata)
  if (!inherits(value, "sbcondstats") || !is.data.frame(value))
    return("sbcondstats() returned no 'sbcondstats' data frame")
  if (nrow(value) != nr * d)
    return(sprintf("sbcondstats() returned %d rows, expected %d", nrow(value), nr * d))
  probs <- a$probs %||% c(0.05, 0.5, 0.95)
  need <- c(".row", "mean", "sd", unique(sbcg:::quantile_names(probs)),
            if (isTRUE(a$density %||% TRUE)) "density")
  if (!all(need %in% names(value)))
    return(sprintf("sbcondstats() lacks column(s) %s",
                   paste(setdiff(need, names(value)), collapse = ", ")))
  draws_ok(c(value$mean, unlist(value[unique(sbcg:::quantile_names(probs))])), warns,
           "sbcondstats() means / quantiles", a)
}

check_predict <- function(value, warns, a) {
  o <- a$object
  if (!inherits(o, "sbfit")) return(NULL)  # another class's method ran
  d <- length(o$ynames)
  nr <- NROW(a$newdata)
  # giving probs implies type = "quantile"
  type <- match.arg(a$type %||% if (is.null(a$probs)) "mean" else "quantile",
                    c("mean", "sd", "quantile"))
  np <- length(a$probs %||% c(0.05, 0.5, 0.95))
  want <- if (type == "quantile") {
    if (d == 1L) c(nr, np) else c(nr, np, d)
  } else if (d == 1L) NULL else c(nr, d)
  if (is.null(want)) {
    if (!is.null(dim(value)) || length(value) != nr)
      return(sprintf("predict(type = \"%s\") returned length %d, expected %d", type, length(value), nr))
  } else if (!identical(as.integer(dim(value)), as.integer(want))) {
    return(sprintf("predict(type = \"%s\") has dim %s, expected %s", type,
                   paste(dim(value), collapse = " x "), paste(want, collapse = " x ")))
  }
  draws_ok(as.vector(value), warns, "predict() values", a)
}

check_simulate <- function(value, warns, a) {
  o <- a$object
  if (!inherits(o, "sbfit")) return(NULL)  # another class's method ran
  d <- length(o$ynames)
  nr <- NROW(a$newdata)
  nsim <- as.integer(a$nsim %||% 1)
  if (!is.data.frame(value)) return("simulate() returned no data frame")
  if (nrow(value) != nr || ncol(value) != nsim * d)
    return(sprintf("simulate() returned %d x %d, expected %d x %d", nrow(value), ncol(value),
                   nr, nsim * d))
  draws_ok(unlist(value, use.names = FALSE), warns, "simulate() draws", a)
}

check_forward <- function(value, warns, a) {
  want <- c(nrow(a$x), a$arch[1L])
  if (!is.matrix(value) || !is.double(value) || !identical(as.integer(dim(value)), as.integer(want)))
    return(sprintf("C_sbcg_forward returned dim %s, expected %s",
                   paste(dim(value), collapse = " x "), paste(want, collapse = " x ")))
  NULL
}

check_loss_grad <- function(value, warns, a) {
  if (!is.list(value) || !identical(names(value), c("loss", "grad")))
    return("C_sbcg_loss_grad returned no list(loss, grad)")
  if (length(value$loss) != 1L || length(value$grad) != length(a$theta))
    return("C_sbcg_loss_grad returned a gradient of the wrong length")
  NULL
}

check_train <- function(value, warns, a) {
  fields <- c("theta", "train_loss", "valid_loss", "best_epoch", "epochs", "steps", "status",
              "seconds", "start_loss")
  if (!is.list(value) || !identical(names(value), fields))
    return("C_sbcg_train returned no list(theta, ..., start_loss)")
  if (length(value$start_loss) != 1L || (!is.na(value$start_loss) && value$start_loss < 0))
    return("C_sbcg_train returned a start loss that is neither NA nor >= 0")
  if (length(value$theta) != length(a$theta)) return("C_sbcg_train returned theta of the wrong length")
  if (!value$status %in% 0:2) return("C_sbcg_train returned an unknown status")
  if (length(value$train_loss) != value$epochs) return("C_sbcg_train: loss history length != epochs")
  if (value$status != 2L && !all(is.finite(value$theta))) return("C_sbcg_train returned non-finite theta")
  NULL
}

check_csample <- function(value, warns, a) {
  d <- a$arch[1L]
  N <- nrow(a$x) * as.integer(a$ndraw)
  if (!is.list(value) || length(value$draws) != N * d)
    return(sprintf("C_sbcg_sample returned %d draws, expected %d", length(value$draws), N * d))
  bad <- if (N) sum(rowSums(!is.finite(matrix(value$draws, N, d))) > 0) else 0L
  if (bad != value$nonfinite)
    return(sprintf("C_sbcg_sample reports %d non-finite chains, found %d", value$nonfinite, bad))
  NULL
}

# ---------------------------------------------------------------------------
# Running a case

run_case <- function(cs, timeout, nullcon) {
  warns <- character()
  nsink <- sink.number()
  t0 <- proc.time()[["elapsed"]]
  out <- tryCatch({
    sink(nullcon)
    setTimeLimit(elapsed = timeout, transient = TRUE)
    val <- withCallingHandlers(
      suppressMessages(cs$run()),
      warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
    setTimeLimit(elapsed = Inf)
    list(outcome = "value", value = val, msg = "")
  }, error = function(e) {
    setTimeLimit(elapsed = Inf)
    msg <- conditionMessage(e)
    list(outcome = if (grepl("reached elapsed time limit", msg, fixed = TRUE)) "timeout" else "error",
         value = NULL, msg = msg)
  })
  setTimeLimit(elapsed = Inf)
  while (sink.number() > nsink) sink()
  out$warnings <- warns
  out$secs <- proc.time()[["elapsed"]] - t0
  out
}

# Whether an error message names an argument (or element) in single
# quotes: 'x', or R's typographic quotes.
names_argument <- function(msg) {
  grepl("'[^']+'", msg) | grepl("\u2018[^\u2019]+\u2019", msg)
}

report <- function(res, violations, excluded, opt, logfile, t_setup, t_fuzz, timeout, vg) {
  out <- res$outcome
  errs <- res[out == "error", , drop = FALSE]
  unnamed <- errs[!names_argument(errs$msg), , drop = FALSE]
  # match.arg() names its own argument 'arg', not the caller's
  misnamed <- errs[grepl("^'arg' ", errs$msg), , drop = FALSE]
  cat(sprintf("\nsbcg fuzz: seed %d, %d calls%s%s\n", opt$seed, nrow(res),
              if (is.na(opt$case)) "" else sprintf(" (case %d only)", opt$case),
              if (vg) " (under valgrind)" else ""))
  cat(sprintf("  time: setup %.1f s, calls %.1f s (slowest %.2f s: %s)\n", t_setup, t_fuzz,
              max(res$secs), res$desc[which.max(res$secs)]))
  cat(sprintf("  returned a value : %d\n", sum(out == "value")))
  cat(sprintf("  R error          : %d\n", sum(out == "error")))
  cat(sprintf("  %-17s: %d\n", sprintf("time-out (>%gs)", timeout), sum(out == "timeout")))
  cat(sprintf("  invalid value    : %d\n", sum(out == "violation")))
  cat(sprintf("  calls with warnings: %d\n", sum(res$nwarn > 0L)))
  cat(sprintf("  errors not naming an argument in quotes: %d (%d distinct messages)\n",
              nrow(unnamed), length(unique(norm_msg(unnamed$msg)))))
  cat(sprintf("  errors naming 'arg' (match.arg) instead of the argument: %d\n", nrow(misnamed)))
  cat(sprintf("  mutations re-drawn by the size guards: %d\n", excluded))
  gcs <- gc()
  cat(sprintf("  R heap, max used: %.0f Mb\n", sum(gcs[, ncol(gcs)])))
  cat(sprintf("  log: %s\n", logfile))
  cat("\nPer target (value / error / timeout / invalid):\n")
  tab <- table(factor(res$target, levels = names(TARGETS)),
               factor(out, levels = c("value", "error", "timeout", "violation")))
  print(tab)
  if (nrow(unnamed)) {
    cat("\nError messages that name no argument in quotes (distinct, by count; one example case each):\n")
    key <- norm_msg(unnamed$msg)
    cnt <- sort(table(key), decreasing = TRUE)
    for (ii in seq_along(cnt)) {
      j <- which(key == names(cnt)[ii])[1L]
      cat(sprintf("  [%d] \"%s\"\n        e.g. %s\n", as.integer(cnt[ii]), clip(unnamed$msg[j], 160L),
                  clip(unnamed$desc[j], 200L)))
    }
  }
  if (nrow(misnamed)) {
    cat("\nError messages naming 'arg' instead of the caller's argument (one example each):\n")
    key <- norm_msg(misnamed$msg)
    for (k in unique(key)) {
      j <- which(key == k)[1L]
      cat(sprintf("  [%d] \"%s\"\n        e.g. %s\n", sum(key == k), clip(misnamed$msg[j], 160L),
                  clip(misnamed$desc[j], 200L)))
    }
  }
  if (any(out == "timeout")) {
    cat("\nTime-outs:\n")
    for (j in which(out == "timeout")) cat("  ", res$desc[j], "\n", sep = "")
  }
  if (length(violations)) {
    cat(sprintf("\nINVALID VALUES (%d):\n", length(violations)))
    cat(paste0("  ", violations), sep = "\n")
  } else {
    cat("\nNo invalid values.\n")
  }
}

norm_msg <- function(m) {
  m <- sub("\n.*$", "", m)
  gsub("[-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?", "N", m)
}

clip <- function(s, n) {
  s <- gsub("\n", " ", s, fixed = TRUE)
  if (nchar(s) > n) paste0(substr(s, 1L, n - 3L), "...") else s
}

ok <- main()
quit(save = "no", status = if (isTRUE(ok)) 0L else 1L)
