# R's model conventions (issue 13): update(), terms(), model.frame(),
# fitted() and residuals(), quantile(), dates as predictors, predict() like
# predict.lm, NA rows in newdata, argument names, y ~ 1 and the support of
# the response.

test_that("the stored call is sbfit(...) and update() refits", {
  d <- gauss_data(200, 3)
  fit <- sbfit(y ~ x, d, control = small_control(), seed = 1)
  expect_identical(fit$call[[1L]], quote(sbfit))
  expect_output(print(fit), "Call: sbfit\\(formula = y ~ x")
  expect_output(print(fit), "on 1 thread, single precision\n")
  f2 <- update(fit, control = small_control(hidden = 8))
  expect_s3_class(f2, "sbfit")
  expect_identical(f2$control$hidden, 8L)
  expect_identical(f2$call$control, quote(small_control(hidden = 8)))
  d$z <- runif(200)
  f3 <- update(fit, . ~ . + z)
  expect_identical(f3$xnames, c("x", "z"))
  fm <- sbfit(cbind(x = d$x), d$y, control = small_control(), seed = 1)
  expect_identical(fm$call[[1L]], quote(sbfit))
  expect_s3_class(update(fm, seed = 2), "sbfit")
  # an unseeded fit's call holds the seed it drew: update() changes only
  # what it is told, and the printed call rebuilds the fit
  fu <- sbfit(y ~ x, d, control = small_control())
  expect_identical(fu$call$seed, fu$seed)
  expect_identical(update(fu)$theta, fu$theta)
  fx <- sbfit(as.matrix(d["x"]), d$y, control = small_control(), support = "real")
  expect_identical(fx$call$seed, fx$seed)
  expect_identical(update(fx)$theta, fx$theta)
})

test_that("update() changes only the control settings it is given", {
  d <- gauss_data(200, 3)
  fit <- sbfit(y ~ x, d, control = sbcg_control(hidden = c(16, 16), epochs = 3, folds = 2,
                                                draws = 50), seed = 1)
  f2 <- update(fit, control = list(epochs = 4))
  expect_identical(f2$call$control,
                   quote(sbcg_control(hidden = c(16, 16), epochs = 4, folds = 2, draws = 50)))
  expect_identical(f2$control[c("hidden", "epochs", "folds", "draws")],
                   list(hidden = c(16L, 16L), epochs = 4L, folds = 2L, draws = 50L))
  # a setting given as NULL takes its default; control = NULL all of them
  expect_identical(update(fit, control = list(folds = NULL, draws = 20), evaluate = FALSE)$control,
                   quote(sbcg_control(hidden = c(16, 16), epochs = 3, draws = 20)))
  expect_null(update(fit, control = NULL, evaluate = FALSE)$control)
  # settings held in a variable: merged into it, or replacing it
  ctl <- sbcg_control(hidden = c(8, 8), epochs = 3, folds = 2)
  fv <- sbfit(y ~ x, d, control = ctl, seed = 1)
  f3 <- update(fv, control = sbcg_control(draws = 30))
  expect_identical(f3$call$control, quote(utils::modifyList(ctl, list(draws = 30))))
  expect_identical(f3$control[c("hidden", "folds", "draws")],
                   list(hidden = c(8L, 8L), folds = 2L, draws = 30L))
  expect_identical(update(fv, control = ctl2, evaluate = FALSE)$control, quote(ctl2))
  # a fit from x and y has no formula to update
  fm <- sbfit(cbind(x = d$x), d$y, control = small_control(), seed = 1)
  expect_error(update(fm, . ~ . + z), "fitted from 'x' and 'y', not from a formula")
  # calls saved by versions that named the method
  old <- fit
  old$call[[1L]] <- quote(sbfit.formula)
  expect_identical(update(old, seed = 2, evaluate = FALSE)[[1L]], quote(sbfit))
})

test_that("model.matrix(), weights() and the generics a fit has no use for", {
  d <- gauss_data(120, 3)
  d$g <- factor(rep(c("a", "b", "c"), 40))
  w <- rep(c(1, 2), 60)
  d$w <- w
  # (120 rows: the fits warn that 12 held-out rows are too few)
  fit <- suppressWarnings(sbfit(y ~ x + g, d, weights = w, contrasts = list(g = "contr.sum"),
                                control = small_control(), seed = 1))
  mm <- model.matrix(fit)
  expect_identical(colnames(mm), c("(Intercept)", "x", "g1", "g2"))
  expect_equal(unname(mm[1:3, "g1"]), c(1, 0, -1))
  # data lacking a level keep the fit's columns
  expect_identical(colnames(model.matrix(fit, data = d[d$g != "a", ])), colnames(mm))
  expect_equal(unname(weights(fit)), w)
  expect_null(weights(suppressWarnings(sbfit(y ~ x, d, control = small_control(), seed = 1))))
  fm <- suppressWarnings(sbfit(cbind(x = d$x), d$y, weights = w, control = small_control(),
                               seed = 1))
  expect_error(weights(fm), "keeps no copy of its case weights")
  expect_error(logLik(fit), "no likelihood")
  expect_error(AIC(fit), "no likelihood")
  expect_error(vcov(fit), "no standard errors")
  expect_error(confint(fit), "no standard errors")
  expect_error(sigma(fit), "no single residual SD.*type = \"sd\"")
  expect_error(predict(fit, d[1:2, ], se.fit = TRUE), "'se.fit'.*sbcondstats.*se = TRUE")
  # 'se', which R would take for 'seed' by its prefix
  expect_error(predict(fit, d[1:2, ], se = TRUE), "unknown argument 'se'.*sbcondstats.*se = TRUE")
  expect_error(predict(fit, d[1:2, ], se = 2), "unknown argument 'se'")
  expect_error(sbsample(fit, d[1:2, ], ndraws = 5, se = 2), "unknown argument 'se'")
  expect_identical(predict(fit, d[1:2, ], see = 2), predict(fit, d[1:2, ], seed = 2))
  expect_error(plot(fit, which = 1), "'which'.*plot\\(sbscore")
})

test_that("model.frame() stops when the data its call finds are not the fit's", {
  fm <- y ~ x
  fit_it <- function(d) sbfit(fm, data = d, control = small_control(), seed = 1)
  d <- gauss_data(200, 3)
  fit <- fit_it(d)
  # the call's `d` is now looked up where the formula was made: here
  expect_identical(nrow(model.frame(fit)), 200L)
  d <- d[1:50, ]
  expect_error(model.frame(fit), "give 50 rows, but the fit used 200")
  expect_identical(nrow(model.frame(fit, data = gauss_data(200, 3))), 200L)
  # a subset is taken within the data, as model.frame.lm() takes it, also
  # through model.matrix()
  d2 <- gauss_data(200, 3)
  expect_identical(nrow(model.frame(fit, data = d2, subset = x > 0)), sum(d2$x > 0))
  expect_identical(nrow(model.matrix(fit, data = d2, subset = x > 0)), sum(d2$x > 0))
})

test_that("cbind() responses without names take their expressions as names", {
  d <- gauss_data(200, 5)
  d$v <- exp(d$y / 4)
  f <- sbfit(cbind(log(v), v) ~ x, d, control = small_control(), seed = 1)
  expect_identical(f$ynames, c("log(v)", "v"))
  D <- sbsample(f, data.frame(x = 0.5), ndraws = 3, seed = 2)
  expect_named(D, c(".row", "x", ".draw", "log(v)", "v"))
  expect_identical(sbcg:::response_names(c("", ""), quote(cbind(a + 1, b)), 2L), c("a + 1", "b"))
  expect_identical(sbcg:::response_names(NULL, quote(Y), 2L), c("y1", "y2"))
  expect_identical(sbcg:::response_names(c("a", "a"), quote(Y), 2L), c("a", "a.1"))
})

