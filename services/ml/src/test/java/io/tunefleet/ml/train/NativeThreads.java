package io.tunefleet.ml.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * This process's threads as Linux sees them ({@code /proc/self/task}), native ones included: libgomp's
 * OpenMP workers take the name of the thread that started their team.
 */
final class NativeThreads {
  private NativeThreads() {}

  /** True where {@code /proc} names native threads (Linux). */
  static boolean available() {
    return Files.isDirectory(Path.of("/proc/self/task"));
  }

  /** The {@code stat} lines of the threads named {@code name} (their comm: at most 15 characters). */
  static List<String> stats(String name) throws IOException {
    List<String> stats = new ArrayList<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException ended) {
          continue; // the thread ended meanwhile
        }
        if (stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).equals(name)) {
          stats.add(stat);
        }
      }
    }
    return stats;
  }

  /** Minor page faults (field 10) of a {@code stat} line. */
  static long minorFaults(String stat) {
    return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
  }
}
