# Threads in training: the independent networks of a stage train side by
# side (C_sbcg_train_group), one network trains with a team of threads that
# switches between one thread and all; the bits never depend on either.

# A regression or bridge network and its training inputs for .Call.
train_case <- function(kind = "bridge", n = 300, nv = 60, seed = 1) {
  set.seed(seed)
  net <- if (kind == "bridge")
    list(d = 1L, p = 2L, hidden = c(16L, 8L), activation = "silu", freq = c(1, 4, 16),
         time_map = "linear") else
    list(kind = "regression", d = 1L, p = 2L, hidden = c(16L, 8L), activation = "silu",
         freq = double(), time_map = "linear")
  x <- matrix(rnorm(n * 2), n, 2)
  y <- matrix(x[, 1]^2 + rnorm(n, sd = 0.3))
  xv <- matrix(rnorm(nv * 2), nv, 2)
  yv <- matrix(xv[, 1]^2 + rnorm(nv, sd = 0.3))
  list(net = net, theta = sbcg:::init_theta(net), x = x, y = y, w = rep(1, n),
       xv = xv, yv = yv, wv = rep(1, nv), seed = c(as.integer(seed), 7L))
}

train_one <- function(cs, settings, threads) {
  .Call(sbcg:::C_sbcg_train, sbcg:::net_arch(cs$net), as.double(cs$net$freq), cs$theta,
        cs$x, cs$y, cs$w, cs$xv, cs$yv, cs$wv, settings, cs$seed, as.integer(threads),
        FALSE, sbcg:::kernel_set(), cs$rows, cs$rowsv)
}

train_group <- function(cases, settings, threads, verbose = FALSE) {
  get <- function(nm) lapply(cases, `[[`, nm)
  .Call(sbcg:::C_sbcg_train_group, sbcg:::net_arch(cases[[1]]$net),
        as.double(cases[[1]]$net$freq), get("theta"), get("x"), get("y"), get("w"),
        get("xv"), get("yv"), get("wv"), settings, get("seed"), as.integer(threads),
        verbose, sbcg:::kernel_set(), get("rows"), get("rowsv"))
}

strip_seconds <- function(r) {
  r$seconds <- NULL
  r
}

# The case with its training and validation rows scattered, in a shuffled
# order, among other rows of one matrix that both read by row number.
by_rows <- function(cs, extra = 37) {
  n <- nrow(cs$x); nv <- nrow(cs$xv)
  X <- rbind(cs$x, cs$xv, matrix(rnorm(extra * 2), extra, 2))
  Y <- rbind(cs$y, cs$yv, matrix(rnorm(extra), extra, 1))
  perm <- sample(nrow(X))
  at <- order(perm)  # row i of the stack is row at[i] of X[perm, ]
  X <- X[perm, , drop = FALSE]; Y <- Y[perm, , drop = FALSE]
  modifyList(cs, list(x = X, y = Y, xv = X, yv = Y, rows = at[seq_len(n)],
                      rowsv = at[n + seq_len(nv)]))
}

test_that("networks read their rows by number as from copies of them", {
  settings <- sbcg:::train_settings(
    sbcg_control(batch_size = 64, patience = 2, lr = 3e-3),
    list(epochs = 12, min_epochs = 0, valid_every = 1, val_reps = 2), resid = 1)
  cases <- list(train_case(seed = 4), train_case("regression", n = 200, seed = 5))
  cases[[2]]$net <- cases[[1]]$net
  cases[[2]]$theta <- cases[[1]]$theta
  set.seed(9)
  indexed <- lapply(cases, by_rows)
  for (j in 1:2)
    expect_identical(strip_seconds(train_one(indexed[[j]], settings, 1L)),
                     strip_seconds(train_one(cases[[j]], settings, 1L)))
  expect_identical(lapply(train_group(indexed, settings, 2L), strip_seconds),
                   lapply(lapply(cases, train_one, settings = settings, threads = 1L),
                          strip_seconds))
  bad <- indexed[[1]]
  bad$rows[3] <- nrow(bad$x) + 1L
  expect_error(train_one(bad, settings, 1L), "'rows' must hold row numbers from 1 to")
  bad$rows <- as.double(indexed[[1]]$rows)
  expect_error(train_one(bad, settings, 1L), "'rows' must be NULL or an integer vector")
  bad <- indexed[[1]]
  bad$rowsv[1] <- NA
  expect_error(train_one(bad, settings, 1L), "'rowsv' must hold row numbers")
})

