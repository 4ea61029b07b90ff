package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a script under Debian's {@code /usr/bin/python3} (torch 1.13, torchvision 0.14, PIL); skips the test without them. */
public final class DebianPython {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  private DebianPython() {}

  /** Skips the calling test (with the reason) unless {@code /usr/bin/python3} can import {@code modules}. */
  public static void assumeModules(String... modules) throws Exception {
    assumeTrue(Files.isExecutable(PYTHON), "Debian's /usr/bin/python3 is not installed");
    Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import " + String.join(", ", modules))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assumeTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0,
        "/usr/bin/python3 lacks " + String.join(", ", modules) + " (apt install python3-torchvision python3-pil): " + out.trim());
  }

  /** Runs {@code script} with {@code args}; fails the test with its output when it exits non-zero. */
  public static String run(Path dir, String script, String... args) throws IOException, InterruptedException {
    Path file = dir.resolve("script.py");
    Files.writeString(file, script);
    List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), file.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("python failed:\n" + out);
    }
    return out;
  }
}
