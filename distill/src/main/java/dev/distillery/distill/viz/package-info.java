/**
 * Visual output for training runs, drawn with {@code java.awt} only (no plotting library, no display needed):
 * {@link dev.distillery.distill.viz.ImageGrid} (sample grids from {@code [N, C, H, W]} tensors in [-1, 1]),
 * {@link dev.distillery.distill.viz.ScatterPlot} (2-D point sets, e.g. generated vs reference samples, with fixed axis
 * limits) and {@link dev.distillery.distill.viz.LinePlot} (loss / metric curves against the step, optional log-y).
 *
 * <p>Every class here forces {@code java.awt.headless=true} before touching AWT, so it works on servers without a
 * display. All PNGs are written atomically: to a temporary file in the target directory that is then renamed over the
 * target, so a reader never sees a half-written image.
 */
package dev.distillery.distill.viz;
