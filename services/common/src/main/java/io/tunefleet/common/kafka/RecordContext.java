package io.tunefleet.common.kafka;

/** Lets a {@link RecordHandler} hold back offset commits until its effect is durable. */
public interface RecordContext {
  /**
   * The current record's effect is not durable yet (e.g. a training step not yet in a checkpoint): the
   * committed offset of its partition must not pass it until {@link #release} is called for {@code jobId}.
   */
  void defer(String jobId);

  /** Every deferred record of {@code jobId} is now durable (e.g. its checkpoint is written and announced). */
  void release(String jobId);
}
