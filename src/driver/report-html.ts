import { describeRange, formatValue } from '../adapters/prometheus/metric-check';
import { MetricSeries, ReportData } from './report-data';

/**
 * `canarykit report` as one self-contained HTML page: inline CSS and SVG, no script, no external
 * asset, so it can be attached to a review or a post-mortem and opened anywhere. Pure: the same
 * data gives the same bytes (no "generated at" time).
 */

const W = 880;
const H = 220;
const PAD = { left: 56, right: 16, top: 16, bottom: 28 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function utc(t: Date): string {
  return t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Maps times and values into the plot area. */
function scales(from: Date, to: Date, lo: number, hi: number) {
  const span = Math.max(1, to.getTime() - from.getTime());
  const range = hi - lo || 1;
  return {
    x: (t: Date) => PAD.left + ((t.getTime() - from.getTime()) / span) * (W - PAD.left - PAD.right),
    y: (v: number) => H - PAD.bottom - ((v - lo) / range) * (H - PAD.top - PAD.bottom),
  };
}

const n = (v: number): string => (Math.round(v * 10) / 10).toString();

function axes(from: Date, to: Date, lo: number, hi: number, unit: string): string {
  const s = scales(from, to, lo, hi);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
  const yTicks = ticks.map((v) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${n(s.y(v))}" y2="${n(s.y(v))}" class="grid"/><text x="${PAD.left - 6}" y="${n(s.y(v) + 4)}" text-anchor="end">${esc(formatValue(v, undefined))}${unit}</text>`);
  const times = [0, 0.5, 1].map((f) => new Date(from.getTime() + f * (to.getTime() - from.getTime())));
  const xTicks = times.map((t, i) => `<text x="${n(s.x(t))}" y="${H - 8}" text-anchor="${['start', 'middle', 'end'][i]}">${t.toISOString().slice(11, 19)}</text>`);
  return [...yTicks, ...xTicks].join('');
}

/** A step line (the value holds until the next point). */
function stepPath(points: { time: Date; value: number }[], s: ReturnType<typeof scales>, until: Date): string {
  if (points.length === 0) return '';
  const parts: string[] = [`M${n(s.x(points[0].time))},${n(s.y(points[0].value))}`];
  for (let i = 1; i < points.length; i++) parts.push(`H${n(s.x(points[i].time))}V${n(s.y(points[i].value))}`);
  parts.push(`H${n(s.x(until))}`);
  return parts.join('');
}

function weightChart(d: ReportData): string {
  const s = scales(d.from, d.to, 0, 100);
  const canary = d.points.map((p) => ({ time: p.time, value: p.trailers.weight }));
  const primary = canary.map((p) => ({ time: p.time, value: 100 - p.value }));
  const dots = canary.map((p) => `<circle cx="${n(s.x(p.time))}" cy="${n(s.y(p.value))}" r="3" class="canary"/>`).join('');
  return `<svg id="weight-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="traffic weight over the run">
<rect x="0" y="0" width="${W}" height="${H}" class="bg"/>${axes(d.from, d.to, 0, 100, '%')}
<path d="${stepPath(primary, s, d.to)}" class="line primary"/><path d="${stepPath(canary, s, d.to)}" class="line canary"/>${dots}
</svg>
<p class="legend"><span class="key canary"></span> canary (${esc(d.plan.targetName)}) <span class="key primary"></span> primary (${esc(d.plan.targetName)}-primary)</p>`;
}

function metricChart(d: ReportData, m: MetricSeries): string {
  const { metric } = m;
  const unit = metric.unit === 'milliseconds' ? 'ms' : '';
  const range = describeRange(metric.thresholdRange, metric.unit) || 'no bounds';
  const head = `<h3>${esc(metric.name)} <small>threshold: ${esc(range)}</small></h3>`;
  if (m.error) return `<section class="metric" data-metric="${esc(metric.name)}">${head}<p class="error">could not query Prometheus: ${esc(m.error)}</p></section>`;
  const measured = d.run.stages.flatMap((r) => (r.metrics[metric.name] === undefined ? [] : [{ time: r.time, value: r.metrics[metric.name] }]));
  const values = [...m.series.flatMap((x) => x.points.map((p) => p.value)), ...measured.map((p) => p.value)];
  const { min, max } = metric.thresholdRange;
  const bounds = [min, max].filter((b): b is number => b !== undefined);
  let lo = Math.min(...values, ...bounds);
  let hi = Math.max(...values, ...bounds);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
  lo -= pad;
  hi += pad;
  const s = scales(d.from, d.to, lo, hi);
  // The band where the check passes: [min, max], open ends reaching the plot's edge.
  const top = s.y(max ?? hi);
  const bottom = s.y(min ?? lo);
  const band = bounds.length > 0 ? `<rect class="band" x="${PAD.left}" y="${n(top)}" width="${W - PAD.left - PAD.right}" height="${n(Math.max(0, bottom - top))}"/>` : '';
  const lines = m.series
    .map((x) => `<polyline class="line series" points="${x.points.map((p) => `${n(s.x(p.time))},${n(s.y(p.value))}`).join(' ')}"/>`)
    .join('');
  const dots = measured.map((p) => `<circle cx="${n(s.x(p.time))}" cy="${n(s.y(p.value))}" r="4" class="measured"><title>${esc(formatValue(p.value, metric.unit))} at ${utc(p.time)}</title></circle>`).join('');
  const empty = m.series.length === 0 ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="nodata">no data in this range</text>` : '';
  return `<section class="metric" data-metric="${esc(metric.name)}">${head}
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(metric.name)} over the run">
<rect x="0" y="0" width="${W}" height="${H}" class="bg"/>${band}${axes(d.from, d.to, lo, hi, unit)}${lines}${dots}${empty}
</svg>
<p class="query"><code>${esc(metric.query.replace(/\s+/g, ' ').trim())}</code></p></section>`;
}

function timeline(d: ReportData): string {
  const rows = d.points.map((r) => `<tr><td>${utc(r.time)}</td><td class="phase ${esc(r.trailers.phase)}">${esc(r.trailers.phase)}</td><td>${r.trailers.weight}</td><td>${r.trailers.failedChecks}</td><td>${esc(r.subject)}</td><td><code>${r.sha.slice(0, 8)}</code></td></tr>`);
  return `<table id="timeline"><thead><tr><th>time (UTC)</th><th>phase</th><th>canary weight</th><th>failed checks</th><th>stage</th><th>commit</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function hooks(d: ReportData): string {
  if (d.hooks.length === 0) return '<p id="webhooks-none">No webhooks ran in this run.</p>';
  const rows = d.hooks.map((h) => `<tr class="${h.ok ? 'ok' : 'failed'}"><td>${utc(h.time)}</td><td>${esc(h.type)}</td><td>${h.ok ? 'ok' : 'failed'}</td><td>${esc(h.message)}</td></tr>`);
  return `<table id="webhooks"><thead><tr><th>time (UTC)</th><th>type</th><th>outcome</th><th>message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}small{color:#59636e;font-weight:normal}
table{border-collapse:collapse}td,th{border:1px solid #d1d9e0;padding:3px 8px;text-align:left}th{background:#f6f8fa}
.bg{fill:#fbfcfd;stroke:#d1d9e0}.grid{stroke:#e6eaef}svg text{font-size:11px;fill:#59636e}
.line{fill:none;stroke-width:2.5}.canary{stroke:#d4380d}circle.canary{fill:#d4380d}.primary{stroke:#0969da}.series{stroke:#8250df}
.band{fill:#2da44e;fill-opacity:.15;stroke:#2da44e;stroke-dasharray:4 3}.measured{fill:#1f2328}
.key{display:inline-block;width:14px;height:4px;margin:0 4px 2px 12px}.key.canary{background:#d4380d}.key.primary{background:#0969da}
.Succeeded{color:#1a7f37;font-weight:600}.Failed{color:#cf222e;font-weight:600}.failed td{color:#cf222e}.error{color:#cf222e}
code{font-size:12px}#summary dt{font-weight:600;float:left;width:150px}#summary dd{margin:0 0 2px 150px}`;

/** The page. */
export function renderReport(d: ReportData): string {
  const last = d.run.stages[d.run.stages.length - 1];
  const result = d.run.ended ? last.trailers.phase : `in progress (${last.trailers.phase})`;
  const minutes = Math.round((last.time.getTime() - d.run.stages[0].time.getTime()) / 6000) / 10;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>canarykit report: ${esc(d.canary)} run ${esc(d.run.revision.slice(0, 8))}</title>
<style>${CSS}</style></head>
<body>
<h1>${esc(d.canary)} <small>run of revision ${esc(d.run.revision)}</small></h1>
<dl id="summary"><dt>result</dt><dd id="result">${esc(result)}</dd><dt>strategy</dt><dd>${esc(d.plan.strategy)} (${esc(d.plan.provider)})</dd>
<dt>started</dt><dd>${utc(d.run.stages[0].time)}</dd><dt>last stage</dt><dd>${utc(last.time)} (${minutes} min later, ${d.run.stages.length} stages)</dd>
<dt>analysis</dt><dd>every ${d.plan.analysis.intervalSeconds}s, threshold ${d.plan.analysis.threshold}, max weight ${d.plan.analysis.maxWeight}</dd></dl>
<h2>Traffic weight</h2>
${weightChart(d)}
<h2>Metrics</h2>
${d.metrics.map((m) => metricChart(d, m)).join('\n')}
<h2>Timeline</h2>
${timeline(d)}
<h2>Webhooks</h2>
${hooks(d)}
</body></html>
`;
}