test_that("networks trained side by side equal networks trained one by one", {
  # different data, seeds and sizes, and early stopping (patience 2) that
  # ends the networks at different epochs
  settings <- sbcg:::train_settings(
    sbcg_control(batch_size = 64, patience = 2, lr = 3e-3),
    list(epochs = 30, min_epochs = 0, valid_every = 1, val_reps = 3), resid = 1)
  cases <- list(train_case(seed = 1), train_case(n = 200, seed = 2),
                train_case(n = 350, nv = 20, seed = 3))
  one <- lapply(cases, train_one, settings = settings, threads = 1L)
  for (th in c(1L, 2L, 3L)) {
    grp <- train_group(cases, settings, th)
    expect_length(grp, 3L)
    expect_identical(lapply(grp, strip_seconds), lapply(one, strip_seconds))
  }
  # regression networks, as the location and scale stages train them
  rcases <- lapply(1:2, function(s) train_case("regression", seed = s))
  rset <- sbcg:::train_settings(sbcg_control(batch_size = 50), list(
    epochs = 8, min_epochs = 0, valid_every = 2, val_reps = 1), resid = 0, t_min = 0,
    t_max = 0, t_tail = 0)
  expect_identical(lapply(train_group(rcases, rset, 2L), strip_seconds),
                   lapply(lapply(rcases, train_one, settings = rset, threads = 1L), strip_seconds))
})

test_that("networks side by side take one settings vector each, as one by one", {
  # the bridges of a fit: one early-stopped, one with a fixed budget that
  # keeps its last weights (keep_last)
  base <- sbcg_control(batch_size = 64, patience = 2, lr = 3e-3)
  s1 <- sbcg:::train_settings(base, list(epochs = 30, min_epochs = 0, valid_every = 1,
                                         val_reps = 3), resid = 1)
  s2 <- sbcg:::train_settings(base, list(epochs = 12, min_epochs = 12, valid_every = 12,
                                         val_reps = 3), resid = 1, keep_last = TRUE)
  cases <- list(train_case(seed = 1), train_case(n = 200, seed = 2))
  one <- list(train_one(cases[[1]], s1, 1L), train_one(cases[[2]], s2, 1L))
  expect_identical(lapply(train_group(cases, list(s1, s2), 2L), strip_seconds),
                   lapply(one, strip_seconds))
  expect_length(one[[2]]$train_loss, 12L)
  expect_error(train_group(cases, list(s1), 2L), "'settings' must be a list of length 2")
  expect_error(train_group(cases, list(s1, s2[-1]), 2L), "'settings'")
})

test_that("keep_last: the validation rows are scored but choose nothing", {
  cs <- train_case(n = 200, nv = 40, seed = 4)
  ctl <- sbcg_control(batch_size = 50, lr = 3e-3)
  s <- sbcg:::train_settings(ctl, list(epochs = 10, min_epochs = 0, valid_every = 1,
                                       val_reps = 2), resid = 1, keep_last = TRUE)
  r <- train_one(cs, s, 1L)
  # every check is scored and the last weights are kept, whatever the losses
  expect_true(all(is.finite(r$valid_loss)))
  expect_identical(r$best_epoch, 10L)
  # the same weights as a run without validation rows, which keeps the last
  nov <- cs
  nov$xv <- cs$xv[0, , drop = FALSE]
  nov$yv <- cs$yv[0, , drop = FALSE]
  nov$wv <- double()
  expect_identical(train_one(nov, s, 1L)$theta, r$theta)
  # without keep_last the best check is kept: here the starting weights can
  # compete too, and the kept loss is the lowest
  s0 <- s
  s0[["keep_last"]] <- 0
  r0 <- train_one(cs, s0, 1L)
  expect_identical(r0$train_loss, r$train_loss)
  if (r0$best_epoch > 0) expect_identical(r0$valid_loss[r0$best_epoch], min(r0$valid_loss))
  expect_error(train_one(cs, replace(s, "keep_last", 2), 1L), "'keep_last' must be in \\[0, 1\\]")
})

