/**
 * A section of docs/benchmarks.md that another script measures (`keystore-probe.ts`: "100 000 keys"),
 * kept when `npm run bench` writes the file again: from its heading to the next heading of its level.
 */
import { existsSync, readFileSync } from 'node:fs';

export function keptSection(file: string, heading: string): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start === -1) return '';
  const next = text.indexOf('\n## ', start + heading.length + 1);
  return '\n' + text.slice(start + 1, next === -1 ? text.length : next + 1);
}
