package io.tunefleet.ml.train;

import java.util.Locale;

/**
 * The factor applied to every group's base learning rate in an epoch: a linear warm-up over
 * {@code warmupEpochs}, then cosine decay to zero over the remaining planned epochs, a step decay
 * ({@code gamma} every {@code stepEpochs}), or constant.
 */
public record LearningRateSchedule(Kind kind, int epochs, int warmupEpochs, int stepEpochs, double gamma) {
  /** The shape of the schedule. */
  public enum Kind {
    COSINE, STEP, CONSTANT;

    public static Kind parse(String name) {
      return valueOf(name.toUpperCase(Locale.ROOT));
    }
  }

  public static LearningRateSchedule cosine(int epochs) {
    return new LearningRateSchedule(Kind.COSINE, epochs, 0, 1, 1);
  }

  public double factor(int epoch) {
    if (epoch < warmupEpochs) {
      return (epoch + 1.0) / (warmupEpochs + 1.0);
    }
    int e = epoch - warmupEpochs;
    int span = Math.max(1, epochs - warmupEpochs);
    return switch (kind) {
      case COSINE -> span <= 1 ? 1.0 : 0.5 * (1 + Math.cos(Math.PI * e / span));
      case STEP -> Math.pow(gamma, e / Math.max(1, stepEpochs));
      case CONSTANT -> 1.0;
    };
  }
}
