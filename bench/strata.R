# Stratified noise (sbsample()'s section "Stratified noise") against
# independent chains: the Monte Carlo variance of sbcondstats()'s
# statistics, and whether its standard errors match the spread of
# independent replicates.  One default fit per simulation model of
# bench/accuracy.R (n = 5000, seed 1) and per real data set of
# bench/realdata.R (all rows); then, for `rows` x values (test rows of the
# model, or training rows of the set), `reps` calls of sbcondstats() with
# seeds 1..reps in each configuration:
#
#   iid_<n>     independent chains, n draws a row (stratify = FALSE)
#   strat_<n>   stratified noise, n draws a row (the default)
#
# For each statistic (mean, SD, the 5%, 50% and 95% quantiles and the
# probability below the row's median), it prints the variance over the
# replicates, summed over rows, relative to that of iid_1000 (the previous
# default), and, for each configuration, the mean over rows of
# SD(estimate over replicates) / root mean square of the reported standard
# errors (squared errors are unbiased for the variance), which is 1 for
# honest standard errors (about +-0.11 from sampling with 40 replicates:
# the SD of a standard deviation of 40 values is 11% of it).
#
#   Rscript bench/strata.R [--models m1,m7] [--sets cpus] [--rows 20] [--reps 40]
#                          [--draws 1000,500,400] [--threads 2]
suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
source(file.path(here, "realdata-sets.R"))
check_options(c("models", "sets", "rows", "reps", "draws", "threads"))
accuracy_defs(here)
split_opt <- function(name, default) {
  v <- opt_value(name, default)
  if (identical(v, "none")) character() else strsplit(v, ",")[[1L]]
}
models <- split_opt("models", paste0("m", 1:7, collapse = ","))
sets <- split_opt("sets", "GAGurine,cpus,nlschools")
n_rows <- as.integer(opt_value("rows", 20))
reps <- as.integer(opt_value("reps", 40))
draws <- as.integer(split_opt("draws", "1000,500,400"))
threads <- as.integer(opt_value("threads", 2))

configs <- c(list(list(name = "iid_1000", n = 1000L, stratify = FALSE)),
             lapply(draws, function(n) list(name = sprintf("strat_%d", n), n = n,
                                             stratify = TRUE)))
stats <- c("mean", "sd", "q0.05", "q0.5", "q0.95", "p_1")

one_case <- function(label, fit, nd) {
  # the threshold of each row: its median from one large independent call
  ref <- sbcondstats(fit, nd, ndraws = 4000, probs = 0.5, density = FALSE,
                     stratify = FALSE, seed = 1e6, threads = threads)
  A <- cbind(ref$q0.5)
  est <- list()
  t0 <- proc.time()[["elapsed"]]
  for (cf in configs) {
    r <- lapply(seq_len(reps), function(s) {
      st <- sbcondstats(fit, nd, ndraws = cf$n, probs = c(0.05, 0.5, 0.95), at = A,
                        se = TRUE, density = FALSE, stratify = cf$stratify, seed = s,
                        threads = threads)
      list(est = as.matrix(st[, stats]), se = as.matrix(st[, paste0("se_", stats)]))
    })
    est[[cf$name]] <- list(est = simplify2array(lapply(r, `[[`, "est")),
                           se = simplify2array(lapply(r, `[[`, "se")))
  }
  base <- colSums(apply(est$iid_1000$est, c(1, 2), var))
  for (cf in configs) {
    e <- est[[cf$name]]
    v <- colSums(apply(e$est, c(1, 2), var)) / base
    rms <- sqrt(apply(e$se^2, c(1, 2), mean))
    honest <- colMeans(apply(e$est, c(1, 2), sd) / rms, na.rm = TRUE)
    cat(sprintf("%-10s %-10s var %s | sd/se %s\n", label, cf$name,
                paste(sprintf("%5.2f", v), collapse = " "),
                paste(sprintf("%4.2f", honest), collapse = " ")))
  }
  cat(sprintf("%-10s (bridge sees x: %s; %.0f s)\n", label, fit$bridge_x,
              proc.time()[["elapsed"]] - t0))
}

cat(sprintf("sbcg %s, %s; %d rows, %d replicates, %d threads; %s\n",
            packageVersion("sbcg"), R.version.string, n_rows, reps, threads,
            format(Sys.time(), "%Y-%m-%d %H:%M")))
cat(sprintf("statistics: %s (variance relative to iid_1000 | SD over replicates / RMS of the SEs)\n\n",
            paste(stats, collapse = " ")))
for (model in models) {
  dat <- model_data(model, 1, 5000, n_rows)
  colnames(dat$Xtr) <- colnames(dat$Xte) <- paste0("x", seq_len(ncol(dat$Xtr)))
  fit <- sbfit(dat$Xtr, dat$ytr, seed = 1, threads = threads)
  one_case(model, fit, as.data.frame(dat$Xte[seq_len(n_rows), , drop = FALSE]))
}
for (set in sets) {
  ds <- load_set(set)
  fit <- sbfit(ds$formula, ds$data, seed = 1, threads = threads)
  set.seed(2)
  nd <- ds$data[sort(sample.int(nrow(ds$data), min(n_rows, nrow(ds$data)))), , drop = FALSE]
  one_case(set, fit, nd)
}
