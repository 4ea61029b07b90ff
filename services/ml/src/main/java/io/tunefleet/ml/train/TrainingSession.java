package io.tunefleet.ml.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.model.ChannelBatchNorm;
import io.tunefleet.ml.model.Initialization;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.ModelManifest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One network being trained: a {@link ResNet} with a parameter group per stage (stem, layer1..layer4,
 * head, each with its own learning rate; no weight decay on BatchNorm and biases), a {@link LayerwiseSgd},
 * a loss, an {@link UnfreezeSchedule} and a {@link LearningRateSchedule}. Saves and restores everything a
 * resumed run needs (weights, running statistics, momentum), and reports gradient health on request.
 */
public final class TrainingSession implements AutoCloseable {
  /**
   * The optimisation recipe of a session. {@code stageLr} overrides the learning rate of single stages
   * (keys from {@link ResNet#STAGES}); the others use {@code lrHead} or {@code lrBackbone}.
   */
  public record Config(float lrHead, float lrBackbone, Map<String, Float> stageLr, float momentum, float weightDecay,
      Loss loss, UnfreezeSchedule unfreeze, LearningRateSchedule schedule) {
    public Config(float lrHead, float lrBackbone, float momentum, float weightDecay, Loss loss, UnfreezeSchedule unfreeze,
        int epochs) {
      this(lrHead, lrBackbone, Map.of(), momentum, weightDecay, loss, unfreeze, LearningRateSchedule.cosine(epochs));
    }

    float learningRate(String stage) {
      return stageLr.getOrDefault(stage, stage.equals("head") ? lrHead : lrBackbone);
    }
  }

  private final Model model;
  private final ResNet net;
  private final Trainer trainer;
  private final LayerwiseSgd optimizer;
  private final Config config;
  private final Map<String, Parameter> named;
  private final Map<String, LayerwiseSgd.Group> groupOf = new LinkedHashMap<>();
  private int epoch = -1;
  private int stage;
  private final int imageSize;
  private final Normalization normalization;

