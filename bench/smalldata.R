# Small samples and many predictors: sbcg against a Gaussian linear model
# and grf's quantile forest on three simulated laws, 500 test rows from the
# same law, several seeds.
#
#   Rscript bench/smalldata.R                 # 5 seeds, 1000 draws per test row
#   Rscript bench/smalldata.R --seeds 2 --draws 200
#   Rscript bench/smalldata.R --cases lin30,lin100 --no-grf
#
# Cases:
#   lin30, lin100  y = 2 + 0.5 x + (0.2 + 0.2 x) eps, x ~ U(0, 10), n = 30, 100:
#                  linear mean, so the Gaussian linear model is near the best
#                  a method can do with so few rows;
#   p50            y = X1 + X2^2 + (0.5 + 0.5 |X3|) eps, X ~ N(0, I_50), n = 1000:
#                  47 irrelevant predictors;
#   p11n15         y = 1 + eps, X ~ N(0, I_11), n = 15: a dozen rows and as
#                  many predictors, none of which matters (run only when
#                  named in --cases).
# Scores over the test rows: CRPS (sbcg: the "fair" estimator from its
# draws; lm: closed form of its predictive t law; grf: exact CRPS of the
# forest-weighted law of the training responses; truth: closed form of the
# true normal law) and coverage of the central 90% interval.  Every method
# runs on one thread.
suppressPackageStartupMessages(library(sbcg))
args <- commandArgs(trailingOnly = TRUE)
opt <- function(name, default) {
  i <- match(name, args)
  if (is.na(i)) default else as.numeric(args[i + 1L])
}
nseeds <- opt("--seeds", 5)
ndraws <- opt("--draws", 1000)
source_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(f[1L]) else "bench"
})
source(file.path(source_dir, "peers.R"))
have_grf <- !"--no-grf" %in% args && !nzchar(peer_setup("grf")[["grf"]])

make <- function(case, n, seed) {
  set.seed(seed)
  if (case == "p11") {
    X <- matrix(rnorm(n * 11), n)
    colnames(X) <- paste0("x", 1:11)
    return(data.frame(X, y = 1 + rnorm(n), mu = 1, s = 1))
  }
  if (case == "p50") {
    X <- matrix(rnorm(n * 50), n)
    colnames(X) <- paste0("x", 1:50)
    mu <- X[, 1] + X[, 2]^2
    s <- 0.5 + 0.5 * abs(X[, 3])
    data.frame(X, y = mu + s * rnorm(n), mu = mu, s = s)
  } else {
    x <- runif(n, 0, 10)
    mu <- 2 + 0.5 * x
    s <- 0.2 + 0.2 * x
    data.frame(x = x, y = mu + s * rnorm(n), mu = mu, s = s)
  }
}

source(file.path(source_dir, "scores.R"))  # crps_norm(), crps_t(), crps_draws()
crps_weighted <- function(W, ytr, y) {
  o <- order(ytr)
  v <- ytr[o]
  W <- W[, o, drop = FALSE]
  vapply(seq_along(y), function(i) {
    w <- W[i, ]
    F <- cumsum(w)
    sum(w * abs(v - y[i])) - sum(w * v * (2 * F - w - 1))
  }, 0)
}
summ <- function(crps, lo, hi, y) {
  c(crps = mean(crps), cover90 = mean(y >= lo & y <= hi))
}

cases <- list(lin30 = list(case = "lin", n = 30), lin100 = list(case = "lin", n = 100),
              p50 = list(case = "p50", n = 1000), p11n15 = list(case = "p11", n = 15))
if (!is.na(i <- match("--cases", args))) {
  cases <- cases[strsplit(args[i + 1L], ",")[[1L]]]
} else {
  cases$p11n15 <- NULL
}
if (!length(cases) || anyNA(names(cases)))
  stop("--cases: give some of lin30, lin100, p50, p11n15")
cat(sprintf("sbcg small-data benchmark  %s\nmachine: nproc %d; %s; sbcg %s; %d seeds, %d draws\n",
            format(Sys.time(), "%Y-%m-%d %H:%M %Z"), parallel::detectCores(),
            R.version.string, packageVersion("sbcg"), nseeds, ndraws))
rows <- list()
for (cn in names(cases)) for (seed in seq_len(nseeds)) {
  cs <- cases[[cn]]
  tr <- make(cs$case, cs$n, seed)
  te <- make(cs$case, 500, 1000 + seed)
  xn <- setdiff(names(tr), c("y", "mu", "s"))
  fml <- stats::reformulate(xn, "y")
  res <- list()
  res$truth <- summ(crps_norm(te$y, te$mu, te$s), te$mu + qnorm(0.05) * te$s,
                    te$mu + qnorm(0.95) * te$s, te$y)
  l <- lm(fml, tr)
  p <- predict(l, te, se.fit = TRUE)
  sc <- sqrt(p$se.fit^2 + summary(l)$sigma^2)
  q <- qt(0.95, l$df.residual)
  res$lm <- summ(crps_t(te$y, p$fit, sc, l$df.residual), p$fit - q * sc, p$fit + q * sc, te$y)
  t0 <- proc.time()[["elapsed"]]
  fit <- suppressWarnings(sbfit(fml, tr[c(xn, "y")], seed = seed, threads = 1))
  M <- sbsample(fit, te[xn], ndraws = ndraws, seed = seed, format = "matrix", threads = 1)
  secs <- proc.time()[["elapsed"]] - t0
  Q <- t(apply(M, 1L, quantile, c(0.05, 0.95), names = FALSE))
  res$sbcg <- summ(crps_draws(M, te$y), Q[, 1], Q[, 2], te$y)
  if (have_grf) {
    f <- grf::quantile_forest(as.matrix(tr[xn]), tr$y, seed = seed, num.threads = 1)
    W <- as.matrix(grf::get_forest_weights(f, as.matrix(te[xn])))
    Qg <- predict(f, as.matrix(te[xn]), quantiles = c(0.05, 0.95))$predictions
    res$grf <- summ(crps_weighted(W, tr$y, te$y), Qg[, 1], Qg[, 2], te$y)
  }
  for (m in names(res))
    rows[[length(rows) + 1L]] <- data.frame(case = cn, seed = seed, method = m,
                                            t(res[[m]]), sbcg_s = secs)
  cat(sprintf("  %-6s seed %d: %s  (sbcg %.1f s)\n", cn, seed,
              paste(sprintf("%s %.4g/%.2f", names(res), vapply(res, `[`, 0, 1),
                            vapply(res, `[`, 0, 2)), collapse = "  "), secs))
}
all <- do.call(rbind, rows)
agg <- aggregate(cbind(crps, cover90) ~ case + method, all, mean)
cat("\nmean over seeds: CRPS, coverage of the central 90% interval\n")
crps <- reshape(agg[c("case", "method", "crps")], idvar = "case", timevar = "method",
                direction = "wide")
cov <- reshape(agg[c("case", "method", "cover90")], idvar = "case", timevar = "method",
               direction = "wide")
names(crps) <- sub("^crps\\.", "", names(crps))
names(cov) <- sub("^cover90\\.", "", names(cov))
print(crps, row.names = FALSE, digits = 4)
cat("\n")
print(cov, row.names = FALSE, digits = 3)
cat("\nsbcg CRPS / lm CRPS:", paste(sprintf("%s %.3f", crps$case, crps$sbcg / crps$lm), collapse = ", "), "\n")
