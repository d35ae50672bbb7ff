# Runs sbcg's test suite against the installed package and ends with the
# line "N passed, N failed[, N skipped]" (expectations).  Exit status 1 if
# any expectation failed or a test stopped with an error.
#   Rscript tools/run-tests.R                          # the default suite
#   SBCG_SLOW_TESTS=true Rscript tools/run-tests.R     # and the slow tests
# The slow tests repeat the statistical checks of test-accuracy.R with the
# default training budget; the default suite makes them with a short one.
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1L] else "tests/testthat"
# including the tests that skip_on_cran() leaves out of R CMD check
Sys.setenv(NOT_CRAN = "true")
res <- testthat::test_dir(dir, package = "sbcg", load_package = "installed",
                          reporter = testthat::ProgressReporter$new(show_praise = FALSE),
                          stop_on_failure = FALSE, stop_on_warning = FALSE)
df <- as.data.frame(res)
passed <- sum(df$passed)
failed <- sum(df$failed) + sum(df$error)
skipped <- sum(df$skipped)
cat(sprintf("%d passed, %d failed%s\n", passed, failed,
            if (skipped > 0) sprintf(", %d skipped", skipped) else ""))
quit(status = if (failed > 0) 1L else 0L)
