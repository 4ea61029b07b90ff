package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad {@code FLEET_TORCH_CPUS} stops `fleet up` before its broker starts, naming the setting and the problem. */
class TorchCpusSettingTest {
  @Test
  void fleetUpRefusesAListThatLeavesNoCpuForTheRest(@TempDir Path dir) throws Exception {
    Path status = Path.of("/proc/self/status");
    assumeTrue(Files.exists(status), "needs Linux /proc");
    String allowed = Files.readAllLines(status).stream().filter(l -> l.startsWith("Cpus_allowed_list:"))
        .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElseThrow();
    ProcessBuilder pb = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Fleet.class.getName(), "up")).redirectErrorStream(true);
    pb.environment().put("FLEET_TORCH_CPUS", allowed);
    pb.environment().put("FLEET_BLOB_ROOT", dir.resolve("blobs").toString());
    pb.environment().remove("FLEET_BOOTSTRAP_SERVERS");
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "`fleet up` should stop at once, not run");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(1, p.exitValue(), out);
      assertTrue(out.contains("FLEET_TORCH_CPUS=" + allowed + " takes every CPU this process may use"), out);
      assertFalse(out.contains("embedded Kafka broker ready"), "no broker was started: " + out);
    } finally {
      p.destroyForcibly();
    }
  }
}
