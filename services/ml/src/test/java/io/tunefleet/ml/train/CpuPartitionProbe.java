package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child process of {@link CpuPartitionTest}: runs a parallel libtorch op on the torch thread, then prints
 * {@code key=value} lines: libtorch's thread count, the CPUs of every thread ({@code thread TID NAME}), and those of a
 * process it starts; or {@code error=} with the message of a refused setting.
 */
public final class CpuPartitionProbe {
  public static void main(String[] args) throws Exception {
    int threads;
    try {
      threads = TorchThread.call(() -> {
        try (NDManager m = NDManager.newBaseManager()) {
          NDArray a = m.randomUniform(0, 1, new Shape(1 << 21));
          a.add(a).mul(a).sum().getFloat(); // large enough to start the OpenMP team
        }
        return JniUtils.getNumThreads();
      });
    } catch (IllegalArgumentException e) {
      System.out.println("error=" + e.getMessage());
      return;
    }
    System.out.println("libtorch_threads=" + threads);
    CpuPartition.Affinity affinity = CpuPartition.Affinity.load();
    for (int tid : CpuPartition.threadIds()) {
      String name;
      try {
        name = Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).strip();
        System.out.println("thread " + tid + " " + name + "=" + CpuPartition.format(affinity.get(tid)));
      } catch (java.io.IOException | RuntimeException ended) {
        // the thread ended meanwhile
      }
    }
    Process child = new ProcessBuilder("sh", "-c", "grep Cpus_allowed_list /proc/self/status").start();
    String line = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    child.waitFor();
    System.out.println("child_process=" + line.substring(line.indexOf(':') + 1).strip());
  }
}
