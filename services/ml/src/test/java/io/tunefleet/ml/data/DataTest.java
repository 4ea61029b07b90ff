package io.tunefleet.ml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.validation.InvalidSpecException;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataTest {
  @TempDir Path dir;

  @Test
  void batchCodecRoundTripsAndRejectsTruncation() throws Exception {
    List<ImageU8> imgs = List.of(new ImageU8(2, 2, 3, new byte[12]), new ImageU8(2, 2, 3, new byte[] {
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    ImageBatch b = ImageBatch.of(imgs, new int[] {0, 1}, new int[] {7, 9});
    byte[] bytes = BatchCodec.encode(b);
    ImageBatch back = BatchCodec.decode(bytes);
    assertArrayEquals(b.pixels(), back.pixels());
    assertArrayEquals(new int[] {0, 1}, back.labels());
    assertArrayEquals(new int[] {7, 9}, back.sourceIndex());
    assertThrows(java.io.IOException.class, () -> BatchCodec.decode(Arrays.copyOf(bytes, bytes.length - 1)));
  }

  @Test
  void stratifiedSplitHoldsOutTenPercentOfEveryClassReproducibly() {
    int[] labels = new int[1000];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i < 900 ? i % 3 : 3; // classes 0..2 with 300 each, class 3 with 100
    }
    StratifiedSplit s = StratifiedSplit.of(labels, 4, 0.1, 42);
    int[] held = new int[4];
    for (int i : s.validation()) {
      held[labels[i]]++;
    }
    assertArrayEquals(new int[] {30, 30, 30, 10}, held);
    assertEquals(1000, s.train().length + s.validation().length);
    Set<Integer> overlap = new HashSet<>();
    Arrays.stream(s.train()).forEach(overlap::add);
    assertTrue(Arrays.stream(s.validation()).noneMatch(overlap::contains));
    assertArrayEquals(s.validation(), StratifiedSplit.of(labels, 4, 0.1, 42).validation());
  }

  @Test
  void balancedSamplingDrawsClassesWithinFivePercentOfUniformOnATenToOneSet() {
    int[] labels = new int[11_000];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i < 10_000 ? 0 : 1;
    }
    int[] order = EpochSampler.order(labels, 2, 0, 7, true);
    long minority = Arrays.stream(order).filter(i -> labels[i] == 1).count();
    double share = (double) minority / order.length;
    assertEquals(0.5, share, 0.025, "minority share " + share);
    int[] plain = EpochSampler.order(labels, 2, 0, 7, false);
    assertEquals(1000, Arrays.stream(plain).filter(i -> labels[i] == 1).count());
    assertEquals(labels.length, Arrays.stream(plain).distinct().count());
    assertTrue(!Arrays.equals(plain, EpochSampler.order(labels, 2, 1, 7, false)), "each epoch reshuffles");
  }

  @Test
  void idxReaderKeepsAndRelabelsClassesAndExpandsGrayToRgb() throws Exception {
    Path images = dir.resolve("img.gz");
    Path labels = dir.resolve("lab");
    try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(images)))) {
      out.writeInt(0x803);
      out.writeInt(4);
      out.writeInt(2);
      out.writeInt(2);
      for (int i = 0; i < 4; i++) {
        out.write(new byte[] {(byte) i, 0, 0, (byte) 200});
      }
    }
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(labels))) {
      out.writeInt(0x801);
      out.writeInt(4);
      out.write(new byte[] {5, 2, 5, 9});
    }
    LabeledImages data = IdxReader.read(images, labels, List.of(5, 9), List.of("five"), 0);
    assertEquals(3, data.size());
    assertArrayEquals(new int[] {0, 0, 1}, data.labels());
    assertArrayEquals(new int[] {0, 2, 3}, data.sourceIndex());
    assertEquals(List.of("five", "class 9"), data.classNames());
    assertEquals(3, data.images().get(1).channels());
    assertEquals(2, data.images().get(1).get(0, 0, 2));
    assertEquals(200, data.images().get(1).get(1, 1, 0));
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> IdxReader.read(labels, images, List.of(), List.of(), 0));
    assertTrue(e.getMessage().contains("not an IDX"), e.getMessage());
  }

  @Test
  void idxHeadersDeclaringHugeCountsAreRefusedBeforeAllocating() throws Exception {
    Path labels = dir.resolve("huge-labels");
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(labels))) {
      out.writeInt(0x801);
      out.writeInt(Integer.MAX_VALUE);
    }
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> IdxReader.read(labels, labels, List.of(), List.of(), 0));
    assertTrue(e.getMessage().contains("declares 2147483647 labels"), e.getMessage());
  }
}
