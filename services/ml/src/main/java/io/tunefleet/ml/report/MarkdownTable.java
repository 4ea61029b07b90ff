package io.tunefleet.ml.report;

import java.util.ArrayList;
import java.util.List;

/** A GitHub-flavoured Markdown table; numeric columns are right-aligned. */
final class MarkdownTable {
  private final List<String> header;
  private final boolean[] numeric;
  private final List<List<String>> rows = new ArrayList<>();

  /** Column names; a name starting with '#' marks a right-aligned column (the '#' is not shown). */
  MarkdownTable(String... columns) {
    header = new ArrayList<>();
    numeric = new boolean[columns.length];
    for (int i = 0; i < columns.length; i++) {
      numeric[i] = columns[i].startsWith("#");
      header.add(numeric[i] ? columns[i].substring(1) : columns[i]);
    }
  }

  /** Adds a row of cell texts, escaped here; missing trailing cells are left empty. */
  MarkdownTable row(String... cells) {
    List<String> row = new ArrayList<>();
    for (int i = 0; i < header.size(); i++) {
      row.add(i < cells.length && cells[i] != null ? escape(cells[i]) : "");
    }
    rows.add(row);
    return this;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    line(sb, header.stream().map(MarkdownTable::escape).toList());
    List<String> rule = new ArrayList<>();
    for (boolean n : numeric) {
      rule.add(n ? "---:" : "---");
    }
    line(sb, rule);
    rows.forEach(r -> line(sb, r));
    return sb.toString();
  }

  private static void line(StringBuilder sb, List<String> cells) {
    sb.append("| ").append(String.join(" | ", cells)).append(" |\n");
  }

  /** Text that renders as itself: Markdown punctuation escaped, line breaks flattened. */
  static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    for (char ch : s.toCharArray()) {
      if (ch == '\n' || ch == '\r') {
        sb.append(' ');
      } else {
        if ("\\|*_`[]<>#".indexOf(ch) >= 0) {
          sb.append('\\');
        }
        sb.append(ch);
      }
    }
    return sb.toString();
  }
}