test_that("stop_epoch: a run ends there with the weights its full run had there", {
  # the learning rate still follows the schedule over all epochs, so the
  # first stop_epoch epochs are those of the full run, bit for bit
  cs <- train_case("regression", n = 200, nv = 40, seed = 5)
  ctl <- sbcg_control(batch_size = 50, lr = 3e-3, ema = 0)
  b <- list(epochs = 12, min_epochs = 0, valid_every = 3, val_reps = 1)
  full <- train_one(cs, sbcg:::train_settings(ctl, b, resid = 0, t_min = 0, t_max = 0,
                                              t_tail = 0, keep_last = TRUE), 1L)
  s <- sbcg:::train_settings(ctl, b, resid = 0, t_min = 0, t_max = 0, t_tail = 0,
                             keep_last = TRUE, stop_epoch = 7)
  for (th in 1:2) {
    r <- if (th == 1L) train_one(cs, s, 1L) else train_group(list(cs, cs), s, 2L)[[2L]]
    expect_identical(r$epochs, 7L)
    expect_identical(r$best_epoch, 7L)
    expect_identical(r$train_loss, full$train_loss[1:7])
    # checked at its epochs of valid_every and at the stop
    expect_identical(which(!is.na(r$valid_loss)), c(3L, 6L, 7L))
    expect_identical(r$valid_loss[c(3L, 6L)], full$valid_loss[c(3L, 6L)])
  }
  # the weights at epoch 7 score the loss a run stopped there scores (the
  # full run checks epochs 3, 6, 9 and 12: stop at 9 and compare)
  r9 <- train_one(cs, replace(s, "stop_epoch", 9), 1L)
  expect_identical(r9$valid_loss[9L], full$valid_loss[9L])
  expect_error(train_one(cs, replace(s, "stop_epoch", -1), 1L),
               "'stop_epoch' must be in \\[0, 1e\\+07\\]")
})

test_that("overfit: a run whose loss climbs away from its best stops before min_epochs", {
  # 40 training rows: min_epochs would hold every run to all 300 epochs
  cs <- train_case("regression", n = 40, nv = 40, seed = 6)
  b <- list(epochs = 300, min_epochs = 300, valid_every = 2, val_reps = 1)
  run <- function(lr, overfit, from) {
    ctl <- sbcg_control(batch_size = 20, lr = lr, ema = 0, patience = 10)
    s <- sbcg:::train_settings(ctl, b, resid = 0, t_min = 0, t_max = 0, t_tail = 0,
                               overfit = overfit, overfit_from = from)
    train_one(cs, s, 1L)
  }
  # at lr 1e-3 the validation loss is lowest early and then climbs: the
  # rule ends the run after 10 checks more than 1% above the best, with
  # the weights of the full run's best check
  r0 <- run(1e-3, 0, 0)
  r1 <- run(1e-3, 0.01, 0)
  expect_identical(r0$epochs, 300L)
  expect_lt(r1$epochs, 300L)
  expect_identical(r1$train_loss, r0$train_loss[seq_len(r1$epochs)])
  expect_identical(r1$best_epoch, r0$best_epoch)
  expect_identical(r1$theta, r0$theta)
  v <- r1$valid_loss
  chk <- which(!is.na(v))
  expect_true(all(v[utils::tail(chk, 10L)] > 1.01 * v[r1$best_epoch]))
  expect_false(all(v[utils::tail(chk, 11L)[1:10]] > 1.01 * v[r1$best_epoch]))
  # at lr 3e-3 the loss rises early and then falls far below its early
  # best: the rule alone would end the run on the rise; from epoch 100 on
  # it lets the run reach the full run's best
  f0 <- run(3e-3, 0, 0)
  expect_lt(min(f0$valid_loss, na.rm = TRUE), 0.5 * min(f0$valid_loss[1:20], na.rm = TRUE))
  expect_lt(run(3e-3, 0.01, 0)$epochs, 100L)
  f1 <- run(3e-3, 0.01, 100)
  expect_identical(f1$best_epoch, f0$best_epoch)
  expect_identical(f1$theta, f0$theta)
  # a group trains it the same way
  s1 <- sbcg:::train_settings(sbcg_control(batch_size = 20, lr = 1e-3, ema = 0, patience = 10),
                              b, resid = 0, t_min = 0, t_max = 0, t_tail = 0, overfit = 0.01)
  expect_identical(strip_seconds(train_group(list(cs, cs), s1, 2L)[[1L]]), strip_seconds(r1))
  expect_error(train_one(cs, replace(s1, "overfit", 2), 1L), "'overfit' must be in \\[0, 1\\]")
})