test_that("terms(), model.frame(), fitted(), residuals() and quantile()", {
  d <- gauss_data(200, 4)
  d$f <- factor(rep(c("a", "b"), 100))
  fit <- sbfit(y ~ x + f, d, control = small_control(), seed = 1)
  tt <- terms(fit)
  expect_s3_class(tt, "terms")
  expect_identical(attr(tt, "term.labels"), c("x", "f"))
  mf <- model.frame(fit)
  expect_identical(dim(mf), c(200L, 3L))
  expect_equal(mf$x, d$x)
  # (three epochs: the held-out check may rightly call this fit off)
  fs <- suppressWarnings(sbfit(y ~ x, rbind(d, d), subset = x > 0, control = small_control(),
                               seed = 1))
  expect_identical(nrow(model.frame(fs)), 2L * sum(d$x > 0))
  expect_error(fitted(fit), "predict\\(fit, newdata")
  expect_error(residuals(fit), "predict\\(fit, newdata")
  expect_error(resid(fit), "no single residual")
  nd <- data.frame(x = c(-1, 1), f = c("a", "b"))
  expect_identical(quantile(fit, c(0.1, 0.9), newdata = nd, seed = 1),
                   predict(fit, nd, type = "quantile", probs = c(0.1, 0.9), seed = 1))
  expect_error(quantile(fit), "'newdata' is missing.*predict")
  fm <- sbfit(cbind(x = d$x), d$y, control = small_control(), seed = 1)
  expect_error(terms(fm), "from a matrix")
  expect_error(model.frame(fm), "fitted from 'x' and 'y'.*no model frame")
  # from a data frame: its variables, not its model-matrix columns;
  # non-syntactic names in backquotes
  fd <- sbfit(d[c("x", "f")], d$y, control = small_control(), seed = 1)
  expect_identical(formula(fd), y ~ x + f, ignore_formula_env = TRUE)
  expect_identical(attr(terms(fd), "term.labels"), c("x", "f"))
  fq <- sbfit(cbind(`dose mg` = d$x), d$y, control = small_control(), seed = 1)
  expect_identical(deparse(formula(fq)), "y ~ `dose mg`")
  # data that cannot be found any more
  local({
    dl <- gauss_data(200, 5)
    f <- sbfit(y ~ x, dl, control = small_control(), seed = 1)
    rm(dl)
    expect_error(model.frame(f), "cannot rebuild the model frame")
  })
  # data given, but holding a level the fit does not know: that is the error
  d3 <- d
  d3$f <- factor(ifelse(d$x < -1, "c", as.character(d$f)))
  expect_error(model.frame(fit, data = d3),
               "cannot build the model frame of the fit on 'data': .*factor f has new levels? c")
})

test_that("the formula may come by name, after data, or as a string, as lm() takes it", {
  d <- gauss_data(200, 17)
  f1 <- sbfit(y ~ x, d, control = small_control(), seed = 1)
  g <- function(dd) sbfit(data = dd, formula = y ~ x, control = small_control(), seed = 1)
  for (f in list(sbfit(data = d, formula = y ~ x, control = small_control(), seed = 1),
                 sbfit(d, y ~ x, control = small_control(), seed = 1),
                 sbfit("y ~ x", d, control = small_control(), seed = 1),
                 sbfit(d, "y ~ x", control = small_control(), seed = 1), g(d))) {
    expect_identical(f$theta, f1$theta)
    expect_identical(as.character(f$call[[1L]]), "sbfit")
  }
  expect_error(sbfit(d["x"], d$y, formula = y ~ x), "give 'formula' and 'data', or 'x' and 'y'")
  # the x / y method is unchanged
  expect_s3_class(sbfit(d["x"], d$y, control = small_control(), seed = 1), "sbfit")
})

test_that("contrasts are taken as lm() takes them, and kept for newdata", {
  d <- gauss_data(200, 18)
  d$f <- factor(rep(c("a", "b", "c"), length.out = 200))
  d$y <- d$y + c(a = -1, b = 0, c = 1)[as.character(d$f)]
  ft <- sbfit(y ~ x + f, d, control = small_control(), seed = 1)
  fs <- sbfit(y ~ x + f, d, contrasts = list(f = "contr.sum"), control = small_control(),
              seed = 1)
  expect_identical(fs$xinfo$contrasts, list(f = "contr.sum"))
  expect_identical(ft$xinfo$contrasts, list(f = "contr.treatment"))
  expect_identical(fs$xnames, c("x", "f1", "f2"))
  # newdata coded as the training rows were: the same statistics as a
  # fit of the same columns made by hand
  nd <- data.frame(x = c(0, 0.5), f = c("c", "a"))
  dh <- data.frame(x = d$x, f1 = ifelse(d$f == "a", 1, ifelse(d$f == "c", -1, 0)),
                   f2 = ifelse(d$f == "b", 1, ifelse(d$f == "c", -1, 0)), y = d$y)
  fh <- sbfit(y ~ x + f1 + f2, dh, control = small_control(), seed = 1)
  expect_identical(fs$theta, fh$theta)
  expect_identical(predict(fs, nd, seed = 2),
                   predict(fh, data.frame(x = nd$x, f1 = c(-1, 1), f2 = c(-1, 0)), seed = 2))
  expect_error(sbfit(y ~ x + f, d, contrasts = "contr.sum"), "'contrasts' must be NULL or a named list")
  expect_error(sbfit(y ~ x + f, d, contrasts = list(f = "contr.nothing")), "'contrasts'")
})

test_that("newdata need not hold the formula's constants, as in predict.lm()", {
  set.seed(16)
  n <- 240
  d <- data.frame(t = rep(1:12, 20))
  d$y <- sin(2 * pi * d$t / 12) + 0.1 * rnorm(n)
  fit <- sbfit(y ~ sin(2 * pi * t / 12) + cos(2 * pi * t / 12), d,
               control = small_control(), seed = 1)
  expect_identical(fit$xinfo$data_vars, "t")
  p <- predict(fit, data.frame(t = c(3, 9)), seed = 1)
  expect_length(p, 2L)
  # a shift set beside the call, on either side of the formula
  y0 <- 1
  f2 <- sbfit(I(y - y0) ~ t, d, control = small_control(), seed = 1)
  expect_identical(f2$xinfo$response_vars, "y")
  sc <- sbscore(f2, d[1:5, ], ndraws = 20, seed = 1)
  expect_identical(sc$y, d$y[1:5] - y0)
  # a column of data is still required
  expect_error(predict(fit, data.frame(u = 1)), "'newdata' lacks column\\(s\\) t")
})

