/**
 * axe-core in the back-office browser tests: inject the installed `axe-core/axe.min.js` into the
 * page (through the DevTools protocol, so the page's Content-Security-Policy stays as served) and
 * run it on the page or one part of it. Violations come back with their impact, rule, help text and
 * the elements concerned, and a summary by impact for the test output.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const IMPACTS = ['critical', 'serious', 'moderate', 'minor'] as const;
export type Impact = (typeof IMPACTS)[number];

export interface AxeViolation {
  id: string;
  impact: Impact;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: string; summary: string }>;
}

/** Rules run: WCAG 2.1 A and AA (labels, names, contrast, structure) and axe's best practices (landmarks, headings). */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * The violations on the page, or within the elements `include` selects.
 * @example const violations = await runAxe(page, '#view');
 */
export async function runAxe(page: Page, include?: string): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(
    async ({ include, tags }) => {
      type Result = {
        id: string;
        impact: string | null;
        help: string;
        helpUrl: string;
        nodes: Array<{ target: unknown[]; failureSummary?: string }>;
      };
      const axe = (
        globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Result[] }> } }
      ).axe;
      const { violations } = await axe.run(include ? { include: [include] } : { exclude: [] }, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      });
      return violations.map((v) => ({
        id: v.id,
        impact: (v.impact ?? 'minor') as Impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.map(String).join(' '),
          summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300),
        })),
      }));
    },
    { include, tags: TAGS },
  );
}

/** Elements in violation, by impact. */
export function countByImpact(violations: readonly AxeViolation[]): Record<Impact, number> {
  const counts = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const v of violations) counts[v.impact] += v.nodes.length;
  return counts;
}

/** Serious and critical violations: the ones a screen must not have. */
export function blocking(violations: readonly AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** One line per violated rule, for an assertion message or the test output. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.nodes.length}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target)
          .join(', ')}`,
    )
    .join('\n');
}

/** A table of the counts by impact per screen. */
export function summaryTable(results: ReadonlyMap<string, readonly AxeViolation[]>): string {
  const width = Math.max(6, ...[...results.keys()].map((k) => k.length));
  const lines = [`${'screen'.padEnd(width)}  ${IMPACTS.map((i) => i.padStart(8)).join(' ')}`];
  const total = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const [screen, violations] of results) {
    const counts = countByImpact(violations);
    for (const impact of IMPACTS) total[impact] += counts[impact];
    lines.push(`${screen.padEnd(width)}  ${IMPACTS.map((i) => String(counts[i]).padStart(8)).join(' ')}`);
  }
  lines.push(`${'total'.padEnd(width)}  ${IMPACTS.map((i) => String(total[i]).padStart(8)).join(' ')}`);
  return lines.join('\n');
}
