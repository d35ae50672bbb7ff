# Plot methods: they draw on a null pdf device and return their object
# invisibly; par("usr") tells which kind of chart was drawn.

d_pl <- gauss_data(200, 41)
fit_pl <- sbfit(y ~ x, d_pl, control = small_control(epochs = 4, validation = 0.2,
                                                      valid_every = 1), seed = 1)
grid_pl <- data.frame(x = seq(-2, 2, length.out = 15))

test_that("plot.sbfit draws the loss curves and returns the fit invisibly", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  expect_invisible(res <- plot(fit_pl))
  expect_identical(res, fit_pl)
  expect_identical(par("ylog"), TRUE)
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(1, 4), f = 0.04))
  expect_invisible(plot(fit_pl, log = FALSE))
  expect_identical(par("ylog"), FALSE)
  # graphical parameters override the defaults
  expect_invisible(plot(fit_pl, main = "mine", ylim = c(0.1, 10)))
  expect_equal(par("usr")[3:4], c(-1.08, 1.08))
  # a fit without validation rows
  f0 <- sbfit(y ~ x, d_pl, control = small_control(validation = 0), seed = 1)
  expect_invisible(res0 <- plot(f0))
  expect_identical(res0, f0)
  expect_error(plot(fit_pl, log = NA), "'log'")
})

test_that("plot.sbcondstats draws a fan chart over one varying predictor", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  st <- sbcondstats(fit_pl, grid_pl, ndraws = 50, probs = c(0.05, 0.25, 0.5, 0.75, 0.95),
                    density = FALSE, seed = 1)
  expect_invisible(res <- plot(st))
  expect_identical(res, st)
  # the x axis is the predictor
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(-2, 2), f = 0.04))
  # with the training data as points: the axes also cover the data
  expect_invisible(plot(st, data = d_pl))
  expect_equal(par("usr")[1:2], grDevices::extendrange(range(c(grid_pl$x, d_pl$x)), f = 0.04))
  expect_lte(par("usr")[3], min(d_pl$y))
  # a subset of rows, and a chart without legend
  expect_invisible(plot(st, rows = 1:5, legend = FALSE, type = "fan"))
  expect_equal(par("usr")[1:2], grDevices::extendrange(range(grid_pl$x[1:5]), f = 0.04))
  # a forced fan chart over few points; forced densities
  st3 <- sbcondstats(fit_pl, data.frame(x = c(-1, 0, 1)), ndraws = 50, seed = 1)
  expect_invisible(plot(st3, type = "fan"))
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(-1, 1), f = 0.04))
  expect_invisible(plot(st3))
  xr <- range(unlist(lapply(st3$density, `[[`, "x")))
  expect_equal(par("usr")[1:2], grDevices::extendrange(xr, f = 0.04))
})

test_that("plot.sbcondstats falls back to densities and explains a refused fan", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  d2 <- d_pl
  d2$f <- factor(rep(c("a", "b"), 100))
  f2 <- sbfit(y ~ x + f, d2, control = small_control(), seed = 1)
  nd <- data.frame(x = seq(-1, 1, length.out = 10), f = rep(c("a", "b"), 5))
  st <- sbcondstats(f2, nd, ndraws = 40, seed = 2)
  expect_invisible(plot(st))
  xr <- range(unlist(lapply(st$density[1:8], `[[`, "x")))
  expect_equal(par("usr")[1:2], grDevices::extendrange(xr, f = 0.04))
  expect_error(plot(st, type = "fan"), "'type' = \"fan\" needs exactly one predictor that varies")
  nd$f <- "a"
  st1 <- sbcondstats(f2, nd, ndraws = 40, density = FALSE, seed = 2)
  expect_invisible(plot(st1))
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(-1, 1), f = 0.04))
  # no density column and no fan: the old error
  st2 <- sbcondstats(f2, nd[1:2, ], ndraws = 20, density = FALSE, seed = 2)
  expect_error(plot(st2), "'x' has no density column")
  expect_error(plot(st2, type = "fan"), "at least 3 distinct values")
})

test_that("fan charts for several responses and bad plot arguments", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  set.seed(42)
  d <- data.frame(x = runif(200))
  d$y1 <- d$x + rnorm(200, sd = 0.1)
  d$y2 <- -d$x + rnorm(200, sd = 0.2)
  fit <- sbfit(cbind(y1, y2) ~ x, d, control = small_control(), seed = 1)
  st <- sbcondstats(fit, data.frame(x = seq(0, 1, length.out = 12)), ndraws = 30,
                    density = FALSE, seed = 1)
  old <- par("mfrow")
  expect_invisible(res <- plot(st, data = d))
  expect_identical(res, st)
  expect_identical(par("mfrow"), old)
  expect_invisible(plot(st, response = "y2", data = d))
  expect_lte(par("usr")[3], min(d$y2))
  expect_error(plot(st, response = "y3"), "'response' must name response components of 'x': y1, y2")
  expect_error(plot(st, data = d["x"]), "'data' lacks the response column 'y1'")
  expect_error(plot(st, data = d["y1"]), "'data' lacks the predictor column 'x'")
  expect_error(plot(st, data = "d"), "'data' must be a data frame")
  expect_error(plot(st, type = "pie"), "'type'")
  expect_error(plot(st, rows = 0), "'rows'")
  expect_error(plot(st, rows = 1.5), "'rows'")
  expect_error(plot(st, legend = "no"), "'legend'")
  st1 <- sbcondstats(fit_pl, grid_pl, ndraws = 20, seed = 1)
  expect_error(plot(st1, response = "y"), "'response'.*only one")
})

