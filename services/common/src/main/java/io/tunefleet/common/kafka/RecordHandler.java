package io.tunefleet.common.kafka;

import java.util.Collection;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * What a service does with each record its {@link ConsumerLoop} receives. Runs on the loop's own thread
 * (never an event loop; see {@link #runningOn} for another), one record at a time, in partition order.
 */
public interface RecordHandler {
  /**
   * Handles one record. When this returns, the record's effect must be durable — unless the handler
   * called {@link RecordContext#defer}, which holds the committed offset back until {@link RecordContext#release}.
   * An exception sends the record to the dead-letter topic with the exception's message as the reason.
   */
  void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception;

  /** Partitions this replica now owns (after a rebalance). */
  default void onAssigned(Collection<TopicPartition> partitions) {}

  /** Partitions this replica no longer owns: drop in-memory state of their jobs, the new owner resumes them. */
  default void onRevoked(Collection<TopicPartition> partitions) {}

  /** Called after each poll, with or without records. */
  default void afterPoll(RecordContext context) {}

  /**
   * Runs the loop's work for one poll: {@link #handle} for each of its records, then {@link #afterPoll}. Here by
   * default; a handler {@link #runningOn} another thread runs the whole poll there in one hand-over.
   */
  default void runPoll(Work work) throws Exception {
    work.run();
  }

  /** Work that may throw: the loop's work for one poll (see {@link #runPoll}), a call handed to a runner. */
  @FunctionalInterface
  interface Work {
    void run() throws Exception;
  }

  /**
   * This handler with every call (and {@code close}, if it is {@link AutoCloseable}) run through
   * {@code runner} while the consumer loop waits: for work that must stay on one thread of the process, such
   * as libtorch's ({@code runningOn(TorchThread::call)}). A poll's records go over in one hand-over, not one
   * each. Exceptions reach the loop as the handler threw them.
   */
  default RecordHandler runningOn(Runner runner) {
    return new OnThreadHandler(this, runner);
  }

  /**
   * Runs work on a thread of its choosing and waits for it, returning its result or rethrowing what it threw.
   * (Generic, so a method reference implements it, not a lambda.)
   */
  @FunctionalInterface
  interface Runner {
    <T> T call(Callable<T> work) throws Exception;
  }
}
