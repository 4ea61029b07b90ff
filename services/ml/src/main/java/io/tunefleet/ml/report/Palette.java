package io.tunefleet.ml.report;

import java.awt.Color;

/** Colours for categories (classes, series) and for the confusion heat map. */
final class Palette {
  // Tableau 10: distinguishable, and kinder to colour-blind readers than evenly spaced hues.
  private static final int[] CATEGORY = {
    0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F, 0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC
  };
  private static final Color HEAT_LOW = new Color(0xF7FBFF);
  private static final Color HEAT_HIGH = new Color(0x08306B);

  private Palette() {}

  static Color category(int index) {
    if (index < 0) {
      return Color.GRAY;
    }
    if (index < CATEGORY.length) {
      return new Color(CATEGORY[index]);
    }
    // Beyond ten, golden-angle hue steps keep neighbours apart.
    float hue = (float) ((index * 0.618033988749895) % 1.0);
    return Color.getHSBColor(hue, 0.65f, 0.80f - 0.15f * ((index / 10) % 2));
  }

  /** Light to dark blue as {@code t} goes from 0 to 1; luminance falls monotonically. */
  static Color heat(double t) {
    double u = Math.max(0, Math.min(1, t));
    return new Color(
        mix(HEAT_LOW.getRed(), HEAT_HIGH.getRed(), u),
        mix(HEAT_LOW.getGreen(), HEAT_HIGH.getGreen(), u),
        mix(HEAT_LOW.getBlue(), HEAT_HIGH.getBlue(), u));
  }

  /** Relative luminance in [0, 1] (Rec. 709 weights), to pick a readable text colour. */
  static double luminance(Color c) {
    return (0.2126 * c.getRed() + 0.7152 * c.getGreen() + 0.0722 * c.getBlue()) / 255;
  }

  private static int mix(int a, int b, double u) {
    return (int) Math.round(a + (b - a) * u);
  }
}
