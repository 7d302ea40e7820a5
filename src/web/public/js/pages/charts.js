// Charts with uPlot (small, fast, maintained), loaded only by the pages that draw them.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
let uplotModule;
const loadUplot = () => (uplotModule ??= import('uplot').then((m) => m.default));

/** A time-series chart: x in seconds since the epoch, or categorical when `categories` is given. */
export function LineChart({ title, x, series, bars = false, categories }) {
  const el = useRef(null);
  useEffect(() => {
    let chart;
    let cancelled = false;
    loadUplot().then((uPlot) => {
      if (cancelled || !el.current) return;
      const width = Math.max(280, el.current.clientWidth);
      chart = new uPlot(
        {
          title,
          width,
          height: 220,
          scales: { x: { time: !categories } },
          axes: [categories ? { values: (_u, ticks) => ticks.map((t) => categories[t] ?? '') } : {}, {}],
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], fill: bars ? `${COLORS[i % COLORS.length]}55` : undefined, paths: bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined }))],
        },
        [x, ...series.map((s) => s.values)],
        el.current,
      );
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [title, JSON.stringify(x), JSON.stringify(series)]);
  return html`<figure class="chart" ref=${el} aria-label=${title}></figure>`;
}
