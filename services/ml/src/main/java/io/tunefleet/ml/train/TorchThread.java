package io.tunefleet.ml.train;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread of this process that runs libtorch work.
 *
 * <p>libtorch's CPU kernels parallelise with OpenMP (libgomp), and libgomp gives every thread that
 * starts a parallel region a team of worker threads of its own, kept for the thread's lifetime. Once a
 * process holds more of these threads than it has cores, libgomp shortens the busy-wait of idle workers
 * from about 300,000 spins to 100, so every parallel op pays for waking its workers and the cores sit
 * idle between the many small ops of a training step: one extra idle team (a thread that had run a single
 * matrix product) costs a training loop about a quarter of its speed ({@code TorchThreadTest} checks the
 * mechanism).
 *
 * <p>Services that can share a JVM therefore hand their libtorch work to this thread ({@link #call}; a
 * record handler wrapped with {@code runningOn(TorchThread::call)} runs there whole), and tools that run
 * libtorch beside a local fleet do the same. Work submitted from this thread runs inline, so nesting cannot
 * deadlock. Each unit of work must run here whole: libtorch's
 * gradient mode is per thread.
 *
 * <p>Its first use also sets the process's malloc up for libtorch ({@link MallocTuning}) and, when
 * {@code FLEET_TORCH_CPUS} asks for it, gives the thread and its team CPUs of their own ({@link CpuPartition}).
 */
public final class TorchThread {
  private static final Logger LOG = LoggerFactory.getLogger(TorchThread.class);
  private static final String NAME = "torch";
  private static volatile Thread thread;
  private static final ExecutorService EXECUTOR = Executors.newSingleThreadExecutor(r -> {
    MallocTuning.apply();
    Thread t = new Thread(() -> {
      try {
        CpuPartition.enterTorchThread();
      } catch (RuntimeException | LinkageError e) {
        LOG.warn("the torch thread stays on every CPU: {}", e.toString());
      }
      r.run();
    }, NAME);
    t.setDaemon(true);
    thread = t;
    return t;
  });

  private TorchThread() {}

  /** True on the torch thread. */
  public static boolean isCurrent() {
    return Thread.currentThread() == thread;
  }

  /**
   * Runs {@code work} on the torch thread and waits for it; its exception, checked or not, is rethrown
   * here as it was thrown.
   */
  public static <T> T call(Callable<T> work) throws Exception {
    if (isCurrent()) {
      return work.call();
    }
    CpuPartition.apply(); // before the torch thread starts: its workers take its CPUs, everything else the rest
    Future<T> result = EXECUTOR.submit(work);
    try {
      return result.get();
    } catch (InterruptedException e) {
      // the work itself cannot be interrupted safely mid-op: it finishes, and the caller sees the interrupt
      Thread.currentThread().interrupt();
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
