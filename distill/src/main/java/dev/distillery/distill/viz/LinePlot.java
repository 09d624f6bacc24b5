package dev.distillery.distill.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Loss / metric curves against the training step, written as PNG. Hand-drawn with {@code java.awt} (no plotting
 * library): white background, grid, 1-2-5 ticks with readable numbers (decades on a log axis), axis labels, title and
 * a legend in the top-right corner.
 *
 * <pre>{@code
 * LinePlot.builder().size(640, 400).title("distillation").labels("step", "loss").logY(true)
 *     .series("train", steps, trainLoss).series("eval", evalSteps, evalLoss).write(path);
 * }</pre>
 *
 * <p>Axis ranges come from the data, expanded to nice numbers (whole decades on a log-y axis). Non-finite points, and
 * non-positive y values on a log-y axis, are skipped and break the line there. A series with a single drawable point is
 * shown as a dot. Colours follow the palette order (blue, orange, green, red, ...) unless given.
 */
public final class LinePlot {
    static {
        Png.ensureHeadless();
    }

    private record Series(String name, double[] x, double[] y, Color color) {}

    private int width = 640, height = 400;
    private boolean logY;
    private String title, xLabel = "step", yLabel;
    private final List<Series> series = new ArrayList<>();

    private LinePlot() {}

    public static LinePlot builder() {
        return new LinePlot();
    }

    /** Image size in pixels (at least 160x120); default 640x400. */
    public LinePlot size(int width, int height) {
        Axes.checkSize(width, height);
        this.width = width;
        this.height = height;
        return this;
    }

    public LinePlot logY(boolean logY) {
        this.logY = logY;
        return this;
    }

    public LinePlot title(String title) {
        this.title = title;
        return this;
    }

    /** Axis labels; the x label defaults to "step", the y label to none. */
    public LinePlot labels(String xLabel, String yLabel) {
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        return this;
    }

    /** Adds a series in the next palette colour. */
    public LinePlot series(String name, double[] x, double[] y) {
        return series(name, x, y, Axes.PALETTE[series.size() % Axes.PALETTE.length]);
    }

    /** Adds a series with integer steps as x. */
    public LinePlot series(String name, long[] steps, double[] y) {
        return series(name, steps, y, Axes.PALETTE[series.size() % Axes.PALETTE.length]);
    }

    /** Adds a series with integer steps as x, in the given colour. */
    public LinePlot series(String name, long[] steps, double[] y, Color color) {
        Objects.requireNonNull(steps, "steps");
        double[] x = new double[steps.length];
        for (int i = 0; i < x.length; i++) x[i] = steps[i];
        return series(name, x, y, color);
    }

    /** Adds a series; {@code x} and {@code y} must be non-empty and of equal length. */
    public LinePlot series(String name, double[] x, double[] y, Color color) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        Objects.requireNonNull(color, "color");
        if (x.length != y.length)
            throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
        if (x.length == 0) throw new IllegalArgumentException("series '" + name + "' is empty");
        for (Series s : series)
            if (s.name.equals(name)) throw new IllegalArgumentException("duplicate series name '" + name + "'");
        series.add(new Series(name, x.clone(), y.clone(), color));
        return this;
    }

    private boolean drawable(double x, double y) {
        return Double.isFinite(x) && Double.isFinite(y) && (!logY || y > 0);
    }

    /** Draws the plot. */
    public BufferedImage render() {
        if (series.isEmpty()) throw new IllegalStateException("line plot has no series");
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series)
            for (int i = 0; i < s.x.length; i++) {
                if (!drawable(s.x[i], s.y[i])) continue;
                x0 = Math.min(x0, s.x[i]);
                x1 = Math.max(x1, s.x[i]);
                y0 = Math.min(y0, s.y[i]);
                y1 = Math.max(y1, s.y[i]);
            }
        if (x0 > x1)
            throw new IllegalArgumentException("line plot has no drawable points (all non-finite" + (logY ? " or <= 0 on the log-y axis" : "") + ")");
        double[] xr = Axes.niceRange(x0, x1, Math.max(2, width / 90));
        double[] yr = logY ? Axes.logRange(y0, y1) : Axes.niceRange(y0, y1, Math.max(2, height / 50));
        Axes ax = new Axes(width, height, title != null, xLabel != null, yLabel != null, xr[0], xr[1], yr[0], yr[1], logY);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Axes.canvas(img);
        try {
            ax.draw(g, title, xLabel, yLabel);
            Graphics2D pg = (Graphics2D) g.create();
            pg.clipRect(ax.left, ax.top, ax.width + 1, ax.height + 1);
            pg.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            for (Series s : series) {
                pg.setColor(s.color);
                Path2D.Double path = new Path2D.Double();
                int run = 0;
                double lastX = 0, lastY = 0;
                for (int i = 0; i < s.x.length; i++) {
                    if (!drawable(s.x[i], s.y[i])) {
                        if (run == 1) dot(pg, lastX, lastY);
                        run = 0;
                        continue;
                    }
                    lastX = ax.px(s.x[i]);
                    lastY = ax.py(s.y[i]);
                    if (run == 0) path.moveTo(lastX, lastY);
                    else path.lineTo(lastX, lastY);
                    run++;
                }
                if (run == 1) dot(pg, lastX, lastY);
                pg.draw(path);
            }
            pg.dispose();
            List<String> names = new ArrayList<>();
            List<Color> colors = new ArrayList<>();
            for (Series s : series) {
                names.add(s.name);
                colors.add(s.color);
            }
            ax.legend(g, names, colors, true);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static void dot(Graphics2D g, double x, double y) {
        g.fill(new Ellipse2D.Double(x - 3, y - 3, 6, 6));
    }

    /** Draws the plot and writes it atomically as PNG; returns the image. */
    public BufferedImage write(Path file) {
        BufferedImage img = render();
        Png.write(img, file);
        return img;
    }
}
