package io.tunefleet.ml.train;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Progressive unfreezing: the head trains first; every {@code epochsPerStage} epochs the next
 * {@code stagesPerStep} backbone stages (in the given order, e.g. layer4, layer3, …) become trainable.
 * With {@code epochsPerStage == 0} everything trains from the start.
 */
public record UnfreezeSchedule(List<String> stages, int epochsPerStage, int stagesPerStep) {
  public static final List<String> DEFAULT_STAGES = List.of("layer4", "layer3", "layer2", "layer1", "stem");

  public UnfreezeSchedule {
    stages = List.copyOf(stages);
    if (epochsPerStage < 0 || stagesPerStep < 1) {
      throw new IllegalArgumentException("epochsPerStage must be >= 0 and stagesPerStep >= 1");
    }
  }

  public static UnfreezeSchedule everythingTrainable() {
    return new UnfreezeSchedule(DEFAULT_STAGES, 0, 1);
  }

  /** How many backbone stages are trainable in {@code epoch} (the recipe stage, 0 = head only). */
  public int stageIndex(int epoch) {
    if (epochsPerStage == 0) {
      return stages.size();
    }
    return Math.min(stages.size(), (epoch / epochsPerStage) * stagesPerStep);
  }

  /** Names of the trainable stages in {@code epoch}: always "head", then the unfrozen backbone stages. */
  public Set<String> trainable(int epoch) {
    Set<String> names = new LinkedHashSet<>();
    names.add("head");
    names.addAll(stages.subList(0, stageIndex(epoch)));
    return names;
  }

  public List<String> frozen(int epoch, List<String> allStages) {
    List<String> frozen = new ArrayList<>(allStages);
    frozen.removeAll(trainable(epoch));
    return frozen;
  }
}
