package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * SGD with momentum (PyTorch's formulation: {@code v = μ·v + g + λ·w; w -= lr·v}) where every parameter
 * belongs to a group with its own learning rate and weight decay. The group learning rates are scaled
 * by a schedule factor set per epoch. Momentum buffers are exposed so that checkpoints can hold them.
 */
public final class LayerwiseSgd extends Optimizer {
  /** A parameter group's base learning rate and weight decay. */
  public record Group(String name, float learningRate, float weightDecay) {}

  private final Map<String, Group> groupOfParameter;
  private final float momentum;
  private final Map<String, NDArray> velocity = new HashMap<>();
  private volatile float scale = 1f;

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
    this.scale = scale;
  }

  public float learningRate(Group group) {
    return group.learningRate() * scale;
  }

  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    Group group = groupOfParameter.get(parameterId);
    if (group == null) {
      throw new IllegalStateException("parameter " + parameterId + " has no group");
    }
    if (group.weightDecay() > 0) {
      try (NDArray decay = weight.mul(group.weightDecay())) {
        grad.addi(decay);
      }
    }
    NDArray v = velocity.get(parameterId);
    if (v == null) {
      v = grad.duplicate();
      v.detach();
      velocity.put(parameterId, v);
    } else {
      v.muli(momentum).addi(grad);
    }
    try (NDArray step = v.mul(learningRate(group))) {
      weight.subi(step);
    }
  }

  /** Momentum buffers by parameter id (live view; arrays owned by this optimizer). */
  public Map<String, NDArray> velocity() {
    return Collections.unmodifiableMap(velocity);
  }

  /** Restores a momentum buffer (the array is detached and owned by this optimizer from now on). */
  public void restoreVelocity(String parameterId, NDArray v) {
    v.detach();
    NDArray old = velocity.put(parameterId, v);
    if (old != null) {
      old.close();
    }
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
