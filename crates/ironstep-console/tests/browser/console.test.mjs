// Browser tests of the ironstep console: real headless Chromium (Debian's `chromium`) driven by
// playwright-core, against a running `ironstep serve`.
//
//   IRONSTEP_URL=http://127.0.0.1:8083 node --test console.test.mjs
//
// Optional: CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (a folder; default: none),
// PERF_OUT (a JSON file for the page-weight and load-time report).
// The Rust test tests/browser.rs builds and starts the server and runs this file.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const BASE = (process.env.IRONSTEP_URL || 'http://127.0.0.1:8083').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS || '';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SEED = process.env.SEED_DIR || path.resolve(HERE, '../../../../samples/start-workflow-within-workflow/statemachines');
const ROLE = 'arn:aws:iam::123456789012:role/ironstep-console-test';
const EXPECTED_OUTPUT = [
  '"The whole execution is completed including both long-running jobs"',
  'Callback right after the first long-running job is completed',
];

// ---- API helpers (the same API the CLI uses) ---------------------------------------------------

async function sfn(action, body) {
  const res = await fetch(`${BASE}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${action}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${action}: ${json.__type}: ${json.message}`);
  return json;
}

async function waitFor(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A zip with stored (uncompressed) entries: enough for a Lambda deployment package.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function zip(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text), fname = Buffer.from(name), crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28); central.writeUInt32LE((0o100644 * 65536) >>> 0, 38); central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10); end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// The seed's callback function (Node.js, AWS SDK v3, no endpoint in code).
const CALLBACK_JS = `
const { SFNClient, SendTaskSuccessCommand } = require('@aws-sdk/client-sfn');
const client = new SFNClient({});
exports.lambda_handler = async (event) => {
  console.log('Sending the task token back:', event.Message);
  await client.send(new SendTaskSuccessCommand({ taskToken: event.TaskToken, output: JSON.stringify(event.Message) }));
  return { sent: true };
};
`;

const suffix = Date.now().toString(36);
const seed = {};
let browser, page;
const perf = {};
const pageErrors = [];

