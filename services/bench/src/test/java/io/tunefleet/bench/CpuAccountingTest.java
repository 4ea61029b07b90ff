package io.tunefleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuAccountingTest {
  /** A thread name with spaces and parentheses, as /proc prints it; utime 1200 and stime 34 (fields 14, 15). */
  static final String STAT = "4711 (kafka-producer (x)) S 1 4711 4711 0 -1 4194368 531 0 0 0 1200 34 0 0 20 0 42 0 500 "
      + "4000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

  @Test
  void readsTheNameAndTheTicksOfAStatLine() {
    assertEquals("kafka-producer (x)", CpuAccounting.comm(STAT));
    assertEquals(1234, CpuAccounting.ticks(STAT));
    assertEquals(150 + 7, CpuAccounting.idle("cpu  100 0 50 150 7 0 3 0 0 0"));
  }

  @Test
  void groupsTheFleetsThreadsByWhatTheyDo() {
    assertEquals(CpuAccounting.LIBTORCH, CpuAccounting.group("torch"));
    assertEquals(CpuAccounting.JIT, CpuAccounting.group("C2 CompilerThre"));
    assertEquals(CpuAccounting.GC_AND_VM, CpuAccounting.group("G1 Refine#0"));
    assertEquals(CpuAccounting.AUGMENTER, CpuAccounting.group("data-augmenter-"));
    assertEquals(CpuAccounting.KAFKA_CLIENTS, CpuAccounting.group("kafka-producer-"));
    assertEquals(CpuAccounting.KAFKA_CLIENTS, CpuAccounting.group("trainer-consume"));
    assertEquals(CpuAccounting.OTHER, CpuAccounting.group("vert.x-eventloo"));
  }

  @Test
  void coresPerGroupCountEndedThreadsFromTheProcessTotal() {
    var from = new CpuAccounting.Snapshot(0, Map.of(1, new CpuAccounting.Snapshot.Task("torch", 100),
        2, new CpuAccounting.Snapshot.Task("C2 CompilerThre", 10), 3, new CpuAccounting.Snapshot.Task("gone", 5)), 115, 40, 1000);
    // two seconds later: torch used 1.8 cores, the compiler 0.05, a new Kafka thread 0.1, one thread ended
    // after 0.02 more; the broker 0.05, the machine idle 0.03 (of its 2 cores)
    var to = new CpuAccounting.Snapshot(2000, Map.of(1, new CpuAccounting.Snapshot.Task("torch", 460),
        2, new CpuAccounting.Snapshot.Task("C2 CompilerThre", 20), 4, new CpuAccounting.Snapshot.Task("kafka-coordinat", 20)),
        115 + 360 + 10 + 20 + 4, 50, 1006);
    Map<String, Double> cores = CpuAccounting.cores(from, to);
    assertEquals(1.8, cores.get(CpuAccounting.LIBTORCH), 1e-9);
    assertEquals(0.05, cores.get(CpuAccounting.JIT), 1e-9);
    assertEquals(0.1, cores.get(CpuAccounting.KAFKA_CLIENTS), 1e-9);
    assertEquals(0.02, cores.get(CpuAccounting.ENDED), 1e-9);
    assertEquals(0.05, cores.get(CpuAccounting.BROKER), 1e-9);
    assertEquals(0.03, cores.get(CpuAccounting.IDLE), 1e-9);
  }

  @Test
  void thisJvmIsMeasurable() throws Exception {
    assumeTrue(CpuAccounting.available(), "needs Linux /proc");
    CpuAccounting.Snapshot s = CpuAccounting.take(-1);
    assertTrue(s.process() > 0 && !s.threads().isEmpty(), s.toString());
    assertTrue(s.threads().values().stream().anyMatch(t -> List.of("main", "java").contains(t.comm())), s.threads().toString());
  }
}
