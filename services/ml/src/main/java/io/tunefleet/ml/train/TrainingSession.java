package io.tunefleet.ml.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import io.tunefleet.ml.data.ImageBatch;
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
 * One network being trained: a {@link ResNet} with parameter groups (head vs backbone learning rates,
 * no weight decay on BatchNorm and biases), a {@link LayerwiseSgd}, a loss, an {@link UnfreezeSchedule}
 * and a cosine learning-rate schedule over the planned epochs. Saves and restores everything a resumed
 * run needs (weights, running statistics, momentum).
 */
public final class TrainingSession implements AutoCloseable {
  /** The optimisation recipe of a session. */
  public record Config(float lrHead, float lrBackbone, float momentum, float weightDecay, Loss loss,
      UnfreezeSchedule unfreeze, int epochs, boolean cosine) {}

  private final Model model;
  private final ResNet net;
  private final Trainer trainer;
  private final LayerwiseSgd optimizer;
  private final Config config;
  private final Map<String, Parameter> named;
  private final Map<String, LayerwiseSgd.Group> groupOf = new LinkedHashMap<>();
  private int epoch = -1;

  private TrainingSession(Architecture architecture, int imageSize, Config config, Device device) {
    this.config = config;
    this.model = Model.newInstance("fleet", device);
    this.net = ResNets.build(architecture, model.getNDManager(), imageSize);
    model.setBlock(net);
    this.named = ParameterNames.of(net);
    LayerwiseSgd.Group head = new LayerwiseSgd.Group("head", config.lrHead(), config.weightDecay());
    LayerwiseSgd.Group headNoDecay = new LayerwiseSgd.Group("head", config.lrHead(), 0f);
    LayerwiseSgd.Group backbone = new LayerwiseSgd.Group("backbone", config.lrBackbone(), config.weightDecay());
    LayerwiseSgd.Group backboneNoDecay = new LayerwiseSgd.Group("backbone", config.lrBackbone(), 0f);
    LayerwiseSgd.Builder sgd = LayerwiseSgd.builder().optMomentum(config.momentum());
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      Parameter p = e.getValue();
      boolean isHead = e.getKey().startsWith("fc.");
      // BatchNorm scales/shifts and biases are not decayed (standard practice; decaying them hurts)
      boolean noDecay = p.getType() == Parameter.Type.GAMMA || p.getType() == Parameter.Type.BETA
          || p.getType() == Parameter.Type.BIAS;
      LayerwiseSgd.Group g = isHead ? (noDecay ? headNoDecay : head) : (noDecay ? backboneNoDecay : backbone);
      groupOf.put(e.getKey(), g);
      sgd.setGroup(p.getId(), g);
    }
    this.optimizer = sgd.build();
    this.trainer = model.newTrainer(new DefaultTrainingConfig(config.loss()).optOptimizer(optimizer).optDevices(new Device[] {device}));
  }

  /** A fresh network of {@code architecture} for inputs of {@code imageSize} px. */
  public static TrainingSession create(Architecture architecture, int imageSize, Config config, Device device) {
    return new TrainingSession(architecture, imageSize, config, device);
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
      } else {
        dst.set(src.toType(dst.getDataType(), false).toByteBuffer());
        copied++;
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("base model does not fit the architecture: " + String.join("; ", problems));
    }
    return copied;
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
    for (Map.Entry<String, NDArray> m : checkpoint.momentum().entrySet()) {
      Parameter p = named.get(m.getKey());
      if (p == null) {
        throw new IllegalArgumentException("checkpoint has momentum for unknown parameter " + m.getKey());
      }
      NDArray copy = p.getArray().getManager().create(m.getValue().getShape(), m.getValue().getDataType());
      copy.set(m.getValue().toByteBuffer());
      optimizer.restoreVelocity(p.getId(), copy);
    }
  }

  /**
   * Enters {@code epoch}: freezes and unfreezes stages as the schedule says and sets the learning-rate
   * scale (cosine from 1 to 0 over the planned epochs, or constant).
   */
  public void beginEpoch(int epoch) {
    this.epoch = epoch;
    Set<String> trainable = config.unfreeze().trainable(epoch);
    for (Map.Entry<String, List<Block>> stage : net.stageBlocks().entrySet()) {
      boolean train = trainable.contains(stage.getKey());
      for (Block b : stage.getValue()) {
        if (train) {
          // the plain freezeParameters(false) would also mark BatchNorm running statistics trainable
          b.freezeParameters(false, p -> !ParameterNames.isRunningStat(p));
        } else {
          b.freezeParameters(true);
        }
      }
    }
    optimizer.setScale(config.cosine() ? cosineScale(epoch, config.epochs()) : 1f);
  }

  static float cosineScale(int epoch, int epochs) {
    if (epochs <= 1) {
      return 1f;
    }
    return (float) (0.5 * (1 + Math.cos(Math.PI * epoch / epochs)));
  }

  public int epoch() {
    return epoch;
  }

  public int unfreezeStage() {
    return config.unfreeze().stageIndex(Math.max(epoch, 0));
  }

  /** One SGD step on {@code batch}. */
  public StepResult step(ImageBatch batch) {
    return step(batch, null);
  }

  /**
   * One SGD step. {@code extraLabels}, when given, computes further label arrays for the loss from the
   * step's scope (the distiller passes the teacher's logits this way).
   */
  public StepResult step(ImageBatch batch, Function<NDManager, NDArray> extraLabels) {
    long start = System.nanoTime();
    GradMode.offOnThisThread();
    try (NDManager scope = manager().newSubManager()) {
      NDArray x = Tensors.images(scope, batch);
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
      trainer.step();
      return new StepResult(loss, correct, batch.size(), System.nanoTime() - start);
    }
  }

  private void zeroGradients() {
    for (Parameter p : named.values()) {
      NDArray a = p.getArray();
      if (a.hasGradient()) {
        try (NDArray g = a.getGradient()) {
          g.subi(g);
        }
      }
    }
  }

  /** The model file of this session: weights and, if {@code withMomentum}, the optimizer state. */
  public byte[] save(ModelManifest manifest, boolean withMomentum) {
    Map<String, NDArray> weights = new LinkedHashMap<>();
    Map<String, NDArray> momentum = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      weights.put(e.getKey(), e.getValue().getArray());
      NDArray v = optimizer.velocity().get(e.getValue().getId());
      if (withMomentum && v != null) {
        momentum.put(e.getKey(), v);
      }
    }
    return ModelFile.encode(manifest.toBuilder().setArchitecture(net.architecture()).build(), weights, momentum);
  }

  public long parameterCount() {
    return ParameterNames.countTrainable(net);
  }

  @Override
  public void close() {
    for (NDArray v : optimizer.velocity().values()) {
      v.close();
    }
    trainer.close();
    model.close();
  }
}
