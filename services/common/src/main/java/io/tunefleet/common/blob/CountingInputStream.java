package io.tunefleet.common.blob;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongConsumer;

/** A stream that reports the bytes read through it (to the bytes-read counter) when it is closed. */
final class CountingInputStream extends FilterInputStream {
  private final LongConsumer onClose;
  private long count;
  private boolean closed;

  CountingInputStream(InputStream in, LongConsumer onClose) {
    super(in);
    this.onClose = onClose;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      count++;
    }
    return b;
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    int n = super.read(buf, off, len);
    if (n > 0) {
      count += n;
    }
    return n;
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      onClose.accept(count);
    }
    super.close();
  }
}
