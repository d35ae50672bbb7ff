# Handwritten digits: sbcg on image-sized responses.  The US Postal Service
# digits of Hastie, Tibshirani and Friedman (16 x 16 grey levels in
# [-1, 1], 7291 training and 2007 test images with their labels), as
# `zip.train` and `zip.test` in the archived CRAN package ElemStatLearn.
#
#   Rscript bench/digits.R                      # both tasks, threads 2
#   Rscript bench/digits.R --quick              # short budget, 300 test images
#   Rscript bench/digits.R --tasks completion --test 500
#   Rscript bench/digits.R --tasks scaling      # fit and sampling time at d = 64, 128, 256
#
# Tasks:
#   class       x = the digit label (a factor), y = the 256 pixels: 100 draws
#               per class, the share that a classifier trained on the real
#               training digits assigns to the intended class (next to its
#               accuracy on the real test digits), and the mean pairwise
#               Euclidean distance of the draws of a class against that of
#               the real test digits of the class (diversity).
#   completion  x = the top 8 rows (128 pixels), y = the bottom 8 rows (128
#               pixels): 100 completions per test image; the energy score
#               and the per-pixel CRPS against the true bottom half, next
#               to a Gaussian linear regression of bottom on top with the
#               residual covariance (100 draws from it), and nearest-
#               neighbour resampling (the bottom halves of the k training
#               images whose top halves are nearest, k chosen by the energy
#               score on 1000 training images, each left out of its own
#               neighbours).
#   scaling     fit and sampling time of the completion task's kind for
#               d = 64 (x = the top 8 rows, y = rows 13-16), d = 128 (y =
#               rows 9-16) and d = 256 (y = all 16 rows: a timing case only),
#               with the hidden widths the defaults choose, a fixed budget
#               (--scaling-epochs, no validation split), and 100 test
#               images x 100 draws.
#   threads     the completion task on 500 training images with a short
#               budget (2e4 triples), fitted and sampled (20 test images x
#               10 draws) with threads = 1 and 2: identical bits?
#
# Scores are computed by sbcg::score_draws(): the "edf" estimators, the
# exact scores of a method whose predictive law is the draws themselves
# (nearest-neighbour resampling) and slightly pessimistic (by E||X - X'||
# / (2 m)) for methods sampled with m draws (sbcg, the Gaussian).
#
# Data: the script downloads the source tarball of ElemStatLearn
# 2015.6.26.2 from CRAN's archive into a cache folder (--cache, else the
# environment variable SBCG_DIGITS_CACHE, else
# tools::R_user_dir("sbcg", "cache")), checks its MD5 sum, and reads the two
# .RData files from it without installing the package (SBCG_DIGITS_URL
# replaces the archive's address, to try the failure paths).  The download goes
# to a temporary file in the cache folder, renamed only once verified, so a
# failed or corrupted download leaves nothing behind.
#
# Options: --quick; --tasks class,completion,scaling,threads (default class,
# completion); --threads (default 2); --seed (default 1); --test (test
# images scored in the completion task, default all 2007); --train
# (training images, a random subset for a smoke test, default all 7291);
# --draws (draws
# per class and completions per image, default 100); --samples (training
# budget in triples, default 1e6); --scaling-epochs (default 10);
# --support real (fit the pixels on the real line instead of
# support = c(-1.01, 1.01)); --scaling-hidden w1,w2 (fixed hidden widths for every d in the scaling
# task instead of those the defaults choose); --control "ARGS" (further
# sbcg_control() arguments for the class and completion fits, as R code,
# for example --control "hidden = c(128, 128)"); --cache;
# --figures DIR (where the figures and the small result file go, default
# vignettes/ next to this folder; "none" for none).
#
# Needs MASS and class (recommended packages) for the classifiers.

suppressPackageStartupMessages(library(sbcg))
options(width = 120)

