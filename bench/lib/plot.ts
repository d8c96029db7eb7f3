/**
 * A small line chart as SVG text, log-scale x, for the bench's results (no plotting package:
 * a few lines of SVG are all a four-point curve needs, and the file diffs as text).
 */

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export interface LogXChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A line under the chart: how and where the figures were measured. */
  caption?: string;
}

const WIDTH = 880;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 250, top: 50, bottom: 80 };

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Powers of ten as 10⁴, 10⁵…: the x axis is stored messages, read by their order of magnitude. */
function powerLabel(value: number): string {
  const exponent = Math.round(Math.log10(value));
  const superscript = String(exponent).replace(/\d/g, (d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(d)]!);
  return `10${superscript}`;
}

/** A round step for the y axis giving about five grid lines up to `max`. */
function niceStep(max: number): number {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

export function logXChart(chart: LogXChart): string {
  const points = chart.series.flatMap((s) => s.points).filter((p) => p.x > 0 && Number.isFinite(p.y));
  if (points.length === 0) throw new Error(`chart "${chart.title}" has no points`);
  const xs = points.map((p) => Math.log10(p.x));
  const xMin = Math.floor(Math.min(...xs));
  const xMax = Math.max(Math.ceil(Math.max(...xs)), xMin + 1);
  const step = niceStep(Math.max(...points.map((p) => p.y)) || 1);
  const yMax = Math.ceil((Math.max(...points.map((p) => p.y)) || 1) / step) * step;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + ((Math.log10(x) - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escape(chart.title)}</text>`,
  ];
  for (let e = xMin; e <= xMax; e++) {
    const x = px(10 ** e);
    out.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${powerLabel(10 ** e)}</text>`,
    );
  }
  for (let y = 0; y <= yMax + step / 2; y += step) {
    const at = py(y);
    out.push(
      `<line x1="${MARGIN.left}" y1="${at}" x2="${MARGIN.left + plotW}" y2="${at}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${at + 4}" text-anchor="end">${Number(y.toPrecision(6))}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 40}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`,
  );
  chart.series.forEach((s, i) => {
    const shown = s.points.filter((p) => p.x > 0 && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${shown.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`,
      ...shown.map(
        (p) =>
          `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${escape(`${s.name}: ${p.y.toFixed(2)} ms at ${p.x.toLocaleString('en-US')}`)}</title></circle>`,
      ),
    );
    const ly = MARGIN.top + 10 + i * 22;
    const lx = MARGIN.left + plotW + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 36}" y="${ly + 4}">${escape(s.name)}</text>`,
    );
  });
  if (chart.caption) {
    out.push(
      `<text x="${WIDTH / 2}" y="${HEIGHT - 14}" text-anchor="middle" font-size="11" fill="#555">${escape(chart.caption)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
