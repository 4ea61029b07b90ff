package io.tunefleet.ml.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** PNG charts for training reports: labelled scatter, confusion heat map, and line curves. */
public final class Plots {
  private static final int TOP = 36;
  private static final int BOTTOM = 50;
  private static final int Y_TITLE = 30;
  private static final int RIGHT = 20;
  private static final int POINT_RADIUS = 3;
  // Dots on every point help read short curves (and make a one-epoch series visible at all).
  private static final int MAX_DOTTED_POINTS = 60;

  /** One named curve; x and y have the same length, NaN marks a gap. */
  public record Series(String name, double[] x, double[] y) {
    public Series {
      Objects.requireNonNull(name, "name");
      if (x.length != y.length) {
        throw new IllegalArgumentException("series " + name + ": x has " + x.length + " values, y has " + y.length);
      }
      x = x.clone();
      y = y.clone();
    }

    @Override
    public double[] x() {
      return x.clone();
    }

    @Override
    public double[] y() {
      return y.clone();
    }
  }

  /** A labelled vertical line at x, e.g. where an unfreeze stage or a phase begins. */
  public record Marker(double x, String label) {}

  /** How the vertical axis maps values; LOG leaves out non-positive values. */
  public enum Scale {
    LINEAR, LOG
  }

  private final int width;
  private final int height;

  /** Plots of {@code width}×{@code height} pixels (each at least 100). */
  public Plots(int width, int height) {
    if (width < 100 || height < 100) {
      throw new IllegalArgumentException("a plot needs at least 100×100 pixels, was " + width + "×" + height);
    }
    this.width = width;
    this.height = height;
  }

