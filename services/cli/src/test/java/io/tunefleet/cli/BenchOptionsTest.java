package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `fleet bench` refuses a warm-up that leaves nothing to measure, before it starts anything. */
class BenchOptionsTest {
  private static String refusal(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Bench()).setErr(new PrintWriter(err));
    int code = cli.execute(args);
    assertEquals(2, code, "picocli's usage-error exit code, for " + String.join(" ", args) + ": " + err);
    return err.toString();
  }

  @Test
  void aWarmUpOfAllTheEpochsIsRefusedWithTheOptionsNamed() {
    String err = refusal("--epochs", "6", "--warmup-epochs", "6");
    assertTrue(err.contains("--warmup-epochs must be at least 1 and less than --epochs (6), was 6"), err);
    assertTrue(refusal("--warmup-epochs", "0").contains("was 0"));
    assertTrue(refusal("--rounds", "0").contains("--rounds must be at least 1, was 0"));
  }
}
