package io.tunefleet.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.augment.DebianPython;
import io.tunefleet.ml.augment.ImageU8;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding against PIL, the decoder torchvision's ImageFolder uses: every PNG and JPEG flavour a team's photos
 * come in gives the pixels of {@code ImageOps.exif_transpose(Image.open(f)).convert("RGB")}, and the files
 * that cannot be used are refused by name.
 */
class PhotoDecoderTest {
  private static final String SCRIPT = """
      import numpy as np, cv2
      from PIL import Image, ImageOps
      h, w = 40, 60
      yy, xx = np.mgrid[0:h, 0:w]
      # asymmetric: a bright block in the top-left corner tells every orientation apart
      rgb = np.stack([xx * 4, yy * 6, (xx + yy) * 2], -1).astype(np.uint8)
      rgb[2:12, 3:20] = (250, 30, 30)
      files = {}
      for o in range(1, 9):
          exif = Image.Exif(); exif[0x0112] = o
          Image.fromarray(rgb).save(f"orient{o}.jpg", quality=95, exif=exif.tobytes())
          files[f"orient{o}.jpg"] = None
      Image.fromarray(rgb).save("progressive.jpg", quality=90, progressive=True)
      Image.fromarray(rgb).convert("L").save("gray.jpg", quality=90)
      Image.fromarray(rgb).convert("CMYK").save("cmyk.jpg", quality=95)
      rgba = np.dstack([rgb, (xx * 4).astype(np.uint8)])
      Image.fromarray(rgba, "RGBA").save("rgba.png")
      Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=32).save("palette.png")
      Image.fromarray(rgb).convert("LA").save("gray-alpha.png")
      cv2.imwrite("rgb16.png", (rgb.astype(np.uint16) * 257 + 100)[:, :, ::-1])
      g16 = (xx * 1000 + yy * 17).astype(np.uint16)
      cv2.imwrite("gray16.png", g16)
      names = [f"orient{o}.jpg" for o in range(1, 9)] + ["progressive.jpg", "gray.jpg", "cmyk.jpg", "rgba.png", "palette.png", "gray-alpha.png", "rgb16.png"]
      for n in names:
          out = np.asarray(ImageOps.exif_transpose(Image.open(n)).convert("RGB"))
          out.tofile(n + ".rgb")
          print(n, out.shape[0], out.shape[1])
      # PIL clips 16-bit gray to 255 when converting to RGB; the fleet scales it (v / 257), as a user expects
      np.repeat(np.rint(g16 / 257.0).astype(np.uint8)[:, :, None], 3, 2).tofile("gray16.png.rgb")
      print("gray16.png", h, w)
      """;

  @Test
  void everyFormatDecodesAsPilDoesWithExifOrientationApplied(@TempDir Path dir) throws Exception {
    DebianPython.assumeModules("PIL", "numpy", "cv2");
    String listing = DebianPython.run(dir, SCRIPT);
    int checked = 0;
    for (String line : listing.strip().split("\n")) {
      String[] f = line.trim().split(" ");
      byte[] file = Files.readAllBytes(dir.resolve(f[0]));
      ImageU8 decoded = PhotoDecoder.decode(file, f[0]);
      int h = Integer.parseInt(f[1]);
      int w = Integer.parseInt(f[2]);
      assertEquals(h + "x" + w, decoded.height() + "x" + decoded.width(), f[0] + ": upright size");
      PhotoDecoder.Header header = PhotoDecoder.header(file, f[0]);
      assertEquals(h + "x" + w, header.height() + "x" + header.width(), f[0] + ": size from the header alone");
      byte[] expected = Files.readAllBytes(dir.resolve(f[0] + ".rgb"));
      int within = 0;
      int worst = 0;
      for (int i = 0; i < expected.length; i++) {
        int d = Math.abs((expected[i] & 0xFF) - (decoded.pixels()[i] & 0xFF));
        worst = Math.max(worst, d);
        within += d <= 2 ? 1 : 0;
      }
      double fraction = within / (double) expected.length;
      System.out.printf("PIL parity | %s | %.4f within 2 grey levels | worst %d%n", f[0], fraction, worst);
      // JPEGs: two IDCT implementations (libjpeg-turbo in PIL, the JDK's libjpeg) differ by a level or two
      assertTrue(fraction >= 0.99, f[0] + ": only " + fraction + " within 2 grey levels of PIL (worst " + worst + ")");
      // a training crop's region (decoded by the reader for an unrotated JPEG) is the crop of the whole, exactly
      int ry = h / 5;
      int rx = w / 3;
      int rh = h / 2;
      int rw = w / 2;
      ImageU8 region = PhotoDecoder.decodeRegion(file, f[0], ry, rx, rh, rw);
      assertEquals(rh + "x" + rw, region.height() + "x" + region.width(), f[0] + ": region size");
      for (int y = 0; y < rh; y++) {
        for (int i = 0; i < rw * 3; i++) {
          if (region.pixels()[y * rw * 3 + i] != decoded.pixels()[((ry + y) * w + rx) * 3 + i]) {
            throw new AssertionError(f[0] + ": region pixel (" + y + ", " + i / 3 + ") differs from the whole image's");
          }
        }
      }
      checked++;
    }
    assertEquals(16, checked);
  }

