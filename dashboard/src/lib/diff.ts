/** A line diff (longest common subsequence), enough to compare two versions of a script. */

export interface DiffLine {
  kind: "same" | "add" | "del";
  text: string;
  /** Line number in the old text (for `same` and `del`). */
  oldNo: number | null;
  /** Line number in the new text (for `same` and `add`). */
  newNo: number | null;
}

function splitLines(s: string): string[] {
  const lines = s.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function lineDiff(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Trim the common head and tail so the table stays small for typical edits.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const n = am.length;
  const m = bm.length;
  // lcs[i][j] = LCS length of am[i..] and bm[j..], in a flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        am[i] === bm[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  for (let k = 0; k < head; k++) out.push({ kind: "same", text: a[k]!, oldNo: k + 1, newNo: k + 1 });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && am[i] === bm[j]) {
      out.push({ kind: "same", text: am[i]!, oldNo: head + i + 1, newNo: head + j + 1 });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
      out.push({ kind: "del", text: am[i]!, oldNo: head + i + 1, newNo: null });
      i++;
    } else {
      out.push({ kind: "add", text: bm[j]!, oldNo: null, newNo: head + j + 1 });
      j++;
    }
  }
  for (let k = 0; k < tail; k++) {
    const oi = a.length - tail + k;
    const ni = b.length - tail + k;
    out.push({ kind: "same", text: a[oi]!, oldNo: oi + 1, newNo: ni + 1 });
  }
  return out;
}

export interface DiffHunk {
  lines: DiffLine[];
  /** Unchanged lines left out before this hunk. */
  skippedBefore: number;
}

/** Groups a diff into hunks with `context` unchanged lines around each change. */
export function hunks(diff: DiffLine[], context = 3): DiffHunk[] {
  const keep = new Array<boolean>(diff.length).fill(false);
  diff.forEach((d, idx) => {
    if (d.kind !== "same") {
      for (let k = Math.max(0, idx - context); k <= Math.min(diff.length - 1, idx + context); k++) keep[k] = true;
    }
  });
  const out: DiffHunk[] = [];
  let skipped = 0;
  let current: DiffHunk | null = null;
  diff.forEach((d, idx) => {
    if (keep[idx]) {
      if (!current) {
        current = { lines: [], skippedBefore: skipped };
        out.push(current);
        skipped = 0;
      }
      current.lines.push(d);
    } else {
      current = null;
      skipped++;
    }
  });
  return out;
}

export function diffStats(diff: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const d of diff) {
    if (d.kind === "add") added++;
    else if (d.kind === "del") removed++;
  }
  return { added, removed };
}
