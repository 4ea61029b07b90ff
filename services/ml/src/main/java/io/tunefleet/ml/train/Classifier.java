package io.tunefleet.ml.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import java.util.Map;

/**
 * A trained network used for inference only (evaluation, teacher logits, classifying an image):
 * BatchNorm in inference mode, Dropout off, no gradients recorded.
 */
public final class Classifier implements AutoCloseable {
  private final Model model;
  private final ResNet net;
  private final ParameterStore store;
  private final Normalization normalization;

  private Classifier(Architecture architecture, int imageSize, Normalization normalization, Map<String, NDArray> weights,
      Device device) {
    this.normalization = normalization;
    GradMode.offOnThisThread();
    this.model = Model.newInstance("classifier", device);
    this.net = ResNets.build(architecture, model.getNDManager(), imageSize);
    model.setBlock(net);
    for (Map.Entry<String, Parameter> e : ParameterNames.of(net).entrySet()) {
      NDArray src = weights.get(e.getKey());
      if (src == null || !src.getShape().equals(e.getValue().getArray().getShape())) {
        throw new IllegalArgumentException("model file does not match " + ResNets.name(architecture) + " at " + e.getKey());
      }
      e.getValue().getArray().set(src.toByteBuffer());
    }
    net.freezeParameters(true);
    this.store = new ParameterStore(model.getNDManager(), false);
  }

  /** Loads a fleet model or checkpoint file (its manifest names the architecture and the input normalisation). */
  public static Classifier load(byte[] modelFile, int imageSize, Device device) throws java.io.IOException {
    try (NDManager tmp = NDManager.newBaseManager(device)) {
      ModelFile.Contents c = ModelFile.decode(modelFile, tmp);
      return new Classifier(c.manifest().getArchitecture(), imageSize, Normalization.fromId(c.manifest().getNormalization()),
          c.weights(), device);
    }
  }

  /** How this classifier turns pixels into inputs. */
  public Normalization normalization() {
    return normalization;
  }

  /**
   * A classifier from weights by torchvision name (e.g. an imported base model), BatchNorm running statistics included,
   * for inputs normalised with {@code normalization}.
   */
  public static Classifier of(Architecture architecture, int imageSize, Normalization normalization,
      Map<String, NDArray> weights, Device device) {
    return new Classifier(architecture, imageSize, normalization, weights, device);
  }

  public ResNet net() {
    return net;
  }

  public NDManager manager() {
    return model.getNDManager();
  }

  /** Logits (N, K) for {@code batch}, attached to {@code scope}. */
  public NDArray logits(NDManager scope, ImageBatch batch) {
    GradMode.offOnThisThread();
    return net.forward(store, new NDList(Tensors.images(scope, batch, normalization)), false).singletonOrThrow();
  }

  /** Penultimate features (N, C) for {@code batch}, attached to {@code scope}. */
  public NDArray features(NDManager scope, ImageBatch batch) {
    GradMode.offOnThisThread();
    return net.features(store, Tensors.images(scope, batch, normalization), false);
  }

  /** Input pixels (per channel) one scoring pass may take: 2^21, 256 images of 90 x 90 px, 41 of 224 x 224 px. */
  public static final long PASS_PIXELS = 1L << 21;

  /**
   * Images per forward pass when scoring images of {@code height} x {@code width}: at most 256, and at most
   * {@link #PASS_PIXELS} pixels. A pass's activations live until its scope closes (DJL frees them all at once):
   * 256 images of 224 px keep about 1.9 GB of them alive with a ResNet-10 of width 16, more native memory than the
   * evaluator's container has beside its heap (`fleet bench-photo-memory`).
   */
  public static int imagesPerPass(int height, int width) {
    return (int) Math.max(1, Math.min(256, PASS_PIXELS / ((long) height * width)));
  }

  /** Confusion matrix and mean cross-entropy over {@code data}, in passes of {@link #imagesPerPass}. */
  public ConfusionMatrix evaluate(ImageBatch data) {
    return evaluate(data, imagesPerPass(data.height(), data.width()));
  }

  /** {@link #evaluate(ImageBatch)} added into {@code cm}: a split read shard by shard. */
  public ConfusionMatrix evaluate(ImageBatch data, ConfusionMatrix cm) {
    return evaluate(data, imagesPerPass(data.height(), data.width()), cm);
  }

  /** Confusion matrix and mean cross-entropy over {@code data}, in chunks of {@code batchSize}. */
  public ConfusionMatrix evaluate(ImageBatch data, int batchSize) {
    return evaluate(data, batchSize, new ConfusionMatrix(net.architecture().getNumClasses()));
  }

  /** {@link #evaluate(ImageBatch, int)} added into {@code cm}: a split read shard by shard. */
  public ConfusionMatrix evaluate(ImageBatch data, int batchSize, ConfusionMatrix cm) {
    for (int from = 0; from < data.size(); from += batchSize) {
      ImageBatch chunk = data.slice(from, Math.min(data.size(), from + batchSize));
      try (NDManager scope = manager().newSubManager()) {
        NDArray logits = logits(scope, chunk);
        int[] predicted = logits.argMax(1).toType(DataType.INT32, false).toIntArray();
        cm.add(chunk.labels(), predicted);
        NDArray y = scope.create(chunk.labels()).toType(DataType.INT64, false)
            .oneHot((int) logits.getShape().get(1)).toType(DataType.FLOAT32, false);
        double loss = y.mul(logits.logSoftmax(1)).sum().neg().getFloat();
        cm.addLoss(loss, chunk.size());
      }
    }
    return cm;
  }

  /**
   * Cross-entropy loss of every image of {@code data} (curriculum difficulty), in order, in passes of
   * {@link #imagesPerPass}.
   */
  public float[] losses(ImageBatch data) {
    return losses(data, imagesPerPass(data.height(), data.width()));
  }

  /** Cross-entropy loss of every image of {@code data}, in order, in chunks of {@code batchSize}. */
  public float[] losses(ImageBatch data, int batchSize) {
    float[] out = new float[data.size()];
    for (int from = 0; from < data.size(); from += batchSize) {
      ImageBatch chunk = data.slice(from, Math.min(data.size(), from + batchSize));
      try (NDManager scope = manager().newSubManager()) {
        NDArray logits = logits(scope, chunk);
        NDArray y = scope.create(chunk.labels()).toType(DataType.INT64, false)
            .oneHot((int) logits.getShape().get(1)).toType(DataType.FLOAT32, false);
        float[] l = y.mul(logits.logSoftmax(1)).sum(new int[] {1}).neg().toFloatArray();
        System.arraycopy(l, 0, out, from, l.length);
      }
    }
    return out;
  }

  public long parameterCount() {
    return ParameterNames.countTrainable(net);
  }

  @Override
  public void close() {
    model.close();
  }
}
