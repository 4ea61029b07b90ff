package io.tunefleet.common.blob;

import java.io.IOException;

/** The configured blob store cannot be used (unknown bucket, denied credentials, unreachable endpoint): says which setting to fix. */
public final class BlobStoreUnavailableException extends IOException {
  public BlobStoreUnavailableException(String message) {
    super(message);
  }
}
