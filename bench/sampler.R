# The sampler's schemes compared on one fit per model: the Gaussian model
# y = 1 + 2x + (0.5 + |x|) eps ("g") and the simulation models m1-m7 of
# DESIGN.md; n = 2000, 200 test x, 200 draws, 100 uniform steps, one seed.
# Schemes: "em" (the paper's Euler-Maruyama), "em_denoise" (the same, with
# a noiseless last step) and "bridge" (Brownian-bridge steps).  Prints the
# MSE of the conditional mean and SD against the truth (2000 exact draws
# per test x) and the mean CRPS against one fresh draw per test x.
#   Rscript bench/sampler.R        (about two minutes)
library(sbcg)
set.seed(11)
gen <- function(m, n) {
  if (m == "m1") { X <- matrix(runif(n*5, -3, 3), n, 5); f <- function(X, k) X[,1]^2 + exp(X[,2] + X[,3]/4) + cos(X[,4] + X[,5]) + 0.1 * rnorm(k) }
  if (m == "m5") { X <- matrix(runif(n, -3, 3), n, 1); f <- function(X, k) tanh(X[,1] + sqrt(0.05) * rnorm(k)) }
  if (m == "m2") { X <- matrix(runif(n*5, -3, 3), n, 5); f <- function(X, k) X[,1]^2 + exp(X[,2] + X[,3]/4) + X[,4] - X[,5] + (1 + X[,2]^2 + X[,5]^2)/2 * rnorm(k) }
  if (m == "m3") { X <- matrix(runif(n, -3, 3), n, 1); f <- function(X, k) sample(c(-1,1), k, TRUE) * X[,1] + 0.25 * rnorm(k) }
  if (m == "m4") { X <- matrix(runif(n, -3, 3), n, 1); f <- function(X, k) tanh(X[,1]) + rgamma(k, 1, scale = 0.3) }
  if (m == "m6") { X <- matrix(runif(n, -3, 3), n, 1); f <- function(X, k) rgamma(k, 1, scale = 0.3) * tanh(X[,1]) }
  if (m == "g") { X <- matrix(runif(n, -2, 2), n, 1); f <- function(X, k) 1 + 2 * X[,1] + (0.5 + abs(X[,1])) * rnorm(k) }
  if (m == "m7") { X <- matrix(runif(n*5, -3, 3), n, 5); f <- function(X, k) (5 + X[,1]^2/3 + X[,2]^2 + X[,3]^2 + X[,4] + X[,5]) * exp(0.5 * (rnorm(k) + sample(c(-2,2), k, TRUE))) }
  list(X = X, f = f)
}
for (m in c("g", paste0("m", 1:7))) {
  g <- gen(m, 2000); X <- g$X; y <- g$f(X, nrow(X))
  fit <- sbfit(X, y, seed = 1)
  Xt <- gen(m, 200)$X
  truth <- replicate(2000, g$f(Xt, nrow(Xt)))
  tsd <- apply(truth, 1, sd); tm <- rowMeans(truth)
  yt <- g$f(Xt, nrow(Xt))
  colnames(Xt) <- fit$xnames
  for (v in c("em", "em_denoise", "bridge")) {
    D <- sbsample(fit, Xt, ndraws = 200, steps = 100, method = v, format = "matrix", seed = 2)
    sc <- score_draws(D, yt)
    cat(sprintf("%-2s %-10s: mse_mean %.5f mse_sd %.5f crps %.4f\n", m, v,
        mean((rowMeans(D) - tm)^2), mean((apply(D, 1, sd) - tsd)^2), mean(sc$crps)))
  }
}
