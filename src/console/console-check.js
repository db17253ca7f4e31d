// Draws the check page's charts with uPlot from the data the page embeds (no request of its own).
(() => {
  const source = document.getElementById('chart-data');
  if (!source || typeof uPlot === 'undefined') return;
  const data = JSON.parse(source.textContent);
  const palette = ['#1f6feb', '#cf222e', '#1a7f37', '#bf8700', '#8250df', '#0a7ea4', '#bc4c00', '#6e7781'];
  const width = () => Math.min(1100, document.body.clientWidth - 40);
  const draw = (id, x, series) => {
    const element = document.getElementById(id);
    if (!element || x.length === 0) return;
    const options = {
      width: width(),
      height: 260,
      series: [
        {},
        ...series.map((one, index) => ({
          label: one.label,
          stroke: palette[index % palette.length],
          spanGaps: false,
        })),
      ],
      axes: [{}, { label: 'ms' }],
    };
    element.dataset.series = String(series.length);
    const plot = new uPlot(options, [x, ...series.map((one) => one.values)], element);
    // One point (a range of one hour): uPlot would stretch the time axis over years; an hour round it.
    if (x.length === 1) plot.setScale('x', { min: x[0] - 1800, max: x[0] + 1800 });
  };
  draw(
    'latency-chart',
    data.hours,
    data.percentiles.flatMap((location) => [
      { label: `${location.location} p50`, values: location.p50 },
      { label: `${location.location} p95`, values: location.p95 },
      { label: `${location.location} p99`, values: location.p99 },
    ]),
  );
  draw(
    'phases-chart',
    data.phases.at,
    data.phases.series.map((one) => ({ label: one.name, values: one.values })),
  );
})();
