// Draws a layout computed by the server (/ironstep/api/graph) as SVG, with pan and zoom.
// The browser only draws: ranks, order and coordinates come from the Rust layout.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const c of children) if (c) el.append(c);
  return el;
}

/** A polyline with rounded corners. */
function pathOf(points) {
  if (points.length === 0) return '';
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [px, py] = points[i - 1], [x, y] = points[i], [nx, ny] = points[i + 1];
    const r = Math.min(10, Math.hypot(x - px, y - py) / 2, Math.hypot(nx - x, ny - y) / 2);
    const a = [x - ((x - px) / (Math.hypot(x - px, y - py) || 1)) * r, y - ((y - py) / (Math.hypot(x - px, y - py) || 1)) * r];
    const b = [x + ((nx - x) / (Math.hypot(nx - x, ny - y) || 1)) * r, y + ((ny - y) / (Math.hypot(nx - x, ny - y) || 1)) * r];
    d += ` L${a[0]},${a[1]} Q${x},${y} ${b[0]},${b[1]}`;
  }
  const last = points[points.length - 1];
  return d + ` L${last[0]},${last[1]}`;
}

function clipText(text, width, charW = 7.8) {
  const max = Math.max(3, Math.floor(width / charW));
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/**
 * Render `graph` into `container`. Options: onSelect(stateName) when a state is clicked.
 * Returns {setStatus(map name→status), select(name), fit(), svg}.
 */
export function renderGraph(container, graph, { onSelect } = {}) {
  container.textContent = '';
  container.classList.add('graph');
  const svg = s('svg', { class: 'graph-svg', role: 'img', 'aria-label': 'Workflow graph' });
  const defs = s('defs');
  for (const kind of ['next', 'catch', 'active']) {
    defs.append(s('marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead ah-${kind}` })));
  }
  svg.append(defs);
  const view = s('g', { class: 'viewport' });
  svg.append(view);
  const nodes = new Map();

  const groupLayer = s('g');
  const nodeLayer = s('g');
  const edgeLayer = s('g');
  const labelLayer = s('g');
  view.append(groupLayer, nodeLayer, edgeLayer, labelLayer);

  // Compound states first (they contain frames), then frames, then simple states.
  for (const n of graph.nodes.filter((n) => n.compound)) nodeLayer.append(drawNode(n));
  for (const g of graph.groups) {
    const frame = s('g', { class: `frame frame-${g.kind}`, 'data-state': g.state, 'data-index': g.index });
    frame.append(s('rect', { x: g.x, y: g.y, width: g.w, height: g.h, rx: 8 }));
    if (g.kind === 'branch') frame.append(s('text', { x: g.x + 8, y: g.y + 12, class: 'frame-label' }, document.createTextNode(`Branch ${g.index + 1}`)));
    nodeLayer.append(frame);
  }
  for (const n of graph.nodes.filter((n) => !n.compound)) nodeLayer.append(drawNode(n));

  function drawNode(n) {
    const g = s('g', {
      class: `node k-${n.kind} t-${(n.stateType || '').toLowerCase()}${n.compound ? ' compound' : ''}`,
      'data-id': n.id, transform: `translate(${n.x},${n.y})`,
    });
    if (n.kind === 'state') {
      g.setAttribute('tabindex', '0');
      g.setAttribute('role', 'button');
      g.setAttribute('aria-label', `${n.id} (${n.stateType})`);
    }
    if (n.kind !== 'state') {
      g.append(s('rect', { width: n.w, height: n.h, rx: n.h / 2, class: 'box' }));
      g.append(s('text', { x: n.w / 2, y: n.h / 2 + 4, 'text-anchor': 'middle', class: 'marker-label' }, document.createTextNode(n.kind === 'start' ? 'Start' : 'End')));
    } else if (n.compound) {
      g.append(s('rect', { width: n.w, height: n.h, rx: 10, class: 'box' }));
      g.append(s('text', { x: 12, y: 21, class: 'label' }, document.createTextNode(clipText(n.id, n.w - 90))));
      g.append(s('text', { x: n.w - 12, y: 21, 'text-anchor': 'end', class: 'sub' }, document.createTextNode(n.stateType)));
    } else {
      g.append(s('rect', { width: n.w, height: n.h, rx: 8, class: 'box' }));
      g.append(s('text', { x: n.w / 2, y: 19, 'text-anchor': 'middle', class: 'label' }, document.createTextNode(clipText(n.id, n.w - 20))));
      g.append(s('text', { x: n.w / 2, y: 34, 'text-anchor': 'middle', class: 'sub' }, document.createTextNode(clipText(n.resource || n.stateType, n.w - 20, 6.4))));
    }
    const title = s('title');
    title.textContent = n.kind === 'state' ? `${n.id}\n${n.stateType}${n.resource ? ' · ' + n.resource : ''}` : n.kind;
    g.append(title);
    nodes.set(n.id, g);
    return g;
  }

  for (const e of graph.edges) {
    const kind = e.kind === 'catch' ? 'catch' : 'next';
    edgeLayer.append(s('path', {
      d: pathOf(e.points), class: `edge e-${e.kind}${e.back ? ' e-back' : ''}`,
      'marker-end': `url(#arrow-${kind})`, 'data-from': e.from, 'data-to': e.to,
    }));
    if (e.label && e.labelAt) {
      const t = s('text', { x: e.labelAt[0] + 4, y: e.labelAt[1] + 4, class: `edge-label el-${e.kind}` }, document.createTextNode(e.label));
      labelLayer.append(t);
    }
  }

  container.append(svg);

  // ---- pan and zoom --------------------------------------------------------------------------
  let k = 1, tx = 0, ty = 0;
  const apply = () => view.setAttribute('transform', `translate(${tx},${ty}) scale(${k})`);
  const fit = () => {
    const W = svg.clientWidth || container.clientWidth || 600;
    const H = svg.clientHeight || container.clientHeight || 400;
    const pad = 24;
    const kw = (W - 2 * pad) / Math.max(graph.width, 1);
    const kh = (H - 2 * pad) / Math.max(graph.height, 1);
    if (kh < 0.45 && kw > kh) {
      // A tall machine: readable from the top rather than shrunk to dots; pan to see more.
      k = Math.min(kw, 1);
      tx = (W - graph.width * k) / 2;
      ty = pad;
    } else {
      k = Math.max(0.05, Math.min(1.2, kw, kh));
      tx = (W - graph.width * k) / 2;
      ty = Math.max(pad, (H - graph.height * k) / 2);
    }
    apply();
  };
  const zoomAt = (factor, cx, cy) => {
    const nk = Math.min(4, Math.max(0.05, k * factor));
    tx = cx - ((cx - tx) * nk) / k;
    ty = cy - ((cy - ty) * nk) / k;
    k = nk;
    apply();
  };
  svg.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = svg.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey || !e.shiftKey) zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  svg.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || e.target.closest('.node.k-state, .frame')) return;
    drag = { x: e.clientX, y: e.clientY, tx, ty };
    svg.setPointerCapture(e.pointerId);
    svg.classList.add('dragging');
  });
  svg.addEventListener('pointermove', (e) => {
    if (!drag) return;
    tx = drag.tx + e.clientX - drag.x;
    ty = drag.ty + e.clientY - drag.y;
    apply();
  });
  const endDrag = () => { drag = null; svg.classList.remove('dragging'); };
  svg.addEventListener('pointerup', endDrag);
  svg.addEventListener('pointercancel', endDrag);

  const controls = document.createElement('div');
  controls.className = 'graph-controls';
  const btn = (label, title, fn) => {
    const b = document.createElement('button');
    b.type = 'button'; b.textContent = label; b.title = title; b.setAttribute('aria-label', title);
    b.addEventListener('click', fn);
    controls.append(b);
  };
  const center = () => [svg.clientWidth / 2, svg.clientHeight / 2];
  btn('+', 'Zoom in (+)', () => zoomAt(1.25, ...center()));
  btn('−', 'Zoom out (−)', () => zoomAt(0.8, ...center()));
  btn('⤢', 'Fit (0)', fit);
  container.append(controls);

  container.tabIndex = 0;
  container.addEventListener('keydown', (e) => {
    if (e.target.closest('input,textarea,select')) return;
    const step = 60;
    if (e.key === '+' || e.key === '=') zoomAt(1.25, ...center());
    else if (e.key === '-') zoomAt(0.8, ...center());
    else if (e.key === '0') fit();
    else if (e.key === 'ArrowLeft' && e.target === container) tx += step;
    else if (e.key === 'ArrowRight' && e.target === container) tx -= step;
    else if (e.key === 'ArrowUp' && e.target === container) ty += step;
    else if (e.key === 'ArrowDown' && e.target === container) ty -= step;
    else return;
    e.preventDefault();
    apply();
  });

  // ---- selection -----------------------------------------------------------------------------
  let selected = null;
  const select = (id, notify = true) => {
    if (selected) nodes.get(selected)?.classList.remove('selected');
    selected = id;
    const el = nodes.get(id);
    if (el) el.classList.add('selected');
    if (notify && onSelect) onSelect(id);
  };
  nodeLayer.addEventListener('click', (e) => {
    // A click on a branch or body frame selects the Parallel or Map state around it.
    const g = e.target.closest('.node.k-state') || e.target.closest('.frame');
    if (g) select(g.dataset.id || g.dataset.state);
  });
  nodeLayer.addEventListener('keydown', (e) => {
    const g = e.target.closest('.node.k-state');
    if (g && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); select(g.dataset.id); }
  });

  const statusClasses = ['st-succeeded', 'st-failed', 'st-caught', 'st-in_progress', 'st-cancelled'];
  const setStatus = (statusOf) => {
    for (const [id, el] of nodes) {
      if (!el.classList.contains('k-state')) continue;
      el.classList.remove(...statusClasses);
      const st = statusOf(id);
      if (st) el.classList.add(`st-${st}`);
      el.dataset.status = st || 'not_reached';
    }
  };

  requestAnimationFrame(fit);
  const ro = new ResizeObserver(() => { if (!drag) fit(); });
  ro.observe(container);
  setTimeout(() => ro.disconnect(), 1500);
  return { setStatus, select, fit, svg };
}

export function legend() {
  const el = document.createElement('div');
  el.className = 'legend';
  for (const [st, label] of [['in_progress', 'In progress'], ['succeeded', 'Succeeded'], ['failed', 'Failed'], ['caught', 'Caught error'], ['cancelled', 'Cancelled'], ['not_reached', 'Not reached']]) {
    const i = document.createElement('span');
    i.className = `lg lg-${st}`;
    i.textContent = label;
    el.append(i);
  }
  return el;
}