async function shot(name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function open(hash) {
  // A full load each time: a hash-only navigation would race with the router.
  await page.goto('about:blank');
  await page.goto(`${BASE}/${hash}`);
  await page.waitForFunction(() => !document.getElementById('main').hasAttribute('aria-busy'));
}

before(async () => {
  // Deploy the seed: the callback function, the child, then the parent pointing at both.
  const fnName = `NestingPatternCallback-${suffix}`;
  const res = await fetch(`${BASE}/2015-03-31/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      FunctionName: fnName, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'callback.lambda_handler', Timeout: 25,
      Code: { ZipFile: zip({ 'callback.js': CALLBACK_JS }).toString('base64') },
    }),
  });
  const fn = await res.json();
  assert.equal(res.status, 201, JSON.stringify(fn));
  seed.fnName = fnName;
  const childDef = readFileSync(path.join(SEED, 'child.asl.json'), 'utf8').replaceAll('${NestingPatternCallbackLambdaFunction}', fn.FunctionArn);
  const child = await sfn('CreateStateMachine', { name: `NestingPatternAnotherStateMachine-${suffix}`, definition: childDef, roleArn: ROLE });
  const parentDef = readFileSync(path.join(SEED, 'parent.asl.json'), 'utf8')
    .replaceAll('${NestingPatternAnotherStateMachineArn}', child.stateMachineArn);
  const parent = await sfn('CreateStateMachine', { name: `NestingPatternMainStateMachine-${suffix}`, definition: parentDef, roleArn: ROLE, tags: [{ key: 'sample', value: 'start-a-workflow-within-a-workflow' }] });
  seed.parentMachine = parent.stateMachineArn;
  seed.childMachine = child.stateMachineArn;
  const exec = await sfn('StartExecution', { stateMachineArn: parent.stateMachineArn, input: '{}', name: `seed-${suffix}` });
  seed.exec = exec.executionArn;
  const done = await waitFor('the seed execution to finish', async () => {
    const d = await sfn('DescribeExecution', { executionArn: exec.executionArn });
    return d.status !== 'RUNNING' && d;
  });
  assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`);
  assert.deepEqual(JSON.parse(done.output), EXPECTED_OUTPUT);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (browser) await browser.close();
  if (process.env.PERF_OUT) writeFileSync(process.env.PERF_OUT, JSON.stringify(perf, null, 2) + '\n');
  assert.deepEqual(pageErrors, [], 'errors in the page');
});

test('the seed execution: every state succeeded in the graph', async () => {
  await open(`#/executions/${encodeURIComponent(seed.exec)}`);
  await page.waitForSelector('#graph .node.k-state');
  const states = await page.$$eval('#graph .node.k-state', (els) => els.map((e) => [e.dataset.id, e.dataset.status]));
  assert.deepEqual(states.map((s) => s[0]).sort(), [
    'Start in parallel', 'Start new workflow and continue', 'Start new workflow and wait for callback',
    'Start new workflow and wait for completion',
  ]);
  for (const [id, status] of states) assert.equal(status, 'succeeded', id);
  assert.equal(await page.textContent('.status-slot .badge'), 'Succeeded');
  // Events like AWS's table: ids, types, steps.
  const rows = await page.$$eval('#events tbody tr.ev', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows[0][1], 'ExecutionStarted');
  assert.equal(rows.at(-1)[1], 'ExecutionSucceeded');
  assert.ok(rows.some((r) => r[1] === 'TaskSubmitted' && r[2] === 'Start new workflow and wait for completion' && r[3] === 'states:startExecution.sync'));
  await shot('execution');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot('execution-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  // Expand an event.
  await page.click('#events tbody tr.ev:nth-child(3)');
  await page.waitForSelector('#events tr.ev-detail pre.json');
  assert.match(await page.textContent('#events tr.ev-detail'), /"resourceType": "states"/);
  await page.$eval('.lower', (el) => el.scrollIntoView());
  await shot('events');
});

test('step details of the .sync task show the child output; child link and back', async () => {
  await open(`#/executions/${encodeURIComponent(seed.exec)}`);
  await page.click('#graph .node[data-id="Start new workflow and wait for completion"]');
  await page.waitForSelector('#step-details [data-io="output"] pre.json');
  const output = await page.textContent('#step-details [data-io="output"] pre.json');
  assert.equal(JSON.parse(output), EXPECTED_OUTPUT[0]);
  const resource = await page.textContent('#step-details dl');
  assert.match(resource, /states:startExecution\.sync/);
  await shot('step-details');

  const childHref = await page.getAttribute('#step-details .child-link', 'href');
  await page.click('#step-details .child-link');
  await page.waitForFunction((h) => location.hash === h, childHref);
  await page.waitForSelector('.parent-link');
  assert.equal(await page.textContent('.status-slot .badge'), 'Succeeded');
  const states = await page.$$eval('#graph .node.k-state', (els) => Object.fromEntries(els.map((e) => [e.dataset.id, e.dataset.status])));
  assert.equal(states['Report completion'], 'succeeded');
  assert.equal(states.Callback, 'not_reached');
  await shot('child-execution');
  await page.click('.parent-link');
  await page.waitForFunction((h) => decodeURIComponent(location.hash) === h, `#/executions/${seed.exec}`);
  await page.waitForSelector('#graph .node[data-status="succeeded"]');

  // The callback task of the waitForTaskToken child, and the parent's three children.
  await page.click('.lower [data-tab="children"]');
  await page.waitForSelector('.lower table.executions');
  assert.equal(await page.$$eval('.lower table.executions tbody tr', (r) => r.length), 3);
});

test('parallel state: branches and the callback child', async () => {
  await open(`#/executions/${encodeURIComponent(seed.exec)}`);
  await page.click('#graph .node[data-id="Start in parallel"]', { position: { x: 30, y: 12 } });
  await page.waitForSelector('#step-details .subs');
  const branches = await page.textContent('#step-details .subs');
  assert.match(branches, /Branch 1: Succeeded/);
  assert.match(branches, /Branch 2: Succeeded/);
  await page.click('#graph .node[data-id="Start new workflow and wait for callback"]');
  await page.waitForSelector('#step-details .child-link');
  assert.equal(JSON.parse(await page.textContent('#step-details [data-io="output"] pre.json')), EXPECTED_OUTPUT[1]);
});

test('state machines, definition, executions, functions and activities pages', async () => {
  await open('#/state-machines');
  await page.waitForSelector('#machines tbody tr');
  const names = await page.$$eval('#machines .machine-link', (a) => a.map((x) => x.textContent));
  assert.ok(names.includes(`NestingPatternMainStateMachine-${suffix}`));
  await shot('state-machines');

  await open(`#/state-machines/${encodeURIComponent(seed.parentMachine)}?tab=definition`);
  await page.waitForSelector('.def-graph .node.k-state');
  assert.match(await page.textContent('.diagnostics'), /Valid definition/);
  await shot('definition');

  await open(`#/state-machines/${encodeURIComponent(seed.parentMachine)}?tab=tags`);
  await page.waitForSelector('.card table');
  assert.match(await page.textContent('.card table'), /start-a-workflow-within-a-workflow/);

  await open(`#/state-machines/${encodeURIComponent(seed.childMachine)}`);
  await page.waitForSelector('table.executions tbody tr');
  assert.equal(await page.$$eval('table.executions tbody tr', (r) => r.length), 3);
  await page.fill('[data-search]', 'no-such-name');
  await page.waitForSelector('.empty');

  await open('#/executions');
  await page.waitForSelector('table.executions tbody tr');
  assert.ok(await page.$$eval('table.executions tbody tr', (r) => r.length) >= 4);
  await page.fill('[data-search]', `seed-${suffix}`);
  await page.waitForFunction(() => document.querySelectorAll('table.executions tbody tr').length === 1);
  await page.fill('[data-search]', '');
  await page.selectOption('#status-filter', 'SUCCEEDED');
  await page.waitForFunction(() => [...document.querySelectorAll('table.executions .badge')].every((b) => b.textContent === 'Succeeded'));
  await page.selectOption('#status-filter', '');
  await page.waitForFunction(() => document.querySelectorAll('table.executions tbody tr').length >= 4);
  await shot('executions');

  await open(`#/functions/${encodeURIComponent(seed.fnName)}`);
  await page.waitForSelector('#invocations tbody tr');
  assert.match(await page.textContent('#invocations'), /Sending the task token back/);
  await shot('function-logs');

  await sfn('CreateActivity', { name: `approve-${suffix}` });
  await open('#/activities');
  await page.waitForSelector('#activities tbody tr');
  assert.match(await page.textContent('#activities'), new RegExp(`approve-${suffix}`));
});

test('map iterations: pick one to colour the body, and pick the visit', async () => {
  const def = {
    StartAt: 'Each', States: {
      Each: {
        Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 1, Next: 'Done',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Handled' }],
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Is it two?', States: {
          'Is it two?': { Type: 'Choice', Choices: [{ Variable: '$', NumericEquals: 2, Next: 'Boom' }], Default: 'Fine' },
          Fine: { Type: 'Pass', End: true },
          Boom: { Type: 'Fail', Error: 'Two', Cause: 'two is not allowed' },
        } },
      },
      Handled: { Type: 'Pass', End: true },
      Done: { Type: 'Succeed' },
    },
  };
  const m = await sfn('CreateStateMachine', { name: `Map-${suffix}`, definition: JSON.stringify(def), roleArn: ROLE });
  const e = await sfn('StartExecution', { stateMachineArn: m.stateMachineArn, input: '{"items": [1, 2, 3]}' });
  await waitFor('the map execution', async () => (await sfn('DescribeExecution', { executionArn: e.executionArn })).status !== 'RUNNING');
  await open(`#/executions/${encodeURIComponent(e.executionArn)}`);
  await page.waitForSelector('#graph .node[data-id="Each"][data-status="caught"]');
  assert.equal(await page.getAttribute('#graph .node[data-id="Handled"]', 'data-status'), 'succeeded');
  assert.equal(await page.getAttribute('#graph .node[data-id="Done"]', 'data-status'), 'not_reached');
  assert.equal(await page.getAttribute('#graph .node[data-id="Boom"]', 'data-status'), 'failed');
  // On its title: the body frame covers the rest of a Map box.
  await page.click('#graph .node[data-id="Each"]', { position: { x: 30, y: 12 } });
  await page.waitForSelector('#step-details [data-iteration]');
  assert.equal(await page.$$eval('#step-details [data-iteration]', (b) => b.length), 2);
  assert.match(await page.textContent('#step-details .error-box'), /Two/);
  await page.click('#step-details [data-iteration="0"]');
  await page.waitForSelector('#graph .node[data-id="Boom"][data-status="not_reached"]');
  assert.equal(await page.getAttribute('#graph .node[data-id="Fine"]', 'data-status'), 'succeeded');
  await page.click('#step-details [data-iteration="1"]');
  await page.waitForSelector('#graph .node[data-id="Boom"][data-status="failed"]');
  await page.click('#graph .node[data-id="Is it two?"]');
  await page.waitForSelector('#step-details .visit-picker select');
  assert.equal(await page.$$eval('#step-details .visit-picker option', (o) => o.length), 2);
  // The selected iteration's visit is shown.
  assert.equal(JSON.parse(await page.textContent('#step-details [data-io="input"] pre.json')), 2);
  await page.selectOption('#step-details .visit-picker select', '0');
  await page.waitForFunction(() => document.querySelector('#step-details [data-io="input"] pre.json')?.textContent === '1');
  await shot('map-iterations');
});

