/**
 * Go's text/tabwriter as kubectl's describers set it up (`tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)`):
 * a cell is text ended by a tab; the cells of one column in a run of consecutive lines that all
 * have that cell are padded to the widest plus two; a line's last (unterminated) cell is written
 * as it is. A line with fewer cells ends the run of the columns it lacks, so a section header
 * without a tab separates blocks that align on their own.
 */
export function goTabwriter(text: string): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const out: string[] = lines.map(() => "");
  const widths: number[] = [];
  const width = (s: string) => [...s].length;

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      out[i] = lines[i].map((cell, j) => (j < lines[i].length - 1 ? cell + " ".repeat(Math.max(0, (widths[j] ?? 0) - width(cell))) : cell)).join("");
    }
  };

  // Go's Writer.format: recursive over columns, one block per run of lines that have the column.
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let w = 0;
      for (; i < line1 && column < lines[i].length - 1; i++) w = Math.max(w, width(lines[i][column]) + 2);
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out.join("\n");
}
