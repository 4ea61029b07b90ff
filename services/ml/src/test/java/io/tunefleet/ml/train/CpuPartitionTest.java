package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CpuPartitionTest {
  private static BitSet cpus(int... ids) {
    BitSet b = new BitSet();
    for (int id : ids) {
      b.set(id);
    }
    return b;
  }

  @Test
  void parsesLinuxCpuLists() {
    assertEquals(cpus(0), CpuPartition.parse("0"));
    assertEquals(cpus(0, 1, 2, 3, 6), CpuPartition.parse("0-3,6"));
    assertEquals(cpus(2, 5), CpuPartition.parse(" 5 , 2 "));
    assertEquals("0-3,6,8-9", CpuPartition.format(cpus(0, 1, 2, 3, 6, 8, 9)));
    assertEquals("7", CpuPartition.format(cpus(7)));
  }

  @Test
  void refusesMalformedListsNamingThePart() {
    assertMessage("'a' is not a CPU number or range", () -> CpuPartition.parse("0,a"));
    assertMessage("'' is not a CPU number or range", () -> CpuPartition.parse("0,"));
    assertMessage("'-1' is not a CPU number or range", () -> CpuPartition.parse("-1"));
    assertMessage("the range '3-1' runs backwards", () -> CpuPartition.parse("3-1"));
    assertMessage("CPU 5000 is beyond the 1024 a CPU set holds", () -> CpuPartition.parse("5000"));
    assertMessage("'123456' is not a CPU number or range", () -> CpuPartition.parse("123456"));
  }

  @Test
  void splitsTheProcessCpusOrSaysWhyNot() {
    CpuPartition.Plan plan = CpuPartition.plan("0-2", cpus(0, 1, 2, 3));
    assertEquals(cpus(0, 1, 2), plan.torch());
    assertEquals(cpus(3), plan.rest());
    assertEquals("0-2", plan.torchCpus());
    assertMessage("FLEET_TORCH_CPUS=4-5: CPU 4-5 not available to this process, which may use CPU 0-3",
        () -> CpuPartition.plan("4-5", cpus(0, 1, 2, 3)));
    assertMessage("FLEET_TORCH_CPUS=0-1 takes every CPU this process may use (0-1) and leaves none",
        () -> CpuPartition.plan("0-1", cpus(0, 1)));
  }

  @Test
  void allButNLeavesTheLastNCpusOfTheProcessToTheRest() {
    CpuPartition.Plan plan = CpuPartition.plan("all-but-2", cpus(2, 3, 5, 8, 9));
    assertEquals(cpus(2, 3, 5), plan.torch());
    assertEquals(cpus(8, 9), plan.rest());
    assertEquals(cpus(0), CpuPartition.plan("all-but-1", cpus(0, 1)).torch());
    assertMessage("FLEET_TORCH_CPUS=all-but-2: this process may use 2 CPUs (0-1), so N must be 1 to 1",
        () -> CpuPartition.plan("all-but-2", cpus(0, 1)));
    assertMessage("so N must be 1 to 3", () -> CpuPartition.plan("all-but-0", cpus(0, 1, 2, 3)));
    assertMessage("'all-but-x' is not a CPU number or range", () -> CpuPartition.plan("all-but-x", cpus(0, 1)));
  }

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
    String message = assertThrows(IllegalArgumentException.class, call).getMessage();
    assertTrue(message.contains(expected), message);
  }

  /**
   * In a child JVM with {@code FLEET_TORCH_CPUS} set to this machine's first CPU: the torch thread and its OpenMP
   * workers run there, libtorch's team has that many threads, and every other thread, and a process started
   * afterwards, runs on the rest.
   */
  @Test
  void aChildJvmRunsItsTorchTeamOnItsCpusAndTheRestElsewhere() throws Exception {
    assumeTrue(NativeThreads.available(), "needs Linux /proc");
    BitSet allowed = CpuPartition.Affinity.load().get(0);
    assumeTrue(allowed.cardinality() >= 2, "needs two CPUs to split");
    int first = allowed.nextSetBit(0);
    BitSet rest = (BitSet) allowed.clone();
    rest.clear(first);
    Map<String, String> report = runProbe(Integer.toString(first));
    assertEquals("1", report.get("libtorch_threads"), report.toString());
    assertEquals(CpuPartition.format(rest), report.get("child_process"), "a process started after: " + report);
    int torchThreads = 0;
    for (Map.Entry<String, String> e : report.entrySet()) {
      if (e.getKey().startsWith("thread ")) {
        boolean torch = e.getKey().endsWith(" torch");
        torchThreads += torch ? 1 : 0;
        assertEquals(torch ? Integer.toString(first) : CpuPartition.format(rest), e.getValue(), e.getKey() + ": " + report);
      }
    }
    assertTrue(torchThreads >= 1, "the torch thread was listed: " + report);
    assertTrue(report.size() > 10, "the JVM's threads were listed: " + report);
  }

  @Test
  void aChildJvmWithABadListFailsItsLibtorchWorkNamingTheSetting() throws Exception {
    assumeTrue(NativeThreads.available(), "needs Linux /proc");
    BitSet allowed = CpuPartition.Affinity.load().get(0);
    Map<String, String> report = runProbe(CpuPartition.format(allowed));
    assertTrue(report.getOrDefault("error", "").contains("takes every CPU this process may use"), report.toString());
  }

  /** Runs {@link CpuPartitionProbe} with the setting and returns its {@code key=value} lines. */
  private static Map<String, String> runProbe(String torchCpus) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), CpuPartitionProbe.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put(CpuPartition.VARIABLE, torchCpus);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe finished");
    assertEquals(0, p.exitValue(), out);
    Map<String, String> report = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        report.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return report;
  }
}
