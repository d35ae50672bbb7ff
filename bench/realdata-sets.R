# The data sets of bench/realdata.R and their fold assignment, shared with
# bench/realdata-diag.R.  Each set is a formula and a function returning the
# data frame.  `default_sets` are the ten of the benchmark's table; the
# sets after them (`extra_sets`) are a second and a third panel, run only
# when named with --sets, for checking that calibration holds beyond the ten.

mass_data <- function(name) {
  e <- new.env()
  utils::data(list = name, package = "MASS", envir = e)
  e[[name]]
}
unorder <- function(d) {
  for (nm in names(d)) {
    if (is.character(d[[nm]])) d[[nm]] <- factor(d[[nm]])
    if (is.ordered(d[[nm]])) d[[nm]] <- factor(d[[nm]], ordered = FALSE)
  }
  d
}
data_sets <- list(
  GAGurine = list(formula = GAG ~ Age, data = function() mass_data("GAGurine")),
  geyser = list(formula = duration ~ waiting, data = function() mass_data("geyser")),
  ChickWeight = list(formula = weight ~ Time + Diet,
                     data = function() data.frame(weight = datasets::ChickWeight$weight,
                                                  Time = datasets::ChickWeight$Time,
                                                  Diet = datasets::ChickWeight$Diet)),
  attenu = list(formula = accel ~ mag + dist, data = function() datasets::attenu),
  cpus = list(formula = perf ~ syct + mmin + mmax + cach + chmin + chmax,
              data = function() mass_data("cpus")),
  birthwt = list(formula = bwt ~ age + lwt + race + smoke + ptl + ht + ui + ftv,
                 data = function() {
                   d <- mass_data("birthwt")
                   d$race <- factor(d$race, 1:3, c("white", "black", "other"))
                   d
                 }),
  quine = list(formula = Days ~ Eth + Sex + Age + Lrn, data = function() mass_data("quine")),
  nlschools = list(formula = lang ~ IQ + GS + SES + COMB,
                   data = function() mass_data("nlschools")),
  mpg = list(formula = hwy ~ displ + year + cyl + drv + class,
             data = function() as.data.frame(ggplot2::mpg)),
  txhousing = list(formula = median ~ city + year + month,
                   data = function() as.data.frame(ggplot2::txhousing))
)
default_sets <- names(data_sets)
data_sets <- c(data_sets, list(
  Boston = list(formula = medv ~ crim + zn + indus + chas + nox + rm + age + dis + rad + tax +
                  ptratio + black + lstat, data = function() mass_data("Boston")),
  quakes = list(formula = mag ~ lat + long + depth, data = function() datasets::quakes),
  cats = list(formula = Hwt ~ Sex + Bwt, data = function() mass_data("cats")),
  Cars93 = list(formula = Price ~ Type + MPG.city + Horsepower + EngineSize + Weight + Origin,
                data = function() mass_data("Cars93")),
  # a third panel, also run only when named: sets picked for their variety
  # (skewed positive responses, counts, outliers, few rows), nothing tuned
  mammals = list(formula = brain ~ body, data = function() mass_data("mammals")),
  Melanoma = list(formula = thickness ~ age + sex + ulcer + year,
                  data = function() mass_data("Melanoma")),
  whiteside = list(formula = Gas ~ Temp + Insul, data = function() mass_data("whiteside")),
  crabs = list(formula = CW ~ sp + sex + FL + RW, data = function() mass_data("crabs")),
  epil = list(formula = y ~ trt + base + age + period, data = function() mass_data("epil")),
  hills = list(formula = time ~ dist + climb, data = function() mass_data("hills")),
  ethanol = list(formula = NOx ~ C + E, data = function() lattice::ethanol),
  CO2 = list(formula = uptake ~ Type + Treatment + conc,
             data = function() as.data.frame(datasets::CO2)),
  warpbreaks = list(formula = breaks ~ wool + tension, data = function() datasets::warpbreaks),
  car.test.frame = list(formula = Mileage ~ Weight + Disp. + HP + Type,
                        data = function() rpart::car.test.frame),
  diamonds = list(formula = price ~ carat + cut + color + clarity,
                  data = function() {
                    d <- as.data.frame(ggplot2::diamonds)
                    set.seed(1)
                    d[sort(sample.int(nrow(d), 3000)), ]
                  })
))
extra_sets <- setdiff(names(data_sets), default_sets)

# The variables of the formula, complete rows only, characters and ordered
# factors as plain factors; at most max_rows rows (set.seed(1)).  `grid` is
# the spacing of a response whose values are all integers (the gcd of the
# gaps between distinct values), 0 for a continuous one.
load_set <- function(name, max_rows = Inf) {
  s <- data_sets[[name]]
  d <- s$data()
  d <- unorder(d[, all.vars(s$formula), drop = FALSE])
  d <- d[stats::complete.cases(d), , drop = FALSE]
  n_all <- nrow(d)
  if (nrow(d) > max_rows) {
    set.seed(1)
    d <- d[sort(sample.int(nrow(d), max_rows)), , drop = FALSE]
  }
  rownames(d) <- NULL
  y <- d[[all.vars(s$formula)[1L]]]
  grid <- 0
  if (all(y == round(y))) {
    g <- function(a, b) if (b == 0) a else g(b, a %% b)
    u <- diff(sort(unique(y)))
    grid <- if (length(u)) Reduce(g, u) else 1
  }
  list(name = name, formula = s$formula, data = d, y = y, n_all = n_all, grid = grid)
}

# Fold of each of n rows: set.seed(1); sample(rep_len(1:K, n)).
fold_ids <- function(n, K) {
  set.seed(1)
  sample(rep_len(seq_len(K), n))
}
