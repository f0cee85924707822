// List and detail pages: state machines, executions, activities, functions.

import { sfn, sfnAll, consoleApi, lambda } from './api.js';
import {
  h, badge, timeEl, jsonBlock, arnEl, kv, tabs, errorToast, toast, dialog, emptyState,
  errorState, execHref, machineHref, nameOf, debounce, highlightJson, copyButton,
} from './ui.js';
import { renderGraph } from './graph.js';
import { executionsTable } from './execution.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', {}, title), h('div', { class: 'actions' }, ...actions));
}

// ---- state machines -------------------------------------------------------------------------

export async function machinesPage(main) {
  const [machines, counts] = await Promise.all([
    sfnAll('ListStateMachines', { maxResults: 1000 }, 'stateMachines'),
    consoleApi('execution-counts').catch(() => ({ counts: {} })),
  ]);
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Search state machines', 'aria-label': 'Search state machines', 'data-search': '' });
  const body = h('tbody');
  const render = () => {
    const f = search.value.trim().toLowerCase();
    const shown = machines.filter((m) => m.name.toLowerCase().includes(f));
    body.replaceChildren(...shown.map((m) => {
      const c = counts.counts[m.stateMachineArn] || {};
      return h('tr', {},
        h('td', {}, h('a', { href: machineHref(m.stateMachineArn), class: 'machine-link' }, m.name)),
        h('td', {}, m.type === 'EXPRESS' ? 'Express' : 'Standard'),
        h('td', {}, timeEl(m.creationDate)),
        h('td', { class: 'num' }, c.RUNNING ? h('a', { href: `#/executions?status=RUNNING&stateMachineArn=${encodeURIComponent(m.stateMachineArn)}` }, badge('RUNNING'), ` ${c.RUNNING}`) : '0'),
        h('td', { class: 'num' }, c.FAILED ? h('a', { href: `#/executions?status=FAILED&stateMachineArn=${encodeURIComponent(m.stateMachineArn)}` }, badge('FAILED'), ` ${c.FAILED}`) : '0'));
    }));
  };
  search.addEventListener('input', render);
  render();
  main.replaceChildren(h('div', { class: 'page' },
    pageHead(`State machines (${machines.length})`),
    machines.length
      ? h('section', { class: 'card' }, h('div', { class: 'toolbar' }, search),
        h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'machines' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), h('th', {}, 'Created'), h('th', { class: 'num' }, 'Running'), h('th', { class: 'num' }, 'Failed'))), body)))
      : emptyState('No state machines yet', 'Create one with the AWS CLI or an SDK pointed at this server:',
        h('pre', { class: 'cmd' }, `aws stepfunctions create-state-machine --endpoint-url ${location.origin} \\\n  --name hello --role-arn arn:aws:iam::123456789012:role/x \\\n  --definition '{"StartAt":"Hi","States":{"Hi":{"Type":"Pass","End":true}}}'`))));
}

export async function startDialog(machineArn, { input = '{\n  \n}', name = '' } = {}) {
  const nameIn = h('input', { type: 'text', id: 'exec-name', placeholder: 'Optional: a unique name', value: name, maxlength: '80', 'aria-label': 'Execution name' });
  const ta = h('textarea', { id: 'exec-input', spellcheck: 'false', rows: '12', 'aria-label': 'Input (JSON)' }, input);
  const status = h('p', { class: 'muted small', id: 'input-status' });
  const preview = h('pre', { class: 'json preview', 'aria-hidden': 'true' });
  const check = () => {
    try {
      JSON.parse(ta.value || 'null');
      status.textContent = 'Valid JSON · Ctrl+Enter starts';
      status.className = 'muted small ok';
      preview.innerHTML = highlightJson(ta.value);
      return true;
    } catch (e) {
      status.textContent = e.message;
      status.className = 'small bad';
      return false;
    }
  };
  ta.addEventListener('input', check);
  check();
  return dialog('Start execution', h('div', { class: 'form' },
    h('label', {}, 'Name', nameIn),
    h('label', {}, 'Input', ta), status,
    h('details', {}, h('summary', {}, 'Highlighted'), preview)),
  (close) => {
    const go = async () => {
      if (!check()) return;
      try {
        const r = await sfn('StartExecution', { stateMachineArn: machineArn, input: ta.value, ...(nameIn.value.trim() ? { name: nameIn.value.trim() } : {}) });
        close(r.executionArn);
      } catch (err) { errorToast(err); }
    };
    ta.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); go(); } });
    return [
      h('button', { type: 'button', class: 'fmt', onclick: () => { try { ta.value = JSON.stringify(JSON.parse(ta.value), null, 2); check(); } catch { check(); } } }, 'Format'),
      h('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
      h('button', { type: 'button', class: 'primary', id: 'start-confirm', onclick: go }, 'Start execution'),
    ];
  });
}

