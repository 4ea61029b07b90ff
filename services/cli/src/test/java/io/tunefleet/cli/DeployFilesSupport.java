package io.tunefleet.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.Yaml;

/**
 * Reads the deployment files as data: docker-compose.yml (YAML merge keys resolved), the kustomize
 * sources under deploy/k8s (not rendered: every document of every YAML file) and the text of any file.
 */
final class DeployFilesSupport {
  private DeployFilesSupport() {}

  static Path root() {
    return MetricNamesSupport.repositoryRoot();
  }

  static String text(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(Path file) {
    return (Map<String, Object>) new Yaml().load(text(file));
  }

  /** The YAML files of deploy/k8s: base, overlays and components (not the validator's node_modules). */
  static List<Path> kubernetesFiles() {
    Path k8s = root().resolve("deploy/k8s");
    try (Stream<Path> files = Files.walk(k8s)) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .filter(p -> !k8s.relativize(p).startsWith("validate") && !k8s.relativize(p).toString().startsWith(".check-"))
          .sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every Kubernetes object of deploy/k8s with the file it is in (kustomization files excluded). */
  @SuppressWarnings("unchecked")
  static List<Map.Entry<Path, Map<String, Object>>> kubernetesObjects() {
    List<Map.Entry<Path, Map<String, Object>>> out = new ArrayList<>();
    for (Path file : kubernetesFiles()) {
      for (Object doc : new Yaml().loadAll(text(file))) {
        if (doc instanceof Map<?, ?> m && m.get("kind") != null && !String.valueOf(m.get("kind")).startsWith("Kustomization")
            && !"Component".equals(m.get("kind"))) {
          out.add(Map.entry(file, (Map<String, Object>) m));
        }
      }
    }
    return out;
  }

  /** The object of deploy/k8s/{@code relativeFile} with this kind and name. */
  static Map<String, Object> kubernetesObject(String relativeFile, String kind, String name) {
    Path file = root().resolve("deploy/k8s").resolve(relativeFile);
    return kubernetesObjects().stream()
        .filter(e -> e.getKey().equals(file) && kind.equals(e.getValue().get("kind")) && name.equals(get(e.getValue(), "metadata", "name")))
        .map(Map.Entry::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in " + file));
  }

  /** The compose services, merge keys resolved. */
  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Object>> composeServices() {
    return (Map<String, Map<String, Object>>) yaml(root().resolve("docker-compose.yml")).get("services");
  }

  /** A compose service's environment as a map (either the map or the KEY=VALUE list form). */
  static Map<String, String> environment(Map<String, Object> service) {
    Map<String, String> env = new LinkedHashMap<>();
    Object e = service.get("environment");
    if (e instanceof Map<?, ?> m) {
      m.forEach((k, v) -> env.put(String.valueOf(k), v == null ? null : String.valueOf(v)));
    } else if (e instanceof List<?> l) {
      for (Object item : l) {
        String s = String.valueOf(item);
        int eq = s.indexOf('=');
        env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? null : s.substring(eq + 1));
      }
    }
    return env;
  }

  /** A nested value: {@code get(doc, "spec", "template", "spec")}; list elements by index. */
  static Object get(Object node, Object... path) {
    Object n = node;
    for (Object key : path) {
      if (n instanceof Map<?, ?> m) {
        n = m.get(key);
      } else if (n instanceof List<?> l && key instanceof Integer i) {
        n = i < l.size() ? l.get(i) : null;
      } else {
        return null;
      }
    }
    return n;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object node, Object... path) {
    return (Map<String, Object>) get(node, path);
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object node, Object... path) {
    Object l = get(node, path);
    return l == null ? List.of() : (List<Object>) l;
  }
}
