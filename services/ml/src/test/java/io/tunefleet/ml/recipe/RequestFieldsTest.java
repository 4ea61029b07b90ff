package io.tunefleet.ml.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestFieldsTest {

  /** The README's request table: the default column by the JSON name of each field a row names. */
  private static Map<String, String> readmeDefaults() throws Exception {
    Path readme = Path.of("../../README.md");
    Map<String, String> defaults = new LinkedHashMap<>();
    for (String line : Files.readAllLines(readme)) {
      if (!line.startsWith("| `recipe.") && !line.startsWith("| `distillation.") && !line.startsWith("| `dataset.")) {
        continue;
      }
      String[] cells = line.split("\\|");
      String[] names = cells[1].trim().split(",\\s*");
      String[] values = cells[2].trim().split(",\\s*");
      String first = names[0].replace("`", "");
      String parent = first.substring(0, first.lastIndexOf('.'));
      for (int i = 0; i < names.length; i++) {
        String name = names[i].replace("`", "");
        String full = name.startsWith(".") ? parent + name : name;
        defaults.put(full, names.length == values.length ? values[i] : cells[2].trim());
      }
    }
    return defaults;
  }

  @Test
  void theReadmeStatesEveryFieldWithTheDefaultTheResolverApplies() throws Exception {
    Map<String, String> readme = readmeDefaults();
    List<String> wrong = new ArrayList<>();
    for (RequestFields.Field f : RequestFields.ALL) {
      String stated = readme.get(f.jsonPath());
      if (stated == null) {
        wrong.add(f.jsonPath() + ": no row in the README's request table");
      } else if (!statesDefault(stated.replace("`", ""), f.defaultText().replace("`", ""))) {
        wrong.add(f.jsonPath() + ": README says '" + stated + "', the resolver applies " + f.defaultText());
      }
    }
    assertEquals(List.of(), wrong);
  }

  /** The cell is the default, or the default followed by an explanation ("0 (off)", "0 = all"). */
  private static boolean statesDefault(String cell, String value) {
    return cell.equals(value) || cell.startsWith(value + " ");
  }

  @Test
  void aReadmeDefaultThatDiffersIsCaught() {
    assertTrue(statesDefault("0 (off)", "0"));
    assertTrue(!statesDefault("100", "10"), "10 is not 100");
    assertTrue(!statesDefault("0.05", "0.5"));
  }

  @Test
  void anEmptyRequestGetsEveryDefault() {
    TrainingRequest.Builder r = TrainingRequest.newBuilder();
    List<FieldProblem> problems = new ArrayList<>();
    RequestFields.apply(r, problems);
    assertEquals(List.of(), problems);
    Recipe rc = r.getRecipe();
    assertEquals(10, rc.getEpochs());
    assertEquals(0.05, rc.getLrBackbone(), "lr_backbone follows lr_head");
    assertEquals(0.0, rc.getLabelSmoothing(), "a job that distils trains its teacher without smoothing");
    assertEquals(42, rc.getSeed());
    assertTrue(rc.hasBalancedSampling() && !rc.getBalancedSampling());
    assertEquals(10, r.getDistillation().getEpochs(), "distillation.epochs follows recipe.epochs");
    assertEquals(0.1, r.getDataset().getValidationFraction());
  }

  @Test
  void derivedDefaultsReadTheFieldsResolvedBeforeThem() {
    TrainingRequest.Builder r = TrainingRequest.newBuilder()
        .setRecipe(Recipe.newBuilder().setLrHead(0.2).setEpochs(7))
        .setDistillation(Distillation.newBuilder().setEnabled(false));
    RequestFields.apply(r, new ArrayList<>());
    assertEquals(0.2, r.getRecipe().getLrBackbone());
    assertEquals(0.1, r.getRecipe().getLabelSmoothing(), "no distillation: smoothing 0.1");
    assertEquals(7, r.getDistillation().getEpochs());
  }

  @Test
  void everyBadValueIsNamedByItsPathAtOnce() {
    TrainingRequest.Builder r = TrainingRequest.newBuilder()
        .setRecipe(Recipe.newBuilder().setEpochs(0).setLrHead(-0.1).setMomentum(1.0).setLrSchedule("linear")
            .setWarmupEpochs(5).setCurriculum(io.tunefleet.proto.v1.Curriculum.newBuilder().setStartFraction(0)))
        .setDistillation(Distillation.newBuilder().setAlpha(2));
    List<FieldProblem> problems = new ArrayList<>();
    RequestFields.apply(r, problems);
    Map<String, String> byField = new LinkedHashMap<>();
    problems.forEach(p -> byField.put(p.field(), p.problem()));
    assertEquals("must be in 1..1000, was 0", byField.get("recipe.epochs"));
    assertEquals("must be > 0 and <= 10.0, was -0.1", byField.get("recipe.lr_head"));
    assertEquals("must be in [0.0, 1.0), was 1.0", byField.get("recipe.momentum"));
    assertEquals("must be one of [cosine, step, constant], was 'linear'", byField.get("recipe.lr_schedule"));
    assertEquals("must be in 0..0, was 5", byField.get("recipe.warmup_epochs"), "warm-up shorter than the epochs");
    assertEquals("must be in (0, 1], was 0.0", byField.get("recipe.curriculum.start_fraction"));
    assertNotNull(byField.get("distillation.alpha"));
    assertNotNull(byField.get("recipe.lr_backbone"), "the derived default is checked as well");
  }
}
