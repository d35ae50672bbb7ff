# Large newdata in chunks: the same bits for any chunk size, any number of
# threads and any future plan, because every row's random stream is keyed
# by (seed drawn once in this session, the row's index in newdata).

set.seed(51)
d_ch <- data.frame(x = runif(200, -2, 2))
d_ch$y1 <- d_ch$x + rnorm(200, sd = 0.3)
d_ch$y2 <- d_ch$x^2 + rnorm(200, sd = 0.3)
fit_ch <- sbfit(y1 ~ x, d_ch, control = small_control(), seed = 1)
fit_ch2 <- sbfit(cbind(y1, y2) ~ x, d_ch, control = small_control(), seed = 1)
nd_ch <- d_ch[1:7, ]

# Every result that sbsample(), sbcondstats() and sbscore() give, for
# one setting of chunk_size / threads.
all_results <- function(chunk_size, threads = 1L) {
  list(
    long = sbsample(fit_ch, nd_ch, ndraws = 13, seed = 3, chunk_size = chunk_size,
                    threads = threads),
    matrix2 = sbsample(fit_ch2, nd_ch, ndraws = 13, format = "matrix", seed = 3,
                       chunk_size = chunk_size, threads = threads),
    long2 = sbsample(fit_ch2, nd_ch, ndraws = 5, seed = 4, chunk_size = chunk_size,
                     threads = threads),
    stats = sbcondstats(fit_ch, nd_ch, ndraws = 40, at = c(0, 1), se = TRUE, seed = 5,
                        chunk_size = chunk_size, threads = threads),
    stats2 = sbcondstats(fit_ch2, nd_ch, ndraws = 40, at = cbind(nd_ch$x), se = TRUE,
                         keep_draws = TRUE, seed = 5, chunk_size = chunk_size,
                         threads = threads),
    score = sbscore(fit_ch, nd_ch, ndraws = 30, seed = 6, chunk_size = chunk_size,
                    threads = threads),
    score2 = sbscore(fit_ch2, nd_ch, ndraws = 30, seed = 6, chunk_size = chunk_size,
                     threads = threads)
  )
}

test_that("chunk size and threads do not change a single bit", {
  ref <- all_results(10000L)
  expect_equal(nrow(ref$stats), 7L)
  expect_equal(dim(ref$matrix2), c(7L, 13L, 2L))
  for (cs in c(1L, 2L, 3L, 6L, 7L)) expect_identical(all_results(cs), ref, info = cs)
  expect_identical(all_results(3L, threads = 2L), ref)
  # and the seed is drawn from the caller's stream exactly once
  set.seed(8)
  a <- sbsample(fit_ch, nd_ch, ndraws = 3, chunk_size = 2)
  u <- runif(1)
  set.seed(8)
  b <- sbsample(fit_ch, nd_ch, ndraws = 3)
  expect_identical(a, b)
  expect_identical(runif(1), u)
})

test_that("verbose reports one message per chunk", {
  msgs <- capture_messages(sbsample(fit_ch, nd_ch, ndraws = 2, seed = 1, chunk_size = 3,
                                    verbose = TRUE))
  expect_length(msgs, 3L)
  expect_match(msgs[3], "chunk 3 of 3 \\(rows 7-7 of 7\\)")
  expect_silent(sbsample(fit_ch, nd_ch, ndraws = 2, seed = 1, chunk_size = 3))
  expect_silent(sbcondstats(fit_ch, nd_ch, ndraws = 2, probs = 0.5, seed = 1, verbose = TRUE))
})

test_that("non-finite draws are reported once for all chunks, with their rows", {
  big <- fit_ch
  big$theta <- big$theta * 1e250
  w1 <- tryCatch(sbsample(big, nd_ch, ndraws = 4, seed = 1), warning = conditionMessage)
  w3 <- tryCatch(sbsample(big, nd_ch, ndraws = 4, seed = 1, chunk_size = 3),
                 warning = conditionMessage)
  # the count is of the draws the caller gets
  m <- suppressWarnings(sbsample(big, nd_ch, ndraws = 4, seed = 1, format = "matrix"))
  rows <- which(rowSums(!is.finite(m)) > 0)
  expect_gt(length(rows), 0L)
  expect_match(w1, sprintf("^%d of 28 draws ended in a non-finite value, in %d row\\(s\\) of 'newdata' \\(%s",
                           sum(!is.finite(m)), length(rows),
                           paste(utils::head(rows, 5L), collapse = ", ")))
  expect_identical(w3, w1)
  w_st <- tryCatch(sbcondstats(big, nd_ch, ndraws = 4, probs = 0.5, density = FALSE, seed = 1),
                   warning = conditionMessage)
  expect_match(w_st, "draws ended in a non-finite value, in [0-9]+ row")
})

