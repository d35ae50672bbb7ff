# The bad-input matrix: every case must end in an R error (or, where
# marked, a warning) whose message names the argument; none may crash.

fit1 <- small_fit()
set.seed(31)
dd <- data.frame(x = runif(60), f = factor(rep(c("a", "b", "c"), 20)))
dd$y <- dd$x + rnorm(60)
dd$y2 <- rnorm(60)
fit2 <- sbfit(cbind(y, y2) ~ x, dd, control = small_control(), seed = 1)
mx <- matrix(runif(120), 60, 2, dimnames = list(NULL, c("a", "b")))
fitm <- sbfit(mx, dd$y, control = small_control(), seed = 1)
nd <- data.frame(x = c(0, 1), f = factor(c("a", "b")))
nds <- cbind(nd, y = c(0.5, 1))
# a fit with a bridge on the response itself (test-direct.R)
fitd <- suppressWarnings(sbfit(y ~ x, gauss_data(150, 4), control = small_control(epochs = 100),
                               seed = 2, support = "real"))
stopifnot(!is.null(fitd$direct))
ctl <- small_control()

with_na <- function(df, col, value, row = 2) { df[[col]][row] <- value; df }
edit_fit <- function(fit, f) f(fit)

cases <- list(
  # sbfit: formula and data
  list(quote(sbfit(y ~ x, with_na(dd, "y", Inf), control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, with_na(dd, "y", -Inf), control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, with_na(dd, "x", Inf), control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, with_na(dd, "x", NaN), na.action = na.fail, control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, with_na(dd, "y", NA), na.action = na.fail, control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, with_na(dd, "x", 1e300), control = ctl)), "'data'.*1e150"),
  list(quote(sbfit(y ~ x, with_na(dd, "y", -1e300), control = ctl)), "'data'.*1e150"),
  list(quote(sbfit(y ~ x, dd[0, ], control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, dd[1, ], control = ctl)), "'data' must have at least 2 rows"),
  list(quote(sbfit(y ~ x, "not a data frame", control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, transform(dd, x = I(as.list(x))), control = ctl)), "'data'.*'x'"),
  list(quote(sbfit(y ~ x, transform(dd, x = complex(real = x)), control = ctl)), "'data'.*'x'"),
  list(quote(sbfit(y ~ x, transform(dd, y = as.character(y)), control = ctl)), "'formula'"),
  list(quote(sbfit(y ~ x, transform(dd, y = y > 0), control = ctl)), "'formula'"),
  list(quote(sbfit(y ~ x, transform(dd, y = factor(y > 0)), control = ctl)), "'formula'"),
  list(quote(sbfit(y ~ nosuch, dd, control = ctl)), "'formula' and 'data'"),
  list(quote(sbfit(y ~ 0, dd, control = ctl)), "'formula' must have a predictor or an intercept"),
  list(quote(sbfit(~ x, dd, control = ctl)), "'formula' must have a response"),
  list(quote(sbfit(y ~ x, dd, subset = rep(FALSE, 60), control = ctl)), "'data'"),
  list(quote(sbfit(y ~ x, dd, subset = "x", control = ctl)), "'data'"),
  # sbfit: weights
  list(quote(sbfit(y ~ x, dd, weights = rep(-1, 60), control = ctl)), "'weights' must be non-negative"),
  list(quote(sbfit(y ~ x, dd, weights = rep(0, 60), control = ctl)), "'weights' must not be all zero"),
  list(quote(sbfit(y ~ x, dd, weights = c(NaN, rep(1, 59)), na.action = na.fail, control = ctl)), "'formula' and 'data'|'weights'"),
  list(quote(sbfit(y ~ x, dd, weights = c(Inf, rep(1, 59)), control = ctl)), "'weights' must be finite"),
  list(quote(sbfit(y ~ x, dd, weights = rep("a", 60), control = ctl)), "'formula' and 'data'|'weights'"),
  list(quote(sbfit(y ~ x, dd, weights = 1:3, control = ctl)), "'formula' and 'data'|'weights'"),
  list(quote(sbfit(mx, dd$y, weights = rep(1, 3), control = ctl)), "'weights'"),
  list(quote(sbfit(mx, dd$y, weights = list(1), control = ctl)), "'weights'"),
  # sbfit: x / y interface
  list(quote(sbfit(mx, c(NA, dd$y[-1]), control = ctl)), "'y' has missing"),
  list(quote(sbfit(replace(mx, 3, NA), dd$y, control = ctl)), "'x' has missing"),
  list(quote(sbfit(mx, dd$y[-1], control = ctl)), "'x' and 'y'"),
  list(quote(sbfit(mx[, 0], dd$y, control = ctl)), "'x' must have at least one column"),
  list(quote(sbfit(mx[1, , drop = FALSE], dd$y[1], control = ctl)), "'x' must have at least 2 rows"),
  list(quote(sbfit(matrix(letters[1:4]), 1:4, control = ctl)), "'x' must be a numeric"),
  list(quote(sbfit(matrix(complex(real = 1:4)), 1:4, control = ctl)), "'x' must be a numeric"),
  list(quote(sbfit(list(1, 2), 1:2, control = ctl)), "'x' must be a numeric"),
  list(quote(sbfit(mx, as.list(dd$y), control = ctl)), "'y' must be a numeric"),
  list(quote(sbfit(mx, letters[1:60], control = ctl)), "'y' must be a numeric"),
  list(quote(sbfit(mx, control = ctl)), "'y' is missing"),
  list(quote(sbfit(`colnames<-`(mx, c("a", "a")), dd$y, control = ctl)), "'x' must have unique"),
  list(quote(sbfit(setNames(as.data.frame(mx), c("a", "a")), dd$y, control = ctl)), "'x' must have unique"),
  list(quote(sbfit(data.frame(a = I(as.list(1:60))), dd$y, control = ctl)), "'x'.*'a'"),
  # sbfit: other arguments
  list(quote(sbfit(y ~ x, dd, control = "fast")), "'control'"),
  list(quote(sbfit(y ~ x, dd, control = list(hiden = 3))), "'control' has unknown.*'hiden' \\(did you mean 'hidden'"),
  list(quote(sbfit(y ~ x, dd, control = list(3))), "'control' must be a named list"),
  list(quote(sbfit(y ~ x, dd, control = ctl, threads = 0)), "'threads'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, threads = 1.5)), "'threads'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, threads = NA)), "'threads'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, threads = "2")), "'threads'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, seed = c(1, 2))), "'seed'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, seed = NA)), "'seed'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, verbose = "yes")), "'verbose'"),
  list(quote(sbfit(y ~ x, dd, control = ctl, epochs = 3)), "unknown argument"),
  list(quote(sbfit(y ~ x, dd, control = list(hidden = c(1e5, 1e5)))), "'control\\$hidden'"),
  # sbfit: support
  list(quote(sbfit(y ~ x, dd, control = ctl, support = "bounded")), "'support' must be"),
  list(quote(sbfit(y ~ x, dd, control = ctl, support = NA)), "'support' must be"),
  list(quote(sbfit(y ~ x, dd, control = ctl, contrasts = "contr.sum")), "'contrasts' must be NULL or a named list"),
  list(quote(sbfit(y ~ x, dd, control = ctl, support = c(0, 1, 2))), "'support' must be"),
  list(quote(sbfit(y ~ x, dd, control = ctl, support = list(0, 1))), "'support' must be"),
  list(quote(sbfit(y ~ x, dd, control = ctl, support = c(2, 1))), "'support': the lower bound"),
  list(quote(sbfit(y ~ x, dd, control = ctl, support = c(1, 1))), "'support': the lower bound"),
  list(quote(sbfit(y ~ x, dd, control = ctl, support = "positive")), "'support' = \"positive\" needs values above 0; the response 'y' in 'data' is not, in row\\(s\\) [0-9]"),
  list(quote(sbfit(y ~ x, transform(dd, y = abs(y) + 0.5), control = ctl, support = "count")), "'support' = \"count\" needs non-negative whole numbers.*row\\(s\\) 1, 2"),
  list(quote(sbfit(y ~ x, transform(dd, y = -(1:60)), control = ctl, support = "count")), "'support' = \"count\""),
  list(quote(sbfit(y ~ x, transform(dd, y = c(0, rep(0.5, 59))), control = ctl, support = c(0, 1))), "'support' = c\\(0, 1\\) needs values strictly between 0 and 1.*row\\(s\\) 1$"),
  list(quote(sbfit(mx, dd$y, control = ctl, support = c(-Inf, -10))), "'support' = c\\(-Inf, -10\\).*'y'"),
  list(quote(sbfit(cbind(y, z = abs(y)) ~ x, dd, control = ctl, support = "positive")), "the response 'y' in 'data' is not"),
  # sbcg_control
  list(quote(sbcg_control(hidden = 0)), "'hidden'"),
  list(quote(sbcg_control(hidden = -4)), "'hidden'"),
  list(quote(sbcg_control(hidden = 2.5)), "'hidden'"),
  list(quote(sbcg_control(hidden = NA)), "'hidden'"),
  list(quote(sbcg_control(hidden = "32")), "'hidden'"),
  list(quote(sbcg_control(decorrelate = "yes")), "'decorrelate'"),
  list(quote(sbcg_control(decorrelate = c(TRUE, FALSE))), "'decorrelate'"),
  list(quote(sbcg_control(hidden = integer())), "'hidden'"),
  list(quote(sbcg_control(hidden = 1e9)), "'hidden'"),
  list(quote(sbcg_control(activation = "softplus")), "'activation'"),
  list(quote(sbcg_control(n_freq = 1000)), "'n_freq'"),
  list(quote(sbcg_control(freq_range = 1)), "'freq_range'"),
  list(quote(sbcg_control(freq_range = c(0, 1))), "'freq_range'"),
  list(quote(sbcg_control(time_map = "cubic")), "'time_map'"),
  list(quote(sbcg_control(t_tail = 2)), "'t_tail'"),
  list(quote(sbcg_control(t_tail = NA)), "'t_tail'"),
  list(quote(sbcg_control(t_tail = 0.5, t_min = 0)), "'t_tail'"),
  list(quote(sbcg_control(precondition = "scale")), "'precondition'"),
  list(quote(sbcg_control(precondition = NA)), "'precondition'"),
  list(quote(sbcg_control(folds = 0)), "'folds'"),
  list(quote(sbcg_control(folds = 2.5)), "'folds'"),
  list(quote(sbcg_control(folds = 21)), "'folds'"),
  list(quote(sbcg_control(input_decay = -1)), "'input_decay'"),
  list(quote(sbcg_control(input_decay = NA)), "'input_decay'"),
  list(quote(sbcg_control(input_decay = "10")), "'input_decay'"),
  list(quote(sbcg_control(input_decay = 1001)), "'input_decay'"),
  list(quote(sbcg_control(baseline = "quadratic")), "'baseline'"),
  list(quote(sbcg_control(baseline = 1)), "'baseline'"),
  list(quote(sbcg_control(bridge_inputs = "some")), "'bridge_inputs'"),
  list(quote(sbcg_control(epochs = 0)), "'epochs'"),
  list(quote(sbcg_control(epochs = NA)), "'epochs'"),
  list(quote(sbcg_control(epochs = 1e12)), "'epochs'"),
  list(quote(sbcg_control(samples = -1)), "'samples'"),
  list(quote(sbcg_control(batch_size = 0)), "'batch_size'"),
  list(quote(sbcg_control(batch_size = 10.5)), "'batch_size'"),
  list(quote(sbcg_control(lr = -1)), "'lr'"),
  list(quote(sbcg_control(lr = NaN)), "'lr'"),
  list(quote(sbcg_control(lr = c(0.1, 0.2))), "'lr'"),
  list(quote(sbcg_control(lr_min = -1)), "'lr_min'"),
  list(quote(sbcg_control(lr_schedule = "step")), "'lr_schedule'"),
  list(quote(sbcg_control(warmup = -1)), "'warmup'"),
  list(quote(sbcg_control(weight_decay = 2)), "'weight_decay'"),
  list(quote(sbcg_control(betas = 0.9)), "'betas'"),
  list(quote(sbcg_control(adam_eps = 0)), "'adam_eps'"),
  list(quote(sbcg_control(validation = -0.1)), "'validation'"),
  list(quote(sbcg_control(validation = 0.95)), "'validation'"),
  list(quote(sbcg_control(valid_every = 0)), "'valid_every'"),
  list(quote(sbcg_control(patience = 0.5)), "'patience'"),
  list(quote(sbcg_control(min_epochs = -1)), "'min_epochs'"),
  list(quote(sbcg_control(ema = 1)), "'ema'"),
  list(quote(sbcg_control(parameterization = "score")), "'parameterization'"),
  list(quote(sbcg_control(t_min = -0.1)), "'t_min'"),
  list(quote(sbcg_control(t_max = 1)), "'t_max'"),
  list(quote(sbcg_control(standardize = "yes")), "'standardize'"),
  list(quote(sbcg_control(steps = 0)), "'steps'"),
  list(quote(sbcg_control(steps = 1e9)), "'steps'"),
  list(quote(sbcg_control(sampler = "heun")), "'sampler'"),
  list(quote(sbcg_control(grid_power = 100)), "'grid_power'"),
  list(quote(sbcg_control(draws = -1)), "'draws'"),
  list(quote(sbcg_control(draws = 1)), "'draws'"),
  list(quote(sbcg_control(precondition = "loc")), "'precondition'.*abbreviates \"location-scale\" and \"location\" alike"),
  list(quote(sbcg_control(skew_transform = NA)), "'skew_transform'"),
  list(quote(sbcg_control(cell_effects = "no")), "'cell_effects'"),
  list(quote(sbcg_control(piecewise = "no")), "'piecewise'"),
  list(quote(sbcg_control(ensemble = 0)), "'ensemble'"),
  list(quote(sbcg_control(mean_residuals = "yes")), "'mean_residuals'"),
  list(quote(sbcg_control(recalibrate = c(TRUE, FALSE))), "'recalibrate'"),
  list(quote(sbcg_control(linear_mix = "yes")), "'linear_mix'"),
  list(quote(sbcg_control(deconvolve = "yes")), "'deconvolve'"),
  list(quote(sbcg_control(direct_share = 1)), "'direct_share'"),
  list(quote(sbcg_control(direct_share = -0.1)), "'direct_share'"),
  list(quote(sbcg_control(sample = 2e5)), "'sample' \\(did you mean 'samples' or 'sampler'\\?\\)"),
  list(quote(sbcg_control(hiden = 8)), "'hiden' \\(did you mean 'hidden'\\?\\)"),
  list(quote(sbcg_control(8)), "named settings only"),
  # sbsample
  list(quote(sbsample("fit", nd)), "'object' must be a fit"),
  list(quote(sbsample(unclass(fit1), nd)), "'object' must be a fit"),
  list(quote(sbsample(fit1)), "'newdata' is missing"),
  list(quote(sbsample(fit1, NULL)), "'newdata'"),
  list(quote(sbsample(fit1, "x")), "'newdata' must be a data frame"),
  list(quote(sbsample(fit1, list(x = 1, f = "a"))), "'newdata' must be a data frame"),
  list(quote(sbsample(fit1, nd["x"])), "'newdata' lacks column\\(s\\) f"),
  list(quote(sbsample(fit1, data.frame(z = 1))), "'newdata' lacks column\\(s\\) x, f"),
  list(quote(sbsample(fit1, data.frame(x = 1, f = "d"))), "'newdata'.*new level"),
  list(quote(sbsample(fit1, data.frame(x = NA_real_, f = "a"), na.action = na.fail)), "'newdata' has missing.*'na.action'"),
  list(quote(sbsample(fit1, data.frame(x = NaN, f = "a"), na.action = "na.fail")), "'newdata' has missing"),
  list(quote(sbsample(fit1, data.frame(x = Inf, f = "a"))), "'newdata' has infinite"),
  list(quote(sbsample(fit1, data.frame(x = c(0, 1e308, -2e150), f = "a"))),
       "'newdata' has predictor values beyond 1e150 in absolute value in row\\(s\\) 2, 3"),
  list(quote(predict(fit1, data.frame(x = 1e151, f = "a"))), "'newdata' has predictor values beyond 1e150"),
  list(quote(sbsample(fit1, nd, na.action = "drop")), "'na.action'"),
  list(quote(sbsample(fit1, nd, na.action = mean)), "'na.action'"),
  list(quote(sbsample(fit1, data.frame(x = "0.5", f = "a"))), "'newdata'"),
  list(quote(sbsample(fit1, data.frame(x = I(list(1)), f = "a"))), "'newdata'"),
  list(quote(sbsample(fit1, data.frame(x = 1, f = NA), na.action = na.fail)), "'newdata'"),
  list(quote(sbsample(fitm, data.frame(a = 1))), "'newdata' lacks column\\(s\\) b"),
  list(quote(sbsample(fitm, matrix(1, 1, 3))), "'newdata' has 3 unnamed column\\(s\\); the fit has 2 \\(a, b\\)"),
  list(quote(sbsample(fitm, data.frame(a = "1", b = 2))), "'newdata': column 'a'"),
  list(quote(sbsample(fit1, nd, ndraws = 0)), "'ndraws'"),
  list(quote(sbsample(fit1, nd, ndraws = -5)), "'ndraws'"),
  list(quote(sbsample(fit1, nd, ndraws = 1.5)), "'ndraws'"),
  list(quote(sbsample(fit1, nd, ndraws = NA)), "'ndraws'"),
  list(quote(sbsample(fit1, nd, ndraws = "10")), "'ndraws'"),
  list(quote(sbsample(fit1, nd, ndraws = 1e12)), "'ndraws'"),
  list(quote(sbsample(fit1, rbind(nd, nd), ndraws = 1e8)), "'ndraws'.*sbcg.max_draws"),
  list(quote(sbsample(fit1, nd, n = 0)), "'n' must be"),
  list(quote(sbsample(fit1, nd, n = 5, ndraws = 5)), "'ndraws' or its old name 'n'"),
  list(quote(sbsample(fit1, nd, steps = 0)), "'steps'"),
  list(quote(sbsample(fit1, nd, steps = NA)), "'steps'"),
  list(quote(sbsample(fit1, nd, steps = 2.5)), "'steps'"),
  list(quote(sbsample(fit1, nd, method = "exact")), "'method'"),
  list(quote(sbsample(fit1, nd, method = NA)), "'method'"),
  list(quote(sbsample(fit1, nd, format = "array")), "'format'"),
  list(quote(sbsample(fit1, nd, grid = c(0, 0.5, 0.4, 1))), "'grid'"),
  list(quote(sbsample(fit1, nd, grid = c(0, 1.5))), "'grid'"),
  list(quote(sbsample(fit1, nd, grid = 0.5)), "'grid'"),
  list(quote(sbsample(fit1, nd, grid = c(0, 1), steps = 10)), "'steps' or 'grid'"),
  list(quote(sbsample(fit1, nd, threads = 0)), "'threads'"),
  list(quote(sbsample(fit1, nd, seed = "a")), "'seed'"),
  list(quote(sbsample(fit1, nd, seed = Inf)), "'seed'"),
  list(quote(sbsample(fit1, nd, chunk_size = 0)), "'chunk_size'"),
  list(quote(sbsample(fit1, nd, verbose = NA)), "'verbose'"),
  # hand-edited or older fits
  list(quote(sbsample(edit_fit(fit1, function(f) { f$theta <- f$theta[1:10]; f }), nd)), "'object\\$theta'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$theta <- c(f$theta, 1); f }), nd)), "'object\\$theta'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$theta[1] <- Inf; f }), nd)), "'object\\$theta'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$theta <- as.character(f$theta); f }), nd)), "'object\\$theta'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$net$hidden <- c(16, 17); f }), nd)), "'object\\$theta'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$net$hidden <- -1; f }), nd)), "'object\\$net'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$net$d <- NA; f }), nd)), "'object\\$net'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$net$activation <- "elu"; f }), nd)), "'object\\$net'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$net$freq <- NULL; f }), nd)), "'object\\$net'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$scaling$y_scale <- 0; f }), nd)), "'object\\$scaling'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$net$time_map <- "log"; f }), nd)), "'object\\$net'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$precondition$location <- f$precondition$location[-1]; f }), nd)), "'object\\$precondition'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$precondition$scale[1] <- NaN; f }), nd)), "'object\\$precondition'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$precondition$floor <- -1; f }), nd)), "'object\\$precondition'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$precondition$net$p <- 7; f }), nd)), "'object\\$precondition'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$precondition$scale_factor <- 0; f }), nd)), "'object\\$precondition'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$scaling <- NULL; f }), nd)), "lacks scaling"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$ynames <- NULL; f }), nd)), "lacks ynames"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$xinfo$type <- "other"; f }), nd)), "'object\\$xinfo'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$control$steps <- 0; f }), nd)), "'object\\$control'"),
  list(quote(sbsample(edit_fit(fitd, function(f) { f$direct$share <- 0; f }), nd)), "'object\\$direct'"),
  list(quote(sbsample(edit_fit(fitd, function(f) { f$direct$theta <- f$direct$theta[-1]; f }), nd)), "'object\\$direct\\$theta'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$format <- NULL; f }), nd)), "another version"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$format <- 99L; f$version <- "9.9.9"; f }), nd)), "another version"),
  # sbcondstats, predict, simulate, plot
  list(quote(sbcondstats(fit1, nd, probs = 1.5)), "'probs'"),
  list(quote(sbcondstats(fit1, nd, probs = -0.5)), "'probs'"),
  list(quote(sbcondstats(fit1, nd, probs = NA)), "'probs'"),
  list(quote(sbcondstats(fit1, nd, probs = "0.5")), "'probs'"),
  list(quote(sbcondstats(fit1, nd, probs = numeric())), "'probs'"),
  list(quote(sbcondstats(fit1, nd, probs = c(0.5, 0.5))), "'probs' must not contain duplicates"),
  list(quote(sbcondstats(fit1, nd, ndraws = 1)), "'ndraws'"),
  list(quote(sbcondstats(fit1, nd, n = 1)), "'n' must be"),
  list(quote(sbcondstats(fit1, nd, density = NA)), "'density'"),
  list(quote(sbcondstats(fit1, nd, adjust = 0)), "'adjust'"),
  list(quote(sbcondstats(fit1, nd, density_n = 1)), "'density_n'"),
  list(quote(sbcondstats(fit1, nd, bw = "none")), "'bw'"),
  list(quote(sbcondstats(fit1, nd, bw = -1)), "'bw'"),
  list(quote(sbcondstats("fit", nd)), "'object' must be a fit"),
  list(quote(sbcondstats(fit1)), "'newdata' is missing"),
  list(quote(sbcondstats(fit1, nd, at = "0")), "'at'"),
  list(quote(sbcondstats(fit1, nd, se = NA)), "'se'"),
  list(quote(sbcondstats(fit1, nd, steps = 0)), "'steps'"),
  list(quote(sbcondstats(fit1, nd, method = "exact")), "'method'"),
  list(quote(sbcondstats(fit1, nd, keep_draws = 1)), "'keep_draws'"),
  list(quote(sbcondstats(fit1, nd, stratify = NA)), "'stratify'"),
  list(quote(sbsample(fit1, nd, stratify = "yes")), "'stratify'"),
  list(quote(predict(fit1, nd, stratify = c(TRUE, FALSE))), "'stratify'"),
  list(quote(sbcondstats(fit1, nd, threads = 0)), "'threads'"),
  list(quote(sbcondstats(fit1, nd, seed = "a")), "'seed'"),
  list(quote(sbcondstats(fit1, nd, chunk_size = 0)), "'chunk_size'"),
  list(quote(sbcondstats(fit1, nd, verbose = NA)), "'verbose'"),
  list(quote(sbcondstats(fit1, nd, na.action = 1)), "'na.action'"),
  # sbscore
  list(quote(sbscore("fit", nds)), "'object' must be a fit"),
  list(quote(sbscore(fit1)), "'newdata' is missing"),
  list(quote(sbscore(fit1, nd)), "'newdata' lacks the response"),
  list(quote(sbscore(fit1, nds, ndraws = 1)), "'ndraws'"),
  list(quote(sbscore(fit1, nds, n = 1)), "'n' must be"),
  list(quote(sbscore(fit1, nds, levels = 1)), "'levels' must be"),
  list(quote(sbscore(fit1, nds, levels = 0.5, level = 0.5)), "'level' or its old name 'levels'"),
  list(quote(sbscore(fit1, nds, probs = 2)), "'probs'"),
  list(quote(sbscore(fit1, nds, level = 1)), "'level'"),
  list(quote(sbscore(fit1, nds, steps = 0)), "'steps'"),
  list(quote(sbscore(fit1, nds, method = "exact")), "'method'"),
  list(quote(sbscore(fit1, nds, threads = 0)), "'threads'"),
  list(quote(sbscore(fit1, nds, seed = "a")), "'seed'"),
  list(quote(sbscore(fit1, nds, chunk_size = 0)), "'chunk_size'"),
  list(quote(sbscore(fit1, nds, verbose = NA)), "'verbose'"),
  list(quote(sbscore(fit1, transform(nds, y = c(NA, 1)), na.action = na.fail)), "'newdata' has missing.*'na.action'"),
  list(quote(sbscore(fit1, nds, na.action = "na.none")), "'na.action'"),
  list(quote(sbsample(edit_fit(fit1, function(f) { f$ynames <- ".row"; f }), nd)), "'object\\$ynames'"),
  list(quote(sbsample(edit_fit(fit2, function(f) { f$ynames <- c("a", "a"); f }), nd)), "'object\\$ynames'"),
  list(quote(sbfit(mx, cbind(.draw = dd$y), control = ctl)), "'y'.*response names"),
  list(quote(sbcg_control(sampler = 3)), "'sampler'"),
  list(quote(sbsample(fit1, nd, seed = 2^40)), "'seed'"),
  list(quote(sbcondstats(fit2, nd["x"], ndraws = 6e7)), "'ndraws'.*sbcg.max_draws"),
  list(quote(predict(fit1, nd, type = "mode")), "'type'"),
  list(quote(predict(fit1, nd, ndraws = 0)), "'ndraws'"),
  list(quote(predict(fit1, nd, n = 0)), "'n' must be"),
  list(quote(predict(fit1, nd, type = "quantile", probs = 2)), "'probs'"),
  list(quote(predict(edit_fit(fit1, function(f) { f$format <- NULL; f }), nd)), "'object' was made by another version"),
  list(quote(predict(edit_fit(fit1, function(f) { f$format <- 99L; f }), nd)), "'object\\$format' is 99, which this version.*another version or altered"),
  list(quote(predict(edit_fit(fit1, function(f) { f$precondition <- NULL; f }), nd)), "'object\\$precondition' is missing"),
  list(quote(predict(edit_fit(fit1, function(f) { f$control$grid_power <- 0; f }), nd)), "'object\\$control\\$grid_power'"),
  list(quote(predict(edit_fit(fit1, function(f) { f$control$grid_power <- NA; f }), nd)), "'object\\$control\\$grid_power'"),
  list(quote(predict(fit1)), "'newdata' is missing"),
  list(quote(predict(fit1, nd, steps = 0)), "'steps'"),
  list(quote(predict(fit1, nd, method = "exact")), "'method'"),
  list(quote(predict(fit1, nd, threads = 0)), "'threads'"),
  list(quote(predict(fit1, nd, seed = "a")), "'seed'"),
  list(quote(predict(fit1, nd, na.action = TRUE)), "'na.action'"),
  list(quote(predict(fit1, nd, interval = "confidence")), "'interval'"),
  list(quote(predict(fit2, nd["x"], interval = "prediction")), "'interval' = \"prediction\" is defined for one response"),
  list(quote(predict(fit1, nd, interval = "prediction", type = "sd")), "'interval'"),
  list(quote(predict(fit1, nd, interval = "prediction", level = 1.5)), "'level'"),
  list(quote(predict(fit1, nd, interval = "prediction", level = 0)), "'level'"),
  list(quote(predict(fit1, nd, level = NA)), "'level'"),
  list(quote(predict(fit1, nd, type = "cdf")), "'at' is missing"),
  list(quote(predict(fit1, nd, at = "a")), "'at'"),
  list(quote(predict(fit1, nd, at = list(1))), "'at'"),
  list(quote(predict(fit1, nd, type = "mean", at = 0)), "'at' goes with"),
  list(quote(predict(fit1, nd, probs = 0.5, at = 0)), "'probs'.*'at'"),
  list(quote(simulate(fit1, nsim = -1, newdata = nd)), "'nsim'"),
  list(quote(simulate(fit1, nsim = 1, seed = "x", newdata = nd)), "'seed'"),
  list(quote(simulate(fit1, nsim = 1)), "'newdata' is missing"),
  list(quote(simulate(edit_fit(fit1, function(f) { f$format <- NULL; f }), newdata = nd)), "'object' was made by another version"),
  list(quote(plot(sbcondstats(fit1, nd, ndraws = 10, density = FALSE, seed = 1))), "'x' has no density"),
  list(quote(plot(sbcondstats(fit1, nd, ndraws = 10, seed = 1), rows = 5)), "'rows'")
)

