package io.tunefleet.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {
  /**
   * A `fleet bench` run lost its third round to this: the OS gave the broker's controller listener the port it had
   * just given its client listener, and Kafka refused to start ("Each listener must have a different port").
   */
  @Test
  void theControllerPortIsNeverTheClientPort() {
    Iterator<Integer> offered = List.of(41199, 41199, 41200).iterator();
    assertEquals(41200, EmbeddedKafka.portOtherThan(41199, offered::next));
    assertThrows(IllegalStateException.class, () -> EmbeddedKafka.portOtherThan(41199, () -> 41199));
  }

  @Test
  void aBrokerThatCannotStartSaysWhyFromItsLog(@TempDir Path dir) {
    EmbeddedKafka broker = new EmbeddedKafka(dir, 0, 1).brokerProperty("num.network.threads", "zero");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, broker::start);
    assertTrue(e.getMessage().startsWith("cannot start the embedded Kafka broker: "), e.getMessage());
    assertTrue(e.getMessage().contains("num.network.threads"), "the broker's own reason: " + e.getMessage());
    broker.stop();
  }

  @Test
  void aClassPathWithoutTheBrokerJarsIsRefusedNamingTheJarAndTheWayOut() throws IOException {
    EmbeddedKafka.requireBrokerJars(ClassLoader.getSystemClassLoader()); // this module's tests carry the broker
    try (URLClassLoader servicesOnly = new URLClassLoader(new URL[0], null)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> EmbeddedKafka.requireBrokerJars(servicesOnly));
      assertTrue(e.getMessage().contains("org.apache.kafka:kafka_2.13"), e.getMessage());
      assertTrue(e.getMessage().contains("FLEET_BOOTSTRAP_SERVERS"), e.getMessage());
    }
  }

  @Test
  void lastErrorSkipsTheStackTrace(@TempDir Path dir) throws IOException {
    Path log = dir.resolve("broker.log");
    Files.writeString(log, "06:30:08.828 ERROR Kafka$ -  FATAL Exiting Kafka due to fatal exception\n"
        + "java.lang.IllegalArgumentException: requirement failed: Each listener must have a different port\n"
        + "\tat scala.Predef$.require(Predef.scala:337)\n\tat kafka.Kafka.main(Kafka.scala)\n\n");
    assertEquals(": java.lang.IllegalArgumentException: requirement failed: Each listener must have a different port",
        EmbeddedKafka.lastError(log));
    assertEquals("", EmbeddedKafka.lastError(dir.resolve("missing.log")));
  }
}
