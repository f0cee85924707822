// The console's entry point: a hash router over the pages.

import { machinesPage, machinePage, executionsPage, activitiesPage, functionsPage, functionPage } from './pages.js';
import { executionPage } from './execution.js';
import { consoleApi } from './api.js';
import { errorState } from './ui.js';

const main = document.getElementById('main');
let cleanup = null;
let seq = 0;

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/state-machines';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (cleanup) { cleanup(); cleanup = null; }
  const mine = ++seq;
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === parts[0]);
    if (a.dataset.nav === parts[0]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  try {
    let c;
    if (parts[0] === 'state-machines' && parts[1]) c = await machinePage(main, parts[1], params);
    else if (parts[0] === 'executions' && parts[1]) c = await executionPage(main, parts[1]);
    else if (parts[0] === 'executions') c = await executionsPage(main, params);
    else if (parts[0] === 'activities') c = await activitiesPage(main);
    else if (parts[0] === 'functions' && parts[1]) c = await functionPage(main, parts[1]);
    else if (parts[0] === 'functions') c = await functionsPage(main);
    else c = await machinesPage(main);
    if (typeof c === 'function') { if (mine === seq) cleanup = c; else c(); }
  } catch (err) {
    if (mine === seq) main.replaceChildren(errorState(err));
  } finally {
    if (mine === seq) { main.removeAttribute('aria-busy'); main.dataset.page = parts[0] || 'state-machines'; }
  }
}

window.addEventListener('hashchange', route);
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && !e.target.closest('input,textarea,select,dialog')) {
    const s = main.querySelector('[data-search]');
    if (s) { e.preventDefault(); s.focus(); }
  }
});
consoleApi('info').then((i) => {
  document.getElementById('where').textContent = `${i.region} · ${i.account} · v${i.version}`;
}).catch(() => {});
route();
