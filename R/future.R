# Chunks and future plans: splitting the rows of newdata into chunks,
# evaluating the chunks here or on the workers of a future::plan(), and
# joining their results (draws, data frames, counts of non-finite chains).
#
# sbsample(), sbcondstats() and sbscore() split newdata into chunks of at
# most `chunk_size` rows.  Every row keeps its global index, which keys its
# random stream in the C sampler (stream = f(seed, global row, draw)), and
# the seed is drawn once in the calling process, so the draws -- and
# everything computed from them row by row -- are the same bits for any
# chunk size, any number of threads and any future plan.
#
# When the user has set a future::plan() other than a sequential one and
# future.apply is installed, the chunks go through
# future.apply::future_lapply(); otherwise they run one after the other in
# this process.  The workers use no R random numbers (future.seed = FALSE).

# Split rows 1..nrow into consecutive chunks of at most `size` rows.
row_chunks <- function(nrow, size) {
  starts <- seq.int(1L, nrow, by = size)
  lapply(starts, function(s) seq.int(s, min(nrow, s + size - 1L)))
}

# TRUE when a non-sequential future plan is set and future.apply can be
# used.  A user who never loaded future cannot have set a plan, so future
# is not loaded here just to ask.
future_active <- function() {
  if (!isNamespaceLoaded("future")) return(FALSE)
  strategy <- tryCatch(future::plan(), error = function(e) NULL)
  if (is.null(strategy) || inherits(strategy, "uniprocess")) return(FALSE)
  if (!requireNamespace("future.apply", quietly = TRUE)) {
    warnf("a future plan is set but package future.apply is not installed; the chunks run sequentially in this session")
    return(FALSE)
  }
  TRUE
}

# Applies fun(chunk, ...) to every element of `chunks` (a list of
# per-chunk inputs) and returns the list of results, in order.  `rows`
# gives each chunk's row numbers, for the progress messages.
run_chunks <- function(chunks, rows, fun, ..., verbose = FALSE) {
  nc <- length(chunks)
  nr <- sum(lengths(rows))
  if (nc > 1L && future_active()) {
    jobs <- lapply(seq_len(nc), function(i)
      list(input = chunks[[i]], i = i, rows = range(rows[[i]])))
    res <- tryCatch(
      future.apply::future_lapply(jobs, chunk_job, fun = fun, ...,
                                  nchunk = nc, nrow = nr, verbose = verbose,
                                  future.seed = FALSE,
                                  future.packages = "sbcg"),
      error = function(e) future_failure(e))
    mine <- as.character(getNamespaceVersion("sbcg"))
    theirs <- unique(vapply(res, function(r) r$version, ""))
    if (!identical(theirs, mine))
      stopf("the workers of the future plan run sbcg %s but this session runs sbcg %s; install the same version where the workers run",
            paste(setdiff(theirs, mine), collapse = ", "), mine)
    return(lapply(res, `[[`, "value"))
  }
  # here, a progress line for long calls (see progress_line())
  pr <- if (verbose) progress_line(nr)
  on.exit(if (!is.null(pr)) pr$done())
  lapply(seq_len(nc), function(i) {
    chunk_job(list(input = chunks[[i]], i = i, rows = range(rows[[i]])), fun, ...,
              progress = pr, nchunk = nc, nrow = nr, verbose = verbose)$value
  })
}

# The sampling progress line of a call over `total` rows: tick(k) counts k
# more rows done and, once the call has run for two seconds, rewrites the
# line (at most four times a second) with the rows done, the time used and
# an estimate of the time left; done() ends the line if one was shown.
progress_line <- function(total) {
  t0 <- proc.time()[["elapsed"]]
  last <- -Inf
  rows <- 0
  shown <- FALSE
  list(tick = function(k) {
    rows <<- rows + k
    now <- proc.time()[["elapsed"]]
    used <- now - t0
    if (used < 2 || (now - last < 0.25 && rows < total)) return(invisible())
    last <<- now
    shown <<- TRUE
    cat(sprintf("\rsampling: %d of %d rows, %s used, about %s left   ", as.integer(rows),
                as.integer(total), clock(used), clock(used / rows * (total - rows))))
    utils::flush.console()
  }, done = function() if (shown) cat("\n"))
}

