/* init.c -- registration of the .Call entry points, and the constant
 * tables of the normal generator. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>
#include "sbcg.h"

static const R_CallMethodDef call_methods[] = {
    {"sbcg_forward", (DL_FUNC) &sbcg_forward, 7},
    {"sbcg_loss_grad", (DL_FUNC) &sbcg_loss_grad, 10},
    {"sbcg_train", (DL_FUNC) &sbcg_train, 16},
    {"sbcg_train_group", (DL_FUNC) &sbcg_train_group, 16},
    {"sbcg_times", (DL_FUNC) &sbcg_times, 3},
    {"sbcg_sample", (DL_FUNC) &sbcg_sample, 19},
    {"sbcg_openmp", (DL_FUNC) &sbcg_openmp, 0},
    {"sbcg_kernels", (DL_FUNC) &sbcg_kernels, 0},
    {"sbcg_limits", (DL_FUNC) &sbcg_limits, 0},
    {"sbcg_sj_counts", (DL_FUNC) &sbcg_sj_counts, 1},
    {"sbcg_sj_psi", (DL_FUNC) &sbcg_sj_psi, 5},
    {NULL, NULL, 0}
};

void attribute_visible R_init_sbcg(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
    rng_init();
}
