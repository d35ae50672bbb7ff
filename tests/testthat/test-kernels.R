# The kernel sets (AVX2 + FMA where the CPU has them, with AVX-512 for the
# single-precision dense layers where it has that too, portable C
# otherwise) compute the same network up to rounding, the AVX-512 and AVX2
# sets to the bit, and the normal generator behind the sampler has the
# right distribution.

test_that("the kernel option is checked and reported", {
  auto <- sbcg:::kernel_set()
  best <- .Call(sbcg:::C_sbcg_kernels)
  expect_true(best %in% c("portable", "avx2", "avx512"))
  expect_identical(auto, match(best, c("portable", "avx2", "avx512")) - 1L)
  expect_identical(with_kernels("portable", sbcg:::kernel_set()), 0L)
  if (auto >= 1L) {
    expect_identical(with_kernels("avx2", sbcg:::kernel_set()), 1L)
  } else {
    expect_error(with_kernels("avx2", sbcg:::kernel_set()), "no AVX2")
  }
  expect_error(with_kernels("fast", sbcg:::kernel_set()), "sbcg.kernels")
  expect_error(with_kernels("avx512", sbcg:::kernel_set()), "sbcg.kernels")
  expect_error(with_kernels(1, sbcg:::kernel_set()), "sbcg.kernels")
  # the C code refuses a set the CPU lacks
  net <- list(d = 1L, p = 1L, hidden = 2L, activation = "silu", freq = 1)
  call <- function(kern) .Call(sbcg:::C_sbcg_forward, sbcg:::net_arch(net), net$freq,
                               rep(0, sbcg:::net_npar(net)), matrix(0, 1, 1), 0.5,
                               matrix(0, 1, 1), kern)
  for (k in 1:2) {
    if (auto < k) expect_error(call(k), "'kern'") else expect_equal(call(k), call(0L))
  }
  expect_error(call(3L), "'kern'")
})

# the comparisons of the two sets need a CPU that has both
skip_one_set <- function() {
  skip_if(sbcg:::kernel_set() == 0L, "this CPU runs the portable kernels only")
}

test_that("both kernel sets give the forward pass and gradient of the network", {
  skip_one_set()
  set.seed(3)
  for (act in c("silu", "relu", "tanh")) {
    # widths that are not multiples of the kernels' tiles, 300 rows in
    # chunks of 128, 128 and 44
    net <- list(d = 2L, p = 3L, hidden = c(9L, 6L, 3L), activation = act,
                freq = c(0.5, 2, 9))
    theta <- sbcg:::init_theta(net)
    n <- 300
    z <- matrix(rnorm(2 * n), n)
    t <- runif(n)
    x <- matrix(rnorm(3 * n), n)
    y <- matrix(rnorm(2 * n), n)
    eps <- matrix(rnorm(2 * n), n)
    fa <- with_kernels("auto", sbcg:::nn_forward(net, theta, z, t, x))
    fp <- with_kernels("portable", sbcg:::nn_forward(net, theta, z, t, x))
    expect_equal(fa, fp, tolerance = 1e-13)
    ga <- with_kernels("auto", sbcg:::nn_loss_grad(net, theta, x, y, t, eps,
                                                   residual = TRUE))
    gp <- with_kernels("portable", sbcg:::nn_loss_grad(net, theta, x, y, t, eps,
                                                       residual = TRUE))
    expect_equal(ga$loss, gp$loss, tolerance = 1e-13)
    expect_equal(ga$grad, gp$grad, tolerance = 1e-12)
  }
})

test_that("SiLU is right at extreme pre-activations", {
  net <- list(d = 1L, p = 1L, hidden = 2L, activation = "silu", freq = numeric(0))
  # layer 1 weights: unit 1 gets z, unit 2 gets -z; output = h1 + h2
  theta <- c(1, -1, 0, 0, 0, 0, 1, 1, 0)
  expect_length(theta, sbcg:::net_npar(net))
  z <- matrix(c(-1e6, -800, -40, -1, 0, 1e-300, 2.5, 40, 800, 1e6, 1e300),
              ncol = 1)
  n <- nrow(z)
  silu <- function(a) a / (1 + exp(-a))
  for (k in c("auto", "portable")) {
    out <- with_kernels(k, sbcg:::nn_forward(net, theta, z, rep(0.5, n),
                                               matrix(0, n, 1)))
    expect_equal(out, silu(z) + silu(-z), tolerance = 1e-14)
  }
})

