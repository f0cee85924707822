// Small DOM helpers, formatting, the JSON highlighter, copy buttons, toasts and dialogs.

/** h('a', {href: '#/x', class: 'c'}, 'text', child, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'html') el.innerHTML = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// ---- time ------------------------------------------------------------------------------------

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const preciseFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3,
});

/** AWS timestamps are epoch seconds; shown in the viewer's zone. */
export function fmtTime(sec, precise = false) {
  if (sec === undefined || sec === null) return '–';
  return (precise ? preciseFmt : dateFmt).format(new Date(sec * 1000));
}

export function fmtDuration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hrs = Math.floor(m / 60);
  return `${hrs} h ${m % 60} min`;
}

export function timeEl(sec, precise = false) {
  if (sec === undefined || sec === null) return h('span', { class: 'muted' }, '–');
  return h('time', { datetime: new Date(sec * 1000).toISOString(), title: new Date(sec * 1000).toISOString() }, fmtTime(sec, precise));
}

// ---- status ----------------------------------------------------------------------------------

const LABELS = {
  RUNNING: 'Running', SUCCEEDED: 'Succeeded', FAILED: 'Failed', TIMED_OUT: 'Timed out', ABORTED: 'Aborted',
  PENDING_REDRIVE: 'Pending redrive',
  succeeded: 'Succeeded', failed: 'Failed', caught: 'Caught error', in_progress: 'In progress',
  cancelled: 'Cancelled', not_reached: 'Not reached',
};

export function badge(status) {
  const s = status || 'not_reached';
  return h('span', { class: `badge b-${s.toLowerCase()}` }, LABELS[s] || s);
}

// ---- JSON ------------------------------------------------------------------------------------

const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|[{}[\],:]|\s+|./gs;

/**
 * Pretty-print and highlight JSON text in one pass over its tokens, without JSON.parse (which
 * would round large numbers). Returns HTML. Text that is not JSON comes back escaped.
 */
export function highlightJson(text) {
  if (text === undefined || text === null) return '';
  const src = String(text);
  let out = '';
  let indent = 0;
  const nl = () => '\n' + '  '.repeat(indent);
  const tokens = src.match(TOKEN) || [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (/^\s+$/.test(t)) continue;
    let j = i + 1;
    while (j < tokens.length && /^\s+$/.test(tokens[j])) j++;
    const next = tokens[j];
    if (t === '{' || t === '[') {
      const close = t === '{' ? '}' : ']';
      if (next === close) { out += `<span class="j-p">${t}${close}</span>`; i = j; continue; }
      indent++;
      out += `<span class="j-p">${t}</span>` + nl();
    } else if (t === '}' || t === ']') {
      indent = Math.max(0, indent - 1);
      out += nl() + `<span class="j-p">${t}</span>`;
    } else if (t === ',') {
      out += '<span class="j-p">,</span>' + nl();
    } else if (t === ':') {
      out += '<span class="j-p">:</span> ';
    } else if (t[0] === '"') {
      out += `<span class="${next === ':' ? 'j-k' : 'j-s'}">${esc(t)}</span>`;
    } else if (t === 'true' || t === 'false') {
      out += `<span class="j-b">${t}</span>`;
    } else if (t === 'null') {
      out += `<span class="j-n">null</span>`;
    } else if (/^-?\d/.test(t)) {
      out += `<span class="j-d">${t}</span>`;
    } else {
      out += esc(t);
    }
  }
  return out;
}

/** Pretty JSON text (for copying), same rules as the highlighter. */
export function prettyJson(text) {
  const div = document.createElement('div');
  div.innerHTML = highlightJson(text);
  return div.textContent;
}

/** A highlighted, copyable JSON block. */
export function jsonBlock(text, { label, empty = 'No data' } = {}) {
  if (text === undefined || text === null) return h('p', { class: 'muted empty-inline' }, empty);
  const pre = h('pre', { class: 'json', tabindex: '0', html: highlightJson(text) });
  return h('div', { class: 'json-wrap' },
    h('div', { class: 'json-bar' }, label ? h('span', { class: 'json-label' }, label) : null,
      copyButton(() => prettyJson(text), 'Copy JSON')),
    pre);
}

// ---- copy, toasts, dialogs -------------------------------------------------------------------

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { style: 'position:fixed;opacity:0' }, text);
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast('Copied to the clipboard');
}

const COPY_ICON = '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true"><rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>';

export function copyButton(getText, title = 'Copy') {
  return h('button', {
    class: 'icon-btn copy', type: 'button', title, 'aria-label': title, html: COPY_ICON,
    onclick: (e) => { e.stopPropagation(); copyText(typeof getText === 'function' ? getText() : getText); },
  });
}

/** An ARN with a copy button. */
export function arnEl(arn) {
  return h('span', { class: 'arn' }, h('code', {}, arn), copyButton(arn, 'Copy ARN'));
}

export function toast(message, kind = 'info') {
  const t = h('div', { class: `toast t-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 2500);
}

export function errorToast(err) {
  toast(err && err.code ? `${err.code}: ${err.message}` : String(err), 'error');
}

/** A modal dialog; resolves with the value passed to close(), or undefined on cancel. */
export function dialog(title, body, actions) {
  return new Promise((resolve) => {
    const d = h('dialog', { class: 'dialog', 'aria-label': title });
    const close = (v) => { d.close(); d.remove(); resolve(v); };
    d.append(h('h2', {}, title), body,
      h('div', { class: 'actions' }, ...actions(close)));
    d.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
    document.body.append(d);
    d.showModal();
    const focus = d.querySelector('[autofocus]') || d.querySelector('input,textarea,button.primary');
    if (focus) focus.focus();
  });
}

export async function confirmDialog(title, message, confirmLabel, danger = false) {
  return dialog(title, h('p', {}, message), (close) => [
    h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
    h('button', { type: 'button', class: danger ? 'primary danger' : 'primary', autofocus: true, onclick: () => close(true) }, confirmLabel),
  ]);
}

// ---- layout bits -----------------------------------------------------------------------------

export function emptyState(title, text, ...extra) {
  return h('div', { class: 'empty' }, h('h3', {}, title), text ? h('p', {}, text) : null, ...extra);
}

export function errorState(err) {
  return h('div', { class: 'empty error' }, h('h3', {}, err.code || 'Error'), h('p', {}, err.message || String(err)));
}

export function tabs(items, selected, onSelect) {
  const bar = h('div', { class: 'tabs', role: 'tablist' });
  for (const [id, label] of items) {
    bar.append(h('button', {
      type: 'button', role: 'tab', 'aria-selected': id === selected ? 'true' : 'false',
      class: id === selected ? 'tab active' : 'tab', 'data-tab': id,
      onclick: () => onSelect(id),
    }, label));
  }
  bar.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const btns = [...bar.querySelectorAll('button')];
    const i = btns.indexOf(document.activeElement);
    const n = btns[(i + (e.key === 'ArrowRight' ? 1 : btns.length - 1)) % btns.length];
    n.focus(); n.click();
  });
  return bar;
}

export function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    dl.append(h('div', {}, h('dt', {}, k), h('dd', {}, v ?? h('span', { class: 'muted' }, '–'))));
  }
  return dl;
}

export function link(href, text) {
  return h('a', { href }, text);
}

export const execHref = (arn) => `#/executions/${encodeURIComponent(arn)}`;
export const machineHref = (arn) => `#/state-machines/${encodeURIComponent(arn)}`;
export const nameOf = (arn) => (arn || '').split(':').pop();

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
