package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.optimizer.Optimizer;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * SGD with momentum and PyTorch's semantics ({@code v = μ·v + g + λ·w; w -= lr·v}) where every parameter
 * belongs to a group with its own learning rate and weight decay; the group rates are scaled by a
 * schedule factor set per epoch.
 *
 * <p>Each update is one native call, libtorch's {@code sgdUpdate} as DJL exposes it, instead of five or
 * six array operations from Java (on a small model the per-call overhead dominated the step). That kernel
 * keeps its buffer with the learning rate inside ({@code s = μ·s + lr·(g + λ·w); w -= s}), so this class
 * holds {@code s = lr·v} and rescales the buffers whenever the rate changes: then every step equals
 * PyTorch's. Checkpoints keep the scaled buffers with the factor they are scaled at, so that a resumed run
 * continues bit for bit. Not thread-safe: one training thread owns it.
 */
public final class LayerwiseSgd extends Optimizer implements AutoCloseable {
  /** A parameter group's base learning rate and weight decay. */
  public record Group(String name, float learningRate, float weightDecay) {}

  private final Map<String, Group> groupOfParameter;
  private final float momentum;
  /** Per parameter id: the momentum buffer times the group's current learning rate. */
  private final Map<String, NDArray> scaledVelocity = new HashMap<>();
  private float scale = 1f;

  private LayerwiseSgd(Builder b) {
    super(b);
    this.groupOfParameter = Map.copyOf(b.groups);
    this.momentum = b.momentum;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Multiplies every group's learning rate (the LR schedule), from the next update on. */
  public void setScale(float scale) {
    if (!(scale > 0)) {
      throw new IllegalArgumentException("learning-rate scale must be > 0, was " + scale);
    }
    if (scale != this.scale) {
      for (NDArray s : scaledVelocity.values()) {
        s.muli(scale / this.scale);
      }
      this.scale = scale;
    }
  }

  public float learningRate(Group group) {
    return group.learningRate() * scale;
  }

  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    Group group = group(parameterId);
    NDArray s = scaledVelocity.get(parameterId);
    if (s == null) {
      s = weight.zerosLike();
      s.detach();
      scaledVelocity.put(parameterId, s);
    }
    // s = μ·s + lr·(g + λ·w); w -= s   (rescale 1, no clipping)
    JniUtils.sgdUpdate((PtNDArray) weight, (PtNDArray) grad, (PtNDArray) s, learningRate(group), group.weightDecay(), 1f,
        -1f, momentum);
  }

  private Group group(String parameterId) {
    Group group = groupOfParameter.get(parameterId);
    if (group == null) {
      throw new IllegalStateException("parameter " + parameterId + " has no group");
    }
    return group;
  }

  /** The momentum buffers by parameter id, each {@code lr·v} at the current {@link #scale()} (live view). */
  public Map<String, NDArray> scaledVelocity() {
    return Collections.unmodifiableMap(scaledVelocity);
  }

  /** The learning-rate schedule factor now in force (the buffers are scaled by the group rates at it). */
  public float scale() {
    return scale;
  }

  /**
   * Restores momentum buffers saved by {@link #scaledVelocity()} at schedule factor {@code atScale}, or, with
   * {@code atScale == 0}, PyTorch's plain buffers {@code v}. The arrays are detached and owned by this
   * optimizer from now on.
   */
  public void restore(Map<String, NDArray> buffers, float atScale) {
    if (atScale > 0) {
      scale = atScale;
    }
    for (Map.Entry<String, NDArray> e : buffers.entrySet()) {
      NDArray s = e.getValue();
      s.detach();
      if (!(atScale > 0)) {
        s.muli(learningRate(group(e.getKey())));
      }
      NDArray old = scaledVelocity.put(e.getKey(), s);
      if (old != null) {
        old.close();
      }
    }
  }

  @Override
  public void close() {
    scaledVelocity.values().forEach(NDArray::close);
    scaledVelocity.clear();
  }

  /** Builds a {@link LayerwiseSgd}. */
  public static final class Builder extends OptimizerBuilder<Builder> {
    private final Map<String, Group> groups = new HashMap<>();
    private float momentum = 0.9f;

    public Builder optMomentum(float momentum) {
      this.momentum = momentum;
      return this;
    }

    /** Puts the parameter with this id into {@code group}. */
    public Builder setGroup(String parameterId, Group group) {
      groups.put(parameterId, group);
      return this;
    }

    @Override
    protected Builder self() {
      return this;
    }

    public LayerwiseSgd build() {
      return new LayerwiseSgd(this);
    }
  }
}
