# Where does sbcg's predictive spread go wrong on real data?  For the folds
# of bench/realdata.R this fits sbcg and compares, on the standardised
# response scale, what the preconditioning networks see on the rows they
# were trained on with what they meet on the held-out fold:
#
#   loc_fit, loc_val, loc_out  RMS of Y - m(x) on the rows the location
#       network trained on, on its validation rows (early stopping) and on
#       the held-out fold; loc_out / loc_fit above 1 means the bridge is
#       trained on residuals smaller than the ones it will have to cover
#   z_fit, z_out  RMS of the standardised residual (Y - m(x)) / s(x) on the
#       training rows and on the held-out fold (location-scale only)
#   floor_fit, floor_out  share of rows where s(x) sits at its floor
#   draw_sd  mean SD of the draws on the held-out fold / RMS of Y - mean
#       draw there (the spread-skill ratio of bench/realdata.R)
#
#   Rscript bench/realdata-diag.R [--quick] [--sets a,b] [--control 'list(...)']
#                                 [--members]
#
# --members also scores, on each held-out fold (`draws` draws per row;
# coverage of the central 50% and 90% intervals of the draws, as in
# bench/realdata.R, and CRPS), three predictive laws of the same fit and
# bridge: the fit's own (the mean of the five cross-fitted location and
# scale networks), each network alone with its own linear part (scores
# averaged over the five), and their pool (an equal share of the draws
# from each network alone).  The bridge learned the law of each network's
# residuals on the rows it did not see, so "alone" is the predictive law
# whose construction matches its training; the fit's own uses the mean of
# the networks, which predicts better than any one of them.
#
# It uses sbcg internals (sbcg:::location_net, sbcg:::scale_net,
# sbcg:::member_fit) and the validation split of sbfit(): set.seed(seed);
# sort(sample.int(n, floor(validation * n))).
# Run it niced; one thread.

suppressPackageStartupMessages(library(sbcg))
source_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) normalizePath(dirname(f[1L])) else normalizePath("bench")
})
source(file.path(source_dir, "cli.R"))
quick <- "--quick" %in% args
source(file.path(source_dir, "realdata-sets.R"))
source(file.path(source_dir, "scores.R"))  # crps_draws()
members <- "--members" %in% args
n_folds <- as.integer(opt_value("folds", if (quick) 3 else 5))
max_rows <- as.numeric(opt_value("max-rows", if (quick) 1000 else Inf))
n_draws <- as.integer(opt_value("draws", 200))
control_text <- opt_value("control", NULL)
ctl <- if (is.null(control_text)) list() else eval(parse(text = control_text), envir = baseenv())
sets <- strsplit(opt_value("sets", paste(default_sets, collapse = ",")), ",")[[1L]]
options(width = 200)
cat(sprintf("sbcg real-data diagnosis %s; %s; control %s; %d folds, %d draws\n",
            format(Sys.time(), "%Y-%m-%d %H:%M"), R.version.string,
            control_text %||% "defaults", n_folds, n_draws))

