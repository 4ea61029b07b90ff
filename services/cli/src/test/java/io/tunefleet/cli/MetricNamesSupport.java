package io.tunefleet.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.yaml.snakeyaml.Yaml;

/**
 * What the dashboards and alert rules query, and what the services export: PromQL expressions pulled
 * out of {@code grafana/dashboards/*.json} and {@code deploy/prometheus/alerts.yml}, the metric names in
 * an expression, and the metric names of a Prometheus text exposition.
 */
final class MetricNamesSupport {
  /** Series Prometheus makes itself: never in a service's /metrics. */
  static final Set<String> SYNTHETIC = Set.of("up", "scrape_duration_seconds", "scrape_samples_scraped",
      "scrape_samples_post_metric_relabeling", "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE");

  private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without", "on",
      "ignoring", "group_left", "group_right", "inf", "nan", "atan2", "start", "end");
  private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
  private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
  private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
  private static final Pattern LABEL_LIST = Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*\\)\\s*$",
      Pattern.DOTALL);
  private static final Pattern QUERY_RESULT = Pattern.compile("^\\s*query_result\\((.*)\\)\\s*$", Pattern.DOTALL);

  private MetricNamesSupport() {}

  /** The repository root (tests run in services/cli). */
  static Path repositoryRoot() {
    return FleetTestSupport.datasets().getParent();
  }

  static List<Path> dashboards() throws IOException {
    try (Stream<Path> files = Files.list(repositoryRoot().resolve("grafana/dashboards"))) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  static Path alertRules() {
    return repositoryRoot().resolve("deploy/prometheus/alerts.yml");
  }

  /** Every panel of a dashboard, rows' nested panels included. */
  static List<JsonObject> panels(JsonObject dashboard) {
    List<JsonObject> out = new ArrayList<>();
    collectPanels(dashboard.getJsonArray("panels", new JsonArray()), out);
    return out;
  }

  private static void collectPanels(JsonArray panels, List<JsonObject> out) {
    for (int i = 0; i < panels.size(); i++) {
      JsonObject p = panels.getJsonObject(i);
      out.add(p);
      collectPanels(p.getJsonArray("panels", new JsonArray()), out);
    }
  }

  /**
   * Every PromQL expression of a dashboard, keyed by where it is ("panel 'Title' A", "variable job"):
   * panel targets, and the metric selectors of query variables ({@code label_values(expr, label)}).
   */
  static Map<String, String> dashboardExpressions(JsonObject dashboard) {
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonObject p : panels(dashboard)) {
      JsonArray targets = p.getJsonArray("targets", new JsonArray());
      for (int i = 0; i < targets.size(); i++) {
        JsonObject t = targets.getJsonObject(i);
        if (t.getString("expr") != null && !t.getString("expr").isBlank()) {
          out.put("panel '" + p.getString("title") + "' " + t.getString("refId"), t.getString("expr"));
        }
      }
    }
    JsonArray variables = dashboard.getJsonObject("templating", new JsonObject()).getJsonArray("list", new JsonArray());
    for (int i = 0; i < variables.size(); i++) {
      JsonObject v = variables.getJsonObject(i);
      if (!"query".equals(v.getString("type"))) {
        continue;
      }
      Object q = v.getValue("query");
      String query = q instanceof JsonObject o ? o.getString("query") : String.valueOf(q);
      String expr = variableExpression(query);
      if (expr != null) {
        out.put("variable " + v.getString("name"), expr);
      }
    }
    return out;
  }

  /** The PromQL inside a Grafana variable query, or null when it names no metric ({@code label_values(label)}). */
  static String variableExpression(String query) {
    Matcher m = LABEL_VALUES.matcher(query);
    if (m.matches()) {
      return m.group(1);
    }
    m = QUERY_RESULT.matcher(query);
    if (m.matches()) {
      return m.group(1);
    }
    return query.trim().startsWith("label_values(") || query.trim().startsWith("label_names(") ? null : query;
  }

  /** Every alert's expression, keyed by "alert NAME". */
  @SuppressWarnings("unchecked")
  static Map<String, String> alertExpressions(Path rules) throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(rules, StandardCharsets.UTF_8));
    Map<String, String> out = new LinkedHashMap<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        String name = rule.containsKey("alert") ? "alert " + rule.get("alert") : "record " + rule.get("record");
        out.put(name, String.valueOf(rule.get("expr")));
      }
    }
    return out;
  }

  /**
   * The metric names an expression selects: identifiers left once strings, label matchers, ranges and
   * grouping label lists are removed, that are not functions (followed by "("), keywords, Grafana
   * variables ({@code $x}) or the unit of a number ({@code 5m}).
   */
  static Set<String> metricNames(String promql) {
    String s = STRING.matcher(promql).replaceAll("\"\"");
    s = MATCHERS.matcher(s).replaceAll(" ");
    s = RANGE.matcher(s).replaceAll(" ");
    s = LABEL_LIST.matcher(s).replaceAll(" ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENTIFIER.matcher(s);
    while (m.find()) {
      String id = m.group();
      char before = m.start() == 0 ? ' ' : s.charAt(m.start() - 1);
      if (before == '$' || before == '.' || Character.isDigit(before) || KEYWORDS.contains(id.toLowerCase())) {
        continue;
      }
      int after = m.end();
      while (after < s.length() && Character.isWhitespace(s.charAt(after))) {
        after++;
      }
      if (after < s.length() && s.charAt(after) == '(') {
        continue;
      }
      names.add(id);
    }
    return names;
  }

  /** Metric names of a Prometheus text exposition (one per sample line: histogram parts count separately). */
  static Set<String> exposedNames(String exposition) {
    Set<String> names = new TreeSet<>();
    for (String line : exposition.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int end = 0;
      while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
        end++;
      }
      names.add(line.substring(0, end));
    }
    return names;
  }
}
