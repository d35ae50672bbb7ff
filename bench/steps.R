# How many sampler steps a default fit needs: one default fit per model and
# seed on the simulation models m1-m7 of bench/accuracy.R (same data, truth
# and scores), then the same fit sampled with several schemes, step counts
# and grid shapes.  Prints, per model and sampler, the MSE of the
# conditional SD, the CRPS and the 90% coverage of `draws` draws per test x,
# and the time of sampling.
#
#   Rscript bench/steps.R [--models m1,m3] [--seeds 1] [--n 5000] [--test 500]
#                         [--draws 1000] [--fits DIR] [--precision single,double]
#
# --fits DIR keeps the fits there (fit-<model>-<seed>.rds) and reuses them
# on the next run; --samplers a,b runs only the samplers named (see the
# list below; em_denoise_100 is always run, as the reference).
# --precision runs every sampler with the network in each precision listed
# (option sbcg.precision; default: single, the package's default), on the
# same fits, chains and noise; rows in double precision carry the suffix
# "_double".  One thread throughout.
suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
check_options(c("models", "seeds", "n", "test", "draws", "fits", "samplers", "precision"))
# the model, truth and scoring definitions of accuracy.R
accuracy_defs(here)
models <- strsplit(opt_value("models", paste0("m", 1:7, collapse = ",")), ",")[[1L]]
seeds <- seq_len(as.integer(opt_value("seeds", 1)))
n_train <- as.integer(opt_value("n", 5000))
n_test <- as.integer(opt_value("test", 500))
n_draws <- as.integer(opt_value("draws", 1000))
fit_dir <- opt_value("fits", NULL)
precisions <- strsplit(opt_value("precision", "single"), ",")[[1L]]
if (!all(precisions %in% c("single", "double")))
  stop("--precision must list single and/or double", call. = FALSE)
options(sbcg.threads = 1L)

# scheme, steps, grid power
samplers <- list(
  em_denoise_100 = list("em_denoise", 100, 1),
  em_denoise_50 = list("em_denoise", 50, 1),
  em_denoise_25 = list("em_denoise", 25, 1),
  em_denoise_25_gp2 = list("em_denoise", 25, 2),
  bridge_25 = list("bridge", 25, 1),
  bridge_25_gp2 = list("bridge", 25, 2),
  em_denoise_10 = list("em_denoise", 10, 1),
  bridge_10_gp2 = list("bridge", 10, 2),
  em_denoise_50_gp2 = list("em_denoise", 50, 2),
  em_denoise_40_gp2 = list("em_denoise", 40, 2),
  em_denoise_30_gp2 = list("em_denoise", 30, 2),
  em_denoise_30_gp1.5 = list("em_denoise", 30, 1.5),
  em_denoise_40_gp1.5 = list("em_denoise", 40, 1.5),
  em_denoise_20_gp2 = list("em_denoise", 20, 2),
  em_denoise_20_gp1.5 = list("em_denoise", 20, 1.5),
  em_denoise_15_gp2 = list("em_denoise", 15, 2))
pick <- opt_value("samplers", NULL)
if (!is.null(pick)) {
  pick <- union("em_denoise_100", strsplit(pick, ",")[[1L]])
  if (!all(pick %in% names(samplers)))
    stop("--samplers must be among ", paste(names(samplers), collapse = ", "), call. = FALSE)
  samplers <- samplers[pick]
}
grid_of <- function(steps, gp) {
  tg <- 1 - (1 - seq(0, steps) / steps)^gp
  tg[length(tg)] <- 1
  tg
}

cat(sprintf("sbcg %s, %s; n = %d, %d test x, %d draws, one thread; %s\n\n",
            packageVersion("sbcg"), R.version.string, n_train, n_test, n_draws,
            format(Sys.time(), "%Y-%m-%d %H:%M")))
rows <- list()
for (model in models) for (seed in seeds) {
  dat <- model_data(model, seed, n_train, n_test)
  colnames(dat$Xtr) <- colnames(dat$Xte) <- paste0("x", seq_len(ncol(dat$Xtr)))
  path <- if (!is.null(fit_dir)) file.path(fit_dir, sprintf("fit-%s-%d.rds", model, seed))
  if (!is.null(path) && file.exists(path)) {
    fit <- readRDS(path)
  } else {
    fit <- sbfit(dat$Xtr, dat$ytr, seed = seed)
    if (!is.null(path)) {
      dir.create(fit_dir, showWarnings = FALSE, recursive = TRUE)
      saveRDS(fit, path)
    }
  }
  for (nm0 in names(samplers)) for (pr in precisions) {
    sm <- samplers[[nm0]]
    nm <- if (pr == "double") paste0(nm0, "_double") else nm0
    options(sbcg.precision = pr)
    t0 <- proc.time()[["elapsed"]]
    M <- sbsample(fit, dat$Xte, ndraws = n_draws, grid = grid_of(sm[[2L]], sm[[3L]]),
                  method = sm[[1L]], format = "matrix", seed = seed)
    el <- proc.time()[["elapsed"]] - t0
    s <- stats_draws(M, dat$yfresh)
    rows[[length(rows) + 1L]] <- data.frame(
      model = model, seed = seed, sampler = nm, bridge_x = isTRUE(fit$bridge_x),
      mse_sd = mean((s$sd - dat$truth$sd)^2), crps = mean(s$crps),
      cover90 = mean(dat$yfresh >= s$q05 & dat$yfresh <= s$q95), sample_s = el)
    r <- rows[[length(rows)]]
    cat(sprintf("%-3s seed %d %-18s x-bridge %-5s mse_sd %.5f crps %.5f cover90 %.3f  %5.1f s\n",
                model, seed, nm, r$bridge_x, r$mse_sd, r$crps, r$cover90, r$sample_s))
  }
}
res <- do.call(rbind, rows)
cat("\nCRPS relative to em_denoise with 100 steps (mean over models and seeds):\n")
base <- res[res$sampler == if ("single" %in% precisions) "em_denoise_100" else "em_denoise_100_double", ]
rel <- sapply(unique(res$sampler), function(nm) {
  r <- res[res$sampler == nm, ]
  c(rel_crps = mean(r$crps / base$crps), worst = max(r$crps / base$crps),
    cover90 = mean(r$cover90), time = sum(r$sample_s) / sum(base$sample_s))
})
print(round(t(rel), 4))