test_that("every bad input gives an error that names the argument", {
  pdf(NULL)
  on.exit(dev.off())
  for (k in seq_along(cases)) {
    cs <- cases[[k]]
    expect_error(suppressWarnings(eval(cs[[1]])), cs[[2]], info = paste0("case ", k, ": ", deparse1(cs[[1]])))
  }
})

test_that("every argument of the user-facing functions has a case", {
  # an argument of f counts as covered when a case calls f and expects a
  # message that names the argument; a new argument without a case fails
  fns <- list(sbfit = c(names(formals(sbcg:::sbfit.formula)), names(formals(sbcg:::sbfit.default))),
              sbcg_control = names(formals(sbcg_control)),
              sbsample = names(formals(sbsample)),
              sbcondstats = names(formals(sbcondstats)),
              sbscore = names(formals(sbscore)),
              predict = names(formals(sbcg:::predict.sbfit)),
              simulate = names(formals(sbcg:::simulate.sbfit)))
  # bad 'subset' and 'na.action' surface as errors about 'data' and the
  # model frame, which cases above check
  exempt <- c("...", "subset", "na.action")
  heads <- vapply(cases, function(cs) deparse1(cs[[1]][[1]]), "")
  pats <- vapply(cases, `[[`, "", 2L)
  for (f in names(fns)) {
    args <- setdiff(unique(fns[[f]]), exempt)
    covered <- vapply(args, function(a)
      any(grepl(sprintf("'%s'", a), pats[heads == f], fixed = TRUE)), NA)
    expect_identical(args[!covered], character(0), info = f)
  }
})

