# Joins per-seed result files of bench/accuracy.R (runs of different methods
# on the same models, n, test size and seeds; the data depend only on those)
# and prints one table per model, a Markdown summary and the checks of the
# accuracy targets.
#
#   Rscript bench/accuracy-table.R bench/results/accuracy-A-seeds.csv bench/results/accuracy-B-seeds.csv
args <- commandArgs(trailingOnly = TRUE)
if (!length(args)) stop("give one or more *-seeds.csv files of bench/accuracy.R", call. = FALSE)
res <- do.call(rbind, lapply(args, function(f) {
  r <- read.csv(f, stringsAsFactors = FALSE)
  r$file <- basename(f)
  r
}))
# one truth row per model and seed (every file has it)
res <- res[!(res$method == "truth" & duplicated(res[, c("model", "seed", "method")])), ]
dup <- duplicated(res[, c("model", "seed", "method")])
if (any(dup)) stop("a method appears in more than one file for the same model and seed", call. = FALSE)
if (length(unique(res$n)) != 1L || length(unique(res$n_test)) != 1L)
  stop("the files differ in n or the number of test points", call. = FALSE)
res <- res[is.na(res$error), ]
order_m <- c("truth", "sbcg_default", "sbcg_paper", "grf", "drf", "qrf", "qrf_exact", "np")
forests <- c("grf", "drf", "qrf")
f3 <- function(v, d = 3) sub("\\.$", "", formatC(signif(v, d), digits = d, format = "fg", flag = "#"))
agg <- do.call(rbind, lapply(split(res, list(res$model, res$method), drop = TRUE), function(x)
  data.frame(model = x$model[1], method = x$method[1], seeds = nrow(x),
             mse_mean = mean(x$mse_mean), mse_sd = mean(x$mse_sd), sd_ratio = mean(x$sd_ratio),
             crps = mean(x$crps), crps_min = min(x$crps), crps_max = max(x$crps),
             cover90 = mean(x$cover90), cover_min = min(x$cover90), cover_max = max(x$cover90),
             secs = mean(x$fit_s + x$pred_s))))
agg <- agg[order(agg$model, match(agg$method, order_m)), ]
cat(sprintf("n = %d, %d test x; seeds per method as shown\n\n", res$n[1], res$n_test[1]))
cat("| model | method | MSE mean | MSE SD | SD ratio | CRPS (min-max) | cover 90% | fit + predict s |\n")
cat("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
for (i in seq_len(nrow(agg))) {
  a <- agg[i, ]
  cat(sprintf("| %s | %s | %s | %s | %s | %s (%s-%s) | %s | %s |\n", a$model, a$method,
              f3(a$mse_mean), f3(a$mse_sd), f3(a$sd_ratio, 2), f3(a$crps, 4), f3(a$crps_min, 4),
              f3(a$crps_max, 4), f3(a$cover90, 2), if (is.na(a$secs)) "" else f3(a$secs, 2)))
}
cat("\nTargets for sbcg_default:\n")
wins <- 0
sd_wins <- 0
for (m in unique(agg$model)) {
  a <- agg[agg$model == m & agg$method != "truth", ]
  me <- a[a$method == "sbcg_default", ]
  if (!nrow(me)) next
  others <- a[a$method != "sbcg_default", ]
  best_other <- others[which.min(others$crps), ]
  lowest <- me$crps < min(others$crps)
  wins <- wins + lowest
  fo <- a[a$method %in% forests, ]
  below <- nrow(fo) > 0 && all(me$mse_sd < fo$mse_sd)
  sd_wins <- sd_wins + below
  pap <- a[a$method == "sbcg_paper", ]
  cat(sprintf("  %s: CRPS %s, next best %s %s (%s); MSE(SD) %s vs forests' lowest %s (%s); vs paper recipe CRPS %s (%s); coverage %s (%s)\n",
              m, f3(me$crps, 4), best_other$method, f3(best_other$crps, 4),
              if (lowest) "lowest" else "NOT lowest",
              f3(me$mse_sd), if (nrow(fo)) f3(min(fo$mse_sd)) else "-",
              if (below) "below all" else "NOT below all",
              if (nrow(pap)) f3(pap$crps, 4) else "-",
              if (!nrow(pap)) "no paper run" else if (me$crps <= pap$crps) "at least as good" else "WORSE",
              f3(me$cover90, 3),
              if (me$cover90 >= 0.87 && me$cover90 <= 0.93) "within 0.87-0.93" else "OUTSIDE 0.87-0.93"))
}
cat(sprintf("  lowest CRPS on %d of %d models; MSE(SD) below every forest on %d of %d\n",
            wins, length(unique(agg$model)), sd_wins, length(unique(agg$model))))

# Compact Markdown tables: CRPS (mean over seeds) of every method per model,
# then MSE of the conditional mean and SD, and coverage.
wide <- function(col, d = 3) {
  meths <- intersect(order_m, unique(agg$method))
  cat(sprintf("\n| model | %s |\n", paste(meths, collapse = " | ")))
  cat(sprintf("| --- |%s\n", strrep(" --- |", length(meths))))
  for (m in unique(agg$model)) {
    v <- vapply(meths, function(k) {
      x <- agg[agg$model == m & agg$method == k, col]
      if (!length(x) || is.na(x)) "" else if (!is.finite(x) || abs(x) > 1e6) "diverged" else f3(x, d)
    }, "")
    cat(sprintf("| %s | %s |\n", m, paste(v, collapse = " | ")))
  }
}
cat("\nCRPS (mean over seeds; lower is better):\n")
wide("crps", 4)
cat("\nMSE of the conditional mean:\n")
wide("mse_mean")
cat("\nMSE of the conditional SD:\n")
wide("mse_sd")
cat("\nCoverage of the central 90% interval:\n")
wide("cover90", 3)
cat("\nFit + predict seconds (one thread):\n")
wide("secs", 2)