test_that("Date, POSIXct and difftime predictors are taken as numbers", {
  set.seed(6)
  n <- 200
  d <- data.frame(date = as.Date("2020-01-01") + sample.int(365, n),
                  tm = as.POSIXct("2020-01-01", tz = "UTC") + runif(n, 0, 1e6),
                  dt = as.difftime(runif(n, 0, 10), units = "hours"))
  d$y <- as.numeric(d$date) / 1000 + rnorm(n)
  fit <- sbfit(y ~ date + tm + dt, d, control = small_control(), seed = 1)
  expect_identical(unname(fit$xinfo$times), c("Date", "POSIXct", "difftime"))
  nd <- d[1:3, ]
  p <- predict(fit, nd, seed = 1)
  expect_length(p, 3L)
  expect_true(all(is.finite(p)))
  # the same values as plain numbers in a numeric fit
  d2 <- data.frame(date = as.numeric(d$date), tm = as.numeric(d$tm),
                   dt = as.numeric(d$dt, units = "secs"), y = d$y)
  fit2 <- sbfit(y ~ date + tm + dt, d2, control = small_control(), seed = 1)
  expect_identical(fit$theta, fit2$theta)
  expect_identical(p, predict(fit2, d2[1:3, ], seed = 1))
  # newdata must give the same kind
  expect_error(predict(fit, transform(nd, date = as.POSIXct(date))),
               "'newdata': column 'date' is a POSIXct, but the fit had a Date")
  expect_error(predict(fit2, nd[1:3, ]), "'newdata': column 'date' is a Date")
  # and not a plain number, which for a difftime would be read in seconds
  expect_error(predict(fit, transform(nd, dt = as.numeric(dt))),
               "'newdata': column 'dt' must be a difftime, as in the training data, not numeric")
  expect_error(predict(fit, transform(nd, date = as.character(date))),
               "'newdata': column 'date' must be a Date, as in the training data, not character")
  # the workaround of before: y ~ as.numeric(date) now predicts
  fa <- sbfit(y ~ as.numeric(date), d, control = small_control(), seed = 1)
  expect_true(all(is.finite(predict(fa, data.frame(date = as.Date("2020-06-01"))))))
  # the x / y method takes a data frame with a Date column
  fx <- sbfit(d["date"], d$y, control = small_control(), seed = 1)
  expect_length(predict(fx, d[1:2, "date", drop = FALSE]), 2L)
  # POSIXlt columns, which model frames refuse: the error says what to do
  dl <- d
  dl$tm <- as.POSIXlt(d$tm)
  expect_error(sbfit(y ~ tm, dl, control = small_control(), seed = 1),
               "'tm': POSIXlt date-times, which a model frame cannot hold; convert with as.POSIXct\\(\\)")
  expect_error(predict(fit, dl[1:3, ]), "'newdata' does not fit the model: .*'tm': POSIXlt")
})

test_that("predict() works like predict.lm: probs, interval, cdf, reproducible", {
  d <- gauss_data(300, 7)
  fit <- sbfit(y ~ x, d, control = small_control(), seed = 3)
  nd <- data.frame(x = c(-1, 0, 1), row.names = c("a", "b", "c"))
  # reproducible by default, with the fit's seed; seed = overrides
  p1 <- predict(fit, nd, ndraws = 100)
  expect_identical(p1, predict(fit, nd, ndraws = 100))
  expect_identical(p1, predict(fit, nd, ndraws = 100, seed = fit$seed))
  expect_false(identical(p1, predict(fit, nd, ndraws = 100, seed = fit$seed + 1)))
  expect_named(p1, c("a", "b", "c"))
  # the caller's RNG stream is untouched
  set.seed(1); a <- runif(1); set.seed(1)
  invisible(predict(fit, nd, ndraws = 10))
  expect_identical(runif(1), a)
  # probs implies type = "quantile"
  q <- predict(fit, nd, probs = c(0.1, 0.9), ndraws = 100)
  expect_identical(q, predict(fit, nd, type = "quantile", probs = c(0.1, 0.9), ndraws = 100))
  expect_identical(dimnames(q), list(c("a", "b", "c"), c("q0.1", "q0.9")))
  st <- sbcondstats(fit, nd, ndraws = 100, probs = c(0.1, 0.9), at = c(0, 2),
                    density = FALSE, seed = fit$seed)
  expect_equal(unname(q[, "q0.9"]), st$q0.9)
  # prediction intervals
  pi <- predict(fit, nd, interval = "prediction", level = 0.8, ndraws = 100)
  expect_identical(colnames(pi), c("fit", "lwr", "upr"))
  expect_identical(rownames(pi), c("a", "b", "c"))
  expect_equal(unname(pi[, "fit"]), unname(p1))
  expect_equal(unname(pi[, c("lwr", "upr")]), unname(q))
  expect_true(all(pi[, "lwr"] < pi[, "fit"] & pi[, "fit"] < pi[, "upr"]))
  # its ends come from 'level', which a too-wide level's warning names
  expect_error(predict(fit, nd, interval = "prediction", probs = c(0.1, 0.9)),
               "'interval' = \"prediction\" takes its ends from 'level', not 'probs'")
  w <- warnings_of(predict(fit, nd, interval = "prediction", level = 0.9995, ndraws = 100))
  expect_length(w, 1L)
  expect_match(w, "^'level': 0.00025, 0.99975 lie further .* 'ndraws' of 40000 or more")
  # the CDF at thresholds; at implies type = "cdf"
  cdf <- predict(fit, nd, at = c(0, 2), ndraws = 100)
  expect_identical(cdf, predict(fit, nd, type = "cdf", at = c(0, 2), ndraws = 100))
  expect_identical(dim(cdf), c(3L, 2L))
  expect_equal(unname(cdf[, 1]), st$p0)
  expect_identical(colnames(cdf), c("p0", "p2"))
  expect_true(all(cdf[, 1] <= cdf[, 2]))
  # several responses: arrays
  d$y2 <- rnorm(300)
  f2 <- sbfit(cbind(y, y2) ~ x, d, control = small_control(), seed = 3)
  expect_identical(dim(predict(f2, nd, at = 0, ndraws = 20)), c(3L, 1L, 2L))
})

test_that("a newdata with no rows gives no rows, in the usual shape", {
  d <- gauss_data(200, 14)
  fit <- sbfit(y ~ x, d, control = small_control(), seed = 1)
  nd0 <- data.frame(x = numeric())
  expect_identical(predict(fit, nd0), stats::setNames(numeric(), character()))
  q <- predict(fit, nd0, probs = c(0.1, 0.9))
  expect_identical(dim(q), c(0L, 2L))
  expect_identical(colnames(q), c("q0.1", "q0.9"))
  expect_type(q, "double")
  expect_type(predict(fit, nd0, at = 0), "double")
  # the sampling functions too: no rows, the columns one row gives
  one <- d[1L, ]
  s0 <- sbsample(fit, nd0, ndraws = 5)
  expect_identical(nrow(s0), 0L)
  expect_identical(names(s0), names(sbsample(fit, one["x"], ndraws = 5)))
  expect_identical(dim(sbsample(fit, nd0, ndraws = 5, format = "matrix")), c(0L, 5L))
  c0 <- sbcondstats(fit, nd0, ndraws = 50, at = 0:1, se = TRUE)
  expect_s3_class(c0, "sbcondstats")
  expect_identical(nrow(c0), 0L)
  expect_identical(names(c0), names(sbcondstats(fit, one["x"], ndraws = 50, at = 0:1, se = TRUE)))
  expect_identical(names(sbcondstats(fit, nd0, ndraws = 50, at = matrix(0, 0L, 2L), density = FALSE)),
                   names(sbcondstats(fit, one["x"], ndraws = 50, at = matrix(0, 1L, 2L), density = FALSE)))
  expect_error(plot(c0), "'x' has no rows to plot")
  sc0 <- sbscore(fit, d[0L, ], ndraws = 50)
  expect_s3_class(sc0, "sbscore")
  fx <- sbfit(as.matrix(d["x"]), d$y, control = small_control(), seed = 1)
  expect_identical(nrow(sbscore(fx, data.frame(x = numeric(), y = numeric()), ndraws = 5)), 0L)
  expect_identical(nrow(sbscore(fx, cbind(x = numeric(), y = numeric()), ndraws = 5)), 0L)
  expect_identical(names(sc0), names(sbscore(fit, one, ndraws = 50)))
  expect_identical(nrow(sc0), 0L)
  expect_identical(colnames(predict(fit, nd0, interval = "prediction")), c("fit", "lwr", "upr"))
  expect_identical(dim(predict(fit, nd0, at = c(0, 1))), c(0L, 2L))
  expect_identical(dim(quantile(fit, 0.5, newdata = nd0)), c(0L, 1L))
  # as lm() does
  expect_length(predict(lm(y ~ x, d), nd0), 0L)
  # several responses: 0 x responses, and 0 x probabilities x responses
  d$z <- d$y + rnorm(200)
  f2 <- sbfit(cbind(y, z) ~ x, d, control = small_control(), seed = 1)
  expect_identical(dim(predict(f2, nd0)), c(0L, 2L))
  expect_identical(dim(predict(f2, nd0, probs = c(0.1, 0.5, 0.9))), c(0L, 3L, 2L))
})

