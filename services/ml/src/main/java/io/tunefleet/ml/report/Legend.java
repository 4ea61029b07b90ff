package io.tunefleet.ml.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.util.List;

/** A column of colour swatches and names placed in the right-hand margin of a plot. */
final class Legend {
  private static final int SWATCH = 18;
  private static final int GAP = 6;
  static final int PADDING = 12;

  /** How a swatch shows its entry: a dot for scatter points, a line for series. */
  enum Swatch {
    DOT, LINE
  }

  private Legend() {}

  /** The margin width the names need, capped at a third of the image. */
  static int width(Canvas c, List<String> names) {
    int widest = 0;
    for (String name : names) {
      widest = Math.max(widest, c.textWidth(name));
    }
    return Math.min(c.width() / 3, SWATCH + GAP + widest + 2 * PADDING);
  }

  /** Draws one row per name, from y = top, within [left, left + width); rows that do not fit are counted. */
  static void draw(Canvas c, List<String> names, List<Color> colours, Swatch swatch, int left, int top, int width) {
    int row = Math.max(16, c.textHeight() + 2);
    int maxRows = Math.max(1, (c.height() - top - PADDING) / row);
    int shown = names.size() <= maxRows ? names.size() : maxRows - 1;
    int x = left + PADDING;
    int textWidth = width - SWATCH - GAP - 2 * PADDING;
    for (int i = 0; i < shown; i++) {
      double cy = top + row * i + row / 2.0;
      c.g.setColor(colours.get(i));
      if (swatch == Swatch.DOT) {
        c.g.fill(new Ellipse2D.Double(x + SWATCH / 2.0 - 4, cy - 4, 8, 8));
      } else {
        c.g.setStroke(new BasicStroke(2.5f));
        c.g.draw(new Line2D.Double(x, cy, x + SWATCH, cy));
        c.g.setStroke(new BasicStroke(1f));
      }
      c.g.setColor(Color.BLACK);
      c.text(c.fit(names.get(i), textWidth), x + SWATCH + GAP, cy, Canvas.Anchor.LEFT);
    }
    if (shown < names.size()) {
      c.g.setColor(Color.DARK_GRAY);
      c.text("+" + (names.size() - shown) + " more", x, top + row * shown + row / 2.0, Canvas.Anchor.LEFT);
    }
  }
}