test_that("fan charts compute the data's responses as the fit computed its own", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  set.seed(44)
  d <- data.frame(x = runif(250))
  d$y1 <- exp(3 + d$x + rnorm(250, sd = 0.2))
  d$y2 <- exp(1 - d$x + rnorm(250, sd = 0.2))
  nd <- data.frame(x = seq(0, 1, length.out = 12))
  stats_of <- function(f) sbcondstats(f, nd, ndraws = 30, density = FALSE, seed = 1)
  values <- function(st, r, data = d)
    sbcg:::response_values(data, r, attr(st, "response"), attr(st, "ynames"), parent.frame())
  # a transformation around cbind(): the points are on the log scale
  st <- stats_of(sbfit(log(cbind(y1, y2)) ~ x, d, control = small_control(), seed = 1))
  expect_equal(values(st, "y2"), log(d$y2))
  expect_invisible(plot(st, response = "y1", data = d))
  expect_lte(par("usr")[3], min(log(d$y1)))
  expect_lt(par("usr")[4], min(d$y1))
  # renamed columns of cbind()
  st <- stats_of(sbfit(cbind(a = y1, b = y2) ~ x, d, control = small_control(), seed = 1))
  expect_equal(values(st, "b"), d$y2)
  expect_invisible(plot(st, data = d))
  # a constant from where the formula was written
  k <- 10
  st <- stats_of(sbfit(I(y1 / k) ~ x, d, control = small_control(), seed = 1))
  expect_equal(values(st, "I(y1/k)"), d$y1 / 10)
  expect_invisible(plot(st, data = d))
  expect_lte(par("usr")[3], min(d$y1 / 10))
  # scale(): the training rows' mean and SD, on any rows
  st <- stats_of(sbfit(scale(y2) ~ x, d, control = small_control(), seed = 1))
  expect_equal(values(st, "scale(y2)", d[1:5, ]), (d$y2[1:5] - mean(d$y2)) / sd(d$y2))
  # and the data must still hold the response's variables
  expect_error(plot(st, data = d[c("x", "y1")]), "'data' lacks the response column 'scale\\(y2\\)'")
})

test_that("plot.sbscore draws the PIT histogram and the coverage", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  set.seed(43)
  D <- matrix(rnorm(100 * 40), 100, 40)
  sc <- score_draws(D, rnorm(100))
  old <- par("mfrow")
  expect_invisible(res <- plot(sc))
  expect_identical(res, sc)
  expect_identical(par("mfrow"), old)
  expect_invisible(plot(sc, which = "pit", breaks = 5))
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(0, 1), f = 0.04))
  expect_invisible(plot(sc, which = "coverage"))
  expect_lte(par("usr")[1], 0.5)
  A <- array(rnorm(20 * 30 * 2), c(20, 30, 2))
  sc2 <- score_draws(A, matrix(rnorm(40), 20, 2))
  expect_invisible(plot(sc2, response = "y2"))
  expect_error(plot(sc2, response = "z"), "'response'")
  expect_error(plot(sc, response = "y1"), "'response'.*only one")
  expect_error(plot(sc, which = "qq"), "'which'")
  expect_error(plot(sc, breaks = 1), "'breaks'")
  # graphical parameters replace the defaults
  expect_invisible(plot(sc, which = "pit", main = "mine", xlim = c(-0.5, 1.5)))
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(-0.5, 1.5), f = 0.04))
  expect_invisible(plot(sc, which = "coverage", xlab = "level", xlim = c(0, 1)))
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(0, 1), f = 0.04))
})

test_that("plots of statistics take graphical parameters, and say where a fan is held", {
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  st <- sbcondstats(fit_pl, grid_pl, ndraws = 50, seed = 1)
  expect_invisible(plot(st, main = "mine", xlim = c(-3, 3), xlab = "x value"))
  expect_equal(par("usr")[1:2], grDevices::extendrange(c(-3, 3), f = 0.04))
  expect_invisible(plot(st, type = "density", rows = 1:3, main = "d", ylim = c(0, 5)))
  expect_equal(par("usr")[3:4], grDevices::extendrange(c(0, 5), f = 0.04))
  # y ~ 1: no predictor for a fan chart, said so
  f1 <- sbfit(y ~ 1, d_pl, control = small_control(), seed = 1)
  expect_output(print(f1), "no predictors")
  expect_false(any(grepl("with the predictors", capture.output(print(f1)))))
  st1 <- sbcondstats(f1, ndraws = 50, seed = 1)
  expect_error(plot(st1, type = "fan"), "a predictor to put on the axis; the fit has none")
})