test_that("rows of newdata with missing values give NA rows, aligned", {
  d <- gauss_data(300, 8)
  d$f <- factor(rep(c("a", "b", "c"), 100))
  fit <- sbfit(y ~ x + f, d, control = small_control(), seed = 2)
  nd <- data.frame(x = c(-1, NA, 1, 0.5), f = c("a", "b", NA, "c"))
  ok <- nd[c(1, 4), ]
  # sbsample: NA draws in place; the other rows' draws are unchanged
  m <- sbsample(fit, nd, ndraws = 5, format = "matrix", seed = 1)
  expect_identical(dim(m), c(4L, 5L))
  expect_true(all(is.na(m[2:3, ])))
  mfull <- sbsample(fit, transform(nd, x = c(-1, 0, 1, 0.5), f = c("a", "b", "b", "c")),
                    n = 5, format = "matrix", seed = 1)
  expect_identical(m[c(1, 4), ], mfull[c(1, 4), ])
  long <- sbsample(fit, nd, ndraws = 5, seed = 1)
  expect_identical(long$.row, rep(1:4, each = 5))
  expect_true(all(is.na(long$y[long$.row %in% 2:3])))
  lo <- sbsample(fit, nd, ndraws = 5, seed = 1, na.action = na.omit)
  expect_identical(unique(lo$.row), c(1L, 4L))
  expect_identical(lo$y, long$y[long$.row %in% c(1, 4)])
  # sbcondstats
  st <- sbcondstats(fit, nd, ndraws = 50, seed = 1, at = 0)
  expect_identical(st$.row, 1:4)
  expect_true(all(is.na(st$mean[2:3])) && all(!is.na(st$mean[c(1, 4)])))
  expect_null(st$density[[2]])
  expect_s3_class(st$density[[4]], "density")
  expect_identical(nrow(sbcondstats(fit, nd, ndraws = 50, seed = 1, na.action = "na.omit")), 2L)
  expect_error(sbcondstats(fit, nd, na.action = na.fail), "row\\(s\\) 2, 3")
  # at as a matrix keeps one row per row of newdata
  stm <- sbcondstats(fit, nd, ndraws = 50, seed = 1, at = cbind(c(0, 0, 0, 1)), density = FALSE)
  expect_equal(stm$p_1[4], sbcondstats(fit, nd[4, ], ndraws = 50, seed = 1, at = 1,
                                       density = FALSE)$p1, tolerance = 1)
  # predict: NA in place, named as newdata's rows; na.exclude the same
  p <- predict(fit, nd, ndraws = 50)
  expect_identical(names(p), c("1", "2", "3", "4"))
  expect_true(all(is.na(p[2:3])))
  expect_identical(p, predict(fit, nd, ndraws = 50, na.action = na.exclude))
  expect_identical(predict(fit, nd, ndraws = 50, na.action = na.omit), p[c(1, 4)])
  q <- predict(fit, nd, probs = 0.5, ndraws = 50)
  expect_true(all(is.na(q[2:3, ])))
  # every row missing
  expect_true(all(is.na(predict(fit, nd[2:3, ], ndraws = 10))))
  expect_identical(nrow(sbsample(fit, nd[2:3, ], ndraws = 3, na.action = na.omit)), 0L)
  # sbscore: a missing predictor or response gives an NA line
  nds <- cbind(nd, y = c(0, 1, 2, NA))
  sc <- sbscore(fit, nds, ndraws = 50, seed = 1)
  expect_identical(sc$.row, 1:4)
  expect_identical(is.na(sc$crps), c(FALSE, TRUE, TRUE, TRUE))
  expect_identical(sc$y, c(0, 1, 2, NA))
  expect_output(print(summary(sc)), "3 line\\(s\\) have no score")
  # a fit made with na.action = na.exclude predicts at rows with NA
  d$x[5] <- NA
  fe <- sbfit(y ~ x, d, na.action = na.exclude, control = small_control(), seed = 1)
  expect_true(is.na(predict(fe, data.frame(x = c(1, NA)), ndraws = 10)[2]))
  # several responses
  d$y2 <- rnorm(300)
  f2 <- sbfit(cbind(y, y2) ~ x, d, control = small_control(), seed = 3)
  st2 <- sbcondstats(f2, data.frame(x = c(NA, 1)), ndraws = 20, seed = 1)
  expect_identical(st2$.response, c("y", "y2", "y", "y2"))
  expect_true(all(is.na(st2$mean[1:2])))
  expect_identical(dim(predict(f2, data.frame(x = c(NA, 1)), ndraws = 20)), c(2L, 2L))
})

test_that("old argument names work with a deprecation message", {
  fit <- small_fit()
  nd <- data.frame(x = c(0, 1), f = c("a", "b"))
  expect_message(a <- sbsample(fit, nd, n = 5, seed = 1), "'n' is deprecated; use 'ndraws'")
  expect_identical(a, sbsample(fit, nd, ndraws = 5, seed = 1))
  expect_identical(sbsample(fit, nd, 5, seed = 1), a)   # by position, as before
  expect_message(b <- sbcondstats(fit, nd, n = 5, probs = 0.5, seed = 1), "'ndraws'")
  expect_identical(b, sbcondstats(fit, nd, ndraws = 5, probs = 0.5, seed = 1))
  expect_message(p <- predict(fit, nd, n = 5), "'ndraws'")
  expect_identical(p, predict(fit, nd, ndraws = 5))
  nds <- cbind(nd, y = c(0, 1))
  expect_message(expect_message(s1 <- sbscore(fit, nds, n = 5, levels = 0.5, seed = 1),
                                "'n' is deprecated"), "'levels' is deprecated")
  expect_identical(s1, sbscore(fit, nds, ndraws = 5, level = 0.5, seed = 1))
  expect_message(s2 <- score_draws(matrix(1:4, 1), 2, levels = 0.5), "'levels'")
  expect_identical(s2, score_draws(matrix(1:4, 1), 2, level = 0.5))
  expect_error(score_draws(matrix(1:4, 1), 2, level = 2), "'level'")
  # sbcg_control(): full names only, with a suggestion
  expect_error(sbcg_control(sample = 2e5), "did you mean 'samples' or 'sampler'")
  expect_error(sbcg_control(epoch = 5), "did you mean 'epochs'")
  expect_error(sbcg_control(lr_sched = "constant"), "did you mean 'lr_schedule'")
  expect_error(sbcg_control(zzzzzz = 1), "unknown setting\\(s\\) of sbcg_control\\(\\): 'zzzzzz'$")
  expect_identical(sbcg_control(samples = 2e5)$samples, 2e5)
  expect_error(sbfit(y ~ x, gauss_data(50, 1), control = list(epoch = 2)),
               "'control' has unknown setting\\(s\\): 'epoch' \\(did you mean 'epochs'")
})

