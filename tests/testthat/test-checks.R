# Every argument check fires with a message that names the argument.

test_that("sbfit rejects bad data", {
  d <- gauss_data(100, 21)
  ctl <- small_control()
  d1 <- d; d1$y[3] <- Inf
  expect_error(sbfit(y ~ x, d1, control = ctl), "'data' has missing or infinite response")
  # a factor with one level on the fit's rows, named
  df1 <- transform(d, f = factor("a"), g = rep(c("u", "v"), 50))
  expect_error(sbfit(y ~ x + f, df1, control = ctl), "predictor 'f' takes one value \\(\"a\"\\)")
  expect_error(sbfit(y ~ x + g, df1, subset = g == "u", control = ctl), "predictor 'g' takes one value")
  expect_error(sbfit(df1[c("x", "f")], df1$y, control = ctl), "'x': predictor 'f' takes one value")
  d2 <- d; d2$x[4] <- -Inf
  expect_error(sbfit(y ~ x, d2, control = ctl), "'data' has missing or infinite predictor")
  # the row by its place in data, after rows dropped for NA, and the column
  d2$x[1:2] <- NA
  expect_error(sbfit(y ~ x, d2, control = ctl), "predictor values \\(row 4, column 'x'\\)")
  d1$x[1] <- NA
  expect_error(sbfit(y ~ x, d1, control = ctl), "response values \\(row 3, column 'y'\\)")
  # rows of weight zero left out before the checks do not shift the count
  w0 <- c(0, 0, 0, rep(1, 97))
  xm <- cbind(x = d$x)
  xm[10] <- Inf
  expect_error(sbfit(xm, d$y, weights = w0, control = ctl), "predictor values \\(row 10, column 'x'\\)")
  expect_error(sbfit(cbind(x = d$x), replace(abs(d$y) + 1, 10, -1), weights = w0,
                     support = "positive", control = ctl), "in row\\(s\\) 10$")
  d3 <- d; d3$x[4] <- NA
  expect_error(sbfit(y ~ x, d3, na.action = na.fail, control = ctl), "'formula' and 'data'")
  # rows left out for missing values are reported, as lm()'s summary does
  f3 <- suppressWarnings(sbfit(y ~ x, d3, control = ctl, seed = 1))
  expect_output(print(f3), "1 row with missing values left out")
  expect_output(print(summary(f3)), "99 rows: .*; 1 row with missing values left out")
  x <- matrix(d$x); x[2] <- NaN
  expect_error(sbfit(x, d$y, control = ctl), "'x' has missing or infinite")
  y <- d$y; y[1] <- NA
  expect_error(sbfit(matrix(d$x), y, control = ctl), "'y' has missing or infinite")
  d4 <- d; d4$z <- I(as.list(d$x))
  expect_error(sbfit(y ~ x + z, d4, control = ctl), "'data'.*'z'")
  d5 <- d; d5$z <- complex(real = d$x)
  expect_error(sbfit(y ~ x + z, d5, control = ctl), "'data': column 'z'")
  d6 <- d; d6$y <- as.character(d6$y)
  expect_error(sbfit(y ~ x, d6, control = ctl), "response in 'formula' must be numeric")
  expect_error(sbfit(y ~ x, d[1, ], control = ctl), "'data' must have at least 2 rows")
  expect_error(sbfit(y ~ x, d[0, ], control = ctl), "'data'")
  expect_error(sbfit(matrix(1:3), 1:4, control = ctl), "'x' and 'y' must have the same number of rows")
  expect_error(sbfit(matrix(1), 1, control = ctl), "'x' must have at least 2 rows")
  expect_error(sbfit(matrix(letters[1:4]), 1:4, control = ctl), "'x' must be a numeric matrix")
  expect_error(sbfit(matrix(1:4), letters[1:4], control = ctl), "'y' must be a numeric")
  expect_error(sbfit(y ~ 0, d, control = ctl), "'formula' must have a predictor or an intercept")
  expect_error(sbfit(~ x, d, control = ctl), "'formula' must have a response")
  expect_error(sbfit(y ~ x, d, control = ctl, foo = 1), "unknown argument")
  d7 <- d; d7$y <- d7$y * 1e200
  expect_error(sbfit(y ~ x, d7, control = ctl), "beyond 1e150")
})

