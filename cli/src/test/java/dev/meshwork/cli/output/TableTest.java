package dev.meshwork.cli.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TableTest {

  @Test
  void columnsAreAsWideAsTheirWidestLineAndSeparatedByThreeSpaces() {
    String text = Table.withHeader("ID", "LABELS").row(1, "reserved:host").row(65793, "k8s:app=frontend").render();

    assertThat(text).isEqualTo("""
        ID      LABELS
        1       reserved:host
        65793   k8s:app=frontend
        """);
  }

  @Test
  void aMultiLineCellSpansLinesWhileTheOtherColumnsStayBlank() {
    String text = Table.withHeader("A", "B", "C").multiLineRow(List.of("x"), List.of("1", "22", "333"), List.of("end")).render();

    assertThat(text).isEqualTo("""
        A   B     C
        x   1     end
            22
            333
        """);
  }

  @Test
  void linesCarryNoTrailingSpacesEvenWhenTheirLastCellsAreEmpty() {
    String text = Table.withHeader("POLICY (ingress)", "X").headerLine("ENFORCEMENT", "").row("", "").render();

    assertThat(text.lines()).allSatisfy(line -> assertThat(line).doesNotEndWith(" "));
    assertThat(text).isEqualTo("POLICY (ingress)   X\nENFORCEMENT\n\n");
  }

  @Test
  void aRowWithTheWrongNumberOfCellsIsAProgrammingError() {
    assertThatThrownBy(() -> Table.withHeader("A", "B").row("only one"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("table has 2 columns, got 1 cells");
  }
}
