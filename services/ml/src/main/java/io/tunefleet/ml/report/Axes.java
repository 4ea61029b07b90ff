package io.tunefleet.ml.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Stroke;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;

/** A plot area in pixels with the data ranges it shows, the mapping between them, and its frame. */
record Axes(Rectangle2D area, Ticks x, Ticks y) {
  private static final Color GRID = new Color(0xE6E6E6);

  double px(double v) {
    return area.getX() + (v - x.lo()) / (x.hi() - x.lo()) * area.getWidth();
  }

  double py(double v) {
    double t = y.logarithmic()
        ? (Math.log10(v) - Math.log10(y.lo())) / (Math.log10(y.hi()) - Math.log10(y.lo()))
        : (v - y.lo()) / (y.hi() - y.lo());
    return area.getY() + area.getHeight() * (1 - t);
  }

  /** Whether {@code v} can be placed on the vertical axis (log axes drop non-positive values). */
  boolean showsY(double v) {
    return Double.isFinite(v) && (!y.logarithmic() || v > 0);
  }

  /** Grid, frame, tick labels and axis titles. */
  void draw(Canvas c, String xLabel, String yLabel) {
    Stroke saved = c.g.getStroke();
    c.g.setStroke(new BasicStroke(1f));
    double left = area.getX();
    double right = area.getMaxX();
    double top = area.getY();
    double bottom = area.getMaxY();
    for (double v : x.values()) {
      double p = px(v);
      c.g.setColor(GRID);
      c.g.draw(new Line2D.Double(p, top, p, bottom));
      c.g.setColor(Color.DARK_GRAY);
      c.g.draw(new Line2D.Double(p, bottom, p, bottom + 4));
      c.text(x.label(v), p, bottom + 14, Canvas.Anchor.CENTER);
    }
    for (double v : y.values()) {
      double p = py(v);
      c.g.setColor(GRID);
      c.g.draw(new Line2D.Double(left, p, right, p));
      c.g.setColor(Color.DARK_GRAY);
      c.g.draw(new Line2D.Double(left - 4, p, left, p));
      c.text(y.label(v), left - 7, p, Canvas.Anchor.RIGHT);
    }
    c.g.setColor(Color.DARK_GRAY);
    c.g.draw(area);
    c.g.setColor(Color.BLACK);
    if (xLabel != null && !xLabel.isEmpty()) {
      c.text(c.fit(xLabel, (int) area.getWidth()), area.getCenterX(), bottom + 36, Canvas.Anchor.CENTER);
    }
    if (yLabel != null && !yLabel.isEmpty()) {
      c.rotatedText(c.fit(yLabel, (int) area.getHeight()), 16, area.getCenterY(), -Math.PI / 2, Canvas.Anchor.CENTER);
    }
    c.g.setStroke(saved);
  }
}