test_that("y ~ 1 fits the unconditional law", {
  set.seed(9)
  d <- data.frame(y = 3 + 2 * rnorm(400), x = runif(400))
  fit <- sbfit(y ~ 1, d, control = small_control(), seed = 1)
  expect_true(fit$xinfo$intercept_only)
  expect_output(print(fit), "no predictors: the unconditional law")
  expect_output(print(summary(fit)), "response")
  expect_identical(formula(fit), y ~ 1)
  # newdata may be left out (one row) or have any columns
  m <- predict(fit, ndraws = 2000)
  expect_length(m, 1L)
  expect_equal(unname(m), mean(d$y), tolerance = 0.1)
  expect_equal(unname(predict(fit, type = "sd", ndraws = 2000)), sd(d$y), tolerance = 0.15)
  expect_identical(dim(predict(fit, data.frame(a = 1:3), probs = 0.5)), c(3L, 1L))
  expect_identical(dim(predict(fit, d[1:4, ], probs = 0.5)), c(4L, 1L))
  expect_identical(nrow(sbsample(fit, ndraws = 7)), 7L)
  expect_identical(nrow(sbcondstats(fit, ndraws = 20)), 1L)
  expect_identical(dim(simulate(fit, nsim = 3, seed = 1)), c(1L, 3L))
  expect_identical(quantile(fit, c(0.1, 0.9), seed = 1),
                   predict(fit, probs = c(0.1, 0.9), seed = 1))
  expect_true(is.finite(mean(sbscore(fit, d[1:5, ], ndraws = 20)$crps)))
  # draws do not depend on the other columns of newdata
  expect_identical(sbsample(fit, data.frame(a = 1), ndraws = 5, seed = 1)$y,
                   sbsample(fit, ndraws = 5, seed = 1)$y)
  f0 <- update(fit, control = small_control(hidden = 8))
  expect_true(f0$xinfo$intercept_only)
})

test_that("support = \"count\" gives whole-number draws and P(Y = 0 | x) from the discrete law", {
  set.seed(1)
  n <- 1000
  d <- data.frame(x = runif(n, -2, 2))
  d$y <- rpois(n, exp(d$x / 2))
  ctl <- sbcg_control(hidden = c(64, 64), epochs = 200)
  fit <- sbfit(y ~ x, d, support = "count", control = ctl, seed = 1)
  expect_identical(fit$support$type, "count")
  expect_output(print(fit), "Support: \"count\"")
  nd <- data.frame(x = c(-1, 0, 1))
  s <- sbsample(fit, nd, ndraws = 2000, seed = 1)
  expect_true(all(s$y >= 0 & s$y == round(s$y)))
  # P(Y = 0 | x): truth exp(-exp(x / 2)); the tolerance is two standard
  # errors of an estimate from about 250 nearby rows (Monte Carlo error of
  # 2000 draws is 0.011)
  p0 <- predict(fit, nd, at = 0, ndraws = 2000)[, 1]
  expect_equal(unname(p0), exp(-exp(nd$x / 2)), tolerance = 0.07 / 0.37)
  expect_true(all(abs(p0 - exp(-exp(nd$x / 2))) < 0.07))
  q <- predict(fit, nd, probs = c(0.1, 0.5, 0.9), ndraws = 2000)
  expect_true(all(q == round(q)))
  st <- sbcondstats(fit, nd, ndraws = 500, seed = 2, se = TRUE)
  expect_s3_class(st$density[[1]], "density")
  expect_equal(sum(st$density[[1]]$y), 1)
  expect_identical(st$density[[1]]$x[1:2], c(0, 1))
  expect_true(all(is.na(st$se_q0.5)))
  sc <- sbscore(fit, d[1:50, ], ndraws = 100, seed = 1)
  expect_true(all(is.finite(sc$crps)))
  # summary() states the support and the scale of the response's standardisation
  expect_output(print(summary(fit)), "Support: +\"count\", whole numbers")
  expect_output(print(summary(fit)), "Standardisation \\(the response's on its fitted scale\\)")
  # put on the real line, print() offers the count support and "auto"
  f0 <- sbfit(y ~ x, d[1:300, ], control = small_control(), seed = 1, support = "real")
  expect_output(print(f0), "support = \"count\" gives whole-number draws")
  expect_output(print(f0), "support = \"auto\", the default, also fits the log scale")
  expect_match(sbcg:::support_line(list(support = NULL, support_hint = "unit")),
               "support = c\\(0, 1\\) keeps the draws there.*learns on the logit scale")
  expect_identical(sbcg:::support_line(list(support = NULL)), "Support: the real line")
  # several responses: "auto" does not try the log scale for them
  two <- sbcg:::support_line(list(support = NULL, support_hint = "positive",
                                  ynames = c("a", "b")))
  expect_match(two, "update\\(fit, support = \"positive\"\\)")
  expect_false(grepl("auto", two))
  # data in (0, 1) that "auto" put on the positive scale keep the hint
  pos <- list(type = "lower", lower = 0, upper = Inf, label = "positive")
  expect_match(sbcg:::support_line(list(support = pos, support_hint = "unit")),
               "reaches past 1; refit with update\\(fit, support = c\\(0, 1\\)\\)")
  expect_false(grepl("past 1", sbcg:::support_line(list(support = pos))))
  expect_identical(f0$support$type, "real")
  # the fit's seed fixes the dequantising noise
  expect_identical(sbfit(y ~ x, d[1:300, ], support = "count", control = small_control(),
                         seed = 4)$theta,
                   sbfit(y ~ x, d[1:300, ], support = "count", control = small_control(),
                         seed = 4)$theta)
})

test_that("counts are fitted on the log(1 + y + u) scale; fits saved before keep log(y + u)", {
  sup <- sbcg:::check_support("count", matrix(0:3), "y")
  expect_identical(sup$offset, 1)
  # zeros land in [0, log 2), the next counts right after; every count
  # comes back from any point of its block
  set.seed(2)
  y <- matrix(rep(0:20, each = 50))
  z <- sbcg:::support_forward(sup, y, 7L)
  expect_true(all(z[y == 0] >= 0 & z[y == 0] < log(2)))
  expect_true(all(z[y == 1] >= log(2) & z[y == 1] < log(3)))
  expect_identical(sbcg:::support_inverse(sup, z), as.double(y))
  # below the zeros' block is a 0 too
  expect_identical(sbcg:::support_inverse(sup, c(-3, -0.1, 0.5, log(2.5))), c(0, 0, 0, 1))
  # a count support without an offset (fits saved before it) maps as before
  old <- sup[setdiff(names(sup), "offset")]
  zz <- c(-2, 0.3, 1.7, 4.2)
  expect_identical(sbcg:::support_inverse(old, zz), floor(exp(zz)))
  d <- data.frame(x = runif(300))
  d$y <- rpois(300, 3)
  fit <- sbfit(y ~ x, d, support = "count",
               control = small_control(bridge_inputs = "none", linear_mix = FALSE,
                                       direct_share = 0), seed = 1)
  expect_identical(fit$format, 7L)
  expect_output(print(fit), "log\\(1 \\+ y \\+ u\\)")
  nd <- data.frame(x = c(0.2, 0.7))
  D <- sbsample(fit, nd, ndraws = 200, seed = 3, format = "matrix")
  expect_true(all(D >= 0 & D == round(D)))
  # the same fit read as one saved before the offset: format 5, draws of
  # floor(exp(z)) from the same chains z, one more than max(0, floor(exp(z)
  # - 1)) wherever that is not 0
  was <- fit
  was$support$offset <- NULL
  was$format <- sbcg:::fit_format(was)
  expect_identical(was$format, 5L)
  D0 <- sbsample(was, nd, ndraws = 200, seed = 3, format = "matrix")
  expect_true(all(D == pmax(0, D0 - 1)))
  # format and offset must agree, and the offset is 0 or 1
  bad <- fit
  bad$format <- 6L
  expect_error(sbsample(bad, nd, ndraws = 5), "format")
  bad <- fit
  bad$support$offset <- 2
  expect_error(sbsample(bad, nd, ndraws = 5), "support")
  bad <- fit
  bad$format <- 16L
  expect_error(sbsample(bad, nd, ndraws = 5), "format' is 16.*another version or altered")
  f2 <- tempfile(fileext = ".rds")
  saveRDS(fit, f2)
  expect_identical(sbsample(readRDS(f2), nd, ndraws = 20, seed = 4),
                   sbsample(fit, nd, ndraws = 20, seed = 4))
})

