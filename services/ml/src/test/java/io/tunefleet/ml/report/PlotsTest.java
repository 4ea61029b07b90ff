package io.tunefleet.ml.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.geom.Point2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.data.Range;
import org.junit.jupiter.api.Test;

class PlotsTest {
  private static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertNotNull(image, "not a decodable PNG");
    return image;
  }

  private static int rgb(BufferedImage image, Point2D p) {
    return image.getRGB((int) Math.floor(p.getX()), (int) Math.floor(p.getY())) & 0xFFFFFF;
  }

  private static int rgb(Color c) {
    return c.getRGB() & 0xFFFFFF;
  }

  private static double luminance(int rgb) {
    return Palette.luminance(new Color(rgb));
  }

  private static List<String> legend(Plots.Drawn drawn) {
    LegendItemCollection items = drawn.plot().getLegendItems();
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < items.getItemCount(); i++) {
      labels.add(items.get(i).getLabel());
    }
    return labels;
  }

  @Test
  void scatterDrawsEachClassInItsColourWhereItsPointIsWithALegendOfClasses() throws IOException {
    Plots plots = new Plots(640, 480);
    double[][] xy = {{0, 0}, {10, 0}, {0, 10}, {10, 10}, {5, 0}};
    int[] labels = {0, 1, 2, 1, -1};
    List<String> names = List.of("cat", "dog", "bird");
    BufferedImage png = decode(plots.scatter(xy, labels, names, "t-SNE"));
    assertEquals(640, png.getWidth());
    assertEquals(480, png.getHeight());
    Plots.Drawn drawn = plots.draw(plots.scatterChart(xy, labels, names, "t-SNE"));
    for (int i = 0; i < 4; i++) {
      assertEquals(rgb(Palette.category(labels[i])), rgb(drawn.image(), drawn.pixel(xy[i][0], xy[i][1])), "point " + i);
    }
    assertEquals(rgb(Color.GRAY), rgb(drawn.image(), drawn.pixel(5, 0)), "an unlabelled point is grey");
    // Between the points there is only background or grid, not a class colour.
    int between = rgb(drawn.image(), drawn.pixel(5, 5));
    assertTrue(luminance(between) > 0.85, Integer.toHexString(between));
    assertEquals(names, legend(drawn), "the unlabelled points stay out of the legend");
  }

  @Test
  void scatterNamesLabelsBeyondTheGivenClassNames() throws IOException {
    Plots plots = new Plots(300, 200);
    byte[] png = plots.scatter(new double[][] {{1, 2}, {1, 2}}, new int[] {0, 4}, List.of("a"), "");
    assertEquals(300, decode(png).getWidth());
    Plots.Drawn drawn = plots.draw(plots.scatterChart(new double[][] {{1, 2}, {1, 2}}, new int[] {0, 4}, List.of("a"), ""));
    assertEquals(List.of("a", "class 1", "class 2", "class 3", "class 4"), legend(drawn));
    assertThrows(IllegalArgumentException.class,
        () -> new Plots(300, 200).scatter(new double[][] {{1, 2}}, new int[] {0, 1}, List.of(), ""));
  }

  @Test
  void confusionMatrixShadesTheLargestCountDarkestAndWritesEachCount() throws IOException {
    Plots plots = new Plots(600, 500);
    int k = 3;
    long[] counts = {50, 3, 0, 7, 88, 1, 0, 12, 40};
    List<String> names = List.of("airplane", "automobile", "bird");
    BufferedImage png = decode(plots.confusionMatrix(counts, k, names, "Confusion"));
    assertEquals(600, png.getWidth());
    assertEquals(500, png.getHeight());
    Plots.Drawn drawn = plots.draw(plots.confusionChart(counts, k, names, "Confusion"));
    double[] lum = new double[k * k];
    int darkest = 0;
    for (int i = 0; i < k * k; i++) {
      int row = i / k;
      int col = i % k;
      // Sample near a corner (the centre holds the count); row 0 is at the top.
      Point2D corner = drawn.pixel(col - 0.5, row - 0.5);
      lum[i] = luminance(drawn.image().getRGB((int) corner.getX() + 4, (int) corner.getY() + 4) & 0xFFFFFF);
      darkest = lum[i] < lum[darkest] ? i : darkest;
    }
    assertEquals(4, darkest, "cell (1,1) holds the largest count");
    for (int i = 0; i < k * k; i++) {
      for (int j = 0; j < k * k; j++) {
        if (counts[i] > counts[j]) {
          assertTrue(lum[i] < lum[j], "count " + counts[i] + " not darker than " + counts[j]);
        }
      }
    }
    List<String> written = drawn.plot().getAnnotations().stream().map(a -> ((XYTextAnnotation) a).getText()).toList();
    assertEquals(List.of("50", "3", "0", "7", "88", "1", "0", "12", "40"), written);
    // the count on the darkest cell is light text, there to be read
    Point2D centre = drawn.pixel(1, 1);
    int light = 0;
    for (int dx = -10; dx <= 10; dx++) {
      for (int dy = -6; dy <= 6; dy++) {
        light += luminance(drawn.image().getRGB((int) centre.getX() + dx, (int) centre.getY() + dy) & 0xFFFFFF) > 0.8 ? 1 : 0;
      }
    }
    assertTrue(light >= 5, "no light text on the dark cell: " + light + " light pixels");
    assertTrue(drawn.image().getWidth() > 0 && chartHasColourBar(plots, counts, k, names));
  }

  private static boolean chartHasColourBar(Plots plots, long[] counts, int k, List<String> names) {
    return plots.confusionChart(counts, k, names, "").getSubtitles().stream().anyMatch(PaintScaleLegend.class::isInstance);
  }

  @Test
  void confusionMatrixCopesWithManyLongClassNames() throws IOException {
    int k = 40;
    long[] counts = new long[k * k];
    List<String> names = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      counts[i * k + i] = 100 + i;
      names.add("a rather long class name " + i);
    }
    BufferedImage image = decode(new Plots(800, 800).confusionMatrix(counts, k, names, "40 classes"));
    assertEquals(800, image.getWidth());
    assertThrows(IllegalArgumentException.class, () -> new Plots(800, 800).confusionMatrix(new long[5], 2, names, ""));
  }

  @Test
  void linesDrawEachSeriesInItsColourAndMarkersAsGreyVerticals() throws IOException {
    Plots plots = new Plots(800, 450);
    List<Plots.Series> series = List.of(
        new Plots.Series("train loss", new double[] {1, 2, 3, 4, 5}, new double[] {2, 2, 2, 2, 2}),
        new Plots.Series("val loss", new double[] {1, 2, 3, 4, 5}, new double[] {1, 0.8, 0.6, 0.5, 0.4}));
    List<Plots.Marker> markers = List.of(new Plots.Marker(2.5, "stage 1"));
    BufferedImage png = decode(plots.lines("Loss", "epoch", "loss", series, markers));
    assertEquals(800, png.getWidth());
    assertEquals(450, png.getHeight());
    Plots.Drawn drawn = plots.draw(plots.lineChart("Loss", "epoch", "loss", series, markers, Plots.Scale.LINEAR));
    assertEquals(rgb(Palette.category(0)), rgb(drawn.image(), drawn.pixel(3.5, 2)));
    assertEquals(rgb(Palette.category(1)), rgb(drawn.image(), drawn.pixel(4.5, 0.45)));
    assertEquals(List.of("train loss", "val loss"), legend(drawn));
    int markerPixels = 0;
    int column = (int) Math.floor(drawn.pixel(2.5, 0).getX());
    for (int y = (int) drawn.dataArea().getY(); y < drawn.dataArea().getMaxY(); y++) {
      Color c = new Color(drawn.image().getRGB(column, y));
      boolean grey = Math.abs(c.getRed() - c.getGreen()) < 8 && Math.abs(c.getGreen() - c.getBlue()) < 8 && c.getRed() < 200;
      markerPixels += grey ? 1 : 0;
    }
    assertTrue(markerPixels > drawn.dataArea().getHeight() / 3, "dashed marker line not found: " + markerPixels);
    assertEquals("stage 1", drawn.plot().getDomainMarkers(org.jfree.chart.ui.Layer.BACKGROUND).iterator().next() instanceof
        org.jfree.chart.plot.ValueMarker m ? m.getLabel() : null);
  }

  @Test
  void aMarkerBeyondTheDataStillShows() {
    Plots plots = new Plots(400, 300);
    List<Plots.Series> one = List.of(new Plots.Series("a", new double[] {1, 2}, new double[] {1, 2}));
    Plots.Drawn drawn = plots.draw(plots.lineChart("", "x", "y", one, List.of(new Plots.Marker(4.5, "DISTILL")), Plots.Scale.LINEAR));
    assertTrue(drawn.plot().getDomainAxis().getRange().contains(4.5), drawn.plot().getDomainAxis().getRange().toString());
  }

  @Test
  void logScaleLeavesOutNonPositiveValuesAndEmptyPlotsStillRender() throws IOException {
    Plots plots = new Plots(400, 300);
    List<Plots.Series> lr = List.of(
        new Plots.Series("head", new double[] {1, 2, 3}, new double[] {1e-2, 5e-3, 1e-3}),
        new Plots.Series("layer4", new double[] {1, 2, 3}, new double[] {0, 1e-4, Double.NaN}));
    assertEquals(400, decode(plots.lines("LR", "epoch", "lr", lr, List.of(), Plots.Scale.LOG)).getWidth());
    Plots.Drawn drawn = plots.draw(plots.lineChart("LR", "epoch", "lr", lr, List.of(), Plots.Scale.LOG));
    LogAxis y = assertInstanceOf(LogAxis.class, drawn.plot().getRangeAxis());
    Range range = y.getRange();
    assertTrue(range.getLowerBound() <= 1e-4 && range.getUpperBound() >= 1e-2, range.toString());
    assertTrue(range.getLowerBound() > 0, range.toString());
    assertEquals(rgb(Palette.category(0)), rgb(drawn.image(), drawn.pixel(1.5, Math.sqrt(1e-2 * 5e-3))));
    assertEquals(300, decode(plots.lines("nothing", "x", "y", List.of())).getHeight());
  }

  @Test
  void linearAxesStepByOneTwoOrFiveTimesAPowerOfTen() {
    assertEquals(0.05, Plots.niceStep(0.046), 1e-12);
    assertEquals(0.5, Plots.niceStep(0.27), 1e-12);
    assertEquals(1, Plots.niceStep(1), 1e-12);
    assertEquals(20, Plots.niceStep(11), 1e-12);
    assertEquals(1, Plots.niceStep(0), "an empty span still gets a step");
    Plots plots = new Plots(400, 300);
    Plots.Drawn one = plots.draw(plots.lineChart("", "epoch", "loss",
        List.of(new Plots.Series("a", new double[] {1}, new double[] {0.5})), List.of(), Plots.Scale.LINEAR));
    Range range = one.plot().getRangeAxis().getRange();
    assertTrue(range.getLowerBound() < 0.5 && range.getUpperBound() > 0.5 && range.getLength() > 0.05, range.toString());
  }

  @Test
  void seriesRefusesMismatchedLengthsAndPlotsRefuseTinySizes() {
    assertThrows(IllegalArgumentException.class, () -> new Plots.Series("s", new double[2], new double[3]));
    assertThrows(IllegalArgumentException.class, () -> new Plots(50, 400));
  }
}
