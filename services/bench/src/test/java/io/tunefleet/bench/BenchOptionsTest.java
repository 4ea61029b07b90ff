package io.tunefleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `fleet bench`, `fleet bench-neighbours` and `fleet bench-augment` refuse options that leave nothing to measure, before they start anything. */
class BenchOptionsTest {
  private static String refusal(String... args) {
    return refusal(new Bench(), args);
  }

  private static String refusal(Object command, String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(command).setErr(new PrintWriter(err));
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

  @Test
  void neighboursBenchRefusesPhasesTooShortToTimeAChunk() {
    assertTrue(refusal(new NeighbourBench(), "--cycles", "0").contains("--cycles must be at least 1, was 0"));
    assertTrue(refusal(new NeighbourBench(), "--phase-seconds", "1").contains("--phase-seconds must be at least 2"));
    assertTrue(refusal(new NeighbourBench(), "--warmup-seconds", "-1").contains("--warmup-seconds must not be negative"));
  }

  @Test
  void augmentBenchRefusesUnknownOpsNamingTheKnownOnes() {
    String err = refusal(new AugmentBench(), "--ops", "HorizontalFlip,Sharpen");
    assertTrue(err.contains("--ops: unknown [Sharpen]; one of [HorizontalFlip, VerticalFlip"), err);
    assertTrue(refusal(new AugmentBench(), "--rounds", "0").contains("--rounds must be at least 1, was 0"));
    assertTrue(refusal(new AugmentBench(), "--seconds", "0").contains("--seconds must be positive"));
  }

  @Test
  void thePenaltyIsTheRunningMedianOverTheFrozenOne() {
    NeighbourBench.PhaseTimes t = new NeighbourBench.PhaseTimes();
    for (double ms : new double[] {30, 31, 90, 32}) {
      t.add(false, ms);
    }
    for (double ms : new double[] {33, 34, 35}) {
      t.add(true, ms);
    }
    assertEquals(34.0 / 31.5 - 1, t.penalty(), 1e-12);
    NeighbourBench.PhaseTimes empty = new NeighbourBench.PhaseTimes();
    empty.add(true, 1);
    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, empty::penalty);
    assertTrue(e.getMessage().contains("--phase-seconds"), e.getMessage());
  }

  @Test
  void photoBenchRefusesNothingToMeasure() {
    assertTrue(refusal(new PhotoBench(), "--threads", "0").contains("--threads"));
    assertTrue(refusal(new PhotoBench(), "--rounds", "0").contains("must be positive"));
  }
}
