/**
 * The code snippets of the README and docs/*.md that use the package (`from "berth"`), for the
 * package test: each is type-checked against the installed package, and run unless the line
 * before its fence says why it cannot run there:
 *
 *   <!-- snippet: typecheck-only (reason) -->
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Snippet {
  /** `README.md:87`: the file and the line of the opening fence. */
  where: string;
  code: string;
  run: boolean;
  reason?: string;
}

const FENCE = /^(\s*)```(ts|typescript|js|javascript)\s*$/;

export function docSnippets(root: string): Snippet[] {
  const files = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const m = FENCE.exec(lines[i]);
      if (!m) continue;
      const indent = m[1].length;
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
      const code = body.join("\n");
      if (/from\s+["']berth["']/.test(code)) {
        const marker = /<!--\s*snippet:\s*typecheck-only\s*\(([^)]*)\)\s*-->/.exec(lines[i - 1] ?? "") ?? /<!--\s*snippet:\s*typecheck-only\s*\(([^)]*)\)\s*-->/.exec(lines[i - 2] ?? "");
        out.push({ where: `${file}:${i + 1}`, code, run: !marker, reason: marker?.[1] });
      }
      i = j;
    }
  }
  return out;
}
