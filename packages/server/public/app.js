// The lookup page: asks this server's /spliceai/ endpoint and draws the answer. No network beyond it.
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const EVENTS = [
  ['AG', 'Acceptor gain', 'RA', 'AA'],
  ['AL', 'Acceptor loss', 'RA', 'AA'],
  ['DG', 'Donor gain', 'RD', 'AD'],
  ['DL', 'Donor loss', 'RD', 'AD'],
];
const COLORS = { RA: '#1f77b4', AA: '#1f77b4', RD: '#d62728', AD: '#d62728' };

async function init() {
  try {
    const health = await (await fetch('/health')).json();
    for (const g of health.genomes) $('hg').append(new Option(`hg${g.hg}`, g.hg));
    $('model').textContent = `Model: ${health.model.adapter} (${health.model.set}).`;
    $('licence').textContent = health.model.license ? `${health.model.set} weights, licence ${health.model.license}` : health.model.set;
    if (health.limits) $('distance').max = String(health.limits.maxDistance);
  } catch {
    showError('the server did not answer /health');
  }
  const params = new URLSearchParams(location.search);
  for (const key of ['variant', 'hg', 'distance', 'mask']) if (params.get(key) !== null) $(key).value = params.get(key);
  $('query').addEventListener('submit', (e) => {
    e.preventDefault();
    void lookup();
  });
  if (params.get('variant')) void lookup();
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

async function lookup() {
  const q = new URLSearchParams({ hg: $('hg').value, variant: $('variant').value.trim(), distance: $('distance').value, mask: $('mask').value });
  history.replaceState(null, '', `?${q}`);
  $('error').hidden = true;
  $('result').hidden = true;
  $('status').textContent = 'scoring…';
  $('submit').disabled = true;
  try {
    const res = await fetch(`/spliceai/?${q}`);
    const body = await res.json();
    if (!res.ok || body.error) throw new Error(body.error || `HTTP ${res.status}`);
    render(body);
    $('status').textContent = body.source.endsWith(':cache') ? 'from the cache' : 'scored';
  } catch (error) {
    $('status').textContent = '';
    showError(error.message);
  } finally {
    $('submit').disabled = false;
  }
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function scoreClass(value) {
  const v = Math.abs(Number(value));
  return v >= 0.5 ? 'high' : v >= 0.2 ? 'mid' : '';
}

function render(body) {
  const refOnly = body.ref === null;
  $('title').textContent = refOnly
    ? `${body.chrom}:${body.pos} (reference only), hg${body.genomeVersion}`
    : `${body.chrom}:${body.pos} ${body.ref}>${body.alt}, hg${body.genomeVersion}`;
  const head = $('scores').tHead;
  const tbody = $('scores').tBodies[0];
  head.innerHTML = '';
  tbody.innerHTML = '';
  const hr = head.insertRow();
  const columns = refOnly
    ? ['Gene', 'Transcript', 'Strand', 'Priority', 'Max REF acceptor', 'at', 'Max REF donor', 'at']
    : ['Gene', 'Transcript', 'Strand', 'Priority', ...EVENTS.flatMap(([k, name]) => [`${name} Δ`, 'REF→ALT', 'at'])];
  for (const c of columns) hr.append(Object.assign(document.createElement('th'), { textContent: c }));
  for (const s of body.scores) {
    const row = tbody.insertRow();
    row.dataset.transcript = s.t_id || s.g_name;
    cell(row, s.g_name, 'text');
    cell(row, s.t_id || '—', 'text');
    cell(row, s.t_strand, 'text');
    cell(row, s.t_priority, 'text');
    if (refOnly) {
      cell(row, s.RA_MAX).dataset.field = 'RA_MAX';
      cell(row, signed(s.RA_MAX_POS)).dataset.field = 'RA_MAX_POS';
      cell(row, s.RD_MAX).dataset.field = 'RD_MAX';
      cell(row, signed(s.RD_MAX_POS)).dataset.field = 'RD_MAX_POS';
      continue;
    }
    for (const [k] of EVENTS) {
      cell(row, s[`DS_${k}`], scoreClass(s[`DS_${k}`])).dataset.field = `DS_${k}`;
      cell(row, `${s[`DS_${k}_REF`]}→${s[`DS_${k}_ALT`]}`).dataset.field = `DS_${k}_REF_ALT`;
      cell(row, `${signed(s[`DP_${k}`])} bp`).dataset.field = `DP_${k}`;
    }
  }
  $('plot-distance').textContent = String(body.distance);
  const top = body.scores.find((s) => (s.t_id || s.g_name) === body.allNonZeroScoresTranscriptId) || body.scores[0];
  $('plot-transcript').textContent = top ? `(${top.g_name}${top.t_id ? ` ${top.t_id}` : ''}, ${top.t_strand} strand)` : '';
  $('result').hidden = false;
  plot(body, top, refOnly);
}

const signed = (n) => (n > 0 ? `+${n}` : String(n));

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent.append(node);
  return node;
}

/** REF (dashed) and ALT (solid) acceptor/donor probabilities, ALT−REF deltas as bars, exons beneath. */
function plot(body, transcript, refOnly) {
  const svg = $('plot');
  svg.replaceChildren();
  const W = 960;
  const H = 360;
  const left = 48;
  const right = 12;
  const top = 12;
  const probH = 170;
  const deltaTop = top + probH + 16;
  const deltaH = 90;
  const exonY = deltaTop + deltaH + 20;
  const from = body.pos - body.distance;
  const to = body.pos + body.distance;
  const x = (p) => left + ((p - from) / Math.max(to - from, 1)) * (W - left - right);
  const yProb = (v) => top + probH - v * probH;
  const yDelta = (v) => deltaTop + deltaH / 2 - v * (deltaH / 2);
  // axes
  el('line', { x1: left, x2: W - right, y1: top + probH, y2: top + probH, stroke: '#999' }, svg);
  el('line', { x1: left, x2: W - right, y1: yDelta(0), y2: yDelta(0), stroke: '#999' }, svg);
  for (const v of [0, 0.5, 1]) el('text', { x: left - 6, y: yProb(v) + 4, 'text-anchor': 'end', 'font-size': 10 }, svg).textContent = v.toFixed(1);
  for (const v of [-1, 1]) el('text', { x: left - 6, y: yDelta(v) + 4, 'text-anchor': 'end', 'font-size': 10 }, svg).textContent = `Δ${v > 0 ? '+' : ''}${v}`;
  for (const p of [from, body.pos, to])
    el('text', { x: x(p), y: H - 4, 'text-anchor': p === from ? 'start' : p === to ? 'end' : 'middle', 'font-size': 10 }, svg).textContent =
      p.toLocaleString('en-US');
  el('line', { x1: x(body.pos), x2: x(body.pos), y1: top, y2: exonY + 14, stroke: '#888', 'stroke-dasharray': '2 3' }, svg);
  // probabilities: positions missing from allNonZeroScores are below 0.01 on both alleles
  const rows = new Map((body.allNonZeroScores || []).map((r) => [r.pos, r]));
  const series = refOnly ? ['RA', 'RD'] : ['RA', 'AA', 'RD', 'AD'];
  for (const key of series) {
    let d = '';
    for (let p = from; p <= to; p++) {
      const v = rows.has(p) ? Number(rows.get(p)[key]) : 0;
      d += `${d ? 'L' : 'M'}${x(p).toFixed(1)},${yProb(v).toFixed(1)}`;
    }
    el(
      'path',
      {
        d,
        fill: 'none',
        stroke: COLORS[key],
        'stroke-width': key[0] === 'R' ? 1.2 : 1.6,
        'stroke-dasharray': key[0] === 'R' && !refOnly ? '4 3' : 'none',
        class: `series series-${key}`,
      },
      svg,
    );
  }
  if (!refOnly) {
    const bw = Math.max((W - left - right) / (to - from + 1), 2);
    for (const r of rows.values()) {
      for (const [ref, alt] of [
        ['RA', 'AA'],
        ['RD', 'AD'],
      ]) {
        const dv = Number(r[alt]) - Number(r[ref]);
        if (Math.abs(dv) < 0.005) continue;
        el(
          'rect',
          {
            x: x(r.pos) - bw / 2,
            width: bw,
            y: Math.min(yDelta(dv), yDelta(0)),
            height: Math.abs(yDelta(dv) - yDelta(0)),
            fill: COLORS[ref],
            opacity: 0.75,
            class: 'delta',
          },
          svg,
        );
      }
    }
  }
  // the transcript's exons (clipped to the window), with its line
  if (transcript && transcript.EXON_STARTS) {
    const tx0 = Math.max(transcript.TX_START, from);
    const tx1 = Math.min(transcript.TX_END, to);
    if (tx0 <= tx1) el('line', { x1: x(tx0), x2: x(tx1), y1: exonY + 6, y2: exonY + 6, stroke: '#333' }, svg);
    transcript.EXON_STARTS.forEach((s, i) => {
      const e = transcript.EXON_ENDS[i];
      if (e < from || s > to) return;
      el(
        'rect',
        { x: x(Math.max(s, from)), width: Math.max(x(Math.min(e, to)) - x(Math.max(s, from)), 1), y: exonY, height: 12, fill: '#333', class: 'exon' },
        svg,
      );
    });
    el('text', { x: W - right, y: exonY - 4, 'text-anchor': 'end', 'font-size': 10 }, svg).textContent = `${transcript.g_name} exons (${transcript.t_strand})`;
  }
  const legend = $('legend');
  legend.innerHTML = '';
  for (const [key, label] of [
    ['RA', 'REF acceptor'],
    ['AA', 'ALT acceptor'],
    ['RD', 'REF donor'],
    ['AD', 'ALT donor'],
  ]) {
    if (!series.includes(key)) continue;
    const span = document.createElement('span');
    span.innerHTML = `<i style="background:${COLORS[key]};${key[0] === 'R' && !refOnly ? 'opacity:.5' : ''}"></i>${label}`;
    legend.append(span);
  }
  svg.dataset.drawn = String(series.length);
}

void init();
