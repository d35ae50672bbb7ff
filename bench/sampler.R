# The sampler's scheme and time grid, compared on one fit per simulation
# model (m1-m7 of DESIGN.md; n = 2000, 200 test x, 200 draws, 100 steps,
# one seed): Euler-Maruyama ("em", the paper's) and the Brownian-bridge step
# ("bridge"), on grids t_k = 1 - (1 - k/K)^power.  Prints the MSE of the
# conditional mean and SD against the truth (2000 exact draws per test x)
# and the CRPS against one fresh draw per test x.
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
  if (m == "m7") { X <- matrix(runif(n*5, -3, 3), n, 5); f <- function(X, k) (5 + X[,1]^2/3 + X[,2]^2 + X[,3]^2 + X[,4] + X[,5]) * exp(0.5 * (rnorm(k) + sample(c(-2,2), k, TRUE))) }
  list(X = X, f = f)
}
for (m in paste0("m", 1:7)) {
  g <- gen(m, 2000); X <- g$X; y <- g$f(X, nrow(X))
  fit <- sbfit(X, y, seed = 1, control = sbcg_control(sampler = "em"))
  Xt <- gen(m, 200)$X
  truth <- replicate(2000, g$f(Xt, nrow(Xt)))
  tsd <- apply(truth, 1, sd); tm <- rowMeans(truth)
  yt <- g$f(Xt, nrow(Xt))
  colnames(Xt) <- fit$xnames
  for (cfg in list(list("em", 1), list("em", 2), list("em", 3), list("bridge", 1), list("bridge", 2))) {
    K <- 100; tg <- 1 - (1 - (0:K)/K)^cfg[[2]]
    D <- sbsample(fit, Xt, n = 200, format = "matrix", method = cfg[[1]], grid = tg, seed = 2)
    sc <- score_draws(D, yt)
    crps <- mean(sc$crps)
    cat(sprintf("%s %-6s power %d: mse_mean %.5f mse_sd %.5f crps %.4f\n", m, cfg[[1]], cfg[[2]],
        mean((rowMeans(D) - tm)^2), mean((apply(D, 1, sd) - tsd)^2), crps))
  }
}
