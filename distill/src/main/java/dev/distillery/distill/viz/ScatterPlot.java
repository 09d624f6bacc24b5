package dev.distillery.distill.viz;

import dev.distillery.tensor.Tensor;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Scatter plot of 2-D point sets ({@code [N, 2]} tensors, columns x and y) with fixed axis limits, written as PNG.
 * Typical use: generated vs reference samples of a toy distribution, in two colours, with the same limits at every
 * step so that frames are comparable.
 *
 * <pre>{@code
 * ScatterPlot.builder().size(480, 480).limits(-4, 4, -4, 4).title("step 1000")
 *     .series("reference", ref).series("generated", gen).write(path);
 * // or: ScatterPlot.compare(path, gen, ref, 4.0, 480, "step 1000");
 * }</pre>
 *
 * <p>Series are drawn in order (later ones on top) as opaque filled dots; colours default to the palette order
 * (blue, orange, green, ...). Points outside the limits and non-finite points are not drawn. Hand-drawn with
 * {@code java.awt}, headless.
 */
public final class ScatterPlot {
    static {
        Png.ensureHeadless();
    }

    /** Reference colour of {@link #compare} (blue). */
    public static final Color REFERENCE_COLOR = Axes.PALETTE[0];
    /** Generated-samples colour of {@link #compare} (orange). */
    public static final Color GENERATED_COLOR = Axes.PALETTE[1];

    private record Series(String name, double[] xy, Color color) {}

    private int width = 480, height = 480;
    private double xMin = Double.NaN, xMax, yMin, yMax;
    private double dotSize = 3.0;
    private String title, xLabel, yLabel;
    private final List<Series> series = new ArrayList<>();

    private ScatterPlot() {}

    public static ScatterPlot builder() {
        return new ScatterPlot();
    }

    /** Image size in pixels (at least 160x120); default 480x480. */
    public ScatterPlot size(int width, int height) {
        Axes.checkSize(width, height);
        this.width = width;
        this.height = height;
        return this;
    }

    /** Fixed axis limits (required). */
    public ScatterPlot limits(double xMin, double xMax, double yMin, double yMax) {
        if (!(Double.isFinite(xMin) && Double.isFinite(xMax) && Double.isFinite(yMin) && Double.isFinite(yMax)) || xMin >= xMax || yMin >= yMax)
            throw new IllegalArgumentException("limits must be finite with min < max, got x [" + xMin + ", " + xMax + "], y [" + yMin + ", " + yMax + "]");
        this.xMin = xMin;
        this.xMax = xMax;
        this.yMin = yMin;
        this.yMax = yMax;
        return this;
    }

    /** Dot diameter in pixels; default 3. */
    public ScatterPlot dotSize(double diameter) {
        if (!(diameter > 0)) throw new IllegalArgumentException("dot size must be > 0, got " + diameter);
        this.dotSize = diameter;
        return this;
    }

    public ScatterPlot title(String title) {
        this.title = title;
        return this;
    }

    public ScatterPlot labels(String xLabel, String yLabel) {
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        return this;
    }

    /** Adds a series in the next palette colour. */
    public ScatterPlot series(String name, Tensor points) {
        return series(name, points, Axes.PALETTE[series.size() % Axes.PALETTE.length]);
    }

    /** Adds a series; {@code points} must be {@code [N, 2]} with N >= 1. */
    public ScatterPlot series(String name, Tensor points, Color color) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(points, "points");
        Objects.requireNonNull(color, "color");
        int[] s = points.shape();
        if (s.length != 2 || s[1] != 2)
            throw new IllegalArgumentException("series '" + name + "': points must be [N, 2], got shape " + Arrays.toString(s));
        if (s[0] == 0) throw new IllegalArgumentException("series '" + name + "' is empty");
        for (Series e : series)
            if (e.name.equals(name)) throw new IllegalArgumentException("duplicate series name '" + name + "'");
        series.add(new Series(name, points.toDoubleArray(), color));
        return this;
    }

    /** Draws the plot. */
    public BufferedImage render() {
        if (series.isEmpty()) throw new IllegalStateException("scatter plot has no series");
        if (Double.isNaN(xMin)) throw new IllegalStateException("scatter plot needs fixed limits(...)");
        Axes ax = new Axes(width, height, title != null, xLabel != null, yLabel != null, xMin, xMax, yMin, yMax, false);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Axes.canvas(img);
        try {
            ax.draw(g, title, xLabel, yLabel);
            Graphics2D pg = (Graphics2D) g.create();
            pg.clipRect(ax.left + 1, ax.top + 1, ax.width - 1, ax.height - 1);
            double r = dotSize / 2;
            for (Series s : series) {
                pg.setColor(s.color);
                for (int i = 0; i < s.xy.length; i += 2) {
                    double x = s.xy[i], y = s.xy[i + 1];
                    if (!(x >= xMin && x <= xMax && y >= yMin && y <= yMax)) continue;
                    pg.fill(new Ellipse2D.Double(ax.px(x) - r, ax.py(y) - r, dotSize, dotSize));
                }
            }
            pg.dispose();
            List<String> names = new ArrayList<>();
            List<Color> colors = new ArrayList<>();
            for (Series s : series) {
                names.add(s.name + " (" + s.xy.length / 2 + ")");
                colors.add(s.color);
            }
            ax.legend(g, names, colors, false);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Draws the plot and writes it atomically as PNG; returns the image. */
    public BufferedImage write(Path file) {
        BufferedImage img = render();
        Png.write(img, file);
        return img;
    }

    /**
     * Square plot of {@code reference} (blue, drawn first) and {@code generated} (orange, on top), both {@code [N, 2]},
     * with limits [-limit, limit] on both axes.
     */
    public static BufferedImage compare(Path file, Tensor generated, Tensor reference, double limit, int size, String title) {
        return builder().size(size, size).limits(-limit, limit, -limit, limit).title(title)
                .series("reference", reference, REFERENCE_COLOR).series("generated", generated, GENERATED_COLOR).write(file);
    }
}
