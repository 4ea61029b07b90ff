package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded initialisation as torchvision's ResNet does it: convolutions Kaiming-normal (fan-out, ReLU
 * gain), BatchNorm scale 1 and shift 0, linear layers uniform in ±1/√fan-in. Drawn from a Java random
 * source seeded per job, so a run is reproducible whatever else the process trains at the same time
 * (libtorch's own generator is global to the process).
 */
public final class Initialization {
  private Initialization() {}

  public static void apply(ResNet net, long seed) {
    for (Map.Entry<String, Parameter> e : ParameterNames.of(net).entrySet()) {
      Parameter p = e.getValue();
      NDArray a = p.getArray();
      Shape s = a.getShape();
      int n = (int) s.size();
      float[] v = new float[n];
      // one stream per parameter name: adding a layer does not reshuffle the others
      SplittableRandom rng = new SplittableRandom(seed ^ (long) e.getKey().hashCode() * 0x9E3779B97F4A7C15L);
      switch (p.getType()) {
        case WEIGHT -> {
          if (s.dimension() == 4) {
            double std = Math.sqrt(2.0 / (s.get(0) * s.get(2) * s.get(3)));
            for (int i = 0; i < n; i++) {
              v[i] = (float) (gaussian(rng) * std);
            }
          } else {
            double bound = 1.0 / Math.sqrt(s.get(s.dimension() - 1));
            for (int i = 0; i < n; i++) {
              v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            }
          }
        }
        case GAMMA, RUNNING_VAR -> java.util.Arrays.fill(v, 1f);
        default -> {
          // BETA, RUNNING_MEAN and biases start at zero
        }
      }
      a.set(v);
    }
  }

  private static double gaussian(SplittableRandom rng) {
    // Box–Muller: SplittableRandom has no nextGaussian on Java 17
    double u = 1.0 - rng.nextDouble();
    double w = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
  }
}