  /**
   * Points coloured by class with a legend. A label without a name in {@code classNames} is shown as
   * "class N"; a negative label is grey and left out of the legend.
   */
  public byte[] scatter(double[][] xy, int[] labels, List<String> classNames, String title) {
    if (xy.length != labels.length) {
      throw new IllegalArgumentException(xy.length + " points but " + labels.length + " labels");
    }
    Canvas c = new Canvas(width, height);
    List<String> names = legendNames(labels, classNames);
    Axes axes = scatterAxes(c, xy, names);
    c.title(title);
    axes.draw(c, "", "");
    c.g.setClip(axes.area());
    for (int i = 0; i < xy.length; i++) {
      if (Double.isFinite(xy[i][0]) && Double.isFinite(xy[i][1])) {
        c.g.setColor(Palette.category(labels[i]));
        c.g.fill(dot(axes.px(xy[i][0]), axes.py(xy[i][1]), POINT_RADIUS));
      }
    }
    c.g.setClip(null);
    List<Color> colours = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      colours.add(Palette.category(i));
    }
    int legendLeft = (int) axes.area().getMaxX();
    Legend.draw(c, names, colours, Legend.Swatch.DOT, legendLeft, TOP, width - legendLeft);
    return c.png();
  }

  /** The layout {@link #scatter} uses: data padded by 5%, legend in the right margin. */
  Axes scatterAxes(Canvas c, double[][] xy, List<String> legendNames) {
    double[] xr = range(xy, 0);
    double[] yr = range(xy, 1);
    Ticks xt = Ticks.linear(xr[0], xr[1], 6);
    Ticks yt = Ticks.linear(yr[0], yr[1], 6);
    int left = leftMargin(c, yt);
    int right = legendNames.isEmpty() ? RIGHT : Legend.width(c, legendNames);
    return new Axes(area(left, right), xt, yt);
  }

  /**
   * A k×k heat map of counts, rows = true class, columns = predicted class, darker = more; each cell
   * shows its count where it fits.
   */
  public byte[] confusionMatrix(long[] rowMajor, int k, List<String> classNames, String title) {
    if (k < 1 || rowMajor.length != (long) k * k) {
      throw new IllegalArgumentException("need k×k = " + k + "×" + k + " counts, got " + rowMajor.length);
    }
    Canvas c = new Canvas(width, height);
    HeatGrid grid = confusionGrid(c, k, classNames);
    c.title(title);
    long max = 0;
    for (long v : rowMajor) {
      max = Math.max(max, v);
    }
    Font countFont = Canvas.TEXT.deriveFont((float) Math.min(12, Math.max(7, grid.cell() * 0.32)));
    for (int r = 0; r < k; r++) {
      for (int col = 0; col < k; col++) {
        long count = rowMajor[r * k + col];
        Rectangle2D cell = grid.cell(r, col);
        Color fill = Palette.heat(shade(count, max));
        c.g.setColor(fill);
        c.g.fill(cell);
        c.g.setFont(countFont);
        String s = Long.toString(count);
        if (grid.cell() >= 14 && c.textWidth(s) <= grid.cell() - 4) {
          c.g.setColor(Palette.luminance(fill) < 0.5 ? Color.WHITE : Color.BLACK);
          c.text(s, cell.getCenterX(), cell.getCenterY(), Canvas.Anchor.CENTER);
        }
        c.g.setFont(Canvas.TEXT);
      }
    }
    c.g.setColor(Color.DARK_GRAY);
    c.g.draw(new Rectangle2D.Double(grid.left(), grid.top(), grid.right() - grid.left(), grid.bottom() - grid.top()));
    drawClassLabels(c, grid, classNames);
    drawColourBar(c, grid, max);
    return c.png();
  }

  /** Brighter for few, darker for many; the square root keeps small off-diagonal counts visible. */
  private static double shade(long count, long max) {
    return max == 0 ? 0 : Math.sqrt((double) count / max);
  }

  /** The layout {@link #confusionMatrix} uses, so callers can find a cell's pixels. */
  HeatGrid confusionGrid(Canvas c, int k, List<String> classNames) {
    int labelWidth = Math.min(widest(c, classNames, k) + 8, width / 4);
    int columnLabelHeight = columnLabelsFit(c, classNames, k, cellSize(k, labelWidth, labelWidth)) ? 18
        : Math.min(widest(c, classNames, k) + 8, height / 4);
    double cell = cellSize(k, labelWidth, columnLabelHeight);
    return new HeatGrid(Y_TITLE + labelWidth, TOP + 4, cell, k);
  }

  private double cellSize(int k, int labelWidth, int columnLabelHeight) {
    int colourBar = 70;
    double across = (width - Y_TITLE - labelWidth - colourBar) / (double) k;
    double down = (height - TOP - 4 - columnLabelHeight - 30) / (double) k;
    return Math.max(1, Math.floor(Math.min(across, down)));
  }

  private static boolean columnLabelsFit(Canvas c, List<String> classNames, int k, double cell) {
    return widest(c, classNames, k) <= cell - 4;
  }

  private static int widest(Canvas c, List<String> classNames, int k) {
    int w = 0;
    for (int i = 0; i < k; i++) {
      w = Math.max(w, c.textWidth(className(classNames, i)));
    }
    return w;
  }

  private void drawClassLabels(Canvas c, HeatGrid grid, List<String> classNames) {
    int k = grid.k();
    c.g.setColor(Color.BLACK);
    boolean room = grid.cell() >= 9;
    int labelWidth = (int) grid.left() - Y_TITLE - 8;
    boolean horizontal = columnLabelsFit(c, classNames, k, grid.cell());
    double columnLabelBottom = grid.bottom() + 18;
    for (int i = 0; i < k && room; i++) {
      String name = className(classNames, i);
      Rectangle2D rowCell = grid.cell(i, 0);
      c.text(c.fit(name, labelWidth), grid.left() - 6, rowCell.getCenterY(), Canvas.Anchor.RIGHT);
      Rectangle2D colCell = grid.cell(0, i);
      if (horizontal) {
        c.text(name, colCell.getCenterX(), grid.bottom() + 10, Canvas.Anchor.CENTER);
      } else {
        String fitted = c.fit(name, height / 4 - 8);
        c.rotatedText(fitted, colCell.getCenterX(), grid.bottom() + 6, -Math.PI / 2, Canvas.Anchor.RIGHT);
        columnLabelBottom = Math.max(columnLabelBottom, grid.bottom() + 10 + c.textWidth(fitted));
      }
    }
    c.text("Predicted", (grid.left() + grid.right()) / 2, Math.min(height - 10, columnLabelBottom + 10), Canvas.Anchor.CENTER);
    c.rotatedText("True", 16, (grid.top() + grid.bottom()) / 2, -Math.PI / 2, Canvas.Anchor.CENTER);
  }

  private void drawColourBar(Canvas c, HeatGrid grid, long max) {
    double x = grid.right() + 16;
    double h = grid.bottom() - grid.top();
    int steps = (int) Math.max(1, h);
    for (int i = 0; i < steps; i++) {
      double t = 1 - (double) i / steps;
      c.g.setColor(Palette.heat(Math.sqrt(t)));
      c.g.fill(new Rectangle2D.Double(x, grid.top() + i, 12, 1.5));
    }
    c.g.setColor(Color.DARK_GRAY);
    c.g.draw(new Rectangle2D.Double(x, grid.top(), 12, h));
    c.text(Long.toString(max), x + 16, grid.top() + 6, Canvas.Anchor.LEFT);
    c.text("0", x + 16, grid.bottom() - 6, Canvas.Anchor.LEFT);
  }

  /** Curves on linear axes with a legend. */
  public byte[] lines(String title, String xLabel, String yLabel, List<Series> series) {
    return lines(title, xLabel, yLabel, series, List.of(), Scale.LINEAR);
  }

  /** Curves with labelled vertical markers (e.g. unfreeze stage changes). */
  public byte[] lines(String title, String xLabel, String yLabel, List<Series> series, List<Marker> markers) {
    return lines(title, xLabel, yLabel, series, markers, Scale.LINEAR);
  }

  /** Curves with markers on a chosen vertical scale; LOG suits learning rates that span decades. */
  public byte[] lines(String title, String xLabel, String yLabel, List<Series> series, List<Marker> markers, Scale yScale) {
    Canvas c = new Canvas(width, height);
    List<String> names = series.stream().map(Series::name).toList();
    Axes axes = lineAxes(c, series, markers, yScale, names);
    c.title(title);
    axes.draw(c, xLabel, yLabel);
    c.g.setClip(axes.area());
    drawMarkers(c, axes, markers);
    boolean any = false;
    for (int s = 0; s < series.size(); s++) {
      any |= drawSeries(c, axes, series.get(s), Palette.category(s));
    }
    c.g.setClip(null);
    if (!any) {
      c.g.setColor(Color.GRAY);
      c.text("no data", axes.area().getCenterX(), axes.area().getCenterY(), Canvas.Anchor.CENTER);
    }
    List<Color> colours = new ArrayList<>();
    for (int s = 0; s < series.size(); s++) {
      colours.add(Palette.category(s));
    }
    int legendLeft = (int) axes.area().getMaxX();
    Legend.draw(c, names, colours, Legend.Swatch.LINE, legendLeft, TOP, width - legendLeft);
    return c.png();
  }

  /** The layout {@link #lines} uses. */
  Axes lineAxes(Canvas c, List<Series> series, List<Marker> markers, Scale yScale, List<String> names) {
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = Double.NEGATIVE_INFINITY;
    boolean log = yScale == Scale.LOG;
    for (Series s : series) {
      for (int i = 0; i < s.x.length; i++) {
        double y = s.y[i];
        if (Double.isFinite(s.x[i]) && Double.isFinite(y) && (!log || y > 0)) {
          xMin = Math.min(xMin, s.x[i]);
          xMax = Math.max(xMax, s.x[i]);
          yMin = Math.min(yMin, y);
          yMax = Math.max(yMax, y);
        }
      }
    }
    for (Marker m : markers) {
      if (Double.isFinite(m.x())) {
        xMin = Math.min(xMin, m.x());
        xMax = Math.max(xMax, m.x());
      }
    }
    double[] xr = padded(xMin, xMax);
    Ticks yt;
    if (log && yMin <= yMax) {
      yt = Ticks.decades(yMin, yMax);
    } else {
      double[] yr = padded(yMin, yMax);
      yt = Ticks.linear(yr[0], yr[1], 6);
    }
    Ticks xt = Ticks.linear(xr[0], xr[1], 8);
    int right = names.isEmpty() ? RIGHT : Legend.width(c, names);
    return new Axes(area(leftMargin(c, yt), right), xt, yt);
  }

  private static boolean drawSeries(Canvas c, Axes axes, Series s, Color colour) {
    Path2D.Double path = new Path2D.Double();
    boolean penDown = false;
    int shown = 0;
    for (int i = 0; i < s.x.length; i++) {
      if (!Double.isFinite(s.x[i]) || !axes.showsY(s.y[i])) {
        penDown = false;
        continue;
      }
      double px = axes.px(s.x[i]);
      double py = axes.py(s.y[i]);
      if (penDown) {
        path.lineTo(px, py);
      } else {
        path.moveTo(px, py);
        penDown = true;
      }
      shown++;
    }
    c.g.setColor(colour);
    c.g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
    c.g.draw(path);
    c.g.setStroke(new BasicStroke(1f));
    if (shown <= MAX_DOTTED_POINTS) {
      for (int i = 0; i < s.x.length; i++) {
        if (Double.isFinite(s.x[i]) && axes.showsY(s.y[i])) {
          c.g.fill(dot(axes.px(s.x[i]), axes.py(s.y[i]), 2.5));
        }
      }
    }
    return shown > 0;
  }

  private static void drawMarkers(Canvas c, Axes axes, List<Marker> markers) {
    float[] dash = {5f, 4f};
    Rectangle2D a = axes.area();
    int row = c.textHeight();
    for (int i = 0; i < markers.size(); i++) {
      Marker m = markers.get(i);
      if (!Double.isFinite(m.x())) {
        continue;
      }
      double px = axes.px(m.x());
      c.g.setColor(Color.GRAY);
      c.g.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, dash, 0f));
      c.g.draw(new Line2D.Double(px, a.getY(), px, a.getMaxY()));
      c.g.setStroke(new BasicStroke(1f));
      if (m.label() != null && !m.label().isEmpty()) {
        c.g.setColor(Color.DARK_GRAY);
        // Staggered rows keep labels of nearby markers from overprinting each other.
        c.text(m.label(), px + 3, a.getY() + row * (0.8 + i % 3), Canvas.Anchor.LEFT);
      }
    }
  }

  private Rectangle2D area(int left, int right) {
    return new Rectangle2D.Double(left, TOP, Math.max(10, width - left - right), Math.max(10, height - TOP - BOTTOM));
  }

  private static int leftMargin(Canvas c, Ticks yt) {
    int widest = 0;
    for (double v : yt.values()) {
      widest = Math.max(widest, c.textWidth(yt.label(v)));
    }
    return Y_TITLE + widest + 10;
  }

  private static double[] range(double[][] xy, int column) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double[] p : xy) {
      if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
        lo = Math.min(lo, p[column]);
        hi = Math.max(hi, p[column]);
      }
    }
    double[] r = padded(lo, hi);
    double pad = (r[1] - r[0]) * 0.05;
    return new double[] {r[0] - pad, r[1] + pad};
  }

  /** [lo, hi] widened when empty or a single value, so the axis still has a span. */
  private static double[] padded(double lo, double hi) {
    if (!(lo <= hi)) {
      return new double[] {0, 1};
    }
    if (hi - lo <= 1e-12 * Math.max(Math.abs(lo), Math.abs(hi))) {
      double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
      return new double[] {lo - pad, hi + pad};
    }
    return new double[] {lo, hi};
  }

  private static List<String> legendNames(int[] labels, List<String> classNames) {
    int count = classNames.size();
    for (int label : labels) {
      count = Math.max(count, label + 1);
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add(className(classNames, i));
    }
    return names;
  }

  private static String className(List<String> classNames, int i) {
    return i < classNames.size() && classNames.get(i) != null ? classNames.get(i) : "class " + i;
  }

  private static Shape dot(double x, double y, double r) {
    return new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r);
  }
}
