package io.tunefleet.common.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A replica as the services' image runs it: a child JVM with the Dockerfile's own {@code JAVA_TOOL_OPTIONS}
 * ({@code -XX:+ExitOnOutOfMemoryError} among them) and a given heap, running a test class's {@code main}. The
 * OutOfMemoryError tests of the data-augmenter and the evaluator restart it on the same record, as Kubernetes would.
 */
public final class ContainerReplica {
  /** How one replica ended: its exit status and everything it printed. */
  public record Exit(int status, String output) {}

  private ContainerReplica() {}

  /** The JVM flags the Dockerfile gives the services (JAVA_TOOL_OPTIONS); it must exit on OutOfMemoryError. */
  public static List<String> imageJvmFlags() throws Exception {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("Dockerfile"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no Dockerfile above " + Path.of("").toAbsolutePath());
    }
    Matcher m = Pattern.compile("JAVA_TOOL_OPTIONS=\"([^\"]*)\"").matcher(Files.readString(dir.resolve("Dockerfile")));
    if (!m.find()) {
      throw new IllegalStateException("the Dockerfile sets no JAVA_TOOL_OPTIONS");
    }
    List<String> flags = Arrays.asList(m.group(1).trim().split("\\s+"));
    if (!flags.contains("-XX:+ExitOnOutOfMemoryError")) {
      throw new IllegalStateException("the image no longer exits on OutOfMemoryError: " + flags);
    }
    return flags;
  }

  /** Runs {@code main} of {@code mainClass} with {@code args} in a child JVM with the image's flags and {@code heap}. */
  public static Exit run(Class<?> mainClass, String heap, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(imageJvmFlags());
    cmd.add("-Xmx" + heap);
    cmd.add("-Dai.djl.offline=true");
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("the replica did not end in 180 s:\n" + out);
    }
    return new Exit(p.exitValue(), out);
  }
}
