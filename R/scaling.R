# Standardisation and preconditioning: the centring and scaling of
# predictors and responses, the location and scale networks fitted before
# the bridge, and the per-row centre and scale that map the bridge's draws
# back to the response's scale.

standardize_cols <- function(M, on) {
  if (!on) return(list(center = rep(0, ncol(M)), scale = rep(1, ncol(M))))
  center <- colMeans(M)
  scale <- sqrt(colSums(sweep(M, 2L, center)^2) / max(1, nrow(M) - 1L))
  scale[!is.finite(scale) | scale <= 1e-12 * pmax(1, abs(center))] <- 1
  list(center = center, scale = scale)
}

apply_scaling <- function(M, s) {
  M <- sweep(M, 2L, s$center)
  M <- sweep(M, 2L, s$scale, "/")
  M
}

# The location network m(x) = E(Y | x) and, for "location-scale", the scale
# network s(x) = E(|Y - m(x)| | x), fitted by least squares on the
# standardised training rows of `prep` (see fit_prepare()).  Returns the
# fit's `precondition` element (NULL for "none") and the bridge's target,
# the standardised residuals (Y - m(x)) / s(x), in `target`.
fit_precondition <- function(prep, control, budget, threads, verbose) {
  if (control$precondition == "none") return(list(pre = NULL, target = prep$Ys))
  Xs <- prep$Xs
  regress <- function(theta0, target, rseed, what)
    train_net(prep$lnet, theta0, target, prep, rseed, threads, verbose, what,
              regression_settings(control, budget))
  lres <- regress(prep$ltheta0, prep$Ys, prep$lseed, "location")
  R <- prep$Ys - regression_net(prep$lnet, lres$theta, Xs)
  pre <- list(net = prep$lnet, location = lres$theta, scale = NULL,
              epochs = lres$epochs, best_epoch = lres$best_epoch,
              steps_run = lres$steps, seconds = lres$seconds)
  if (control$precondition == "location-scale") {
    A <- abs(R)
    sres <- regress(prep$stheta0, A, prep$sseed, "scale")
    pre$scale <- sres$theta
    # a floor keeps the scale positive where the regression dips
    tidx <- prep$tidx
    pre$floor <- 0.01 * colSums(A[tidx, , drop = FALSE] * prep$wt) / sum(prep$wt)
    R <- R / scale_net(pre, Xs)
    pre$epochs <- c(pre$epochs, sres$epochs)
    pre$best_epoch <- c(pre$best_epoch, sres$best_epoch)
    pre$steps_run <- pre$steps_run + sres$steps
    pre$seconds <- pre$seconds + sres$seconds
  }
  sr <- standardize_cols(R, TRUE)
  pre$center <- sr$center
  pre$scale_factor <- sr$scale
  list(pre = pre, target = apply_scaling(R, sr))
}

# The scale s(x) of a preconditioned fit at standardised rows X (n x d; 1
# without a scale network).
scale_net <- function(pre, X) {
  if (is.null(pre$scale)) return(matrix(1, nrow(X), pre$net$d))
  S <- regression_net(pre$net, pre$scale, X)
  sweep(S, 2L, pre$floor, pmax)
}

# The centre and scale that map the bridge's standardised draws Z to the
# response's scale at standardised rows X: y_center + y_scale * Z without
# preconditioning (one value per component), and with it
# y_center + y_scale (m(x) + s(x) (center + scale_factor Z)), a centre and
# a scale per row (nrow(X) x d, as vectors).
draw_scale <- function(object, X) {
  s <- object$scaling
  yc <- as.double(s$y_center)
  ys <- as.double(s$y_scale)
  pre <- object$precondition
  if (is.null(pre)) return(list(center = yc, scale = ys))
  m <- regression_net(pre$net, pre$location, X)
  S <- scale_net(pre, X)
  list(center = as.double(sweep(m + sweep(S, 2L, pre$center, "*"), 2L, ys, "*") +
                            rep(yc, each = nrow(X))),
       scale = as.double(sweep(S, 2L, ys * pre$scale_factor, "*")))
}
