package io.tunefleet.ml.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** A white RGB image with anti-aliased drawing, text placement by anchor, and PNG encoding. */
final class Canvas {
  // First in the class so it runs before any AWT object is made: services run without a display.
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  static final Font TEXT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);

  /** Where the given point sits relative to the text. */
  enum Anchor {
    LEFT, CENTER, RIGHT
  }

  final BufferedImage image;
  final Graphics2D g;

  Canvas(int width, int height) {
    if (width < 100 || height < 100) {
      throw new IllegalArgumentException("a plot needs at least 100×100 pixels, was " + width + "×" + height);
    }
    image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setFont(TEXT);
    g.setStroke(new BasicStroke(1f));
  }

  int width() {
    return image.getWidth();
  }

  int height() {
    return image.getHeight();
  }

  int textWidth(String s) {
    return g.getFontMetrics().stringWidth(s);
  }

  int textHeight() {
    return g.getFontMetrics().getHeight();
  }

  /** Draws {@code s} with its vertical centre at y and the anchor's side at x. */
  void text(String s, double x, double y, Anchor anchor) {
    FontMetrics fm = g.getFontMetrics();
    double left = switch (anchor) {
      case LEFT -> x;
      case CENTER -> x - fm.stringWidth(s) / 2.0;
      case RIGHT -> x - fm.stringWidth(s);
    };
    double baseline = y + (fm.getAscent() - fm.getDescent()) / 2.0;
    g.drawString(s, (float) left, (float) baseline);
  }

  /** Text rotated by {@code radians} (negative turns it anticlockwise) about (x, y), anchored there. */
  void rotatedText(String s, double x, double y, double radians, Anchor anchor) {
    AffineTransform saved = g.getTransform();
    g.rotate(radians, x, y);
    text(s, x, y, anchor);
    g.setTransform(saved);
  }

  void title(String title) {
    if (title == null || title.isEmpty()) {
      return;
    }
    g.setFont(TITLE);
    g.setColor(Color.BLACK);
    text(fit(title, width() - 20), width() / 2.0, 18, Anchor.CENTER);
    g.setFont(TEXT);
  }

  /** {@code s} shortened with an ellipsis so that it is at most {@code maxWidth} pixels wide. */
  String fit(String s, int maxWidth) {
    if (textWidth(s) <= maxWidth) {
      return s;
    }
    String t = s;
    while (!t.isEmpty() && textWidth(t + "…") > maxWidth) {
      t = t.substring(0, t.length() - 1);
    }
    return t + "…";
  }

  byte[] png() {
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