test_that("a fit with a support scores its held-out rows on the response's scale", {
  set.seed(3)
  n <- 300
  d <- data.frame(x = runif(n, -1, 1))
  d$y <- 100 * exp(d$x + 0.5 * rnorm(n))
  fp <- suppressWarnings(sbfit(y ~ x, d, support = "positive", control = small_control(),
                               seed = 1))
  # the held-out rows (the fit's first draw from its seed) and the Gaussian
  # linear model of y itself, fitted to the training rows
  set.seed(1)
  v <- sort(sample.int(n, 30))
  l <- lm(y ~ x, d[-v, ])
  mu <- predict(l, d[v, ])
  s <- summary(l)$sigma
  z <- (d$y[v] - mu) / s
  g <- mean(s * (z * (2 * pnorm(z) - 1) + 2 * dnorm(z) - 1 / sqrt(pi)))
  expect_identical(fp$holdout$n, 30L)
  expect_equal(fp$holdout$crps_gauss, g, tolerance = 1e-8)
  # the fit's own CRPS is on that scale too (on the log scale it would be
  # about 0.3, against a Gaussian's 100 * 0.5 * 0.23)
  expect_gt(fp$holdout$crps, 0.3 * g)
  expect_lt(fp$holdout$crps, 3 * g)
  expect_output(print(fp), sprintf("Gaussian linear model %.4g", g))
  expect_output(print(fp), "draws, statistics and held-out scores on the response's own scale")
  # a fit saved before (no holdout$scale) scored on the fitted scale
  old <- fp
  old$holdout$scale <- NULL
  expect_output(print(old), "draws, statistics on the response's own scale, held-out scores on the fitted scale")
})

test_that("support = \"auto\" keeps the scale with the lower held-out CRPS", {
  expect_true(sbcg:::is_auto_support("auto"))
  expect_true(sbcg:::is_auto_support("au"))
  expect_false(sbcg:::is_auto_support("real"))
  expect_false(sbcg:::is_auto_support(c(0, 1)))
  expect_false(sbcg:::is_auto_support(NA_character_))
  expect_identical(sbcg:::auto_candidate(matrix(c(0, 1, 2, 5))), "count")
  # whole numbers above 0 get a continuous law on the log scale
  expect_identical(sbcg:::auto_candidate(matrix(c(1, 2, 5))), "positive")
  expect_identical(sbcg:::auto_candidate(matrix(c(0.5, 1, 2.5))), "positive")
  expect_identical(sbcg:::auto_candidate(matrix(c(0, 2, 0))), NULL)
  expect_identical(sbcg:::auto_candidate(matrix(c(0, 0.5, 1))), NULL)
  expect_identical(sbcg:::auto_candidate(matrix(c(-1, 1, 2))), NULL)
  expect_identical(sbcg:::auto_candidate(cbind(1:3, 2:4)), NULL)
  expect_identical(formals(sbcg:::sbfit.formula)$support, "auto")
  expect_identical(formals(sbcg:::sbfit.default)$support, "auto")
  set.seed(21)
  d <- data.frame(x = runif(400, -2, 2))
  # a log-normal law whose spread grows with its level
  d$y <- exp(d$x + 0.8 * rnorm(400))
  # (60 held-out rows: the held-out CRPS decides, not the out-of-fold one)
  ctl <- small_control(epochs = 20, validation = 0.15)
  fa <- sbfit(y ~ x, d, control = ctl, seed = 5)
  fr <- sbfit(y ~ x, d, control = ctl, seed = 5, support = "real")
  fp <- sbfit(y ~ x, d, control = ctl, seed = 5, support = "positive")
  expect_identical(fa$n_valid, 60L)
  # both candidates are the fits with that support and the same seed (the
  # same held-out rows), scored on the response's scale
  # (the Gaussian linear model's CRPS on the held-out rows, of the
  # responses on their own scale, is a function of which rows they are)
  expect_identical(fr$holdout$n, fp$holdout$n)
  expect_equal(fr$holdout$crps_gauss, fp$holdout$crps_gauss)
  expect_equal(unname(fa$support_choice), c(fr$holdout$crps, fp$holdout$crps))
  expect_identical(names(fa$support_choice), c("real", "positive"))
  expect_null(fa$support_choice_oof)
  expect_null(fa$oof_crps)
  kept <- if (fp$holdout$crps < fr$holdout$crps) fp else fr
  expect_identical(fa$support$type, kept$support$type)
  expect_identical(fa$theta, kept$theta)
  expect_identical(sbsample(fa, d[1:5, ], ndraws = 20, seed = 1),
                   sbsample(kept, d[1:5, ], ndraws = 20, seed = 1))
  expect_null(fa$support_hint)
  expect_output(print(fa), "chosen by support = \"auto\" on the held-out rows: CRPS")
  # the draws of this law are far from symmetric: the log scale wins here
  expect_identical(fa$support$type, "lower")
  # an unseeded fit rebuilds from its seed, choice included
  set.seed(3)
  fu <- sbfit(y ~ x, d, control = ctl)
  expect_identical(sbfit(y ~ x, d, control = ctl, seed = fu$seed)$theta, fu$theta)
  # a response with negative values: the real line, the same bits as before
  d$z <- log(d$y)
  fz <- sbfit(z ~ x, d, control = ctl, seed = 5)
  expect_null(fz$support_choice)
  expect_identical(fz$theta, sbfit(z ~ x, d, control = ctl, seed = 5, support = "real")$theta)
  # 40 held-out rows, fewer than 50: the out-of-fold CRPS joins the choice
  f40 <- sbfit(y ~ x, d, control = small_control(epochs = 20), seed = 5)
  expect_identical(f40$n_valid, 40L)
  expect_named(f40$support_choice_oof, c("real", "positive"))
  lr <- function(v) log(v[[2L]] / v[[1L]])
  expect_identical(f40$support$type,
                   if (lr(f40$support_choice) + lr(f40$support_choice_oof) < 0) "lower" else "real")
  expect_output(print(f40), "on the 40 held-out rows and, as they are few, out of fold on all 400 rows")
  # no held-out rows: nothing to choose by, so the real line and its hint
  f0 <- sbfit(y ~ x, d, control = small_control(validation = 0), seed = 5)
  expect_identical(f0$support$type, "real")
  expect_null(f0$support_choice)
  expect_output(print(f0), "support = \"positive\" keeps the draws positive")
  # the warnings of the fit that is dropped are not shown: one each
  w <- warnings_of(sbfit(y ~ x, d[1:60, ], control = ctl, seed = 5))
  expect_identical(sum(grepl("held-out rows: too few", w)), 1L)
  expect_error(sbfit(y ~ x, d, support = "automatic"), "'support' must be \"auto\"")
  expect_error(sbfit(y ~ x, d, verbose = NA), "verbose")
})

