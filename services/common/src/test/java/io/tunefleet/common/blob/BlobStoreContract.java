package io.tunefleet.common.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Phase;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What every blob store guarantees, run against each implementation: read-after-write, a hash or size
 * mismatch and a missing object each a named {@link CorruptBlobException}, idempotent rewrites, no partial
 * reads while an object is replaced, and paths confined to the store.
 */
abstract class BlobStoreContract {
  /** The store under test (fresh for each test). */
  abstract BlobStore store();

  /** Replaces the stored bytes behind the store's back (a disk or bucket fault). */
  abstract void tamper(BlobRef ref, byte[] bytes) throws Exception;

  /** Removes the stored object behind the store's back. */
  abstract void remove(BlobRef ref) throws Exception;

  /** The URI scheme of the store's references. */
  abstract String scheme();

  @Test
  void readsBackWhatItWroteWithHashAndSize() throws Exception {
    BlobRef ref = store().put("jobs/j1/a.bin", new byte[] {1, 2, 3});
    assertEquals(3, ref.getSizeBytes());
    assertEquals("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", ref.getSha256());
    assertTrue(ref.getUri().startsWith(scheme() + ":"), ref.getUri());
    assertTrue(ref.getUri().endsWith("/jobs/j1/a.bin"), ref.getUri());
    assertArrayEquals(new byte[] {1, 2, 3}, store().get(ref));
    assertArrayEquals(new byte[] {1, 2, 3}, store().read("jobs/j1/a.bin"));
    assertTrue(store().exists("jobs/j1/a.bin"));
    assertFalse(store().exists("jobs/j1/b.bin"));
    assertEquals(ref, store().refOf("jobs/j1/a.bin"));
  }