test('start a long-running execution from the console and stop it', async () => {
  const def = { StartAt: 'Prepare', States: { Prepare: { Type: 'Pass', Next: 'Wait a long time' }, 'Wait a long time': { Type: 'Wait', Seconds: 3600, Next: 'Done' }, Done: { Type: 'Succeed' } } };
  const m = await sfn('CreateStateMachine', { name: `LongRunning-${suffix}`, definition: JSON.stringify(def), roleArn: ROLE });
  await open(`#/state-machines/${encodeURIComponent(m.stateMachineArn)}`);
  await page.click('#start-execution');
  await page.fill('#exec-name', `long-${suffix}`);
  await page.fill('#exec-input', '{"job": "nightly"}');
  await page.click('#start-confirm');
  await page.waitForFunction(() => location.hash.startsWith('#/executions/'));
  await page.waitForSelector('#graph .node[data-id="Wait a long time"][data-status="in_progress"]');
  assert.equal(await page.textContent('.status-slot .badge'), 'Running');
  await shot('running');
  await page.click('#stop-execution');
  await page.click('dialog button.primary');
  await page.waitForFunction(() => document.querySelector('.status-slot .badge')?.textContent === 'Aborted');
  await page.waitForSelector('#graph .node[data-id="Wait a long time"][data-status="cancelled"]');
  const d = await sfn('DescribeExecution', { executionArn: decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/executions/', '')) });
  assert.equal(d.status, 'ABORTED');
  assert.equal(d.name, `long-${suffix}`);
  // Stopping again through the API is a no-op, and the console shows no Stop button any more.
  assert.equal(await page.$('#stop-execution'), null);
});

test('live updates: a running execution colours states as they finish', async () => {
  const def = { StartAt: 'First', States: { First: { Type: 'Wait', Seconds: 2, Next: 'Second' }, Second: { Type: 'Pass', End: true } } };
  const m = await sfn('CreateStateMachine', { name: `Live-${suffix}`, definition: JSON.stringify(def), roleArn: ROLE });
  const e = await sfn('StartExecution', { stateMachineArn: m.stateMachineArn, input: '{}' });
  await open(`#/executions/${encodeURIComponent(e.executionArn)}`);
  await page.waitForSelector('#graph .node[data-id="First"][data-status="in_progress"]');
  await page.waitForSelector('#graph .node[data-id="Second"][data-status="succeeded"]', { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector('.status-slot .badge')?.textContent === 'Succeeded');
  assert.ok(await page.$$eval('#events tbody tr.ev', (r) => r.length) >= 6);
});

test('a 100-state execution with 1,000 events loads in under a second', async () => {
  // 98 Pass states, a Choice that loops five times, and a Succeed: 995 events.
  const states = {};
  states['Step 0'] = { Type: 'Pass', Parameters: { 'n.$': 'States.MathAdd($.n, 1)' }, Next: 'Step 1' };
  for (let i = 1; i < 98; i++) states[`Step ${i}`] = { Type: 'Pass', Next: `Step ${i + 1}` };
  states['Step 98'] = { Type: 'Choice', Choices: [{ Variable: '$.n', NumericLessThan: 5, Next: 'Step 0' }], Default: 'Step 99' };
  states['Step 99'] = { Type: 'Succeed' };
  const m = await sfn('CreateStateMachine', { name: `Hundred-${suffix}`, definition: JSON.stringify({ StartAt: 'Step 0', States: states }), roleArn: ROLE });
  const e = await sfn('StartExecution', { stateMachineArn: m.stateMachineArn, input: '{"n": 0}' });
  const done = await waitFor('the 100-state execution', async () => {
    const d = await sfn('DescribeExecution', { executionArn: e.executionArn });
    return d.status !== 'RUNNING' && d;
  });
  assert.equal(done.status, 'SUCCEEDED');
  const url = `${BASE}/#/executions/${encodeURIComponent(e.executionArn)}`;
  const runs = [];
  for (let i = 0; i < 4; i++) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => document.querySelectorAll('#events tbody tr.ev').length >= 990
      && document.querySelectorAll('#graph .node[data-status="succeeded"]').length === 100);
    const wall = Date.now() - t0;
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const sum = (xs, f) => xs.reduce((a, x) => a + (x[f] || 0), 0);
      const assets = res.filter((r) => r.name.includes('/console/'));
      const data = res.filter((r) => !r.name.includes('/console/'));
      return {
        loadedMs: Math.round(performance.now()),
        assetsBytes: nav.encodedBodySize + sum(assets, 'encodedBodySize'),
        assetsFiles: assets.length + 1,
        dataBytes: sum(data, 'encodedBodySize'),
        dataRequests: data.length,
      };
    });
    runs.push({ wallMs: wall, ...m });
  }
  const events = await page.$$eval('#events tbody tr.ev', (r) => r.length);
  // The first run warms the server's definition cache; report the median of the others.
  const warm = runs.slice(1).sort((a, b) => a.loadedMs - b.loadedMs);
  const median = warm[Math.floor(warm.length / 2)];
  Object.assign(perf, { states: 100, events, runs, median });
  const assetFiles = ['index.html', 'style.css', 'app.js', 'api.js', 'ui.js', 'graph.js', 'pages.js', 'execution.js', 'favicon.svg'];
  let raw = 0, gz = 0;
  for (const f of assetFiles) {
    const body = Buffer.from(await (await fetch(`${BASE}/${f === 'index.html' ? '' : 'console/' + f}`)).arrayBuffer());
    raw += body.length;
    gz += zlib.gzipSync(body).length;
  }
  perf.pageWeight = { files: assetFiles.length, bytes: raw, gzipBytes: gz };
  console.log(`page weight: ${raw} bytes in ${assetFiles.length} files (${gz} gzipped); ` +
    `100 states / ${events} events loaded in ${median.loadedMs} ms (median; data ${median.dataBytes} bytes in ${median.dataRequests} requests)`);
  await shot('hundred-states');
  assert.ok(events >= 990, `${events} events`);
  assert.ok(median.loadedMs < 1000, `loaded in ${median.loadedMs} ms`);
});
