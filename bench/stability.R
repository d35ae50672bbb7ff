# How much an unseeded default fit of MASS::mcycle varies from run to run:
# `fits` fits of accel ~ times, each with the seed it draws itself, then
# the conditional median and the central 50% interval at times = 30 (and
# the SD of the median over a grid of times), from predict() with 1000
# stratified draws.  The question a user asks of three runs is whether
# their medians differ by less than the 50% interval's width; over every
# set of three of the fits, the script counts how often they do.
#
#   Rscript bench/stability.R [--fits 10] [--at 30] [--control 'list(ensemble = 3)']
#
# --control: an R expression giving a list of sbcg_control() settings.
# One thread; about 2 s per fit (three times that with ensemble = 3).
suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
check_options(c("fits", "at", "control"))
n_fits <- as.integer(opt_value("fits", 10))
at <- as.numeric(opt_value("at", 30))
control_text <- opt_value("control", NULL)
ctl <- if (is.null(control_text)) list() else eval(parse(text = control_text), envir = baseenv())
stopifnot(n_fits >= 3, is.list(ctl))
cat(sprintf("bench/stability.R, %s UTC; sbcg %s, %s; %d unseeded fits of mcycle%s\n\n",
            format(Sys.time(), tz = "UTC"), packageVersion("sbcg"), R.version.string, n_fits,
            if (is.null(control_text)) "" else paste(", control", control_text)))
mcycle <- MASS::mcycle
grid <- data.frame(times = seq(5, 55, by = 5))
rows <- lapply(seq_len(n_fits), function(i) {
  fit <- suppressWarnings(sbfit(accel ~ times, data = mcycle, threads = 1, control = ctl))
  q <- predict(fit, data.frame(times = at), probs = c(0.25, 0.5, 0.75))
  g <- predict(fit, grid, probs = 0.5)
  data.frame(fit = i, seed = fit$seed, bridge_x = fit$bridge_x, median = q[1, 2],
             width50 = q[1, 3] - q[1, 1], grid_median = I(list(drop(g))))
})
res <- do.call(rbind, rows)
print(format(res[, c("fit", "seed", "bridge_x", "median", "width50")], digits = 4),
      row.names = FALSE)
tri <- utils::combn(n_fits, 3)
ok <- apply(tri, 2L, function(k) diff(range(res$median[k])) < min(res$width50[k]))
cat(sprintf("\nat times = %g: medians %.2f to %.2f (SD %.2f); 50%% interval widths %.2f to %.2f\n",
            at, min(res$median), max(res$median), stats::sd(res$median),
            min(res$width50), max(res$width50)))
cat(sprintf("sets of three fits whose medians differ by less than the narrowest of their 50%% intervals: %d of %d\n",
            sum(ok), length(ok)))
G <- do.call(rbind, res$grid_median)
cat(sprintf("SD of the median over the fits, times = %s: %s\n",
            paste(grid$times, collapse = ", "), paste(sprintf("%.2f", apply(G, 2L, stats::sd)), collapse = ", ")))
