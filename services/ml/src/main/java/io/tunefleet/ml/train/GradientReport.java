package io.tunefleet.ml.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Gradient health of one step: mean |gradient| per stage (trainable ones), the head/backbone ratio and,
 * per residual block, |dL/d input| / |dL/d output| — near 1 when the skip connection carries the signal,
 * small when gradients vanish on their way down.
 */
public record GradientReport(Map<String, Double> meanAbsByStage, double headBackboneRatio,
    Map<String, Double> residualRatio) {
  /** Healthy ranges (from the recipe): residual ratio at least 0.1, head/backbone within 1..3. */
  public static final double MIN_RESIDUAL_RATIO = 0.1;
  public static final double MIN_HEAD_BACKBONE = 1.0;
  public static final double MAX_HEAD_BACKBONE = 3.0;

  /** The ratios outside their healthy range, in words. */
  public List<String> warnings() {
    List<String> w = new ArrayList<>();
    residualRatio.forEach((block, r) -> {
      if (r < MIN_RESIDUAL_RATIO) {
        w.add(String.format(Locale.ROOT, "residual gradient ratio of %s is %.3f (< %.1f): gradients vanish", block, r,
            MIN_RESIDUAL_RATIO));
      }
    });
    if (headBackboneRatio > 0 && (headBackboneRatio < MIN_HEAD_BACKBONE || headBackboneRatio > MAX_HEAD_BACKBONE)) {
      w.add(String.format(Locale.ROOT, "head/backbone gradient ratio is %.2f (healthy: %.0f..%.0f)", headBackboneRatio,
          MIN_HEAD_BACKBONE, MAX_HEAD_BACKBONE));
    }
    return w;
  }
}
