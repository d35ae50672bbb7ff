#' sbcg: conditional generative learning with a Schrödinger bridge
#'
#' sbcg learns the whole conditional distribution of a response given
#' predictors.  [sbfit()] trains a small neural network that drives a
#' diffusion from 0 to a draw of \eqn{Y | X = x}; [sbsample()] runs that
#' diffusion and returns the draws; [sbcondstats()] turns them into
#' conditional means, standard deviations, quantiles and densities.  The
#' network, its training and the sampler are written in C.
#'
#' @references Huang, J. (2024). Conditional generative learning with a
#'   Schrödinger bridge. arXiv:2409.17294.
#' @keywords internal
#' @importFrom stats coef formula nobs predict simulate
#' @useDynLib sbcg, .registration = TRUE, .fixes = "C_"
"_PACKAGE"
