// segmentd risk console (service/admin/console/). Served as /console/console.js under a strict
// Content-Security-Policy: no inline script or style, no eval. Read-only: it only GETs the admin
// API (/v1/overview, /v1/segments, /v1/map, /v1/accounts/{id}) with the session cookie and reads
// the publisher's websocket. Every string from the server goes into the page as text
// (textContent / createTextNode / setAttribute), never as markup.
(function () {
  'use strict';

  const REFRESH_MS = 5000;
  const MAX_CHANGES = 500;
  const REPLAY_MESSAGES = 200;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const VIEWS = ['segments', 'map', 'changes', 'account', 'health'];

  // Feature vector v1 (core/features.md): name, title, how to show the raw value, unit.
  //   log1p:  stored as log1p(x); shown as x in its unit
  //   slog1p: stored as sign(m)·log1p(|m|); shown as m
  //   share:  a fraction, shown as a percentage
  //   plain:  shown as it is
  const FEATURES = [
    ['trade_rate', 'Trade rate', 'log1p', 'fills/h'],
    ['notional_rate', 'Notional rate', 'log1p', 'USD/h'],
    ['ticket_size', 'Ticket size', 'log1p', 'USD'],
    ['maker_ratio', 'Maker ratio', 'share', ''],
    ['direction_imbalance', 'Direction imbalance', 'share', ''],
    ['delta_neutrality', 'Delta neutrality', 'share', ''],
    ['vega_bias', 'Vega bias', 'plain', ''],
    ['option_share', 'Option share', 'share', ''],
    ['future_share', 'Future share', 'share', ''],
    ['perp_share', 'Perp share', 'share', ''],
    ['tenor', 'Tenor', 'log1p', 'days'],
    ['moneyness', 'Moneyness', 'plain', ''],
    ['concentration', 'Concentration', 'plain', 'HHI'],
    ['turnover', 'Turnover', 'log1p', '×/h'],
    ['markout_bps', 'Markout', 'slog1p', 'bps'],
    ['exposure', 'Exposure', 'log1p', 'USD'],
  ];
  const FEATURE_BY_NAME = new Map(FEATURES.map((f) => [f[0], f]));

  // Fixed palette keyed by segment id (ids start at 1): a segment keeps its colour everywhere.
  const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#9c755f',
    '#ff9da7', '#3b3b98', '#8cd17d', '#d37295'];
  const NO_SEGMENT_COLOUR = '#a0a8b2';

  const state = {
    view: 'segments',
    accountParam: null,
    overview: null,
    overviewMissing: false,
    model: null,           // /v1/segments "model"
    regime: null,          // /v1/risk/regime
    ready: false,
    map: null,
    labels: new Map(),     // segment id → label (latest model seen, /v1/segments or the stream)
    account: null,         // last /v1/accounts answer shown
    accountError: null,
    leaving: false,
  };

  // ------------------------------------------------------------------------------------------ DOM
  function h(tag, attrs) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    for (let i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function s(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    for (let i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { for (const c of child) append(parent, c); return; }
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function $(id) { return document.getElementById(id); }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function setText(id, text) { const e = $(id); if (e) e.textContent = text; }

  // ------------------------------------------------------------------------------------------ formatting
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function fmtInt(v) { return isNum(v) ? Math.round(v).toLocaleString('en-US') : '–'; }
  function fmtFixed(v, d) { return isNum(v) ? v.toFixed(d) : '–'; }
  function fmtShort(v) {
    if (!isNum(v)) return '–';
    const a = Math.abs(v);
    const sig = (x) => Number(x.toPrecision(3)).toString();
    if (a >= 1e9) return sig(v / 1e9) + 'B';
    if (a >= 1e6) return sig(v / 1e6) + 'M';
    if (a >= 1e3) return sig(v / 1e3) + 'k';
    if (a === 0) return '0';
    if (a < 0.01) return v.toExponential(1);
    return sig(v);
  }
  function fmtPct(v, d) { return isNum(v) ? (v * 100).toFixed(d === undefined ? 0 : d) + '%' : '–'; }
  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  // Nanoseconds since the epoch → "2025-01-02 13:04:05" (UTC). JSON numbers lose the last digits of
  // a ns timestamp, which a display to the second does not need.
  function fmtTime(ns) {
    if (!isNum(ns) || ns <= 0) return '–';
    const d = new Date(ns / 1e6);
    if (isNaN(d.getTime())) return '–';
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) + ' ' +
      pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds());
  }
  function fmtClock(date) {
    return pad2(date.getHours()) + ':' + pad2(date.getMinutes()) + ':' + pad2(date.getSeconds());
  }
  // A raw feature value in the units people use (the log-scaled ones back in their own units).
  function featureText(name, v) {
    if (v === null || v === undefined) return 'n/a';
    if (!isNum(v)) return '–';
    const f = FEATURE_BY_NAME.get(name);
    const kind = f ? f[2] : 'plain';
    const unit = f ? f[3] : '';
    switch (kind) {
      case 'log1p': return fmtShort(Math.expm1(v)) + ' ' + unit;
      case 'slog1p': return fmtShort(Math.abs(v) < 1e-4 ? 0 : Math.sign(v) * Math.expm1(Math.abs(v))) + ' ' + unit;
      case 'share': return fmtPct(v, v > 0 && v < 0.01 ? 1 : 0);
      default: {
        const x = Math.abs(v) < 0.0005 ? 0 : v;  // no "-0.000"
        return (Math.abs(x) >= 100 ? fmtShort(x) : x.toFixed(Math.abs(x) < 1 ? 3 : 2)) + (unit ? ' ' + unit : '');
      }
    }
  }
  function featureTitle(name) { const f = FEATURE_BY_NAME.get(name); return f ? f[1] : name; }
  function rawTooltip(name, v) {
    const f = FEATURE_BY_NAME.get(name);
    const scale = f && f[2] === 'log1p' ? ' (log1p scale)' : f && f[2] === 'slog1p' ? ' (signed log1p scale)' : '';
    return name + ' = ' + (isNum(v) ? v.toPrecision(6) : String(v)) + scale;
  }

  function colour(id) {
    if (!Number.isInteger(id) || id < 1) return NO_SEGMENT_COLOUR;
    return PALETTE[(id - 1) % PALETTE.length];
  }
  function labelOf(id) {
    if (id === null || id === undefined) return null;
    return state.labels.has(id) ? state.labels.get(id) : null;
  }
  function swatch(id) {
    return s('svg', { class: 'swatch', viewBox: '0 0 12 12', 'aria-hidden': 'true' },
      s('rect', { x: 0, y: 0, width: 12, height: 12, rx: 3, fill: colour(id) }));
  }
  // "● label #3" for a segment id (label given, or the latest known one).
  function segRef(id, label) {
    if (id === null || id === undefined) return h('span', { class: 'seg-ref muted' }, 'none');
    const l = label !== undefined && label !== null ? label : labelOf(id);
    return h('span', { class: 'seg-ref', 'data-segment': id }, swatch(id),
      h('span', { class: 'seg-label' }, l !== null ? l : 'segment'), h('span', { class: 'seg-id' }, '#' + id));
  }

  // Percentile (0–100) of `v` within 21 quantiles q0, q5, …, q100: linear between the two
  // quantiles around it; a value equal to a run of equal quantiles takes the middle of the run.
  function percentile(q, v) {
    if (!Array.isArray(q) || q.length < 2 || !isNum(v)) return null;
    const n = q.length - 1;
    const step = 100 / n;
    if (v < q[0]) return 0;
    if (v > q[n]) return 100;
    let lo = -1;
    let hi = -1;
    for (let i = 0; i <= n; i++) {
      if (q[i] === v) { if (lo < 0) lo = i; hi = i; }
    }
    if (lo >= 0) return ((lo + hi) / 2) * step;
    for (let i = 0; i < n; i++) {
      if (q[i] <= v && v <= q[i + 1]) {
        const span = q[i + 1] - q[i];
        return (i + (span > 0 ? (v - q[i]) / span : 0.5)) * step;
      }
    }
    return null;
  }
  function quantilesOf(name) {
    const q = state.overview && state.overview.quantiles;
    return q && Array.isArray(q[name]) ? q[name] : null;
  }
  // A 0–100 bar: a track, a tick at the median and the value.
  function percentileBar(p, segId) {
    const svg = s('svg', { class: 'pbar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      s('rect', { class: 'pbar-track', x: 0, y: 1, width: 100, height: 8, rx: 1.5 }));
    if (p !== null) {
      svg.appendChild(s('rect', { x: 0, y: 1, width: Math.max(0.8, Math.min(100, p)).toFixed(2), height: 8, rx: 1.5,
        fill: colour(segId) }));
    }
    svg.appendChild(s('line', { class: 'pbar-mid', x1: 50, x2: 50, y1: 0, y2: 10, 'vector-effect': 'non-scaling-stroke' }));
    return svg;
  }

  // ------------------------------------------------------------------------------------------ API
  class ApiError extends Error {
    constructor(status, body, message) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }
  // A /v1 answer of 401: the session has ended, so back to "/" (the login form). Unless that just
  // happened twice in a row (a page served while its reads are refused): then say so and stop.
  function toLogin() {
    if (state.leaving) return;
    let recent = [];
    try { recent = JSON.parse(window.sessionStorage.getItem('segmentd-console-relogin') || '[]'); } catch (e) { recent = []; }
    const now = Date.now();
    recent = (Array.isArray(recent) ? recent : []).filter((t) => typeof t === 'number' && now - t < 30000);
    if (recent.length >= 2) {
      setProblem('auth', 'The admin API refuses this session (401); sign in again from the login page.');
      return;
    }
    recent.push(now);
    try { window.sessionStorage.setItem('segmentd-console-relogin', JSON.stringify(recent)); } catch (e) { /* private mode */ }
    state.leaving = true;
    stopStream();
    window.location.replace('/');
  }
  async function api(path) {
    let res;
    try {
      res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    } catch (e) {
      throw new ApiError(0, null, 'the admin API did not answer (' + (e && e.message ? e.message : 'network error') + ')');
    }
    if (res.status === 401) {
      toLogin();
      throw new ApiError(401, null, 'the session has ended');
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) {
      const what = body && typeof body.message === 'string' ? body.message
        : body && typeof body.error === 'string' ? body.error : 'HTTP ' + res.status;
      throw new ApiError(res.status, body, what);
    }
    return body;
  }

  const problems = new Map();  // source → message, shown in the banner
  function setProblem(source, message) {
    if (message) problems.set(source, message); else problems.delete(source);
    const banner = $('banner');
    if (!banner) return;
    if (problems.size === 0) { banner.hidden = true; banner.textContent = ''; return; }
    banner.textContent = Array.from(problems.values()).join(' · ');
    banner.hidden = false;
  }

  function learnLabels(segments) {
    if (!Array.isArray(segments)) return;
    for (const seg of segments) {
      if (seg && Number.isInteger(seg.id) && typeof seg.label === 'string') state.labels.set(seg.id, seg.label);
    }
  }
  function setModelBadge(version) {
    if (isNum(version) && version > 0) setText('model-badge', 'model v' + version);
  }

  // The market regime (issue 22): the badge says calm, stressed or extreme, and which
  // underlyings are not calm; regime_change messages on the stream update it between refreshes.
  function setRegimeBadge(market, stressedUnderlyings) {
    const e = $('regime-badge');
    if (!e) return;
    const known = market === 'calm' || market === 'stressed' || market === 'extreme';
    e.setAttribute('data-regime', known ? market : 'unknown');
    const names = Array.isArray(stressedUnderlyings) && stressedUnderlyings.length ? ' (' + stressedUnderlyings.join(', ') + ')' : '';
    e.textContent = 'market ' + (known ? market : '–') + (known && market !== 'calm' ? names : '');
  }
  async function loadRegime() {
    try {
      const r = await api('/v1/risk/regime');
      state.regime = r;
      const stressed = Array.isArray(r.underlyings)
        ? r.underlyings.filter((u) => u && u.regime !== 'calm' && typeof u.underlying === 'string').map((u) => u.underlying)
        : [];
      setRegimeBadge(r.market, stressed);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) { const b = $('regime-badge'); if (b) b.hidden = true; return; }  // [regime] off
      setRegimeBadge(null, []);
    }
  }

  async function loadOverview() {
    try {
      const o = await api('/v1/overview');
      state.overview = o;
      state.overviewMissing = false;
      setProblem('overview', null);
      if (o && isNum(o.model_version)) setModelBadge(o.model_version);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) state.overviewMissing = true;
      setProblem('overview', 'Overview unavailable: ' + e.message);
    }
  }
  async function loadSegments() {
    try {
      const doc = await api('/v1/segments');
      state.ready = !!(doc && doc.ready);
      state.model = doc && doc.model ? doc.model : null;
      if (state.model) {
        learnLabels(state.model.segments);
        setModelBadge(state.model.version);
      }
      setProblem('segments', null);
    } catch (e) {
      if (e.status === 401) return;
      setProblem('segments', 'Segments unavailable: ' + e.message);
    }
  }
  async function loadMap() {
    try {
      state.map = await api('/v1/map');
      if (state.map && Array.isArray(state.map.centroids)) {
        for (const c of state.map.centroids) {
          if (Number.isInteger(c.segment) && typeof c.label === 'string') state.labels.set(c.segment, c.label);
        }
      }
      setProblem('map', null);
    } catch (e) {
      if (e.status === 401) return;
      setProblem('map', 'Map unavailable: ' + e.message);
    }
  }

  // ------------------------------------------------------------------------------------------ router
  function parseHash() {
    const raw = window.location.hash.replace(/^#/, '');
    const slash = raw.indexOf('/');
    const view = slash >= 0 ? raw.slice(0, slash) : raw;
    let param = null;
    if (slash >= 0) {
      try { param = decodeURIComponent(raw.slice(slash + 1)); } catch (e) { param = raw.slice(slash + 1); }
    }
    return { view: VIEWS.indexOf(view) >= 0 ? view : 'segments', param: param };
  }
  function showView() {
    const route = parseHash();
    state.view = route.view;
    for (const sec of document.querySelectorAll('section.view')) sec.hidden = sec.getAttribute('data-view') !== route.view;
    for (const a of document.querySelectorAll('#nav a')) {
      const on = a.getAttribute('data-view') === route.view;
      a.classList.toggle('active', on);
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    if (route.view === 'account') {
      if (route.param !== null && route.param !== '' && route.param !== state.accountParam) {
        state.accountParam = route.param;
        $('account-input').value = route.param;
        loadAccount(route.param);
      }
    }
    refreshNow();
  }
  function navigateToAccount(name) {
    window.location.hash = '#account/' + encodeURIComponent(name);
  }

  // ------------------------------------------------------------------------------------------ refresh loop
  let refreshTimer = null;
  let refreshing = false;
  let refreshAgain = false;
  async function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    try {
      const jobs = [loadOverview(), loadRegime()];
      if (state.view === 'segments' || state.view === 'health' || !state.model) jobs.push(loadSegments());
      if (state.view === 'map') jobs.push(loadMap());
      await Promise.all(jobs);
      if (state.leaving) return;
      ensureStream();
      render();
      setText('updated-at', 'Updated ' + fmtClock(new Date()) + '.');
    } catch (e) {
      setProblem('render', 'Display error: ' + (e && e.message ? e.message : String(e)));
    } finally {
      refreshing = false;
      if (refreshAgain) { refreshAgain = false; refresh(); }
    }
  }
  function refreshNow() {
    if (refreshTimer) clearInterval(refreshTimer);
    refresh();
    refreshTimer = setInterval(refresh, REFRESH_MS);
  }
  function render() {
    switch (state.view) {
      case 'segments': renderSegments(); break;
      case 'map': renderMap(); break;
      case 'changes': renderChanges(); break;
      case 'health': renderHealth(); break;
      default: break;
    }
  }

  // ------------------------------------------------------------------------------------------ segments view
  function sizeHistory(id) {
    const hist = state.overview && Array.isArray(state.overview.history) ? state.overview.history : [];
    const key = String(id);
    const out = [];
    for (const e of hist) {
      if (e && e.sizes && isNum(e.sizes[key])) out.push({ ts: e.ts, size: e.sizes[key] });
    }
    return out;
  }
  function sparkline(id, points) {
    const W = 240;
    const H = 38;
    const svg = s('svg', { class: 'spark', viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none',
      role: 'img', 'aria-label': 'size over the last ' + points.length + ' model versions' });
    if (points.length === 0) return svg;
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of points) { lo = Math.min(lo, p.size); hi = Math.max(hi, p.size); }
    if (hi - lo < 1) { lo -= 1; hi += 1; }
    const padY = 3;
    const x = (i) => points.length === 1 ? W : (i / (points.length - 1)) * W;
    const y = (v) => padY + (1 - (v - lo) / (hi - lo)) * (H - 2 * padY);
    const coords = points.map((p, i) => x(i).toFixed(1) + ',' + y(p.size).toFixed(1));
    if (points.length === 1) coords.unshift('0,' + y(points[0].size).toFixed(1));
    svg.appendChild(s('polygon', { class: 'spark-area', fill: colour(id),
      points: coords.join(' ') + ' ' + W + ',' + H + ' 0,' + H }));
    svg.appendChild(s('polyline', { class: 'spark-line', stroke: colour(id), points: coords.join(' '),
      'vector-effect': 'non-scaling-stroke' }));
    return svg;
  }
  function policyBlock(policy) {
    const p = policy || {};
    const maxOrder = p.max_order_notional_usd;
    const item = (label, value) => h('div', null, h('dt', null, label), h('dd', null, value));
    return h('dl', { class: 'policy' },
      item('Margin', isNum(p.margin_multiplier) ? '×' + p.margin_multiplier.toFixed(2) : '–'),
      item('Quote width', isNum(p.quote_width_bps) ? fmtFixed(p.quote_width_bps, 1) + ' bps' : '–'),
      item('Max order, USD', isNum(maxOrder) ? (maxOrder > 0 ? fmtInt(maxOrder) : 'no limit') : '–'));
  }
  function featureRows(values, segId) {
    const body = h('tbody');
    for (const f of FEATURES) {
      const v = values ? values[f[0]] : undefined;
      const p = percentile(quantilesOf(f[0]), v);
      body.appendChild(h('tr', { 'data-feature': f[0] },
        h('td', { class: 'feat-name', title: f[0] }, f[1]),
        h('td', { class: 'feat-bar' }, percentileBar(p, segId)),
        h('td', { class: 'feat-pct', title: 'percentile in the population' }, p === null ? '' : 'p' + Math.round(p)),
        h('td', { class: 'feat-val', title: rawTooltip(f[0], v) }, featureText(f[0], v))));
    }
    return h('table', { class: 'feat-table' }, body);
  }
  function renderSegments() {
    const grid = $('segments-grid');
    const model = state.model;
    const section = $('view-segments');
    if (!model) {
      setText('segments-summary', state.ready ? 'No model.' : 'Warming up: no model yet.');
      clear(grid).appendChild(h('p', { class: 'empty' }, 'The clusterer has not published a model yet.'));
      section.removeAttribute('data-version');
      return;
    }
    const segs = Array.isArray(model.segments) ? model.segments.slice() : [];
    segs.sort((a, b) => a.id - b.id);
    const assigned = segs.reduce((n, x) => n + (isNum(x.size) ? x.size : 0), 0);
    const q = model.quality || {};
    setText('segments-summary', segs.length + ' segments · model v' + model.version + ' · ' + fmtInt(assigned) +
      ' accounts assigned · silhouette ' + fmtFixed(q.silhouette, 2) + ' · model time ' + fmtTime(model.ts) + ' UTC');
    const cards = [];
    for (const seg of segs) {
      const hist = sizeHistory(seg.id);
      cards.push(h('article', { class: 'card seg-card', 'data-segment': seg.id },
        h('header', null, swatch(seg.id),
          h('h3', { class: 'seg-label' }, String(seg.label)),
          h('span', { class: 'seg-id' }, '#' + seg.id),
          h('span', { class: 'seg-size' }, fmtInt(seg.size), h('span', { class: 'muted' }, ' accounts'))),
        h('div', { class: 'spark-row' }, sparkline(seg.id, hist),
          h('div', { class: 'spark-caption' }, hist.length > 1 ? 'size, last ' + hist.length + ' models' : 'size history: –')),
        policyBlock(seg.policy),
        featureRows(seg.centroid, seg.id)));
    }
    clear(grid);
    append(grid, cards);
    const sample = state.overview && isNum(state.overview.sample_size) ? state.overview.sample_size : null;
    setText('segments-hint', 'Bars place each centroid within the population: the percentile of its value among ' +
      (sample !== null ? 'the clusterer\'s sample of ' + fmtInt(sample) + ' accounts' : 'the clusterer\'s account sample') +
      ' (50 = the median, marked by the tick).');
    if (!quantilesOf('trade_rate')) {
      grid.insertBefore(h('p', { class: 'empty' }, 'Population percentiles are not available yet; bars are empty.'), grid.firstChild);
    }
    section.setAttribute('data-version', String(model.version));
  }

  // ------------------------------------------------------------------------------------------ map view
  const MAP_W = 1000;
  const MAP_H = 620;
  const MAP_PAD = 36;
  const mapState = {
    built: false,
    domain: null,           // {x0, x1, y0, y1}: only grows, so points do not jump when it need not
    points: new Map(),      // account → {el, x, y, segment}
    focus: null,            // highlighted segment id
    layers: null,
  };
  function buildMap() {
    const svg = $('map-svg');
    clear(svg);
    const layers = {
      grid: s('g', { class: 'grid' }),
      points: s('g', { class: 'points' }),
      centroids: s('g', { class: 'centroids' }),
      tooltip: s('g', { class: 'map-tooltip', id: 'map-tooltip', visibility: 'hidden' }),
    };
    layers.ttRect = s('rect', { x: 0, y: 0, width: 10, height: 10, rx: 4 });
    layers.ttMain = s('text', { x: 8, y: 17 });
    layers.ttSub = s('text', { x: 8, y: 33, class: 'tt-sub' });
    layers.tooltip.appendChild(layers.ttRect);
    layers.tooltip.appendChild(layers.ttMain);
    layers.tooltip.appendChild(layers.ttSub);
    svg.appendChild(s('rect', { class: 'map-frame', x: MAP_PAD, y: MAP_PAD / 2, width: MAP_W - 1.5 * MAP_PAD,
      height: MAP_H - 1.5 * MAP_PAD }));
    svg.appendChild(layers.grid);
    svg.appendChild(layers.points);
    svg.appendChild(layers.centroids);
    svg.appendChild(layers.tooltip);
    layers.points.addEventListener('mouseleave', hideTooltip);
    mapState.layers = layers;
    mapState.built = true;
  }
  function px(x) {
    const d = mapState.domain;
    return MAP_PAD + ((x - d.x0) / (d.x1 - d.x0)) * (MAP_W - 1.5 * MAP_PAD);
  }
  function py(y) {
    const d = mapState.domain;
    return MAP_PAD / 2 + (1 - (y - d.y0) / (d.y1 - d.y0)) * (MAP_H - 1.5 * MAP_PAD);
  }
  // Grows the axis range to hold every point (never shrinks it); true when it changed.
  function growDomain(items) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of items) {
      if (!isNum(p.x) || !isNum(p.y)) continue;
      x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
    }
    if (!isFinite(x0)) return false;
    const d = mapState.domain;
    if (d && x0 >= d.x0 && x1 <= d.x1 && y0 >= d.y0 && y1 <= d.y1) return false;
    if (d) { x0 = Math.min(x0, d.x0); x1 = Math.max(x1, d.x1); y0 = Math.min(y0, d.y0); y1 = Math.max(y1, d.y1); }
    const mx = Math.max((x1 - x0) * 0.08, 0.5);
    const my = Math.max((y1 - y0) * 0.08, 0.5);
    mapState.domain = {
      x0: d && x0 >= d.x0 ? d.x0 : x0 - mx, x1: d && x1 <= d.x1 ? d.x1 : x1 + mx,
      y0: d && y0 >= d.y0 ? d.y0 : y0 - my, y1: d && y1 <= d.y1 ? d.y1 : y1 + my,
    };
    return true;
  }
  function niceStep(span) {
    const raw = span / 6;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const n = raw / mag;
    return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
  }
  function drawGrid() {
    const g = clear(mapState.layers.grid);
    const d = mapState.domain;
    const top = MAP_PAD / 2;
    const bottom = MAP_H - MAP_PAD;
    const left = MAP_PAD;
    const right = MAP_W - MAP_PAD / 2;
    const sx = niceStep(d.x1 - d.x0);
    for (let v = Math.ceil(d.x0 / sx) * sx; v <= d.x1; v += sx) {
      const X = px(v);
      g.appendChild(s('line', { class: Math.abs(v) < sx / 1e6 ? 'map-axis' : 'map-grid', x1: X, x2: X, y1: top, y2: bottom }));
      g.appendChild(s('text', { class: 'map-tick', x: X, y: bottom + 14, 'text-anchor': 'middle' }, Number(v.toPrecision(6)).toString()));
    }
    const sy = niceStep(d.y1 - d.y0);
    for (let v = Math.ceil(d.y0 / sy) * sy; v <= d.y1; v += sy) {
      const Y = py(v);
      g.appendChild(s('line', { class: Math.abs(v) < sy / 1e6 ? 'map-axis' : 'map-grid', x1: left, x2: right, y1: Y, y2: Y }));
      g.appendChild(s('text', { class: 'map-tick', x: left - 6, y: Y + 4, 'text-anchor': 'end' }, Number(v.toPrecision(6)).toString()));
    }
  }
  function showTooltip(account) {
    const p = mapState.points.get(account);
    const L = mapState.layers;
    if (!p || !L) return;
    const label = labelOf(p.segment);
    L.ttMain.textContent = account;
    L.ttSub.textContent = p.segment === null ? 'no segment' : (label !== null ? label : 'segment') + ' #' + p.segment;
    L.tooltip.setAttribute('visibility', 'visible');
    const w = Math.max(L.ttMain.getComputedTextLength(), L.ttSub.getComputedTextLength()) + 16;
    const hgt = 42;
    L.ttRect.setAttribute('width', w.toFixed(1));
    L.ttRect.setAttribute('height', hgt);
    let X = px(p.x) + 10;
    let Y = py(p.y) - hgt - 8;
    if (X + w > MAP_W - 4) X = px(p.x) - w - 10;
    if (Y < 4) Y = py(p.y) + 10;
    L.tooltip.setAttribute('transform', 'translate(' + X.toFixed(1) + ',' + Y.toFixed(1) + ')');
    for (const q of mapState.points.values()) if (q.el.classList.contains('hover')) q.el.classList.remove('hover');
    p.el.classList.add('hover');
    const info = $('map-hover');
    clear(info);
    append(info, [h('strong', { class: 'mono' }, account), h('br'), p.segment === null ? 'no segment' : segRef(p.segment)]);
  }
  function hideTooltip() {
    const L = mapState.layers;
    if (!L) return;
    L.tooltip.setAttribute('visibility', 'hidden');
    for (const q of mapState.points.values()) q.el.classList.remove('hover');
  }
  function onPointEnter(ev) {
    const acc = ev.currentTarget.getAttribute('data-account');
    if (acc !== null) showTooltip(acc);
  }
  function onPointClick(ev) {
    const acc = ev.currentTarget.getAttribute('data-account');
    if (acc !== null) navigateToAccount(acc);
  }
  function positionPoint(p) {
    p.el.setAttribute('cx', px(p.x).toFixed(1));
    p.el.setAttribute('cy', py(p.y).toFixed(1));
  }
  function renderMap() {
    const m = state.map;
    if (!mapState.built) buildMap();
    if (!m || !Array.isArray(m.points)) {
      setText('map-summary', 'No projection yet.');
      return;
    }
    const pts = m.points.filter((p) => p && typeof p.account === 'string' && isNum(p.x) && isNum(p.y));
    const cents = Array.isArray(m.centroids) ? m.centroids.filter((c) => c && isNum(c.x) && isNum(c.y)) : [];
    const grown = growDomain(pts.concat(cents));
    if (!mapState.domain) { setText('map-summary', 'No points yet.'); return; }
    if (grown) drawGrid();
    // Points: updated in place, keyed by account.
    const seen = new Set();
    const layer = mapState.layers.points;
    for (const p of pts) {
      seen.add(p.account);
      const seg = Number.isInteger(p.segment) ? p.segment : null;
      let cur = mapState.points.get(p.account);
      if (!cur) {
        const el = s('circle', { class: 'pt', r: 4, 'data-account': p.account });
        el.addEventListener('mouseenter', onPointEnter);
        el.addEventListener('click', onPointClick);
        cur = { el: el, x: p.x, y: p.y, segment: seg };
        mapState.points.set(p.account, cur);
        layer.appendChild(el);
        positionPoint(cur);
      } else if (grown || cur.x !== p.x || cur.y !== p.y) {
        cur.x = p.x; cur.y = p.y;
        positionPoint(cur);
      }
      if (cur.segment !== seg || !cur.el.hasAttribute('fill')) {
        cur.segment = seg;
        cur.el.setAttribute('fill', colour(seg));
        cur.el.setAttribute('data-segment', seg === null ? '' : String(seg));
      }
      cur.el.classList.toggle('dim', mapState.focus !== null && seg !== mapState.focus);
    }
    for (const [acc, cur] of mapState.points) {
      if (!seen.has(acc)) { cur.el.remove(); mapState.points.delete(acc); }
    }
    // Centroids: few, redrawn. Labels right of the mark, moved up or down (or to the left) past
    // labels already placed.
    const cg = clear(mapState.layers.centroids);
    const placed = [];
    const overlaps = (b) => placed.some((q) => b.x0 < q.x1 && q.x0 < b.x1 && b.y0 < q.y1 && q.y0 < b.y1);
    const ordered = cents.slice().sort((a, b) => py(a.y) - py(b.y));
    for (const c of ordered) {
      const dim = mapState.focus !== null && c.segment !== mapState.focus;
      const X = px(c.x);
      const Y = py(c.y);
      const label = typeof c.label === 'string' ? c.label : labelOf(c.segment);
      const text = (label !== null ? label : 'segment') + ' #' + c.segment;
      const w = text.length * 7.2;
      let box = null;
      for (const dy of [0, 15, -15, 30, -30, 45, -45]) {
        for (const left of [false, true]) {
          const x0 = left ? X - 15 - w : X + 15;
          const b = { x0: x0, x1: x0 + w, y0: Y + dy - 9, y1: Y + dy + 6, left: left, dy: dy };
          if (!overlaps(b) && b.x0 >= 0 && b.x1 <= MAP_W) { box = b; break; }
        }
        if (box) break;
      }
      if (!box) box = { x0: X + 15, x1: X + 15 + w, y0: Y - 9, y1: Y + 6, left: false, dy: 0 };
      placed.push(box);
      cg.appendChild(s('g', { class: dim ? 'centroid dim' : 'centroid', 'data-segment': c.segment },
        s('circle', { class: 'centroid-mark', cx: X.toFixed(1), cy: Y.toFixed(1), r: 9, fill: colour(c.segment) }),
        s('circle', { class: 'centroid-ring', cx: X.toFixed(1), cy: Y.toFixed(1), r: 11 }),
        s('text', { class: 'centroid-label', x: (box.left ? X - 15 : X + 15).toFixed(1), y: (Y + box.dy + 4).toFixed(1),
          'text-anchor': box.left ? 'end' : 'start' }, text)));
    }
    renderLegend(pts, cents);
    setText('map-summary', fmtInt(pts.length) + ' accounts · model v' + (isNum(m.model_version) ? m.model_version : '–') +
      ' · a 2-D projection of the scaled features; the axes keep their range between refreshes');
    $('view-map').setAttribute('data-points', String(pts.length));
  }
  function renderLegend(pts, cents) {
    const counts = new Map();
    for (const p of pts) {
      const seg = Number.isInteger(p.segment) ? p.segment : null;
      counts.set(seg, (counts.get(seg) || 0) + 1);
    }
    const ids = new Set(cents.map((c) => c.segment));
    for (const k of counts.keys()) ids.add(k);
    if (state.model && Array.isArray(state.model.segments)) for (const seg of state.model.segments) ids.add(seg.id);
    const sorted = Array.from(ids).sort((a, b) => (a === null ? 1e9 : a) - (b === null ? 1e9 : b));
    const list = clear($('map-legend'));
    for (const id of sorted) {
      const cls = mapState.focus === null ? '' : mapState.focus === id ? 'active' : 'dim';
      list.appendChild(h('li', { class: cls, 'data-segment': id === null ? '' : id, onclick: () => toggleFocus(id) },
        id === null ? h('span', { class: 'seg-ref muted' }, swatch(null), 'no segment') : segRef(id),
        h('span', { class: 'legend-count' }, fmtInt(counts.get(id) || 0))));
    }
  }
  function toggleFocus(id) {
    mapState.focus = mapState.focus === id ? null : id;
    renderMap();
  }

  // ------------------------------------------------------------------------------------------ live changes (websocket)
  const stream = {
    ws: null,
    lastSeq: null,
    liveFrom: null,
    attempts: 0,
    timer: null,
    state: 'idle',
    detail: '',
    snapshot: false,
    changes: [],          // newest last
    renderTimer: null,
    renderedSeq: 0,
    dirty: false,
  };
  function setStreamState(st, detail) {
    stream.state = st;
    stream.detail = detail;
    const badge = $('stream-badge');
    if (badge) {
      badge.setAttribute('data-state', st);
      badge.textContent = st === 'live' ? 'stream live' : st === 'disabled' ? 'stream off' : 'stream ' + st;
    }
    renderStreamStatus();
  }
  function renderStreamStatus() {
    const parts = [];
    switch (stream.state) {
      case 'live': parts.push('Connected'); break;
      case 'connecting': parts.push('Connecting…'); break;
      case 'reconnecting': parts.push('Reconnecting'); break;
      case 'disabled': parts.push('The publisher is disabled on this instance'); break;
      case 'error': parts.push('Stream error'); break;
      default: parts.push('Not connected'); break;
    }
    if (stream.detail) parts.push(stream.detail);
    if (stream.lastSeq !== null) parts.push('seq ' + fmtInt(stream.lastSeq));
    if (stream.snapshot) parts.push('(snapshot)');
    const el = $('stream-status');
    if (el) {
      el.textContent = parts.join(' · ');
      el.setAttribute('data-state', stream.state);
    }
  }
  function streamUrl(pub) {
    const path = typeof pub.path === 'string' && pub.path.charAt(0) === '/' ? pub.path : '/';
    return (pub.tls ? 'wss' : 'ws') + '://' + window.location.hostname + ':' + Number(pub.port) + path;
  }
  function ensureStream() {
    if (stream.ws || stream.timer || state.leaving) return;
    const pub = state.overview && state.overview.publisher;
    if (!pub) {
      if (state.overviewMissing) setStreamState('error', 'the server does not describe its publisher');
      return;
    }
    if (!pub.enabled) { setStreamState('disabled', ''); return; }
    if (!Number.isInteger(pub.port) || pub.port <= 0) { setStreamState('error', 'no publisher port'); return; }
    connectStream(pub);
  }
  function connectStream(pub) {
    const since = stream.lastSeq !== null ? stream.lastSeq
      : Math.max(0, (Number.isInteger(pub.seq) ? pub.seq : 0) - REPLAY_MESSAGES);
    let ws;
    try {
      ws = new WebSocket(streamUrl(pub));
    } catch (e) {
      setStreamState('error', e && e.message ? e.message : 'cannot open the websocket');
      scheduleReconnect();
      return;
    }
    stream.ws = ws;
    setStreamState(stream.attempts > 0 ? 'reconnecting' : 'connecting', '');
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ op: 'subscribe', since_seq: since }));
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (Array.isArray(msg)) { for (const m of msg) onStreamMessage(m); } else onStreamMessage(msg);
    });
    ws.addEventListener('close', (ev) => {
      if (stream.ws !== ws) return;
      stream.ws = null;
      if (state.leaving) return;
      const why = ev.code === 1008 ? 'closed by the server (' + (ev.reason || 'policy') + ')'
        : ev.code === 1001 ? 'the server is stopping' : 'connection lost';
      scheduleReconnect(why);
    });
  }
  function scheduleReconnect(why) {
    if (stream.timer || state.leaving) return;
    stream.attempts += 1;
    const delay = Math.min(30000, 1000 * Math.pow(2, Math.min(stream.attempts - 1, 5))) * (0.8 + Math.random() * 0.4);
    setStreamState('reconnecting', (why ? why + '; ' : '') + 'retry in ' + Math.round(delay / 1000) + ' s');
    stream.timer = setTimeout(() => {
      stream.timer = null;
      ensureStream();
    }, delay);
  }
  function stopStream() {
    if (stream.timer) { clearTimeout(stream.timer); stream.timer = null; }
    if (stream.ws) {
      const ws = stream.ws;
      stream.ws = null;
      try { ws.close(1000, 'bye'); } catch (e) { /* closing anyway */ }
    }
  }
  function onStreamMessage(m) {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'subscribed':
        stream.attempts = 0;
        stream.snapshot = m.mode === 'snapshot';
        if (stream.liveFrom === null && Number.isInteger(m.seq)) {
          stream.liveFrom = m.seq;
          $('changes-table').setAttribute('data-live-from', String(m.seq));
        }
        setStreamState('live', m.mode === 'replay' ? 'replaying from seq ' + fmtInt((m.since_seq || 0) + 1) : 'snapshot');
        break;
      case 'segment_change':
        if (Number.isInteger(m.seq)) stream.lastSeq = m.seq;
        addChange(m);
        break;
      case 'model':
        if (Number.isInteger(m.seq)) stream.lastSeq = m.seq;
        learnLabels(m.segments);
        setModelBadge(m.version);
        renderStreamStatus();
        break;
      case 'regime_change': {
        if (Number.isInteger(m.seq)) stream.lastSeq = m.seq;
        const stressed = state.regime && Array.isArray(state.regime.underlyings)
          ? state.regime.underlyings.filter((u) => u && u.underlying !== m.underlying && u.regime !== 'calm').map((u) => u.underlying)
          : [];
        if (typeof m.underlying === 'string' && m.to !== 'calm') stressed.push(m.underlying);
        setRegimeBadge(m.market, stressed);
        break;
      }
      case 'snapshot':
        // A snapshot replaces a replay the ring no longer holds: its contents are not changes.
        if (Number.isInteger(m.seq)) stream.lastSeq = m.seq;
        stream.snapshot = true;
        if (m.model && Array.isArray(m.model.segments)) learnLabels(m.model.segments);
        renderStreamStatus();
        break;
      case 'heartbeat':
        if (Number.isInteger(m.seq) && (stream.lastSeq === null || m.seq > stream.lastSeq)) stream.lastSeq = m.seq;
        if (stream.state === 'live') setStreamState('live', '');
        break;
      case 'error':
        setStreamState('error', (typeof m.code === 'string' ? m.code : 'error') + ': ' +
          (typeof m.message === 'string' ? m.message : ''));
        break;
      default:
        break;
    }
  }
  function addChange(m) {
    if (typeof m.account !== 'string') return;
    const to = Number.isInteger(m.to) ? m.to : null;
    const from = Number.isInteger(m.from) ? m.from : null;
    if (to !== null && typeof m.label === 'string') state.labels.set(to, m.label);
    stream.changes.push({
      seq: Number.isInteger(m.seq) ? m.seq : 0,
      ts: m.ts,
      account: m.account,
      from: from,
      fromLabel: labelOf(from),
      to: to,
      toLabel: typeof m.label === 'string' ? m.label : labelOf(to),
      confidence: m.confidence,
      cause: typeof m.cause === 'string' ? m.cause : '',
      reason: Array.isArray(m.reason) ? m.reason : [],
    });
    if (stream.changes.length > MAX_CHANGES) stream.changes.splice(0, stream.changes.length - MAX_CHANGES);
    scheduleChangesRender();
  }
  function scheduleChangesRender() {
    stream.dirty = true;
    if (state.view !== 'changes' || stream.renderTimer) return;
    stream.renderTimer = setTimeout(() => { stream.renderTimer = null; renderChanges(); }, 150);
  }
  function reasonText(r, firstOrRetired) {
    if (!r || typeof r.feature !== 'string') return '';
    return featureTitle(r.feature) + ' ' + featureText(r.feature, r.value) + ' (new centre ' +
      featureText(r.feature, r.centroid_to) + (firstOrRetired ? ', runner-up ' : ', old centre ') +
      featureText(r.feature, r.centroid_from) + ')';
  }
  function causeText(cause) {
    return cause === 'first_assignment' ? 'first assignment' : cause === 'segment_retired' ? 'segment retired'
      : cause === 'moved' ? 'moved' : cause;
  }
  function changeRow(c, fresh) {
    const runnerUp = c.from === null || c.cause === 'segment_retired';
    const reasons = h('ul', { class: 'reason-list' });
    for (const r of c.reason) reasons.appendChild(h('li', null, reasonText(r, runnerUp)));
    return h('tr', { class: fresh ? 'fresh' : null, 'data-seq': c.seq, 'data-account': c.account },
      h('td', { class: 'time' }, fmtTime(c.ts)),
      h('td', { class: 'num' }, String(c.seq)),
      h('td', { class: 'acc-cell' }, h('a', { class: 'acc-link', href: '#account/' + encodeURIComponent(c.account) }, c.account)),
      h('td', { class: 'move' }, c.from === null ? h('span', { class: 'muted' }, 'new') : segRef(c.from, c.fromLabel),
        h('span', { class: 'arrow' }, '→'), segRef(c.to, c.toLabel)),
      h('td', null, h('span', { class: 'cause cause-' + c.cause.replace(/[^a-z_]/g, '') }, causeText(c.cause))),
      h('td', { class: 'num' }, fmtPct(c.confidence, 0)),
      h('td', { class: 'reasons' }, reasons));
  }
  function syncSegmentFilter() {
    const sel = $('filter-segment');
    const current = sel.value;
    const ids = new Set(state.labels.keys());
    for (const c of stream.changes) { if (c.to !== null) ids.add(c.to); if (c.from !== null) ids.add(c.from); }
    const sorted = Array.from(ids).sort((a, b) => a - b);
    const key = sorted.map((id) => id + ':' + (labelOf(id) || '')).join('|');
    if (sel.getAttribute('data-key') === key) return;
    clear(sel);
    sel.appendChild(h('option', { value: '' }, 'all segments'));
    for (const id of sorted) {
      const l = labelOf(id);
      sel.appendChild(h('option', { value: String(id) }, '#' + id + ' ' + (l !== null ? l : '')));
    }
    sel.value = sorted.indexOf(Number(current)) >= 0 ? current : '';
    sel.setAttribute('data-key', key);
  }
  function renderChanges() {
    renderStreamStatus();
    syncSegmentFilter();
    stream.dirty = false;
    const segFilter = $('filter-segment').value;
    const seg = segFilter === '' ? null : Number(segFilter);
    const accFilter = $('filter-account').value.trim().toLowerCase();
    const body = $('changes-body');
    const rows = [];
    for (let i = stream.changes.length - 1; i >= 0; i--) {
      const c = stream.changes[i];
      if (seg !== null && c.to !== seg && c.from !== seg) continue;
      if (accFilter && c.account.toLowerCase().indexOf(accFilter) < 0) continue;
      rows.push(changeRow(c, stream.renderedSeq > 0 && c.seq > stream.renderedSeq));
    }
    clear(body);
    append(body, rows);
    if (stream.changes.length > 0) stream.renderedSeq = Math.max(stream.renderedSeq, stream.changes[stream.changes.length - 1].seq);
    $('changes-empty').hidden = rows.length > 0;
    $('changes-empty').textContent = stream.changes.length === 0 ? 'No change received yet.' : 'No change matches the filters.';
    setText('changes-count', 'showing ' + fmtInt(rows.length) + ' of ' + fmtInt(stream.changes.length) +
      ' (the last ' + MAX_CHANGES + ' are kept)');
  }

  // ------------------------------------------------------------------------------------------ account view
  let accountRequest = 0;
  async function loadAccount(name) {
    const id = ++accountRequest;
    const body = $('account-body');
    clear(body).appendChild(h('p', { class: 'muted' }, 'Loading ', h('span', { class: 'mono' }, name), '…'));
    $('account-refresh').disabled = true;
    if (!state.model) await loadSegments();
    if (!state.overview) await loadOverview();
    let acc = null;
    let error = null;
    try {
      acc = await api('/v1/accounts/' + encodeURIComponent(name));
    } catch (e) {
      error = e;
    }
    if (id !== accountRequest || state.leaving) return;
    $('account-refresh').disabled = false;
    state.account = acc;
    if (error) {
      if (error.status === 401) return;
      clear(body).appendChild(h('div', { class: 'error-box', id: 'account-error' },
        error.status === 404 ? ['No account named ', h('span', { class: 'mono' }, name),
          ' has been seen by this instance.'] : ['Could not read the account: ', error.message]));
      body.setAttribute('data-account', name);
      body.setAttribute('data-state', 'error');
      return;
    }
    renderAccount(acc);
  }
  function factsList(items) {
    const dl = h('dl', { class: 'facts' });
    for (const it of items) dl.appendChild(h('div', null, h('dt', null, it[0]), h('dd', null, it[1])));
    return dl;
  }
  function renderAccount(a) {
    const body = $('account-body');
    const seg = Number.isInteger(a.segment) ? a.segment : null;
    const label = typeof a.label === 'string' ? a.label : labelOf(seg);
    if (seg !== null && label !== null) state.labels.set(seg, label);
    const summary = h('section', { class: 'card' },
      h('h2', { class: 'acc-name', id: 'account-name' }, String(a.account)),
      h('div', { class: 'acc-segment', id: 'account-segment' }, seg === null
        ? h('span', { class: 'muted acc-label', id: 'account-label' }, 'not assigned to a segment yet')
        : [swatch(seg), h('span', { class: 'acc-label', id: 'account-label' }, label !== null ? label : 'segment'),
          h('span', { class: 'seg-id' }, '#' + seg)]),
      factsList([
        ['Confidence', fmtPct(a.confidence, 0)],
        ['Fills', fmtInt(a.fills)],
        ['Last fill (UTC)', fmtTime(a.last_fill)],
        ['In segment since (UTC)', fmtTime(a.segment_since)],
        ['Model version', isNum(a.model_version) && a.model_version > 0 ? 'v' + a.model_version : '–'],
      ]),
      h('p', { class: 'note', id: 'account-positions' }, 'positions: not reported by this build'));

    // Features: raw values, percentile in the population, scaled value.
    const raw = a.features && a.features.raw ? a.features.raw : {};
    const scaled = a.features && a.features.scaled ? a.features.scaled : {};
    // The slow clock (core/features.md, "Two clocks"): the same feature over the long half-life.
    const slow = a.features && a.features.slow ? a.features.slow : {};
    const ftBody = h('tbody');
    for (const f of FEATURES) {
      const v = raw[f[0]];
      const p = percentile(quantilesOf(f[0]), v);
      ftBody.appendChild(h('tr', { 'data-feature': f[0] },
        h('td', { title: f[0] }, f[1]),
        h('td', { class: 'num', title: rawTooltip(f[0], v) }, featureText(f[0], v)),
        h('td', { class: 'num muted', title: rawTooltip(f[0], slow[f[0]]) }, isNum(slow[f[0]]) ? featureText(f[0], slow[f[0]]) : '–'),
        h('td', { class: 'feat-bar' }, percentileBar(p, seg)),
        h('td', { class: 'num muted' }, p === null ? '–' : 'p' + Math.round(p)),
        h('td', { class: 'num muted' }, isNum(scaled[f[0]]) ? (Math.abs(scaled[f[0]]) < 0.005 ? 0 : scaled[f[0]]).toFixed(2) : '–')));
    }
    const features = h('section', { class: 'card' }, h('h2', null, 'Features'),
      h('table', { class: 'data feat-detail' },
        h('thead', null, h('tr', null, h('th', null, 'Feature'), h('th', { class: 'num', title: 'what the model sees (by default the fast clock)' }, 'Value'),
          h('th', { class: 'num', title: 'the same feature on the slow clock ([features] slow_half_life)' }, 'Slow clock'),
          h('th', null, 'Percentile in the population'), h('th', { class: 'num' }, ''), h('th', { class: 'num', title: 'standard deviations from the mean, as the model sees it' }, 'Scaled'))),
        ftBody));

    // Distances to every centre, nearest highlighted.
    const dists = Array.isArray(a.distances) ? a.distances.filter((d) => d && isNum(d.distance)) : [];
    dists.sort((x, y) => x.distance - y.distance);
    const maxD = dists.reduce((m, d) => Math.max(m, d.distance), 0) || 1;
    const dBody = h('tbody');
    dists.forEach((d, i) => {
      const bar = s('svg', { class: 'dbar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
        s('rect', { class: 'dbar-track', x: 0, y: 1, width: 100, height: 8, rx: 1.5 }),
        s('rect', { x: 0, y: 1, width: Math.max(0.8, (d.distance / maxD) * 100).toFixed(2), height: 8, rx: 1.5, fill: colour(d.segment) }));
      dBody.appendChild(h('tr', { class: i === 0 ? 'nearest' : null, 'data-segment': d.segment },
        h('td', null, segRef(d.segment, typeof d.label === 'string' ? d.label : undefined),
          i === 0 ? h('span', { class: 'pill neutral tag' }, 'nearest') : null,
          d.segment === seg && i !== 0 ? h('span', { class: 'pill ok tag' }, 'current') : null),
        h('td', { class: 'dist-bar' }, bar),
        h('td', { class: 'num' }, d.distance.toFixed(2))));
    });
    const distances = h('section', { class: 'card' }, h('h2', null, 'Distance to every segment centre'),
      dists.length === 0 ? h('p', { class: 'muted' }, 'No model yet.')
        : h('table', { class: 'data dist-table' }, h('thead', null, h('tr', null, h('th', null, 'Segment'),
          h('th', null, 'Distance (scaled space)'), h('th', { class: 'num' }, ''))), dBody));

    // Recent changes with their reasons.
    const changes = Array.isArray(a.recent_changes) ? a.recent_changes.slice() : [];
    changes.sort((x, y) => (y.ts || 0) - (x.ts || 0));
    const cBody = h('tbody');
    for (const c of changes) {
      const from = Number.isInteger(c.from) ? c.from : null;
      const to = Number.isInteger(c.to) ? c.to : null;
      const cause = typeof c.cause === 'string' ? c.cause : '';
      const runnerUp = from === null || cause === 'segment_retired';
      const reasons = h('ul', { class: 'reason-list' });
      for (const r of Array.isArray(c.reason) ? c.reason : []) reasons.appendChild(h('li', null, reasonText(r, runnerUp)));
      cBody.appendChild(h('tr', null,
        h('td', { class: 'time' }, fmtTime(c.ts)),
        h('td', { class: 'move' }, from === null ? h('span', { class: 'muted' }, 'new') : segRef(from),
          h('span', { class: 'arrow' }, '→'), segRef(to)),
        h('td', null, h('span', { class: 'cause cause-' + cause.replace(/[^a-z_]/g, '') }, causeText(cause))),
        h('td', { class: 'num' }, fmtPct(c.confidence, 0)),
        h('td', { class: 'num' }, isNum(c.model_version) ? 'v' + c.model_version : '–'),
        h('td', { class: 'reasons' }, reasons)));
    }
    const recent = h('section', { class: 'card wide' }, h('h2', null, 'Recent changes'),
      changes.length === 0 ? h('p', { class: 'muted' }, 'No change of segment in the change log.')
        : h('table', { class: 'data changes-table' }, h('thead', null, h('tr', null, h('th', null, 'Event time (UTC)'),
          h('th', null, 'From → to'), h('th', null, 'Cause'), h('th', { class: 'num' }, 'Confidence'),
          h('th', { class: 'num' }, 'Model'), h('th', null, 'Reasons (account value; centres)'))), cBody));

    clear(body).appendChild(h('div', { class: 'account-grid' },
      h('div', { class: 'stack' }, summary, distances), features, recent));
    body.setAttribute('data-account', String(a.account));
    body.setAttribute('data-state', 'ok');
  }

  // ------------------------------------------------------------------------------------------ health view
  // Rows of [label, value, explanation?, id of the value?].
  function kv(rows) {
    const dl = h('dl', { class: 'kv' });
    for (const r of rows) {
      dl.appendChild(h('dt', null, r[0], r[2] ? h('span', { class: 'explain' }, r[2]) : null));
      dl.appendChild(h('dd', r[3] ? { id: r[3] } : null, r[1]));
    }
    return dl;
  }
  function renderHealth() {
    const o = state.overview;
    const grid = $('health-grid');
    if (!o) {
      setText('health-summary', state.overviewMissing ? 'This server does not serve /v1/overview.' : 'Loading…');
      return;
    }
    const q = o.quality || {};
    const rd = o.readiness || {};
    const tp = o.throughput || {};
    const pub = o.publisher || {};
    const checks = Array.isArray(rd.checks) ? rd.checks : [];
    const version = isNum(o.model_version) ? o.model_version : 0;
    const fps = isNum(tp.fills_per_second) && tp.fills_per_second >= 0 ? fmtShort(tp.fills_per_second) : '–';
    setText('health-summary', (rd.ready ? 'Ready' : 'Not ready') + ' · model v' + version + ' · ' + fps + ' fills/s');

    const model = h('section', { class: 'card' }, h('h2', null, 'Model'),
      h('div', { class: 'big-number', id: 'health-model-version' }, version > 0 ? 'v' + version : 'none yet'),
      kv([
        ['Segments', state.model && Array.isArray(state.model.segments) ? String(state.model.segments.length) : '–'],
        ['Scaler version', state.model && isNum(state.model.scaler_version) ? String(state.model.scaler_version) : '–'],
        ['Model time (UTC)', state.model ? fmtTime(state.model.ts) : '–'],
      ]));
    const quality = h('section', { class: 'card' }, h('h2', null, 'Quality'),
      kv([
        ['Silhouette', fmtFixed(q.silhouette, 3), 'how well the segments separate, −1 to 1, higher is better'],
        ['Churn', isNum(q.churn_per_hour) ? fmtPct(q.churn_per_hour, 1) + ' /h' : '–',
          'accounts changing segment per hour of event time'],
        ['Centroid drift', fmtFixed(q.centroid_drift, 4), 'largest move of a centre since the previous version (scaled units)'],
        ['Adjusted Rand index', fmtFixed(q.adjusted_rand, 3), 'consecutive assignments of the sample agree: 1 = identical'],
        ['Inertia', fmtFixed(q.inertia, 3), 'decayed mean squared distance to the assigned centre'],
      ]));
    const list = h('ul', { class: 'checks', id: 'health-checks' });
    for (const c of checks) {
      list.appendChild(h('li', { 'data-check': typeof c.name === 'string' ? c.name : '' },
        h('span', { class: c.ok ? 'pill ok' : 'pill bad' }, c.ok ? 'ok' : 'failing'),
        h('strong', null, String(c.name)),
        h('span', { class: 'check-detail' }, typeof c.detail === 'string' ? c.detail : '')));
    }
    const readiness = h('section', { class: 'card' }, h('h2', null, 'Readiness'),
      h('span', { class: rd.ready ? 'pill ok' : 'pill bad', id: 'health-ready' }, rd.ready ? 'ready' : 'not ready'),
      checks.length ? list : h('p', { class: 'muted' }, 'No checks reported.'));
    const throughput = h('section', { class: 'card' }, h('h2', null, 'Throughput'),
      h('div', { class: 'big-number', id: 'health-fps' }, fps, h('span', { class: 'muted small' }, ' fills/s')),
      kv([
        ['Fills, total', fmtInt(tp.fills_total), null, 'health-fills-total'],
        ['Accounts', fmtInt(tp.accounts), null, 'health-accounts'],
      ]));
    const consoleState = stream.state === 'live' ? 'subscribed' : stream.state;
    const publisher = h('section', { class: 'card' }, h('h2', null, 'Publisher'),
      kv([
        ['Enabled', pub.enabled ? 'yes' : 'no'],
        ['Last seq', fmtInt(pub.seq), null, 'health-seq'],
        ['This console', stream.lastSeq !== null ? consoleState + ', at seq ' + fmtInt(stream.lastSeq) : consoleState],
      ]),
      pub.enabled && isNum(pub.port)
        ? h('p', { class: 'endpoint' }, h('span', { class: 'muted' }, 'Endpoint '), h('span', { class: 'mono' }, streamUrl(pub)))
        : null);
    clear(grid);
    append(grid, [model, quality, readiness, throughput, publisher]);
    $('view-health').setAttribute('data-version', String(version));
  }

  // ------------------------------------------------------------------------------------------ start
  function init() {
    window.addEventListener('hashchange', showView);
    window.addEventListener('pagehide', () => { state.leaving = true; stopStream(); });
    $('account-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = $('account-input').value.trim();
      if (!name) return;
      if (parseHash().view === 'account' && parseHash().param === name) { loadAccount(name); return; }
      navigateToAccount(name);
    });
    $('account-refresh').addEventListener('click', () => { if (state.accountParam) loadAccount(state.accountParam); });
    $('filter-segment').addEventListener('change', renderChanges);
    $('filter-account').addEventListener('input', renderChanges);
    $('changes-filters').addEventListener('submit', (ev) => ev.preventDefault());
    if (!window.location.hash) window.history.replaceState(null, '', '#segments');
    showView();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