source_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) normalizePath(dirname(f[1L])) else normalizePath("bench")
})
source(file.path(source_dir, "cli.R"))
check_options(c("quick", "tasks", "threads", "seed", "train", "test", "draws", "samples",
                "scaling-epochs", "scaling-hidden", "support", "control", "cache", "figures"))
quick <- "--quick" %in% args
tasks <- strsplit(opt_value("tasks", "class,completion"), ",", fixed = TRUE)[[1L]]
if (!all(tasks %in% c("class", "completion", "scaling", "threads")))
  stop("--tasks must be among class, completion, scaling, threads", call. = FALSE)
threads <- as.integer(opt_value("threads", "2"))
seed <- as.integer(opt_value("seed", "1"))
ntrain <- as.integer(opt_value("train", "7291"))
ntest <- as.integer(opt_value("test", if (quick) "300" else "2007"))
ndraws <- as.integer(opt_value("draws", "100"))
samples <- as.numeric(opt_value("samples", if (quick) "2e5" else "1e6"))
scaling_epochs <- as.integer(opt_value("scaling-epochs", if (quick) "3" else "10"))
scaling_hidden <- opt_value("scaling-hidden", "")
scaling_hidden <- if (nzchar(scaling_hidden))
  as.integer(strsplit(scaling_hidden, ",", fixed = TRUE)[[1L]])
cache <- opt_value("cache", Sys.getenv("SBCG_DIGITS_CACHE", tools::R_user_dir("sbcg", "cache")))
figures <- opt_value("figures", file.path(dirname(source_dir), "vignettes"))
if (anyNA(c(threads, seed, ntrain, ntest, ndraws, samples, scaling_epochs)) ||
    any(c(threads, ntrain, ntest, ndraws, samples, scaling_epochs) < 1) || ndraws < 2)
  stop("--threads, --train, --test, --draws, --samples and --scaling-epochs must be positive numbers (--draws at least 2)",
       call. = FALSE)

# ---- data ------------------------------------------------------------------
esl_url <- Sys.getenv("SBCG_DIGITS_URL",
  "https://cloud.r-project.org/src/contrib/Archive/ElemStatLearn/ElemStatLearn_2015.6.26.2.tar.gz")
esl_md5 <- "9ef3c1289e595c2e9edddbccc885d25a"

# The path of the verified tarball in `cache`, downloading it if needed.
esl_tarball <- function(cache) {
  dest <- file.path(cache, "ElemStatLearn_2015.6.26.2.tar.gz")
  if (file.exists(dest)) {
    if (identical(unname(tools::md5sum(dest)), esl_md5)) return(dest)
    message(sprintf("the cached %s has the wrong MD5 sum; downloading it again", dest))
    unlink(dest)
  }
  if (!dir.exists(cache) && !dir.create(cache, recursive = TRUE, showWarnings = FALSE))
    stop(sprintf("cannot create the cache folder %s; give another with --cache DIR", cache),
         call. = FALSE)
  tmp <- tempfile("download-", tmpdir = cache, fileext = ".part")
  on.exit(unlink(tmp), add = TRUE)
  how <- sprintf(paste0("download %s by hand (a browser, curl or wget), save it as %s ",
                        "(or in another folder given by --cache DIR) and run the script again"),
                 esl_url, dest)
  got <- tryCatch({
    utils::download.file(esl_url, tmp, mode = "wb", quiet = TRUE)
    TRUE
  }, error = function(e) conditionMessage(e), warning = function(w) conditionMessage(w))
  if (!isTRUE(got))
    stop(sprintf("could not download the USPS digits (ElemStatLearn) from %s into the cache folder %s: %s\nTo run offline, %s",
                 esl_url, cache, got, how), call. = FALSE)
  if (!identical(unname(tools::md5sum(tmp)), esl_md5))
    stop(sprintf("the file downloaded from %s is corrupted (MD5 %s, expected %s); nothing was kept in %s.\nTry again, or %s",
                 esl_url, unname(tools::md5sum(tmp)), esl_md5, cache, how), call. = FALSE)
  if (!file.rename(tmp, dest))
    stop(sprintf("could not move the download into the cache folder %s", cache), call. = FALSE)
  dest
}