test_that("both kernel sets give the same draws up to rounding", {
  skip_one_set()
  set.seed(4)
  n <- 300
  x <- runif(n, -2, 2)
  d <- data.frame(x = x, y = x + rnorm(n))
  fit <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(12, 5), epochs = 5),
               seed = 1)
  nd <- data.frame(x = c(-1, 0.3, 2))
  # 3 x 37 chains: the last block of 256 is partly padding
  draw <- function(kernels, precision) with_precision(precision, with_kernels(kernels,
    sbsample(fit, nd, ndraws = 37, format = "matrix", seed = 2)))
  expect_equal(draw("auto", "double"), draw("portable", "double"), tolerance = 1e-10)
  # in float, fused and separate multiply-adds round differently: about 1e-7
  expect_equal(draw("auto", "single"), draw("portable", "single"), tolerance = 1e-5)
})

test_that("the precision option is checked, and single-precision sampling changes draws by rounding only", {
  expect_identical(sbcg:::net_precision(), 1L)
  expect_identical(with_precision("double", sbcg:::net_precision()), 0L)
  expect_error(with_precision("half", sbcg:::net_precision()), "sbcg.precision")
  expect_error(with_precision(TRUE, sbcg:::net_precision()), "sbcg.precision")
  set.seed(14)
  n <- 400
  x <- runif(n, -2, 2)
  d <- data.frame(x = x, y1 = sin(2 * x) + rnorm(n, sd = 0.3), y2 = x + rnorm(n))
  # no preconditioning: the bridge itself must learn, so its drift is not
  # the zero of the starting weights (a short fit, whose held-out warning
  # is not the point here)
  fit <- suppressWarnings(sbfit(cbind(y1, y2) ~ x, d, seed = 3, control = sbcg_control(
    hidden = c(16, 16), epochs = 20, precondition = "none")))
  expect_gt(fit$best_epoch, 0)
  nd <- data.frame(x = c(-1.5, 0, 0.7))
  for (k in c("auto", "portable")) {
    s <- with_kernels(k, with_precision("single", sbsample(fit, nd, ndraws = 300, seed = 5)))
    dd <- with_kernels(k, with_precision("double", sbsample(fit, nd, ndraws = 300, seed = 5)))
    # the same chains and noise: draws differ by the drift's float rounding,
    # relative 1e-7 per evaluation over the sampler's steps, far inside 1e-4
    expect_equal(s, dd, tolerance = 1e-4, info = k)
    expect_false(identical(s, dd))
  }
})

test_that("single-precision training gives the double-precision weights up to rounding", {
  set.seed(15)
  n <- 300
  x <- runif(n, -2, 2)
  d <- data.frame(x = x, y = sin(2 * x) + rnorm(n, sd = 0.3))
  ctl <- sbcg_control(hidden = c(16, 16), epochs = 30, precondition = "none")
  for (k in c("auto", "portable")) {
    fd <- with_kernels(k, with_precision("double", suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 2))))
    fs <- with_kernels(k, with_precision("single", suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 2))))
    expect_gt(fd$best_epoch, 0)
    # the same minibatches, times and noise; the forward and backward passes
    # in float round the gradient by about 1e-7 relative, and Adam's
    # normalised steps do not amplify it over these 60 steps (the weights
    # differ by about 2e-8 relative on this machine): 1e-5 leaves a wide
    # margin, and so for the losses
    expect_equal(fs$theta, fd$theta, tolerance = 1e-5, info = k)
    expect_false(identical(fs$theta, fd$theta))
    expect_equal(fs$history$train, fd$history$train, tolerance = 1e-5, info = k)
    expect_identical(fs$best_epoch, fd$best_epoch)
  }
  # the C entry point checks the setting
  st <- sbcg:::train_settings(ctl, list(epochs = 1, min_epochs = 0, valid_every = 1,
                                        val_reps = 1), resid = 1)
  expect_identical(st[["single"]], 1)
  st[["single"]] <- 2
  net <- list(d = 1L, p = 1L, hidden = 4L, activation = "silu", freq = 1)
  expect_error(.Call(sbcg:::C_sbcg_train, sbcg:::net_arch(net), net$freq,
                     sbcg:::init_theta(net), matrix(0, 5, 1), matrix(0, 5, 1), rep(1, 5),
                     matrix(0, 0, 1), matrix(0, 0, 1), double(), st, 1:2, 1L, FALSE,
                     sbcg:::kernel_set(), NULL, NULL), "'single' must be in \\[0, 1\\]")
})

