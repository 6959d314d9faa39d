/**
 * The dashboard: one self-contained page (inline CSS and script, nothing fetched from elsewhere, no
 * build step) that polls `GET /cluster/live` every second and redraws: the members with status and
 * phi over time, the ring as a circle of token ranges, and recent membership events.
 */
export function renderDashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Elastica · kv-store</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <div class="brand"><span class="logo" aria-hidden="true"></span><span>Elastica</span><span class="sub">kv-store</span></div>
  <div class="summary" id="summary">connecting…</div>
  <div class="conn" id="conn" data-live="false"><span class="dot"></span><span id="conn-text">connecting</span></div>
</header>
<main>
  <section class="card members">
    <h2>Members <span class="hint" id="threshold"></span></h2>
    <table>
      <thead><tr><th>node</th><th>status</th><th class="num">phi</th><th>phi, last 3 minutes</th><th>started</th><th>version</th><th class="num">share</th></tr></thead>
      <tbody id="members"></tbody>
    </table>
  </section>
  <section class="card ring">
    <h2>Ring <span class="hint" id="ring-hint"></span></h2>
    <svg id="ring" viewBox="-130 -130 260 260" role="img" aria-label="the token ring"></svg>
    <ul class="legend" id="legend"></ul>
  </section>
  <section class="card events">
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </section>
  <section class="card node">
    <h2>This node</h2>
    <dl id="store"></dl>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { --bg:#f5f6f8; --card:#fff; --ink:#1d2330; --muted:#6b7384; --line:#e6e8ee; --up:#1f9d55; --down:#d64545; --joining:#2f6fde; --leaving:#d98b16; --left:#9aa1ae; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:center; gap:24px; padding:14px 28px; background:#151a24; color:#e9edf5; }
.brand { display:flex; align-items:center; gap:10px; font-weight:650; font-size:17px; letter-spacing:.2px; }
.brand .sub { font-weight:400; color:#9aa6bd; }
.logo { width:18px; height:18px; border-radius:50%; border:3px solid #5aa9ff; box-shadow: inset 0 0 0 3px #151a24, inset 0 0 0 9px #5aa9ff; }
.summary { color:#b9c3d6; flex:1; }
.conn { display:flex; align-items:center; gap:8px; color:#b9c3d6; font-size:13px; }
.conn .dot { width:9px; height:9px; border-radius:50%; background:var(--down); }
.conn[data-live="true"] .dot { background:#3ddc84; box-shadow:0 0 0 3px rgba(61,220,132,.18); }
main { display:grid; grid-template-columns: minmax(0,1fr) 340px; gap:18px; padding:20px 28px 28px; max-width:1280px; margin:0 auto; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 18px; box-shadow:0 1px 2px rgba(16,24,40,.04); min-width:0; }
h2 { margin:0 0 12px; font-size:13px; text-transform:uppercase; letter-spacing:.7px; color:var(--muted); font-weight:650; display:flex; justify-content:space-between; }
.hint { text-transform:none; letter-spacing:0; font-weight:400; }
table { width:100%; border-collapse:collapse; }
th { text-align:left; font-weight:550; color:var(--muted); font-size:12px; padding:6px 8px; border-bottom:1px solid var(--line); }
td { padding:9px 8px; border-bottom:1px solid var(--line); vertical-align:middle; white-space:nowrap; }
tr:last-child td { border-bottom:0; }
.num { text-align:right; font-variant-numeric:tabular-nums; }
.node-id { display:flex; align-items:center; gap:9px; font-weight:550; }
.node-id small { color:var(--muted); font-weight:400; }
.swatch { width:11px; height:11px; border-radius:3px; flex:none; }
.self { font-size:11px; color:#fff; background:#5b6477; border-radius:4px; padding:0 5px; margin-left:4px; font-weight:500; }
.pill { display:inline-block; min-width:64px; text-align:center; padding:2px 9px; border-radius:999px; font-size:12px; font-weight:600; color:#fff; background:var(--left); }
.pill.up { background:var(--up); } .pill.down { background:var(--down); } .pill.joining { background:var(--joining); } .pill.leaving { background:var(--leaving); }
tr[data-status="down"] td { background:#fff6f6; }
tr[data-status="left"] td { color:var(--muted); }
svg.spark { width:200px; height:30px; display:block; }
.ring svg { width:100%; max-width:300px; display:block; margin:0 auto; }
.legend { list-style:none; padding:0; margin:12px 0 0; display:grid; grid-template-columns:1fr; gap:4px; font-size:12.5px; }
.legend li { display:flex; align-items:center; gap:7px; overflow:hidden; text-overflow:ellipsis; }
.legend b { margin-left:auto; font-weight:550; font-variant-numeric:tabular-nums; }
.events ol { list-style:none; margin:0; padding:0; max-height:260px; overflow:auto; }
.events li { display:flex; gap:12px; align-items:center; padding:5px 0; border-bottom:1px dashed var(--line); font-size:13px; }
.events li:last-child { border-bottom:0; }
.events time { color:var(--muted); font-variant-numeric:tabular-nums; width:64px; flex:none; }
.badge { font-size:11px; font-weight:650; text-transform:uppercase; letter-spacing:.4px; padding:1px 7px; border-radius:4px; background:#eef0f4; color:#485063; width:74px; text-align:center; flex:none; }
.badge.up, .badge.joined { background:#e3f5ea; color:#17803f; } .badge.down { background:#fde8e8; color:#b42323; }
.badge.restarted { background:#efe7fd; color:#6a3fc4; } .badge.leaving { background:#fdf1dc; color:#9a5d06; } .badge.ring { background:#e6effd; color:#2256b8; }
.empty { color:var(--muted); font-style:italic; }
dl { display:grid; grid-template-columns:auto 1fr; gap:6px 14px; margin:0; font-size:13px; }
dt { color:var(--muted); } dd { margin:0; text-align:right; font-variant-numeric:tabular-nums; font-weight:550; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;

// Plain browser JavaScript (no build step): everything from the server is set as text, never as HTML.
const SCRIPT = `
(() => {
  const PALETTE = ['#4e79a7','#f28e2b','#59a14f','#e15759','#2ca6a4','#edc948','#b07aa1','#ff9da7','#9c755f','#5f6b7d'];
  const NS = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  let since = 0;
  let events = [];
  let colors = new Map();

  function el(tag, attrs, ...children) {
    const node = tag.startsWith('svg:') ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }

  // Stable colours: by hash, moving on when two current members would share one.
  function assignColors(ids) {
    const used = new Set();
    const next = new Map();
    for (const id of [...ids].sort()) {
      let i = hash(id) % PALETTE.length;
      for (let n = 0; n < PALETTE.length && used.has(i); n++) i = (i + 1) % PALETTE.length;
      used.add(i);
      next.set(id, PALETTE[i]);
    }
    colors = next;
  }

  const pct = (f) => (f * 100).toFixed(f < 0.1 ? 1 : 0) + '%';
  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

  function sparkline(samples, threshold, color) {
    const W = 200, H = 30, top = Math.max(threshold * 1.25, 1);
    const svg = el('svg:svg', { class: 'spark', viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none' });
    const ty = H - (threshold / top) * (H - 2) - 1;
    svg.append(el('svg:line', { x1: 0, x2: W, y1: ty, y2: ty, stroke: '#d64545', 'stroke-width': 1, 'stroke-dasharray': '3 3', opacity: 0.6 }));
    if (!samples || samples.length < 2) return svg;
    const t0 = samples[0][0], t1 = samples[samples.length - 1][0], span = Math.max(t1 - t0, 1);
    let d = '', open = false;
    for (const [t, phi, status] of samples) {
      if (phi === null) { open = false; continue; }
      const x = ((t - t0) / span) * W, y = H - (Math.min(phi, top) / top) * (H - 2) - 1;
      d += (open ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
      open = true;
    }
    svg.append(el('svg:path', { d, fill: 'none', stroke: color, 'stroke-width': 1.6, 'stroke-linejoin': 'round' }));
    return svg;
  }

  function renderMembers(cluster, history) {
    const share = cluster.ring.ownership || {};
    const rows = [...cluster.members].sort((a, b) => a.id.localeCompare(b.id)).map((m) => {
      const color = colors.get(m.id) || '#999';
      const phi = m.phi === null ? '∞' : m.phi.toFixed(2);
      return el('tr', { 'data-member-id': m.id, 'data-status': m.status },
        el('td', {}, el('div', { class: 'node-id' }, el('span', { class: 'swatch', style: 'background:' + color }), m.id,
          m.id === cluster.self ? el('span', { class: 'self' }, 'this node') : '',
          m.address !== m.id ? el('small', {}, m.address) : '')),
        el('td', {}, el('span', { class: 'pill ' + m.status }, m.status)),
        el('td', { class: 'num' }, phi),
        el('td', {}, sparkline(history[m.id], cluster.threshold, color)),
        el('td', {}, m.generation ? clock(m.generation) : '—'),
        el('td', { 'data-version': m.version || '' }, (m.appVersion ? m.appVersion + ' ' : '') + (m.version ? 'elastica ' + m.version : '—')),
        el('td', { class: 'num' }, share[m.id] ? pct(share[m.id]) : '—'));
    });
    $('members').replaceChildren(...rows);
    $('threshold').textContent = 'conviction at phi ≥ ' + cluster.threshold;
  }

  function arc(a0, a1, r0, r1) {
    const p = (a, r) => [Math.sin(a * 2 * Math.PI) * r, -Math.cos(a * 2 * Math.PI) * r].map((v) => v.toFixed(2)).join(' ');
    const large = a1 - a0 > 0.5 ? 1 : 0;
    return 'M' + p(a0, r1) + 'A' + r1 + ' ' + r1 + ' 0 ' + large + ' 1 ' + p(a1, r1) + 'L' + p(a1, r0) + 'A' + r0 + ' ' + r0 + ' 0 ' + large + ' 0 ' + p(a0, r0) + 'Z';
  }

  function renderRing(cluster) {
    const svg = $('ring');
    const parts = [el('svg:circle', { r: 92, fill: 'none', stroke: '#eef0f4', 'stroke-width': 40 })];
    const ranges = cluster.ring.ranges || {};
    for (const [id, list] of Object.entries(ranges)) {
      for (const [a, b] of list) {
        if (b - a >= 0.9999) {
          parts.push(el('svg:path', { d: arc(0, 0.5, 72, 112), fill: colors.get(id) }), el('svg:path', { d: arc(0.5, 1, 72, 112), fill: colors.get(id) }));
        } else if (b > a) {
          parts.push(el('svg:path', { d: arc(a, b, 72, 112), fill: colors.get(id), stroke: '#fff', 'stroke-width': 0.6 }, el('svg:title', {}, id)));
        }
      }
    }
    const owners = Object.keys(cluster.ring.ownership || {}).length;
    parts.push(el('svg:text', { 'text-anchor': 'middle', y: -4, 'font-size': 30, 'font-weight': 650, fill: '#1d2330' }, String(owners)));
    parts.push(el('svg:text', { 'text-anchor': 'middle', y: 18, 'font-size': 11.5, fill: '#6b7384' }, owners === 1 ? 'node owns the ring' : 'nodes own the ring'));
    svg.replaceChildren(...parts);
    const legend = Object.entries(cluster.ring.ownership || {}).sort((a, b) => a[0].localeCompare(b[0])).map(([id, f]) =>
      el('li', { title: id }, el('span', { class: 'swatch', style: 'background:' + colors.get(id) }), id, el('b', {}, pct(f))));
    $('legend').replaceChildren(...legend);
    const tokens = Object.values(ranges).reduce((n, l) => n + l.length, 0);
    $('ring-hint').textContent = tokens + ' ranges · RF ' + cluster.replicationFactor;
  }

  function renderEvents(fresh) {
    if (fresh.length) { events = events.concat(fresh).slice(-100); since = fresh[fresh.length - 1].seq; }
    const items = [...events].reverse().slice(0, 40).map((e) =>
      el('li', {}, el('time', {}, clock(e.at)), el('span', { class: 'badge ' + e.type }, e.type), el('span', {}, e.nodeId || e.detail || '')));
    $('events').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, 'nothing yet')]));
  }

  function renderStore(s) {
    const kb = (b) => b < 1024 ? b + ' B' : b < 1048576 ? (b / 1024).toFixed(1) + ' KiB' : (b / 1048576).toFixed(1) + ' MiB';
    const rows = [['keys held', s.keys], ['bytes held', kb(s.bytes)], ['writes coordinated', s.writes], ['reads coordinated', s.reads], ['read repairs', s.readRepairs], ['copies pulled', s.pulled], ['copies handed over', s.handedOff]];
    $('store').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  }

  function setLive(live, text) {
    $('conn').dataset.live = String(live);
    $('conn-text').textContent = text;
  }

  async function poll() {
    try {
      const res = await fetch('/cluster/live?since=' + since, { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const data = await res.json();
      const c = data.cluster;
      assignColors(c.members.map((m) => m.id).concat(Object.keys(c.ring.ownership || {})));
      renderMembers(c, data.history || {});
      renderRing(c);
      renderEvents(data.events || []);
      renderStore(data.store);
      const up = c.members.filter((m) => m.status === 'up').length;
      $('summary').textContent = 'viewed from ' + c.self + ' · ' + c.members.length + ' members · ' + up + ' up';
      document.body.dataset.ready = 'true';
      setLive(true, 'live · ' + clock(data.at));
    } catch (error) {
      setLive(false, 'node unreachable, retrying…');
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
`;
