package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * One augmentation transform (an op, a Compose or a OneOf). Deterministic given the random source:
 * the caller derives {@code rng} from (seed, job, epoch, sample index), so replays produce the same
 * bytes. Implementations may return the input unchanged, or a new image; they never modify input.
 */
public interface Augmentation {
  ImageU8 apply(ImageU8 image, SplittableRandom rng);
}
