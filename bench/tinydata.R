# Calibration on small data sets that ship with R (15 to 272 rows): 5-fold
# cross-validation (folds from set.seed(1)), sbcg with its defaults (seed =
# fold, one thread, 1000 independent draws per held-out row) against a
# Gaussian linear model with its exact predictive t law.  Prints, per set,
# sbcg's CRPS relative to lm's, the coverage of the central 50% and 90%
# intervals for both, and in how many folds sbcg kept the bridge that sees
# the predictors; then the same pooled over the sets (geometric mean of
# the CRPS ratios; coverage over all held-out rows).
#
#   Rscript bench/tinydata.R
suppressPackageStartupMessages(library(sbcg))
sets <- list(
  women = list(data = datasets::women, f = weight ~ height),
  trees = list(data = datasets::trees, f = Volume ~ Girth + Height),
  mtcars = list(data = datasets::mtcars, f = mpg ~ wt + hp + disp + qsec),
  swiss = list(data = datasets::swiss, f = Fertility ~ .),
  rock = list(data = datasets::rock, f = perm ~ area + peri + shape),
  cars = list(data = datasets::cars, f = dist ~ speed),
  LifeCycleSavings = list(data = datasets::LifeCycleSavings, f = sr ~ .),
  airquality = list(data = stats::na.omit(datasets::airquality[, 1:4]), f = Ozone ~ .),
  faithful = list(data = datasets::faithful, f = eruptions ~ waiting))

source(file.path(local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(f[1L]) else "bench"
}), "scores.R"))  # crps_t(), crps_draws()
inside <- function(pit, level) abs(pit - 0.5) < level / 2

cat(sprintf("sbcg %s, %s; %s UTC\n\n", packageVersion("sbcg"), R.version.string,
            format(Sys.time(), "%Y-%m-%d %H:%M", tz = "UTC")))
cat(sprintf("%-17s %4s %9s %15s %15s %9s\n", "set", "n", "CRPS/lm", "sbcg 50%/90%",
            "lm 50%/90%", "x-bridge"))
tot <- NULL
for (nm in names(sets)) {
  d <- sets[[nm]]$data
  f <- sets[[nm]]$f
  yv <- all.vars(f)[1L]
  set.seed(1)
  fold <- sample(rep_len(1:5, nrow(d)))
  r <- NULL
  for (k in 1:5) {
    tr <- d[fold != k, , drop = FALSE]
    te <- d[fold == k, , drop = FALSE]
    fit <- suppressWarnings(sbfit(f, tr, seed = k, threads = 1))
    M <- sbsample(fit, te, ndraws = 1000, format = "matrix", seed = k, threads = 1)
    y <- te[[yv]]
    l <- lm(f, tr)
    p <- predict(l, te, se.fit = TRUE)
    s <- sqrt(p$se.fit^2 + p$residual.scale^2)
    r <- rbind(r, data.frame(pit = rowMeans(M < y), crps = crps_draws(M, y),
                             pit_lm = pt((y - p$fit) / s, p$df),
                             crps_lm = crps_t(y, p$fit, s, p$df), x = isTRUE(fit$bridge_x)))
  }
  ratio <- mean(r$crps) / mean(r$crps_lm)
  cat(sprintf("%-17s %4d %9.3f %7.2f / %.2f %7.2f / %.2f %5d / 5\n", nm, nrow(d), ratio,
              mean(inside(r$pit, 0.5)), mean(inside(r$pit, 0.9)),
              mean(inside(r$pit_lm, 0.5)), mean(inside(r$pit_lm, 0.9)),
              sum(r$x[!duplicated(rep(1:5, table(fold)))])))
  tot <- rbind(tot, data.frame(set = nm, ratio = ratio, r))
}
ratios <- tapply(tot$ratio, tot$set, `[`, 1L)
cat(sprintf("%-17s %4d %9.3f %7.2f / %.2f %7.2f / %.2f\n", "pooled", nrow(tot),
            exp(mean(log(ratios))), mean(inside(tot$pit, 0.5)), mean(inside(tot$pit, 0.9)),
            mean(inside(tot$pit_lm, 0.5)), mean(inside(tot$pit_lm, 0.9))))