test_that("on fewer than 50 held-out rows, support = \"auto\" also compares the fits out of fold", {
  # oof_crps() against a brute-force CRPS of each row's out-of-fold law:
  # its location and scale with the other training rows' residuals, on
  # the response's scale, weighted by the rows' weights
  set.seed(4)
  n <- 12
  prep <- list(tidx = c(1:5, 7:11), vidx = c(6L, 12L), wt = c(rep(1, 9), 2), wv = c(1, 3),
               sy = list(center = 1.5, scale = 2))
  oof <- list(m = rnorm(n), s = exp(rnorm(n)), u = rnorm(n))
  Y <- matrix(exp(rnorm(n)), n)
  brute <- vapply(seq_len(n), function(i) {
    x <- exp((oof$m[i] + oof$s[i] * oof$u[setdiff(prep$tidx, i)]) * 2 + 1.5)
    mean(abs(x - Y[i])) - mean(abs(outer(x, x, "-"))) / 2
  }, 0)
  w <- numeric(n)
  w[prep$tidx] <- prep$wt
  w[prep$vidx] <- prep$wv
  expect_equal(sbcg:::oof_crps(prep, oof, list(type = "lower", lower = 0), Y),
               sum(w * brute) / sum(w))
  expect_null(sbcg:::oof_crps(prep, NULL, list(type = "real"), Y))
  # the rule: the held-out CRPS alone, or with the out-of-fold one the sum
  # of the log ratios (log scale / real line)
  keeps <- sbcg:::auto_keeps_alt
  expect_true(keeps(c(2, 1.9)))
  expect_false(keeps(c(2, 2.1)))
  expect_true(keeps(c(2, 2.1), c(3, 2)))    # log(1.05) + log(2 / 3) < 0
  expect_false(keeps(c(2, 1.9), c(3, 4)))   # log(0.95) + log(4 / 3) > 0
  expect_false(keeps(c(2, 2.1), c(3, NA)))  # no out-of-fold figure: held out alone
  expect_false(keeps(c(NA, 1)))
  # 40 rows, 4 of them held out: the log scale is kept when the log ratios
  # of its CRPS to the real line's, held out and out of fold, add up to
  # less than 0
  set.seed(21)
  d <- data.frame(x = runif(40, -2, 2))
  d$y <- exp(d$x + 0.8 * rnorm(40))
  ctl <- small_control(epochs = 20)
  fa <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 5))
  fr <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 5, support = "real"))
  fp <- suppressWarnings(sbfit(y ~ x, d, control = ctl, seed = 5, support = "positive"))
  expect_identical(fa$n_valid, 4L)
  expect_named(fa$support_choice_oof, c("real", "positive"))
  expect_true(all(fa$support_choice_oof > 0))
  expect_equal(unname(fa$support_choice), c(fr$holdout$crps, fp$holdout$crps))
  lr <- function(v) log(v[[2L]] / v[[1L]])
  kept <- if (lr(fa$support_choice) + lr(fa$support_choice_oof) < 0) fp else fr
  expect_identical(fa$support$type, kept$support$type)
  expect_identical(fa$theta, kept$theta)
  expect_null(fa$oof_crps)
  expect_null(fr$oof_crps)
  expect_output(print(fa), "on the 4 held-out rows and, as they are few, out of fold on all 40 rows")
})

test_that("draws that round onto an open bound are moved just inside it", {
  z <- c(-800, -40, 0, 40, 800)
  inter <- sbcg:::support_inverse(list(type = "interval", lower = 0, upper = 1), z)
  expect_true(all(inter > 0 & inter < 1))
  expect_identical(inter[3], 0.5)
  expect_identical(inter[5], 1 - .Machine$double.eps)
  pos <- sbcg:::support_inverse(list(type = "lower", lower = 0), z)
  expect_true(all(pos > 0))
  expect_identical(pos[2:4], exp(z[2:4]))
  up <- sbcg:::support_inverse(list(type = "upper", upper = 5), -z)
  expect_true(all(up < 5))
  expect_identical(up[1], 5 - 5 * .Machine$double.eps)
  shifted <- sbcg:::support_inverse(list(type = "interval", lower = -3, upper = 1e6), z)
  expect_true(all(shifted > -3 & shifted < 1e6))
  # missing draws stay missing
  expect_identical(sbcg:::support_inverse(list(type = "lower", lower = 0), c(NA, NaN)),
                   c(NA, NaN))
})

test_that("support = \"auto\" cuts at 0 the real-line law of responses never below 0", {
  # amounts with exact zeros: "auto" keeps the real line (no log scale
  # takes a 0), and its law, which puts draws below 0, is cut there
  set.seed(3)
  x <- runif(300, -1, 1)
  d <- data.frame(x = x, y = pmax(0, 0.5 + x + rnorm(300, sd = 0.5)))
  f <- sbfit(y ~ x, d, seed = 1, control = small_control(epochs = 20, validation = 0.2,
                                                         direct_share = 0))
  expect_identical(f$support$type, "real")
  expect_identical(f$support$floor, 0)
  expect_identical(f$format, 12L)
  expect_output(print(f), "Support: the real line, its draws below 0 set to 0")
  # the draws are those of the uncut law, those below 0 set to 0
  raw <- f
  raw$support$floor <- NULL
  raw$format <- sbcg:::fit_format(raw)
  nd <- data.frame(x = c(-1, 0, 1))
  D0 <- sbsample(raw, nd, ndraws = 200, seed = 2, format = "matrix")
  D <- sbsample(f, nd, ndraws = 200, seed = 2, format = "matrix")
  expect_gt(mean(D0 < 0), 0.05)
  expect_identical(D, pmax(D0, 0))
  st <- sbcondstats(f, nd, ndraws = 200, seed = 2, at = 0, keep_draws = TRUE)
  expect_identical(attr(st, "bounds"), c(0, Inf))
  expect_identical(st$p0, unname(rowMeans(attr(st, "draws") <= 0)))
  # saved and read again: the same draws
  tf <- tempfile(fileext = ".rds")
  saveRDS(f, tf)
  expect_identical(sbsample(readRDS(tf), nd, ndraws = 20, seed = 4),
                   sbsample(f, nd, ndraws = 20, seed = 4))
  # scored: ties with the atom at 0 are broken at random, as for counts, so
  # that observations from the fit's own law (exchangeable with its draws)
  # have uniform PITs and coverage L; 4 binomial standard errors of 2000
  # rows, about a quarter of them 0 (with the mid-point PIT their 50% and
  # 90% intervals covered 60% and 94%)
  set.seed(5)
  nd_s <- data.frame(x = runif(2000, -1, 0))
  nd_s$y <- sbsample(f, nd_s, ndraws = 1, seed = 99, format = "matrix")[, 1]
  expect_gt(mean(nd_s$y == 0), 0.2)
  sc <- sbscore(f, nd_s, ndraws = 200, seed = 5)
  expect_lt(abs(mean(sc$cover0.5) - 0.5), 4 * sqrt(0.25 / 2000))
  expect_lt(abs(mean(sc$cover0.9) - 0.9), 4 * sqrt(0.09 / 2000))
  expect_lt(abs(mean(sc$pit < 0.2) - 0.2), 4 * sqrt(0.16 / 2000))
  # an observation below the cut lies outside the fit's support
  expect_warning(sbscore(f, data.frame(x = c(0, 0.5), y = c(1, -3)), ndraws = 20),
                 "'newdata': the response 'y' lies outside the fit's support \\(.*needs values of at least 0, where its law is cut\\) in row\\(s\\) 2")
  # the real line asked for, or responses below 0: no cut
  fr <- sbfit(y ~ x, d, seed = 1, support = "real",
              control = small_control(epochs = 20, validation = 0.2))
  expect_null(fr$support$floor)
  expect_identical(fr$theta, f$theta)
  dn <- transform(d, y = y - 0.1)
  expect_null(sbfit(y ~ x, dn, seed = 1, control = small_control(epochs = 2))$support$floor)
  # format and floor must agree
  bad <- f
  bad$format <- 10L
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$format' is 12 exactly when")
  bad <- raw
  bad$format <- 12L
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$format' is 12 exactly when")
  bad <- f
  bad$support$floor <- NA_real_
  expect_error(sbsample(bad, nd, ndraws = 5), "'object\\$support' is malformed")
})

