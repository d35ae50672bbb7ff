# The data sets of bench/realdata.R and their fold assignment, shared with
# bench/realdata-diag.R.  Each set is a formula and a function returning the
# data frame.  `default_sets` are the ten of the benchmark's table; the
# sets after them are a second to an eighth panel (`extra_sets` those of
# the second to the seventh), run only
# when named with --sets, for checking that calibration holds beyond the
# ten.

pkg_data <- function(name, package) {
  e <- new.env()
  utils::data(list = name, package = package, envir = e)
  as.data.frame(e[[name]])
}
mass_data <- function(name) pkg_data(name, "MASS")
nlme_data <- function(name) pkg_data(name, "nlme")
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
                  }),
  # a fourth panel, also run only when named: 33 small and middling sets
  # from R and its recommended packages (and ggplot2), with factors,
  # ordered factors, dates and missing values, picked without trying sbcg
  # on them first
  stackloss = list(formula = stack.loss ~ Air.Flow + Water.Temp + Acid.Conc.,
                   data = function() datasets::stackloss),
  longley = list(formula = Employed ~ GNP.deflator + GNP + Unemployed + Armed.Forces +
                   Population + Year, data = function() datasets::longley),
  attitude = list(formula = rating ~ complaints + privileges + learning + raises + critical +
                    advance, data = function() datasets::attitude),
  USJudgeRatings = list(formula = RTEN ~ CONT + INTG + DMNR + DILG + CFMG,
                        data = function() datasets::USJudgeRatings),
  ToothGrowth = list(formula = len ~ supp + dose, data = function() datasets::ToothGrowth),
  InsectSprays = list(formula = count ~ spray, data = function() datasets::InsectSprays),
  PlantGrowth = list(formula = weight ~ group, data = function() datasets::PlantGrowth),
  chickwts = list(formula = weight ~ feed, data = function() datasets::chickwts),
  Orange = list(formula = circumference ~ age + Tree,
                data = function() as.data.frame(datasets::Orange)),
  esoph = list(formula = ncases ~ agegp + alcgp + tobgp, data = function() datasets::esoph),
  beaver1 = list(formula = temp ~ time + activ, data = function() datasets::beaver1),
  Loblolly = list(formula = height ~ age + Seed,
                  data = function() as.data.frame(datasets::Loblolly)),
  Puromycin = list(formula = rate ~ conc + state, data = function() datasets::Puromycin),
  airquality = list(formula = Ozone ~ Solar.R + Wind + Temp + Month,
                    data = function() datasets::airquality),
  Insurance = list(formula = Claims ~ District + Group + Age + Holders,
                   data = function() mass_data("Insurance")),
  UScereal = list(formula = calories ~ mfr + protein + fat + sodium + fibre + carbo + sugars +
                    shelf, data = function() mass_data("UScereal")),
  Pima.tr = list(formula = glu ~ npreg + bp + skin + bmi + ped + age + type,
                 data = function() mass_data("Pima.tr")),
  survey = list(formula = Height ~ Sex + Wr.Hnd + Age + Exer, data = function() mass_data("survey")),
  road = list(formula = deaths ~ drivers + popden + rural + temp + fuel,
              data = function() mass_data("road")),
  wtloss = list(formula = Weight ~ Days, data = function() mass_data("wtloss")),
  Rabbit = list(formula = BPchange ~ Dose + Treatment + Animal, data = function() mass_data("Rabbit")),
  oats = list(formula = Y ~ B + V + N, data = function() mass_data("oats")),
  npk = list(formula = yield ~ block + N + P + K, data = function() datasets::npk),
  Traffic = list(formula = y ~ year + day + limit, data = function() mass_data("Traffic")),
  economics = list(formula = unemploy ~ date + pop + psavert,
                   data = function() {
                     d <- as.data.frame(ggplot2::economics)
                     d$date <- as.numeric(d$date)
                     d
                   }),
  msleep = list(formula = sleep_total ~ vore + bodywt + brainwt,
                data = function() as.data.frame(ggplot2::msleep)),
  midwest = list(formula = percbelowpoverty ~ state + percollege + popdensity,
                 data = function() as.data.frame(ggplot2::midwest)),
  Seatbelts = list(formula = DriversKilled ~ kms + PetrolPrice + law,
                   data = function() as.data.frame(datasets::Seatbelts)),
  Oxboys = list(formula = height ~ age + Subject, data = function() as.data.frame(nlme::Oxboys)),
  Orthodont = list(formula = distance ~ age + Sex, data = function() as.data.frame(nlme::Orthodont)),
  barley = list(formula = yield ~ variety + year + site, data = function() lattice::barley),
  salinity = list(formula = sal ~ lag + trend + dis, data = function() boot::salinity),
  lung = list(formula = time ~ age + sex + ph.ecog + wt.loss, data = function() survival::lung),
  # a fifth panel, also run only when named: 20 more sets from R and its
  # recommended packages, none of them tried with sbcg before the panel
  # was fixed
  anorexia = list(formula = Postwt ~ Prewt + Treat, data = function() mass_data("anorexia")),
  cabbages = list(formula = HeadWt ~ Cult + Date + VitC, data = function() mass_data("cabbages")),
  Sitka = list(formula = size ~ Time + treat, data = function() mass_data("Sitka")),
  gilgais = list(formula = e80 ~ pH00 + pH30 + pH80 + e00 + e30 + c00 + c30,
                 data = function() mass_data("gilgais")),
  UScrime = list(formula = y ~ M + So + Ed + Po1 + LF + M.F + Pop + NW + U1 + U2 + GDP + Ineq +
                   Prob + Time, data = function() mass_data("UScrime")),
  michelson = list(formula = Speed ~ Expt + Run, data = function() mass_data("michelson")),
  Pima.te = list(formula = glu ~ npreg + bp + skin + bmi + ped + age + type,
                 data = function() mass_data("Pima.te")),
  Rubber = list(formula = loss ~ hard + tens, data = function() mass_data("Rubber")),
  petrol = list(formula = Y ~ SG + VP + V10 + EP, data = function() mass_data("petrol")),
  Theoph = list(formula = conc ~ Time + Dose + Wt, data = function() as.data.frame(datasets::Theoph)),
  Indometh = list(formula = conc ~ time, data = function() as.data.frame(datasets::Indometh)),
  DNase = list(formula = density ~ conc + Run, data = function() as.data.frame(datasets::DNase)),
  OrchardSprays = list(formula = decrease ~ rowpos + colpos + treatment,
                       data = function() datasets::OrchardSprays),
  freeny = list(formula = y ~ lag.quarterly.revenue + price.index + income.level +
                  market.potential, data = function() datasets::freeny),
  USArrests = list(formula = Murder ~ Assault + UrbanPop + Rape, data = function() datasets::USArrests),
  BodyWeight = list(formula = weight ~ Time + Diet, data = function() as.data.frame(nlme::BodyWeight)),
  IGF = list(formula = conc ~ age, data = function() as.data.frame(nlme::IGF)),
  Soybean = list(formula = weight ~ Time + Variety + Year, data = function() as.data.frame(nlme::Soybean)),
  poisons = list(formula = time ~ poison + treat, data = function() boot::poisons),
  solder = list(formula = skips ~ Opening + Solder + Mask + PadType + Panel,
                data = function() rpart::solder),
  # a sixth panel, also run only when named: 20 more sets from R's
  # recommended packages, fixed before sbcg was run on any of them
  beaver2 = list(formula = temp ~ time + activ, data = function() datasets::beaver2),
  iris = list(formula = Sepal.Length ~ Sepal.Width + Petal.Length + Petal.Width + Species,
              data = function() datasets::iris),
  morley = list(formula = Speed ~ Expt + Run, data = function() datasets::morley),
  singer = list(formula = height ~ voice.part, data = function() lattice::singer),
  amis = list(formula = speed ~ period + warning + pair, data = function() boot::amis),
  cd4 = list(formula = oneyear ~ baseline, data = function() boot::cd4),
  frets = list(formula = l2 ~ l1 + b1 + b2, data = function() boot::frets),
  Dialyzer = list(formula = rate ~ pressure + QB, data = function() nlme_data("Dialyzer")),
  Milk = list(formula = protein ~ Time + Diet, data = function() nlme_data("Milk")),
  Spruce = list(formula = logSize ~ days + plot, data = function() nlme_data("Spruce")),
  RatPupWeight = list(formula = weight ~ sex + Lsize + Treatment,
                      data = function() nlme_data("RatPupWeight")),
  veteran = list(formula = time ~ trt + celltype + karno + diagtime + age + prior,
                 data = function() survival::veteran),
  fgl = list(formula = RI ~ Na + Mg + Al + Si + K + Ca + Ba + Fe,
             data = function() mass_data("fgl")),
  stormer = list(formula = Time ~ Viscosity + Wt, data = function() mass_data("stormer")),
  muscle = list(formula = Length ~ Conc + Strip, data = function() mass_data("muscle")),
  topo = list(formula = z ~ x + y, data = function() mass_data("topo")),
  leuk = list(formula = time ~ wbc + ag, data = function() mass_data("leuk")),
  Sitka89 = list(formula = size ~ Time + treat, data = function() mass_data("Sitka89")),
  Wafer = list(formula = current ~ voltage + Wafer, data = function() nlme_data("Wafer")),
  MathAchieve = list(formula = MathAch ~ SES + Minority + Sex + MEANSES,
                     data = function() nlme_data("MathAchieve")),
  # a seventh panel, also run only when named: 21 more sets from R and its
  # recommended packages, fixed before sbcg was run on any of them, and not
  # in "half1" and "half2"
  trees = list(formula = Volume ~ Girth + Height, data = function() datasets::trees),
  swiss = list(formula = Fertility ~ Agriculture + Examination + Education + Catholic +
                 Infant.Mortality, data = function() datasets::swiss),
  mtcars = list(formula = mpg ~ cyl + disp + hp + drat + wt + qsec + vs + am + gear + carb,
                data = function() datasets::mtcars),
  rock = list(formula = perm ~ area + peri + shape, data = function() datasets::rock),
  LifeCycleSavings = list(formula = sr ~ pop15 + pop75 + dpi + ddpi,
                          data = function() datasets::LifeCycleSavings),
  state = list(formula = Life.Exp ~ Population + Income + Illiteracy + Murder + HS.Grad +
                 Frost + Area,
               data = function() {
                 d <- as.data.frame(datasets::state.x77)
                 names(d) <- make.names(names(d))
                 d
               }),
  coop = list(formula = Conc ~ Lab + Spc + Bat, data = function() mass_data("coop")),
  genotype = list(formula = Wt ~ Litter + Mother, data = function() mass_data("genotype")),
  ships = list(formula = incidents ~ type + year + period + service,
               data = function() mass_data("ships")),
  snails = list(formula = Deaths ~ Species + Exposure + Rel.Hum + Temp,
                data = function() mass_data("snails")),
  immer = list(formula = Y2 ~ Y1 + Loc + Var, data = function() mass_data("immer")),
  Earthquake = list(formula = accel ~ Richter + distance, data = function() nlme_data("Earthquake")),
  Fatigue = list(formula = relLength ~ cycles, data = function() nlme_data("Fatigue")),
  Ovary = list(formula = follicles ~ Time, data = function() nlme_data("Ovary")),
  Pixel = list(formula = pixel ~ day + Side, data = function() nlme_data("Pixel")),
  Machines = list(formula = score ~ Machine + Worker, data = function() nlme_data("Machines")),
  pbc = list(formula = bili ~ age + sex + edema + albumin + alk.phos + platelet,
             data = function() survival::pbc),
  urine = list(formula = calc ~ gravity + ph + osmo + cond + urea, data = function() boot::urine),
  melanoma = list(formula = thickness ~ age + sex + year + ulcer, data = function() boot::melanoma),
  Remifentanil = list(formula = conc ~ Time + Age + Wt + Rate,
                      data = function() nlme_data("Remifentanil")),
  flchain = list(formula = kappa ~ age + sex + lambda + creatinine,
                 data = function() survival::flchain)
))
extra_sets <- setdiff(names(data_sets), default_sets)
panel_sets <- function(first, last) names(data_sets)[match(first, names(data_sets)):match(last, names(data_sets))]
panel4_sets <- panel_sets("stackloss", "lung")
panel5_sets <- panel_sets("anorexia", "solder")
panel6_sets <- panel_sets("beaver2", "MathAchieve")
panel7_sets <- panel_sets("trees", "flchain")
# The 98 sets of the first six panels in two halves that take about as
# long as each other, for two processes side by side ("half1" and "half2"
# in --sets; "all" names the first seven panels' sets, the seventh's too).
half1_sets <- c(
  "txhousing", "nlschools", "GAGurine", "ChickWeight", "cpus", "quine",
  "Boston", "cats", "mammals", "whiteside", "epil", "ethanol", "warpbreaks",
  "stackloss", "attitude", "ToothGrowth", "PlantGrowth", "Orange",
  "beaver1", "Puromycin", "Insurance", "Pima.tr", "road", "Rabbit", "npk",
  "economics", "midwest", "Oxboys", "barley", "lung", "cabbages", "gilgais",
  "michelson", "Rubber", "Theoph", "DNase", "freeny", "BodyWeight",
  "Soybean", "solder", "iris", "singer", "frets", "Milk", "RatPupWeight",
  "fgl", "muscle", "leuk", "Wafer")
