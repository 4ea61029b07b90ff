package io.tunefleet.ml.bench;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Synthetic photo datasets for tests and benchmarks: random sizes, every file flavour a team's folder holds
 * (baseline, progressive, grayscale and EXIF-rotated JPEG; RGB, RGBA, 16-bit and palette PNG), and content a
 * network can learn (each class has its own colour and stripe direction, under noise).
 */
public final class SyntheticPhotos {
  /** The file flavours, in the order a folder cycles through them. */
  public enum Kind {
    JPEG("jpg"), EXIF_ROTATED_JPEG("jpg"), PROGRESSIVE_JPEG("jpg"), RGBA_PNG("png"), GRAY16_PNG("png"),
    PALETTE_PNG("png"), GRAY_JPEG("jpeg"), RGB_PNG("png");

    private final String extension;

    Kind(String extension) {
      this.extension = extension;
    }

    public String extension() {
      return extension;
    }
  }

  private static final int[][] COLOURS = {{220, 60, 50}, {50, 180, 70}, {60, 80, 220}, {230, 200, 40}, {160, 60, 200}};

  private SyntheticPhotos() {}

  /** One file of {@code kind}, {@code w} x {@code h} pixels as stored, showing class {@code cls}. */
  public static byte[] photo(Kind kind, int h, int w, int cls, SplittableRandom rng) throws IOException {
    int[] colour = COLOURS[cls % COLOURS.length];
    int type = switch (kind) {
      case RGBA_PNG -> BufferedImage.TYPE_INT_ARGB;
      case GRAY16_PNG -> BufferedImage.TYPE_USHORT_GRAY;
      case PALETTE_PNG -> BufferedImage.TYPE_BYTE_INDEXED;
      case GRAY_JPEG -> BufferedImage.TYPE_BYTE_GRAY;
      default -> BufferedImage.TYPE_INT_RGB;
    };
    BufferedImage img = new BufferedImage(w, h, type);
    int period = 8 + cls * 3;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean stripe = ((cls % 2 == 0 ? x : y) / period) % 2 == 0;
        double shade = stripe ? 1.0 : 0.55;
        int noise = rng.nextInt(-20, 21);
        int r = clamp(colour[0] * shade + noise);
        int g = clamp(colour[1] * shade + noise);
        int b = clamp(colour[2] * shade + noise);
        int alpha = kind == Kind.RGBA_PNG ? 128 + (x * 127 / w) : 255;
        img.setRGB(x, y, alpha << 24 | r << 16 | g << 8 | b);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    switch (kind) {
      case PROGRESSIVE_JPEG -> writeJpeg(img, out, true);
      case JPEG, GRAY_JPEG -> writeJpeg(img, out, false);
      case EXIF_ROTATED_JPEG -> {
        writeJpeg(img, out, false);
        return withExifOrientation(out.toByteArray(), 6);
      }
      default -> ImageIO.write(img, "png", out);
    }
    return out.toByteArray();
  }

  /**
   * Writes {@code perClass} photos per class under {@code root/<class>/} with sides uniform in
   * [{@code minSide}, {@code maxSide}], cycling through every {@link Kind}; returns the files in order.
   */
  public static List<Path> writeFolder(Path root, List<String> classes, int perClass, int minSide, int maxSide, long seed)
      throws IOException {
    SplittableRandom rng = new SplittableRandom(seed);
    List<Path> files = new ArrayList<>();
    Kind[] kinds = Kind.values();
    for (int c = 0; c < classes.size(); c++) {
      Path dir = Files.createDirectories(root.resolve(classes.get(c)));
      for (int i = 0; i < perClass; i++) {
        Kind kind = kinds[(c + i) % kinds.length];
        int h = rng.nextInt(minSide, maxSide + 1);
        int w = rng.nextInt(minSide, maxSide + 1);
        Path f = dir.resolve(String.format("%05d-%s.%s", i, kind.name().toLowerCase(java.util.Locale.ROOT), kind.extension()));
        Files.write(f, photo(kind, h, w, c, rng));
        files.add(f);
      }
    }
    return files;
  }

  private static void writeJpeg(BufferedImage img, ByteArrayOutputStream out, boolean progressive) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.9f);
    if (progressive) {
      param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    }
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
  }

  /** {@code jpeg} with an APP1 EXIF segment (big-endian TIFF, one IFD entry) recording {@code orientation}. */
  public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    byte[] tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0, 0, 0, 0, 0};
    byte[] exif = new byte[6 + tiff.length];
    System.arraycopy(new byte[] {'E', 'x', 'i', 'f', 0, 0}, 0, exif, 0, 6);
    System.arraycopy(tiff, 0, exif, 6, tiff.length);
    int len = exif.length + 2;
    // after SOI and the JFIF APP0 segment the writer puts first (JFIF wants APP0 right after SOI)
    int at = 2;
    if ((jpeg[2] & 0xFF) == 0xFF && (jpeg[3] & 0xFF) == 0xE0) {
      at = 4 + ((jpeg[4] & 0xFF) << 8 | (jpeg[5] & 0xFF));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, at);
    out.write(0xFF);
    out.write(0xE1);
    out.write(len >> 8);
    out.write(len & 0xFF);
    out.write(exif, 0, exif.length);
    out.write(jpeg, at, jpeg.length - at);
    return out.toByteArray();
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }
}