test_that("a group's seconds add up to the wall time and its results are checked", {
  settings <- sbcg:::train_settings(sbcg_control(batch_size = 64),
    list(epochs = 2, min_epochs = 0, valid_every = 1, val_reps = 1), resid = 1)
  cases <- list(train_case(seed = 1), train_case(seed = 2))
  grp <- train_group(cases, settings, 2L)
  expect_true(all(vapply(grp, `[[`, 0, "seconds") >= 0))
  expect_identical(grp[[1]]$seconds, grp[[2]]$seconds)
  bad <- cases
  get <- function(nm) lapply(bad, `[[`, nm)
  expect_error(.Call(sbcg:::C_sbcg_train_group, sbcg:::net_arch(bad[[1]]$net),
                     as.double(bad[[1]]$net$freq), get("theta"), get("x")[1], get("y"),
                     get("w"), get("xv"), get("yv"), get("wv"), settings, get("seed"), 2L,
                     FALSE, sbcg:::kernel_set(), list(NULL, NULL), list(NULL, NULL)), "'x' must be a list of length 2")
  expect_error(.Call(sbcg:::C_sbcg_train_group, sbcg:::net_arch(bad[[1]]$net),
                     as.double(bad[[1]]$net$freq), list(), get("x"), get("y"),
                     get("w"), get("xv"), get("yv"), get("wv"), settings, get("seed"), 2L,
                     FALSE, sbcg:::kernel_set(), list(NULL, NULL), list(NULL, NULL)), "'theta' must be a list")
})

test_that("one network on a team of threads gives the one-thread bits", {
  # long enough (about two seconds on one thread; under the slow memory
  # checkers far fewer epochs take longer) for the run to pass its first
  # second on one thread and then probe the team of threads, so that it
  # changes its thread count between steps, with validation checks inside
  # the slices
  cs <- train_case(n = 2000, nv = 200)
  cs$net$hidden <- c(64L, 64L)
  cs$theta <- sbcg:::init_theta(cs$net)
  epochs <- if (nzchar(Sys.getenv("SBCG_MEMCHECK"))) 60 else 600
  settings <- sbcg:::train_settings(sbcg_control(batch_size = 256),
    list(epochs = epochs, min_epochs = epochs, valid_every = 3, val_reps = 5), resid = 1)
  r1 <- train_one(cs, settings, 1L)
  expect_identical(strip_seconds(train_one(cs, settings, 2L)), strip_seconds(r1))
  # a short run (one slice) with three threads
  settings[["epochs"]] <- 20
  expect_identical(strip_seconds(train_one(cs, settings, 3L)),
                   strip_seconds(train_one(cs, settings, 1L)))
})

test_that("sbfit() with two threads: the same fit, progress per stage", {
  d <- gauss_data(300, 8)
  ctl <- small_control()
  f1 <- sbfit(y ~ x, d, control = ctl, seed = 1)
  out <- capture.output(f2 <- sbfit(y ~ x, d, control = ctl, verbose = TRUE, seed = 1,
                                    threads = 2))
  expect_identical(f2$theta, f1$theta)
  expect_identical(f2$precondition$location, f1$precondition$location)
  expect_identical(f2$precondition$scale, f1$precondition$scale)
  expect_identical(f2$history, f1$history)
  # one line per stage: 5 location networks, 5 with piecewise-linear
  # encodings, 5 scale networks, 2 bridges; then the bridge on the
  # response itself, a fit of its own
  expect_length(out, 5)
  expect_match(out[5], "^\r?\\[1/1\\] bridge 1/1 ")
  expect_match(out[1], "^\r?\\[1-5/17\\] location networks 1-5/5 \\(side by side\\): epoch [0-9]+/[0-9]+  5/5 networks done")
  expect_match(out[2], "\\[6-10/17, at most [0-9]+:[0-9]{2} left in this fit\\] location \\(piecewise-linear inputs\\) networks 1-5/5")
  expect_match(out[3], "\\[11-15/17, at most [0-9]+:[0-9]{2} left in this fit\\] scale networks 1-5/5")
  expect_match(out[4], "\\[16-17/17, at most [0-9]+:[0-9]{2} left in this fit\\] bridges 1-2/2")
  # a single network trains with the team: the same fit as on one thread
  one <- small_control(precondition = "none", bridge_inputs = "x")
  # (three epochs fit badly: the held-out warnings are not the point)
  suppressWarnings(expect_identical(sbfit(y ~ x, d, control = one, seed = 2, threads = 2)$theta,
                                    sbfit(y ~ x, d, control = one, seed = 2)$theta))
})

