package io.tunefleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.cli.Fleet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The `fleet` script's command: the cli's commands plus the benchmarks, each answering --help. */
class FleetWithBenchmarksTest {
  static final List<String> TOOLING = List.of("bench", "bench-pytorch", "bench-memory", "bench-neighbours",
      "bench-augment", "bench-photos", "ablate");

  @Test
  void addsTheBenchmarksToTheCliWhichHasNoneOfThem() {
    Set<String> product = Fleet.commandLine().getSubcommands().keySet();
    Set<String> all = FleetWithBenchmarks.commandLine().getSubcommands().keySet();
    assertTrue(all.containsAll(product), all.toString());
    assertTrue(all.containsAll(TOOLING), all.toString());
    for (String tool : TOOLING) {
      assertFalse(product.contains(tool), "the services' image would carry " + tool);
    }
  }

  @Test
  void everyCommandAnswersHelpWithItsUsage() {
    for (String command : FleetWithBenchmarks.commandLine().getSubcommands().keySet()) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine fleet = FleetWithBenchmarks.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
      assertEquals(0, Fleet.execute(fleet, command, "--help"), command + ": " + err);
      assertTrue(out.toString().startsWith("Usage: fleet " + command), out.toString());
    }
    StringWriter out = new StringWriter();
    Fleet.execute(FleetWithBenchmarks.commandLine().setOut(new PrintWriter(out)), "bench-augment", "--help");
    assertTrue(out.toString().contains("--sizes") && out.toString().contains("--ops"), out.toString());
  }
}
