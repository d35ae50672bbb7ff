# Command-line options shared by the bench scripts: `args` (the arguments
# after the script name), opt_value() for "--name value" or "--name=value",
# and check_options(), which stops on an option the script does not know.

`%||%` <- function(a, b) if (is.null(a)) b else a

args <- commandArgs(trailingOnly = TRUE)

opt_value <- function(name, default) {
  i <- which(args == paste0("--", name))
  if (length(i)) {
    if (i[1L] == length(args)) stop(sprintf("--%s needs a value", name), call. = FALSE)
    return(args[i[1L] + 1L])
  }
  j <- grep(paste0("^--", name, "="), args)
  if (length(j)) return(sub(paste0("^--", name, "="), "", args[j[1L]]))
  default
}

check_options <- function(known) {
  for (a in grep("^--", args, value = TRUE)) {
    nm <- sub("=.*$", "", sub("^--", "", a))
    if (!nm %in% known) stop(sprintf("unknown option %s", a), call. = FALSE)
  }
}

# The simulation models, their truth and the scores of bench/accuracy.R
# (in `dir`), defined in the global environment without running the
# benchmark, for the benches that reuse its data (tune.R, steps.R).
accuracy_defs <- function(dir) {
  want <- c("model_p", "m5_var", "m7_scale", "gen_y", "gauss_hermite", "gh", "m7_m1", "m7_m2",
            "truth", "stats_draws", "model_data")
  for (e in parse(file.path(dir, "accuracy.R")))
    if (is.call(e) && identical(e[[1L]], as.name("<-")) && as.character(e[[2L]]) %in% want)
      eval(e, globalenv())
}
