# The settings of a fit: sbcg_control() owns every hyper-parameter, its
# default and its check (the network's size limits come from the C code
# through net_limits()); as_control() accepts a partial list.

#' Settings for the network, its training and the sampler
#'
#' `sbcg_control()` collects and checks the hyper-parameters of [sbfit()].
#' Every argument has a default; pass only those you want to change.
#'
#' The network \eqn{D(z, t, x)} is a multilayer perceptron whose input is the
#' bridge point \eqn{z}, a sinusoidal embedding of the time \eqn{t}
#' (\eqn{\sin(\omega_k t)} and \eqn{\cos(\omega_k t)} for `n_freq`
#' frequencies \eqn{\omega_k} spaced geometrically over `freq_range`) and the
#' predictors \eqn{x}.  It is trained by Adam on the denoising loss
#' \eqn{\| D(tY + \sqrt{t(1-t)}\epsilon, t, X) - Y \|^2} with \eqn{t} uniform
#' on `[t_min, t_max]`.  An epoch is one pass over the training rows in
#' minibatches of `batch_size`.  Because every row is seen at a new time and
#' noise in every epoch, the training signal is noisy and the network needs
#' many (row, time, noise) triples whatever the number of rows: by default
#' the number of epochs is chosen so that training sees about `samples` of
#' them.  A fraction `validation` of the rows is held out, each with
#' fixed times and noise (about 10,000 triples in all), so that its loss is a
#' deterministic function of the weights; it is computed every `valid_every`
#' epochs, training stops when it has not improved for `patience`
#' consecutive checks (but not before `min_epochs`, unless it overfits:
#' see `min_epochs`), and the weights with the lowest validation loss are
#' kept.
#'
#' By default (`precondition = "location-scale"`) two regression networks
#' of the same shape come first: one for the conditional mean \eqn{m(x)},
#' one for the conditional mean absolute residual \eqn{s(x)}; the bridge is
#' then trained on \eqn{(Y - m(x))/s(x)} and its draws are mapped back.
#' The defaults were chosen on the simulation models of Huang (2024) against
#' grf, drf, quantregForest and np (`bench/accuracy.R` and `bench/tune.R`
#' in the package's sources; the figures are in the vignette).
#'
#' @param ... not used: every setting must be given by its full name.  An
#'   unknown, misspelled or abbreviated name is an error that suggests the
#'   setting meant (`sample = 2e5`: did you mean `samples` or `sampler`?).
#' @param hidden widths of the hidden layers (1 to 16 layers), or `NULL`
#'   (the default) to choose them from the number \eqn{d} of response
#'   components: two layers of 64 units for \eqn{d \le 32}, and of 128
#'   units for larger \eqn{d} (`default_hidden()`).  With the responses
#'   decorrelated (see `decorrelate`) a fixed width serves every \eqn{d},
#'   so that the cost of a training or sampler step grows as \eqn{d}.
#'   Without decorrelation, a network must remove near \eqn{t = 1} the
#'   noise from every direction that the responses do not fill, and its
#'   output can move in no more directions than the last hidden layer has
#'   units: many correlated components then need about \eqn{d} units, and
#'   a cost that grows as \eqn{d^2}.  A response of many thousands of components makes a
#'   network larger than `getOption("sbcg.max_parameters")` (an error):
#'   give smaller widths.
#' @param activation activation of the hidden layers: `"silu"`
#'   (\eqn{x / (1 + e^{-x})}), `"relu"` or `"tanh"`.
#' @param n_freq number of time-embedding frequencies (0 to 256); the
#'   embedding has `2 * n_freq` features.
#' @param freq_range smallest and largest embedding frequency.
#' @param time_map the time the embedding sees: `"linear"` (the default),
#'   \eqn{t} itself, as in the paper; or `"logit"`, the log-odds time
#'   \eqn{(\log(t/(1-t)) + 14)/28}, clamped to \eqn{[0, 1]}, which
#'   separates times near 0 and near 1 on a log scale.  Near \eqn{t = 1}
#'   the drift changes on the scale of the conditional variance of what the
#'   bridge learns; when that is tiny (narrow modes that preconditioning
#'   does not remove), `"logit"` with `t_tail > 0`, `t_max` closer to 1 and
#'   `grid_power > 1` resolves it.  On the simulation models, with
#'   preconditioning, it was no better than `"linear"`
#'   (`bench/tune.R` in the package's sources).
#' @param epochs largest number of passes over the training rows; `NULL`
#'   chooses `ceiling(samples / rows)`, at least 20 and at most 100,000.
#' @param samples training budget in (row, time, noise) triples used when
#'   `epochs` is `NULL`.
#' @param batch_size rows per minibatch.
#' @param lr learning rate of Adam.
#' @param lr_schedule `"cosine"` (decay from `lr` to `lr_min` over `epochs`)
#'   or `"constant"`.
#' @param lr_min final learning rate of the cosine schedule.
#' @param warmup number of optimiser steps of linear learning-rate warm-up.
#' @param weight_decay decoupled weight decay (AdamW).
#' @param betas Adam's two moment decay rates.
#' @param adam_eps Adam's denominator offset.
#' @param ema decay of an exponential moving average of the weights, taken
#'   after every optimiser step (0 for none).  The average, not the last
#'   weights, is validated and returned: it smooths out the noise of the
#'   last steps of stochastic optimisation.
#' @param validation fraction of rows held out (0 for none).  No network
#'   trains on them; they are what the fit judges itself by: they stop
#'   training early, and they choose the support under `support = "auto"`,
#'   choose or pool the bridges under `bridge_inputs = "auto"`, give the
#'   recalibration map (`recalibrate`), and give the held-out scores that
#'   `print()` shows and the warnings of [sbfit()] (at most 250 of them
#'   are scored, and up to 1000 give the map).  At least one row is held
#'   out from 5 rows on.  With none, all epochs run
#'   and the last weights are kept, `"auto"` supports stay on the real
#'   line, the bridge sees the predictors and nothing is recalibrated.  With
#'   cross-fitting (`folds`), a single fit (`ensemble = 1`) and fewer than
#'   10 held-out rows, the held-out rows also join the folds of the
#'   location and scale networks, each scored out of fold by the networks
#'   that did not see it; the bridge trains without them.
#' @param valid_every epochs between two computations of the validation
#'   loss; `NULL` chooses about every 50,000 training triples.
#' @param patience number of consecutive validation checks without
#'   improvement after which training stops (`Inf` for never).
#' @param min_epochs training does not stop early before this many epochs;
#'   `NULL` is half of `epochs`, or the number of epochs of 15 optimiser
#'   steps per training row (at least 2,500 and at most 30,000 steps) if
#'   that is fewer (small data sets).  Training a bridge often passes through
#'   plateaus where the validation loss stalls for a while before the
#'   network resolves finer structure (separate modes, say); stopping there
#'   would return a distribution that is too smooth.  On a plateau the loss
#'   stays near its best; a bridge whose loss scored more than 1% above
#'   its best at `patience` checks in a row, after at least 8,000 optimiser
#'   steps, is taken to overfit and stops before `min_epochs`.  A bridge without the
#'   predictors (see `bridge_inputs`) trains exactly this many epochs, but
#'   at most 4,000 optimiser steps, when at least 10 rows are held out.
#' @param parameterization what the network's output \eqn{F} stands for.
#'   `"residual"` (the default): the denoiser is
#'   \eqn{D = z + \sqrt{1-t}\,F} and \eqn{F} regresses
#'   \eqn{(Y - z)/\sqrt{1-t}}, a target of unit scale at every time, so
#'   that errors in \eqn{F} enter the drift \eqn{F/\sqrt{1-t}} damped by
#'   \eqn{\sqrt{1-t}} compared with `"denoiser"`, the paper's choice, in
#'   which \eqn{F = D} regresses \eqn{Y} and the drift is
#'   \eqn{(D - z)/(1-t)}.
#' @param t_min,t_max range of training times.
#' @param t_tail share of training times drawn uniformly in log-odds time
#'   over `[t_min, t_max]` rather than uniformly in \eqn{t} (0 for the
#'   paper's uniform times).  It puts training effort on times near 0, where
#'   the network learns the conditional mean, and near 1, where it learns
#'   the fine structure of the conditional law; needs `t_min > 0`.
#' @param standardize centre and scale predictors and responses before
#'   training (the draws are returned on the original scale either way).
#' @param precondition regression networks fitted before the bridge (with
#'   the same hidden layers, no time input, by least squares, with the same
#'   optimiser and early stopping).  `"location-scale"` (the default) fits
#'   the conditional mean \eqn{m(x)} and then the conditional mean absolute
#'   residual \eqn{s(x)} (floored at 1% of its average), and the bridge
#'   learns the law of \eqn{(Y - m(x))/s(x)^g}; the draws are
#'   \eqn{m(x) + s(x)^g Z}.  The power \eqn{g} in \eqn{[0, 1]} (`print()`
#'   shows it as the "scale power") is chosen by the out-of-fold likelihood
#'   of the residuals, so a scale network that learned only noise is shrunk
#'   toward a constant.  `"location"` fits \eqn{m(x)} only; `"none"` is
#'   the paper's method, in which the bridge learns the law of \eqn{Y}
#'   itself.  The bridge then has to resolve only what the location and
#'   scale leave: it helps most when the conditional spread is small
#'   against the variation of the conditional mean (a bridge on \eqn{Y}
#'   must resolve both on one scale) and when the spread changes with
#'   \eqn{x}.
#' @param decorrelate whether the bridge learns the responses' residuals
#'   (what the preconditioning leaves, or the standardised responses) after
#'   a linear map that makes their covariance on the training rows the
#'   identity (symmetric, or ZCA, whitening; eigenvalues below
#'   \eqn{10^{-4}} of their mean are raised to that).  Draws are mapped
#'   back by the inverse map.  A network's output moves in no more
#'   directions than its last hidden layer has units; for correlated
#'   responses with many components (pixels, curves) that are close to a
#'   few directions, the network must otherwise remove the noise from every
#'   other direction, which needs about as many units as components.  After
#'   the map, a direction where the residuals are close to Gaussian needs
#'   almost nothing from the network.  The map is a \eqn{d \times d}
#'   matrix kept in the fit, found once by an eigendecomposition, and
#'   applied once per draw.  `NULL` (the default) decorrelates responses of
#'   2 to 4096 components; it makes no difference for one.  On a
#'   two-component response spread thinly around an ellipse, the draws'
#'   spread across the ellipse was 1.2-1.9 times the true one with
#'   decorrelation and 4.4-7.8 times without; on curves of 32 points it
#'   gave neighbouring points the right correlation (`bench/decorrelate.R`
#'   in the package's sources), and on images of 256 pixels cleaner draws
#'   from narrower layers (`bench/digits.R`).
#' @param folds number of cross-fitting folds of the location and scale
#'   networks (1 to 20; 1 fits them on all training rows).  With `folds`
#'   \eqn{K > 1}, \eqn{K} networks of each kind are trained, each on the
#'   training rows outside one fold and early-stopped on that fold, and the
#'   bridge learns the law of the out-of-fold residuals: residuals of a
#'   flexible network on the rows it was fitted to are too small, and a
#'   bridge trained on them learns too narrow a law.  New rows get the
#'   mean of the \eqn{K} networks.  With fewer than \eqn{K} training
#'   rows there are as many folds as training rows, and below four no
#'   cross-fitting (one network of each kind, as for `folds = 1`).  When a
#'   fold has fewer than 10 rows (under about 60 training rows at `folds =
#'   5`), the networks of each
#'   kind share one epoch instead: the one whose validation loss, summed
#'   over all folds, is lowest (the starting linear fit, epoch 0,
#'   included).  Early stopping on a handful of rows picks the epoch that
#'   fits those very rows best, and so makes their residuals too small.
#' @param input_decay decoupled weight decay of the location and scale
#'   networks' first-layer weights on the predictors: each step multiplies
#'   them by \eqn{1 - \mathrm{lr} \times} `input_decay`, which pulls the
#'   weights of predictors the data do not support towards 0.  With many
#'   predictors of which few matter, a network otherwise fits the noise of
#'   the others before the signal, and early stopping ends it before it has
#'   learned much.  `NULL` (the default): with at least 10 predictor
#'   columns and cross-fitting (`folds > 1`), the location networks are
#'   trained with 0 and with 10, and the fit keeps the one whose
#'   out-of-fold squared error over the training rows is lower (the scale
#'   networks then use the same); otherwise 0.  A number: that decay, and
#'   no trial.
#' @param baseline `"linear"` (the default): every network's output layer
#'   starts at zero and the location network learns a correction to a
#'   weighted least-squares linear fit, so that before training the fit is
#'   a Gaussian linear model (the bridge's zero drift carries the
#'   standardised residuals to a standard normal law) and early stopping
#'   leaves it close to one when the data show nothing more; the scale
#'   network starts at the mean absolute residual.  `"none"`: random output
#'   layers and no linear part, as in the paper.
#' @param bridge_inputs whether the bridge sees the predictors, with
#'   preconditioning: `"x"` (as in the paper), `"location"` (the bridge
#'   sees two inputs instead of the predictors, the location \eqn{m(x)} and
#'   the log scale \eqn{\log s(x)}{log s(x)} of the preconditioning, so
#'   that the law's shape can change with its level and spread but not
#'   with each predictor; for one response, location-scale
#'   preconditioning and at least two predictor columns, otherwise as
#'   `"x"`), `"none"` (the bridge learns
#'   one law of the standardised residual \eqn{(Y - m(x))/s(x)}, the same
#'   at every \eqn{x}, and the location and scale networks carry all the
#'   dependence on \eqn{x}), or `"auto"` (the default): one bridge that
#'   sees \eqn{x} and one that does not are trained; the one that sees
#'   \eqn{x} does so through the location and scale (`"location"`) with
#'   fewer than 200 held-out rows, through the predictors with more.  On
#'   the 97 real data sets of `bench/realdata.R` in the package's sources
#'   that lowered the CRPS by 0.25% (geometric mean; up to 7% on some
#'   sets, 4% higher on `MASS::cpus`) with the same calibration; with more
#'   rows the predictors let the bridge mend what the location network
#'   left in the mean (the simulation model m1 at n = 5000: 1.1% lower
#'   CRPS than through the location and scale).
#'   With at least 200 held-out rows the fit keeps the one with the lower
#'   validation loss; with fewer, whose scores tell the two apart only by
#'   chance, it pools both in equal shares (half of each row's draws come
#'   from each; `print()` shows their held-out CRPS and coverage).  A fit
#'   of several responses keeps the one with the lower validation loss at
#'   any number of held-out rows: the bridge without \eqn{x} draws one
#'   dependence between the components everywhere, and a pool would halve
#'   a dependence that changes with \eqn{x}.  On the
#'   96 real data sets of `bench/realdata.R` that lowered the CRPS by 0.3%
#'   (geometric mean; 6% on `ggplot2::mpg`) against keeping one, and the
#'   central 50% and 90% intervals covered 50.8% and 89.7% of the held-out
#'   rows (50.3% and 89.5% before).  A bridge that sees \eqn{x} can learn
#'   each training row's residual from its \eqn{x}; on a few hundred noisy
#'   rows it then draws laws that are too narrow and misplaced, while laws
#'   whose shape changes with \eqn{x} (several modes at some \eqn{x}, say)
#'   need it.  Without held-out rows or preconditioning, `"auto"` is
#'   `"x"`; with 1 to 9 held-out rows (fewer than 100 rows at the default
#'   `validation`) it is `"none"`.  With at least 10 held-out rows the bridge
#'   without the predictors is not early-stopped: it trains `min_epochs`
#'   epochs, its learning rate decaying over them, and keeps its last
#'   weights; the held-out rows score it but do not choose its weights.
#'   It learns one law of the standardised residual, which cannot follow
#'   each row's residual as a bridge that sees \eqn{x} can, and a few
#'   dozen held-out rows are too few to tell a peaked or skewed law from
#'   the Gaussian start, which early stopping often kept.  With fewer, it
#'   is early-stopped on them: what it would learn from under 90 training
#'   residuals is less reliable than that start.
#' @param steps default number of sampler steps.  The default 20 steps on
#'   a grid of power 1.5 gave, on default fits of the simulation models, the
#'   CRPS and coverage of 100 uniform steps (`bench/steps.R` in the
#'   package's sources) at a fifth of the cost.  Sampling with
#'   fewer than 20 steps warns: the spread of the draws is then off by
#'   several points of interval coverage.
#' @param sampler default sampling scheme (see [sbsample()]):
#'   `"em_denoise"` (the default), Euler--Maruyama steps whose last step,
#'   into \eqn{t = 1}, lands on the denoised value without noise; `"em"`,
#'   the paper's Euler--Maruyama, whose last step adds noise of SD
#'   \eqn{\sqrt{h}} (0.1 on the standardised scale with 100 uniform steps) that
#'   inflates small conditional SDs; or `"bridge"`, Brownian-bridge steps
#'   towards the current denoised value (the same drift, noise scaled by
#'   \eqn{\sqrt{(1-t_{k+1})/(1-t_k)}}).  See `bench/sampler.R` in the
#'   package's sources for the comparison on the simulation models.
#' @param grid_power shape of the time grid: \eqn{t_k = 1 - (1 - k/K)^\gamma};
#'   1 is uniform, larger values put more steps near \eqn{t = 1}, where
#'   the drift changes fastest.
#' @param draws default number of draws per row for [sbsample()],
#'   [sbcondstats()] and [predict.sbfit()].  Statistics of \eqn{m} draws
#'   carry a Monte Carlo error of order \eqn{m^{-1/2}} and the outer
#'   quantiles a bias of order \eqn{1/m} (the 5% and 95% quantiles of 200
#'   draws cover 89% on average, of 1000 draws 89.8%).  At least 2, which
#'   the SD and the standard errors need.
#' @param skew_transform whether a preconditioned, cross-fitted fit also
#'   tries its skewed predictors on a log-like scale: columns never
#'   negative, with more than 10 distinct values and a skewness above 1.5,
#'   taken as \eqn{\mathrm{asinh}(x / c)} with \eqn{c} half their smallest
#'   positive value.  The location networks are trained on both scales and
#'   the whole fit keeps the one with the lower out-of-fold error;
#'   `print()` names the columns it transformed.  `NULL` (the default):
#'   on for a response fitted on the log scale (`support = "positive"`,
#'   `"count"` or one bound), off on the real line and between two bounds;
#'   the fit's control keeps the choice.  On the log scale a power law, a
#'   straight line in the logs, is the usual relation, and a straight line
#'   in a skewed predictor grows exponentially on the response's scale
#'   across its long tail: with it on, the CRPS of the count fits of
#'   `MASS::cpus` fell 40% and of `MASS::Insurance` 35% (`bench/realdata.R`
#'   in the package's sources, with `--counts`; no set of the 42 rose more
#'   than 2%).  On the real line it lowered the CRPS by 10-18% on some sets
#'   (`MASS::cpus`, `ggplot2::midwest` and `msleep`) and raised it by up to
#'   18% on others (`MASS::mammals`, whose response grows faster than the
#'   log of its predictor); see `bench/HISTORY.md` in the package's
#'   sources.
#' @param cell_effects whether a preconditioned, cross-fitted fit also
#'   tries an effect per "cell" of training rows that share all their
#'   predictors' values (the same car model in `ggplot2::mpg`, the same
#'   run and concentration in `DNase`), on top of the location networks,
#'   which a smooth function of the predictors cannot give such rows.  It
#'   is tried when at least 10% of the training rows share their values
#'   with another and they fall into at least 30 cells, and not when the
#'   held-out rows join the folds (see `validation`).  Each cross-fitted
#'   network gets, per cell, the mean out-of-fold residual of the cell's
#'   rows in its fold, shrunk toward 0 by \eqn{n / (n + \tau)}, \eqn{n}
#'   their number and \eqn{\tau} the ratio of the residuals' within-cell
#'   to between-cell variance (a random intercept per cell); a new row in
#'   a training cell is located by those networks plus their effects,
#'   other rows as without.  The effects are kept when they predict the
#'   training rows better, each row judged by the other rows of its cell
#'   and fold (at least 10 rows so judged); `print()` says whether they
#'   were.  `FALSE`: never tried.
#'   Over the 45 sets of `bench/realdata.R` (in the package's sources)
#'   with repeated rows the CRPS fell by 0.4% in geometric mean: 7% on
#'   `ggplot2::mpg` (1.200 to 1.115), 6% on `DNase`, 3% on
#'   `nlme::Dialyzer`; no set's rose by more than 1.3%.  The simulation
#'   models (continuous predictors) are unchanged; see `bench/HISTORY.md`
#'   in the package's sources.
#'
#'   It also lets a factor of many levels with few rows each (a subject, a
#'   batch, a variety: at least 8 levels among the training rows, fewer
#'   than 25 rows per level on average, a term of its own in the formula)
#'   become effects of its levels: the location networks are also trained
#'   without its columns, its levels get random intercepts from their
#'   out-of-fold residuals (shrunk as above, each from all its training
#'   rows), the networks are trained again on the response less those
#'   intercepts and the intercepts estimated again, as a mixed model's
#'   backfitting does.  The fit keeps this or the factor among the inputs,
#'   whichever predicts the training rows out of fold better, and
#'   `print()` says which.  (A level whose rows all have weight 0 leaves
#'   its indicator column constant: a new row at that level is read as
#'   the first level, with the warning such columns give.)  Of several
#'   such factors, the one with the most levels is
#'   tried.  Not with `mean_residuals`.  When the held-out rows join the
#'   folds (below 100 rows), each is scored with its level's effect from
#'   the other rows.  The 56 varieties of `nlme::Wheat2` (4 plots each)
#'   among the inputs had raised its CRPS 38% above that of a fit without
#'   them; as effects its CRPS fell 27%, from 3.60 to 2.63; on
#'   `michelson`'s 20 runs of 5 measurements by 15%.
#' @param piecewise whether a preconditioned, cross-fitted fit also tries
#'   piecewise-linear encodings of its numeric predictors as further inputs
#'   of the location networks (Gorishniy, Rubachev and Babenko 2022): each
#'   column with more than 16 distinct training values gets T more inputs,
#'   \eqn{\min(1, \max(0, (x - b_k) / (b_{k+1} - b_k)))}{min(1, max(0, (x -
#'   b_k) / (b_(k+1) - b_k)))} for bin edges \eqn{b_k} at the quantiles 0,
#'   1/T, ..., 1 of its training values, with T = 8 below 180 training rows,
#'   then one bin per 20 rows, at most 24 and at most one input per 4 rows
#'   over all the encoded columns.  A network learns smooth functions of
#'   its inputs first, and stops early before it has followed a trend that
#'   bends many times along one predictor (a time index, say), as a
#'   forest's splits do at once; the encodings give its first layer local
#'   slopes to start from.  The location networks are trained with and
#'   without them on the same folds, and the encodings are kept when the
#'   out-of-fold squared error is lower by more than one standard error of
#'   the rows' paired differences; `print()` says whether they were.  The
#'   scale networks and the bridge see the predictors as they are.  With
#'   folds of 200 rows or more, a least-squares regression of the first
#'   fold's residuals on the encodings screens the trial: the networks
#'   with them are trained only when it predicts that fold better.
#'   `FALSE`: never tried.
#'   Over the 98 real data sets of `bench/realdata.R` (in the package's
#'   sources) 8 bins lowered the CRPS by 1.3% in geometric mean: by 28% on
#'   `beaver1` and 14% on `ggplot2::economics` (body temperature and
#'   unemployment against time), 13% on `MASS::cpus`, 9% on
#'   `ggplot2::diamonds`; 13 sets fell, 4 rose (at most 2.7%, `Theoph`),
#'   the others were unchanged, and so were the pooled coverage and the
#'   simulation models.  More bins from 180 training rows lowered
#'   economics' CRPS by a further 16%; see `bench/HISTORY.md` in the
#'   package's sources.
#' @param ensemble number of fits pooled, 1 to 20.  Each member is a whole
#'   fit of the data with its own seed (its own cross-fitting folds,
#'   starting weights, training order and bridges); all members
#'   hold out the same rows, on which the fit scores the pooled law.  The
#'   fit's law is the equal mixture of the members' laws: its draws come
#'   from the members in turn (one draw at a time, or one group of
#'   stratified draws at a time), each row starting the deal at a member
#'   of its own, fixed by the seed and the row, when the draws do not
#'   divide evenly ([sbsample()]).  Training costs `ensemble` times as much;
#'   sampling costs the same per draw.  The default, 1, fits one.  On the
#'   real-data panels of `bench/realdata.R` in the package's sources (54
#'   sets of 16 to 1000 rows, 5-fold cross-validation), `ensemble = 3`
#'   lowered the CRPS by 1.2% to 2.9% (geometric means per panel) and moved
#'   the pooled coverage of the central 90% intervals from 88-90% to
#'   89-91%, but that of the 50% intervals from 51-54% to 53-54%, and its
#'   fits took about three times as long.  On more rows the gain varied:
#'   -0.2% on `MASS::nlschools` (1830 training rows), -4.5% on
#'   `ggplot2::diamonds` (2400).  Those figures are without recalibration
#'   (`recalibrate`); with it, on the fourth and fifth panels, `ensemble =
#'   3` lowered the CRPS by 2.9% and 2.0% against single recalibrated fits,
#'   its 50% / 90% intervals covering 51.3% / 90.1% and 52.7% / 90.7%.
#'   See the item "Ensembles" of `bench/HISTORY.md` in the package's
#'   sources.
#' @param mean_residuals whether, with cross-fitting, the bridge learns the
#'   residual law of the mean of the location networks, which is what new
#'   rows get, rather than that of each network on its own fold: each
#'   out-of-fold residual is moved part of the way toward the mean's, so
#'   that their mean square drops by the networks' spread about their mean
#'   on the held-out rows (a single network errs by that much more than
#'   the mean).  Off by default.  Together with `ensemble = 3` it brought
#'   the pooled coverage of the central 50% intervals on the real-data
#'   panels from 51-54% to 50-52%, with 1-3% lower CRPS than single fits,
#'   but left that of the 90% intervals at 87-89%; see the item "Residuals
#'   of the networks' mean" of `bench/HISTORY.md` in the package's
#'   sources.
#' @param recalibrate whether a fit of one response recalibrates its laws
#'   from the PIT values \eqn{F(y \mid x)}{F(y | x)} of its held-out rows
#'   (the default, `TRUE`).  The fit learns a symmetric map of probability
#'   levels from them: its central interval of level \eqn{L} becomes the
#'   central interval of level \eqn{H^{-1}(L)}{H^-1(L)} of the law the
#'   networks learned, where \eqn{H(L)} is the share of held-out rows that
#'   this law's interval of level \eqn{L} covered (read from a few
#'   quantiles of the scores of up to 1000 held-out rows): the split-conformal calibration of
#'   the score \eqn{|F(y \mid x) - 1/2|}{|F(y | x) - 1/2|} (Chernozhukov,
#'   Wuthrich and Zhu 2021).  With 10 to 199 held-out rows, whose 50%
#'   coverage alone has a standard error of 3.5 to 16 points, the PITs of up
#'   to 500 training rows join theirs, each row drawn through the
#'   cross-fitted location and scale networks that did not see it (the
#'   bridge learned those residuals, but as one law of the standardised
#'   residual, or one that moves with the location and scale alone, which
#'   cannot follow each row's own); not for ensembles or fits with cell
#'   effects.  The map is shrunk toward the identity by as
#'   much as the scores fail to show that the fit needs one: it is
#'   weighted by \eqn{\max(0, 1 - 1 / (6 W^2))}{max(0, 1 - 1 / (6 W^2))},
#'   \eqn{W^2}{W^2} the Cramer-von Mises statistic of the scores against
#'   the uniform law (a positive-part James-Stein weight), and at most
#'   \eqn{n / (n + 25)}{n / (n + 25)} for \eqn{n}{n} scores, so a
#'   fit whose scores are as uniform as chance allows keeps its
#'   own law, and one with few scores changes little.  It acts on each draw of the
#'   standardised law, before the row's centre and scale, so draws stay
#'   independent; it is exact when the bridge does not see the predictors
#'   and follows the law pooled over the held-out rows when it does.
#'   Fits without preconditioning or with several responses are not
#'   recalibrated.  `print()` shows the map; the held-out scores it shows
#'   are those of the networks' law, from which the map was learned.  On
#'   the 78 real data sets of the first five panels of `bench/realdata.R`
#'   in the package's sources (16 to 7986 rows, 5-fold cross-validation),
#'   recalibration moved the pooled coverage of the central 50% intervals
#'   from 51.6% to 50.6% and that of the 90% intervals from 89.8% to
#'   89.5%, brought the per-set coverages more than two binomial standard
#'   errors from nominal from 21 to 13 of 156 and the pooled PIT's
#'   Kolmogorov distance from uniform from 0.011 to 0.006, and left the
#'   CRPS unchanged (no set moved by more than 0.7%); see the item
#'   "Recalibration from the held-out rows" of `bench/HISTORY.md` in the
#'   package's sources.  On fits with fewer than 10 held-out rows (under
#'   100 rows at the default `validation`), whose
#'   bridge learns one law of the standardised residual from a few dozen
#'   of them, the law also gets Student-t tails first: it becomes its
#'   scale mixture \eqn{c Z \sqrt{\nu / W}}{c Z sqrt(nu / W)}, \eqn{W}{W}
#'   chi-square with \eqn{\nu = n - p - 1}{nu = n - p - 1} degrees of
#'   freedom (\eqn{n}{n} training rows, \eqn{p}{p} predictor columns) and
#'   \eqn{c}{c} keeping the median of \eqn{|Z|}{|Z|}, as a linear model's
#'   prediction interval widens for a spread estimated from \eqn{n}{n}
#'   residuals; the held-out map is learned on top of it, and the held-out
#'   scores include it.  The central 50% intervals stay as they were, the
#'   90% ones widen by 3.5% at \eqn{\nu = 17}{nu = 17}.
#' @param deconvolve whether a recalibrated fit (`recalibrate = TRUE`)
#'   takes the location networks' spread out of the law its bridge learned
#'   (default `TRUE`).  Each training row's residual comes from the one
#'   cross-fitted location network that did not see it, while a new row
#'   gets the mean of the networks, which errs less: by about
#'   \eqn{V(x)}{V(x)}, the networks' mean square about their mean at
#'   \eqn{x}{x}.  The bridge's standardised law is then the new rows' law
#'   convolved with that noise, too wide in the middle.  The fit estimates
#'   the law without the noise by deconvolution (a mixture of Gaussians on
#'   a grid, its weights by EM, from standardised draws at up to 500
#'   training rows, each with its own \eqn{V(x)}{V(x)}) and maps each
#'   standardised draw to it by quantiles, as the recalibration map does;
#'   the held-out rows score the law with this map and the held-out map is
#'   learned on top of it.  Fits whose held-out rows join the
#'   cross-fitting folds (fewer than 10 of them) and fits without
#'   cross-fitted location networks keep their law.  `print()` says how
#'   much was taken out.  See the item "The networks' spread
#'   taken out of the bridge's law" of `bench/HISTORY.md` in the
#'   package's sources for what it changed on `bench/realdata.R`.
#' @param linear_mix whether a fit of one response with location-scale
#'   preconditioning may mix into its law a Gaussian linear model's
#'   (default `TRUE`; `FALSE` gives the law of the networks and the bridge
#'   alone).  The linear model is least squares of the response,
#'   on the fit's scale (the support's), on the predictors, with its
#'   Student-t predictive law; a share \eqn{1 - w}{1 - w} of each row's
#'   draws comes from it.  The weight \eqn{w}{w} (on a grid of 0.05 from
#'   0.75, at most a quarter of the draws linear, to 1 for none) is the one
#'   whose mixture scores the lowest CRPS out of fold on
#'   the training rows, with the cross-fitting folds of the location and
#'   scale networks: each row's law from the fit is the one its
#'   location and scale from the networks that did not see it give with
#'   the other rows' standardised residuals, and its linear law that of
#'   least squares on the other folds.  Where the fit's own law scores at
#'   least 1.5 times the linear law's CRPS there (as on a dozen rows of
#'   many predictors), and the rows' paired differences put the gain of a
#'   larger share beyond two standard errors, \eqn{w}{w} may lie below
#'   0.75, down to 0 for the linear law alone.  `print()` shows the share
#'   and the three out-of-fold scores, and the held-out scores, from which
#'   `recalibrate` learns its map, are those of the mixture.  On 103 real
#'   data sets of `bench/realdata.R` in the
#'   package's sources (5-fold cross-validation) it lowered the CRPS on 63
#'   and raised it on 29 (geometric mean -0.8%), most on small sets that a
#'   linear model fits well, and widened the intervals a little (pooled
#'   coverage of the central 50% intervals about one point higher); on 21
#'   sets that no earlier choice had seen, sbcg had the lowest CRPS of
#'   sbcg, grf, quantregForest, a GAM and `lm` on 11 instead of 6.  See
#'   the item "A Gaussian linear law in the mix" of `bench/HISTORY.md` in
#'   the package's sources.  The linear draws are Student-t quantiles at
#'   evenly spread points, so the Monte Carlo standard errors of
#'   [sbcondstats()], computed as for independent draws, overstate the statistics' spread (its section "Monte Carlo
#'   standard errors").
#' @param direct_share share of each row's draws from a second bridge,
#'   trained on the response itself without preconditioning (the paper's
#'   bridge), on the same training and held-out rows (0 to 0.9; default
#'   0.2, 0 for none).  It is trained for a fit of one response with
#'   preconditioning and 1 to 199 held-out rows, too few to choose between
#'   the two laws, and left out when its held-out CRPS is more than 1.3
#'   times the fit's own (those rows also stop its training, which
#'   flatters it).  A bridge on the response finds modes and heaps at
#'   fixed values of the response (durations recorded in whole minutes,
#'   two modes whose weights change with \eqn{x}) that the standardised
#'   residual moves with the location and scale; on most data sets the
#'   preconditioned law is the better of the two, and the mixture better
#'   than either.  Its draws are its own law: the recalibration map and
#'   the linear part apply to the rest, and the held-out scores that
#'   `print()` shows are those of the rest, next to the direct bridge's
#'   own held-out CRPS.  See the item "A fifth of the law from the bridge
#'   on the response itself" of `bench/HISTORY.md` in the package's
#'   sources for what it changed on `bench/realdata.R`.
#' @return A list of class `"sbcg_control"`.
#' @seealso [sbfit()]
#' @examples
#' sbcg_control(hidden = c(32, 16), epochs = 50)
#' @export
sbcg_control <- function(..., hidden = NULL, activation = c("silu", "relu", "tanh"),
                         n_freq = 8, freq_range = c(1, 100),
                         time_map = c("linear", "logit"),
                         epochs = NULL, samples = 1.2e7, batch_size = 256,
                         lr = 2e-3,
                         lr_schedule = c("cosine", "constant"), lr_min = 0,
                         warmup = 0, weight_decay = 0, betas = c(0.9, 0.999),
                         adam_eps = 1e-8, ema = 0.99, validation = 0.1, valid_every = NULL,
                         patience = 10, min_epochs = NULL,
                         parameterization = c("residual", "denoiser"),
                         t_min = 1e-3, t_max = 1 - 1e-3, t_tail = 0, standardize = TRUE,
                         precondition = c("location-scale", "location", "none"),
                         decorrelate = NULL, folds = 5, input_decay = NULL,
                         baseline = c("linear", "none"),
                         bridge_inputs = c("auto", "x", "location", "none"),
                         steps = 20, sampler = c("em_denoise", "em", "bridge"),
                         grid_power = 1.5, draws = 1000, skew_transform = NULL,
                         cell_effects = TRUE, piecewise = TRUE, ensemble = 1,
                         mean_residuals = FALSE,
                         recalibrate = TRUE, deconvolve = TRUE, linear_mix = TRUE,
                         direct_share = 0.2) {
  # every setting comes after `...`, so that names must be given in full:
  # sample = 2e5 is an error that suggests samples or sampler, not base R's
  # "argument 1 matches multiple formal arguments"
  if (...length()) {
    nms <- names(list(...))
    if (is.null(nms) || any(nms == ""))
      stopf("sbcg_control() takes named settings only, such as sbcg_control(epochs = 50)")
    stop_unknown(nms, setdiff(names(formals(sbcg_control)), "..."),
                 "unknown setting(s) of sbcg_control()")
  }
  activation <- check_choice(activation, c("silu", "relu", "tanh"), "activation")
  lr_schedule <- check_choice(lr_schedule, c("cosine", "constant"), "lr_schedule")
  sampler <- check_choice(sampler, c("em_denoise", "em", "bridge"), "sampler")
  parameterization <- check_choice(parameterization, c("residual", "denoiser"), "parameterization")
  time_map <- check_choice(time_map, c("linear", "logit"), "time_map")
  lim <- net_limits()
  if (!is.null(hidden)) hidden <- check_counts(hidden, "hidden", 1, lim$width)
  if (length(hidden) > lim$hidden_layers)
    stopf("'hidden' must have at most %d layers", lim$hidden_layers)
  n_freq <- check_count(n_freq, "n_freq", 0, lim$n_freq)
  if (!is.numeric(freq_range) || length(freq_range) != 2L || anyNA(freq_range) ||
      any(!is.finite(freq_range)) || any(freq_range <= 0) ||
      freq_range[1L] > freq_range[2L])
    stopf("'freq_range' must be two increasing positive numbers")
  if (!is.null(epochs)) epochs <- check_count(epochs, "epochs", 1, 1e7)
  samples <- check_number(samples, "samples", 1, 1e12)
  if (!is.null(valid_every)) valid_every <- check_count(valid_every, "valid_every", 1, 1e7)
  batch_size <- check_count(batch_size, "batch_size", 1, 1e7)
  lr <- check_number(lr, "lr", 0, 10, lo_open = TRUE)
  lr_min <- check_number(lr_min, "lr_min", 0, lr)
  warmup <- check_count(warmup, "warmup", 0, 1e9)
  weight_decay <- check_number(weight_decay, "weight_decay", 0, 1)
  if (!is.numeric(betas) || length(betas) != 2L || anyNA(betas) ||
      any(betas < 0) || any(betas >= 1))
    stopf("'betas' must be two numbers in [0, 1)")
  adam_eps <- check_number(adam_eps, "adam_eps", 0, 1, lo_open = TRUE)
  ema <- check_number(ema, "ema", 0, 1, hi_open = TRUE)
  validation <- check_number(validation, "validation", 0, 0.9)
  if (!is.null(min_epochs)) min_epochs <- check_count(min_epochs, "min_epochs", 0, 1e7)
  if (!is.numeric(patience) || length(patience) != 1L || is.na(patience) ||
      patience < 1 || (is.finite(patience) && patience != round(patience)))
    stopf("'patience' must be a whole number >= 1 or Inf")
  t_min <- check_number(t_min, "t_min", 0, 1, hi_open = TRUE)
  t_max <- check_number(t_max, "t_max", 0, 1, lo_open = TRUE, hi_open = TRUE)
  if (t_min >= t_max) stopf("'t_min' must be smaller than 't_max'")
  t_tail <- check_number(t_tail, "t_tail", 0, 1)
  if (t_tail > 0 && t_min <= 0) stopf("'t_tail' > 0 needs 't_min' > 0")
  standardize <- check_flag(standardize, "standardize")
  precondition <- check_choice(precondition, c("location-scale", "location", "none"),
                               "precondition")
  if (!is.null(decorrelate)) decorrelate <- check_flag(decorrelate, "decorrelate")
  folds <- check_count(folds, "folds", 1, 20)
  if (!is.null(input_decay)) input_decay <- check_number(input_decay, "input_decay", 0, 1000)
  baseline <- check_choice(baseline, c("linear", "none"), "baseline")
  bridge_inputs <- check_choice(bridge_inputs, c("auto", "x", "location", "none"),
                                "bridge_inputs")
  steps <- check_count(steps, "steps", 1, 1e6)
  check_steps(steps, sampler, "'steps'", warn = FALSE)
  grid_power <- check_number(grid_power, "grid_power", 0.1, 10)
  draws <- check_count(draws, "draws", 2, 1e7)
  if (!is.null(skew_transform)) skew_transform <- check_flag(skew_transform, "skew_transform")
  cell_effects <- check_flag(cell_effects, "cell_effects")
  piecewise <- check_flag(piecewise, "piecewise")
  ensemble <- check_count(ensemble, "ensemble", 1, 20)
  mean_residuals <- check_flag(mean_residuals, "mean_residuals")
  recalibrate <- check_flag(recalibrate, "recalibrate")
  deconvolve <- check_flag(deconvolve, "deconvolve")
  linear_mix <- check_flag(linear_mix, "linear_mix")
  direct_share <- check_number(direct_share, "direct_share", 0, 0.9)
  structure(list(hidden = hidden, activation = activation, n_freq = n_freq,
                 freq_range = as.double(freq_range), time_map = time_map, epochs = epochs,
                 samples = samples, valid_every = valid_every,
                 batch_size = batch_size, lr = lr, lr_schedule = lr_schedule,
                 lr_min = lr_min, warmup = warmup, weight_decay = weight_decay,
                 betas = as.double(betas), adam_eps = adam_eps, ema = ema,
                 validation = validation, patience = as.double(patience),
                 min_epochs = min_epochs,
                 parameterization = parameterization, t_min = t_min, t_max = t_max,
                 t_tail = t_tail, standardize = standardize,
                 precondition = precondition, decorrelate = decorrelate,
                 folds = folds, input_decay = input_decay, baseline = baseline,
                 bridge_inputs = bridge_inputs,
                 steps = steps, sampler = sampler, grid_power = grid_power,
                 draws = draws, skew_transform = skew_transform,
                 cell_effects = cell_effects, piecewise = piecewise, ensemble = ensemble,
                 mean_residuals = mean_residuals, recalibrate = recalibrate,
                 deconvolve = deconvolve, linear_mix = linear_mix,
                 direct_share = direct_share),
            class = "sbcg_control")
}

