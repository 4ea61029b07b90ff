package io.tunefleet.ml.data;

import java.io.IOException;

/** A photo that cannot be used: empty, not a PNG/JPEG, truncated, corrupt or too large. The message names the file. */
public final class UnreadableImageException extends IOException {
  public UnreadableImageException(String message) {
    super(message);
  }
}
