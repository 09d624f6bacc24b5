package dev.distillery.distill.viz;

import java.awt.Color;
import java.awt.image.BufferedImage;

final class VizTestSupport {
    private VizTestSupport() {}

    static int countColor(BufferedImage img, Color c) {
        int want = c.getRGB() & 0xFFFFFF, n = 0;
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++)
                if ((img.getRGB(x, y) & 0xFFFFFF) == want) n++;
        return n;
    }

    /** Pixels of colour {@code c} inside the rectangle. */
    static int countColor(BufferedImage img, Color c, int x0, int y0, int x1, int y1) {
        int want = c.getRGB() & 0xFFFFFF, n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if ((img.getRGB(x, y) & 0xFFFFFF) == want) n++;
        return n;
    }
}
