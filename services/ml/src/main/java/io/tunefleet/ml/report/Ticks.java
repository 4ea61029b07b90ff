package io.tunefleet.ml.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** "Nice" axis tick positions (1, 2, 5 × 10ᵏ steps) and their labels. */
record Ticks(double lo, double hi, double step, List<Double> values, boolean logarithmic) {

  /** Ticks spanning [min, max], widened to whole steps, about {@code target} of them. */
  static Ticks linear(double min, double max, int target) {
    double step = niceStep((max - min) / Math.max(1, target - 1));
    double lo = Math.floor(min / step) * step;
    double hi = Math.ceil(max / step) * step;
    List<Double> values = new ArrayList<>();
    // The size bound only matters for absurd ranges (near Double.MAX_VALUE), where steps lose precision.
    for (long i = Math.round(lo / step); i * step <= hi + step * 1e-9 && values.size() < 100; i++) {
      values.add(i * step);
    }
    return new Ticks(lo, hi, step, values, false);
  }

  /** Decades 10ᵏ covering [min, max] (both positive). */
  static Ticks decades(double min, double max) {
    int a = (int) Math.floor(Math.log10(min));
    int b = (int) Math.ceil(Math.log10(max));
    if (a == b) {
      b = a + 1;
    }
    List<Double> values = new ArrayList<>();
    for (int k = a; k <= b; k++) {
      values.add(Math.pow(10, k));
    }
    return new Ticks(Math.pow(10, a), Math.pow(10, b), 10, values, true);
  }

  static double niceStep(double raw) {
    if (!(raw > 0) || Double.isInfinite(raw)) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / magnitude;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * magnitude;
  }

  /** A label with as many decimals as the step needs; scientific for very small or large values. */
  String label(double v) {
    // A decade's label needs the decimals of the value itself, not of the (multiplicative) step.
    return format(v, logarithmic ? v : step);
  }

  static String format(double v, double step) {
    if (Math.abs(v) < step * 1e-6) {
      return "0";
    }
    double a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) {
      String s = String.format(Locale.ROOT, "%.1e", v);
      return s.replace(".0e", "e");
    }
    int decimals = (int) Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
