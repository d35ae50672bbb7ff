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
#' package is loaded), and through portable C kernels otherwise (2-wide
#' vectors that the compiler turns into SSE2 on x86-64 or NEON on arm64;
#' no BLAS).  `options(sbcg.kernels = "portable")` forces the portable
#' code; the default is `"auto"`.
#' The two give the same results up to rounding (they differ in the last
#' bits); for a given kernel set, results are bit-identical for any number
#' of threads.  `options(sbcg.max_draws)` (default 2e8) caps the number of
#' draws one call may request and `options(sbcg.max_parameters)` (default
#' 5e7) the size of a network.
#'
#' @references Huang, J. (2024). Conditional generative learning with a
#'   Schrödinger bridge. arXiv:2409.17294.
#' @keywords internal
#' @importFrom stats coef formula nobs predict simulate terms model.frame fitted residuals quantile
#' @useDynLib sbcg, .registration = TRUE, .fixes = "C_"
"_PACKAGE"