half2_sets <- setdiff(names(data_sets), c(half1_sets, panel7_sets))

# The 119 sets of the first seven panels ("all" in --sets).
all_sets <- names(data_sets)

# An eighth panel: 21 sets from R's datasets and recommended packages
# (lattice, nlme, MASS, boot, survival, rpart) that no earlier panel used,
# fixed before sbcg was run on them; run only when named ("panel8").
pkg_loader <- function(name, package, factors = character()) function() {
  d <- pkg_data(name, package)
  for (v in factors) d[[v]] <- factor(as.character(d[[v]]))
  d
}
panel8 <- list(
  faithful = list(formula = eruptions ~ waiting, data = function() datasets::faithful),
  cars = list(formula = dist ~ speed, data = function() datasets::cars),
  environmental = list(formula = ozone ~ radiation + temperature + wind,
                       data = pkg_loader("environmental", "lattice")),
  bdf = list(formula = langPOST ~ IQ.verb + IQ.perf + sex + Minority + repeatgr + ses + langPRET,
             data = pkg_loader("bdf", "nlme")),
  Aids2 = list(formula = age ~ state + sex + T.categ, data = pkg_loader("Aids2", "MASS")),
  catsM = list(formula = Hwt ~ Bwt, data = pkg_loader("catsM", "boot")),
  channing = list(formula = exit ~ entry + sex, data = pkg_loader("channing", "boot")),
  Oxide = list(formula = Thickness ~ Source + Site + Lot,
               data = pkg_loader("Oxide", "nlme", c("Lot", "Site"))),
  Gasoline = list(formula = yield ~ endpoint + API + vapor + ASTM, data = pkg_loader("Gasoline", "nlme")),
  Animals = list(formula = brain ~ body, data = pkg_loader("Animals", "MASS")),
  transplant = list(formula = age ~ sex + abo + year, data = pkg_loader("transplant", "survival")),
  cgd = list(formula = height ~ age + sex + weight, data = pkg_loader("cgd", "survival")),
  diabetic = list(formula = age ~ laser + eye + trt + risk, data = pkg_loader("diabetic", "survival")),
  Alfalfa = list(formula = Yield ~ Variety + Date + Block,
                 data = pkg_loader("Alfalfa", "nlme", "Block")),
  Wheat2 = list(formula = yield ~ variety + latitude + longitude, data = pkg_loader("Wheat2", "nlme")),
  Muscle = list(formula = length ~ conc, data = pkg_loader("Muscle", "nlme")),
  nuclear = list(formula = cost ~ date + t1 + t2 + cap + pr + ne + ct + bw + cum.n + pt,
                 data = pkg_loader("nuclear", "boot")),
  kyphosis = list(formula = Age ~ Kyphosis + Number + Start, data = pkg_loader("kyphosis", "rpart")),
  claridge = list(formula = dnan ~ hand, data = pkg_loader("claridge", "boot")),
  Glucose2 = list(formula = glucose ~ Time + Date, data = pkg_loader("Glucose2", "nlme", "Date")),
  infert = list(formula = age ~ education + parity + induced + spontaneous + case,
                data = function() datasets::infert)
)
data_sets <- c(data_sets, panel8)
panel8_sets <- names(panel8)

