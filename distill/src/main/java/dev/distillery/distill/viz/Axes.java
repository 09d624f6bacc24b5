package dev.distillery.distill.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Hand-drawn plot frame shared by {@link LinePlot} and {@link ScatterPlot}: white background, plot rectangle with
 * light grid lines, ticks with readable numbers (1-2-5 steps on linear axes, decades on log axes), axis labels, title
 * and a legend box in the top-right corner of the plot area.
 */
final class Axes {
    static {
        Png.ensureHeadless();
    }

    /** Minimum image size; below it the margins leave no room to plot. */
    static final int MIN_WIDTH = 160, MIN_HEIGHT = 120;

    /** Tableau-10 colours, distinct from the black/grey frame and from each other. */
    static final Color[] PALETTE = {
            new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C), new Color(0xD62728), new Color(0x9467BD),
            new Color(0x8C564B), new Color(0xE377C2), new Color(0x7F7F7F), new Color(0xBCBD22), new Color(0x17BECF)};

    private static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    private static final Color GRID = new Color(0xE6E6E6);
    private static final Color FRAME = new Color(0x333333);

    final int left, top, width, height;
    final double xlo, xhi, ylo, yhi;
    final boolean logY;
    final double[] xTicks, yTicks;

    /** Ranges are final (already "nice" where the caller wants that); ticks are chosen inside them. */
    Axes(int imageWidth, int imageHeight, boolean hasTitle, boolean hasXLabel, boolean hasYLabel,
         double xlo, double xhi, double ylo, double yhi, boolean logY) {
        this.xlo = xlo;
        this.xhi = xhi;
        this.ylo = ylo;
        this.yhi = yhi;
        this.logY = logY;
        this.xTicks = linearTicks(xlo, xhi, Math.max(2, imageWidth / 90));
        this.yTicks = logY ? logTicks(ylo, yhi) : linearTicks(ylo, yhi, Math.max(2, imageHeight / 50));
        int yTickW = 0, lastXTickW = 0;
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scratch.createGraphics();
        try {
            FontMetrics fm = g.getFontMetrics(TICK_FONT);
            double ystep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1, xstep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
            for (double t : yTicks) yTickW = Math.max(yTickW, fm.stringWidth(logY ? formatLog(t) : format(t, ystep)));
            if (xTicks.length > 0) lastXTickW = fm.stringWidth(format(xTicks[xTicks.length - 1], xstep));
        } finally {
            g.dispose();
        }
        this.left = 8 + (hasYLabel ? 18 : 0) + yTickW + 6;
        this.top = hasTitle ? 26 : 10;
        // room for the last x tick label, centred on the right edge of the plot area
        int right = Math.max(14, lastXTickW / 2 + 6), bottom = 22 + (hasXLabel ? 18 : 0);
        this.width = imageWidth - left - right;
        this.height = imageHeight - top - bottom;
        if (width < 40 || height < 40)
            throw new IllegalArgumentException("image " + imageWidth + "x" + imageHeight + " is too small for a plot");
    }

    static void checkSize(int w, int h) {
        if (w < MIN_WIDTH || h < MIN_HEIGHT)
            throw new IllegalArgumentException("plot size must be at least " + MIN_WIDTH + "x" + MIN_HEIGHT + ", got " + w + "x" + h);
    }

    double px(double x) {
        return left + (x - xlo) / (xhi - xlo) * width;
    }

    double py(double y) {
        double t = logY ? (Math.log10(y) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo)) : (y - ylo) / (yhi - ylo);
        return top + height - t * height;
    }

    static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        return g;
    }

    /** Grid lines, frame, ticks, tick labels, axis labels and title. Call before drawing data. */
    void draw(Graphics2D g, String title, String xLabel, String yLabel) {
        g.setStroke(new BasicStroke(1f));
        g.setColor(GRID);
        for (double t : xTicks) g.draw(new Line2D.Double(px(t), top, px(t), top + height));
        for (double t : yTicks) g.draw(new Line2D.Double(left, py(t), left + width, py(t)));
        g.setColor(FRAME);
        g.drawRect(left, top, width, height);
        g.setFont(TICK_FONT);
        FontMetrics fm = g.getFontMetrics();
        double xstep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1, ystep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
        for (double t : xTicks) {
            double x = px(t);
            g.draw(new Line2D.Double(x, top + height, x, top + height + 4));
            String s = format(t, xstep);
            g.drawString(s, (float) (x - fm.stringWidth(s) / 2.0), top + height + 5 + fm.getAscent());
        }
        for (double t : yTicks) {
            double y = py(t);
            g.draw(new Line2D.Double(left - 4, y, left, y));
            String s = logY ? formatLog(t) : format(t, ystep);
            g.drawString(s, (float) (left - 6 - fm.stringWidth(s)), (float) (y + fm.getAscent() / 2.0 - 1));
        }
        g.setFont(LABEL_FONT);
        fm = g.getFontMetrics();
        if (xLabel != null && !xLabel.isEmpty())
            g.drawString(xLabel, left + (width - fm.stringWidth(xLabel)) / 2f, top + height + 22 + fm.getAscent());
        if (yLabel != null && !yLabel.isEmpty()) {
            AffineTransform saved = g.getTransform();
            g.translate(8 + fm.getAscent(), top + (height + fm.stringWidth(yLabel)) / 2.0);
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, 0, 0);
            g.setTransform(saved);
        }
        if (title != null && !title.isEmpty()) {
            g.setFont(TITLE_FONT);
            fm = g.getFontMetrics();
            g.drawString(title, left + (width - fm.stringWidth(title)) / 2f, 6 + fm.getAscent());
        }
    }

    /** Legend box in the top-right corner of the plot area; {@code line} draws a line sample, else a dot. */
    void legend(Graphics2D g, List<String> names, List<Color> colors, boolean line) {
        if (names.isEmpty()) return;
        g.setFont(TICK_FONT);
        FontMetrics fm = g.getFontMetrics();
        int textW = 0;
        for (String s : names) textW = Math.max(textW, fm.stringWidth(s));
        int rowH = fm.getHeight(), boxW = 8 + 18 + 6 + textW + 8, boxH = 6 + rowH * names.size() + 4;
        int x0 = left + width - boxW - 6, y0 = top + 6;
        g.setColor(new Color(255, 255, 255, 225));
        g.fillRect(x0, y0, boxW, boxH);
        g.setColor(new Color(0xAAAAAA));
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x0, y0, boxW, boxH);
        for (int i = 0; i < names.size(); i++) {
            int cy = y0 + 6 + rowH * i + rowH / 2;
            g.setColor(colors.get(i));
            if (line) {
                g.setStroke(new BasicStroke(2.5f));
                g.draw(new Line2D.Double(x0 + 8, cy, x0 + 26, cy));
            } else {
                g.fillOval(x0 + 13, cy - 4, 8, 8);
            }
            g.setColor(FRAME);
            g.drawString(names.get(i), x0 + 32, cy + fm.getAscent() / 2f - 1);
        }
    }

    /** A step of 1, 2 or 5 times a power of ten, near {@code span / target}. */
    static double niceStep(double span, int target) {
        double raw = span / Math.max(1, target);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / mag;
        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    }

    /** Expands [lo, hi] outward to multiples of a nice step; a degenerate range is widened first. */
    static double[] niceRange(double lo, double hi, int target) {
        if (hi <= lo) {
            double d = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            lo -= d;
            hi += d;
        }
        double step = niceStep(hi - lo, target);
        return new double[]{Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step};
    }

    /** Ticks at multiples of a nice step inside [lo, hi]. */
    static double[] linearTicks(double lo, double hi, int target) {
        double step = niceStep(hi - lo, target);
        List<Double> t = new ArrayList<>();
        for (long k = (long) Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
            double v = k * step;
            t.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
        }
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Log-axis range: [lo, hi] expanded to whole decades (at least one). */
    static double[] logRange(double lo, double hi) {
        double a = Math.floor(Math.log10(lo) + 1e-9), b = Math.ceil(Math.log10(hi) - 1e-9);
        if (b <= a) b = a + 1;
        return new double[]{Math.pow(10, a), Math.pow(10, b)};
    }

    /** Decade ticks inside [lo, hi] (every k-th decade when there are many; 2 and 5 added for one decade). */
    static double[] logTicks(double lo, double hi) {
        int a = (int) Math.ceil(Math.log10(lo) - 1e-9), b = (int) Math.floor(Math.log10(hi) + 1e-9);
        int every = Math.max(1, (b - a + 7) / 8);
        List<Double> t = new ArrayList<>();
        for (int e = a; e <= b; e += every) t.add(Math.pow(10, e));
        if (b - a <= 1) {
            for (int e = a - 1; e <= b; e++)
                for (double m : new double[]{2, 5}) {
                    double v = m * Math.pow(10, e);
                    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.add(v);
                }
            t.sort(Double::compare);
        }
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** A tick label with just enough decimals for {@code step}; scientific for very large or small values. */
    static String format(double v, double step) {
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (a >= 1e6 || step < 1e-4) return sci(v);
        int decimals = step >= 1 ? 0 : (int) Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
        if (step < 1 && Math.abs(step * Math.pow(10, decimals) - Math.rint(step * Math.pow(10, decimals))) > 1e-6) decimals++;
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** Powers of ten as plain numbers in [1e-3, 1e4], otherwise as {@code 1e-5}. */
    static String formatLog(double v) {
        double a = Math.abs(v);
        if (a >= 1e-3 && a < 1e5) {
            String s = String.format(Locale.ROOT, "%.3f", v);
            s = s.replaceAll("0+$", "");
            return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        }
        return sci(v);
    }

    private static String sci(double v) {
        String s = String.format(Locale.ROOT, "%.2e", v); // e.g. 1.50e+06
        int e = s.indexOf('e');
        String mant = s.substring(0, e).replaceAll("0+$", "");
        if (mant.endsWith(".")) mant = mant.substring(0, mant.length() - 1);
        int exp = Integer.parseInt(s.substring(e + 1));
        return mant + "e" + exp;
    }
}
