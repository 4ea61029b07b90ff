package io.tunefleet.ml.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PlotsTest {
  private static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertNotNull(image, "not a decodable PNG");
    return image;
  }

  private static int rgb(BufferedImage image, double x, double y) {
    return image.getRGB((int) Math.floor(x), (int) Math.floor(y)) & 0xFFFFFF;
  }

  private static double luminance(int rgb) {
    return Palette.luminance(new Color(rgb));
  }

  @Test
  void scatterDrawsEachClassInItsColourWhereItsPointIs() throws IOException {
    Plots plots = new Plots(640, 480);
    double[][] xy = {{0, 0}, {10, 0}, {0, 10}, {10, 10}};
    int[] labels = {0, 1, 2, 1};
    List<String> names = List.of("cat", "dog", "bird");
    BufferedImage image = decode(plots.scatter(xy, labels, names, "t-SNE"));
    assertEquals(640, image.getWidth());
    assertEquals(480, image.getHeight());
    Axes axes = plots.scatterAxes(new Canvas(640, 480), xy, names);
    for (int i = 0; i < xy.length; i++) {
      int expected = Palette.category(labels[i]).getRGB() & 0xFFFFFF;
      assertEquals(expected, rgb(image, axes.px(xy[i][0]), axes.py(xy[i][1])), "point " + i);
    }
    // Between the points there is only background or grid, not a class colour.
    int between = rgb(image, axes.px(5), axes.py(5));
    assertTrue(luminance(between) > 0.85, Integer.toHexString(between));
  }

  @Test
  void scatterNamesLabelsBeyondTheGivenClassNames() throws IOException {
    byte[] png = new Plots(300, 200).scatter(new double[][] {{1, 2}, {1, 2}}, new int[] {0, 4}, List.of("a"), "");
    assertEquals(300, decode(png).getWidth());
    assertThrows(IllegalArgumentException.class,
        () -> new Plots(300, 200).scatter(new double[][] {{1, 2}}, new int[] {0, 1}, List.of(), ""));
  }

  @Test
  void confusionMatrixShadesTheLargestCountDarkest() throws IOException {
    Plots plots = new Plots(600, 500);
    int k = 3;
    long[] counts = {50, 3, 0, 7, 88, 1, 0, 12, 40};
    List<String> names = List.of("airplane", "automobile", "bird");
    BufferedImage image = decode(plots.confusionMatrix(counts, k, names, "Confusion"));
    assertEquals(600, image.getWidth());
    assertEquals(500, image.getHeight());
    HeatGrid grid = plots.confusionGrid(new Canvas(600, 500), k, names);
    double[] lum = new double[k * k];
    int darkest = 0;
    for (int i = 0; i < k * k; i++) {
      Rectangle2D cell = grid.cell(i / k, i % k);
      // Sample near a corner: the centre holds the count's text.
      lum[i] = luminance(rgb(image, cell.getX() + 3, cell.getY() + 3));
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
    BufferedImage image = decode(plots.lines("Loss", "epoch", "loss", series, markers));
    assertEquals(800, image.getWidth());
    assertEquals(450, image.getHeight());
    Axes axes = plots.lineAxes(new Canvas(800, 450), series, markers, Plots.Scale.LINEAR, List.of("train loss", "val loss"));
    assertEquals(Palette.category(0).getRGB() & 0xFFFFFF, rgb(image, axes.px(3.5), axes.py(2)));
    assertEquals(Palette.category(1).getRGB() & 0xFFFFFF, rgb(image, axes.px(4.5), axes.py(0.45)));
    int markerPixels = 0;
    int column = (int) Math.floor(axes.px(2.5));
    for (int y = (int) axes.area().getY(); y < axes.area().getMaxY(); y++) {
      Color c = new Color(rgb(image, column, y));
      boolean grey = Math.abs(c.getRed() - c.getGreen()) < 8 && Math.abs(c.getGreen() - c.getBlue()) < 8 && c.getRed() < 200;
      markerPixels += grey ? 1 : 0;
    }
    assertTrue(markerPixels > axes.area().getHeight() / 3, "dashed marker line not found: " + markerPixels);
  }

  @Test
  void logScaleLeavesOutNonPositiveValuesAndEmptyPlotsStillRender() throws IOException {
    Plots plots = new Plots(400, 300);
    List<Plots.Series> lr = List.of(
        new Plots.Series("head", new double[] {1, 2, 3}, new double[] {1e-2, 5e-3, 1e-3}),
        new Plots.Series("layer4", new double[] {1, 2, 3}, new double[] {0, 1e-4, Double.NaN}));
    assertEquals(400, decode(plots.lines("LR", "epoch", "lr", lr, List.of(), Plots.Scale.LOG)).getWidth());
    Axes axes = plots.lineAxes(new Canvas(400, 300), lr, List.of(), Plots.Scale.LOG, List.of("head", "layer4"));
    assertTrue(axes.y().logarithmic());
    assertTrue(axes.y().lo() <= 1e-4 && axes.y().hi() >= 1e-2);
    assertEquals(300, decode(plots.lines("nothing", "x", "y", List.of())).getHeight());
  }

  @Test
  void seriesRefusesMismatchedLengthsAndPlotsRefuseTinySizes() {
    assertThrows(IllegalArgumentException.class, () -> new Plots.Series("s", new double[2], new double[3]));
    assertThrows(IllegalArgumentException.class, () -> new Plots(50, 400));
  }

  @Test
  void tickLabelsUseTheDecimalsTheStepNeeds() {
    Ticks t = Ticks.linear(0, 1, 6);
    assertEquals(0.2, t.step(), 1e-12);
    assertEquals("0.4", t.label(0.4));
    assertEquals("0", t.label(0));
    assertEquals("1e-04", Ticks.decades(1e-4, 1e-2).label(1e-4));
    assertEquals("0.01", Ticks.decades(1e-4, 1e-2).label(1e-2));
    assertEquals("250", Ticks.linear(0, 1000, 5).label(250));
  }
}
