package io.tunefleet.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OnThreadHandlerTest {
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "the-worker"));

  @AfterEach
  void stop() {
    worker.shutdownNow();
  }

  /** A {@link RecordHandler.Runner} on the worker thread: waits, and rethrows what the work threw. */
  private <T> T onWorker(Callable<T> work) throws Exception {
    try {
      return worker.submit(work).get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** Records which thread ran each call, and fails on demand. */
  private static final class Recording implements RecordHandler, AutoCloseable {
    final List<String> calls = new ArrayList<>();
    Exception failWith;

    private void note(String what) {
      calls.add(what + "@" + Thread.currentThread().getName());
    }

    @Override
    public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception {
      note("handle " + record.offset());
      if (failWith != null) {
        throw failWith;
      }
    }

    @Override
    public void onAssigned(Collection<TopicPartition> partitions) {
      note("assigned " + partitions.size());
    }

    @Override
    public void onRevoked(Collection<TopicPartition> partitions) {
      note("revoked " + partitions.size());
      if (failWith instanceof RuntimeException e) {
        throw e;
      }
    }

    @Override
    public void afterPoll(RecordContext context) {
      note("afterPoll");
    }

    @Override
    public void close() {
      note("close");
    }
  }

  private static final RecordContext NO_CONTEXT = new RecordContext() {
    @Override
    public void defer(String jobId) {}

    @Override
    public void release(String jobId) {}
  };

  @Test
  void everyCallRunsThroughTheRunnerInOrder() throws Exception {
    Recording h = new Recording();
    RecordHandler wrapped = h.runningOn(this::onWorker);
    List<TopicPartition> two = List.of(new TopicPartition("t", 0), new TopicPartition("t", 1));
    wrapped.onAssigned(two);
    wrapped.handle(new ConsumerRecord<>("t", 0, 7L, "k", new byte[0]), NO_CONTEXT);
    wrapped.afterPoll(NO_CONTEXT);
    wrapped.onRevoked(two);
    ((AutoCloseable) wrapped).close();
    assertEquals(List.of("assigned 2@the-worker", "handle 7@the-worker", "afterPoll@the-worker", "revoked 2@the-worker",
        "close@the-worker"), h.calls);
  }

  @Test
  void theHandlersExceptionReachesTheLoopAsThrown() {
    Recording h = new Recording();
    IOException cause = new IOException("batch file unreadable");
    h.failWith = cause;
    RecordHandler wrapped = h.runningOn(this::onWorker);
    IOException thrown = assertThrows(IOException.class,
        () -> wrapped.handle(new ConsumerRecord<>("t", 0, 1L, "k", new byte[0]), NO_CONTEXT));
    assertSame(cause, thrown, "the dead letter's reason is the handler's own message");

    IllegalStateException unchecked = new IllegalStateException("state gone");
    h.failWith = unchecked;
    assertSame(unchecked, assertThrows(IllegalStateException.class, () -> wrapped.onRevoked(List.of())));
    assertTrue(h.calls.stream().allMatch(c -> c.endsWith("@the-worker")), h.calls.toString());
  }

  @Test
  void aPollGoesOverInOneHandOverAndTheHandlersCallsFromThereRunDirectly() throws Exception {
    Recording h = new Recording();
    AtomicInteger handOvers = new AtomicInteger();
    RecordHandler wrapped = h.runningOn(new RecordHandler.Runner() {
      @Override
      public <T> T call(Callable<T> work) throws Exception {
        handOvers.incrementAndGet();
        return onWorker(work); // a second hand-over from the worker would wait for itself
      }
    });
    wrapped.runPoll(() -> {
      wrapped.handle(new ConsumerRecord<>("t", 0, 1L, "k", new byte[0]), NO_CONTEXT);
      wrapped.handle(new ConsumerRecord<>("t", 0, 2L, "k", new byte[0]), NO_CONTEXT);
      wrapped.afterPoll(NO_CONTEXT);
    });
    assertEquals(1, handOvers.get());
    assertEquals(List.of("handle 1@the-worker", "handle 2@the-worker", "afterPoll@the-worker"), h.calls);

    wrapped.handle(new ConsumerRecord<>("t", 0, 3L, "k", new byte[0]), NO_CONTEXT);
    assertEquals(2, handOvers.get(), "outside a poll's work, a call is handed over on its own");
    assertEquals("handle 3@the-worker", h.calls.get(3));

    IOException cause = new IOException("the poll's work failed");
    assertSame(cause, assertThrows(IOException.class, () -> wrapped.runPoll(() -> {
      throw cause;
    })));
  }

  @Test
  void closeIsANoOpForAHandlerThatIsNotCloseable() throws Exception {
    RecordHandler plain = (record, context) -> {};
    ((AutoCloseable) plain.runningOn(this::onWorker)).close();
  }
}
