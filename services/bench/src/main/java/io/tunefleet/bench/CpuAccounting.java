package io.tunefleet.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where the machine's CPU goes while a local fleet trains: this JVM's threads grouped by what they do, the
 * broker's JVM, and idle time, from Linux's {@code /proc} (clock ticks of {@value #TICKS_PER_SECOND} per
 * second). libgomp's workers take the name of the thread that started their team, so the "libtorch" group
 * is the torch thread with its OpenMP team. Threads that ended between two snapshots are counted from the
 * process total. Used by {@code fleet bench} (BENCHMARKS.md, "Training throughput").
 */
final class CpuAccounting {
  static final double TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux
  static final String LIBTORCH = "libtorch";
  static final String JIT = "jit";
  static final String GC_AND_VM = "gc_and_vm";
  static final String AUGMENTER = "augmenter";
  static final String KAFKA_CLIENTS = "kafka_clients";
  static final String OTHER = "other_jvm";
  static final String ENDED = "ended_threads";
  static final String BROKER = "broker";
  static final String IDLE = "idle";

  private CpuAccounting() {}

  /** CPU ticks so far: per live thread of this JVM, this JVM in all, the broker's JVM and the machine's idle. */
  record Snapshot(long wallMillis, Map<Integer, Task> threads, long process, long broker, long idle) {
    /** One thread (a Linux task): its name and its ticks. */
    record Task(String comm, long ticks) {}
  }

  static boolean available() {
    return Files.isDirectory(Path.of("/proc/self/task")) && Files.isReadable(Path.of("/proc/stat"));
  }

  /** Reads the counters now; {@code brokerPid} below 0 when there is no broker process to count. */
  static Snapshot take(long brokerPid) throws IOException {
    Map<Integer, Snapshot.Task> threads = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          threads.put(Integer.parseInt(task.getFileName().toString()), new Snapshot.Task(comm(stat), ticks(stat)));
        } catch (IOException | RuntimeException e) {
          // the thread ended while we looked: the process total still holds its time
        }
      }
    }
    long process = ticks(Files.readString(Path.of("/proc/self/stat")));
    long broker = 0;
    if (brokerPid >= 0) {
      try {
        broker = ticks(Files.readString(Path.of("/proc/" + brokerPid + "/stat")));
      } catch (IOException e) {
        // the broker is gone: nothing of it to count
      }
    }
    return new Snapshot(System.currentTimeMillis(), threads, process, broker, idle(Files.readAllLines(Path.of("/proc/stat")).get(0)));
  }

  /** The name between the first '(' and the last ')' of a stat line (names may hold spaces and parentheses). */
  static String comm(String stat) {
    return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  }

  /** utime + stime (fields 14 and 15) of a {@code /proc/…/stat} line. */
  static long ticks(String stat) {
    String[] after = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    return Long.parseLong(after[11]) + Long.parseLong(after[12]);
  }

  /** idle + iowait of the machine from the first ("cpu") line of {@code /proc/stat}. */
  static long idle(String cpuLine) {
    String[] f = cpuLine.trim().split("\\s+");
    return Long.parseLong(f[4]) + Long.parseLong(f[5]);
  }

  /** What a thread of the fleet's JVM does, by its (15-character) name. */
  static String group(String comm) {
    if (comm.equals("torch")) {
      return LIBTORCH;
    }
    if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
      return JIT;
    }
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.equals("VM Thread")) {
      return GC_AND_VM;
    }
    if (comm.startsWith("data-augmenter")) {
      return AUGMENTER;
    }
    if (comm.startsWith("kafka") || comm.startsWith("trainer-") || comm.startsWith("evaluator-")
        || comm.startsWith("distiller-")) {
      return KAFKA_CLIENTS;
    }
    return OTHER;
  }

  /** Cores used per group between two snapshots (a core fully busy for the whole window counts 1.0). */
  static Map<String, Double> cores(Snapshot from, Snapshot to) {
    double seconds = (to.wallMillis() - from.wallMillis()) / 1e3;
    Map<String, Long> ticks = new LinkedHashMap<>();
    for (String g : List.of(LIBTORCH, JIT, GC_AND_VM, AUGMENTER, KAFKA_CLIENTS, OTHER, ENDED, BROKER, IDLE)) {
      ticks.put(g, 0L);
    }
    long live = 0;
    for (Map.Entry<Integer, Snapshot.Task> t : to.threads().entrySet()) {
      Snapshot.Task before = from.threads().get(t.getKey());
      long delta = t.getValue().ticks() - (before == null ? 0 : before.ticks());
      ticks.merge(group(t.getValue().comm()), delta, Long::sum);
      live += delta;
    }
    ticks.put(ENDED, Math.max(0, to.process() - from.process() - live));
    ticks.put(BROKER, to.broker() - from.broker());
    ticks.put(IDLE, to.idle() - from.idle());
    Map<String, Double> cores = new LinkedHashMap<>();
    ticks.forEach((g, n) -> cores.put(g, seconds <= 0 ? 0 : Math.round(n / TICKS_PER_SECOND / seconds * 1000) / 1000.0));
    return cores;
  }

  /** The last snapshot taken at or before {@code millis} (or the first one). */
  static Snapshot atOrBefore(List<Snapshot> snapshots, long millis) {
    Snapshot best = snapshots.get(0);
    for (Snapshot s : snapshots) {
      if (s.wallMillis() <= millis) {
        best = s;
      }
    }
    return best;
  }

  /** Takes a snapshot every {@code periodMillis} until closed. */
  static final class Sampler implements AutoCloseable {
    private final List<Snapshot> snapshots = new ArrayList<>();
    private final ScheduledExecutorService timer;

    Sampler(long brokerPid, long periodMillis) {
      timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cpu-accounting");
        t.setDaemon(true);
        return t;
      });
      timer.scheduleAtFixedRate(() -> {
        try {
          Snapshot s = take(brokerPid);
          synchronized (snapshots) {
            snapshots.add(s);
          }
        } catch (IOException | RuntimeException e) {
          // a missed sample only widens the window
        }
      }, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Cores per group between the samples nearest to (and inside) {@code fromMillis}..{@code toMillis}. */
    Map<String, Double> cores(long fromMillis, long toMillis) {
      synchronized (snapshots) {
        if (snapshots.size() < 2) {
          return Map.of();
        }
        Snapshot end = atOrBefore(snapshots, toMillis);
        Snapshot start = snapshots.stream().filter(s -> s.wallMillis() >= fromMillis).findFirst().orElse(snapshots.get(0));
        return end.wallMillis() > start.wallMillis() ? CpuAccounting.cores(start, end) : Map.of();
      }
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }
}