test_that("sbfit rejects bad weights", {
  d <- gauss_data(100, 22)
  ctl <- small_control()
  expect_error(sbfit(y ~ x, d, weights = rep(-1, 100), control = ctl), "'weights' must be non-negative")
  expect_error(sbfit(y ~ x, d, weights = rep(0, 100), control = ctl), "'weights' must not be all zero")
  expect_error(sbfit(matrix(d$x), d$y, weights = rep(1, 3), control = ctl), "'weights' must be a numeric vector")
  expect_error(sbfit(matrix(d$x), d$y, weights = c(Inf, rep(1, 99)), control = ctl), "'weights' must be finite")
})

test_that("sbcg_control checks every setting", {
  expect_error(sbcg_control(hidden = 0), "'hidden'")
  expect_error(sbcg_control(hidden = c(8, 2.5)), "'hidden'")
  expect_error(sbcg_control(hidden = rep(4, 17)), "'hidden'")
  expect_error(sbcg_control(hidden = NA), "'hidden'")
  expect_error(sbcg_control(epochs = 0), "'epochs'")
  expect_error(sbcg_control(epochs = 1.5), "'epochs'")
  expect_error(sbcg_control(batch_size = -3), "'batch_size'")
  expect_error(sbcg_control(batch_size = NA), "'batch_size'")
  expect_error(sbcg_control(lr = 0), "'lr'")
  expect_error(sbcg_control(lr = "a"), "'lr'")
  expect_error(sbcg_control(lr_min = 1), "'lr_min'")
  expect_error(sbcg_control(n_freq = -1), "'n_freq'")
  expect_error(sbcg_control(freq_range = c(5, 1)), "'freq_range'")
  expect_error(sbcg_control(validation = 1), "'validation'")
  expect_error(sbcg_control(patience = 0), "'patience'")
  expect_error(sbcg_control(t_min = 0.5, t_max = 0.4), "'t_min' must be smaller")
  expect_error(sbcg_control(t_max = 1.5), "'t_max'")
  expect_error(sbcg_control(steps = 0), "'steps'")
  expect_error(sbcg_control(draws = 0), "'draws'")
  expect_error(sbcg_control(betas = c(0.9, 1)), "'betas'")
  expect_error(sbcg_control(weight_decay = -1), "'weight_decay'")
  expect_error(sbcg_control(activation = "sigmoid"), "'activation'")
  expect_error(sbcg_control(standardize = NA), "'standardize'")
  expect_error(sbcg_control(grid_power = 0), "'grid_power'")
  d <- gauss_data(50, 23)
  expect_error(sbfit(y ~ x, d, control = list(epoch = 3)), "'control' has unknown setting")
  expect_error(sbfit(y ~ x, d, control = 3), "'control' must be a list")
  expect_error(sbfit(y ~ x, d, control = small_control(), threads = 0), "'threads'")
  expect_error(sbfit(y ~ x, d, control = small_control(), seed = "a"), "'seed'")
  expect_error(sbfit(y ~ x, d, control = small_control(), verbose = NA), "'verbose'")
})

