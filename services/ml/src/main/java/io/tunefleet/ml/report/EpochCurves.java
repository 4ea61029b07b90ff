package io.tunefleet.ml.report;

import io.tunefleet.ml.report.JobHistory.Epoch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The series and markers of a job's curves. Epochs are numbered per phase, so when a job has more
 * than one phase the x axis is the position in the history and each phase gets its own series.
 */
final class EpochCurves {
  private final List<Epoch> epochs;
  private final List<String> phases;
  private final double[] x;

  EpochCurves(List<Epoch> epochs) {
    this.epochs = epochs;
    Set<String> seen = new LinkedHashSet<>();
    epochs.forEach(e -> seen.add(e.phase()));
    this.phases = List.copyOf(seen);
    this.x = new double[epochs.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = phases.size() > 1 ? i + 1 : epochs.get(i).epoch();
    }
  }

  String xLabel() {
    return phases.size() > 1 ? "epoch (" + String.join(", then ", phases) + ")" : "epoch";
  }

  List<Plots.Series> loss() {
    return metric("train loss", Epoch::trainLoss);
  }

  List<Plots.Series> quality() {
    List<Plots.Series> all = new ArrayList<>();
    all.addAll(metric("train accuracy", Epoch::trainAccuracy));
    all.addAll(metric("val accuracy", Epoch::valAccuracy));
    all.addAll(metric("val macro-F1", Epoch::valMacroF1));
    return all;
  }

  /** One series per parameter group, in order of first appearance; NaN where a group is absent. */
  List<Plots.Series> learningRates() {
    Set<String> groups = new LinkedHashSet<>();
    epochs.forEach(e -> groups.addAll(e.learningRates().keySet()));
    List<Plots.Series> series = new ArrayList<>();
    for (String group : groups) {
      double[] y = new double[epochs.size()];
      for (int i = 0; i < y.length; i++) {
        Double v = epochs.get(i).learningRates().get(group);
        y[i] = v == null ? Double.NaN : v;
      }
      series.add(new Plots.Series(group, x, y));
    }
    return series;
  }

  /** Learning rates spanning more than a decade read better on a log axis. */
  Plots.Scale learningRateScale() {
    double lo = Double.POSITIVE_INFINITY;
    double hi = 0;
    for (Epoch e : epochs) {
      for (double v : e.learningRates().values()) {
        if (v > 0 && Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    return hi > 0 && hi / lo >= 10 ? Plots.Scale.LOG : Plots.Scale.LINEAR;
  }

  /** A marker between epochs where the phase changes. */
  List<Plots.Marker> phaseChanges() {
    return changes(false);
  }

  /** A marker between epochs where the phase or the unfreeze stage changes. */
  List<Plots.Marker> stageChanges() {
    return changes(true);
  }

  private List<Plots.Marker> changes(boolean stages) {
    List<Plots.Marker> markers = new ArrayList<>();
    for (int i = 1; i < epochs.size(); i++) {
      Epoch before = epochs.get(i - 1);
      Epoch now = epochs.get(i);
      List<String> what = new ArrayList<>();
      if (!now.phase().equals(before.phase())) {
        what.add(now.phase());
      }
      if (stages && now.unfreezeStage() != before.unfreezeStage()) {
        what.add("stage " + now.unfreezeStage());
      }
      if (!what.isEmpty()) {
        markers.add(new Plots.Marker((x[i - 1] + x[i]) / 2, String.join(", ", what)));
      }
    }
    return markers;
  }

  private List<Plots.Series> metric(String name, ToDoubleFunction<Epoch> value) {
    List<Plots.Series> series = new ArrayList<>();
    for (String phase : phases) {
      double[] y = new double[epochs.size()];
      Arrays.fill(y, Double.NaN);
      for (int i = 0; i < y.length; i++) {
        if (epochs.get(i).phase().equals(phase)) {
          y[i] = value.applyAsDouble(epochs.get(i));
        }
      }
      series.add(new Plots.Series(phases.size() > 1 ? name + " (" + phase + ")" : name, x, y));
    }
    return series;
  }
}
