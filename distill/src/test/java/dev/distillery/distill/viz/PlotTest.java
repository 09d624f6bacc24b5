package dev.distillery.distill.viz;

import dev.distillery.tensor.Rng;
import dev.distillery.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.distillery.distill.viz.VizTestSupport.countColor;
import static org.junit.jupiter.api.Assertions.*;

class PlotTest {
    @TempDir
    Path dir;

    @Test
    void scatterHasRequestedSizeAndBothColours() throws IOException {
        Tensor ref = Tensor.randn(new Rng(1), dev.distillery.tensor.DType.F32, 500, 2);
        Tensor gen = Tensor.randn(new Rng(2), dev.distillery.tensor.DType.F32, 300, 2).mul(0.5).add(1.0);
        Path out = dir.resolve("scatter.png");
        ScatterPlot.compare(out, gen, ref, 4.0, 400, "generated vs reference");
        assertTrue(GraphicsEnvironment.isHeadless());
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(400, img.getWidth());
        assertEquals(400, img.getHeight());
        assertTrue(countColor(img, ScatterPlot.REFERENCE_COLOR) > 200, "reference dots");
        assertTrue(countColor(img, ScatterPlot.GENERATED_COLOR) > 200, "generated dots");

        BufferedImage wide = ScatterPlot.builder().size(300, 200).limits(0, 10, -1, 1)
                .series("a", Tensor.of(new float[]{5, 0, 9, 0.5f}, 2, 2), Color.RED).render();
        assertEquals(300, wide.getWidth());
        assertEquals(200, wide.getHeight());
        assertTrue(countColor(wide, Color.RED) > 0);
    }

    @Test
    void scatterPointsLandWhereExpected() {
        // one point exactly in the middle of symmetric limits, nothing else red
        BufferedImage img = ScatterPlot.builder().size(300, 300).limits(-1, 1, -1, 1).dotSize(6)
                .series("p", Tensor.of(new float[]{0, 0, 50, 50}, 2, 2), Color.RED).render();
        int red = countColor(img, Color.RED);
        assertTrue(red > 0);
        // below the legend (top-right corner), all red pixels are in a small neighbourhood of one spot near the
        // centre of the plot area (the out-of-range point is not drawn)
        int minX = Integer.MAX_VALUE, maxX = -1, minY = Integer.MAX_VALUE, maxY = -1;
        for (int y = 60; y < 300; y++)
            for (int x = 0; x < 300; x++)
                if ((img.getRGB(x, y) & 0xFFFFFF) == 0xFF0000) {
                    minX = Math.min(minX, x);
                    maxX = Math.max(maxX, x);
                    minY = Math.min(minY, y);
                    maxY = Math.max(maxY, y);
                }
        assertTrue(maxX - minX <= 7 && maxY - minY <= 7, "one dot, got box " + minX + ".." + maxX + " x " + minY + ".." + maxY);
        assertTrue(minX > 120 && maxX < 200 && minY > 100 && maxY < 170, "dot near the centre, got " + minX + "," + minY);
    }

