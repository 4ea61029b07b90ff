package io.tunefleet.examples;

import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.Images;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * Reads the image to classify into the fleet's form (8-bit, HWC, 3 channels), with the fleet's own
 * conversions, so the model sees pixels exactly as it saw its training data: a PNG or JPEG file, or
 * one image of an IDX file (MNIST, Fashion-MNIST; plain or gzip).
 */
public final class InputImages {
  private InputImages() {}

  /** A PNG or JPEG file; grayscale becomes three equal channels. */
  public static ImageU8 read(Path file) throws IOException {
    BufferedImage img = ImageIO.read(file.toFile());
    if (img == null) {
      throw new IOException(file + " is not a readable PNG or JPEG image");
    }
    return Images.fromBufferedImage(img);
  }

  /** Image number {@code index} (0-based) of an IDX images file. */
  public static ImageU8 readIdx(Path imagesFile, int index) throws IOException {
    try (DataInputStream in = openIdx(imagesFile)) {
      int count = in.readInt();
      int h = in.readInt();
      int w = in.readInt();
      if (index < 0 || index >= count) {
        throw new IllegalArgumentException("--idx-index must be in 0.." + (count - 1) + " for " + imagesFile + ", was " + index);
      }
      in.skipNBytes((long) index * h * w);
      byte[] gray = new byte[h * w];
      in.readFully(gray);
      return Images.grayToRgb(gray, h, w);
    } catch (EOFException e) {
      throw new IOException(imagesFile + " is truncated", e);
    }
  }

  /** Height and width of the images of an IDX images file, from its header. */
  static int[] idxImageSize(Path imagesFile) throws IOException {
    try (DataInputStream in = openIdx(imagesFile)) {
      in.readInt(); // image count
      return new int[] {in.readInt(), in.readInt()};
    }
  }

  /** Opens an IDX images file (gzip or plain) and reads its magic number. */
  private static DataInputStream openIdx(Path file) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(file));
    raw.mark(2);
    boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
    raw.reset();
    DataInputStream in = new DataInputStream(gzip ? new BufferedInputStream(new GZIPInputStream(raw)) : raw);
    int magic = in.readInt();
    if (magic != 0x00000803) {
      in.close();
      throw new IOException(file + " is not an IDX images file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
    }
    return in;
  }
}