# zip.train and zip.test (first column the digit, then 256 pixels, row by
# row from the top left) read from the tarball without installing it.
load_zip <- function(cache) {
  tarball <- esl_tarball(cache)
  exdir <- tempfile("esl-")
  on.exit(unlink(exdir, recursive = TRUE), add = TRUE)
  files <- c("ElemStatLearn/data/zip.train.RData", "ElemStatLearn/data/zip.test.RData")
  utils::untar(tarball, files = files, exdir = exdir)
  e <- new.env()
  for (f in files) load(file.path(exdir, f), envir = e)
  if (!all(c("zip.train", "zip.test") %in% ls(e)))
    stop(sprintf("%s does not hold zip.train and zip.test", tarball), call. = FALSE)
  lapply(list(train = e$zip.train, test = e$zip.test), function(z) {
    y <- z[, -1L]
    colnames(y) <- sprintf("r%02dc%02d", rep(1:16, each = 16), rep(1:16, 16))
    list(label = factor(z[, 1L], levels = 0:9), pixels = y)
  })
}

cpu <- readLines("/proc/cpuinfo")
cat("Handwritten digits (USPS, ElemStatLearn's zip.train and zip.test)\n")
cat(sprintf("command: Rscript bench/digits.R %s\n", paste(args, collapse = " ")))
cat(sprintf("machine: %s, %d cores; %s; sbcg %s; date %s\n",
            sub(".*: ", "", grep("^model name", cpu, value = TRUE)[1L]),
            parallel::detectCores(), R.version.string, utils::packageVersion("sbcg"),
            format(Sys.time(), "%Y-%m-%d %H:%M %Z")))
zip <- load_zip(cache)
if (ntrain < nrow(zip$train$pixels)) {
  set.seed(seed)
  keep <- sort(sample.int(nrow(zip$train$pixels), ntrain))
  zip$train <- list(label = zip$train$label[keep], pixels = zip$train$pixels[keep, ])
}
cat(sprintf("data: %d training and %d test images, cache %s\n",
            nrow(zip$train$pixels), nrow(zip$test$pixels), cache))

# Pixels lie in [-1, 1], most of them exactly at -1 (the background) or 1;
# the support's bounds are open, so the fit's interval is a little wider.
support <- if (opt_value("support", "interval") == "real") "real" else c(-1.01, 1.01)
extra_control <- opt_value("control", "")
control <- eval(parse(text = sprintf("sbcg_control(samples = samples%s%s)",
                                     if (nzchar(extra_control)) ", " else "", extra_control)))
cat(sprintf("sbfit(): support %s, sbcg_control(samples = %g%s), other settings the defaults; threads %d, seed %d\n\n",
            if (is.character(support)) "\"real\"" else sprintf("c(%g, %g)", support[1L], support[2L]),
            samples, if (nzchar(extra_control)) paste0(", ", extra_control) else "", threads, seed))

elapsed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  val <- force(expr)
  list(value = val, seconds = proc.time()[["elapsed"]] - t0)
}
results <- list()

# ---- figures -----------------------------------------------------------------
# One 16 x 16 image (pixels row by row) at the unit square's cell (i, j) of
# a grid; ink is dark.
draw_digit <- function(v, i, j, nr) {
  m <- matrix(v, 16, 16, byrow = TRUE)
  g <- 0.04
  graphics::rasterImage(as.raster(matrix(grDevices::grey((1 - pmin(pmax(m, -1), 1)) / 2), 16, 16)),
                        j - 1 + g, nr - i + g, j - g, nr - i + 1 - g, interpolate = FALSE)
}
grid_png <- function(file, imgs, labels_left = NULL, labels_top = NULL, scale = 34) {
  nr <- nrow(imgs)
  nc <- ncol(imgs)
  grDevices::png(file, width = nc * scale + 14, height = nr * scale + if (is.null(labels_top)) 2 else 16,
                 pointsize = 10)
  on.exit(grDevices::dev.off())
  graphics::par(mai = c(0, 14, if (is.null(labels_top)) 2 else 16, 0) / 72, xaxs = "i", yaxs = "i")
  graphics::plot.new()
  graphics::plot.window(c(0, nc), c(0, nr))
  for (i in seq_len(nr)) for (j in seq_len(nc)) draw_digit(imgs[[i, j]], i, j, nr)
  if (!is.null(labels_left)) graphics::mtext(labels_left, 2, at = nr - seq_len(nr) + 0.5,
                                             las = 1, line = 0.1)
  if (!is.null(labels_top)) graphics::mtext(labels_top, 3, at = seq_len(nc) - 0.5, line = 0.1)
}