  @Test
  void refusesATamperedObjectNamingItsHash() throws Exception {
    BlobRef ref = store().put("x.bin", new byte[] {1, 2, 3});
    tamper(ref, new byte[] {1, 2, 4});
    CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> store().get(ref));
    assertTrue(e.getMessage().contains("sha256") && e.getMessage().contains(ref.getUri()), e.getMessage());
  }

  @Test
  void refusesATruncatedOrMissingObjectNamingTheProblem() throws Exception {
    BlobRef ref = store().put("y.bin", new byte[] {1, 2, 3});
    tamper(ref, new byte[] {1});
    assertTrue(assertThrows(CorruptBlobException.class, () -> store().get(ref)).getMessage().contains("size 1 bytes, expected 3"));
    remove(ref);
    CorruptBlobException missing = assertThrows(CorruptBlobException.class, () -> store().get(ref));
    assertTrue(missing.getMessage().contains(ref.getUri() + " is corrupt: missing"), missing.getMessage());
    assertThrows(NoSuchFileException.class, () -> store().read("y.bin"));
  }

  @Test
  void rewritingTheSameBytesIsHarmlessAndGivesTheSameReference() throws Exception {
    byte[] bytes = "a replayed checkpoint".getBytes();
    BlobRef first = store().put("jobs/j/checkpoints/train/e0001.ckpt", bytes);
    BlobRef again = store().put("jobs/j/checkpoints/train/e0001.ckpt", bytes);
    assertEquals(first, again);
    assertArrayEquals(bytes, store().get(first));
    assertEquals(List.of("jobs/j/checkpoints/train/e0001.ckpt"), store().list("jobs/j"));
  }

  @Test
  void aReaderNeverSeesAPartlyWrittenObject() throws Exception {
    byte[] a = new byte[2 << 20];
    byte[] b = new byte[2 << 20];
    Arrays.fill(a, (byte) 'a');
    Arrays.fill(b, (byte) 'b');
    store().put("big.bin", a);
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; i < 8; i++) {
          store().put("big.bin", i % 2 == 0 ? b : a);
        }
      } catch (Throwable t) {
        failure.set(t);
      } finally {
        done.set(true);
      }
    });
    writer.start();
    AtomicInteger reads = new AtomicInteger();
    while (!done.get() || reads.get() == 0) {
      byte[] seen = store().read("big.bin");
      reads.incrementAndGet();
      assertTrue(Arrays.equals(seen, a) || Arrays.equals(seen, b), "a read saw a mix or a part: " + seen.length + " bytes");
    }
    writer.join();
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
  }

  @Test
  void deletesAFolderListsAndCountsBytes() throws Exception {
    store().put("jobs/j/batches/train/e0000/s00000.batch", new byte[10]);
    store().put("jobs/j/batches/train/e0000/s00001.batch", new byte[20]);
    store().put("jobs/j/batches/train/e00001/s00000.batch", new byte[5]); // a sibling whose name extends the folder's
    assertEquals(35, store().usedBytes("jobs/j"));
    assertEquals(List.of("jobs/j/batches/train/e0000/s00000.batch", "jobs/j/batches/train/e0000/s00001.batch"),
        store().list("jobs/j/batches/train/e0000"));
    store().deleteTree("jobs/j/batches/train/e0000");
    assertFalse(store().exists("jobs/j/batches/train/e0000/s00000.batch"));
    assertTrue(store().exists("jobs/j/batches/train/e00001/s00000.batch"));
    assertEquals(5, store().usedBytes("jobs/j"));
    store().deleteTree("jobs/j/no-such-folder"); // nothing to delete is no error
  }

  @Test
  void streamsAnObjectByUri() throws Exception {
    BlobRef ref = store().put("datasets/cats/1.png", new byte[] {7, 8, 9});
    try (InputStream in = store().open(ref.getUri())) {
      assertArrayEquals(new byte[] {7, 8, 9}, in.readAllBytes());
    }
  }

  @Test
  void refusesPathsAndUrisOutsideItsRoot() {
    assertThrows(IllegalArgumentException.class, () -> store().put("../escape.bin", new byte[1]));
    assertThrows(IllegalArgumentException.class, () -> store().put("a/../../escape.bin", new byte[1]));
    BlobRef http = BlobRef.newBuilder().setUri("http://example.com/x").build();
    assertThrows(IllegalArgumentException.class, () -> store().get(http));
  }

  @Test
  void aFinishedJobKeepsOnlyEachPhasesBestAndLastCheckpointUnlessAllAreKept() throws Exception {
    for (int e = 0; e < 5; e++) {
      store().put(JobPaths.checkpoint("r", Phase.TRAIN, e), new byte[100]);
      store().put(JobPaths.checkpointEvent("r", Phase.TRAIN, e), new byte[1]);
      store().put(JobPaths.checkpoint("all", Phase.TRAIN, e), new byte[100]);
    }
    for (int e = 0; e < 3; e++) {
      store().put(JobPaths.checkpoint("r", Phase.DISTILL, e), new byte[10]);
    }
    assertEquals(List.of(0, 2, 3), new CheckpointRetention(false).apply(store(), "r", Phase.TRAIN, 1));
    assertEquals(List.of(1), new CheckpointRetention(false).apply(store(), "r", Phase.DISTILL, 0));
    assertEquals(List.of("jobs/r/checkpoints/distill/e0000.ckpt", "jobs/r/checkpoints/distill/e0002.ckpt"),
        store().list("jobs/r/checkpoints/distill"));
    assertEquals(List.of("jobs/r/checkpoints/train/e0000.pb", "jobs/r/checkpoints/train/e0001.ckpt",
        "jobs/r/checkpoints/train/e0001.pb", "jobs/r/checkpoints/train/e0002.pb", "jobs/r/checkpoints/train/e0003.pb",
        "jobs/r/checkpoints/train/e0004.ckpt", "jobs/r/checkpoints/train/e0004.pb"), store().list("jobs/r/checkpoints/train"));
    assertEquals(2 * 100 + 5 + 2 * 10, store().usedBytes("jobs/r"));
    assertEquals(List.of(), new CheckpointRetention(false).apply(store(), "r", Phase.TRAIN, 1), "again: nothing left to delete");
    assertEquals(List.of(), new CheckpointRetention(true).apply(store(), "all", Phase.TRAIN, 1));
    assertEquals(5, store().list("jobs/all/checkpoints/train").size());
  }
}