test_that("networks that share an epoch stop at the fewest epochs run before, with the same fit", {
  # 40 rows: folds of 8, whose networks share one epoch (shared_epoch());
  # on one thread each network ends where the fewest before it did, side
  # by side on two threads each runs until it stops
  set.seed(2)
  d <- data.frame(x = runif(40, -2, 2))
  d$y <- sin(2 * d$x) + rnorm(40, sd = 0.3)
  ctl <- sbcg_control(hidden = c(16, 16), epochs = 400)
  fit <- function(threads) suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 2,
                                                  support = "real", threads = threads))
  f1 <- fit(1)
  f2 <- fit(2)
  p1 <- f1$precondition
  p2 <- f2$precondition
  expect_true(p1$shared_epoch)
  for (part in c("location", "scale", "linear_folds", "best_epoch"))
    expect_identical(p1[[part]], p2[[part]])
  expect_identical(f1$theta, f2$theta)
  loc1 <- p1$epochs[1:5]
  expect_identical(loc1, cummin(loc1))
  # the cap bound: some network side by side ran further (without OpenMP
  # sbfit() trains on one thread)
  skip_if_not(.Call(sbcg:::C_sbcg_openmp), "built without OpenMP")
  expect_gt(sum(p2$epochs[1:5]), sum(loc1))
})

test_that("wd_input decays the first layer's weights on the predictors only", {
  # a bridge network: inputs z, the time embedding, then x; a target that
  # does not depend on x, and a decay far stronger than any gradient
  cs <- train_case(n = 200, nv = 20, seed = 6)
  cs$y <- matrix(rnorm(200))
  ctl <- sbcg_control(batch_size = 50, lr = 3e-3, ema = 0, lr_schedule = "constant")
  b <- list(epochs = 40, min_epochs = 0, valid_every = 40, val_reps = 1)
  s0 <- sbcg:::train_settings(ctl, b, resid = 1, keep_last = TRUE)
  s1 <- replace(s0, "wd_input", 300)
  h1 <- cs$net$hidden[1]
  W0 <- function(theta) matrix(theta[seq_len(h1 * (1 + 6 + 2))], h1)  # z, 2 x 3 freqs, x
  r0 <- train_one(cs, s0, 1L)
  r1 <- train_one(cs, s1, 1L)
  # 160 steps of lr * 300 = 0.9 each (plus Adam's steps of about lr): the
  # x columns end near 0, the others keep their size
  x_cols <- 8:9
  expect_lt(max(abs(W0(r1$theta)[, x_cols])), 0.01)
  expect_gt(max(abs(W0(r0$theta)[, x_cols])), 0.1)
  expect_equal(sqrt(mean(W0(r1$theta)[, -x_cols]^2)), sqrt(mean(W0(r0$theta)[, -x_cols]^2)),
               tolerance = 0.5)
  # lr * wd_input >= 1 zeroes them after every step (not flips their sign)
  r2 <- train_one(cs, replace(s0, "wd_input", 1000), 1L)
  expect_true(all(W0(r2$theta)[, x_cols] == 0))
  expect_true(all(is.finite(r2$theta)))
  expect_error(train_one(cs, replace(s0, "wd_input", -1), 1L), "'wd_input' must be in")
})
