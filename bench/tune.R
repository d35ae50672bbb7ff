# Candidate defaults for sbcg on the simulation models m1-m7: the search
# behind the defaults of sbcg_control(), kept so that it can be rerun.
#
#   Rscript bench/tune.R --variants base,w64 [--models m1,m2] [--seeds 1] [--n 5000] [--test 500]
#
# Each variant is a list of sbcg_control() arguments (below) applied on top
# of the package's current defaults.  Data, truths and scores are those of
# bench/accuracy.R (the same seeds, so the figures are comparable with its
# peers).  Prints, per model and variant, MSE of the conditional mean and
# SD, mean predicted SD / mean true SD, CRPS, 90% coverage and fit seconds.
suppressPackageStartupMessages(library(sbcg))
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "bench"
})
source(file.path(here, "cli.R"))
# the model, truth and scoring definitions of accuracy.R
accuracy_defs(here)
all_models <- paste0("m", 1:7)

big <- list(hidden = c(64, 64), samples = 1.2e7)
variants <- list(
  base = list(),
  old = list(time_map = "linear", t_tail = 0, t_min = 1e-3, t_max = 1 - 1e-3, grid_power = 1,
             precondition = "none"),
  noloc = list(precondition = "none"),
  loconly = list(precondition = "location"),
  w64 = list(hidden = c(64, 64)),
  w64s = big,
  w64x3 = list(hidden = c(64, 64, 64), samples = 1.2e7),
  w64s200 = c(big, list(steps = 200)),
  w64tail0 = c(big, list(t_tail = 0)),
  w64lin = c(big, list(time_map = "linear")),
  w64noloc = c(big, list(precondition = "none")),
  w64loc = c(big, list(precondition = "location")),
  w64lin0 = c(big, list(time_map = "linear", t_tail = 0)),
  w64oldt = c(big, list(time_map = "linear", t_tail = 0, t_min = 1e-3, t_max = 1 - 1e-3,
                        grid_power = 1)),
  w64gp2 = c(big, list(grid_power = 2)),
  w64pat20 = c(big, list(patience = 20)),
  w128 = list(hidden = c(128, 128), samples = 1.2e7),
  gp2 = list(grid_power = 2),
  s200 = list(steps = 200),
  tail0 = list(t_tail = 0),
  tail8 = list(t_tail = 0.8),
  # a lower floor for early stopping (and so a smaller fixed budget for the
  # bridge without the predictors): 8,000 and 4,000 optimiser steps of 256
  # rows on 4,500 training rows, instead of half the budget (24,000)
  floor8k = list(min_epochs = 445),
  floor4k = list(min_epochs = 223),
  # a fixed decay of the location and scale networks' first-layer weights
  # on the predictors (no out-of-fold trial)
  dec1 = list(input_decay = 1),
  dec3 = list(input_decay = 3),
  dec10 = list(input_decay = 10)
)
models <- strsplit(opt_value("models", paste(all_models, collapse = ",")), ",")[[1L]]
vnames <- strsplit(opt_value("variants", "base"), ",")[[1L]]
stopifnot(all(vnames %in% names(variants)))
seeds <- seq_len(as.integer(opt_value("seeds", 1)))
n_train <- as.integer(opt_value("n", 5000))
n_test <- as.integer(opt_value("test", 500))
options(sbcg.threads = as.integer(opt_value("threads", 1)))

rows <- list()
for (model in models) for (seed in seeds) {
  p <- model_p[[model]]
  dat <- model_data(model, seed, n_train, n_test)
  Xtr <- dat$Xtr
  ytr <- dat$ytr
  Xte <- dat$Xte
  yfresh <- dat$yfresh
  tr <- dat$truth
  colnames(Xtr) <- colnames(Xte) <- paste0("x", seq_len(p))
  # the true law by 2000 exact draws per test x: the floor of the CRPS and
  # the coverage that the test points' sampling error allows
  Ytrue <- dat$Ytrue
  s <- stats_draws(Ytrue, yfresh)
  rows[[length(rows) + 1L]] <- data.frame(
    model = model, seed = seed, variant = "truth",
    mse_mean = mean((s$mean - tr$mean)^2), mse_sd = mean((s$sd - tr$sd)^2),
    sd_ratio = mean(s$sd) / mean(tr$sd), crps = mean(s$crps),
    cover90 = mean(yfresh >= s$q05 & yfresh <= s$q95), fit_s = NA, epochs = NA, early = NA,
    best = NA, bridge_x = NA)
  for (v in vnames) {
    t0 <- proc.time()[[3]]
    fit <- sbfit(Xtr, ytr, control = do.call(sbcg_control, variants[[v]]), seed = seed)
    t1 <- proc.time()[[3]]
    M <- sbsample(fit, Xte, ndraws = 200, format = "matrix", seed = seed)
    s <- stats_draws(M, yfresh)
    rows[[length(rows) + 1L]] <- data.frame(
      model = model, seed = seed, variant = v,
      mse_mean = mean((s$mean - tr$mean)^2), mse_sd = mean((s$sd - tr$sd)^2),
      sd_ratio = mean(s$sd) / mean(tr$sd), crps = mean(s$crps),
      cover90 = mean(yfresh >= s$q05 & yfresh <= s$q95), fit_s = t1 - t0,
      epochs = nrow(fit$history), early = isTRUE(fit$stopped_early),
      best = fit$best_epoch, bridge_x = isTRUE(fit$bridge_x))
    print(rows[[length(rows)]], digits = 4, row.names = FALSE)
    flush(stdout())
  }
}
res <- do.call(rbind, rows)
cat("\nmeans over seeds\n")
agg <- aggregate(cbind(mse_mean, mse_sd, sd_ratio, crps, cover90) ~ variant + model, res, mean)
agg$fit_s <- NA
ft <- aggregate(fit_s ~ variant + model, res, mean)
agg$fit_s[match(paste(ft$variant, ft$model), paste(agg$variant, agg$model))] <- ft$fit_s
print(agg, digits = 4)
if (!is.null(opt_value("out", NULL))) write.csv(res, opt_value("out", NULL), row.names = FALSE)
