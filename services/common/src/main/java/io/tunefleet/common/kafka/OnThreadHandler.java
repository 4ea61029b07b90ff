package io.tunefleet.common.kafka;

import java.util.Collection;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A {@link RecordHandler} whose every call goes through a {@link RecordHandler.Runner} while the consumer
 * loop waits for it: the loop keeps its order and at-least-once semantics, and the handler's work happens on
 * a thread of the service's choosing (see {@link RecordHandler#runningOn}). Closing closes the handler there
 * too.
 *
 * <p>A poll's records go over in one hand-over ({@link #runPoll}): the loop's per-record work runs on the
 * runner's thread, and the handler's calls from there run directly. Handing over each record instead cost two
 * thread wake-ups per training step.
 */
final class OnThreadHandler implements RecordHandler, AutoCloseable {
  private final RecordHandler handler;
  private final Runner runner;
  /** The runner's thread while it runs a poll's work; calls from it need no hand-over. */
  private volatile Thread polling;

  OnThreadHandler(RecordHandler handler, Runner runner) {
    this.handler = handler;
    this.runner = runner;
  }

  private void await(Work work) throws Exception {
    if (Thread.currentThread() == polling) {
      work.run();
      return;
    }
    runner.call(() -> {
      work.run();
      return null;
    });
  }

  @Override
  public void runPoll(Work work) throws Exception {
    await(() -> {
      polling = Thread.currentThread();
      try {
        work.run();
      } finally {
        polling = null;
      }
    });
  }

  /** For the callbacks that declare no checked exception. */
  private void awaitUnchecked(Work work) {
    try {
      await(work);
    } catch (RuntimeException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the handler ran", e);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception {
    await(() -> handler.handle(record, context));
  }

  @Override
  public void onAssigned(Collection<TopicPartition> partitions) {
    awaitUnchecked(() -> handler.onAssigned(partitions));
  }

  @Override
  public void onRevoked(Collection<TopicPartition> partitions) {
    awaitUnchecked(() -> handler.onRevoked(partitions));
  }

  @Override
  public void afterPoll(RecordContext context) {
    awaitUnchecked(() -> handler.afterPoll(context));
  }

  @Override
  public void close() throws Exception {
    if (handler instanceof AutoCloseable c) {
      await(c::close);
    }
  }
}
