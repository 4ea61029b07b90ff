package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns a JPEG or PNG file into the fleet's image form (8-bit RGB, HWC), as torchvision's
 * {@code PIL.Image.open(f).convert("RGB")} after {@code ImageOps.exif_transpose}: EXIF orientation applied,
 * alpha dropped (not composited), grayscale repeated into three channels, 16-bit samples scaled to 8 bits.
 * JPEGs go through TwelveMonkeys' ImageIO reader (CMYK/YCCK, progressive, broken ICC profiles). A file that
 * is empty, not a PNG/JPEG, truncated, or larger than {@link #MAX_PIXELS} is refused with an
 * {@link UnreadableImageException} naming the problem; the size check reads the header only, so a
 * decompression bomb is refused before any pixel buffer is allocated.
 */
public final class PhotoDecoder {
  /** PIL's {@code Image.MAX_IMAGE_PIXELS}: larger images are refused (about 256 MB of RGB). */
  public static final long MAX_PIXELS = 89_478_485L;

  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private PhotoDecoder() {}

  /** What the header says: the format and the size of the image as displayed (after EXIF orientation). */
  public record Header(String format, int height, int width, int orientation) {}

  /**
   * The header of {@code file} (named {@code name} in errors), after checking that the file is a complete PNG
   * or JPEG (it ends with its end marker) of at most {@link #MAX_PIXELS}; decodes no pixel.
   */
  public static Header header(byte[] file, String name) throws UnreadableImageException {
    return header(file, file, file.length, name);
  }

  /**
   * The header from the first bytes of a file ({@code head}) and its last ones ({@code tail}, for the end
   * marker), without the rest: {@code null} when the header reaches past {@code head} (large metadata blocks
   * before the image data) and the caller must read more.
   */
  public static Header header(byte[] head, byte[] tail, long size, String name) throws UnreadableImageException {
    if (size == 0) {
      throw new UnreadableImageException(name + " is not a readable image: the file is empty (0 bytes)");
    }
    String format = format(head, name);
    int orientation = ExifOrientation.of(head, format);
    try (ImageInputStream in = memoryStream(head)) {
      ImageReader reader = reader(in, format, name);
      try {
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        checkSize(h, w, name);
        checkComplete(tail, format, name);
        return orientation >= 5 ? new Header(format, w, h, orientation) : new Header(format, h, w, orientation);
      } finally {
        reader.dispose();
      }
    } catch (UnreadableImageException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      if (head.length < size) {
        return null;
      }
      throw new UnreadableImageException(name + " is not a readable image: its " + format + " header is damaged ("
          + e.getMessage() + ")");
    }
  }

  /** Decodes {@code file} (named {@code name} in errors) into 8-bit RGB, EXIF orientation applied. */
  public static ImageU8 decode(byte[] file, String name) throws UnreadableImageException {
    return decode(file, name, null);
  }

  /**
   * The rows {@code y..y+h-1} and columns {@code x..x+w-1} of the upright image of {@code file}: the same pixels
   * as {@link #decode} and a crop, but a JPEG without EXIF rotation is decoded only down to the region's last row,
   * and only the region is converted (the random crop of the training input needs a fraction of the photo).
   */
  public static ImageU8 decodeRegion(byte[] file, String name, int y, int x, int h, int w) throws UnreadableImageException {
    return decode(file, name, new java.awt.Rectangle(x, y, w, h));
  }

  private static ImageU8 decode(byte[] file, String name, java.awt.Rectangle region) throws UnreadableImageException {
    String format = format(file, name);
    int orientation = ExifOrientation.of(file, format);
    // the reader crops in stored coordinates: for a rotated or mirrored photo, decode the whole and crop upright
    boolean readerCrops = region != null && format.equals("jpeg") && orientation <= 1;
    BufferedImage img;
    try (ImageInputStream in = memoryStream(file)) {
      ImageReader reader = reader(in, format, name);
      StringBuilder warnings = new StringBuilder();
      // the JDK's JPEG reader answers a corrupt scan with a warning and grey pixels: a batch must never see them
      // (other warnings, such as a CMYK file without an ICC profile, still give a usable image)
      reader.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> {
        String lower = warning.toLowerCase(Locale.ROOT);
        if (lower.contains("corrupt") || lower.contains("premature") || lower.contains("truncat")) {
          warnings.append(warning).append("; ");
        }
      });
      try {
        // one reader for the header checks and the pixels: the size is known before any buffer is allocated
        checkSize(reader.getHeight(0), reader.getWidth(0), name);
        checkComplete(file, format, name);
        if (readerCrops) {
          javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
          param.setSourceRegion(region);
          img = reader.read(0, param);
        } else {
          img = reader.read(0);
        }
      } finally {
        reader.dispose();
      }
      if (!warnings.isEmpty()) {
        throw new UnreadableImageException(name + " is not a readable image: " + warnings.substring(0, warnings.length() - 2));
      }
    } catch (UnreadableImageException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new UnreadableImageException(name + " is not a readable image: " + e.getMessage());
    }
    if (readerCrops) {
      if (img.getHeight() != region.height || img.getWidth() != region.width) {
        throw new UnreadableImageException(name + " is not a readable image: region " + region + " decoded as "
            + img.getWidth() + "x" + img.getHeight());
      }
      return toRgb(img);
    }
    ImageU8 upright = ExifOrientation.apply(toRgb(img), orientation);
    if (region == null) {
      return upright;
    }
    byte[] out = new byte[region.height * region.width * 3];
    for (int y = 0; y < region.height; y++) {
      System.arraycopy(upright.pixels(), ((region.y + y) * upright.width() + region.x) * 3, out, y * region.width * 3,
          region.width * 3);
    }
    return new ImageU8(region.height, region.width, 3, out);
  }

  /** In memory: ImageIO's default stream cache would write each photo to a temporary file first. */
  private static ImageInputStream memoryStream(byte[] file) {
    return new MemoryCacheImageInputStream(new ByteArrayInputStream(file));
  }

  private static String format(byte[] file, String name) throws UnreadableImageException {
    if (file.length == 0) {
      throw new UnreadableImageException(name + " is not a readable image: the file is empty (0 bytes)");
    }
    if (startsWith(file, PNG_MAGIC)) {
      return "png";
    }
    if (file.length >= 3 && (file[0] & 0xFF) == 0xFF && (file[1] & 0xFF) == 0xD8 && (file[2] & 0xFF) == 0xFF) {
      return "jpeg";
    }
    throw new UnreadableImageException(name + " is not a readable image: its content is not PNG or JPEG");
  }

  /** A cut-off download or copy lacks the format's end marker; decoders would fill the rest with grey. */
  private static void checkComplete(byte[] file, String format, String name) throws UnreadableImageException {
    if (format.equals("png") && lastIndexOf(file, "IEND".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 64) < 0) {
      throw new UnreadableImageException(name + " is not a readable image: the PNG is truncated (no IEND chunk at its end)");
    }
    if (format.equals("jpeg") && lastIndexOf(file, new byte[] {(byte) 0xFF, (byte) 0xD9}, 1024) < 0) {
      throw new UnreadableImageException(name + " is not a readable image: the JPEG is truncated (no end-of-image marker)");
    }
  }

  private static ImageReader reader(ImageInputStream in, String format, String name) throws UnreadableImageException {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
    if (in == null || !readers.hasNext()) {
      throw new UnreadableImageException(name + " is not a readable image: no " + format + " reader");
    }
    ImageReader reader = readers.next();
    reader.setInput(in, true, true);
    return reader;
  }

  static void checkSize(int h, int w, String name) throws UnreadableImageException {
    long pixels = (long) h * w;
    if (h <= 0 || w <= 0 || pixels > MAX_PIXELS) {
      throw new UnreadableImageException(String.format(Locale.ROOT,
          "%s is %dx%d = %,d pixels, more than the %,d a photo may have (a decompression bomb?)", name, w, h, pixels, MAX_PIXELS));
    }
  }

  /** 8-bit RGB of any decoded PNG/JPEG: alpha dropped, gray repeated, deeper samples scaled to 0..255. */
  static ImageU8 toRgb(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    byte[] rgb = new byte[h * w * 3];
    Raster raster = img.getRaster();
    if (img.getType() == BufferedImage.TYPE_3BYTE_BGR) {
      byte[] bgr = ((DataBufferByte) raster.getDataBuffer()).getData();
      for (int i = 0; i < rgb.length; i += 3) {
        rgb[i] = bgr[i + 2];
        rgb[i + 1] = bgr[i + 1];
        rgb[i + 2] = bgr[i];
      }
      return new ImageU8(h, w, 3, rgb);
    }
    if (img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
        && !(img.getColorModel() instanceof java.awt.image.IndexColorModel)) {
      // getRGB would run gray through a gamma conversion and shift the values: read the samples themselves
      int bits = img.getColorModel().getComponentSize(0);
      double max = (1 << bits) - 1;
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          int v = bits == 8 ? row[x] : (int) Math.rint(row[x] * 255.0 / max);
          int o = (y * w + x) * 3;
          rgb[o] = rgb[o + 1] = rgb[o + 2] = (byte) v;
        }
      }
      return new ImageU8(h, w, 3, rgb);
    }
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = row[x];
        int o = (y * w + x) * 3;
        rgb[o] = (byte) (p >> 16);
        rgb[o + 1] = (byte) (p >> 8);
        rgb[o + 2] = (byte) p;
      }
    }
    return new ImageU8(h, w, 3, rgb);
  }

  private static boolean startsWith(byte[] a, byte[] prefix) {
    if (a.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (a[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** The last position of {@code needle} within the final {@code window} bytes of {@code a}, or -1. */
  private static int lastIndexOf(byte[] a, byte[] needle, int window) {
    for (int i = a.length - needle.length; i >= Math.max(0, a.length - window); i--) {
      boolean match = true;
      for (int j = 0; j < needle.length && match; j++) {
        match = a[i + j] == needle[j];
      }
      if (match) {
        return i;
      }
    }
    return -1;
  }
}