export async function machinePage(main, arn, params) {
  const m = await sfn('DescribeStateMachine', { stateMachineArn: arn });
  let tab = params.get('tab') || 'executions';
  const content = h('div');
  const start = async () => {
    const exec = await startDialog(arn);
    if (exec) { toast('Execution started'); location.hash = execHref(exec); }
  };
  const bar = () => tabs([['executions', 'Executions'], ['definition', 'Definition'], ['versions', 'Versions and aliases'], ['tags', 'Tags']], tab, (t) => {
    tab = t;
    history.replaceState(null, '', `${machineHref(arn)}?tab=${t}`);
    render();
  });
  const tabBox = h('div');
  async function render() {
    tabBox.replaceChildren(bar());
    content.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      if (tab === 'executions') await machineExecutions(content, arn);
      else if (tab === 'definition') await definitionView(content, m);
      else if (tab === 'versions') await versionsView(content, arn);
      else await tagsView(content, arn);
    } catch (err) { content.replaceChildren(errorState(err)); }
  }
  main.replaceChildren(h('div', { class: 'page' },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/state-machines' }, 'State machines'), ' / ', m.name),
    pageHead(m.name, h('button', { type: 'button', class: 'primary', id: 'start-execution', onclick: start }, 'Start execution')),
    h('section', { class: 'card details' }, kv([
      ['ARN', arnEl(m.stateMachineArn)], ['Type', m.type === 'EXPRESS' ? 'Express' : 'Standard'],
      ['Created', timeEl(m.creationDate)], ['Role', h('code', {}, m.roleArn)], ['Status', m.status],
      ['Description', m.description],
    ])),
    h('section', { class: 'card' }, tabBox, content)));
  render();
}

async function machineExecutions(box, arn) {
  const state = { status: '', name: '', tokens: [undefined], page: 0 };
  const sel = h('select', { 'aria-label': 'Status filter' }, h('option', { value: '' }, 'All statuses'), STATUSES.map((s) => h('option', { value: s }, s.replace('_', ' ').toLowerCase())));
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Search by name', 'aria-label': 'Search executions by name', 'data-search': '' });
  const list = h('div');
  const pager = h('div', { class: 'pager' });
  const load = async () => {
    try {
      const token = state.tokens[state.page];
      // ListExecutions has no name filter: a search goes through the console's endpoint.
      const r = state.name
        ? await consoleApi('executions', { stateMachineArn: arn, status: state.status, name: state.name, maxResults: 25, nextToken: token })
        : await sfn('ListExecutions', { stateMachineArn: arn, maxResults: 25, ...(state.status ? { statusFilter: state.status } : {}), ...(token ? { nextToken: token } : {}) });
      state.tokens[state.page + 1] = r.nextToken;
      list.replaceChildren(r.executions.length ? executionsTable(r.executions, { showMachine: false }) : emptyState('No executions', state.status || state.name ? 'Nothing matches these filters.' : 'Start one with the Start execution button.'));
      renderPager(pager, state, load, !!r.nextToken);
    } catch (err) { list.replaceChildren(errorState(err)); }
  };
  const reset = () => { state.tokens = [undefined]; state.page = 0; load(); };
  sel.addEventListener('change', () => { state.status = sel.value; reset(); });
  search.addEventListener('input', debounce(() => { state.name = search.value.trim(); reset(); }, 250));
  box.replaceChildren(h('div', { class: 'toolbar' }, search, sel), list, pager);
  await load();
}

function renderPager(pager, state, load, hasNext) {
  pager.replaceChildren(
    h('button', { type: 'button', disabled: state.page === 0 ? true : undefined, onclick: () => { state.page--; load(); } }, '‹ Previous'),
    h('span', { class: 'muted' }, `Page ${state.page + 1}`),
    h('button', { type: 'button', disabled: hasNext ? undefined : true, onclick: () => { state.page++; load(); } }, 'Next ›'));
}

