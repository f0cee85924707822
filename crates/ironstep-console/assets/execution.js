// The execution page: details, the live graph with step details, events, children.

import { sfn, sfnAll, consoleApi } from './api.js';
import {
  h, esc, badge, timeEl, fmtTime, fmtDuration, jsonBlock, highlightJson, arnEl, kv, tabs,
  errorToast, toast, confirmDialog, emptyState, errorState, execHref, machineHref, nameOf,
} from './ui.js';
import { renderGraph, legend } from './graph.js';

const WEIGHT = { in_progress: 5, failed: 4, caught: 3, cancelled: 2, succeeded: 1 };
const worst = (a, b) => (!a || (WEIGHT[b] || 0) > (WEIGHT[a] || 0) ? b : a);

function parentOf(input) {
  try {
    const v = JSON.parse(input);
    const p = v && typeof v === 'object' ? v.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID : undefined;
    return typeof p === 'string' && p.startsWith('arn:') ? p : undefined;
  } catch { return undefined; }
}

function visitLabel(v, i) {
  if (v.path && v.path.length) {
    return v.path.map((p) => (p.kind === 'iteration' ? `${p.state} · iteration ${p.index}` : `${p.state} · branch ${p.index + 1}`)).join(' › ');
  }
  return `Visit ${i + 1} · ${fmtTime(v.enteredAt, true)}`;
}

function eventResource(e) {
  const d = Object.entries(e).find(([k]) => k.endsWith('EventDetails'));
  if (!d) return '';
  const det = d[1];
  if (det.resourceType && det.resource) return `${det.resourceType}:${det.resource}`;
  if (det.resource) return nameOf(det.resource);
  return '';
}

function eventDetails(e) {
  const d = Object.entries(e).find(([k]) => k.endsWith('EventDetails'));
  return d ? d[1] : null;
}

