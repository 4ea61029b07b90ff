package io.tunefleet.common.blob;

import java.io.IOException;

/** A blob that is missing, truncated or does not match its sha256: it must not be used. */
public final class CorruptBlobException extends IOException {
  public CorruptBlobException(String uri, String problem) {
    super("blob " + uri + " is corrupt: " + problem);
  }
}