#' @export
print.sbcg_control <- function(x, ...) {
  cat("sbcg control settings\n")
  v <- vapply(unclass(x), function(e)
    if (is.null(e)) "auto" else paste(vapply(e, format, ""), collapse = ", "), "")
  print(noquote(v), ...)
  invisible(x)
}

# Accepts an "sbcg_control" object or a plain list of settings to change.
as_control <- function(control) {
  if (inherits(control, "sbcg_control")) return(do.call(sbcg_control, unclass(control)))
  if (!is.list(control)) stopf("'control' must be a list from sbcg_control()")
  known <- setdiff(names(formals(sbcg_control)), "...")
  if (length(control) && (is.null(names(control)) || any(names(control) == "")))
    stopf("'control' must be a named list")
  bad <- setdiff(names(control), known)
  if (length(bad)) stop_unknown(bad, known, "'control' has unknown setting(s)")
  do.call(sbcg_control, control)
}

#' Hidden widths chosen from the number of response components
#'
#' The hidden layers that [sbcg_control()] chooses when `hidden` is `NULL`:
#' two layers of 64 units for up to 32 response components, and of 128
#' units beyond, where the bridge learns decorrelated responses (the
#' `decorrelate` setting of [sbcg_control()]) and a fixed width keeps the
#' cost of a step linear in \eqn{d}.  On the handwritten digits of
#' `bench/digits.R` in the package's sources (\eqn{d = 256}), decorrelated
#' 128-unit layers put more generated digits in their intended class than
#' 256-unit layers without decorrelation.
#' @param d number of response components.
#' @return An integer vector of two widths.
#' @examples
#' default_hidden(1)
#' default_hidden(128)
#' @export
default_hidden <- function(d) {
  d <- check_count(d, "d", 1, 1e9)
  if (d <= 32) c(64L, 64L) else c(128L, 128L)
}

act_code <- function(activation) {
  match(activation, c("silu", "relu", "tanh")) - 1L
}
