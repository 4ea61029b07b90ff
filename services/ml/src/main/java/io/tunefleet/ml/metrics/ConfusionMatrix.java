package io.tunefleet.ml.metrics;

import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.Metrics;
import java.util.List;

/**
 * Counts of (true class, predicted class) and the classification metrics derived from them:
 * accuracy, per-class precision/recall/F1 and macro-F1 (the unweighted mean of per-class F1,
 * counting a class with no support and no predictions as F1 = 0 only if it has support).
 */
public final class ConfusionMatrix {
  private final int numClasses;
  private final long[] counts;
  private double lossSum;
  private long lossCount;

  public ConfusionMatrix(int numClasses) {
    if (numClasses < 2) {
      throw new IllegalArgumentException("need at least 2 classes, was " + numClasses);
    }
    this.numClasses = numClasses;
    this.counts = new long[numClasses * numClasses];
  }

  public void add(int trueClass, int predictedClass) {
    counts[trueClass * numClasses + predictedClass]++;
  }

  public void add(int[] trueClasses, int[] predictedClasses) {
    for (int i = 0; i < trueClasses.length; i++) {
      add(trueClasses[i], predictedClasses[i]);
    }
  }

  /** Adds a batch's summed loss over {@code n} samples, for the mean validation loss. */
  public void addLoss(double summedLoss, long n) {
    lossSum += summedLoss;
    lossCount += n;
  }

  public long count(int trueClass, int predictedClass) {
    return counts[trueClass * numClasses + predictedClass];
  }

  public long total() {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    return n;
  }

  /** Mean cross-entropy over the samples whose loss was added; 0 when none was. */
  public double meanLoss() {
    return lossCount == 0 ? 0 : lossSum / lossCount;
  }

  public double accuracy() {
    long correct = 0;
    for (int c = 0; c < numClasses; c++) {
      correct += count(c, c);
    }
    long n = total();
    return n == 0 ? 0 : (double) correct / n;
  }

  public double precision(int c) {
    long predicted = 0;
    for (int t = 0; t < numClasses; t++) {
      predicted += count(t, c);
    }
    return predicted == 0 ? 0 : (double) count(c, c) / predicted;
  }

  public long support(int c) {
    long n = 0;
    for (int p = 0; p < numClasses; p++) {
      n += count(c, p);
    }
    return n;
  }

  public double recall(int c) {
    long support = support(c);
    return support == 0 ? 0 : (double) count(c, c) / support;
  }

  public double f1(int c) {
    double p = precision(c);
    double r = recall(c);
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  /** Mean F1 over the classes present in the data (support > 0), as scikit-learn's labels=present. */
  public double macroF1() {
    double sum = 0;
    int classes = 0;
    for (int c = 0; c < numClasses; c++) {
      if (support(c) > 0) {
        sum += f1(c);
        classes++;
      }
    }
    return classes == 0 ? 0 : sum / classes;
  }

  public Metrics toProto(List<String> classNames) {
    Metrics.Builder m = Metrics.newBuilder()
        .setAccuracy(accuracy())
        .setMacroF1(macroF1())
        .setLoss(meanLoss())
        .setNumClasses(numClasses)
        .setSamples(total());
    for (int c = 0; c < numClasses; c++) {
      m.addPerClass(ClassMetrics.newBuilder()
          .setLabel(c)
          .setName(c < classNames.size() ? classNames.get(c) : Integer.toString(c))
          .setPrecision(precision(c))
          .setRecall(recall(c))
          .setF1(f1(c))
          .setSupport(support(c)));
    }
    for (long count : counts) {
      m.addConfusion(count);
    }
    return m.build();
  }
}
