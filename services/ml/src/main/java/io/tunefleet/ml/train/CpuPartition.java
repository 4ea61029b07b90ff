package io.tunefleet.ml.train;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Function;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Optionally gives the torch thread and its OpenMP team CPUs of their own ({@code FLEET_TORCH_CPUS}, a Linux CPU
 * list such as {@code 0-13}, or {@code all-but-1} for a container's CPUs but its last); every other thread of the
 * process, and every process it starts afterwards (the embedded broker), runs on the CPUs left over.
 *
 * <p>libtorch's OpenMP team splits each op evenly among its threads and meets at a barrier after it, so a thread
 * that takes a core from one member stalls them all: another thread's CPU time costs the team about twice as much.
 * Small neighbours (an idle broker, the JIT, Kafka clients) therefore slow a training step far more than their
 * own CPU time ({@code fleet bench-neighbours} and {@code fleet bench} measure it: BENCHMARKS.md "Training
 * throughput"). On a small machine a partition halves the team, so it is off by default. On a machine with many cores, a CPU or two for the broker and the services
 * costs the team little and keeps their wake-ups off its cores.
 *
 * <p>Threads start on the CPUs of the thread that creates them, and processes on those of the thread that starts
 * them. So {@link #apply} runs before the process starts its torch thread or its broker and moves every thread
 * there is to the rest; the torch thread then moves itself to its own CPUs ({@link #enterTorchThread}) before
 * libtorch starts its team, whose workers inherit them, and sets libtorch's thread count to their number unless
 * {@code -Dai.djl.pytorch.num_threads} sets it. Linux only.
 */
public final class CpuPartition {
  private static final Logger LOG = LoggerFactory.getLogger(CpuPartition.class);

  /**
   * The setting: a Linux CPU list, or {@code all-but-N}; empty for no partition. Also read as a system property of
   * the same name.
   */
  public static final String VARIABLE = "FLEET_TORCH_CPUS";

  /** glibc's {@code cpu_set_t}: 1,024 CPUs. */
  private static final int MASK_BYTES = 128;
  private static final int ESRCH = 3;
  private static final Pattern RANGE = Pattern.compile("(\\d{1,4})(?:-(\\d{1,4}))?");
  private static final Pattern ALL_BUT = Pattern.compile("all-but-(\\d{1,4})");

  /** The torch thread's CPUs and those of everything else: disjoint, neither empty. */
  public record Plan(BitSet torch, BitSet rest) {
    /** The torch thread's CPUs as a Linux CPU list. */
    public String torchCpus() {
      return format(torch);
    }

    public String describe() {
      return "the torch thread's team on CPU " + format(torch) + ", every other thread and the broker on CPU " + format(rest);
    }
  }

  /** The outcome once applied: the plan, or empty without a partition; null before. */
  private static volatile Optional<Plan> outcome;
  private static RuntimeException failure;

  private CpuPartition() {}

  /**
   * Reads {@link #VARIABLE} and, when it is set, moves every thread of this process to the CPUs it leaves over;
   * idempotent, and lock-free once applied (every {@link TorchThread#call} asks). Throws
   * {@link IllegalArgumentException} naming the problem when the list is malformed or does not fit this process's
   * CPUs, and {@link IllegalStateException} where threads cannot be moved (not Linux).
   */
  public static Optional<Plan> apply() {
    Optional<Plan> done = outcome;
    return done != null ? done : applyOnce();
  }

  private static synchronized Optional<Plan> applyOnce() {
    if (failure != null) {
      throw failure;
    }
    if (outcome == null) {
      try {
        String spec = System.getProperty(VARIABLE, System.getenv().getOrDefault(VARIABLE, "")).strip();
        Plan plan = null;
        if (!spec.isEmpty()) {
          Affinity affinity = Affinity.load();
          plan = plan(spec, affinity.get(0));
          int moved = moveThreadsExcept(affinity, plan.rest(), -1);
          LOG.info("{}={}: {} ({} threads moved)", VARIABLE, spec, plan.describe(), moved);
        }
        outcome = Optional.ofNullable(plan);
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }
    return outcome;
  }

  /**
   * Called by the torch thread as it starts: moves it to its CPUs, moves any thread started since {@link #apply}
   * to the rest, and sizes libtorch's team. Does nothing without a partition.
   */
  static void enterTorchThread() {
    Optional<Plan> done = outcome;
    if (done == null || done.isEmpty()) {
      return; // TorchThread.call applies the partition before it starts the thread
    }
    Plan plan = done.get();
    Affinity affinity = Affinity.load();
    affinity.set(0, plan.torch());
    moveThreadsExcept(affinity, plan.rest(), currentThreadId());
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      Engine.getInstance(); // loads libtorch, here, on the torch thread's CPUs
      JniUtils.setNumThreads(plan.torch().cardinality());
    }
  }

  /** Parses a Linux CPU list: numbers and ranges, comma-separated ({@code 0-3,6}). */
  static BitSet parse(String list) {
    BitSet cpus = new BitSet();
    for (String part : list.split(",", -1)) {
      Matcher m = RANGE.matcher(part.strip());
      if (!m.matches()) {
        throw new IllegalArgumentException(VARIABLE + "=" + list + ": '" + part.strip()
            + "' is not a CPU number or range (write a Linux CPU list, e.g. 0-3,6)");
      }
      int from = Integer.parseInt(m.group(1));
      int to = m.group(2) == null ? from : Integer.parseInt(m.group(2));
      if (to < from) {
        throw new IllegalArgumentException(VARIABLE + "=" + list + ": the range '" + part.strip() + "' runs backwards");
      }
      if (to >= MASK_BYTES * 8) {
        throw new IllegalArgumentException(VARIABLE + "=" + list + ": CPU " + to + " is beyond the " + MASK_BYTES * 8
            + " a CPU set holds");
      }
      cpus.set(from, to + 1);
    }
    return cpus;
  }

  /**
   * The partition of {@code allowed} (this process's CPUs) that {@code list} asks for, or why there is none:
   * a CPU list, or {@code all-but-N} for all of them but the last N (for a container whose CPUs are not known
   * beforehand).
   */
  static Plan plan(String list, BitSet allowed) {
    Matcher allBut = ALL_BUT.matcher(list.strip());
    BitSet torch;
    if (allBut.matches()) {
      int spare = Integer.parseInt(allBut.group(1));
      if (spare < 1 || spare >= allowed.cardinality()) {
        throw new IllegalArgumentException(VARIABLE + "=" + list + ": this process may use " + allowed.cardinality()
            + " CPUs (" + format(allowed) + "), so N must be 1 to " + (allowed.cardinality() - 1));
      }
      torch = (BitSet) allowed.clone();
      for (int i = 0, cpu = allowed.length() - 1; i < spare; i++, cpu = allowed.previousSetBit(cpu - 1)) {
        torch.clear(cpu);
      }
    } else {
      torch = parse(list);
    }
    BitSet outside = (BitSet) torch.clone();
    outside.andNot(allowed);
    if (!outside.isEmpty()) {
      throw new IllegalArgumentException(VARIABLE + "=" + list + ": CPU " + format(outside)
          + " not available to this process, which may use CPU " + format(allowed));
    }
    BitSet rest = (BitSet) allowed.clone();
    rest.andNot(torch);
    if (rest.isEmpty()) {
      throw new IllegalArgumentException(VARIABLE + "=" + list + " takes every CPU this process may use (" + format(allowed)
          + ") and leaves none for the broker and the services' other threads: leave one out, or unset it to share them all");
    }
    return new Plan(torch, rest);
  }

  /** A CPU set as a Linux CPU list ({@code 0-3,6}). */
  static String format(BitSet cpus) {
    StringBuilder sb = new StringBuilder();
    for (int from = cpus.nextSetBit(0); from >= 0; ) {
      int to = cpus.nextClearBit(from) - 1;
      sb.append(sb.isEmpty() ? "" : ",").append(from).append(to > from ? "-" + to : "");
      from = cpus.nextSetBit(to + 1);
    }
    return sb.toString();
  }

  /** Moves every thread of this process but {@code except} to {@code cpus}; returns how many it moved. */
  private static int moveThreadsExcept(Affinity affinity, BitSet cpus, int except) {
    int moved = 0;
    for (int tid : threadIds()) {
      if (tid != except && affinity.setIfAlive(tid, cpus)) {
        moved++;
      }
    }
    return moved;
  }

  /** This process's thread ids, from {@code /proc/self/task}. */
  static List<Integer> threadIds() {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      return tasks.map(p -> Integer.parseInt(p.getFileName().toString())).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list this process's threads in /proc/self/task", e);
    }
  }

  /** The calling thread's id ({@code /proc/thread-self} links to {@code PID/task/TID}). */
  static int currentThreadId() {
    try {
      return Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read this thread's id from /proc/thread-self", e);
    }
  }

  /** glibc's {@code sched_getaffinity} and {@code sched_setaffinity}; thread id 0 is the calling thread. */
  static final class Affinity {
    private static Affinity instance;
    private final Function get;
    private final Function set;

    private Affinity(Function get, Function set) {
      this.get = get;
      this.set = set;
    }

    static synchronized Affinity load() {
      if (instance == null) {
        try {
          NativeLibrary libc = NativeLibrary.getInstance("c");
          instance = new Affinity(libc.getFunction("sched_getaffinity", Function.THROW_LAST_ERROR),
              libc.getFunction("sched_setaffinity", Function.THROW_LAST_ERROR));
        } catch (UnsatisfiedLinkError e) {
          throw new IllegalStateException(VARIABLE + " needs Linux's sched_setaffinity, which this system lacks: unset it ("
              + e.getMessage() + ")", e);
        }
        if (!Files.isDirectory(Path.of("/proc/self/task"))) {
          throw new IllegalStateException(VARIABLE + " needs Linux's /proc/self/task to find this process's threads: unset it");
        }
      }
      return instance;
    }

    BitSet get(int tid) {
      Memory mask = new Memory(MASK_BYTES);
      mask.clear();
      get.invokeInt(new Object[] {tid, new NativeLong(MASK_BYTES), mask});
      return BitSet.valueOf(mask.getByteArray(0, MASK_BYTES));
    }

    void set(int tid, BitSet cpus) {
      set.invokeInt(new Object[] {tid, new NativeLong(MASK_BYTES), mask(cpus)});
    }

    /** Like {@link #set}, but false for a thread that has ended meanwhile. */
    boolean setIfAlive(int tid, BitSet cpus) {
      try {
        set(tid, cpus);
        return true;
      } catch (LastErrorException e) {
        if (e.getErrorCode() == ESRCH) {
          return false;
        }
        throw new IllegalStateException("cannot move thread " + tid + " to CPU " + format(cpus) + ": " + e.getMessage(), e);
      }
    }

    private static Memory mask(BitSet cpus) {
      Memory mask = new Memory(MASK_BYTES);
      mask.clear();
      byte[] bytes = cpus.toByteArray();
      mask.write(0, bytes, 0, bytes.length);
      return mask;
    }
  }
}
