package io.tunefleet.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tunefleet.ml.data.EpochSampler;
import io.tunefleet.ml.data.IdxReader;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.data.StratifiedSplit;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch twin of `fleet parity` (bench/pytorch_twin.py, Debian's python3-torch) against the fleet's own code:
 * the images and labels its --make-data takes from Fashion-MNIST, its port of StratifiedSplit and its port of
 * EpochSampler's order (Java's SplittableRandom, bit for bit), which --fleet-streams relies on.
 */
class PyTorchTwinTest {
  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final List<Integer> ODD = List.of(1, 3, 5, 7, 9);

  @TempDir Path data;

  private static Path repository() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("bench/pytorch_twin.py"))) {
        return p;
      }
    }
    throw new IllegalStateException("no bench/pytorch_twin.py above " + Path.of("").toAbsolutePath());
  }

  private static String python(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(PYTHON.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(repository().toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the twin ended");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
    return out;
  }

  private static boolean torchInstalled() throws Exception {
    if (!Files.isExecutable(PYTHON)) {
      return false;
    }
    Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import torch, torchvision").redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  @Test
  void makeDataTakesTheFleetsImagesAndSplitsAndTheOrderPortIsTheFleets() throws Exception {
    assumeTrue(torchInstalled(), "Debian's python3-torch and python3-torchvision are not installed (.ci/run installs them)");
    python("bench/pytorch_twin.py", "--make-data", data.toString(), "--seeds", "0,3");
    Path fm = repository().resolve("datasets/fashion-mnist");
    LabeledImages fleet = IdxReader.read(fm.resolve("train-images-idx3-ubyte.gz"), fm.resolve("train-labels-idx1-ubyte.gz"),
        ODD, List.of(), 100);
    byte[] labels = Files.readAllBytes(data.resolve("train-labels.u8"));
    byte[] pixels = Files.readAllBytes(data.resolve("train-images.u8"));
    assertEquals(fleet.size(), labels.length, "the first 100 images of each odd class");
    int area = fleet.height() * fleet.width();
    for (int i = 0; i < fleet.size(); i++) {
      assertEquals(fleet.labels()[i], labels[i], "label of image " + i);
      byte[] rgb = fleet.image(i).pixels();
      for (int k = 0; k < area; k++) {
        assertEquals(rgb[3 * k], pixels[i * area + k], "pixel " + k + " of image " + i);
      }
    }
    JsonObject splits = new JsonObject(Files.readString(data.resolve("meta.json"))).getJsonObject("splits");
    for (int seed : new int[] {0, 3}) {
      StratifiedSplit s = StratifiedSplit.of(fleet.labels(), ODD.size(), 0.1, seed);
      assertArrayEquals(s.train(), ints(splits.getJsonObject(Integer.toString(seed)).getJsonArray("train")), "seed " + seed);
      assertArrayEquals(s.validation(), ints(splits.getJsonObject(Integer.toString(seed)).getJsonArray("validation")));
    }
    // EpochSampler.order with uniform sampling depends only on the count, the epoch and the seed
    String orders = python("-c", "import sys, json; sys.path.insert(0, 'bench'); import pytorch_twin as t; "
        + "print(json.dumps([t.fleet_order(450, e, s) for s in (0, 3) for e in (0, 7)]))");
    JsonArray twin = new JsonArray(orders.trim());
    int i = 0;
    for (int seed : new int[] {0, 3}) {
      for (int epoch : new int[] {0, 7}) {
        assertArrayEquals(EpochSampler.order(new int[450], ODD.size(), epoch, seed, false), ints(twin.getJsonArray(i++)),
            "order of epoch " + epoch + ", seed " + seed);
      }
    }
  }

  private static int[] ints(JsonArray a) {
    return a.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
  }
}