# ---- class-conditional generation -------------------------------------------
if ("class" %in% tasks) {
  cat("== class-conditional generation: x = digit label, y = 256 pixels\n")
  tr <- zip$train
  te <- zip$test
  f <- elapsed(sbfit(data.frame(digit = tr$label), tr$pixels, control = control,
                     support = support, threads = threads, seed = seed))
  fit <- f$value
  cat(sprintf("fit: %.1f s; hidden widths %s; bridge %s the predictors; stopped at epoch %d of %d\n",
              f$seconds, paste(fit$control$hidden, collapse = "-"),
              if (isTRUE(fit$bridge_x)) "with" else "without", nrow(fit$history),
              fit$control$epochs))
  nd <- data.frame(digit = factor(0:9, levels = 0:9))
  s <- elapsed(sbsample(fit, nd, ndraws = ndraws, format = "matrix", threads = threads,
                        seed = seed + 1L))
  A <- s$value                               # 10 x draws x 256
  cat(sprintf("sampling: %d draws per class, %.1f s\n", ndraws, s$seconds))
  gen <- matrix(aperm(A, c(2L, 1L, 3L)), 10L * ndraws, 256L)   # class-major rows
  gen_label <- factor(rep(0:9, each = ndraws), levels = 0:9)
  colnames(gen) <- colnames(tr$pixels)
  cat(sprintf("pixels of the draws outside [-1, 1]: %.2f%%, largest |pixel| %.4f\n",
              100 * mean(abs(gen) > 1), max(abs(gen))))

  # classifiers trained on the real training digits
  lda <- suppressWarnings(MASS::lda(tr$pixels, tr$label))
  lda_test <- mean(predict(lda, te$pixels)$class == te$label)
  lda_gen <- mean(predict(lda, gen)$class == gen_label)
  knn_test <- mean(class::knn(tr$pixels, te$pixels, tr$label, k = 3) == te$label)
  knn_gen <- mean(class::knn(tr$pixels, gen, tr$label, k = 3) == gen_label)
  mpd <- function(M) mean(stats::dist(M))
  div <- vapply(0:9, function(k) {
    c(gen = mpd(gen[gen_label == k, , drop = FALSE]),
      real = mpd(te$pixels[te$label == k, , drop = FALSE]))
  }, c(gen = 0, real = 0))
  # the nearest training digit of each draw, against that of each real
  # test digit: a draw that copies a training digit lies at distance 0
  nn_dist <- function(M) {
    d2 <- outer(rowSums(M^2), rowSums(tr$pixels^2), "+") - 2 * M %*% t(tr$pixels)
    sqrt(pmax(0, apply(d2, 1L, min)))
  }
  per_class <- data.frame(digit = 0:9,
    lda_share = tapply(predict(lda, gen)$class == gen_label, gen_label, mean),
    knn_share = tapply(class::knn(tr$pixels, gen, tr$label, k = 3) == gen_label, gen_label, mean),
    diversity_gen = div["gen", ], diversity_real = div["real", ],
    ratio = div["gen", ] / div["real", ])
  cat("\nper class: share assigned to the intended class (LDA, 3-NN), mean pairwise distance of draws and of real test digits\n")
  print(per_class, digits = 3, row.names = FALSE)
  nn_gen <- nn_dist(gen)
  nn_real <- nn_dist(te$pixels)
  cat(sprintf("\nLDA: %.1f%% of generated digits in the intended class; accuracy on the real test digits %.1f%%\n",
              100 * lda_gen, 100 * lda_test))
  cat(sprintf("3-NN: %.1f%% of generated digits in the intended class; accuracy on the real test digits %.1f%%\n",
              100 * knn_gen, 100 * knn_test))
  cat(sprintf("diversity (mean pairwise distance within a class, draws / real test digits): %.3f overall (mean of the per-class ratios; range %.3f-%.3f)\n",
              mean(per_class$ratio), min(per_class$ratio), max(per_class$ratio)))
  cat(sprintf("distance to the nearest training digit: median %.2f for draws, %.2f for real test digits (a copy would be 0)\n\n",
              stats::median(nn_gen), stats::median(nn_real)))
  results$class <- list(fit_s = f$seconds, sample_s = s$seconds,
                        hidden = fit$control$hidden, lda_gen = lda_gen, lda_test = lda_test,
                        knn_gen = knn_gen, knn_test = knn_test, per_class = per_class,
                        nn_gen = stats::median(nn_gen), nn_real = stats::median(nn_real))
  if (figures != "none") {
    imgs <- matrix(list(), 10L, 8L)
    for (k in 1:10) for (j in 1:8) imgs[[k, j]] <- A[k, j, ]
    grid_png(file.path(figures, "digits-classes.png"), imgs, labels_left = 0:9)
  }
}