test_that("positive and bounded supports keep every draw inside", {
  set.seed(2)
  n <- 400
  d <- data.frame(x = runif(n, -1, 1))
  d$y <- exp(d$x + rnorm(n))
  d$p <- plogis(2 * d$x + rnorm(n))
  fp <- sbfit(y ~ x, d, support = "positive", control = small_control(), seed = 1)
  expect_identical(fp$support[c("type", "lower")], list(type = "lower", lower = 0))
  nd <- data.frame(x = seq(-1, 1, length.out = 5))
  m <- sbsample(fp, nd, ndraws = 500, format = "matrix", seed = 1)
  expect_true(all(m > 0))
  expect_true(all(predict(fp, nd, probs = c(0.01, 0.5)) > 0))
  expect_identical(unname(predict(fp, nd, at = 0)[, 1]), rep(0, 5))
  # the same fit as log(y) ~ x, mapped back
  fl <- sbfit(log(y) ~ x, d, control = small_control(), seed = 1)
  expect_identical(fl$theta, fp$theta)
  expect_equal(log(m), sbsample(fl, nd, ndraws = 500, format = "matrix", seed = 1))
  fb <- sbfit(p ~ x, d, support = c(0, 1), control = small_control(), seed = 1)
  mb <- sbsample(fb, nd, ndraws = 500, format = "matrix", seed = 1)
  expect_true(all(mb > 0 & mb < 1))
  # responses outside the support are scored, with a warning naming them
  expect_warning(sbscore(fb, transform(d[1:5, ], p = c(0.5, 1.2, 0.5, 0, 0.5)), ndraws = 20),
                 "the response 'p' lies outside the fit's support.*row\\(s\\) 2, 4:")
  expect_output(print(fb), "Support: c\\(0, 1\\)")
  expect_output(print(sbfit(p ~ x, d, control = small_control(), seed = 1, support = "real")),
                "support = c\\(0, 1\\) keeps")
  # one-sided bounds
  fu <- sbfit(I(-y) ~ x, d, support = c(-Inf, 0), control = small_control(), seed = 1)
  expect_true(all(sbsample(fu, nd, ndraws = 100, format = "matrix") < 0))
  fr <- sbfit(y ~ x, d, support = c(-Inf, Inf), control = small_control(), seed = 1)
  expect_identical(fr$support$type, "real")
  # several responses: the support applies to each
  f2 <- sbfit(cbind(y, p) ~ x, d, support = "positive", control = small_control(), seed = 1)
  expect_true(all(sbsample(f2, nd, ndraws = 50, format = "matrix") > 0))
  # fits from before the support existed behave as the real line
  old <- fp
  old$support <- NULL
  expect_equal(sbsample(old, nd, ndraws = 20, format = "matrix", seed = 1),
               log(sbsample(fp, nd, ndraws = 20, format = "matrix", seed = 1)))
})

test_that("tidy output: predictor columns, long densities, syntactic names, labels", {
  fit <- small_fit()
  nd <- data.frame(x = c(-1, 0.5), f = factor(c("a", "c")), other = 1:2)
  long <- sbsample(fit, nd, ndraws = 4, seed = 1)
  expect_named(long, c(".row", "x", "f", ".draw", "y"))
  expect_identical(long$f, factor(rep(c("a", "c"), each = 4), levels = c("a", "c")))
  st <- sbcondstats(fit, nd, ndraws = 50, at = c(-1.5, 0), seed = 1)
  expect_named(st, c(".row", "x", "f", "mean", "sd", "q0.05", "q0.5", "q0.95",
                     "pm1.5", "p0", "density"))
  expect_identical(names(st), make.names(names(st)))
  # densities in long form
  dl <- as.data.frame(st, densities = TRUE)
  expect_named(dl, c(".row", "x", "f", ".value", ".density"))
  expect_identical(nrow(dl), 2L * length(st$density[[1]]$x))
  expect_identical(dl$.density[dl$.row == 2], st$density[[2]]$y)
  plain <- as.data.frame(st)
  expect_identical(class(plain), "data.frame")
  expect_false("density" %in% names(plain))
  expect_error(as.data.frame(sbcondstats(fit, nd, ndraws = 5, probs = 0.5, density = FALSE), densities = TRUE),
               "no density column")
  expect_error(as.data.frame(st, densities = NA), "'densities'")
  # legend labels give the predictor values that vary
  expect_identical(sbcg:::row_labels(st, 1:2), c("x = -1.0, f = a", "x =  0.5, f = c"))
  st1 <- sbcondstats(fit, nd[c(1, 1), ], ndraws = 20, seed = 1)
  expect_identical(sbcg:::row_labels(st1, 1:2), c("row 1", "row 2"))
  pdf(NULL)
  on.exit(dev.off())
  expect_silent(plot(st))
  # a subset of rows keeps what plot() needs; a selection of columns does not
  expect_silent(plot(st[2, ]))
  expect_identical(attr(st[2, ], "ynames"), attr(st, "ynames"))
  expect_identical(class(st[, c(".row", "mean")]), "data.frame")
  # several responses: one panel each
  d <- gauss_data(300, 2)
  d$y2 <- rnorm(300)
  f2 <- sbfit(cbind(y, y2) ~ x, d, control = small_control(), seed = 1)
  st2 <- sbcondstats(f2, data.frame(x = c(-1, 1)), ndraws = 30, seed = 1)
  plot(st2)
  expect_identical(par("mfrow"), c(1L, 1L))
  # a row's components share its label; by default the first 8 rows of newdata
  expect_identical(sbcg:::row_labels(st2, 1:4), rep(c("x = -1", "x =  1"), each = 2))
  st8 <- sbcondstats(f2, data.frame(x = seq(-1, 1, length.out = 10)), ndraws = 30, seed = 1)
  expect_identical(sbcg:::default_density_rows(st8), 1:16)
  expect_silent(plot(st8, type = "density"))
  dl2 <- as.data.frame(st2, densities = TRUE)
  expect_named(dl2, c(".row", "x", ".response", ".value", ".density"))
  # a predictor named like a statistic is kept; a statistic like a predictor is not
  d$q1 <- d$x
  f3 <- sbfit(y ~ q1, d, control = small_control(), seed = 1)
  st3 <- sbcondstats(f3, data.frame(q1 = c(-1, 1)), ndraws = 30, at = c(0, Inf), seed = 1)
  expect_named(as.data.frame(st3, densities = TRUE), c(".row", "q1", ".value", ".density"))
})