test_that("a fit records the precision it was trained in, and print() shows it", {
  set.seed(16)
  d <- data.frame(x = runif(100), y = rnorm(100))
  ctl <- sbcg_control(hidden = c(4, 4), epochs = 2)
  fs <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 1))
  fd <- with_precision("double", suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 1)))
  expect_identical(fs$precision, "single")
  expect_identical(fd$precision, "double")
  expect_output(print(fs), "1 thread, single precision")
  expect_output(print(fd), "1 thread, double precision")
  # fits saved before the field existed print without it
  fs$precision <- NULL
  expect_output(print(fs), "on 1 thread\n")
})

test_that("the single-precision SiLU is right over the whole float range", {
  # one step Z = F(0, t, x) of a network whose output is
  # silu(x) + silu(-x) (unit 1 gets x, unit 2 gets -x)
  net <- list(d = 1L, p = 1L, hidden = 2L, activation = "silu", freq = numeric(0))
  theta <- c(0, 0, 1, -1, 0, 0, 1, 1, 0)
  expect_length(theta, sbcg:::net_npar(net))
  x <- c(-1e30, -1e6, -800, -87.5, -86, -40, -1, -1e-30, 0, 1e-30, 0.3, 2.5, 40, 86,
         87.5, 800, 1e6, 1e30)
  silu <- function(a) a / (1 + exp(-a))
  ref <- silu(x) + silu(-x)
  for (k in c("auto", "portable")) {
    out <- with_kernels(k, .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net), net$freq,
                                 theta, matrix(x), seq_along(x) - 1, 1L, 0.5, 0, 1, 0, 1:2,
                                 256L, 1L, 0, 1, sbcg:::kernel_set(), 1L, 0L, double())$draws)
    # float rounding: relative 1e-6 for large values, absolute 1e-6 near 0
    expect_lt(max(abs(out - ref) / pmax(abs(ref), 1)), 1e-6, label = k)
  }
})

test_that("the sampler's normal deviates are standard normal, tail included", {
  # one step with u = 1, a = 0, s = 1 returns the first normal deviate of
  # each chain's stream
  net <- list(d = 1L, p = 1L, hidden = 2L, activation = "silu", freq = 1)
  theta <- rep(0, sbcg:::net_npar(net))
  N <- 2e5
  draw <- function(kernels) with_kernels(kernels, {
    .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net), net$freq, theta,
          matrix(0, 1, 1), 0, as.integer(N), 0, 1, 0, 1, c(11L, 7L), 256L, 1L, 0, 1,
          sbcg:::kernel_set(), sbcg:::net_precision(), 0L, double())$draws
  })
  e <- draw("auto")
  expect_identical(draw("portable"), e)
  expect_gt(suppressWarnings(stats::ks.test(e, "pnorm")$p.value), 1e-4)
  # moments: the SE of the mean is 1/sqrt(N), of the variance sqrt(2/N)
  expect_lt(abs(mean(e)), 5 / sqrt(N))
  expect_lt(abs(var(e) - 1), 5 * sqrt(2 / N))
  # the ziggurat's tail beyond R = 3.654 has its own code path: its share
  # is binomial with p = 2 pnorm(-R)
  R <- 3.6541528853610088
  ptail <- 2 * stats::pnorm(-R)
  expect_lt(abs(mean(abs(e) > R) - ptail), 5 * sqrt(ptail / N))
  # within the tail, the excess over R is close to exponential with rate R
  tail <- abs(e[abs(e) > R]) - R
  expect_gt(length(tail), 20)
  expect_gt(stats::ks.test(tail, function(q) {
    (stats::pnorm(R + q) - stats::pnorm(R)) / stats::pnorm(-R)
  })$p.value, 1e-4)
  # different chains have different streams
  expect_gt(length(unique(e)), 0.999 * N)
})

