# The network: its description as the C code takes it (net_arch()), its
# initial weights, the kernel set, and thin wrappers around the C forward
# pass and loss gradient.
#
# A network is a list:
#   kind      "bridge" (absent in fits saved before regression networks
#             existed) or "regression"
#   d, p      response and predictor dimensions
#   hidden    hidden widths
#   activation
#   freq      time-embedding frequencies (none for a regression network)
#   time_map  "linear" (the embedding sees t) or "logit" (it sees the
#             log-odds time; nn_time_feature() in src/nn.c)
# and its parameters are one numeric vector theta: for each layer l, the
# weight matrix W_l (out x in, column-major) then the bias b_l.  Layer 1's
# input columns are z (d), the time embedding (2 * length(freq)) and x (p)
# for a bridge network, x alone for a regression network.

is_regression <- function(net) identical(net$kind, "regression")

net_widths <- function(net) {
  nz <- if (is_regression(net)) 0L else net$d
  c(nz + 2L * length(net$freq) + net$p, net$hidden, net$d)
}

net_arch <- function(net) {
  a <- c(net$d, net$p, length(net$freq), act_code(net$activation),
         length(net$hidden), net$hidden)
  # networks saved before the time map (or the kind) existed embed t itself
  # (and are bridge networks)
  logit <- identical(net$time_map, "logit")
  if (logit || is_regression(net)) a <- c(a, if (logit) 1L else 0L)
  if (is_regression(net)) a <- c(a, 1L)
  as.integer(a)
}

# The limits of the network, defined once in src/sbcg.h.
net_limits <- function() .Call(C_sbcg_limits)

# The C kernel set from getOption("sbcg.kernels"): "auto" (the best the CPU
# has: AVX-512, AVX2 + FMA or portable), "avx2" or "portable"; the code
# passed to the C entry points (KERN_* in src/sbcg.h).
kernel_set <- function(kernels = getOption("sbcg.kernels", "auto")) {
  if (!is.character(kernels) || length(kernels) != 1L ||
      !(kernels %in% c("auto", "avx2", "portable")))
    stopf("option 'sbcg.kernels' must be \"auto\", \"avx2\" or \"portable\"")
  best <- match(.Call(C_sbcg_kernels), c("portable", "avx2", "avx512")) - 1L
  switch(kernels, auto = best, portable = 0L,
         avx2 = if (best >= 1L) 1L else
           stopf("option 'sbcg.kernels' is \"avx2\", but this CPU has no AVX2 and FMA"))
}

# The precision of the network's evaluations from
# getOption("sbcg.precision"): "single" (the default: training's forward and
# backward passes and the sampler's network in float; the weights, Adam,
# the validation loss, the chains' states, steps and noise in double) or
# "double"; the integer the C code takes.
net_precision <- function(precision = getOption("sbcg.precision", "single")) {
  if (!is.character(precision) || length(precision) != 1L ||
      !(precision %in% c("single", "double")))
    stopf("option 'sbcg.precision' must be \"single\" or \"double\"")
  if (precision == "single") 1L else 0L
}

net_npar <- function(net) {
  w <- as.double(net_widths(net))
  sum(w[-1L] * w[-length(w)] + w[-1L])
}

make_freq <- function(n_freq, range) {
  if (n_freq == 0L) return(double())
  if (n_freq == 1L) return(range[1L])
  exp(seq(log(range[1L]), log(range[2L]), length.out = n_freq))
}

# Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and biases, from R's RNG.
# With zero_out, the output layer starts at zero (the draws from R's RNG
# are the same): the network's output is then 0 at the start of training.
init_theta <- function(net, zero_out = FALSE) {
  w <- net_widths(net)
  L <- length(w) - 1L
  unlist(lapply(seq_len(L), function(l) {
    k <- 1 / sqrt(w[l])
    th <- stats::runif(w[l + 1L] * w[l] + w[l + 1L], -k, k)
    if (zero_out && l == L) th[] <- 0
    th
  }), use.names = FALSE)
}

# The layers of theta as a list of weight matrices and bias vectors.
net_layers <- function(net, theta, input_names = NULL) {
  w <- net_widths(net)
  off <- 0
  out <- vector("list", length(w) - 1L)
  for (l in seq_len(length(w) - 1L)) {
    nw <- w[l + 1L] * w[l]
    W <- matrix(theta[off + seq_len(nw)], w[l + 1L], w[l])
    off <- off + nw
    b <- theta[off + seq_len(w[l + 1L])]
    off <- off + w[l + 1L]
    if (l == 1L && !is.null(input_names)) colnames(W) <- input_names
    out[[l]] <- list(weight = W, bias = b)
  }
  names(out) <- paste0("layer", seq_along(out))
  out
}

# The network's output on the standardised scale: F(z, t, x) of a bridge
# network (z is n x d, t has length n), m(x) of a regression network (z is
# n x 0 and t is ignored); x is n x p.
nn_forward <- function(net, theta, z, t, x) {
  .Call(C_sbcg_forward, net_arch(net), as.double(net$freq), as.double(theta),
        z, as.double(t), x, kernel_set())
}

# A regression network's prediction at standardised rows X (n x p), on the
# standardised response scale (n x d); for weights of several networks
# (npar x K, cross-fitted), the mean of their predictions.  Networks saved
# before regression networks existed are bridge networks evaluated at
# z = 0, t = 0.
regression_net <- function(net, theta, X) {
  n <- nrow(X)
  if (is.matrix(theta) && ncol(theta) > 1L) {
    P <- regression_net(net, theta[, 1L], X)
    for (k in seq_len(ncol(theta))[-1L]) P <- P + regression_net(net, theta[, k], X)
    return(P / ncol(theta))
  }
  if (is_regression(net)) return(nn_forward(net, theta, matrix(0, n, 0L), double(), X))
  nn_forward(net, theta, matrix(0, n, net$d), double(n), X)
}

# Training loss and gradient at given bridge noise, for checking.
nn_loss_grad <- function(net, theta, x, y, t, eps, w = rep(1, nrow(y)),
                         residual = FALSE) {
  .Call(C_sbcg_loss_grad, net_arch(net), as.double(net$freq),
        as.double(theta), x, y, as.double(t), eps, as.double(w),
        as.integer(residual), kernel_set())
}