clock <- function(s) sprintf("%d:%02d", as.integer(s %/% 60), as.integer(round(s %% 60)))

# One chunk, on whichever process evaluates it.
chunk_job <- function(job, fun, ..., nchunk, nrow, verbose) {
  # (the sequential path adds `progress` to the arguments of fun)
  if (verbose && nchunk > 1L)
    message(sprintf("sbcg: chunk %d of %d (rows %d-%d of %d)", job$i, nchunk,
                    job$rows[1L], job$rows[2L], nrow))
  list(value = fun(job$input, ...),
       version = as.character(getNamespaceVersion("sbcg")))
}

# Turns a failure of future_lapply() into an error that says what went
# wrong; the usual one is workers that cannot load sbcg.
future_failure <- function(e) {
  msg <- conditionMessage(e)
  if (grepl("sbcg", msg, fixed = TRUE) &&
      grepl("no package|namespace|load|there is no", msg, ignore.case = TRUE))
    stopf("the workers of the future plan cannot load package sbcg (%s); install sbcg where the workers run, or go back to future::plan(\"sequential\")",
          trimws(msg))
  stopf("evaluating the chunks through the future plan failed: %s", trimws(msg))
}

# Splits a chunked computation: row chunks and, for each, the rows of the
# standardised predictor matrix X with their 0-based global ids (`rowid`,
# by default the row numbers of X less one).
make_chunks <- function(X, chunk_size, extra = NULL, rowid = seq_len(nrow(X)) - 1) {
  rows <- row_chunks(nrow(X), chunk_size)
  chunks <- lapply(rows, function(r) {
    ch <- list(X = X[r, , drop = FALSE], rowid = rowid[r])
    if (!is.null(extra)) ch <- c(ch, extra(r))
    ch
  })
  list(rows = rows, chunks = chunks)
}

# Adds up the non-finite draws of the chunks (sample_rows()) and warns
# once, naming their rows.
warn_nonfinite <- function(parts, nchain) {
  bad <- sum(vapply(parts, function(p) as.double(p$nonfinite), 0))
  if (bad > 0) {
    rows <- sort(unlist(lapply(parts, `[[`, "bad_rows")))
    warnf("%s of %s draws ended in a non-finite value, in %d row(s) of 'newdata' (%s%s); the fit may be unstable there",
          format(bad, scientific = FALSE, big.mark = ""),
          format(nchain, scientific = FALSE, big.mark = ""), length(rows),
          paste(utils::head(rows, 5L), collapse = ", "), if (length(rows) > 5L) ", ..." else "")
  }
  invisible(bad)
}

# Joins the chain-order draw vectors of consecutive row chunks (each
# component's block of every chunk, in turn) into one for all rows.  With
# one component the chunks follow each other as they are: joined without
# the copies of their blocks, which would double the memory the join
# holds.
join_draws <- function(parts, nrows, n, d) {
  if (length(parts) == 1L) return(parts[[1L]])
  if (d == 1L) return(unlist(parts, use.names = FALSE))
  unlist(lapply(seq_len(d), function(k) {
    lapply(seq_along(parts), function(i) {
      N <- nrows[i] * n
      parts[[i]][(k - 1) * N + seq_len(N)]
    })
  }), use.names = FALSE)
}

# Binds chunk data frames of identical columns by row; list columns (the
# densities) stay list columns.  Same result for any chunking.
bind_chunks <- function(parts, class) {
  nms <- names(parts[[1L]])
  cols <- lapply(nms, function(nm) {
    vals <- lapply(parts, function(p) p[[nm]])
    if (is.list(vals[[1L]])) {
      v <- do.call(c, lapply(vals, unclass))
      return(I(v))
    }
    do.call(c, vals)
  })
  names(cols) <- nms
  n <- length(cols[[1L]])
  structure(cols, row.names = .set_row_names(n), class = class)
}