# ---- completion ----------------------------------------------------------------
if ("completion" %in% tasks) {
  cat("== completion: x = top 8 rows (128 pixels), y = bottom 8 rows (128 pixels)\n")
  top <- 1:128
  bot <- 129:256
  Xtr <- zip$train$pixels[, top]
  Ytr <- zip$train$pixels[, bot]
  set.seed(seed)
  ti <- if (ntest < nrow(zip$test$pixels)) sort(sample.int(nrow(zip$test$pixels), ntest)) else
    seq_len(nrow(zip$test$pixels))
  Xte <- zip$test$pixels[ti, top]
  Yte <- zip$test$pixels[ti, bot]
  f <- elapsed(sbfit(Xtr, Ytr, control = control, support = support, threads = threads,
                     seed = seed))
  fit <- f$value
  cat(sprintf("fit: %.1f s; hidden widths %s; bridge %s the predictors; stopped at epoch %d of %d\n",
              f$seconds, paste(fit$control$hidden, collapse = "-"),
              if (isTRUE(fit$bridge_x)) "with" else "without", nrow(fit$history),
              fit$control$epochs))
  s <- elapsed(sbsample(fit, Xte, ndraws = ndraws, format = "matrix", threads = threads,
                        seed = seed + 1L))
  A <- s$value                                # test x draws x 128
  cat(sprintf("sampling: %d completions of each of %d test images, %.1f s\n",
              ndraws, length(ti), s$seconds))

  # Gaussian linear regression of bottom on top with the residual covariance
  X1 <- cbind(1, Xtr)
  lf <- stats::lm.fit(X1, Ytr)
  B <- lf$coefficients
  B[is.na(B)] <- 0
  R <- Ytr - X1 %*% B
  S <- crossprod(R) / (nrow(R) - lf$rank)
  L <- chol(S + diag(1e-10 * mean(diag(S)), ncol(S)))
  mu <- cbind(1, Xte) %*% B
  set.seed(seed + 2L)
  G <- array(0, dim(A))
  for (j in seq_len(ndraws))
    G[, j, ] <- mu + matrix(stats::rnorm(length(mu)), nrow(mu)) %*% L

  # nearest-neighbour resampling: the bottoms of the k training images whose
  # tops are nearest; k by the energy score on 1000 training images, each
  # left out of its own neighbours
  sqd <- function(A, B) outer(rowSums(A^2), rowSums(B^2), "+") - 2 * A %*% t(B)
  knn_draws <- function(D2, k, Ypool) {
    idx <- t(apply(D2, 1L, function(r) order(r)[seq_len(k)]))
    if (k == 1L) idx <- matrix(idx, ncol = 1L)
    out <- array(0, c(nrow(D2), k, ncol(Ypool)))
    for (j in seq_len(k)) out[, j, ] <- Ypool[idx[, j], ]
    out
  }
  es_mean <- function(draws, y) {
    sc <- score_draws(draws, y)
    c(es = mean(sc$es[!duplicated(sc$.row)]), crps = mean(sc$crps))
  }
  set.seed(seed + 3L)
  vi <- sample.int(nrow(Xtr), min(1000L, nrow(Xtr) - 100L))
  Dv <- sqd(Xtr[vi, ], Xtr)
  Dv[cbind(seq_along(vi), vi)] <- Inf
  ks <- c(5L, 10L, 20L, 50L, 100L)
  kes <- vapply(ks, function(k) es_mean(knn_draws(Dv, k, Ytr), Ytr[vi, ])[["es"]], 0)
  kbest <- ks[which.min(kes)]
  cat(sprintf("nearest neighbours: energy score on 1000 left-out training images %s for k = %s; k = %d\n",
              paste(sprintf("%.3f", kes), collapse = ", "), paste(ks, collapse = ", "), kbest))
  K <- knn_draws(sqd(Xte, Xtr), kbest, Ytr)

  sc <- lapply(list(sbcg = A, gaussian = G, knn = K), function(D) {
    s <- score_draws(D, Yte)
    es <- s$es[!duplicated(s$.row)]
    list(es = es, crps = tapply(s$crps, s$.row, mean))
  })
  tab <- data.frame(method = c("sbcg", "Gaussian linear", sprintf("nearest neighbours (k = %d)", kbest)),
                    draws = c(ndraws, ndraws, kbest),
                    energy_score = vapply(sc, function(s) mean(s$es), 0),
                    es_se = vapply(sc, function(s) stats::sd(s$es) / sqrt(length(s$es)), 0),
                    crps_pixel = vapply(sc, function(s) mean(s$crps), 0),
                    crps_se = vapply(sc, function(s) stats::sd(s$crps) / sqrt(length(s$crps)), 0))
  paired <- function(a, b) {
    dd <- sc[[a]][[b]] - sc$sbcg[[b]]
    sprintf("%.4f (se %.4f)", mean(dd), stats::sd(dd) / sqrt(length(dd)))
  }
  cat(sprintf("\nscores over %d test images (lower is better; se: standard error over images)\n", length(ti)))
  print(tab, digits = 4, row.names = FALSE)
  cat(sprintf("paired differences, baseline minus sbcg: energy score Gaussian %s, nearest neighbours %s; per-pixel CRPS Gaussian %s, nearest neighbours %s\n",
              paired("gaussian", "es"), paired("knn", "es"), paired("gaussian", "crps"),
              paired("knn", "crps")))
  within <- mean(apply(A, 1L, function(M) mean(stats::dist(M))))
  cat(sprintf("completions of one image: mean pairwise distance %.3f (the bottom halves of a class's real test digits: %.3f)\n\n",
              within, mean(vapply(0:9, function(k) mean(stats::dist(
                zip$test$pixels[zip$test$label == k, bot])), 0))))
  results$completion <- list(fit_s = f$seconds, sample_s = s$seconds, ntest = length(ti),
                             hidden = fit$control$hidden, k = kbest, table = tab)
  if (figures != "none") {
    show <- seq_len(min(8L, length(ti)))
    imgs <- matrix(list(), length(show), 7L)
    for (i in seq_along(show)) {
      imgs[[i, 1L]] <- c(Xte[show[i], ], rep(0, 128))
      for (j in 1:5) imgs[[i, j + 1L]] <- c(Xte[show[i], ], A[show[i], j, ])
      imgs[[i, 7L]] <- c(Xte[show[i], ], Yte[show[i], ])
    }
    grid_png(file.path(figures, "digits-completion.png"), imgs,
             labels_top = c("top", 1:5, "truth"))
  }
}