/** Render the execution page. Returns a cleanup function (closes the live stream). */
export async function executionPage(main, arn) {
  let stream = null;
  let closed = false;
  const cleanup = () => { closed = true; if (stream) stream.close(); };

  let desc, graph, stepsRes, events;
  try {
    [desc, graph, stepsRes, events] = await Promise.all([
      sfn('DescribeExecution', { executionArn: arn }),
      consoleApi('graph', { executionArn: arn }).catch((e) => ({ error: e })),
      consoleApi('steps', { executionArn: arn }),
      sfnAll('GetExecutionHistory', { executionArn: arn, maxResults: 1000 }, 'events', 25000),
    ]);
  } catch (err) {
    main.replaceChildren(errorState(err));
    return cleanup;
  }
  let steps = stepsRes.steps;
  let lastId = events.length ? events[events.length - 1].id : 0;
  const iterFilter = new Map(); // Map state → selected iteration index
  let selectedState = null;
  let selectedVisit = 0;

  // ---- header and details -------------------------------------------------------------------
  const title = h('h1', {}, desc.name);
  const statusSlot = h('span', { class: 'status-slot' });
  const actions = h('div', { class: 'actions' });
  const details = h('section', { class: 'card details' });
  const parent = parentOf(desc.input);

  function renderHeader() {
    statusSlot.replaceChildren(badge(desc.status));
    actions.replaceChildren();
    if (desc.status === 'RUNNING') {
      actions.append(h('button', { type: 'button', class: 'danger', id: 'stop-execution', onclick: stop }, 'Stop execution'));
    }
    if (desc.redriveStatus === 'REDRIVABLE') {
      actions.append(h('button', { type: 'button', id: 'redrive-execution', title: 'RedriveExecution', onclick: redrive }, 'Redrive'));
    }
    const dur = (desc.stopDate ?? Date.now() / 1000) - desc.startDate;
    details.replaceChildren(kv([
      ['Execution ARN', arnEl(desc.executionArn)],
      ['State machine', h('a', { href: machineHref(desc.stateMachineArn) }, nameOf(desc.stateMachineArn))],
      ['Status', badge(desc.status)],
      ['Started', timeEl(desc.startDate)],
      ['Ended', timeEl(desc.stopDate)],
      ['Duration', fmtDuration(dur * 1000)],
      ['Started by', parent ? h('a', { href: execHref(parent), class: 'parent-link' }, nameOf(parent)) : undefined],
      ['Version', desc.stateMachineVersionArn ? h('code', {}, desc.stateMachineVersionArn) : undefined],
      ['Alias', desc.stateMachineAliasArn ? h('code', {}, desc.stateMachineAliasArn) : undefined],
      ['Redrive', desc.redriveStatus ? `${desc.redriveStatus === 'REDRIVABLE' ? 'Redrivable' : 'Not redrivable'} · ${desc.redriveCount || 0} redrives` : undefined],
    ]));
    if (desc.error || desc.cause) {
      details.append(h('div', { class: 'error-box' }, h('strong', {}, desc.error || 'Error'), desc.cause ? h('pre', { class: 'cause' }, desc.cause) : null));
    }
  }

  async function stop() {
    const ok = await confirmDialog('Stop execution', `Stop ${desc.name}? Running states are cancelled; this cannot be undone.`, 'Stop', true);
    if (!ok) return;
    try {
      await sfn('StopExecution', { executionArn: arn });
      toast('Execution stopped');
      await refreshAll();
    } catch (err) { errorToast(err); }
  }

  async function redrive() {
    try {
      await sfn('RedriveExecution', { executionArn: arn });
      toast('Redrive started');
      await refreshAll();
    } catch (err) { errorToast(err); }
  }

  // ---- graph ------------------------------------------------------------------------------
  const graphBox = h('div', { class: 'graph-box', id: 'graph' });
  const panel = h('aside', { class: 'step-panel card', id: 'step-details', 'aria-live': 'polite' });
  let view = null;

  const statusOf = (name) => {
    let st = null;
    for (const v of steps.visits) {
      if (v.name !== name) continue;
      if (v.path.some((p) => p.kind === 'iteration' && iterFilter.has(p.state) && iterFilter.get(p.state) !== p.index)) continue;
      st = worst(st, v.status);
    }
    return st;
  };

  if (graph.error) graphBox.append(errorState(graph.error));
  const recolor = () => view && view.setStatus(statusOf);

  // ---- step details -----------------------------------------------------------------------
  function panelEmpty() {
    panel.replaceChildren(h('h2', {}, 'Step details'), h('p', { class: 'muted' }, 'Select a state in the graph to see its input, output and attempts.'));
  }

  async function showStep(name, keepVisit = false) {
    selectedState = name;
    if (!keepVisit) selectedVisit = 0;
    let res;
    try {
      res = await consoleApi('steps', { executionArn: arn, state: name });
    } catch (err) { panel.replaceChildren(errorState(err)); return; }
    if (selectedState !== name) return;
    const visits = res.steps.visits;
    const node = graph.nodes ? graph.nodes.find((n) => n.id === name) : null;
    const head = h('div', { class: 'panel-head' },
      h('h2', {}, name),
      h('span', { class: 'muted' }, node ? node.stateType : ''),
      badge(visits.length ? statusOf(name) : 'not_reached'),
      h('button', { type: 'button', class: 'icon-btn close', title: 'Close (Esc)', 'aria-label': 'Close step details', onclick: () => { selectedState = null; panelEmpty(); } }, '×'));
    if (!visits.length) {
      panel.replaceChildren(head, h('p', { class: 'muted' }, 'This state was not reached.'));
      return;
    }
    // Prefer the visit in the selected iteration.
    if (!keepVisit && iterFilter.size) {
      const i = visits.findIndex((v) => v.path.every((p) => p.kind !== 'iteration' || !iterFilter.has(p.state) || iterFilter.get(p.state) === p.index));
      if (i >= 0) selectedVisit = i;
    }
    selectedVisit = Math.min(selectedVisit, visits.length - 1);
    const v = visits[selectedVisit];
    const picker = visits.length > 1
      ? h('label', { class: 'visit-picker' }, `${v.path.some((p) => p.kind === 'iteration') ? 'Iteration' : 'Visit'} `,
        (() => {
          const sel = h('select', { 'aria-label': 'Pick the visit', onchange: (e) => { selectedVisit = Number(e.target.value); showStep(name, true); } },
            visits.map((x, i) => h('option', { value: i, selected: i === selectedVisit ? true : undefined }, `${visitLabel(x, i)} — ${x.status.replace('_', ' ')}`)));
          return sel;
        })(), h('span', { class: 'muted' }, ` ${visits.length} visits`))
      : null;
    const endAt = v.endedAt ?? (desc.status === 'RUNNING' ? Date.now() / 1000 : undefined);
    const body = [
      kv([
        ['Status', badge(v.status)],
        ['Entered', timeEl(v.enteredAt, true)],
        ['Exited', v.exitedEvent ? timeEl(v.endedAt, true) : undefined],
        ['Duration', endAt !== undefined ? fmtDuration((endAt - v.enteredAt) * 1000) : undefined],
        ['Resource', v.resource ? h('code', {}, v.resourceType === 'activity' || v.resourceType === 'lambda-function' ? v.resource : `${v.resourceType}:${v.resource}`) : undefined],
        ['Retries', v.attempts.length ? String(Math.max(0, v.attempts.length - 1)) : undefined],
      ]),
    ];
    if (v.error || v.cause) {
      body.push(h('div', { class: 'error-box' }, h('strong', {}, v.error || 'Error'), v.status === 'caught' ? h('span', { class: 'muted' }, ' (caught)') : null, v.cause ? h('pre', { class: 'cause' }, v.cause) : null));
    }
    if (v.children.length) {
      body.push(h('div', { class: 'children' }, h('h3', {}, v.children.length > 1 ? 'Child executions' : 'Child execution'),
        ...v.children.map((c) => h('a', { href: execHref(c), class: 'child-link' }, `↗ ${nameOf(c)}`))));
    }
    const sec = (label, text, id) => h('section', { class: 'io', 'data-io': id }, h('h3', {}, label), jsonBlock(text, { empty: id === 'output' && v.status === 'in_progress' ? 'Not yet available' : 'No data' }));
    body.push(sec('Input', v.input, 'input'));
    body.push(sec('Output', v.output, 'output'));
    if (v.parameters !== undefined && v.parameters !== null) body.push(sec(v.resourceType === 'activity' || v.resourceType === 'lambda-function' ? 'Task input' : 'Parameters', v.parameters, 'parameters'));
    if (v.taskOutput !== undefined && v.taskOutput !== null) body.push(sec('Task result', v.taskOutput, 'task-result'));
    if (v.attempts.length) {
      body.push(h('section', {}, h('h3', {}, 'Attempts'), h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Scheduled'), h('th', {}, 'Duration'), h('th', {}, 'Result'))),
        h('tbody', {}, v.attempts.map((a, i) => h('tr', {},
          h('td', {}, String(i + 1)), h('td', {}, timeEl(a.scheduledAt, true)),
          h('td', {}, a.endedAt ? fmtDuration((a.endedAt - a.scheduledAt) * 1000) : '–'),
          h('td', {}, badge(a.status), a.error ? h('code', { class: 'err' }, ` ${a.error}`) : null)))))));
    }
    if (v.iterations.length) {
      const cur = iterFilter.get(name);
      body.push(h('section', {}, h('h3', {}, `Iterations (${v.iterations.length})`),
        h('p', { class: 'muted small' }, 'Pick one to colour the Map body by that iteration.'),
        h('div', { class: 'subs' },
          h('button', { type: 'button', class: cur === undefined ? 'sub active' : 'sub', onclick: () => { iterFilter.delete(name); recolor(); showStep(name, true); } }, 'All'),
          v.iterations.map((it) => h('button', {
            type: 'button', class: `sub s-${it.status}${cur === it.index ? ' active' : ''}`, 'data-iteration': it.index,
            onclick: () => { iterFilter.set(name, it.index); recolor(); showStep(name, true); },
          }, `#${it.index}`)))));
    }
    if (v.branches.length) {
      body.push(h('section', {}, h('h3', {}, 'Branches'), h('div', { class: 'subs' },
        v.branches.map((b) => h('span', { class: `sub s-${b.status}` }, `Branch ${b.index + 1}: `, badge(b.status))))));
    }
    panel.replaceChildren(head, picker || '', ...body);
  }

  // ---- events table ------------------------------------------------------------------------
  const eventsBody = h('tbody');
  const eventFilter = h('input', { type: 'search', placeholder: 'Filter events by type or step', 'aria-label': 'Filter events', class: 'search' });
  const eventCount = h('span', { class: 'muted' });
  let stepOfEvent = new Map();
  const indexSteps = () => {
    stepOfEvent = new Map();
    for (const v of steps.visits) for (const id of v.events) stepOfEvent.set(id, v.name);
  };
  indexSteps();

  function rowHtml(e) {
    const step = stepOfEvent.get(e.id) || '';
    const elapsed = (e.timestamp - desc.startDate) * 1000;
    const cls = /Failed|TimedOut|Aborted/.test(e.type) ? ' ev-bad' : /Succeeded/.test(e.type) ? ' ev-good' : '';
    return `<tr class="ev${cls}" data-id="${e.id}" tabindex="0" aria-expanded="false"><td class="num">${e.id}</td><td>${esc(e.type)}</td>`
      + `<td>${step ? `<a href="#" class="step-link" data-step="${esc(step)}">${esc(step)}</a>` : ''}</td>`
      + `<td class="res">${esc(eventResource(e))}</td><td class="num">${esc(fmtDuration(elapsed))}</td>`
      + `<td>${esc(fmtTime(e.timestamp, true))}</td></tr>`;
  }
  function renderEvents() {
    const f = eventFilter.value.trim().toLowerCase();
    const shown = f ? events.filter((e) => e.type.toLowerCase().includes(f) || (stepOfEvent.get(e.id) || '').toLowerCase().includes(f)) : events;
    eventsBody.innerHTML = shown.map(rowHtml).join('');
    eventCount.textContent = `${shown.length} of ${events.length} events`;
  }
  function toggleEvent(tr) {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains('ev-detail');
    if (open) { tr.nextElementSibling.remove(); tr.setAttribute('aria-expanded', 'false'); return; }
    const e = events.find((x) => String(x.id) === tr.dataset.id);
    const d = eventDetails(e);
    const td = h('td', { colspan: '6' });
    const shown = { ...e };
    td.append(jsonBlock(JSON.stringify(d ?? shown), { label: `Event ${e.id} · previous ${e.previousEventId}` }));
    // Inputs and outputs are JSON text inside the event: show them parsed too.
    for (const key of ['input', 'output', 'parameters']) {
      if (d && typeof d[key] === 'string') td.append(jsonBlock(d[key], { label: key }));
    }
    tr.after(h('tr', { class: 'ev-detail' }, td));
    tr.setAttribute('aria-expanded', 'true');
  }
  eventsBody.addEventListener('click', (ev) => {
    const a = ev.target.closest('.step-link');
    if (a) { ev.preventDefault(); if (view) view.select(a.dataset.step); return; }
    const tr = ev.target.closest('tr.ev');
    if (tr) toggleEvent(tr);
  });
  eventsBody.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr.ev');
    if (tr && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); toggleEvent(tr); }
  });
  eventFilter.addEventListener('input', renderEvents);

  // ---- lower tabs --------------------------------------------------------------------------
  const lower = h('section', { class: 'card lower' });
  let lowerTab = 'events';
  const children = { list: null };
  async function renderLower() {
    const bar = tabs([['events', 'Events'], ['io', 'Input and output'], ['children', 'Child executions'], ['definition', 'Definition']], lowerTab, (t) => { lowerTab = t; renderLower(); });
    let content;
    if (lowerTab === 'events') {
      content = h('div', {}, h('div', { class: 'toolbar' }, eventFilter, eventCount),
        h('div', { class: 'table-wrap' }, h('table', { class: 'table events', id: 'events' },
          h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', {}, 'Type'), h('th', {}, 'Step'), h('th', {}, 'Resource'), h('th', {}, 'Started after'), h('th', {}, 'Date and time'))),
          eventsBody)));
      renderEvents();
    } else if (lowerTab === 'io') {
      content = h('div', { class: 'io-grid' },
        h('section', {}, h('h3', {}, 'Input'), jsonBlock(desc.input)),
        desc.status === 'SUCCEEDED'
          ? h('section', {}, h('h3', {}, 'Output'), jsonBlock(desc.output))
          : h('section', {}, h('h3', {}, desc.error || desc.cause ? 'Error' : 'Output'),
            desc.error || desc.cause ? h('div', { class: 'error-box' }, h('strong', {}, desc.error || ''), h('pre', { class: 'cause' }, desc.cause || '')) : h('p', { class: 'muted' }, desc.status === 'RUNNING' ? 'Not yet available' : 'No output')));
    } else if (lowerTab === 'children') {
      content = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
      consoleApi('executions', { parentArn: arn, maxResults: 1000 }).then((r) => {
        children.list = r.executions;
        content.replaceChildren(r.executions.length ? executionsTable(r.executions) : emptyState('No child executions', 'Executions started by this one (through AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID) are listed here.'));
      }).catch((err) => content.replaceChildren(errorState(err)));
    } else {
      content = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
      sfn('DescribeStateMachineForExecution', { executionArn: arn })
        .then((d) => content.replaceChildren(jsonBlock(d.definition)))
        .catch((err) => content.replaceChildren(errorState(err)));
    }
    lower.replaceChildren(bar, content);
  }

  // ---- live updates ------------------------------------------------------------------------
  async function refreshAll() {
    try {
      desc = await sfn('DescribeExecution', { executionArn: arn });
      const more = await sfnAll('GetExecutionHistory', { executionArn: arn, maxResults: 1000 }, 'events', 25000);
      events = more;
      lastId = events.length ? events[events.length - 1].id : 0;
      steps = (await consoleApi('steps', { executionArn: arn })).steps;
      indexSteps();
      renderHeader(); recolor(); if (lowerTab === 'events') renderEvents();
      if (selectedState) showStep(selectedState, true);
    } catch (err) { errorToast(err); }
  }

  function openStream() {
    if (closed || desc.status !== 'RUNNING' || !window.EventSource) return;
    stream = new EventSource(`/ironstep/api/stream?executionArn=${encodeURIComponent(arn)}&after=${lastId}`);
    stream.addEventListener('update', (m) => {
      const u = JSON.parse(m.data);
      const fresh = u.events.filter((e) => e.id > lastId);
      if (fresh.length) { events = events.concat(fresh); lastId = fresh[fresh.length - 1].id; }
      desc = u.execution;
      steps = u.steps;
      indexSteps();
      renderHeader(); recolor();
      if (lowerTab === 'events') renderEvents();
      else if (lowerTab === 'io') renderLower();
      if (selectedState) showStep(selectedState, true);
    });
    stream.addEventListener('end', () => { stream.close(); stream = null; });
    stream.addEventListener('error', () => {
      // The server sends `end` before closing; a bare error is a lost connection: resync.
      if (stream && stream.readyState === EventSource.CLOSED) { stream = null; setTimeout(() => { if (!closed) refreshAll().then(openStream); }, 1000); }
    });
  }

  // ---- assemble ----------------------------------------------------------------------------
  renderHeader();
  panelEmpty();
  main.replaceChildren(h('div', { class: 'page exec' },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/state-machines' }, 'State machines'), ' / ',
      h('a', { href: machineHref(desc.stateMachineArn) }, nameOf(desc.stateMachineArn)), ' / ', h('span', {}, desc.name)),
    h('div', { class: 'page-head' }, title, statusSlot, actions),
    details,
    h('section', { class: 'split' }, h('div', { class: 'card graph-card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Graph view'), legend()), graphBox), panel),
    lower));
  if (!graph.error) {
    view = renderGraph(graphBox, graph, { onSelect: (name) => showStep(name) });
    recolor();
  }
  renderLower();
  openStream();
  const onKey = (e) => { if (e.key === 'Escape' && selectedState && !document.querySelector('dialog[open]')) { selectedState = null; panelEmpty(); } };
  document.addEventListener('keydown', onKey);
  return () => { cleanup(); document.removeEventListener('keydown', onKey); };
}

/** A table of executions (list pages and children). */
export function executionsTable(list, { showMachine = true } = {}) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table executions' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Status'), showMachine ? h('th', {}, 'State machine') : null, h('th', {}, 'Started'), h('th', {}, 'Ended'), h('th', {}, 'Duration'))),
    h('tbody', {}, list.map((e) => h('tr', {},
      h('td', {}, h('a', { href: execHref(e.executionArn), class: 'exec-link' }, e.name)),
      h('td', {}, badge(e.status)),
      showMachine ? h('td', {}, h('a', { href: machineHref(e.stateMachineArn) }, nameOf(e.stateMachineArn))) : null,
      h('td', {}, timeEl(e.startDate)),
      h('td', {}, timeEl(e.stopDate)),
      h('td', { class: 'num' }, fmtDuration(((e.stopDate ?? Date.now() / 1000) - e.startDate) * 1000)))))));
}

export { highlightJson };
