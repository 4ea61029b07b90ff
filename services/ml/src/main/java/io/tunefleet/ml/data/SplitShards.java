package io.tunefleet.ml.data;

import io.tunefleet.proto.v1.BlobRef;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * An unaugmented split (validation, the curriculum's training split) too large for one blob of decoded pixels:
 * a list of shards, each an {@link ImageBatch} blob of at most {@link #SHARD_BYTES}, read by the evaluator one at
 * a time. A split of at most {@link #SINGLE_BLOB_BYTES} (Fashion-MNIST, small photo sets) stays one batch blob,
 * as before; the evaluator tells the two apart by the blob's magic number. Blob format: magic "TFS1", the shard
 * count (int32 little-endian), then each shard's {@link BlobRef}, length-delimited.
 */
public final class SplitShards {
  /** Splits up to this many bytes of decoded pixels are one blob, as they always were. */
  public static final long SINGLE_BLOB_BYTES = 64L << 20;
  /** The most pixel bytes of one shard (about 220 images of 224 x 224). */
  public static final long SHARD_BYTES = 32L << 20;

  private static final int MAGIC = 0x31534654; // "TFS1" little-endian

  private SplitShards() {}

  /** The images per shard of a split of {@code n} images of {@code side} x {@code side} x 3, or {@code n} for one blob. */
  public static int imagesPerShard(int n, int side) {
    long perImage = 3L * side * side;
    if (perImage * n <= SINGLE_BLOB_BYTES) {
      return Math.max(1, n);
    }
    return (int) Math.max(1, SHARD_BYTES / perImage);
  }

  /** Whether {@code blob} is a shard list (else an {@link ImageBatch} blob). */
  public static boolean isShardList(byte[] blob) {
    return blob.length >= 8 && ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).getInt() == MAGIC;
  }

  public static byte[] encode(List<BlobRef> shards) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).putInt(shards.size()).array());
    try {
      for (BlobRef r : shards) {
        r.writeDelimitedTo(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static List<BlobRef> decode(byte[] blob) throws IOException {
    if (!isShardList(blob)) {
      throw new IOException("not a shard list (" + blob.length + " bytes, no TFS1 magic)");
    }
    int n = ByteBuffer.wrap(blob, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    ByteArrayInputStream in = new ByteArrayInputStream(blob, 8, blob.length - 8);
    List<BlobRef> shards = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BlobRef r = BlobRef.parseDelimitedFrom(in);
      if (r == null) {
        throw new IOException("shard list names " + n + " shards but ends after " + i);
      }
      shards.add(r);
    }
    return shards;
  }
}
