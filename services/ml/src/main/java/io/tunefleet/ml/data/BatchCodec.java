package io.tunefleet.ml.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The blob format of an image batch: magic "TFB1", size, height, width, channels (int32 little-endian),
 * labels and source indices (int32 each), then the pixels (uint8, NHWC). Compact and copy-free to read.
 */
public final class BatchCodec {
  private static final int MAGIC = 0x31424654; // "TFB1" little-endian
  private static final int HEADER = 5 * 4;

  private BatchCodec() {}

  public static byte[] encode(ImageBatch b) {
    ByteBuffer buf = ByteBuffer.allocate(HEADER + 8 * b.size() + b.pixels().length).order(ByteOrder.LITTLE_ENDIAN);
    buf.putInt(MAGIC).putInt(b.size()).putInt(b.height()).putInt(b.width()).putInt(b.channels());
    for (int l : b.labels()) {
      buf.putInt(l);
    }
    for (int s : b.sourceIndex()) {
      buf.putInt(s);
    }
    buf.put(b.pixels());
    return buf.array();
  }

  public static ImageBatch decode(byte[] bytes) throws IOException {
    if (bytes.length < HEADER) {
      throw new IOException("batch file too short: " + bytes.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int magic = buf.getInt();
    if (magic != MAGIC) {
      throw new IOException("not a batch file (magic 0x" + Integer.toHexString(magic) + ")");
    }
    int n = buf.getInt();
    int h = buf.getInt();
    int w = buf.getInt();
    int c = buf.getInt();
    long expected = HEADER + 8L * n + (long) n * h * w * c;
    if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || expected != bytes.length) {
      throw new IOException("batch file is " + bytes.length + " bytes, its header (" + n + "x" + h + "x" + w + "x" + c
          + ") says " + expected);
    }
    int[] labels = new int[n];
    int[] index = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = buf.getInt();
    }
    for (int i = 0; i < n; i++) {
      index[i] = buf.getInt();
    }
    byte[] pixels = new byte[n * h * w * c];
    buf.get(pixels);
    return new ImageBatch(n, h, w, c, labels, index, pixels);
  }
}
