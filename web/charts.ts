import uPlot from 'uplot';

const COLORS = ['#1f5fbf', '#b3261e', '#1b7f3b', '#7a4cc2'];

function width(el: HTMLElement): number {
  return Math.max(240, Math.min(el.clientWidth || 600, 1100));
}

/** A small line without axes, for a card. */
export function sparkline(el: HTMLElement, values: number[], label: string): void {
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', label);
  new uPlot(
    {
      width: 160,
      height: 40,
      legend: { show: false },
      cursor: { show: false },
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: false } },
      series: [{}, { stroke: COLORS[0], width: 1.5 }],
    },
    [values.map((_, i) => i), values],
    el,
  );
}

/** Daily series on a time axis; `marks` (per series, the indexes of spike days) are drawn as dots. */
export function dailyChart(
  el: HTMLElement,
  days: string[],
  series: Array<{ label: string; values: number[]; marks: number[] }>,
): void {
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values)];
  const marks: uPlot.Series[] = [];
  for (const [i, s] of series.entries()) {
    const only = s.values.map((v, k) => (s.marks.includes(k) ? v : null));
    (data as Array<Array<number | null>>).push(only);
    marks.push({
      label: `${s.label} spike`,
      stroke: COLORS[i % COLORS.length],
      width: 0,
      points: { show: true, size: 10, fill: '#ffd000', stroke: COLORS[i % COLORS.length] },
    });
  }
  // The first series (traffic) on the left axis; the smaller ones (contacts, leads) on their own axis on the right.
  const scale = (i: number) => (i === 0 ? 'y' : 'small');
  for (const [i, m] of marks.entries()) m.scale = scale(i);
  new uPlot(
    {
      width: width(el),
      height: 260,
      axes: [
        {},
        { scale: 'y', label: series[0]?.label },
        {
          scale: 'small',
          side: 1,
          grid: { show: false },
          label: series
            .slice(1)
            .map((s) => s.label)
            .join(', '),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, scale: scale(i) })),
        ...marks,
      ],
    },
    data,
    el,
  );
}

/** A line chart on a numeric x axis (thresholds, deciles). */
export function lineChart(
  el: HTMLElement,
  xLabel: string,
  xs: number[],
  series: Array<{ label: string; values: Array<number | null> }>,
  bars = false,
): void {
  new uPlot(
    {
      width: width(el),
      height: 240,
      scales: { x: { time: false } },
      axes: [{ label: xLabel }, {}],
      series: [
        { label: xLabel },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          ...(bars ? { paths: uPlot.paths.bars?.({ size: [0.6, 60] }), fill: `${COLORS[i % COLORS.length]}55` } : {}),
        })),
      ],
    },
    [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
    el,
  );
}
