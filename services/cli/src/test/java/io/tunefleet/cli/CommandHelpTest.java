package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `fleet COMMAND --help` prints the command's usage and runs nothing, for every command. */
class CommandHelpTest {
  /** Exit code, standard output and standard error of {@code fleet args}. */
  record Run(int code, String out, String err) {}

  static Run run(CommandLine fleet, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    fleet.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    int code = Fleet.execute(fleet, args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void everyCommandAnswersHelpWithItsUsage() {
    List<String> commands = List.copyOf(Fleet.commandLine().getSubcommands().keySet());
    assertTrue(commands.containsAll(List.of("demo", "up", "run", "submit", "status", "watch", "models", "pretrain", "config")),
        commands.toString());
    for (String command : commands) {
      for (String help : List.of("--help", "-h")) {
        Run r = run(Fleet.commandLine(), command, help);
        assertEquals(0, r.code(), command + " " + help + ": " + r.err());
        assertTrue(r.out().startsWith("Usage: fleet " + command), command + " " + help + ":\n" + r.out());
        assertTrue(r.out().contains("--help"), "the usage lists --help itself:\n" + r.out());
        assertEquals("", r.err(), command);
      }
    }
  }

  @Test
  void theUsageNamesTheCommandsOwnOptionsAndParameters() {
    String submit = run(Fleet.commandLine(), "submit", "--help").out();
    assertTrue(submit.contains("--bootstrap") && submit.contains("<file>"), submit);
    String demo = run(Fleet.commandLine(), "demo", "--help").out();
    assertTrue(demo.contains("--request") && demo.contains("datasets/requests/demo-odd-classes.json"), demo);
  }

  @Test
  void helpWinsOverAMissingParameterAndRunsNothing() {
    // `status` needs a job; with --help it must not ask for one, nor reach for a broker
    Run r = run(Fleet.commandLine(), "status", "--help");
    assertEquals(0, r.code(), r.err());
    assertFalse(r.out().contains("Missing required parameter"), r.out());
  }

  @Test
  void anUnknownOptionIsStillAUsageError() {
    Run r = run(Fleet.commandLine(), "models", "--no-such-option");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Unknown option: '--no-such-option'"), r.err());
  }
}