    @Test
    void scatterRejectsBadInput() {
        Tensor ok = Tensor.of(new float[]{0, 0}, 1, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> ScatterPlot.builder().series("x", Tensor.of(new float[]{1, 2, 3}, 1, 3)));
        assertTrue(e.getMessage().contains("[N, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScatterPlot.builder().series("x", Tensor.of(new float[0], 0, 2)));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> ScatterPlot.builder().limits(-1, 1, -1, 1).render());
        assertThrows(IllegalStateException.class, () -> ScatterPlot.builder().series("x", ok).render());
        assertThrows(IllegalArgumentException.class, () -> ScatterPlot.builder().limits(1, 1, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> ScatterPlot.builder().size(10, 10));
        assertThrows(IllegalArgumentException.class, () -> ScatterPlot.builder().series("x", ok).series("x", ok));
    }

    @Test
    void linePlotHasRequestedSizeAndSeriesColours() throws IOException {
        int n = 200;
        long[] steps = new long[n];
        double[] train = new double[n], eval = new double[n];
        for (int i = 0; i < n; i++) {
            steps[i] = i * 50L;
            train[i] = 2.0 * Math.exp(-i / 40.0) + 0.01 + 0.02 * Math.sin(i);
            eval[i] = 2.5 * Math.exp(-i / 50.0) + 0.05;
        }
        Path out = dir.resolve("loss.png");
        LinePlot.builder().size(640, 400).title("loss").labels("step", "loss").logY(true)
                .series("train", steps, train).series("eval", steps, eval).write(out);
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        assertTrue(countColor(img, Axes.PALETTE[0]) > 100, "train colour");
        assertTrue(countColor(img, Axes.PALETTE[1]) > 100, "eval colour");
        assertTrue(GraphicsEnvironment.isHeadless());

        // linear axis, custom colour, odd size, non-finite values skipped
        BufferedImage lin = LinePlot.builder().size(333, 222)
                .series("m", new double[]{0, 1, 2, 3, 4}, new double[]{1, Double.NaN, 3, 2, 5}, Color.MAGENTA).render();
        assertEquals(333, lin.getWidth());
        assertEquals(222, lin.getHeight());
        assertTrue(countColor(lin, Color.MAGENTA) > 20);

        // a single point (degenerate ranges) is drawn as a dot
        BufferedImage one = LinePlot.builder().size(200, 150).labels(null, null)
                .series("one", new long[]{100}, new double[]{0.5}, Color.GREEN).render();
        assertTrue(countColor(one, Color.GREEN) > 10);
    }

    @Test
    void linePlotRejectsBadInput() {
        var e = assertThrows(IllegalArgumentException.class, () -> LinePlot.builder().series("a", new double[]{1, 2}, new double[]{1}));
        assertTrue(e.getMessage().contains("2 x values but 1 y values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LinePlot.builder().series("a", new double[0], new double[0]));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> LinePlot.builder().render());
        e = assertThrows(IllegalArgumentException.class,
                () -> LinePlot.builder().logY(true).series("a", new double[]{1, 2}, new double[]{0, -1}).render());
        assertTrue(e.getMessage().contains("no drawable points"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LinePlot.builder().series("a", new double[]{1}, new double[]{1}).series("a", new double[]{1}, new double[]{1}));
        assertFalse(Files.exists(dir.resolve("never.png")));
    }

    @Test
    void tickHelpers() {
        assertArrayEquals(new double[]{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}, Axes.linearTicks(0, 1, 5), 1e-12);
        assertEquals("0.2", Axes.format(0.2, 0.2));
        assertEquals("0.25", Axes.format(0.25, 0.25));
        assertEquals("20000", Axes.format(20000, 5000));
        assertEquals("2e6", Axes.format(2e6, 1e6));
        assertEquals("-1.5e-5", Axes.format(-1.5e-5, 5e-6));
        assertEquals("0.01", Axes.formatLog(0.01));
        assertEquals("1e-5", Axes.formatLog(1e-5));
        assertArrayEquals(new double[]{1e-3, 1}, Axes.logRange(0.002, 0.9), 1e-15);
        assertArrayEquals(new double[]{0.01, 0.1, 1, 10}, Axes.logTicks(0.01, 10), 1e-12);
        double[] r = Axes.niceRange(3, 3, 5);
        assertTrue(r[0] < 3 && r[1] > 3);
    }

    @Test
    void writesSamplePngs() {
        // Not an assertion test: leaves PNGs in target/viz-samples for a human look.
        Path out = Path.of("target", "viz-samples");
        Tensor ref = Tensor.randn(new Rng(3), dev.distillery.tensor.DType.F32, 2000, 2);
        Tensor gen = Tensor.randn(new Rng(4), dev.distillery.tensor.DType.F32, 2000, 2).mul(0.7).add(0.5);
        ScatterPlot.compare(out.resolve("scatter.png"), gen, ref, 4, 480, "step 1000: generated vs reference");
        int n = 300;
        long[] steps = new long[n];
        double[] a = new double[n], b = new double[n];
        for (int i = 0; i < n; i++) {
            steps[i] = i * 10L;
            a[i] = 1.5 * Math.exp(-i / 60.0) + 0.003 + 0.01 * Math.abs(Math.sin(i * 0.7));
            b[i] = 0.8 * Math.exp(-i / 90.0) + 0.02;
        }
        LinePlot.builder().title("distillation loss").labels("step", "loss").logY(true)
                .series("train", steps, a).series("eval", steps, b).write(out.resolve("loss.png"));
        Tensor imgs = Tensor.uniform(new Rng(5), -1, 1, dev.distillery.tensor.DType.F32, 10, 3, 16, 16);
        ImageGrid.write(imgs, out.resolve("grid.png"), ImageGrid.Options.columns(4).withScale(3).withPadding(4)
                .withLabels(java.util.List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")));
        assertTrue(Files.exists(out.resolve("grid.png")));
    }
}
