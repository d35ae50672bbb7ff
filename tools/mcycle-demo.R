# sbcg's main job on built-in data: learn the conditional distribution of
# head acceleration given time after impact in MASS::mcycle, print the
# conditional quantiles and densities at a few times, and plot them.
#   Rscript tools/mcycle-demo.R [output.png]
library(sbcg)
args <- commandArgs(trailingOnly = TRUE)
png_file <- if (length(args)) args[1L] else "sbcg-mcycle.png"

data(mcycle, package = "MASS")
t0 <- proc.time()[["elapsed"]]
fit <- sbfit(accel ~ times, data = mcycle, seed = 1)
t1 <- proc.time()[["elapsed"]]
print(fit)

times <- data.frame(times = c(10, 15, 20, 25, 30, 40, 50))
st <- sbcondstats(fit, times, ndraws = 1000, probs = c(0.05, 0.25, 0.5, 0.75, 0.95),
                  seed = 2)
t2 <- proc.time()[["elapsed"]]
cat("\nConditional distribution of accel given times:\n")
print(as.data.frame(st)[-1L], digits = 3)   # the statistics with the predictor, no .row
cat("\nConditional densities (mode and 90% highest-density width):\n")
for (i in seq_len(nrow(st))) {
  d <- st$density[[i]]
  ord <- order(d$y, decreasing = TRUE)
  mass <- cumsum(d$y[ord]) * diff(d$x[1:2])
  width <- sum(mass <= 0.9) * diff(d$x[1:2])
  cat(sprintf("  times = %4.0f: mode %7.1f, bandwidth %5.2f, 90%% HDR width %6.1f\n",
              times$times[i], d$x[which.max(d$y)], d$bw, width))
}
cat(sprintf("\nsbfit(): %.1f s; sbcondstats() for %d rows x 1000 draws: %.1f s\n",
            t1 - t0, nrow(times), t2 - t1))

grid <- data.frame(times = seq(min(mcycle$times), max(mcycle$times), length.out = 120))
band <- sbcondstats(fit, grid, ndraws = 500, probs = c(0.05, 0.25, 0.5, 0.75, 0.95),
                    density = FALSE, seed = 3)
png(png_file, width = 1100, height = 500, res = 100)
op <- par(mfrow = c(1, 2), mar = c(4.2, 4.2, 2.5, 1))
plot(accel ~ times, data = mcycle, pch = 16, col = "grey40", cex = 0.7,
     main = "mcycle: conditional quantiles", xlab = "time after impact (ms)",
     ylab = "head acceleration (g)")
polygon(c(grid$times, rev(grid$times)), c(band$q0.05, rev(band$q0.95)),
        col = adjustcolor("#0072B2", 0.2), border = NA)
polygon(c(grid$times, rev(grid$times)), c(band$q0.25, rev(band$q0.75)),
        col = adjustcolor("#0072B2", 0.3), border = NA)
lines(grid$times, band$q0.5, col = "#0072B2", lwd = 2)
legend("bottomright", bty = "n",
       fill = c(adjustcolor("#0072B2", 0.2), adjustcolor("#0072B2", 0.5)),
       legend = c("5% to 95%", "25% to 75%"), border = NA)
plot(st, rows = c(1, 3, 5, 6, 7))
par(op)
invisible(dev.off())
cat("plot written to", normalizePath(png_file), "\n")
