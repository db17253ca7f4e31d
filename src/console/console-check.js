// Draws the check page's charts with uPlot from the data the page embeds (no request of its own).
(() => {
  const source = document.getElementById('chart-data');
  if (!source || typeof uPlot === 'undefined') return;
  const data = JSON.parse(source.textContent);
  const palette = ['#1f6feb', '#cf222e', '#1a7f37', '#bf8700', '#8250df', '#0a7ea4', '#bc4c00', '#6e7781'];
  const width = () => Math.min(1100, document.body.clientWidth - 40);
  const gaps = data.gaps ?? [];
  const shadeGaps = (plot) => {
    const { ctx, bbox } = plot;
    ctx.save();
    ctx.fillStyle = 'rgba(207, 34, 46, 0.12)';
    let drawn = 0;
    for (const gap of gaps) {
      const left = plot.valToPos(gap.start, 'x', true);
      const right = plot.valToPos(gap.end, 'x', true);
      if (right < bbox.left || left > bbox.left + bbox.width) continue;
      const from = Math.max(bbox.left, left);
      drawn += 1;
      // At least 2 px: a single missed slot in a week is still seen.
      ctx.fillRect(
        from,
        bbox.top,
        Math.max(2 * devicePixelRatio, Math.min(bbox.left + bbox.width, right) - from),
        bbox.height,
      );
    }
    ctx.restore();
    plot.root.parentElement.dataset.gapsDrawn = String(drawn);
  };
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
      // Missed slots (no run stored) shaded across the plot, so a hole in the line reads as one.
      hooks: { drawClear: [shadeGaps] },
    };
    element.dataset.series = String(series.length);
    element.dataset.gaps = String(gaps.length);
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
