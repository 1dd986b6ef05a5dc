/**
 * The benchmark chart, written as SVG text by hand (no dependency, no network): one row per proxy
 * scenario, a horizontal bar of its requests/s as a multiple of the bare proxy's (a line marks 1×)
 * and beside it a bar of the server's CPU time per request.
 */
export interface ChartRow {
  name: string;
  /** Requests/s divided by the bare proxy's. */
  ratio: number;
  /** Server CPU time per request, µs (NaN: unknown). */
  cpuUsPerRequest: number;
}

const LABEL_WIDTH = 430;
const PANEL_WIDTH = 300;
const GAP = 40;
const ROW_HEIGHT = 22;
const TOP = 54;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

export function chartSvg(rows: ChartRow[], subtitle: string): string {
  const maxRatio = Math.max(1, ...rows.map((r) => finite(r.ratio))) * 1.1;
  const maxCpu = Math.max(1, ...rows.map((r) => finite(r.cpuUsPerRequest))) * 1.1;
  const ratioX = LABEL_WIDTH;
  const cpuX = LABEL_WIDTH + PANEL_WIDTH + GAP;
  const width = cpuX + PANEL_WIDTH + 20;
  const height = TOP + rows.length * ROW_HEIGHT + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="10" y="18" font-size="14" font-weight="bold">Portcullis benchmark: requests/s vs the bare proxy, and server CPU per request</text>`,
  );
  out.push(`<text x="10" y="34" fill="#555555">${escapeXml(subtitle)}</text>`);
  out.push(`<text x="${ratioX}" y="${TOP - 6}" font-weight="bold">req/s ÷ bare proxy</text>`);
  out.push(`<text x="${cpuX}" y="${TOP - 6}" font-weight="bold">server CPU µs / request</text>`);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const ratioWidth = (finite(row.ratio) / maxRatio) * PANEL_WIDTH;
    const cpuWidth = (finite(row.cpuUsPerRequest) / maxCpu) * PANEL_WIDTH;
    const peer = !row.name.startsWith('gateway');
    out.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${escapeXml(row.name)}</text>`);
    out.push(
      `<rect x="${ratioX}" y="${y + 4}" width="${ratioWidth.toFixed(1)}" height="${ROW_HEIGHT - 8}" fill="${peer ? '#9e9e9e' : '#2f6db5'}"/>`,
    );
    out.push(
      `<text x="${(ratioX + ratioWidth + 4).toFixed(1)}" y="${y + 15}">${Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)}×` : '—'}</text>`,
    );
    out.push(
      `<rect x="${cpuX}" y="${y + 4}" width="${cpuWidth.toFixed(1)}" height="${ROW_HEIGHT - 8}" fill="${peer ? '#bdbdbd' : '#e08a2c'}"/>`,
    );
    out.push(
      `<text x="${(cpuX + cpuWidth + 4).toFixed(1)}" y="${y + 15}">${Number.isFinite(row.cpuUsPerRequest) ? row.cpuUsPerRequest.toFixed(0) : '—'}</text>`,
    );
  });
  const oneX = ratioX + PANEL_WIDTH / maxRatio;
  out.push(
    `<line x1="${oneX.toFixed(1)}" y1="${TOP}" x2="${oneX.toFixed(1)}" y2="${TOP + rows.length * ROW_HEIGHT}" stroke="#c62828" stroke-dasharray="4 3"/>`,
  );
  out.push(
    `<text x="${(oneX + 3).toFixed(1)}" y="${TOP + rows.length * ROW_HEIGHT + 14}" fill="#c62828">1× bare</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