  @Test
  void unusableFilesAreRefusedByName() throws Exception {
    UnreadableImageException empty = assertThrows(UnreadableImageException.class, () -> PhotoDecoder.header(new byte[0], "z.jpg"));
    assertTrue(empty.getMessage().contains("z.jpg is not a readable image: the file is empty (0 bytes)"), empty.getMessage());
    UnreadableImageException text = assertThrows(UnreadableImageException.class,
        () -> PhotoDecoder.header("just some notes".getBytes(), "notes.jpg"));
    assertTrue(text.getMessage().contains("notes.jpg is not a readable image: its content is not PNG or JPEG"), text.getMessage());

    byte[] jpeg = jpeg();
    byte[] truncated = java.util.Arrays.copyOf(jpeg, jpeg.length / 2);
    UnreadableImageException cut = assertThrows(UnreadableImageException.class, () -> PhotoDecoder.decode(truncated, "cut.jpg"));
    assertTrue(cut.getMessage().contains("cut.jpg is not a readable image: the JPEG is truncated"), cut.getMessage());

    UnreadableImageException bomb = assertThrows(UnreadableImageException.class,
        () -> PhotoDecoder.decode(pngHeader(30_000, 30_000), "bomb.png"));
    assertTrue(bomb.getMessage().contains("bomb.png is 30000x30000 = 900,000,000 pixels, more than the 89,478,485"),
        bomb.getMessage());
  }

  @Test
  void aJpegWhoseScanIsCorruptPassesTheHeaderCheckButNeverDecodesToGarbage() throws Exception {
    byte[] jpeg = jpeg();
    // overwrite the middle of the entropy-coded data with an out-of-place marker and zeros
    byte[] corrupt = jpeg.clone();
    int mid = jpeg.length * 2 / 3;
    corrupt[mid] = (byte) 0xFF;
    corrupt[mid + 1] = (byte) 0xD3;
    java.util.Arrays.fill(corrupt, mid + 2, mid + 200, (byte) 0);
    assertEquals(48, PhotoDecoder.header(corrupt, "scan.jpg").height(), "header and end marker are intact");
    UnreadableImageException e = assertThrows(UnreadableImageException.class, () -> PhotoDecoder.decode(corrupt, "scan.jpg"));
    assertTrue(e.getMessage().startsWith("scan.jpg is not a readable image: "), e.getMessage());
  }

  /** A decompression bomb's whole file: a valid PNG signature, an IHDR declaring w x h RGB, an empty IDAT, IEND. */
  static byte[] pngHeader(int w, int h) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
        .put((byte) 0).put((byte) 0).array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws Exception {
    out.write(ByteBuffer.allocate(4).putInt(data.length).array());
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.write(t);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  static byte[] jpeg() throws Exception {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(64, 48, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 5) << 8 | (x + y));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "jpeg", out);
    return out.toByteArray();
  }
}