test_that("sampling functions reject bad arguments", {
  fit <- small_fit()
  nd <- data.frame(x = c(0, 1), f = factor(c("a", "b")))
  expect_error(sbsample(fit, nd, ndraws = 0), "'ndraws'")
  expect_error(sbsample(fit, nd, ndraws = 2.5), "'ndraws'")
  expect_error(sbsample(fit, nd, ndraws = NA), "'ndraws'")
  expect_error(sbsample(fit, nd, steps = 0), "'steps'")
  expect_error(sbsample(fit, nd, steps = -1), "'steps'")
  expect_error(sbsample(fit, nd, method = "rk4"), "'method'")
  expect_error(sbsample(fit, nd, grid = c(0.5, 0.2)), "'grid'")
  # too few steps to draw the right spread: a warning naming the argument
  expect_warning(sbsample(fit, nd, ndraws = 5, steps = 10), "'steps': 10 sampler steps")
  expect_warning(sbcondstats(fit, nd, ndraws = 5, steps = 1, method = "em", probs = 0.5,
                             density = FALSE),
                 "'steps': 1 sampler step;")
  # one step of em_denoise would give every draw the same value: an error
  expect_error(sbcondstats(fit, nd, ndraws = 5, steps = 1, probs = 0.5, density = FALSE),
               "'steps': one step of the sampler \"em_denoise\"")
  expect_error(sbsample(fit, nd, ndraws = 5, grid = c(0, 1)), "'grid': one step")
  expect_error(sbcg_control(steps = 1), "'steps': one step")
  expect_s3_class(sbcg_control(steps = 1, sampler = "em"), "sbcg_control")
  # a fit with too few steps warns once, not at each of its own samplings
  d <- gauss_data(200, 5)
  msgs <- warnings_of(sbfit(y ~ x, d, control = small_control(steps = 10), seed = 1))
  expect_identical(sum(grepl("sampler steps", msgs)), 1L)
  expect_match(msgs[grepl("sampler steps", msgs)], "^'control\\$steps': 10 sampler steps")
  expect_warning(sbsample(fit, nd, ndraws = 5, grid = c(0, 0.5, 1)), "'grid': 2 sampler steps")
  expect_warning(predict(fit, nd, ndraws = 5, steps = 5), "'steps'")
  expect_warning(sbsample(fit, nd, ndraws = 5, steps = 20), NA)
  expect_error(sbsample(fit, nd, format = "wide"), "'format'")
  expect_error(sbsample(fit, nd, threads = -1), "'threads'")
  expect_error(sbsample(fit, nd, bogus = 1), "unknown argument")
  expect_error(sbsample(fit), "'newdata' is missing")
  expect_error(sbsample(fit, data.frame(x = 1)), "'newdata' lacks column\\(s\\) f")
  expect_error(sbsample(fit, data.frame(x = 1, f = "zz")), "'newdata'.*new level")
  expect_error(sbsample(fit, data.frame(x = NA_real_, f = "a"), na.action = na.fail),
               "'newdata' has missing")
  expect_error(sbsample(fit, data.frame(x = NA, f = "a")), "'newdata'")
  expect_error(sbsample(fit, data.frame(x = Inf, f = "a")), "'newdata' has infinite")
  expect_error(sbsample(fit, data.frame(x = "1", f = "a")), "'newdata'")
  expect_error(sbsample(fit, 1:3), "'newdata' must be a data frame")
  expect_error(sbsample(list(a = 1), nd), "'object' must be a fit")
  expect_error(sbcondstats(fit, nd, probs = c(0.5, 1.2)), "'probs'")
  expect_error(sbcondstats(fit, nd, probs = -0.1), "'probs'")
  expect_error(sbcondstats(fit, nd, probs = NA), "'probs'")
  expect_error(sbcondstats(fit, nd, ndraws = 1), "'ndraws'")
  expect_error(sbcondstats(fit, nd, density = "yes"), "'density'")
  expect_error(predict(fit, nd, type = "median"), "'type'")
  expect_error(predict(fit), "'newdata' is missing")
  expect_error(simulate(fit, nsim = 0, newdata = nd), "'nsim'")
  expect_error(simulate(fit, nsim = 1), "'newdata' is missing")
})

test_that("a fit edited by hand gives an error, not a crash", {
  fit <- small_fit()
  nd <- data.frame(x = 0, f = "a")
  bad <- fit; bad$theta <- bad$theta[-1]
  expect_error(sbsample(bad, nd, ndraws = 2), "'object\\$theta'")
  bad <- fit; bad$theta[3] <- NaN
  expect_error(sbsample(bad, nd, ndraws = 2), "'object\\$theta'")
  bad <- fit; bad$net <- NULL
  expect_error(sbsample(bad, nd, ndraws = 2), "lacks net")
  bad <- fit; bad$scaling$x_scale <- 1
  expect_error(sbsample(bad, nd, ndraws = 2), "'object\\$scaling'")
})