async function definitionView(box, m) {
  const [graph, validation] = await Promise.all([
    consoleApi('graph', { stateMachineArn: m.stateMachineArn }).catch((e) => ({ error: e })),
    sfn('ValidateStateMachineDefinition', { definition: m.definition, type: m.type }).catch((e) => ({ error: e })),
  ]);
  const diags = validation.error ? [] : validation.diagnostics || [];
  const lines = highlightJson(m.definition).split('\n');
  const code = h('pre', { class: 'json code numbered', html: lines.map((l) => `<span class="ln">${l}</span>`).join('\n') });
  const diagBox = validation.error
    ? errorState(validation.error)
    : h('div', { class: `diagnostics ${validation.result === 'OK' && !diags.length ? 'ok' : ''}` },
      diags.length
        ? h('ul', {}, diags.map((d) => h('li', { class: `diag d-${(d.severity || '').toLowerCase()}` }, h('strong', {}, d.severity), ` ${d.code}: ${d.message}`, d.location ? h('code', {}, ` at ${d.location}`) : null)))
        : h('p', {}, '✓ Valid definition: no diagnostics'));
  const graphBox = h('div', { class: 'graph-box' });
  box.replaceChildren(h('div', { class: 'def-grid' },
    h('div', { class: 'def-code' }, diagBox, h('div', { class: 'json-wrap' }, h('div', { class: 'json-bar' }, h('span', { class: 'json-label' }, 'Definition'), copyButton(m.definition, 'Copy definition')), code)),
    h('div', { class: 'def-graph' }, graphBox)));
  if (graph.error) graphBox.append(errorState(graph.error));
  else renderGraph(graphBox, graph);
}

async function versionsView(box, arn) {
  const [versions, aliases] = await Promise.all([
    sfnAll('ListStateMachineVersions', { stateMachineArn: arn }, 'stateMachineVersions'),
    sfnAll('ListStateMachineAliases', { stateMachineArn: arn }, 'stateMachineAliases'),
  ]);
  const aliasDetails = await Promise.all(aliases.map((a) => sfn('DescribeStateMachineAlias', { stateMachineAliasArn: a.stateMachineAliasArn }).catch(() => a)));
  box.replaceChildren(
    h('h3', {}, `Versions (${versions.length})`),
    versions.length ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'ARN'), h('th', {}, 'Created'))),
      h('tbody', {}, versions.map((v) => h('tr', {}, h('td', {}, nameOf(v.stateMachineVersionArn)), h('td', {}, arnEl(v.stateMachineVersionArn)), h('td', {}, timeEl(v.creationDate))))))
      : emptyState('No versions', 'Publish one with PublishStateMachineVersion or publish=true on create/update.'),
    h('h3', {}, `Aliases (${aliases.length})`),
    aliases.length ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Alias'), h('th', {}, 'Routing'), h('th', {}, 'Created'))),
      h('tbody', {}, aliasDetails.map((a) => h('tr', {}, h('td', {}, a.name || nameOf(a.stateMachineAliasArn), ' ', arnEl(a.stateMachineAliasArn)),
        h('td', {}, (a.routingConfiguration || []).map((r) => `version ${nameOf(r.stateMachineVersionArn)}: ${r.weight}%`).join(', ')), h('td', {}, timeEl(a.creationDate))))))
      : emptyState('No aliases', 'Aliases route executions to versions by weight.'));
}

async function tagsView(box, arn) {
  const r = await sfn('ListTagsForResource', { resourceArn: arn });
  box.replaceChildren(r.tags.length
    ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Value'))), h('tbody', {}, r.tags.map((t) => h('tr', {}, h('td', {}, t.key), h('td', {}, t.value)))))
    : emptyState('No tags', 'Add tags with TagResource.'));
}

// ---- executions (all machines) --------------------------------------------------------------

