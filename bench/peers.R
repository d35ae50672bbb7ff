# Installs the peer methods of bench/accuracy.R (grf, drf, quantregForest,
# np) from CRAN into a private library, bench/lib (git-ignored), so that the
# benchmark never touches the user's or the system's library.
#
#   Rscript bench/peers.R            # install what is missing
#   Rscript bench/peers.R --force    # reinstall all four
#
# bench/accuracy.R sources this file and calls peer_setup(): a peer that is
# missing is installed then; one that cannot be installed is reported in the
# benchmark output with the reason.  grf and drf compile C++ for several
# minutes each.  Run heavy installs niced (nice -n 19 Rscript ...).

peer_packages <- c("grf", "drf", "quantregForest", "np")

# Directory of this script, whether run with Rscript or sourced.
bench_dir <- function() {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f)) return(normalizePath(dirname(f[1L])))
  for (i in rev(seq_len(sys.nframe()))) {
    of <- sys.frame(i)$ofile
    if (!is.null(of)) return(normalizePath(dirname(of)))
  }
  normalizePath("bench", mustWork = FALSE)
}

peer_lib <- function() {
  lib <- Sys.getenv("SBCG_BENCH_LIB", file.path(bench_dir(), "lib"))
  dir.create(lib, recursive = TRUE, showWarnings = FALSE)
  normalizePath(lib)
}

# Make sure the peers are installed in the private library; returns a named
# character vector: "" for a usable peer, else why it is not available.
peer_setup <- function(pkgs = peer_packages, force = FALSE, quiet = TRUE) {
  lib <- peer_lib()
  .libPaths(c(lib, .libPaths()))
  usable <- function(p) {
    ok <- tryCatch({
      loadNamespace(p, lib.loc = .libPaths())
      TRUE
    }, error = function(e) conditionMessage(e))
    ok
  }
  status <- setNames(rep("", length(pkgs)), pkgs)
  todo <- if (force) pkgs else pkgs[!vapply(pkgs, function(p)
    nzchar(system.file(package = p, lib.loc = .libPaths())), NA)]
  install_one <- function(p, makevars = NULL) {
    if (!is.null(makevars)) {
      old <- Sys.getenv("R_MAKEVARS_USER", NA)
      Sys.setenv(R_MAKEVARS_USER = makevars)
      on.exit(if (is.na(old)) Sys.unsetenv("R_MAKEVARS_USER") else
        Sys.setenv(R_MAKEVARS_USER = old))
    }
    msg <- character()
    res <- withCallingHandlers(
      tryCatch({
        utils::install.packages(p, lib = lib, repos = "https://cloud.r-project.org",
                                Ncpus = 1L, quiet = quiet,
                                dependencies = c("Depends", "Imports", "LinkingTo"))
        "ok"
      }, error = function(e) conditionMessage(e)),
      warning = function(w) {
        msg <<- c(msg, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
    # a missing PACKAGES.rds index on the mirror is only a notice
    msg <- grep("PACKAGES.rds", msg, value = TRUE, invert = TRUE, fixed = TRUE)
    c(res, msg)
  }
  # R >= 4.3 compiles C++ as C++17 by default and CRAN sources have come to
  # rely on it (crs, a dependency of np >= 0.80, uses std::clamp); R 4.2
  # defaults to C++14, so there the default C++ compiler is set to C++17
  # through a private Makevars file for these installs.
  mv <- NULL
  if (getRversion() < "4.3.0") {
    mv <- file.path(lib, "Makevars-cxx17")
    writeLines("CXX = $(CXX17) $(CXX17STD)", mv)
  }
  for (p in todo) {
    message(sprintf("installing %s into %s ...", p, lib))
    out <- install_one(p, mv)
    writeLines(out, file.path(lib, sprintf("install-%s.log", p)))
    if (!nzchar(system.file(package = p, lib.loc = lib)))
      status[p] <- paste(out[out != "ok"], collapse = "; ")
  }
  for (p in pkgs) {
    u <- usable(p)
    if (isTRUE(u)) status[p] <- "" else
      status[p] <- paste0(if (nzchar(status[p])) paste0(status[p], "; ") else "",
                          "cannot load: ", u)
  }
  status
}

if (sys.nframe() == 0L) {
  st <- peer_setup(force = "--force" %in% commandArgs(trailingOnly = TRUE), quiet = FALSE)
  for (p in names(st))
    cat(sprintf("%-15s %s\n", p, if (nzchar(st[p]))
      paste("not installed:", st[p]) else
        paste("ok", as.character(utils::packageVersion(p, lib.loc = peer_lib())))))
}