test_that("the C entry points check their arguments", {
  fit <- small_fit()
  net <- fit$net
  arch <- sbcg:::net_arch(net)
  expect_error(.Call(sbcg:::C_sbcg_forward, arch, net$freq, fit$theta[-1],
                     matrix(0, 1, 1), 0.5, matrix(0, 1, 3), 0L), "'theta' must have length")
  expect_error(.Call(sbcg:::C_sbcg_forward, arch[1:3], net$freq, fit$theta,
                     matrix(0, 1, 1), 0.5, matrix(0, 1, 3), 0L), "'arch'")
  expect_error(.Call(sbcg:::C_sbcg_forward, arch, net$freq, fit$theta,
                     matrix(0, 1, 1), 2, matrix(0, 1, 3), 0L), "'t' must lie in")
  expect_error(.Call(sbcg:::C_sbcg_forward, arch, net$freq, fit$theta,
                     matrix(0, 1, 1), 0.5, matrix(0, 1, 2), 0L), "'x' must be a 1 x 3")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 5L, 0, 1, 1, 1, c(1, 2), 8L, 1L, 0, 1, 0L, 0L, 0L, double()), "'seed'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), -1, 5L, 0, 1, 1, 1, 1:2, 8L, 1L, 0, 1, 0L, 0L, 0L, double()), "'rowid'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 5L, 0, 1, 1, -1, 1:2, 8L, 1L, 0, 1, 0L, 0L, 0L, double()), "'scoef'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 0L, 0, 1, 1, 1, 1:2, 8L, 1L, 0, 1, 0L, 0L, 0L, double()), "'ndraw'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 5L, 0, 1, 1, 1, 1:2, 8L, 1L, NA_real_, 1, 0L, 0L, 0L, double()), "'ycenter'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 5L, 0, 1, 1, 1, 1:2, 8L, 1L, 0, c(1, 2), 0L, 0L, 0L, double()), "'yscale'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 5L, 0, 1, 1, 1, 1:2, 8L, 1L, 0, "1", 0L, 0L, 0L, double()), "'yscale'")
  expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                     matrix(0, 1, 3), 0, 5L, 0, 1, 1, 1, 1:2, 8L, 1L, 0, 1, 0L, 2L, 0L, double()), "'precision'")
  for (m in list(1L, -1L, NA_integer_, 2.5))
    expect_error(.Call(sbcg:::C_sbcg_sample, arch, net$freq, fit$theta,
                       matrix(0, 1, 3), 0, 5L, 0, 1, 1, 1, 1:2, 8L, 1L, 0, 1, 0L, 0L, m, double()),
                 "'strata'")
})

test_that("the default thread count follows the option and the check limit", {
  old <- options(sbcg.threads = 3)
  on.exit(options(old))
  expect_identical(sbcg_threads(), 3L)
  options(sbcg.threads = 0)
  expect_error(sbcg_threads(), "sbcg.threads")
  options(sbcg.threads = "2")
  expect_error(sbcg_threads(), "sbcg.threads")
  options(sbcg.threads = NULL)
  nc <- parallel::detectCores()
  withr_env <- Sys.getenv("_R_CHECK_LIMIT_CORES_", NA)
  on.exit(if (is.na(withr_env)) Sys.unsetenv("_R_CHECK_LIMIT_CORES_") else
    Sys.setenv("_R_CHECK_LIMIT_CORES_" = withr_env), add = TRUE)
  envs <- c("OMP_THREAD_LIMIT", "OMP_NUM_THREADS")
  saved <- Sys.getenv(envs, NA, names = TRUE)
  on.exit(for (e in envs) if (is.na(saved[[e]])) Sys.unsetenv(e) else
    do.call(Sys.setenv, as.list(saved[e])), add = TRUE)
  Sys.unsetenv(envs)
  options(mc.cores = NULL)
  avail <- sbcg:::available_cpus()
  expect_true(avail >= 1L && avail <= nc)
  Sys.setenv("_R_CHECK_LIMIT_CORES_" = "TRUE")
  expect_identical(sbcg_threads(), as.integer(min(avail, 2L)))
  Sys.setenv("_R_CHECK_LIMIT_CORES_" = "false")
  expect_identical(sbcg_threads(), avail)
  # mc.cores and the OpenMP variables cap it
  options(mc.cores = 1)
  expect_identical(sbcg_threads(), 1L)
  options(mc.cores = NULL)
  Sys.setenv(OMP_THREAD_LIMIT = "1")
  expect_identical(sbcg_threads(), 1L)
  Sys.unsetenv("OMP_THREAD_LIMIT")
  Sys.setenv(OMP_NUM_THREADS = "1,4")
  expect_identical(sbcg_threads(), 1L)
  Sys.setenv(OMP_NUM_THREADS = "junk")
  expect_identical(sbcg_threads(), avail)
  Sys.unsetenv("OMP_NUM_THREADS")
  # the parsers of the affinity list and the cgroup quota
  expect_identical(sbcg:::cpu_list_count("0-3,8,10-11"), 7L)
  expect_identical(sbcg:::cpu_list_count("5"), 1L)
  expect_identical(sbcg:::cpu_list_count("a-b"), NA_integer_)
  expect_identical(sbcg:::cgroup_quota("200000 100000", character(), character()), 2L)
  expect_identical(sbcg:::cgroup_quota("150000 100000", character(), character()), 2L)
  expect_identical(sbcg:::cgroup_quota("max 100000", character(), character()), NA_integer_)
  expect_identical(sbcg:::cgroup_quota(character(), "-1", "100000"), NA_integer_)
  expect_identical(sbcg:::cgroup_quota(character(), "400000", "100000"), 4L)
})
