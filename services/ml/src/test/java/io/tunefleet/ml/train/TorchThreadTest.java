package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class TorchThreadTest {
  @Test
  void runsWorkOnTheTorchThreadAndReturnsItsResult() throws Exception {
    assertEquals("torch", TorchThread.call(() -> Thread.currentThread().getName()));
    assertFalse(TorchThread.isCurrent());
    assertTrue(TorchThread.call(TorchThread::isCurrent));
  }

  @Test
  void rethrowsTheWorksExceptionAsThrown() {
    IOException cause = new IOException("checkpoint unreadable");
    assertSame(cause, assertThrows(IOException.class, () -> TorchThread.call(() -> {
      throw cause;
    })));
    IllegalArgumentException unchecked = new IllegalArgumentException("bad shape");
    assertSame(unchecked, assertThrows(IllegalArgumentException.class, () -> TorchThread.call(() -> {
      throw unchecked;
    })));
  }

  @Test
  void workSubmittedFromTheTorchThreadRunsInline() throws Exception {
    assertEquals(42, TorchThread.call(() -> TorchThread.call(() -> 42)));
    // a nested call on the single torch thread would deadlock unless it ran inline
    assertEquals("torch", TorchThread.call(() -> TorchThread.call(() -> Thread.currentThread().getName())));
  }

  /**
   * The reason the class exists: libgomp gives each thread that starts a parallel region workers of its
   * own, named after it. A thread that runs libtorch directly gets them; one that goes through the torch
   * thread does not, so the process keeps a single team however many services ask.
   */
  @Test
  void threadsThatGoThroughItGetNoOpenMpWorkersOfTheirOwn() throws Exception {
    assumeTrue(NativeThreads.available(), "needs Linux /proc to name native threads");
    assumeTrue(TorchThread.call(() -> {
      Engine.getInstance(); // loads libtorch
      return JniUtils.getNumThreads();
    }) > 1, "libtorch runs one intra-op thread here: no workers to count");
    CountDownLatch ran = new CountDownLatch(2);
    CountDownLatch checked = new CountDownLatch(1);
    Thread direct = caller("direct-caller", TorchThreadTest::parallelOp, ran, checked);
    Thread viaTorch = caller("torch-caller", () -> TorchThread.call(TorchThreadTest::parallelOp), ran, checked);
    try {
      direct.start();
      viaTorch.start();
      assertTrue(ran.await(60, java.util.concurrent.TimeUnit.SECONDS), "both callers ran their op");
      assertTrue(threadsNamed("direct-caller") > 1, "control: the direct caller got OpenMP workers of its own");
      assertEquals(1, threadsNamed("torch-caller"), "only the Java thread itself: its work ran in the torch thread's team");
      assertTrue(threadsNamed("torch") > 1, "the torch thread's team");
    } finally {
      checked.countDown();
      direct.join();
      viaTorch.join();
    }
  }

  private static Float parallelOp() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.randomUniform(0, 1, new Shape(1 << 21));
      return a.add(a).mul(a).sum().getFloat();
    }
  }

  /** A thread that runs {@code work} once, then stays alive (with any OpenMP team it got) until released. */
  private static Thread caller(String name, Callable<?> work, CountDownLatch ran, CountDownLatch release) {
    return new Thread(() -> {
      try {
        work.call();
        ran.countDown();
        release.await();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, name);
  }

  private static long threadsNamed(String name) throws IOException {
    return NativeThreads.stats(name).size();
  }
}