# Sets with their subjects (chicks, rats, patients, trees, plots, litters,
# cows, children, dogs, plants) as a factor beside the predictors they are
# usually modelled with, for the trial of a factor's levels as effects;
# fixed before sbcg was run on them; run only when named ("subjects").
# Phenobarb_subj cannot be scored: its test folds hold patients that no
# training row has.
subj <- list(
  ChickWeight_chick = list(formula = weight ~ Time + Diet + Chick, data = function() {
    d <- datasets::ChickWeight
    data.frame(weight = d$weight, Time = d$Time, Diet = d$Diet,
               Chick = factor(as.character(d$Chick)))
  }),
  BodyWeight_rat = list(formula = weight ~ Time + Diet + Rat, data = pkg_loader("BodyWeight", "nlme", "Rat")),
  Dialyzer_subj = list(formula = rate ~ pressure + QB + Subject, data = pkg_loader("Dialyzer", "nlme", "Subject")),
  Sitka_tree = list(formula = size ~ Time + treat + tree, data = pkg_loader("Sitka", "MASS", "tree")),
  Spruce_tree = list(formula = logSize ~ days + plot + Tree, data = pkg_loader("Spruce", "nlme", "Tree")),
  Phenobarb_subj = list(formula = conc ~ time + Wt + Apgar + Subject, data = pkg_loader("Phenobarb", "nlme", "Subject")),
  Soybean_plot = list(formula = weight ~ Time + Variety + Year + Plot, data = pkg_loader("Soybean", "nlme", "Plot")),
  RatPup_litter = list(formula = weight ~ sex + Lsize + Treatment + Litter, data = pkg_loader("RatPupWeight", "nlme", "Litter")),
  Milk_cow = list(formula = protein ~ Time + Diet + Cow, data = pkg_loader("Milk", "nlme", "Cow"))
)
subj2 <- list(
  Orthodont_subj = list(formula = distance ~ age + Sex + Subject, data = pkg_loader("Orthodont", "nlme", "Subject")),
  Pixel_dog = list(formula = pixel ~ day + Side + Dog, data = pkg_loader("Pixel", "nlme", "Dog")),
  ergoStool_subj = list(formula = effort ~ Type + Subject, data = pkg_loader("ergoStool", "nlme", "Subject")),
  CO2_plant = list(formula = uptake ~ conc + Type + Treatment + Plant, data = pkg_loader("CO2", "datasets", "Plant")),
  Theoph_subj = list(formula = conc ~ Time + Dose + Subject, data = pkg_loader("Theoph", "datasets", "Subject"))
)
data_sets <- c(data_sets, subj, subj2)
subject_sets <- c(names(subj), names(subj2))

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
