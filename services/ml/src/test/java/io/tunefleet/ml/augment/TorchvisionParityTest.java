package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The input pipeline's geometry against torchvision 0.14 itself ({@code transforms.functional} on uint8 tensors,
 * bilinear, {@code antialias=True}): for fixed photos and a fixed crop box, resize of the shorter side + centre
 * crop and {@code resized_crop} agree within one grey level on at least 99% of the pixels.
 */
class TorchvisionParityTest {
  private static final String SCRIPT = """
      import sys, numpy as np, torch
      import torchvision.transforms.functional as F
      from torchvision.transforms import InterpolationMode
      rng = np.random.default_rng(7)
      for name, (h, w) in {"a": (137, 211), "b": (300, 180), "c": (50, 61), "d": (400, 400)}.items():
          yy, xx = np.mgrid[0:h, 0:w]
          base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 7) % 256], -1)
          img = np.clip(base + rng.integers(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)
          img.tofile(f"{name}.in")
          t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
          r = F.resize(t, 73, interpolation=InterpolationMode.BILINEAR, antialias=True)
          e = F.center_crop(r, 64)
          e.permute(1, 2, 0).contiguous().numpy().tofile(f"{name}.eval")
          top, left, ch, cw = h // 7, w // 5, h // 2, (w * 2) // 3
          c = F.resized_crop(t, top, left, ch, cw, [64, 64], interpolation=InterpolationMode.BILINEAR, antialias=True)
          c.permute(1, 2, 0).contiguous().numpy().tofile(f"{name}.crop")
      """;

  @Test
  void resizeCentreCropAndResizedCropMatchTorchvision(@TempDir Path dir) throws Exception {
    DebianPython.assumeModules("torch", "torchvision", "numpy");
    DebianPython.run(dir, SCRIPT);
    InputPipeline pipeline = new InputPipeline(64, InputPipeline.TrainCrop.RANDOM_RESIZED_CROP, false);
    assertEquals(73, pipeline.resizeSize());
    for (var c : List.of(new int[] {'a', 137, 211}, new int[] {'b', 300, 180}, new int[] {'c', 50, 61}, new int[] {'d', 400, 400})) {
      String name = String.valueOf((char) c[0]);
      int h = c[1];
      int w = c[2];
      ImageU8 in = new ImageU8(h, w, 3, Files.readAllBytes(dir.resolve(name + ".in")));
      assertClose(Files.readAllBytes(dir.resolve(name + ".eval")), pipeline.evaluation(in), name + " resize + centre crop");
      ImageU8 crop = AntialiasedResize.resize(in, h / 7, w / 5, h / 2, (w * 2) / 3, 64, 64);
      assertClose(Files.readAllBytes(dir.resolve(name + ".crop")), crop, name + " resized crop");
    }
  }

  private static void assertClose(byte[] expected, ImageU8 actual, String what) {
    assertEquals(64, actual.height(), what);
    assertEquals(64, actual.width(), what);
    assertEquals(expected.length, actual.pixels().length, what);
    int within = 0;
    int worst = 0;
    for (int i = 0; i < expected.length; i++) {
      int d = Math.abs((expected[i] & 0xFF) - (actual.pixels()[i] & 0xFF));
      worst = Math.max(worst, d);
      if (d <= 1) {
        within++;
      }
    }
    double fraction = within / (double) expected.length;
    System.out.printf("torchvision parity | %s | %.4f within 1 grey level | worst %d%n", what, fraction, worst);
    assertTrue(fraction >= 0.99, what + ": only " + fraction + " of the pixels within 1 grey level (worst " + worst + ")");
  }
}
