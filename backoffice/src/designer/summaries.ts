// Each plugin box's line: the plugin's own describe(config), computed by the server for the draft
// (the plugins action `summaries`), asked at most once per instance as it stands.
import type { Instance, Summary, Designer } from './model.js';

/** The key of an instance's summary: the instance as it stands, route or global. */
export function summaryKey(instance: Instance, isGlobal: boolean): string {
  return `${isGlobal ? 'g' : 'r'}:${JSON.stringify(instance)}`;
}

/** Ask, a moment after the last change, for the summaries not known yet; redraw when some came. */
export function refreshSummaries(d: Designer) {
  clearTimeout(d.summaryTimer);
  d.summaryTimer = setTimeout(() => void fetchSummaries(d), 150);
}

async function fetchSummaries(d: Designer) {
  const wanted = [
    { list: d.draft.plugins, isGlobal: false },
    { list: d.global.plugins, isGlobal: true },
  ].flatMap(({ list, isGlobal }) => {
    const missing = list.filter((i) => !d.summaries.has(summaryKey(i, isGlobal)));
    return missing.length ? [{ list: missing, isGlobal }] : [];
  });
  try {
    for (const { list, isGlobal } of wanted) {
      // Keyed as sent: the panel edits instances in place while the answer is on its way.
      const asSent = list.map((instance) => summaryKey(instance, isGlobal));
      const answer = (await d.client.request('action', 'plugins', {
        action: 'summaries',
        body: { plugins: list, global: isGlobal },
      })) as Summary[];
      answer.forEach((s, i) => d.summaries.set(asSent[i] as string, s));
    }
    if (wanted.length) d.draw();
  } catch {
    // Summaries are a convenience; the boxes keep the plugin's description.
  }
}
