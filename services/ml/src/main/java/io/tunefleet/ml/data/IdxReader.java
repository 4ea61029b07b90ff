package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.validation.InvalidSpecException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (MNIST, Fashion-MNIST; plain or gzip): an images file of n x h x w bytes and a labels
 * file of n bytes. Grayscale is expanded to 3 channels.
 */
public final class IdxReader {
  /** More images than this in one file is refused (before anything is allocated). */
  public static final int MAX_IMAGES = 10_000_000;

  private IdxReader() {}

  /**
   * @param keepClasses source labels to keep, relabelled 0..k-1 in this order (empty = all)
   * @param maxPerClass at most this many images per class in file order (0 = all)
   */
  public static LabeledImages read(Path images, Path labels, List<Integer> keepClasses, List<String> classNames,
      int maxPerClass) throws IOException {
    int[] sourceLabels;
    try (DataInputStream in = open(labels)) {
      int magic = in.readInt();
      if (magic != 0x00000801) {
        throw new InvalidSpecException("dataset.labels",
            labels + " is not an IDX labels file (magic 0x" + Integer.toHexString(magic) + ", expected 0x801)");
      }
      int n = in.readInt();
      if (n < 0 || n > MAX_IMAGES) {
        // a few bytes of header must not make the reader allocate gigabytes
        throw new InvalidSpecException("dataset.labels", labels + " declares " + Integer.toUnsignedString(n)
            + " labels; the reader accepts at most " + MAX_IMAGES);
      }
      byte[] raw = in.readNBytes(n);
      if (raw.length != n) {
        throw new InvalidSpecException("dataset.labels", labels + " is truncated: " + raw.length + " of " + n + " labels");
      }
      sourceLabels = new int[n];
      for (int i = 0; i < n; i++) {
        sourceLabels[i] = raw[i] & 0xFF;
      }
    }
    int maxLabel = 0;
    for (int l : sourceLabels) {
      maxLabel = Math.max(maxLabel, l);
    }
    int[] relabel = new int[maxLabel + 1];
    List<Integer> classes = keepClasses.isEmpty() ? range(maxLabel + 1) : keepClasses;
    java.util.Arrays.fill(relabel, -1);
    for (int i = 0; i < classes.size(); i++) {
      int c = classes.get(i);
      if (c < 0 || c > maxLabel) {
        throw new InvalidSpecException("dataset.classes[" + i + "]", "label " + c + " does not occur in " + labels);
      }
      relabel[c] = i;
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < classes.size(); i++) {
      names.add(i < classNames.size() ? classNames.get(i) : "class " + classes.get(i));
    }
    try (DataInputStream in = open(images)) {
      int magic = in.readInt();
      if (magic != 0x00000803) {
        throw new InvalidSpecException("dataset.images",
            images + " is not an IDX images file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
      }
      int n = in.readInt();
      int h = in.readInt();
      int w = in.readInt();
      if (n != sourceLabels.length) {
        throw new InvalidSpecException("dataset.images", images + " holds " + n + " images but " + labels + " holds "
            + sourceLabels.length + " labels");
      }
      if (h <= 0 || w <= 0 || h > 4096 || w > 4096) {
        throw new InvalidSpecException("dataset.images", images + " has an implausible image size " + h + "x" + w);
      }
      int[] taken = new int[classes.size()];
      List<ImageU8> out = new ArrayList<>();
      List<Integer> outLabels = new ArrayList<>();
      List<Integer> outIndex = new ArrayList<>();
      byte[] gray = new byte[h * w];
      for (int i = 0; i < n; i++) {
        in.readFully(gray);
        int label = relabel[sourceLabels[i]];
        if (label < 0 || (maxPerClass > 0 && taken[label] >= maxPerClass)) {
          continue;
        }
        taken[label]++;
        out.add(Images.grayToRgb(gray, h, w));
        outLabels.add(label);
        outIndex.add(i);
      }
      return new LabeledImages(out, outLabels.stream().mapToInt(Integer::intValue).toArray(),
          outIndex.stream().mapToInt(Integer::intValue).toArray(), names);
    } catch (java.io.EOFException e) {
      throw new InvalidSpecException("dataset.images", images + " is truncated");
    }
  }

  private static List<Integer> range(int n) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(i);
    }
    return all;
  }

  private static DataInputStream open(Path file) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    raw.mark(2);
    int b1 = raw.read();
    int b2 = raw.read();
    raw.reset();
    InputStream in = b1 == 0x1f && b2 == 0x8b ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
    return new DataInputStream(in);
  }
}
