package io.tunefleet.common.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.proto.v1.BlobRef;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {
  @TempDir Path root;

  @Test
  void readsBackWhatItWroteWithHashAndSize() throws Exception {
    BlobStore store = new BlobStore(root);
    BlobRef ref = store.put("jobs/j1/a.bin", new byte[] {1, 2, 3});
    assertEquals(3, ref.getSizeBytes());
    assertEquals("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", ref.getSha256());
    assertTrue(ref.getUri().startsWith("file:"));
    assertArrayEquals(new byte[] {1, 2, 3}, store.get(ref));
  }

  @Test
  void refusesATamperedFile() throws Exception {
    BlobStore store = new BlobStore(root);
    BlobRef ref = store.put("x.bin", new byte[] {1, 2, 3});
    Files.write(store.pathOf(ref.getUri()), new byte[] {1, 2, 4});
    CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> store.get(ref));
    assertTrue(e.getMessage().contains("sha256"), e.getMessage());
  }

  @Test
  void refusesATruncatedOrMissingFile() throws Exception {
    BlobStore store = new BlobStore(root);
    BlobRef ref = store.put("y.bin", new byte[] {1, 2, 3});
    Files.write(store.pathOf(ref.getUri()), new byte[] {1});
    assertTrue(assertThrows(CorruptBlobException.class, () -> store.get(ref)).getMessage().contains("size"));
    Files.delete(store.pathOf(ref.getUri()));
    assertTrue(assertThrows(CorruptBlobException.class, () -> store.get(ref)).getMessage().contains("missing"));
  }

  @Test
  void refusesPathsOutsideItsRoot() throws Exception {
    BlobStore store = new BlobStore(root.resolve("store"));
    assertThrows(IllegalArgumentException.class, () -> store.put("../escape.bin", new byte[1]));
    BlobRef outside = BlobRef.newBuilder().setUri(root.resolve("other.bin").toUri().toString()).build();
    assertThrows(IllegalArgumentException.class, () -> store.get(outside));
    BlobRef http = BlobRef.newBuilder().setUri("http://example.com/x").build();
    assertThrows(IllegalArgumentException.class, () -> store.get(http));
  }
}
