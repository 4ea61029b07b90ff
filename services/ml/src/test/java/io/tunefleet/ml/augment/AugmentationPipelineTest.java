package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.AugmentOp;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmentationPipelineTest {
  private static AugmentOp op(String name) {
    return AugmentOp.newBuilder().setOp(name).build();
  }

  private static AugmentOp op(String name, Map<String, Double> params) {
    return AugmentOp.newBuilder().setOp(name).putAllParams(params).build();
  }

  @Test
  void defaultSpecIsAHorizontalFlipHalfTheTime() {
    Compose pipeline = AugmentationPipeline.fromSpec(AugmentationPipeline.defaultSpec());
    assertEquals(1.0, pipeline.p());
    assertEquals(1, pipeline.children().size());
    assertInstanceOf(HorizontalFlip.class, pipeline.children().get(0));
    assertEquals(0.5, pipeline.children().get(0).p());
  }

  @Test
  void everyOpBuildsWithItsAlbumentationsDefaultProbability() {
    List<AugmentOp> spec = List.of(op("horizontal_flip"), op("vertical_flip"), op("flip"), op("transpose"),
        op("random_rotate90"), op("gauss_noise"), op("motion_blur"), op("median_blur"), op("blur"),
        op("resize", Map.of("height", 20.0, "width", 30.0)),
        op("random_resized_crop", Map.of("height", 16.0, "width", 16.0)),
        AugmentOp.newBuilder().setOp("compose").addChildren(op("blur")).build(),
        AugmentOp.newBuilder().setOp("one_of").addChildren(op("blur")).addChildren(op("flip")).build());
    Compose pipeline = AugmentationPipeline.fromSpec(spec);
    double[] expectedP = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 0.5};
    Class<?>[] expectedType = {HorizontalFlip.class, VerticalFlip.class, Flip.class, Transpose.class,
        RandomRotate90.class, GaussNoise.class, MotionBlur.class, MedianBlur.class, Blur.class, Resize.class,
        RandomResizedCrop.class, Compose.class, OneOf.class};
    for (int i = 0; i < spec.size(); i++) {
      assertInstanceOf(expectedType[i], pipeline.children().get(i));
      assertEquals(expectedP[i], pipeline.children().get(i).p(), spec.get(i).getOp());
    }
    assertEquals(AugmentationPipeline.knownOps().size(), spec.size());
    ImageU8 out = pipeline.apply(TestImages.random(1, 40, 50, 3), new SplittableRandom(1));
    assertEquals(16, out.height());
  }

  @Test
  void explicitParamsAndProbabilityAreUsed() {
    Compose pipeline = AugmentationPipeline.fromSpec(List.of(
        AugmentOp.newBuilder().setOp("median_blur").setP(1).putParams("blur_min", 5).putParams("blur_limit", 5).build(),
        AugmentOp.newBuilder().setOp("resize").setP(0).putParams("height", 3).putParams("width", 3).build()));
    ImageU8 img = TestImages.random(3, 9, 9, 1);
    assertEquals(MedianFilter.median(img, 5), pipeline.apply(img, new SplittableRandom(2)));
  }

  @Test
  void everyBadFieldIsReportedAtOnce() {
    List<AugmentOp> spec = List.of(
        AugmentOp.newBuilder().setOp("flip").setP(1.5).build(),
        op("foo"),
        op("median_blur", Map.of("blur_limit", 4.0)),
        op("gauss_noise", Map.of("var_min", 60.0, "var_max", 50.0, "sigma", 3.0)),
        op("resize", Map.of("width", 32.0)),
        op("one_of"),
        AugmentOp.newBuilder().setOp("compose").addChildren(op("blur", Map.of("blur_limit", 2.5))).build(),
        AugmentOp.newBuilder().setOp("horizontal_flip").addChildren(op("flip")).build(),
        op("transpose", Map.of("k", 1.0)),
        op("motion_blur", Map.of("blur_limit", 33.0, "allow_shifted", 2.0)),
        op(""),
        AugmentOp.newBuilder().setOp("one_of").addChildren(AugmentOp.newBuilder().setOp("flip").setP(0)).build(),
        op("random_resized_crop", Map.of("height", 8.0, "width", 0.0, "scale_min", 0.5, "scale_max", 0.2)),
        op("blur", Map.of("blur_limit", 5.0, "blur_min", 7.0)),
        op("gauss_noise", Map.of("var_max", 5.0)));
    InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> AugmentationPipeline.fromSpec(spec));
    String known = String.join(", ", AugmentationPipeline.knownOps());
    String p = "recipe.augmentations";
    assertEquals(List.of(
        new FieldProblem(p + "[0].p", "must be in [0, 1], was 1.5"),
        new FieldProblem(p + "[1].op", "unknown op 'foo'; known: " + known),
        new FieldProblem(p + "[2].params.blur_limit", "must be an odd integer >= 3, was 4"),
        new FieldProblem(p + "[3].params.sigma",
            "unknown param 'sigma' for op 'gauss_noise'; known: mean, per_channel, var_max, var_min"),
        new FieldProblem(p + "[3].params.var_min", "must be <= var_max (50), was 60"),
        new FieldProblem(p + "[4].params.height", "is required (an integer in [1, 16384])"),
        new FieldProblem(p + "[5].children", "one_of needs at least one child"),
        new FieldProblem(p + "[6].children[0].params.blur_limit", "must be an integer in [3, 31], was 2.5"),
        new FieldProblem(p + "[7].children", "only compose and one_of take children; 'horizontal_flip' has 1"),
        new FieldProblem(p + "[8].params.k", "unknown param 'k'; op 'transpose' takes none"),
        new FieldProblem(p + "[9].params.blur_limit", "must be an odd integer <= 31, was 33"),
        new FieldProblem(p + "[9].params.allow_shifted", "must be 0 or 1, was 2"),
        new FieldProblem(p + "[10].op", "missing op name; known: " + known),
        new FieldProblem(p + "[11].children", "one_of needs at least one child with p > 0"),
        new FieldProblem(p + "[12].params.width", "must be an integer in [1, 16384], was 0"),
        new FieldProblem(p + "[12].params.scale_min", "must be <= scale_max (0.2), was 0.5"),
        new FieldProblem(p + "[13].params.blur_min", "must be <= blur_limit (5), was 7"),
        new FieldProblem(p + "[14].params.var_max", "must be >= var_min (10), was 5")),
        e.problems());
    assertTrue(e.getMessage().contains("recipe.augmentations[2].params.blur_limit: must be an odd integer >= 3, was 4"));
  }

  @Test
  void fieldPathsCanStartElsewhere() {
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> AugmentationPipeline.fromSpec(List.of(op("nope")), "stage[1].augmentations"));
    assertEquals("stage[1].augmentations[0].op", e.problems().get(0).field());
  }

  @Test
  void anEmptySpecIsTheIdentity() {
    ImageU8 img = TestImages.random(4, 5, 5, 3);
    assertEquals(img, AugmentationPipeline.fromSpec(List.of()).apply(img, new SplittableRandom(1)));
  }
}