export async function executionsPage(main, params) {
  const state = { status: params.get('status') || '', name: params.get('name') || '', sm: params.get('stateMachineArn') || '', tokens: [undefined], page: 0 };
  const sel = h('select', { 'aria-label': 'Status filter', id: 'status-filter' }, h('option', { value: '' }, 'All statuses'), STATUSES.map((s) => h('option', { value: s, selected: s === state.status ? true : undefined }, s.replace('_', ' ').toLowerCase())));
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Search by name', value: state.name, 'aria-label': 'Search executions by name', 'data-search': '' });
  const list = h('div');
  const pager = h('div', { class: 'pager' });
  const sync = () => {
    const q = new URLSearchParams();
    if (state.status) q.set('status', state.status);
    if (state.name) q.set('name', state.name);
    if (state.sm) q.set('stateMachineArn', state.sm);
    history.replaceState(null, '', `#/executions${q.toString() ? '?' + q : ''}`);
  };
  const load = async () => {
    try {
      const r = await consoleApi('executions', { status: state.status, name: state.name, stateMachineArn: state.sm, maxResults: 50, nextToken: state.tokens[state.page] });
      state.tokens[state.page + 1] = r.nextToken;
      list.replaceChildren(r.executions.length ? executionsTable(r.executions) : emptyState('No executions', state.name || state.status ? 'Nothing matches these filters.' : 'Executions of every state machine show up here, newest first.'));
      renderPager(pager, state, load, !!r.nextToken);
    } catch (err) { list.replaceChildren(errorState(err)); }
  };
  const reset = () => { state.tokens = [undefined]; state.page = 0; sync(); load(); };
  sel.addEventListener('change', () => { state.status = sel.value; reset(); });
  search.addEventListener('input', debounce(() => { state.name = search.value.trim(); reset(); }, 250));
  main.replaceChildren(h('div', { class: 'page' }, pageHead('Executions'),
    h('section', { class: 'card' }, h('div', { class: 'toolbar' }, search, sel, state.sm ? h('span', { class: 'chip' }, nameOf(state.sm), h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Clear state machine filter', onclick: () => { state.sm = ''; main.querySelector('.chip').remove(); reset(); } }, '×')) : null), list, pager)));
  await load();
}

// ---- activities -----------------------------------------------------------------------------

export async function activitiesPage(main) {
  const r = await consoleApi('activities');
  main.replaceChildren(h('div', { class: 'page' }, pageHead(`Activities (${r.activities.length})`),
    r.activities.length
      ? h('section', { class: 'card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'activities' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'ARN'), h('th', {}, 'Created'), h('th', { class: 'num' }, 'Pending tasks'))),
        h('tbody', {}, r.activities.map((a) => h('tr', {}, h('td', {}, a.name), h('td', {}, arnEl(a.activityArn)), h('td', {}, timeEl(a.creationDate)),
          h('td', { class: 'num' }, a.pendingTasks ? h('strong', { class: 'pending' }, String(a.pendingTasks)) : '0')))))))
      : emptyState('No activities', 'Activities are tasks done by your own workers (GetActivityTask). Create one with CreateActivity.')));
}

// ---- functions ------------------------------------------------------------------------------

export async function functionsPage(main) {
  const r = await lambda('functions/');
  const fns = r.Functions || [];
  main.replaceChildren(h('div', { class: 'page' }, pageHead(`Functions (${fns.length})`),
    fns.length
      ? h('section', { class: 'card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'functions' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Runtime'), h('th', {}, 'Handler'), h('th', {}, 'Timeout'), h('th', {}, 'Last modified'))),
        h('tbody', {}, fns.map((f) => h('tr', {}, h('td', {}, h('a', { href: `#/functions/${encodeURIComponent(f.FunctionName)}`, class: 'fn-link' }, f.FunctionName)),
          h('td', {}, f.Runtime), h('td', {}, h('code', {}, f.Handler || '–')), h('td', { class: 'num' }, `${f.Timeout} s`), h('td', {}, f.LastModified)))))))
      : emptyState('No functions', 'Local Lambda functions (Node.js, Python, provided) run as processes on this machine. Create one with the Lambda API (aws lambda create-function --endpoint-url …).')));
}

export async function functionPage(main, name) {
  const [f, inv] = await Promise.all([
    lambda(`functions/${encodeURIComponent(name)}/configuration`),
    consoleApi(`functions/${encodeURIComponent(name)}/invocations`),
  ]);
  const rows = inv.invocations.map((i) => {
    const tr = h('tr', { class: 'inv', tabindex: '0' }, h('td', {}, timeEl(i.start, true)), h('td', {}, badge(i.status === 'Success' ? 'succeeded' : 'failed'), i.errorType ? h('code', { class: 'err' }, ` ${i.errorType}`) : null),
      h('td', { class: 'num' }, `${i.durationMs.toFixed(1)} ms`), h('td', {}, h('code', {}, i.requestId)));
    const logRow = h('tr', { class: 'inv-log' }, h('td', { colspan: '4' }, h('pre', { class: 'log' }, i.log || '(no output)')));
    return [tr, logRow];
  });
  main.replaceChildren(h('div', { class: 'page' },
    h('nav', { class: 'crumbs' }, h('a', { href: '#/functions' }, 'Functions'), ' / ', name),
    pageHead(name),
    h('section', { class: 'card details' }, kv([['ARN', arnEl(f.FunctionArn)], ['Runtime', f.Runtime], ['Handler', h('code', {}, f.Handler || '–')], ['Timeout', `${f.Timeout} s`], ['Memory', `${f.MemorySize} MB`], ['Last modified', f.LastModified]])),
    h('section', { class: 'card' }, h('h2', {}, `Recent invocations (${inv.invocations.length})`),
      inv.invocations.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'invocations' }, h('thead', {}, h('tr', {}, h('th', {}, 'Started'), h('th', {}, 'Result'), h('th', {}, 'Duration'), h('th', {}, 'Request id'))), h('tbody', {}, rows)))
        : emptyState('No invocations yet', 'Logs of the latest invocations appear here.'))));
}

export { jsonBlock };
