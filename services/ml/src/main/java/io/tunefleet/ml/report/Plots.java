package io.tunefleet.ml.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.NumberFormat;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts for training reports, drawn by JFreeChart: labelled scatter, confusion heat map, and line curves. */
public final class Plots {
  // Before any AWT class loads: the services run without a display.
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private static final Font TEXT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);
  private static final Color GRID = new Color(0xE6E6E6);
  private static final double POINT_RADIUS = 3;
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
    return png(scatterChart(xy, labels, classNames, title));
  }

  /**
   * A k×k heat map of counts, rows = true class, columns = predicted class, darker = more; each cell
   * shows its count where it fits.
   */
  public byte[] confusionMatrix(long[] rowMajor, int k, List<String> classNames, String title) {
    return png(confusionChart(rowMajor, k, classNames, title));
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
    return png(lineChart(title, xLabel, yLabel, series, markers, yScale));
  }

  /** A chart drawn at this size, with the pixels of its data area, so tests can find a value's pixel. */
  record Drawn(BufferedImage image, XYPlot plot, Rectangle2D dataArea) {
    Point2D pixel(double x, double y) {
      return new Point2D.Double(plot.getDomainAxis().valueToJava2D(x, dataArea, plot.getDomainAxisEdge()),
          plot.getRangeAxis().valueToJava2D(y, dataArea, plot.getRangeAxisEdge()));
    }
  }

  Drawn draw(JFreeChart chart) {
    ChartRenderingInfo info = new ChartRenderingInfo();
    BufferedImage image = chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, info);
    return new Drawn(image, chart.getXYPlot(), info.getPlotInfo().getDataArea());
  }

  private byte[] png(JFreeChart chart) {
    try {
      return ChartUtils.encodeAsPNG(draw(chart).image());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a chart as PNG", e);
    }
  }

  JFreeChart scatterChart(double[][] xy, int[] labels, List<String> classNames, String title) {
    if (xy.length != labels.length) {
      throw new IllegalArgumentException(xy.length + " points but " + labels.length + " labels");
    }
    List<String> names = legendNames(labels, classNames);
    XYSeriesCollection data = new XYSeriesCollection();
    for (int c = 0; c < names.size(); c++) {
      data.addSeries(new XYSeries(c, false, true));
    }
    XYSeries unlabelled = new XYSeries(-1, false, true);
    for (int i = 0; i < xy.length; i++) {
      if (Double.isFinite(xy[i][0]) && Double.isFinite(xy[i][1])) {
        (labels[i] < 0 ? unlabelled : data.getSeries(labels[i])).add(xy[i][0], xy[i][1]);
      }
    }
    data.addSeries(unlabelled);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
    Shape dot = dot(POINT_RADIUS);
    for (int s = 0; s < data.getSeriesCount(); s++) {
      boolean named = s < names.size();
      renderer.setSeriesShape(s, dot);
      renderer.setSeriesPaint(s, Palette.category(named ? s : -1));
      renderer.setSeriesVisibleInLegend(s, named);
    }
    renderer.setLegendItemLabelGenerator((dataset, s) -> s < names.size() ? names.get(s) : "");
    XYPlot plot = new XYPlot(data, numberAxis(""), numberAxis(""), renderer);
    plot.getDomainAxis().setLowerMargin(0.05);
    plot.getDomainAxis().setUpperMargin(0.05);
    return chart(title, plot, !names.isEmpty());
  }

  JFreeChart confusionChart(long[] rowMajor, int k, List<String> classNames, String title) {
    if (k < 1 || rowMajor.length != (long) k * k) {
      throw new IllegalArgumentException("need k×k = " + k + "×" + k + " counts, got " + rowMajor.length);
    }
    double[][] cells = new double[3][k * k];
    long max = 0;
    for (int i = 0; i < k * k; i++) {
      cells[0][i] = i % k;
      cells[1][i] = i / k;
      cells[2][i] = rowMajor[i];
      max = Math.max(max, rowMajor[i]);
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("counts", cells);
    HeatScale scale = new HeatScale(Math.max(1, max));
    XYBlockRenderer renderer = new XYBlockRenderer();
    renderer.setPaintScale(scale);
    String[] names = new String[k];
    for (int i = 0; i < k; i++) {
      names[i] = className(classNames, i);
    }
    Font labels = TEXT.deriveFont((float) Math.max(7, Math.min(12, cellPixels(k, 0, 0) * 0.6)));
    int widest = widest(names, labels);
    int rowLabels = Math.min(widest, width / 4);
    double cell = cellPixels(k, rowLabels, TEXT.getSize() + 6);
    boolean horizontal = widest <= cell - 4;
    if (!horizontal) {
      cell = cellPixels(k, rowLabels, Math.min(widest, height / 4));
    }
    SymbolAxis predicted = symbolAxis("Predicted", names, labels);
    SymbolAxis truth = symbolAxis("True", names, labels);
    truth.setInverted(true); // row 0 at the top, as the matrix is written
    predicted.setVerticalTickLabels(!horizontal);
    // Labels of tiny cells would only overprint each other.
    predicted.setTickLabelsVisible(cell >= 9);
    truth.setTickLabelsVisible(cell >= 9);
    XYPlot plot = new XYPlot(data, predicted, truth, renderer);
    plot.setDomainGridlinesVisible(false);
    plot.setRangeGridlinesVisible(false);
    plot.setOutlinePaint(Color.DARK_GRAY);
    Font countFont = TEXT.deriveFont((float) Math.min(12, Math.max(7, cell * 0.32)));
    for (int i = 0; i < k * k; i++) {
      String count = Long.toString(rowMajor[i]);
      if (cell >= 14 && textWidth(count, countFont) <= cell - 4) {
        XYTextAnnotation text = new XYTextAnnotation(count, i % k, i / k);
        text.setFont(countFont);
        text.setPaint(Palette.luminance(scale.colour(rowMajor[i])) < 0.5 ? Color.WHITE : Color.BLACK);
        plot.addAnnotation(text, false);
      }
    }
    JFreeChart chart = chart(title, plot, false);
    NumberAxis countAxis = new NumberAxis();
    countAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits(Locale.ROOT));
    countAxis.setTickLabelFont(TEXT);
    countAxis.setRange(0, scale.getUpperBound());
    PaintScaleLegend bar = new PaintScaleLegend(scale, countAxis);
    bar.setPosition(RectangleEdge.RIGHT);
    bar.setAxisLocation(AxisLocation.TOP_OR_RIGHT);
    bar.setStripWidth(12);
    bar.setStripOutlineVisible(true);
    bar.setSubdivisionCount(256);
    bar.setMargin(new RectangleInsets(4, 12, 4, 8));
    bar.setBackgroundPaint(Color.WHITE);
    chart.addSubtitle(bar);
    return chart;
  }

  JFreeChart lineChart(String title, String xLabel, String yLabel, List<Series> series, List<Marker> markers, Scale yScale) {
    boolean log = yScale == Scale.LOG;
    XYSeriesCollection data = new XYSeriesCollection();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    Set<String> keys = new HashSet<>();
    boolean integerX = true;
    boolean any = false;
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = Double.NEGATIVE_INFINITY;
    for (int s = 0; s < series.size(); s++) {
      Series in = series.get(s);
      String key = in.name();
      while (!keys.add(key)) {
        key = key + " ";  // JFreeChart keys must differ; the legend still reads the same
      }
      XYSeries out = new XYSeries(key, false, true);
      int shown = 0;
      for (int i = 0; i < in.x.length; i++) {
        double x = in.x[i];
        if (!Double.isFinite(x)) {
          continue;
        }
        double y = in.y[i];
        boolean visible = Double.isFinite(y) && (!log || y > 0);
        out.add(x, visible ? Double.valueOf(y) : null); // null: a gap in the line
        if (visible) {
          shown++;
          xMin = Math.min(xMin, x);
          xMax = Math.max(xMax, x);
          yMin = Math.min(yMin, y);
          yMax = Math.max(yMax, y);
          integerX &= x == Math.rint(x);
        }
      }
      data.addSeries(out);
      any |= shown > 0;
      renderer.setSeriesPaint(s, Palette.category(s));
      renderer.setSeriesStroke(s, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      renderer.setSeriesShape(s, dot(2.5));
      renderer.setSeriesShapesVisible(s, shown <= MAX_DOTTED_POINTS);
    }
    for (Marker m : markers) {
      if (Double.isFinite(m.x())) {
        xMin = Math.min(xMin, m.x());
        xMax = Math.max(xMax, m.x());
      }
    }
    NumberAxis x = numberAxis(xLabel);
    if (integerX) {
      x.setStandardTickUnits(NumberAxis.createIntegerTickUnits(Locale.ROOT));
    }
    double[] xr = padded(xMin, xMax);
    x.setRange(xr[0] - (xr[1] - xr[0]) * 0.02, xr[1] + (xr[1] - xr[0]) * 0.02);
    ValueAxis y;
    if (log) {
      LogAxis logAxis = new LogAxis(yLabel);
      logAxis.setBase(10);
      logAxis.setSmallestValue(1e-12);
      // whole decades, a tick at each: learning rates are read by their order of magnitude
      // (9 minor steps of a decade fall on 2, 3, ..., 9 times its power of ten)
      logAxis.setTickUnit(new NumberTickUnit(1, NumberFormat.getIntegerInstance(Locale.ROOT), 9), false, true);
      logAxis.setMinorTickMarksVisible(true);
      if (yMin <= yMax) {
        double lo = Math.pow(10, Math.floor(Math.log10(yMin)));
        double hi = Math.pow(10, Math.ceil(Math.log10(yMax)));
        // a hair wider: log10(0.001) is -2.9999999999999996, and its tick would fall just outside
        logAxis.setRange(lo * (1 - 1e-9), (hi > lo ? hi : lo * 10) * (1 + 1e-9));
      }
      y = style(logAxis);
    } else {
      NumberAxis linear = numberAxis(yLabel);
      double[] yr = padded(yMin, yMax);
      double span = yr[1] - yr[0];
      linear.setRange(yr[0] - span * 0.05, yr[1] + span * 0.05);
      // at most about eight labelled steps: JFreeChart would take the finest unit whose labels fit
      linear.setTickUnit(new NumberTickUnit(niceStep(span / 8)), false, true);
      y = linear;
    }
    XYPlot plot = new XYPlot(any ? data : new XYSeriesCollection(), x, y, renderer);
    if (log) {
      plot.setRangeMinorGridlinesVisible(true);
      plot.setRangeMinorGridlinePaint(new Color(0xF2F2F2));
      plot.setRangeMinorGridlineStroke(new BasicStroke(1f));
    }
    plot.setNoDataMessage("no data");
    plot.setNoDataMessageFont(TEXT);
    plot.setNoDataMessagePaint(Color.GRAY);
    float[] dash = {5f, 4f};
    for (int i = 0; i < markers.size(); i++) {
      Marker m = markers.get(i);
      if (!Double.isFinite(m.x())) {
        continue;
      }
      ValueMarker line = new ValueMarker(m.x(), Color.GRAY,
          new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, dash, 0f));
      if (m.label() != null && !m.label().isEmpty()) {
        line.setLabel(m.label());
        line.setLabelFont(TEXT);
        line.setLabelPaint(Color.DARK_GRAY);
        line.setLabelBackgroundColor(new Color(255, 255, 255, 200));
        line.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        line.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        // Staggered rows keep labels of nearby markers from overprinting each other.
        line.setLabelOffset(new RectangleInsets(4 + 15 * (i % 3), 3, 2, 3));
      }
      plot.addDomainMarker(line, Layer.BACKGROUND);
    }
    return chart(title, plot, !series.isEmpty());
  }

  /** White background, light grid, the title and (optionally) the legend on the right. */
  private static JFreeChart chart(String title, XYPlot plot, boolean legend) {
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(GRID);
    plot.setRangeGridlinePaint(GRID);
    plot.setDomainGridlineStroke(new BasicStroke(1f));
    plot.setRangeGridlineStroke(new BasicStroke(1f));
    plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
    plot.setOutlinePaint(Color.GRAY);
    JFreeChart chart = new JFreeChart(plot);
    chart.setBackgroundPaint(Color.WHITE);
    chart.setAntiAlias(true);
    chart.setTextAntiAlias(true);
    // Unrounded coordinates: a point's pixel is where its value maps to.
    chart.getRenderingHints().put(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    chart.removeLegend();
    if (title != null && !title.isEmpty()) {
      chart.setTitle(new TextTitle(title, TITLE));
    }
    if (legend) {
      LegendTitle items = new LegendTitle(plot);
      items.setPosition(RectangleEdge.RIGHT);
      items.setItemFont(TEXT);
      items.setFrame(BlockBorder.NONE);
      items.setBackgroundPaint(Color.WHITE);
      items.setVerticalAlignment(org.jfree.chart.ui.VerticalAlignment.TOP);
      items.setMargin(new RectangleInsets(4, 8, 4, 4));
      chart.addLegend(items);
    }
    chart.setPadding(new RectangleInsets(6, 6, 6, 10));
    return chart;
  }

  private static NumberAxis numberAxis(String label) {
    NumberAxis axis = new NumberAxis(label);
    axis.setAutoRangeIncludesZero(false);
    axis.setAutoRangeStickyZero(false); // a point at 0 gets the margin too, not the plot's edge
    return style(axis);
  }

  private static SymbolAxis symbolAxis(String label, String[] names, Font tickLabels) {
    SymbolAxis axis = style(new SymbolAxis(label, names));
    axis.setTickLabelFont(tickLabels);
    axis.setGridBandsVisible(false);
    axis.setTickMarksVisible(false);
    axis.setRange(-0.5, names.length - 0.5);
    return axis;
  }

  private static <A extends ValueAxis> A style(A axis) {
    axis.setLabelFont(TEXT);
    axis.setTickLabelFont(TEXT);
    axis.setTickLabelPaint(Color.DARK_GRAY);
    axis.setAxisLinePaint(Color.GRAY);
    return axis;
  }

  /**
   * Roughly how many pixels a confusion cell gets: the chart less the title, the axis titles, the colour bar
   * (about 70 pixels) and the class labels beside ({@code rowLabels}) and below ({@code columnLabels}) the grid.
   */
  private double cellPixels(int k, int rowLabels, int columnLabels) {
    double across = (width - 40 - rowLabels - 8 - 70) / (double) k;
    double down = (height - 40 - 30 - columnLabels - 8) / (double) k;
    return Math.max(1, Math.min(across, down));
  }

  /** The heat map's colours: brighter for few, darker for many; the square root keeps small off-diagonal counts visible. */
  static final class HeatScale implements PaintScale {
    private final double max;

    HeatScale(double max) {
      this.max = max;
    }

    @Override
    public double getLowerBound() {
      return 0;
    }

    @Override
    public double getUpperBound() {
      return max;
    }

    @Override
    public java.awt.Paint getPaint(double value) {
      return colour(value);
    }

    Color colour(double value) {
      return Palette.heat(Math.sqrt(Math.max(0, Math.min(1, value / max))));
    }
  }

  private static int widest(String[] names, Font font) {
    int w = 0;
    for (String name : names) {
      w = Math.max(w, textWidth(name, font));
    }
    return w;
  }

  private static int textWidth(String s, Font font) {
    BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = scratch.createGraphics();
    try {
      FontMetrics metrics = g.getFontMetrics(font);
      return metrics.stringWidth(s);
    } finally {
      g.dispose();
    }
  }

  /** The 1, 2 or 5 times a power of ten nearest above {@code step} (1 for an empty span). */
  static double niceStep(double step) {
    if (!(step > 0) || !Double.isFinite(step)) {
      return 1;
    }
    double power = Math.pow(10, Math.floor(Math.log10(step)));
    for (double m : new double[] {1, 2, 5}) {
      if (m * power >= step) {
        return m * power;
      }
    }
    return 10 * power;
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

  private static Shape dot(double r) {
    return new Ellipse2D.Double(-r, -r, 2 * r, 2 * r);
  }
}