test_that("stratified noise covers each stratum once per group, with normal steps", {
  # with no drift (a = 0, u = 1) a chain ends at its noise sum L itself:
  # each group of m draws has one draw in each of the m equal-probability
  # strata of L ~ N(0, sum s^2), in a random order; the last group of a row
  # may be shorter
  net <- list(d = 1L, p = 1L, hidden = 2L, activation = "silu", freq = 1)
  theta <- rep(0, sbcg:::net_npar(net))
  K <- 7L
  s <- sqrt(seq_len(K) / 10)
  nd <- 103L
  m <- 10L
  run <- function(strata, tg = seq(0, 0.9, length.out = K), u = rep(1, K), sc = s) {
    .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net), net$freq, theta,
          matrix(0, 3, 1), c(0, 5, 9), nd, tg, u, rep(0, K), sc, c(4L, 2L), 64L, 2L, 0, 1,
          sbcg:::kernel_set(), sbcg:::net_precision(), strata, double())$draws
  }
  e <- matrix(run(m), nd)             # draws x rows
  sdL <- sqrt(sum(s^2))
  for (r in 1:3) for (g in 0:10) {
    j <- seq(g * m + 1, min(nd, (g + 1) * m))
    k <- floor(stats::pnorm(e[j, r] / sdL) * length(j))
    expect_equal(sort(k), seq_along(j) - 1, label = sprintf("row %d group %d", r, g))
  }
  # the strata are not in draw order
  ord <- apply(matrix(e[1:100, ], 10), 2, function(v) is.unsorted(v))
  expect_gt(mean(ord), 0.9)
  # reproducible, independent of the number of threads and the block size
  expect_identical(run(m), e[seq_len(3 * nd)])
  # a noise-free step does not take part; with u < 1 the sum is weighted
  # (w_k = s_k prod_{j > k} u_j)
  u <- c(1, 0.5, 1, 0.8, 1, 1, 0.9)
  sc <- s
  sc[3] <- 0
  w <- sc * rev(cumprod(rev(c(u[-1], 1))))
  e2 <- matrix(run(m, u = u, sc = sc), nd)
  k2 <- floor(stats::pnorm(e2[1:m, 1] / sqrt(sum(w^2))) * m)
  expect_equal(sort(k2), 0:(m - 1))
  # through a non-linear drift, where each step's noise acts on its own,
  # stratified and independent chains end with the same law: two-sample
  # Kolmogorov-Smirnov on 20000 draws each
  set.seed(3)
  net2 <- list(d = 1L, p = 1L, hidden = c(8L, 8L), activation = "silu", freq = 1)
  theta2 <- sbcg:::init_theta(net2) * 3
  N <- 20000L
  chains <- function(strata, seed) {
    .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net2), net2$freq, theta2, matrix(0.3, 1, 1),
          0, N, seq(0, 0.9, length.out = K), rep(1, K), rep(0.4, K), s, c(seed, 1L), 256L,
          1L, 0, 1, sbcg:::kernel_set(), sbcg:::net_precision(), strata, double())$draws
  }
  a <- chains(25L, 1L)
  b <- chains(0L, 2L)
  expect_gt(sd(b), 0.5)
  expect_gt(suppressWarnings(stats::ks.test(a, b)$p.value), 1e-4)
})

