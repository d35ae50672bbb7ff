# Bit-for-bit comparison of fits and draws between two builds of sbcg.
#
#   Rscript bench/identical.R save FILE      # with the old build installed
#   Rscript bench/identical.R compare FILE   # with the new build installed
#
# A fixed list of small fits (each precondition setting, each
# parameterization, each sampler, one and two threads, a multivariate
# response, case weights, no validation) with their weights and draws.
# `compare` prints, for each case, whether the bridge weights, the location
# and scale weights and the draws are identical() to the saved ones.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2L || !args[1L] %in% c("save", "compare"))
  stop("usage: Rscript bench/identical.R save|compare FILE")
suppressPackageStartupMessages(library(sbcg))

set.seed(42)
n <- 600
d1 <- data.frame(x1 = runif(n, -2, 2), x2 = rnorm(n), f = factor(sample(letters[1:3], n, TRUE)))
d1$y <- sin(d1$x1) + 0.5 * d1$x2 + as.integer(d1$f) / 3 + (0.2 + 0.2 * abs(d1$x1)) * rnorm(n)
d1$y2 <- d1$y * 0.5 + rnorm(n)
d1$w <- rexp(n)
nd <- d1[1:5, ]

base <- list(epochs = 12, hidden = c(16, 16))
cases <- list(
  ls_residual      = list(control = base),
  location         = list(control = c(base, precondition = "location")),
  none             = list(control = c(base, precondition = "none")),
  denoiser         = list(control = c(base, parameterization = "denoiser")),
  none_denoiser    = list(control = c(base, precondition = "none", parameterization = "denoiser")),
  sampler_em       = list(control = c(base, sampler = "em")),
  sampler_bridge   = list(control = c(base, sampler = "bridge")),
  threads2         = list(control = base, threads = 2L),
  multivariate     = list(control = base, formula = cbind(y, y2) ~ x1 + x2 + f),
  weights          = list(control = base, weights = TRUE),
  novalid          = list(control = c(base, validation = 0)),
  novalid_none     = list(control = c(base, validation = 0, precondition = "none")),
  relu_tail_logit  = list(control = c(base, activation = "relu", t_tail = 0.3, time_map = "logit")),
  tanh_ema0        = list(control = c(base, activation = "tanh", ema = 0))
)

run_case <- function(cs) {
  f <- if (is.null(cs$formula)) y ~ x1 + x2 + f else cs$formula
  th <- if (is.null(cs$threads)) 1L else cs$threads
  fit <- if (isTRUE(cs$weights))
    sbfit(f, data = d1, weights = w, control = cs$control, threads = th, seed = 7)
  else sbfit(f, data = d1, control = cs$control, threads = th, seed = 7)
  draws <- sbsample(fit, nd, ndraws = 50, seed = 3, format = "matrix", threads = th)
  list(theta = fit$theta, location = fit$precondition$location,
       scale = fit$precondition$scale, history = fit$history,
       best_epoch = fit$best_epoch, draws = draws)
}

res <- lapply(cases, run_case)
if (args[1L] == "save") {
  saveRDS(list(version = as.character(packageVersion("sbcg")), res = res), args[2L])
  cat("saved", length(res), "cases to", args[2L], "\n")
} else {
  old <- readRDS(args[2L])$res
  parts <- c("theta", "location", "scale", "history", "draws")
  tab <- t(vapply(names(res), function(k)
    vapply(parts, function(p) identical(res[[k]][[p]], old[[k]][[p]]), NA), logical(length(parts))))
  # where the draws differ: the largest difference against their SD
  rel <- vapply(names(res), function(k)
    max(abs(res[[k]]$draws - old[[k]]$draws)) / stats::sd(as.vector(old[[k]]$draws)), 0)
  print(data.frame(tab, draws_maxdiff_over_sd = signif(rel, 3)))
  cat(sprintf("%d of %d cases identical in every part\n", sum(apply(tab, 1, all)), nrow(tab)))
}