  private TrainingSession(Architecture architecture, int imageSize, Normalization normalization, Config config,
      Device device, long seed) {
    this.config = config;
    this.imageSize = imageSize;
    this.normalization = normalization;
    this.model = Model.newInstance("fleet", device);
    this.net = ResNets.build(architecture, model.getNDManager(), imageSize);
    GradMode.offOnThisThread();
    Initialization.apply(net, seed);
    model.setBlock(net);
    this.named = ParameterNames.of(net);
    LayerwiseSgd.Builder sgd = LayerwiseSgd.builder().optMomentum(config.momentum());
    Map<String, LayerwiseSgd.Group> groups = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      Parameter p = e.getValue();
      String stage = stageOf(e.getKey());
      // BatchNorm scales/shifts and biases are not decayed (standard practice; decaying them hurts)
      boolean noDecay = p.getType() == Parameter.Type.GAMMA || p.getType() == Parameter.Type.BETA
          || p.getType() == Parameter.Type.BIAS;
      String key = stage + (noDecay ? "/no-decay" : "");
      LayerwiseSgd.Group g = groups.computeIfAbsent(key,
          k -> new LayerwiseSgd.Group(stage, config.learningRate(stage), noDecay ? 0f : config.weightDecay()));
      groupOf.put(e.getKey(), g);
      sgd.setGroup(p.getId(), g);
    }
    this.optimizer = sgd.build();
    this.trainer = model.newTrainer(new DefaultTrainingConfig(config.loss()).optOptimizer(optimizer).optDevices(new Device[] {device}));
  }

  /** A fresh network of {@code architecture} for inputs of {@code imageSize} px, initialised from seed 0. */
  public static TrainingSession create(Architecture architecture, int imageSize, Config config, Device device) {
    return create(architecture, imageSize, config, device, 0);
  }

  /** A fresh network, initialised (torchvision's scheme) from {@code seed}: the same seed, the same weights. */
  public static TrainingSession create(Architecture architecture, int imageSize, Config config, Device device, long seed) {
    return create(architecture, imageSize, Normalization.HALF, config, device, seed);
  }

  /** A fresh network whose inputs are normalised with {@code normalization} (recorded in every file it saves). */
  public static TrainingSession create(Architecture architecture, int imageSize, Normalization normalization, Config config,
      Device device, long seed) {
    return new TrainingSession(architecture, imageSize, normalization, config, device, seed);
  }

  public Normalization normalization() {
    return normalization;
  }

  public ResNet net() {
    return net;
  }

  public NDManager manager() {
    return model.getNDManager();
  }

  public LayerwiseSgd optimizer() {
    return optimizer;
  }

  /** Parameters by torchvision name. */
  public Map<String, Parameter> parameters() {
    return named;
  }

  public LayerwiseSgd.Group groupOf(String parameterName) {
    return groupOf.get(parameterName);
  }

  /** The stage ({@link ResNet#STAGES}) a parameter belongs to, from its torchvision name. */
  public static String stageOf(String parameterName) {
    if (parameterName.startsWith("fc.")) {
      return "head";
    }
    if (parameterName.startsWith("layer")) {
      return parameterName.substring(0, parameterName.indexOf('.'));
    }
    return "stem";
  }

  /** The current learning rate of each stage's group. */
  public Map<String, Double> learningRates() {
    Map<String, Double> lrs = new LinkedHashMap<>();
    for (String stage : ResNet.STAGES) {
      lrs.put(stage, (double) optimizer.learningRate(new LayerwiseSgd.Group(stage, config.learningRate(stage), 0)));
    }
    return lrs;
  }

  /**
   * Copies the backbone (everything but the head {@code fc.*}) from a base model. Every backbone
   * parameter must be present with the same shape: a partial copy would silently train a different model.
   *
   * @return the number of tensors copied
   */
  public int initBackboneFrom(Map<String, NDArray> weights) {
    GradMode.offOnThisThread();
    int copied = 0;
    List<String> problems = new ArrayList<>();
    List<String> nonFinite = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      if (e.getKey().startsWith("fc.")) {
        continue;
      }
      NDArray src = weights.get(e.getKey());
      NDArray dst = e.getValue().getArray();
      if (src == null) {
        problems.add(e.getKey() + " missing");
      } else if (!src.getShape().equals(dst.getShape())) {
        problems.add(e.getKey() + " has shape " + src.getShape() + ", expected " + dst.getShape());
      } else if (!allFinite(src)) {
        nonFinite.add(e.getKey());
      } else {
        dst.set(src.toType(dst.getDataType(), false).toByteBuffer());
        copied++;
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("base model does not fit the architecture: " + String.join("; ", problems));
    }
    if (!nonFinite.isEmpty()) {
      throw new IllegalArgumentException(String.format("base model holds NaN or infinite values in %d of its tensors: %s%s",
          nonFinite.size(), String.join(", ", nonFinite.subList(0, Math.min(3, nonFinite.size()))),
          nonFinite.size() > 3 ? ", …" : ""));
    }
    return copied;
  }

  private static boolean allFinite(NDArray a) {
    try (NDArray nan = a.isNaN(); NDArray inf = a.isInfinite(); NDArray bad = nan.logicalOr(inf); NDArray any = bad.any()) {
      return !any.getBoolean();
    }
  }

  /** Restores weights, running statistics and momentum from a checkpoint of this same network. */
  public void restore(ModelFile.Contents checkpoint) {
    GradMode.offOnThisThread();
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      NDArray src = checkpoint.weights().get(e.getKey());
      if (src == null || !src.getShape().equals(e.getValue().getArray().getShape())) {
        throw new IllegalArgumentException("checkpoint does not match the network at " + e.getKey());
      }
      e.getValue().getArray().set(src.toByteBuffer());
    }
    Map<String, NDArray> buffers = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> m : checkpoint.momentum().entrySet()) {
      Parameter p = named.get(m.getKey());
      if (p == null) {
        throw new IllegalArgumentException("checkpoint has momentum for unknown parameter " + m.getKey());
      }
      NDArray copy = p.getArray().getManager().create(m.getValue().getShape(), m.getValue().getDataType());
      copy.set(m.getValue().toByteBuffer());
      buffers.put(p.getId(), copy);
    }
    optimizer.restore(buffers, checkpoint.manifest().getMomentumLrScale());
  }

  /**
   * Enters {@code epoch}: freezes and unfreezes stages as the epoch-based schedule says and sets the
   * learning-rate scale (cosine from 1 to 0 over the planned epochs, or constant).
   */
  public void beginEpoch(int epoch) {
    beginEpoch(epoch, config.unfreeze().stageIndex(epoch));
  }

  /** Enters {@code epoch} at the given unfreeze stage (plateau-driven unfreezing decides it from the evaluations). */
  public void beginEpoch(int epoch, int unfreezeStage) {
    Set<String> trainable = config.unfreeze().trainableAt(unfreezeStage);
    this.epoch = epoch;
    this.stage = unfreezeStage;
    for (Map.Entry<String, List<Block>> stage : net.stageBlocks().entrySet()) {
      boolean train = trainable.contains(stage.getKey());
      for (Block b : stage.getValue()) {
        if (train) {
          // the plain freezeParameters(false) would also mark BatchNorm running statistics trainable
          b.freezeParameters(false, p -> !ParameterNames.isRunningStat(p));
        } else {
          b.freezeParameters(true);
        }
        fixBatchNorm(b, !train && config.unfreeze().fixFrozenBatchNorm());
      }
    }
    optimizer.setScale((float) config.schedule().factor(epoch));
  }

  private static void fixBatchNorm(Block block, boolean fixed) {
    if (block instanceof ChannelBatchNorm bn) {
      bn.fixStatistics(fixed);
    }
    for (Block child : block.getChildren().values()) {
      fixBatchNorm(child, fixed);
    }
  }

  public int epoch() {
    return epoch;
  }

  public int unfreezeStage() {
    return stage;
  }

  /** The schedule this session unfreezes by. */
  public UnfreezeSchedule unfreezeSchedule() {
    return config.unfreeze();
  }

  /** One SGD step on {@code batch}. */
  public StepResult step(ImageBatch batch) {
    return step(batch, null, false);
  }

  /**
   * One SGD step. {@code extraLabels}, when given, computes further label arrays for the loss from the
   * step's scope (the distiller passes the teacher's logits this way). With {@code diagnose}, the result
   * carries a {@link GradientReport} of this step's gradients.
   */
  public StepResult step(ImageBatch batch, Function<NDManager, NDArray> extraLabels, boolean diagnose) {
    long start = System.nanoTime();
    GradMode.offOnThisThread();
    try (NDManager scope = manager().newSubManager()) {
      NDArray x = Tensors.images(scope, batch, normalization);
      NDArray y = Tensors.labels(scope, batch);
      NDList labels = extraLabels == null ? new NDList(y) : new NDList(y, extraLabels.apply(scope));
      zeroGradients();
      float loss;
      int correct;
      try (GradientCollector collector = trainer.newGradientCollector()) {
        NDArray logits = trainer.forward(new NDList(x)).singletonOrThrow();
        NDArray l = config.loss().evaluate(labels, new NDList(logits));
        collector.backward(l);
        loss = l.getFloat();
        correct = (int) logits.argMax(1).toType(ai.djl.ndarray.types.DataType.INT32, false)
            .eq(y.toType(ai.djl.ndarray.types.DataType.INT32, false)).sum().getLong();
      }
      Map<String, Double> meanAbs = diagnose ? meanAbsGradientByStage() : null;
      applyUpdate();
      long nanos = System.nanoTime() - start;
      GradientReport report = null;
      if (diagnose) {
        double backbone = meanAbs.entrySet().stream().filter(e -> !e.getKey().equals("head"))
            .mapToDouble(Map.Entry::getValue).average().orElse(0);
        double ratio = backbone == 0 ? 0 : meanAbs.getOrDefault("head", 0.0) / backbone;
        report = new GradientReport(meanAbs, ratio, residualRatios(scope, x, labels));
      }
      return new StepResult(loss, correct, batch.size(), nanos, report);
    }
  }

  /** Mean |gradient| over the trainable parameters of each stage (running statistics excluded). */
  private Map<String, Double> meanAbsGradientByStage() {
    Map<String, double[]> sums = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      NDArray a = e.getValue().getArray();
      if (ParameterNames.isRunningStat(e.getValue()) || !e.getValue().requiresGradient() || !a.hasGradient()) {
        continue;
      }
      try (NDArray g = a.getGradient(); NDArray abs = g.abs(); NDArray sum = abs.sum()) {
        double[] acc = sums.computeIfAbsent(stageOf(e.getKey()), k -> new double[2]);
        acc[0] += sum.getFloat();
        acc[1] += g.getShape().size();
      }
    }
    Map<String, Double> mean = new LinkedHashMap<>();
    for (String stage : ResNet.STAGES) {
      double[] acc = sums.get(stage);
      if (acc != null && acc[1] > 0) {
        mean.put(stage, acc[0] / acc[1]);
      }
    }
    return mean;
  }

  /**
   * |dL/d input| / |dL/d output| of every residual unit, from a separate pass in inference mode (so
   * BatchNorm statistics are not updated twice) whose parameter gradients are discarded.
   */
  private Map<String, Double> residualRatios(NDManager scope, NDArray x, NDList labels) {
    List<NDArray> leaves = new ArrayList<>();
    try (GradientCollector collector = trainer.newGradientCollector()) {
      NDArray logits = net.forwardWithProbes(new ai.djl.training.ParameterStore(scope, false), x, false, leaves);
      collector.backward(config.loss().evaluate(labels, new NDList(logits)));
    }
    double[] norms = new double[leaves.size()];
    for (int i = 0; i < leaves.size(); i++) {
      try (NDArray g = leaves.get(i).getGradient(); NDArray n = g.norm()) {
        norms[i] = n.getFloat();
      }
    }
    zeroGradients();
    Map<String, Double> ratios = new LinkedHashMap<>();
    List<String> units = net.unitNames();
    for (int i = 0; i < units.size(); i++) {
      ratios.put(units.get(i), norms[i + 1] == 0 ? 0 : norms[i] / norms[i + 1]);
    }
    return ratios;
  }

  /**
   * The optimizer update of every trainable parameter, from its own gradient. DJL's {@code Trainer.step()}
   * does the same through its {@code LocalParameterServer}, which first copies every gradient
   * ({@code duplicate()}, for aggregation across devices): one more pass over the gradients and an allocation
   * per parameter every step, as large as the model's weights, which also raises the step's peak memory.
   */
  private void applyUpdate() {
    for (Parameter p : named.values()) {
      NDArray w = p.getArray();
      if (!p.requiresGradient() || !w.hasGradient()) {
        continue;
      }
      try (NDArray g = w.getGradient()) {
        optimizer.update(p.getId(), w, g);
      }
    }
  }

  private void zeroGradients() {
    for (Parameter p : named.values()) {
      // one native call per parameter (zeroes the gradient where one is defined)
      JniUtils.zeroGrad((PtNDArray) p.getArray());
    }
  }

  /** The model file of this session: weights and, if {@code withMomentum}, the optimizer state. */
  public byte[] save(ModelManifest manifest, boolean withMomentum) {
    Map<String, NDArray> weights = new LinkedHashMap<>();
    Map<String, NDArray> momentum = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      weights.put(e.getKey(), e.getValue().getArray());
      NDArray v = optimizer.scaledVelocity().get(e.getValue().getId());
      if (withMomentum && v != null) {
        momentum.put(e.getKey(), v);
      }
    }
    return ModelFile.encode(manifest.toBuilder().setArchitecture(net.architecture()).setInputHeight(imageSize)
        .setInputWidth(imageSize).setNormalization(normalization.id()).setMomentumLrScale(momentum.isEmpty() ? 0 : optimizer.scale()).build(), weights, momentum);
  }

  public long parameterCount() {
    return ParameterNames.countTrainable(net);
  }

  @Override
  public void close() {
    optimizer.close();
    trainer.close();
    model.close();
  }
}
