package io.tunefleet.ml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.proto.v1.BlobRef;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When a split becomes shards, and the shard list's blob format. */
class SplitShardsTest {
  @Test
  void smallSplitsStayOneBlobAndLargeOnesBecomeBoundedShards() {
    // Fashion-MNIST's largest validation split (12,000 images of 28 x 28) is one blob, as it always was
    assertEquals(12_000, SplitShards.imagesPerShard(12_000, 28));
    // 10,000 ImageNet-sized images: 1.5 GB of pixels, in shards of at most 32 MiB
    int per = SplitShards.imagesPerShard(10_000, 224);
    assertTrue(per < 10_000);
    assertTrue(3L * 224 * 224 * per <= SplitShards.SHARD_BYTES, "shard of " + per + " images");
    assertTrue(3L * 224 * 224 * (per + 1) > SplitShards.SHARD_BYTES, "as full as the bound allows");
  }

  @Test
  void aShardListRoundTripsAndIsToldApartFromABatch() throws IOException {
    List<BlobRef> shards = List.of(BlobRef.newBuilder().setUri("file:jobs/j/data/validation.batch.00000").setSha256("ab").setSizeBytes(10).build(),
        BlobRef.newBuilder().setUri("file:jobs/j/data/validation.batch.00001").setSha256("cd").setSizeBytes(7).build());
    byte[] blob = SplitShards.encode(shards);
    assertTrue(SplitShards.isShardList(blob));
    assertEquals(shards, SplitShards.decode(blob));
    byte[] batch = BatchCodec.encode(new ImageBatch(1, 1, 1, 3, new int[] {0}, new int[] {0}, new byte[3]));
    assertFalse(SplitShards.isShardList(batch));
    IOException e = assertThrows(IOException.class, () -> SplitShards.decode(Arrays.copyOf(blob, blob.length - 5)));
    assertTrue(e.getMessage().contains("ends after 1") || e.getMessage().contains("truncated") || e.getMessage().contains("While parsing"),
        e.getMessage());
  }
}
