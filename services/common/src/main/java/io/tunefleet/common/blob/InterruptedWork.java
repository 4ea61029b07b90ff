package io.tunefleet.common.blob;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The attempts at one piece of heavy work that a replica died doing. In a container an OutOfMemoryError ends the
 * JVM before any handler runs ({@code -XX:+ExitOnOutOfMemoryError}) and the record, never committed, comes back
 * after the restart: without a count, the same record would stop the replica for good. A marker
 * ({@link JobPaths#inFlight}) holds the count; it is written before the work starts and deleted when it ends, so one
 * left behind means the replica died. After {@link #MAX} such deaths the service refuses the work by name.
 */
public final class InterruptedWork {
  /** Deaths of a replica at the same work before the service refuses it. */
  public static final int MAX = 2;

  private final BlobStore blobs;

  public InterruptedWork(BlobStore blobs) {
    this.blobs = blobs;
  }

  /**
   * Starts the work {@code marker} names: returns how often it was interrupted before. At {@link #MAX} or more the
   * marker is cleared and nothing is recorded: the caller refuses the work (and a resubmission tries afresh).
   * Otherwise this attempt is on record until {@link #end}.
   */
  public int begin(String marker) throws IOException {
    int interrupted = blobs.exists(marker)
        ? Integer.parseInt(new String(blobs.read(marker), StandardCharsets.UTF_8).trim()) : 0;
    if (interrupted >= MAX) {
      blobs.delete(marker);
    } else {
      blobs.put(marker, (interrupted + 1 + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return interrupted;
  }

  /** The work ended (done or failed by the service itself): it no longer counts. */
  public void end(String marker) throws IOException {
    blobs.delete(marker);
  }

  /**
   * Why the work is refused, in words: "the evaluator stopped 2 times while scoring TRAIN epoch 3 (the replica was
   * killed, most likely out of memory: its heap is 1024 MB); refused so that …: {@code remedy}".
   */
  public static String refusal(String service, int interrupted, String doing, String remedy) {
    return "the " + service + " stopped " + interrupted + " times while " + doing + " (the replica was killed, most "
        + "likely out of memory: its heap is " + (Runtime.getRuntime().maxMemory() >> 20) + " MB); refused so that "
        + "the replayed record cannot stop the replica again: " + remedy;
  }
}
