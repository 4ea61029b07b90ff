package io.tunefleet.common.blob;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tunefleet.proto.v1.BlobRef;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob store contract on a folder. */
class FolderBlobStoreTest extends BlobStoreContract {
  @TempDir Path dir;
  FolderBlobStore store;

  @BeforeEach
  void open() throws Exception {
    store = new FolderBlobStore(dir.resolve("store"));
  }

  @Override
  BlobStore store() {
    return store;
  }

  @Override
  void tamper(BlobRef ref, byte[] bytes) throws Exception {
    Files.write(store.pathOf(ref.getUri()), bytes);
  }

  @Override
  void remove(BlobRef ref) throws Exception {
    Files.delete(store.pathOf(ref.getUri()));
  }

  @Override
  String scheme() {
    return "file";
  }

  @Test
  void refusesAFileUriOutsideItsFolder() {
    BlobRef outside = BlobRef.newBuilder().setUri(dir.resolve("other.bin").toUri().toString()).build();
    assertThrows(IllegalArgumentException.class, () -> store.get(outside));
  }
}
