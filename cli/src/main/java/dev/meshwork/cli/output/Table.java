package dev.meshwork.cli.output;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plain-text table the way Cilium's CLI prints them: left-aligned columns separated by spaces, a
 * header of one or more lines, and cells that may span several lines (one backend or label per
 * line). Trailing spaces are trimmed so that output diffs cleanly.
 */
public final class Table {

  private static final String GAP = "   ";

  private final List<List<String>> header = new ArrayList<>();
  private final List<List<String>> rows = new ArrayList<>();
  private final int columns;

  private Table(List<String> headerLine) {
    this.columns = headerLine.size();
    this.header.add(List.copyOf(headerLine));
  }

  public static Table withHeader(String... titles) {
    return new Table(Arrays.asList(titles));
  }

  /** A further header line (Cilium's endpoint list splits "POLICY (ingress)" / "ENFORCEMENT"). */
  public Table headerLine(String... titles) {
    checkWidth(titles.length);
    header.add(Arrays.asList(titles));
    return this;
  }

  /** One row; a cell containing newlines spans several lines. */
  public Table row(Object... cells) {
    checkWidth(cells.length);
    List<String> row = new ArrayList<>(cells.length);
    for (Object cell : cells) {
      row.add(cell == null ? "" : cell.toString());
    }
    rows.add(row);
    return this;
  }

  /** A row whose cells are lists of lines. */
  public Table multiLineRow(List<?>... cells) {
    Object[] joined = new Object[cells.length];
    for (int i = 0; i < cells.length; i++) {
      joined[i] = String.join("\n", cells[i].stream().map(String::valueOf).toList());
    }
    return row(joined);
  }

  public int rowCount() {
    return rows.size();
  }

  public String render() {
    int[] widths = new int[columns];
    List<List<String>> all = new ArrayList<>(header);
    all.addAll(rows);
    for (List<String> row : all) {
      for (int c = 0; c < columns; c++) {
        for (String line : row.get(c).split("\n", -1)) {
          widths[c] = Math.max(widths[c], line.length());
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (List<String> row : all) {
      String[][] lines = new String[columns][];
      int height = 1;
      for (int c = 0; c < columns; c++) {
        lines[c] = row.get(c).split("\n", -1);
        height = Math.max(height, lines[c].length);
      }
      for (int l = 0; l < height; l++) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < columns; c++) {
          String text = l < lines[c].length ? lines[c][l] : "";
          line.append(text);
          if (c < columns - 1) {
            line.append(" ".repeat(widths[c] - text.length())).append(GAP);
          }
        }
        out.append(line.toString().stripTrailing()).append('\n');
      }
    }
    return out.toString();
  }

  private void checkWidth(int width) {
    if (width != columns) {
      throw new IllegalArgumentException("table has " + columns + " columns, got " + width + " cells");
    }
  }
}
