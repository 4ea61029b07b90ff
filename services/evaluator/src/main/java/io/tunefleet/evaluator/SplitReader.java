package io.tunefleet.evaluator;

import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.SplitShards;
import io.tunefleet.proto.v1.BlobRef;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The evaluator's view of an unaugmented split: its shards (one, for a split written as a single batch blob) and
 * their decoded pixels through a cache bounded in bytes (FLEET_EVAL_CACHE_MB), least recently used first out. A
 * split larger than the cache is read from the blob store shard by shard at every evaluation, never held whole.
 */
final class SplitReader {
  private final BlobStore blobs;
  private final long capacityBytes;
  private final Map<String, List<BlobRef>> shardLists = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, List<BlobRef>> eldest) {
      return size() > 64;
    }
  };
  private final LinkedHashMap<String, ImageBatch> decoded = new LinkedHashMap<>(16, 0.75f, true);
  private long cachedBytes;

  SplitReader(BlobStore blobs, long capacityBytes) {
    this.blobs = blobs;
    this.capacityBytes = capacityBytes;
  }

  /** The shards of the split {@code ref} names, in order. */
  List<BlobRef> shards(BlobRef ref) throws IOException {
    List<BlobRef> known = shardLists.get(ref.getSha256());
    if (known != null) {
      return known;
    }
    if (decoded.containsKey(ref.getSha256())) {
      return List.of(ref);
    }
    byte[] blob = blobs.get(ref);
    List<BlobRef> shards;
    if (SplitShards.isShardList(blob)) {
      shards = SplitShards.decode(blob);
    } else {
      shards = List.of(ref);
      remember(ref, BatchCodec.decode(blob));
    }
    shardLists.put(ref.getSha256(), shards);
    return shards;
  }

  /** The pixels of one shard, from the cache or the blob store. */
  ImageBatch shard(BlobRef ref) throws IOException {
    ImageBatch cached = decoded.get(ref.getSha256());
    if (cached != null) {
      return cached;
    }
    ImageBatch batch = BatchCodec.decode(blobs.get(ref));
    remember(ref, batch);
    return batch;
  }

  /** Bytes of decoded pixels now cached (at most the capacity). */
  long cachedBytes() {
    return cachedBytes;
  }

  private void remember(BlobRef ref, ImageBatch batch) {
    long size = batch.pixels().length + 8L * batch.size();
    if (size > capacityBytes) {
      return;
    }
    var it = decoded.entrySet().iterator();
    while (cachedBytes + size > capacityBytes && it.hasNext()) {
      ImageBatch old = it.next().getValue();
      cachedBytes -= old.pixels().length + 8L * old.size();
      it.remove();
    }
    decoded.put(ref.getSha256(), batch);
    cachedBytes += size;
  }
}