# ---- time against d ------------------------------------------------------------
if ("scaling" %in% tasks) {
  cat(sprintf("== time against d: x = top 8 rows, %d epochs, no validation split, %d test images x %d draws\n",
              scaling_epochs, 100L, ndraws))
  rows_of <- function(r) as.vector(vapply(r, function(i) (i - 1L) * 16L + 1:16, integer(16)))
  cases <- list(`64` = rows_of(13:16), `128` = rows_of(9:16), `256` = rows_of(1:16))
  sc <- list()
  for (nm in names(cases)) {
    X <- zip$train$pixels[, 1:128]
    Y <- zip$train$pixels[, cases[[nm]]]
    ctl <- sbcg_control(epochs = scaling_epochs, validation = 0, hidden = scaling_hidden)
    f <- elapsed(sbfit(X, Y, control = ctl, support = support, threads = threads, seed = seed))
    s <- elapsed(sbsample(f$value, zip$test$pixels[1:100, 1:128], ndraws = ndraws,
                          format = "matrix", threads = threads, seed = seed))
    sc[[nm]] <- data.frame(d = ncol(Y), hidden = paste(f$value$control$hidden, collapse = "-"),
                           fit_s = f$seconds, sample_s = s$seconds)
    cat(sprintf("  d = %3d: hidden %s, fit %.1f s, sampling %.1f s\n", ncol(Y),
                sc[[nm]]$hidden, f$seconds, s$seconds))
  }
  st <- do.call(rbind, sc)
  st$fit_per_d64 <- st$fit_s / st$fit_s[1L]
  st$sample_per_d64 <- st$sample_s / st$sample_s[1L]
  print(st, digits = 3, row.names = FALSE)
  results[[if (is.null(scaling_hidden)) "scaling" else "scaling_fixed"]] <- st
}

