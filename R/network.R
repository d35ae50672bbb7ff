# The network's description as the C code takes it, its initial weights and
# thin wrappers around the C entry points.
#
# A network is a list:
#   d, p      response and predictor dimensions
#   hidden    hidden widths
#   activation
#   freq      time-embedding frequencies
#   time_map  "linear" (the embedding sees t) or "logit" (it sees the
#             log-odds time; see time_feature())
# and its parameters are one numeric vector theta: for each layer l, the
# weight matrix W_l (out x in, column-major) then the bias b_l.  Layer 1's
# input columns are z (d), the time embedding (2 * length(freq)) and x (p).

net_widths <- function(net) {
  c(net$d + 2L * length(net$freq) + net$p, net$hidden, net$d)
}

net_arch <- function(net) {
  a <- c(net$d, net$p, length(net$freq), act_code(net$activation),
         length(net$hidden), net$hidden)
  # networks saved before the time map existed embed t itself
  if (identical(net$time_map, "logit")) a <- c(a, 1L)
  as.integer(a)
}

# The time the embedding sees (as nn_time_feature() in src/nn.c).
time_feature <- function(t, map) {
  if (!identical(map, "logit")) return(t)
  L <- 14
  u <- (stats::qlogis(t) + L) / (2 * L)
  pmin(pmax(u, 0), 1)
}

# Training times (as bridge_time() in src/bridge.c): a share `tail`
# uniform in log-odds time over [t_min, t_max], the rest uniform in t.
draw_times <- function(m, t_min, t_max, tail) {
  t <- stats::runif(m, t_min, t_max)
  if (tail > 0) {
    lo <- stats::runif(m) < tail
    t[lo] <- stats::plogis(stats::runif(sum(lo), stats::qlogis(t_min), stats::qlogis(t_max)))
    t <- pmin(pmax(t, t_min), t_max)
  }
  t
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
init_theta <- function(net) {
  w <- net_widths(net)
  unlist(lapply(seq_len(length(w) - 1L), function(l) {
    k <- 1 / sqrt(w[l])
    stats::runif(w[l + 1L] * w[l] + w[l + 1L], -k, k)
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

# D(z, t, x) on the standardised scale; z is n x d, x is n x p.
nn_forward <- function(net, theta, z, t, x) {
  use_kernels()
  .Call(C_sbcg_forward, net_arch(net), as.double(net$freq), as.double(theta),
        z, as.double(t), x)
}

# Training loss and gradient at given bridge noise, for checking.
nn_loss_grad <- function(net, theta, x, y, t, eps, w = rep(1, nrow(y)),
                         residual = FALSE) {
  use_kernels()
  .Call(C_sbcg_loss_grad, net_arch(net), as.double(net$freq),
        as.double(theta), x, y, as.double(t), eps, as.double(w),
        as.integer(residual))
}