test_that("inputs that are odd but legal give results or warnings", {
  expect_warning(st <- sbcondstats(fit1, nd, ndraws = 20, probs = c(0.9, 0.1), seed = 1),
                 "'probs' were sorted")
  expect_named(st, c(".row", "x", "f", "mean", "sd", "q0.1", "q0.9", "density"))
  # quantiles further out than the draws resolve: a warning that names the
  # probabilities and the draws needed, for sbcondstats(), predict() and
  # summaries of kept draws; none for 0 and 1 (the extreme draws) or for
  # probabilities with at least one draw expected beyond them
  expect_warning(st <- sbcondstats(fit1, nd, ndraws = 50, probs = c(0, 0.01, 0.5, 0.995),
                                   keep_draws = TRUE, seed = 1),
                 "'probs': 0.010, 0.995 lie further .* 50 draws .* 'ndraws' of 2000 or more")
  expect_identical(st$q0, unname(apply(attr(st, "draws"), 1L, min)))
  expect_warning(predict(fit1, nd, probs = 0.999, ndraws = 100, seed = 1), "'probs': 0.999 lie")
  expect_warning(sbcondstats(st, probs = c(0.01, 0.5)), "'probs': 0.01 lie .* 50 draws")
  expect_no_warning(sbcondstats(st, probs = c(0, 0.02, 0.98, 1)))
  expect_no_warning(predict(fit1, nd, ndraws = 10, seed = 1))
  expect_no_warning(predict(fit1, nd, type = "cdf", at = 0, ndraws = 10, seed = 1))
  expect_error(predict(fit1, nd, type = "mean", probs = 2, ndraws = 10), "'probs'")
  # extra columns in newdata are ignored
  expect_identical(sbsample(fit1, cbind(nd, extra = 1:2), ndraws = 3, seed = 1),
                   sbsample(fit1, nd, ndraws = 3, seed = 1))
  # factor given as character, numeric given as integer
  expect_identical(sbsample(fit1, data.frame(x = 0:1, f = c("a", "b")), ndraws = 3, seed = 1)$y,
                   sbsample(fit1, nd, ndraws = 3, seed = 1)$y)
  # a constant predictor column, duplicated rows, one-row newdata
  d <- dd
  d$k <- 3
  fk <- sbfit(y ~ x + k, rbind(d, d), control = small_control(), seed = 1)
  expect_equal(unname(fk$scaling$x_scale[2]), 1)
  expect_equal(dim(sbsample(fk, data.frame(x = 0.5, k = 3), ndraws = 4, format = "matrix", seed = 1)),
               c(1L, 4L))
  # a fit whose chains blow up: a warning, and NA statistics, not an error
  big <- fit1
  big$theta <- big$theta * 1e250
  expect_warning(st <- sbcondstats(big, nd, ndraws = 5, probs = 0.5, seed = 1), "non-finite")
  expect_warning(m <- sbsample(big, nd, ndraws = 5, seed = 1, format = "matrix"), "non-finite")
  bad_rows <- rowSums(!is.finite(m)) > 0
  expect_true(any(bad_rows))
  expect_identical(is.na(st$mean), unname(bad_rows))
  expect_identical(is.na(st$q0.5), unname(bad_rows))
  # a constant response: a warning, and every draw is the constant
  expect_warning(fc <- sbfit(mx, rep(2.5, 60), control = small_control(), seed = 1),
                 "response 'y' is constant \\(2.5\\)")
  expect_true(all(sbsample(fc, mx[1:2, ], ndraws = 5, format = "matrix", seed = 1) == 2.5))
  expect_equal(sbcondstats(fc, mx[1:2, ], ndraws = 5, probs = 0.5, seed = 1)$sd, c(0, 0))
  fc0 <- suppressWarnings(sbfit(mx, rep(2.5, 60), control = small_control(precondition = "none"),
                               seed = 1))
  expect_true(all(sbsample(fc0, mx[1:2, ], ndraws = 5, format = "matrix", seed = 1) == 2.5))
  # one constant column of two: only that one is pinned
  expect_warning(fc2 <- sbfit(mx, cbind(a = dd$y[1:60], b = 1), control = small_control(), seed = 1),
                 "response 'b' is constant")
  a2 <- sbsample(fc2, mx[1:2, ], ndraws = 50, format = "matrix", seed = 1)
  expect_true(all(a2[, , "b"] == 1))
  expect_gt(sd(a2[, , "a"]), 0)
  # the constant column is left out of the held-out scores of the others
  expect_identical(length(fc2$holdout$pit), fc2$holdout$n)
  # a response of zeros (no spread at all, even in the Gaussian model)
  for (sup in c("auto", "real", "count")) {
    expect_warning(f0 <- sbfit(mx, rep(0, 60), control = small_control(), seed = 1, support = sup),
                   "response 'y' is constant \\(0\\)", info = sup)
    expect_true(all(sbsample(f0, mx[1:2, ], ndraws = 5, format = "matrix", seed = 1) == 0),
                info = sup)
  }
  expect_output(print(f0), "a constant response: nothing to judge")
  # a constant response with a support: the message and the draws on its own scale
  expect_warning(fp <- sbfit(mx, rep(3, 60), control = small_control(), seed = 1,
                             support = "positive"),
                 "response 'y' is constant \\(3\\): every draw will be 3$")
  expect_true(all(sbsample(fp, mx[1:2, ], ndraws = 5, format = "matrix", seed = 1) == 3))
  expect_identical(unname(predict(fp, mx[1:2, ], at = 3)[, 1]), c(1, 1))
  # a handful of distinct values: a warning, and a fit
  expect_warning(f3 <- sbfit(mx, rep(c(0, 1, 4), 20), control = small_control(), seed = 1,
                             support = "real"),
                 "only 3 distinct values.*support = \"count\"")
  expect_s3_class(f3, "sbfit")
  # as counts: counted before the dequantising noise, and the law's lack of
  # an upper bound said
  expect_warning(sbfit(mx, rep(0:3, 15), control = small_control(), seed = 1, support = "count"),
                 "only 4 distinct values \\(0, 1, 2, 3\\); the law of counts has no upper bound")
  # values that are not counts get no such pointer
  w3 <- warnings_of(sbfit(mx, rep(c(-1, 0.5, 4), 20), control = small_control(), seed = 1))
  expect_true(any(grepl("only 3 distinct values", w3)))
  expect_false(any(grepl("support = \"count\"", w3)))
  # too few rows for validation: a warning naming the setting, and that the
  # fit cannot judge itself; from 5 rows on, one row is held out
  expect_warning(f4 <- sbfit(mx[1:4, ], dd$y[1:4], control = small_control(), seed = 1),
                 "'control\\$validation'.*cannot judge", class = "sbcg_warning")
  expect_null(f4$holdout)
  f5 <- suppressWarnings(sbfit(mx[1:5, ], dd$y[1:5], control = small_control(), seed = 1))
  expect_identical(f5$n_valid, 1L)
  expect_identical(f5$holdout$n, 1L)
  # weights that are zero on all but a few rows: every cross-fitting fold
  # keeps rows of positive weight, or there is no cross-fitting
  for (k in c(3, 30)) {
    w <- rep(0, 60)
    w[seq(2, 60, length.out = k)] <- 1
    fw <- suppressWarnings(sbfit(mx, dd$y[1:60], weights = w, control = small_control(), seed = 1))
    expect_true(all(is.finite(fw$precondition$location)))
    # 3 rows are too few to cross-fit; 30 (at most 6 of them held out) give 5 folds
    expect_equal(NCOL(fw$precondition$location), if (k == 30) 5L else 1L)
  }
})
