/* init.c -- registration of the .Call entry points; the random-number
 * tables and the choice of kernels for this CPU. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>
#include "sbcg.h"

SEXP sbcg_forward(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP sbcg_loss_grad(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP sbcg_train(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP,
                SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP sbcg_sample(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP,
                 SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP sbcg_openmp(void);
SEXP sbcg_kernels(SEXP);

static const R_CallMethodDef call_methods[] = {
    {"sbcg_forward", (DL_FUNC) &sbcg_forward, 6},
    {"sbcg_loss_grad", (DL_FUNC) &sbcg_loss_grad, 9},
    {"sbcg_train", (DL_FUNC) &sbcg_train, 15},
    {"sbcg_sample", (DL_FUNC) &sbcg_sample, 15},
    {"sbcg_openmp", (DL_FUNC) &sbcg_openmp, 0},
    {"sbcg_kernels", (DL_FUNC) &sbcg_kernels, 1},
    {NULL, NULL, 0}
};

void attribute_visible R_init_sbcg(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
    rng_init();
    kern_level = kern_detect();
}