test_that("chains that overflow are counted as non-finite by both kernel sets", {
  set.seed(5)
  net <- list(d = 1L, p = 1L, hidden = c(4L, 3L), activation = "silu", freq = 1)
  theta <- sbcg:::init_theta(net)
  K <- 100L
  for (k in c("auto", "portable")) for (single in 0:1) {
    res <- with_kernels(k, {
      .Call(sbcg:::C_sbcg_sample, sbcg:::net_arch(net), net$freq, theta,
            matrix(0, 2, 1), c(0, 1), 10L, seq(0, 0.99, length.out = K),
            rep(1e10, K), rep(1, K), rep(1, K), c(1L, 2L), 8L, 2L, 0, 1,
            sbcg:::kernel_set(), single, 0L, double())
    })
    expect_identical(res$nonfinite, 20L)
    expect_false(any(is.finite(res$draws)))
  }
})

test_that("the vectorised time embedding of training agrees with libm", {
  skip_one_set()
  # frequencies up to 9e4 exercise the reduction by multiples of pi/2 far
  # from zero; a wrong quadrant would change the loss by O(1)
  set.seed(6)
  net <- list(d = 1L, p = 1L, hidden = 4L, activation = "silu",
              freq = c(1, 7.3, 100, 1e4, 9e4))
  theta <- sbcg:::init_theta(net)
  n <- 2000
  x <- matrix(rnorm(n)); y <- matrix(rnorm(n)); eps <- matrix(rnorm(n))
  t <- c(runif(n - 3), 0, 0.5, 0.999)
  ga <- with_kernels("auto", sbcg:::nn_loss_grad(net, theta, x, y, t, eps, residual = FALSE))
  gp <- with_kernels("portable", sbcg:::nn_loss_grad(net, theta, x, y, t, eps, residual = FALSE))
  expect_equal(ga$loss, gp$loss, tolerance = 1e-13)
  expect_equal(ga$grad, gp$grad, tolerance = 1e-12)
})

test_that("the AVX-512 kernels give the fits and draws of the AVX2 ones, to the bit", {
  skip_if(sbcg:::kernel_set() < 2L, "this CPU has no AVX-512")
  nosec <- function(f) {
    f$seconds <- 0
    f$precondition$seconds <- 0
    for (k in seq_along(f$members)) f$members[[k]]$seconds <- 0
    f
  }
  set.seed(17)
  for (act in c("silu", "relu", "tanh")) for (n in c(45, 400)) {
    # widths that leave units beyond the tiles of 4; 400 rows train on 360
    # in chunks of 128 rows (32-row tiles) and a last minibatch of 104 (96
    # and a masked block of 8), and validate on 40 (32 and a masked 8); 45
    # rows train on 41 (32 and a block of 16) and validate on 4 (the AVX2
    # kernels); two responses, so the output layer has 2 units
    x <- runif(n, -2, 2)
    d <- data.frame(x = x, z = rnorm(n), y1 = sin(2 * x) + rnorm(n, sd = 0.3),
                    y2 = x + rnorm(n))
    ctl <- sbcg_control(hidden = c(37, 21, 6), activation = act, epochs = 4)
    form <- cbind(y1, y2) ~ x + z  # one environment for both fits' terms
    fit <- function(k) with_kernels(k, nosec(suppressWarnings(
      sbfit(form, d, control = ctl, seed = 3))))
    fa <- fit("auto")
    expect_identical(fa, fit("avx2"), label = sprintf("%s, n = %d", act, n))
    # 3 rows x 39 draws: one block of 117 chains, padded to 120 rows (96,
    # 16 and a masked 8)
    nd <- data.frame(x = c(-1, 0.3, 2), z = 0)
    draw <- function(k) with_kernels(k, sbsample(fa, nd, ndraws = 39, format = "matrix",
                                                 seed = 2))
    expect_identical(draw("auto"), draw("avx2"), label = sprintf("%s, n = %d", act, n))
  }
})