rms <- function(v) sqrt(mean(v^2))
# coverage of the central 50% and 90% intervals of the draws M (rows x
# draws; type-7 quantiles) and the mean CRPS, at the responses y
draw_scores <- function(M, y) {
  Q <- t(apply(M, 1L, stats::quantile, probs = c(0.25, 0.75, 0.05, 0.95), names = FALSE))
  c(c50 = mean(y >= Q[, 1] & y <= Q[, 2]), c90 = mean(y >= Q[, 3] & y <= Q[, 4]),
    crps = mean(crps_draws(M, y)))
}
stdx <- function(fit, X) sweep(sweep(X, 2L, fit$scaling$x_center), 2L, fit$scaling$x_scale, "/")
out <- list()
for (sname in sets) {
  set <- load_set(sname, max_rows)
  d <- set$data
  folds <- fold_ids(nrow(d), n_folds)
  yname <- all.vars(set$formula)[1L]
  for (fold in seq_len(n_folds)) {
    tr <- d[folds != fold, , drop = FALSE]
    te <- d[folds == fold, , drop = FALSE]
    fit <- sbfit(set$formula, tr, control = ctl, seed = fold, threads = 1L)
    pre <- fit$precondition
    n <- nrow(tr)
    set.seed(fold)
    vidx <- sort(sample.int(n, floor(fit$control$validation * n)))
    tidx <- setdiff(seq_len(n), vidx)
    mm <- function(dd) {
      X <- stats::model.matrix(fit$xinfo$terms, stats::model.frame(fit$xinfo$terms, dd,
                               xlev = fit$xinfo$xlevels))
      stdx(fit, X[, fit$xnames, drop = FALSE])
    }
    # the responses on the scale the fit learned them (log or logit for a
    # support other than the real line; counts dequantised with the fit's
    # seed, as sbfit() does), then standardised as the fit's
    ys <- function(dd) {
      y <- if (is.null(fit$support)) dd[[yname]] else
        sbcg:::support_forward(fit$support, dd[[yname]], fit$seed)
      (y - fit$scaling$y_center) / fit$scaling$y_scale
    }
    M <- sbsample(fit, te, ndraws = n_draws, format = "matrix", seed = fold, threads = 1L)
    row <- data.frame(set = sname, fold = fold, n_fit = length(tidx), n_val = length(vidx),
                      n_test = nrow(te),
                      loc_fit = NA, loc_val = NA, loc_out = NA, z_fit = NA, z_out = NA,
                      floor_fit = NA, floor_out = NA,
                      draw_sd = sqrt(mean(apply(M, 1L, var))) / rms(te[[yname]] - rowMeans(M)),
                      pre_best = if (is.null(pre)) "" else paste(pre$best_epoch, collapse = "/"),
                      bridge_best = fit$best_epoch, bridge_epochs = nrow(fit$history))
    if (!is.null(pre)) {
      Xtr <- mm(tr)
      Xte <- mm(te)
      rtr <- ys(tr) - drop(sbcg:::location_net(pre, Xtr))
      rte <- ys(te) - drop(sbcg:::location_net(pre, Xte))
      row$loc_fit <- rms(rtr[tidx])
      row$loc_val <- if (length(vidx)) rms(rtr[vidx]) else NA
      row$loc_out <- rms(rte)
      if (!is.null(pre$scale)) {
        str <- drop(sbcg:::scale_net(pre, Xtr))
        ste <- drop(sbcg:::scale_net(pre, Xte))
        row$z_fit <- rms(rtr[tidx] / str[tidx])
        row$z_out <- rms(rte / ste)
        row$floor_fit <- mean(str[tidx] <= pre$floor * (1 + 1e-9))
        row$floor_out <- mean(ste <= pre$floor * (1 + 1e-9))
      }
    }
    cat(sprintf("%-11s fold %d: loc rms fit %.3f val %.3f out %.3f | z rms fit %.3g out %.3g | floor %.2f/%.2f | draw sd/err %.2f\n",
                sname, fold, row$loc_fit, row$loc_val, row$loc_out, row$z_fit, row$z_out,
                row$floor_fit, row$floor_out, row$draw_sd))
    if (members && !is.null(pre) && is.matrix(pre$location) && ncol(pre$location) > 1L) {
      K <- ncol(pre$location)
      yte <- te[[yname]]
      alone <- lapply(seq_len(K), function(j)
        sbsample(sbcg:::member_fit(fit, j), te, ndraws = n_draws, format = "matrix",
                 seed = fold, threads = 1L))
      share <- split(seq_len(n_draws), rep_len(seq_len(K), n_draws))
      pool <- do.call(cbind, lapply(seq_len(K), function(j) alone[[j]][, share[[j]], drop = FALSE]))
      sc <- rbind(fit = draw_scores(M, yte),
                  alone = rowMeans(vapply(alone, draw_scores, numeric(3), y = yte)),
                  pool = draw_scores(pool, yte))
      for (w in rownames(sc)) row[paste0(w, "_", colnames(sc))] <- sc[w, ]
      cat(sprintf("%-11s fold %d: 50%%/90%% coverage, CRPS: fit %.2f/%.2f %.4g | alone %.2f/%.2f %.4g | pool %.2f/%.2f %.4g\n",
                  sname, fold, sc[1, 1], sc[1, 2], sc[1, 3], sc[2, 1], sc[2, 2], sc[2, 3],
                  sc[3, 1], sc[3, 2], sc[3, 3]))
    }
    out[[length(out) + 1L]] <- row
    flush(stdout())
  }
}
cols <- unique(unlist(lapply(out, names)))
res <- do.call(rbind, lapply(out, function(r) { r[setdiff(cols, names(r))] <- NA; r[cols] }))
agg <- do.call(rbind, lapply(split(res, factor(res$set, unique(res$set))), function(x)
  data.frame(set = x$set[1L], n_fit = round(mean(x$n_fit)), n_val = round(mean(x$n_val)),
             loc_fit = mean(x$loc_fit), loc_val = mean(x$loc_val), loc_out = mean(x$loc_out),
             out_over_fit = mean(x$loc_out / x$loc_fit), z_fit = mean(x$z_fit),
             z_out = mean(x$z_out), floor_fit = mean(x$floor_fit), floor_out = mean(x$floor_out),
             draw_sd = mean(x$draw_sd))))
cat("\nmeans over folds (standardised response scale)\n")
print(format(agg, digits = 3), row.names = FALSE)
if (members && "fit_c50" %in% names(res)) {
  mc <- grep("^(fit|alone|pool)_", names(res), value = TRUE)
  mem <- do.call(rbind, lapply(split(res, factor(res$set, unique(res$set))), function(x) {
    x <- x[!is.na(x$fit_c50), , drop = FALSE]
    w <- x$n_test / sum(x$n_test)
    cbind(data.frame(set = x$set[1L], n = sum(x$n_test)),
          as.data.frame(t(colSums(x[, mc, drop = FALSE] * w))))
  }))
  cat("\nthe fit's predictive law, each network alone and their pool, over all held-out rows",
      "(coverage of the central 50% / 90% intervals, CRPS on the response's scale)\n")
  print(format(mem, digits = 4), row.names = FALSE)
}
f <- opt_value("out", NULL)
if (!is.null(f)) utils::write.csv(res, f, row.names = FALSE)