test_that("bad 'chunk_size' and 'verbose' give errors naming them", {
  expect_error(sbsample(fit_ch, nd_ch, chunk_size = 0), "'chunk_size'")
  expect_error(sbsample(fit_ch, nd_ch, chunk_size = 1.5), "'chunk_size'")
  expect_error(sbsample(fit_ch, nd_ch, chunk_size = NA), "'chunk_size'")
  expect_error(sbsample(fit_ch, nd_ch, chunk_size = "10"), "'chunk_size'")
  expect_error(sbcondstats(fit_ch, nd_ch, chunk_size = -1), "'chunk_size'")
  expect_error(sbsample(fit_ch, nd_ch, verbose = "yes"), "'verbose'")
  expect_error(sbcondstats(fit_ch, nd_ch, verbose = NA), "'verbose'")
  # the draw limit applies to one chunk in sbcondstats(), to all in sbsample()
  old <- options(sbcg.max_draws = 100)
  on.exit(options(old))
  expect_error(sbsample(fit_ch, nd_ch, ndraws = 20, chunk_size = 2), "'ndraws'.*sbcg.max_draws")
  expect_error(sbcondstats(fit_ch, nd_ch, ndraws = 60, chunk_size = 2), "'ndraws'.*sbcg.max_draws")
  expect_s3_class(sbcondstats(fit_ch, nd_ch, ndraws = 20, chunk_size = 2, seed = 1), "sbcondstats")
  # ...unless it keeps the draws, all of them in memory at once
  expect_error(sbcondstats(fit_ch, nd_ch, ndraws = 20, chunk_size = 2, keep_draws = TRUE),
               "'ndraws'.*sbcg.max_draws")
  expect_error(simulate(fit_ch, nsim = 50, newdata = nd_ch), "'nsim'.*sbcg.max_draws")
  # the long format counts its other columns (.row, .draw, x) too, before
  # sampling: 7 rows x 10 draws x 4 columns
  expect_identical(dim(sbsample(fit_ch, nd_ch, ndraws = 10, format = "matrix")), c(7L, 10L))
  expect_error(sbsample(fit_ch, nd_ch, ndraws = 10),
               "'ndraws' = 10 draws for 7 rows of 'newdata' and 1 response\\(s\\), with the long format's 3 other column\\(s\\) on each draw's line make 280 values.*take format = \"matrix\"")
  expect_identical(nrow(sbsample(fit_ch, nd_ch, ndraws = 3)), 21L)
  options(sbcg.max_draws = "a")
  expect_error(sbsample(fit_ch, nd_ch, ndraws = 2), "option sbcg.max_draws must be a positive number")
})

test_that("a failing future plan gives an error that says so", {
  e <- simpleError("there is no package called 'sbcg'")
  expect_error(sbcg:::future_failure(e), "workers of the future plan cannot load package sbcg")
  expect_error(sbcg:::future_failure(simpleError("connection lost")),
               "evaluating the chunks through the future plan failed: connection lost")
})

test_that("a sequential future plan runs the chunks here, with the same bits", {
  skip_if_not_installed("future")
  oplan <- future::plan("sequential")
  on.exit(future::plan(oplan), add = TRUE)
  expect_false(sbcg:::future_active())
  expect_identical(sbcondstats(fit_ch, nd_ch, ndraws = 20, seed = 2, chunk_size = 2),
                   sbcondstats(fit_ch, nd_ch, ndraws = 20, seed = 2))
})

test_that("multisession workers give the same bits as the sequential run", {
  skip_on_cran()
  # under valgrind this session's fused multiply-adds are emulated and may
  # differ in the last bit from the workers', which run on the CPU itself
  skip_if(identical(Sys.getenv("SBCG_MEMCHECK"), "valgrind"),
          "valgrind's floating point differs from the native workers'")
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  installed <- base::system.file(package = "sbcg")
  skip_if(installed == "", "sbcg is not installed, so worker sessions cannot load it")
  skip_if(normalizePath(installed) != normalizePath(getNamespaceInfo("sbcg", "path")),
          "this session's sbcg is not the installed copy that the workers would load")
  ref <- all_results(10000L)
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  expect_true(sbcg:::future_active())
  expect_identical(all_results(3L), ref)
  expect_identical(all_results(2L, threads = 2L), ref)
  # messages from the workers come back
  msgs <- capture_messages(sbsample(fit_ch, nd_ch, ndraws = 2, seed = 1, chunk_size = 4,
                                    verbose = TRUE))
  expect_match(msgs, "chunk [12] of 2")
  expect_length(msgs, 2L)
  # warnings too, once
  big <- fit_ch
  big$theta <- big$theta * 1e250
  expect_warning(sbsample(big, nd_ch, ndraws = 4, seed = 1, chunk_size = 3),
                 "of 28 draws ended in a non-finite value")
})

test_that("a long sampling call with verbose samples in pieces: the same draws", {
  nd <- data.frame(x = seq(-1, 1, length.out = 30), f = "a")
  # 30 rows x 2000 draws x 100 steps: long enough for pieces
  a <- sbsample(fit_ch, nd, ndraws = 2000, steps = 100, seed = 3, format = "matrix")
  out <- capture.output(b <- sbsample(fit_ch, nd, ndraws = 2000, steps = 100, seed = 3,
                                      format = "matrix", verbose = TRUE))
  expect_identical(a, b)
  st1 <- sbcondstats(fit_ch, nd, ndraws = 2000, steps = 100, seed = 3, density = FALSE)
  capture.output(st2 <- sbcondstats(fit_ch, nd, ndraws = 2000, steps = 100, seed = 3,
                                    density = FALSE, verbose = TRUE))
  expect_identical(st1, st2)
})

test_that("the sampling progress line shows after two seconds, with rows and time left", {
  pr <- sbcg:::progress_line(10)
  expect_silent(pr$tick(2))
  Sys.sleep(2.05)
  out <- capture.output({pr$tick(3); pr$done()})
  expect_match(paste(out, collapse = ""), "sampling: 5 of 10 rows, 0:0[2-9] used, about 0:0[2-9] left")
  pr2 <- sbcg:::progress_line(10)
  expect_silent({pr2$tick(10); pr2$done()})
})
