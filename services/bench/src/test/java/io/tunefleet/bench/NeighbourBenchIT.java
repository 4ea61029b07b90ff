package io.tunefleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * `fleet bench-neighbours` end to end, shortened: it starts an idle fleet, times the demo step in both phases,
 * reports, and leaves no process behind (a frozen broker left over would hold a port and memory for good).
 */
@Tag("integration")
class NeighbourBenchIT {
  @Test
  void timesBothPhasesAndLeavesNoProcessBehind() {
    Set<Long> before = ProcessHandle.current().descendants().map(ProcessHandle::pid).collect(Collectors.toSet());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = new CommandLine(new NeighbourBench()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
        .execute("--cycles", "2", "--phase-seconds", "3", "--warmup-seconds", "2", "--json");
    assertEquals(0, code, "exit code; stderr: " + err);
    JsonObject r = new JsonObject(out.toString().strip());
    assertEquals(2, r.getInteger("cycles"));
    assertTrue(r.getInteger("chunks_frozen") >= 2 && r.getInteger("chunks_running") >= 2, r.encode());
    assertTrue(r.getDouble("ms_per_step_frozen") > 0 && r.getDouble("ms_per_step_running") > 0, r.encode());
    assertEquals(r.getDouble("ms_per_step_running") / r.getDouble("ms_per_step_frozen") - 1, r.getDouble("penalty"), 1e-3);
    // the services' JVM and its broker ran (an idle fleet uses a little CPU), and all of it is gone now
    assertTrue(r.getDouble("neighbour_cores") > 0, r.encode());
    List<ProcessHandle> left = ProcessHandle.current().descendants().filter(p -> !before.contains(p.pid())).toList();
    assertTrue(left.isEmpty(), "processes left behind: " + left.stream().map(p -> p.pid() + " " + p.info().command().orElse("?")).toList());
  }
}
