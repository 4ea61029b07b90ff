package io.tunefleet.common.blob;

import io.tunefleet.proto.v1.Phase;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a finished job keeps of its checkpoints: each phase's best and last epoch (the best is the model, the
 * last is where a resumed or extended job starts), unless {@code FLEET_KEEP_CHECKPOINTS=all}. A ResNet-34 job
 * otherwise keeps a 170 MB checkpoint per epoch. The Checkpoint events ({@code eNNNN.pb}, a few KB each) stay
 * for the job report. Works on any {@link BlobStore}; deleting again is harmless (a replayed verdict).
 */
public final class CheckpointRetention {
  private static final Pattern CHECKPOINT = Pattern.compile("e(\\d{4})\\.ckpt");

  private final boolean keepAll;

  public CheckpointRetention(boolean keepAll) {
    this.keepAll = keepAll;
  }

  /** Deletes the phase's checkpoints other than {@code bestEpoch} and the last one; returns the epochs deleted. */
  public List<Integer> apply(BlobStore blobs, String job, Phase phase, int bestEpoch) throws IOException {
    List<Integer> epochs = new ArrayList<>();
    String folder = String.format(Locale.ROOT, "jobs/%s/checkpoints/%s", job, phase.name().toLowerCase(Locale.ROOT));
    for (String path : blobs.list(folder)) {
      Matcher m = CHECKPOINT.matcher(path.substring(path.lastIndexOf('/') + 1));
      if (m.matches()) {
        epochs.add(Integer.parseInt(m.group(1)));
      }
    }
    if (keepAll || epochs.isEmpty()) {
      return List.of();
    }
    int last = epochs.stream().mapToInt(Integer::intValue).max().getAsInt();
    List<Integer> deleted = new ArrayList<>();
    for (int e : epochs) {
      if (e != bestEpoch && e != last) {
        blobs.delete(JobPaths.checkpoint(job, phase, e));
        deleted.add(e);
      }
    }
    return deleted;
  }
}
