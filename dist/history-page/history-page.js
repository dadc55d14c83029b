/*
 * The history page: one uPlot chart per measure over the recorded commits (the gated metric, P95
 * per batch size, file size), original and optimized model as two series, and the table of entries.
 * The data comes from history-data.js (window.PRUNE_GATE_HISTORY), written by
 * `prune-gate history render`. Every string from the data is set as text, never as HTML.
 * The charts are exposed as window.pruneGateHistory for tests and for anyone poking at the page.
 */
(function () {
  'use strict';
  const store = window.PRUNE_GATE_HISTORY || { entries: [] };
  const entries = store.entries;
  const COLORS = { original: '#8c959f', optimized: '#0969da' };

  const short = (e) => e.commit.slice(0, 7);
  const fixed = (digits) => (x) => (x === null || x === undefined ? '–' : x.toFixed(digits));
  const ms = (x) => (x === null || x === undefined ? '–' : x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1));
  const kib = (x) => (x === null || x === undefined ? '–' : (x / 1024).toFixed(1));
  const gated = entries.length ? entries[entries.length - 1].gatedMetric : undefined;

  function metricOf(e, name) {
    return e.metrics.find((m) => m.metric === name);
  }
  function p95Of(e, batch) {
    return e.p95.find((p) => p.batchSize === batch);
  }
  function batchSizes() {
    const all = new Set();
    for (const e of entries) for (const p of e.p95) all.add(p.batchSize);
    return [...all].sort((a, b) => a - b);
  }
  const value = (x) => (x === undefined ? null : x);

  /** The measures charted: each gives the original's and the optimized model's value of an entry. */
  const measures = [];
  if (gated) {
    const unit = metricOf(entries[entries.length - 1], gated).unit;
    measures.push({
      id: 'metric-' + gated,
      title: gated + ' (' + unit + ', gated)',
      format: fixed(2),
      original: (e) => value(metricOf(e, gated) && metricOf(e, gated).reference),
      optimized: (e) => value(metricOf(e, gated) && metricOf(e, gated).candidate),
    });
  }
  for (const b of batchSizes()) {
    measures.push({
      id: 'p95-batch-' + b,
      title: 'P95 latency, batch ' + b + ' (ms per batch)',
      format: ms,
      original: (e) => value(p95Of(e, b) && p95Of(e, b).original),
      optimized: (e) => value(p95Of(e, b) && p95Of(e, b).candidate),
    });
  }
  if (entries.some((e) => e.size)) {
    measures.push({
      id: 'size',
      title: 'Model file size (KiB)',
      format: fixed(1),
      original: (e) => value(e.size && e.size.original.fileBytes / 1024),
      optimized: (e) => value(e.size && e.size.candidate.fileBytes / 1024),
    });
  }

  function chartBox(measure, parent) {
    const box = document.createElement('div');
    box.className = 'chart';
    box.id = 'chart-' + measure.id;
    const title = document.createElement('h3');
    title.textContent = measure.title;
    box.appendChild(title);
    parent.appendChild(box);
    return box;
  }

  /** Drawn once every box is in the grid, so each takes its own column's width. */
  function chart(measure, box) {
    const xs = entries.map((_, i) => i);
    const data = [xs, entries.map(measure.original), entries.map(measure.optimized)];
    const label = (i) => (entries[i] ? short(entries[i]) + ' · ' + entries[i].time.slice(0, 10) : '');
    const scaleY = (v) => (v === null ? '' : String(+v.toFixed(4)));
    const plot = new uPlot(
      {
        width: Math.max(320, box.clientWidth - 16),
        height: 220,
        // Half a commit of room each side: the first and last points and labels are not cut off.
        scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
        series: [
          { label: 'commit', value: (u, i) => (i === null ? '–' : label(i)) },
          { label: 'original', stroke: COLORS.original, width: 2, points: { show: true, size: 6 }, value: (u, v) => measure.format(v) },
          { label: 'optimized', stroke: COLORS.optimized, width: 2, points: { show: true, size: 6 }, value: (u, v) => measure.format(v) },
        ],
        axes: [
          { values: (u, splits) => splits.map((i) => (Number.isInteger(i) && entries[i] ? short(entries[i]) : '')), incrs: [1, 2, 5, 10, 20, 50, 100] },
          { values: (u, splits) => splits.map(scaleY), size: 60 },
        ],
      },
      data,
      box,
    );
    return { id: measure.id, title: measure.title, uplot: plot };
  }

  function cell(row, text, cls) {
    const td = document.createElement(row.parentElement && row.parentElement.tagName === 'THEAD' ? 'th' : 'td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  /** Kept steps, consecutive steps of one kind as the last one reached: "structured 30 %, int8-static". */
  function recipeText(recipe) {
    const steps = [];
    for (const s of recipe) {
      const text = s.stage === 'prune' ? s.kind + ' ' + Math.round(100 * s.goal) + ' %' : s.kind;
      const last = steps[steps.length - 1];
      if (last && last.kind === s.kind) last.text = text;
      else steps.push({ kind: s.kind, text: text });
    }
    return steps.map((s) => s.text).join(', ');
  }

  function table(el) {
    const sizes = batchSizes();
    const head = el.createTHead().insertRow();
    for (const h of ['#', 'Commit', 'Time', 'Verdict', gated ? gated + ' original → optimized' : 'metric', 'Drift (95 % CI)']) cell(head, h);
    for (const b of sizes) cell(head, 'P95 b' + b + ' ms');
    for (const h of ['Size KiB', 'Recipe kept']) cell(head, h);
    const body = el.createTBody();
    // Newest first: the latest commit is what a reader looks for.
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      const m = gated ? metricOf(e, gated) : undefined;
      const row = body.insertRow();
      cell(row, String(i + 1));
      const c = cell(row, '');
      const code = document.createElement('code');
      code.textContent = short(e);
      code.title = e.commit;
      c.appendChild(code);
      cell(row, e.time.replace('T', ' ').slice(0, 16));
      cell(row, e.verdict, e.verdict);
      cell(row, m ? m.reference.toFixed(2) + ' → ' + m.candidate.toFixed(2) : '–');
      cell(row, m ? m.drift.toFixed(2) + (m.interval ? ' (' + m.interval.low.toFixed(2) + ' to ' + m.interval.high.toFixed(2) + ')' : '') : '–');
      for (const b of sizes) {
        const p = p95Of(e, b);
        cell(row, p ? ms(p.original) + ' → ' + ms(p.candidate) + ' (' + p.ratio.toFixed(2) + '×)' : '–');
      }
      cell(row, e.size ? kib(e.size.original.fileBytes) + ' → ' + kib(e.size.candidate.fileBytes) : '–');
      cell(row, e.recipe.length ? recipeText(e.recipe) : 'none (original shipped)');
    }
  }

  const summary = document.getElementById('summary');
  const charts = document.getElementById('charts');
  if (entries.length === 0) {
    summary.textContent = 'No entries yet: `prune-gate history add` or the Action\'s `mode: history` appends one per commit.';
    summary.className = 'empty';
  } else {
    const first = entries[0];
    const last = entries[entries.length - 1];
    summary.textContent =
      entries.length + ' commit' + (entries.length === 1 ? '' : 's') + (last.branch ? ' on ' + last.branch : '') + ', ' + first.time.slice(0, 10) + ' to ' + last.time.slice(0, 10) + '. Hover a chart for the commit and its values.';
  }
  const boxes = measures.map((m) => chartBox(m, charts));
  const drawn = measures.map((m, i) => chart(m, boxes[i]));
  table(document.getElementById('entries'));
  window.pruneGateHistory = { entries: entries.length, charts: drawn };
})();