# ---- one and two threads --------------------------------------------------------
if ("threads" %in% tasks) {
  cat("== one and two threads: completion task, 500 training images, 2e4 triples\n")
  set.seed(seed)
  i <- sample.int(nrow(zip$train$pixels), 500L)
  X <- zip$train$pixels[i, 1:128]
  Y <- zip$train$pixels[i, 129:256]
  fits <- lapply(1:2, function(th)
    suppressWarnings(sbfit(X, Y, control = sbcg_control(samples = 2e4), support = support,
                           threads = th, seed = seed)))
  draws <- lapply(1:2, function(th)
    sbsample(fits[[1L]], zip$test$pixels[1:20, 1:128], ndraws = 10, format = "matrix",
             threads = th, seed = seed))
  # what a fit learned: weights, preconditioning and scalings (not the
  # seconds it took)
  learned <- function(f) {
    f$precondition$seconds <- NULL
    list(f$theta, f$precondition, f$scaling, f$bridge_x, f$history)
  }
  cat(sprintf("fits identical (weights, preconditioning, scalings, loss history): %s; draws identical: %s\n\n",
              identical(learned(fits[[1L]]), learned(fits[[2L]])),
              identical(draws[[1L]], draws[[2L]])))
}

if (figures != "none" && length(results)) {
  file <- file.path(figures, "digits-results.rds")
  old <- if (file.exists(file)) readRDS(file) else list()
  made <- list(command = paste("Rscript bench/digits.R", paste(args, collapse = " ")),
               date = format(Sys.time(), "%Y-%m-%d"),
               sbcg = as.character(utils::packageVersion("sbcg")))
  for (nm in names(results)) old[[nm]] <- c(if (is.data.frame(results[[nm]]))
    list(table = results[[nm]]) else results[[nm]], list(made = made))
  saveRDS(old, file)
  cat(sprintf("figures and results written to %s\n", normalizePath(figures)))
}
