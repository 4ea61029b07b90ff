package io.tunefleet.common.blob;

import io.tunefleet.proto.v1.BlobRef;

/** The one size-and-hash check every store applies before handing bytes out. */
final class BlobRefs {
  private BlobRefs() {}

  static byte[] verified(BlobRef ref, byte[] bytes) throws CorruptBlobException {
    if (bytes.length != ref.getSizeBytes()) {
      throw new CorruptBlobException(ref.getUri(), "size " + bytes.length + " bytes, expected " + ref.getSizeBytes());
    }
    String actual = BlobStore.sha256(bytes);
    if (!actual.equals(ref.getSha256())) {
      throw new CorruptBlobException(ref.getUri(), "sha256 " + actual + ", expected " + ref.getSha256());
    }
    return bytes;
  }
}
