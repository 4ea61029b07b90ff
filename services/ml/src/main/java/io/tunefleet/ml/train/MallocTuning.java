package io.tunefleet.ml.train;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the memory libtorch frees inside the process, so a training step does not fault its pages back in.
 *
 * <p>libtorch allocates every tensor of a step with {@code posix_memalign} and frees them when the step
 * ends. glibc's malloc, left to itself, hands memory at the top of its heap back to the kernel once more
 * than its trim threshold is free there, and that threshold follows the mmap threshold (twice the size of
 * the largest chunk freed so far, a few MiB for the demo model). A step frees more than that at once,
 * so glibc gives it back, and the next step's tensors fault the same pages in again, each one zero-filled by
 * the kernel, thousands of minor page faults per step (a plain PyTorch script pays the same). Fixing the
 * thresholds keeps freed memory for the next step: the faults all but stop and the step gets faster
 * ({@code MallocTuningTest} counts the faults; BENCHMARKS.md "The trainer's step" has the speed).
 *
 * <p>The torch thread is not the process's first thread, so glibc serves it from an arena of its own, made of
 * heaps of at most 64 MiB, and those trim differently: a heap left entirely free is unmapped whatever the trim
 * threshold, unless the top pad says to keep that much. Inference in batches of 256 frees whole heaps after
 * every batch, and the next batch faults them back in. A top pad of one heap keeps them.
 *
 * <p>The cost is that the process holds on to its peak working set instead of returning it between steps,
 * which is what a trainer wants. Blocks larger than the mmap threshold (32 MiB, glibc's maximum) are still
 * mapped and unmapped one by one. The main heap grows by the top pad at a time; pages it never touches
 * take address space, not memory.
 *
 * <p>Applied once per process by the {@link TorchThread}. Operators who tune malloc themselves keep their
 * settings: glibc's own variables or tunables for these thresholds, or another allocator in
 * {@code LD_PRELOAD}, leave malloc as it is ({@code MALLOC_ARENA_MAX}, common in containers, does not), and so
 * does {@code FLEET_MALLOC_TUNING=off}. Processes without glibc (musl) are left alone too.
 */
public final class MallocTuning {
  private static final Logger LOG = LoggerFactory.getLogger(MallocTuning.class);

  /** Blocks below this come from malloc's heaps, not from mmap: glibc's largest allowed value. */
  static final int MMAP_THRESHOLD = 32 << 20;
  /** Free memory at the top of a heap is given back to the kernel only beyond this. */
  static final int TRIM_THRESHOLD = 1 << 30;
  /** Heaps grow by this much beyond a request and keep this much free: one thread arena's heap. */
  static final int TOP_PAD = 64 << 20;

  // mallopt parameters, from <malloc.h>
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_TOP_PAD = -2;
  private static final int M_MMAP_THRESHOLD = -3;

  /** {@code off} keeps glibc's adaptive defaults, e.g. to measure what the settings are worth. */
  static final String SWITCH = "FLEET_MALLOC_TUNING";

  /** glibc's own ways to set what {@link #apply} sets: its environment variables and its tunables. */
  private static final List<String> GLIBC_VARIABLES =
      List.of("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_");
  private static final List<String> GLIBC_TUNABLES = List.of(
      "glibc.malloc.trim_threshold", "glibc.malloc.mmap_threshold", "glibc.malloc.top_pad", "glibc.malloc.mmap_max");
  private static final List<String> OTHER_ALLOCATORS = List.of("jemalloc", "tcmalloc", "mimalloc");

  private static String outcome;

  private MallocTuning() {}

  /**
   * Sets glibc's thresholds unless the environment says malloc is tuned already; idempotent. Returns what it
   * did, in words.
   */
  public static synchronized String apply() {
    if (outcome == null) {
      outcome = reasonToLeaveAlone(System.getenv()).map(reason -> "malloc left as configured: " + reason)
          .orElseGet(MallocTuning::setThresholds);
      LOG.info(outcome);
    }
    return outcome;
  }

  /** The same settings as glibc environment variables, for another process (a reference benchmark). */
  public static Map<String, String> environment() {
    return Map.of("MALLOC_MMAP_THRESHOLD_", Integer.toString(MMAP_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_", Integer.toString(TRIM_THRESHOLD), "MALLOC_TOP_PAD_", Integer.toString(TOP_PAD));
  }

  /** Why malloc must be left as it is in this environment, if it must. */
  static Optional<String> reasonToLeaveAlone(Map<String, String> env) {
    if ("off".equals(env.get(SWITCH))) {
      return Optional.of(SWITCH + "=off");
    }
    for (String name : GLIBC_VARIABLES) {
      if (env.containsKey(name)) {
        return Optional.of(name + " is set");
      }
    }
    String tunables = env.getOrDefault("GLIBC_TUNABLES", "");
    for (String tunable : GLIBC_TUNABLES) {
      if (tunables.contains(tunable)) {
        return Optional.of("GLIBC_TUNABLES sets " + tunable);
      }
    }
    String preload = env.getOrDefault("LD_PRELOAD", "");
    for (String allocator : OTHER_ALLOCATORS) {
      if (preload.contains(allocator)) {
        return Optional.of(allocator + " is preloaded");
      }
    }
    return Optional.empty();
  }

  private static String setThresholds() {
    NativeLibrary libc;
    Function mallopt;
    try {
      libc = NativeLibrary.getInstance("c");
      libc.getFunction("gnu_get_libc_version"); // glibc only: musl's mallopt does nothing
      mallopt = libc.getFunction("mallopt");
    } catch (UnsatisfiedLinkError e) {
      return "malloc left as it is: this process does not use glibc (" + e.getMessage() + ")";
    }
    // the mmap threshold first: setting it fixes both thresholds, ending glibc's dynamic adjustment
    if (mallopt.invokeInt(new Object[] {M_MMAP_THRESHOLD, MMAP_THRESHOLD}) != 1
        || mallopt.invokeInt(new Object[] {M_TRIM_THRESHOLD, TRIM_THRESHOLD}) != 1
        || mallopt.invokeInt(new Object[] {M_TOP_PAD, TOP_PAD}) != 1) {
      return "malloc left as it is: glibc refused mallopt";
    }
    return "glibc malloc keeps freed memory for libtorch's next step (mmap threshold " + (MMAP_THRESHOLD >> 20)
        + " MiB, trim threshold " + (TRIM_THRESHOLD >> 20) + " MiB, top pad " + (TOP_PAD >> 20) + " MiB)";
  }
}
