package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProbabilityTest {
  /** Appends its id to a 1x1 image's "history" by writing it into the next free pixel. */
  private static final class Stamp extends ProbabilisticTransform {
    final int id;

    Stamp(int id, double p) {
      super(p);
      this.id = id;
    }

    @Override
    public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
      ImageU8 out = image.copy();
      byte[] px = out.pixels();
      int free = 0;
      while (px[free] != 0) {
        free++;
      }
      px[free] = (byte) id;
      return out;
    }
  }

  private static final ImageU8 EMPTY = ImageU8.blank(1, 8, 1);

  @Test
  void probabilityZeroNeverAppliesAndOneAlwaysDoes() {
    ImageU8 img = TestImages.random(1, 6, 6, 3);
    for (long seed = 0; seed < 500; seed++) {
      assertSame(img, new HorizontalFlip(0).apply(img, new SplittableRandom(seed)));
      assertSame(img, new GaussNoise(10, 50, 0, true, 0).apply(img, new SplittableRandom(seed)));
      assertNotSame(img, new HorizontalFlip(1).apply(img, new SplittableRandom(seed)));
      assertEquals(Geometry.flipHorizontal(img), new HorizontalFlip(1).apply(img, new SplittableRandom(seed)));
    }
  }

  @Test
  void probabilityHalfAppliesAboutHalfTheTimeOverManySeeds() {
    ImageU8 img = TestImages.random(2, 6, 6, 3);
    HorizontalFlip flip = new HorizontalFlip(0.5);
    int applied = 0;
    int n = 10_000;
    for (int sample = 0; sample < n; sample++) {
      ImageU8 out = flip.apply(img, AugmentationPipeline.rngFor(42, "job", 0, sample));
      applied += out != img ? 1 : 0;
    }
    assertEquals(0.5, applied / (double) n, 0.015); // 3 standard deviations
  }

  @Test
  void probabilityMustBeBetweenZeroAndOne() {
    assertThrows(IllegalArgumentException.class, () -> new HorizontalFlip(1.5));
    assertThrows(IllegalArgumentException.class, () -> new HorizontalFlip(-0.1));
    assertThrows(IllegalArgumentException.class, () -> new HorizontalFlip(Double.NaN));
  }

  @Test
  void composeAppliesChildrenInOrderEachWithItsOwnProbability() {
    Compose compose = new Compose(List.of(new Stamp(1, 1), new Stamp(2, 0), new Stamp(3, 1)), 1);
    assertArrayEquals(new int[] {1, 3, 0, 0, 0, 0, 0, 0},
        TestImages.values(compose.apply(EMPTY, new SplittableRandom(1))));
    assertSame(EMPTY, new Compose(List.of(new Stamp(1, 1)), 0).apply(EMPTY, new SplittableRandom(1)));
  }

  @Test
  void oneOfPicksChildrenInProportionToTheirProbabilityAndForcesThem() {
    // Children p 0.1, 0.3, 0.6 (and 0): picked 10%, 30%, 60% of the time, and applied even though
    // their own p is below 1.
    OneOf oneOf = new OneOf(List.of(new Stamp(1, 0.1), new Stamp(2, 0.3), new Stamp(4, 0), new Stamp(3, 0.6)), 1);
    int[] counts = new int[5];
    SplittableRandom rng = new SplittableRandom(7);
    int n = 30_000;
    for (int i = 0; i < n; i++) {
      int[] v = TestImages.values(oneOf.apply(EMPTY, rng));
      assertEquals(0, v[1], "exactly one child runs");
      counts[v[0]]++;
    }
    assertEquals(0, counts[0]);
    assertEquals(0, counts[4]);
    assertEquals(0.1, counts[1] / (double) n, 0.006);
    assertEquals(0.3, counts[2] / (double) n, 0.009);
    assertEquals(0.6, counts[3] / (double) n, 0.009);
  }

  @Test
  void oneOfRunsWithItsOwnProbability() {
    OneOf oneOf = new OneOf(List.of(new Stamp(1, 1)), 0.25);
    int applied = 0;
    SplittableRandom rng = new SplittableRandom(9);
    for (int i = 0; i < 20_000; i++) {
      applied += oneOf.apply(EMPTY, rng) != EMPTY ? 1 : 0;
    }
    assertEquals(0.25, applied / 20_000.0, 0.01);
  }

  @Test
  void oneOfNeedsAChildThatCanBePicked() {
    assertThrows(IllegalArgumentException.class, () -> new OneOf(List.of(), 1));
    assertThrows(IllegalArgumentException.class, () -> new OneOf(List.of(new Stamp(1, 0)), 1));
  }
}
