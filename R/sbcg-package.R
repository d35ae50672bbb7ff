# The package documentation (?sbcg) and the package-wide roxygen
# directives: imports and the registration of the C entry points.

#' sbcg: conditional generative learning with a Schrödinger bridge
#'
#' sbcg learns the whole conditional distribution of a response given
#' predictors.  [sbfit()] trains a small neural network that drives a
#' diffusion from 0 to a draw of \eqn{Y | X = x}; [sbsample()] runs that
#' diffusion and returns the draws; [sbcondstats()] turns them into
#' conditional means, standard deviations, quantiles and densities.  The
#' network, its training and the sampler are written in C.
#'
#' @section Kernels and options:
#' The dense layers of the network run through hand-written kernels that
#' use the AVX2 and FMA instructions when the CPU has them (checked when the
#' package is loaded), and through portable C kernels otherwise (128-bit
#' vectors of 2 doubles or 4 floats, which the compiler turns into SSE2 on
#' x86-64 or NEON on arm64; no BLAS).  On a CPU with AVX-512, the single-precision forward and
#' backward passes through the dense layers take sixteen rows per
#' instruction instead of eight, with the same results to the bit as the
#' AVX2 kernels.  `options(sbcg.kernels = "portable")` forces the portable
#' code and `"avx2"` the AVX2 code; the default is `"auto"`, the best the
#' CPU has.
#' The portable and AVX2 kernels give the same results up to rounding
#' (they differ in the last bits); for a given kernel set, results are
#' bit-identical for any number of threads.
#'
#' The network's forward and backward passes run in single precision
#' (`options(sbcg.precision = "single")`, the default): a vector register
#' holds twice as many numbers, which about halves the time of every call
#' that draws and takes about 40% off training.  The weights, the
#' optimiser, the losses, and the chains' states, steps and normal deviates
#' stay in double.  Fits and draws then differ from those of
#' `options(sbcg.precision = "double")` (every computation in double, as
#' in earlier versions) by rounding, about 1e-7 relative, far below
#' the noise of training and the Monte Carlo error of the draws.
#' `options(sbcg.max_draws)` (default 2e8) caps the number of
#' values one call may hold: draws times response components (for the
#' long format of [sbsample()], which repeats `.row`, `.draw` and the
#' predictors on each draw's line, those columns count too), checked
#' before sampling; `options(sbcg.max_parameters)` (default 5e7) caps the
#' size of a network.
#'
#' @references Huang, J. (2024). Conditional generative learning with a
#'   Schrödinger bridge. arXiv:2409.17294.
#' @keywords internal
#' @importFrom stats coef formula nobs predict simulate terms model.frame fitted residuals quantile
#' @importFrom stats update logLik vcov sigma weights
#' @useDynLib sbcg, .registration = TRUE, .fixes = "C_"
"_PACKAGE"
