'use strict';
// ironstep's Node.js runtime: the Lambda Runtime API loop, written for ironstep (embedded in the
// ironstep-functions crate and run as `node bootstrap.js` with Lambda's environment variables).
// It loads `_HANDLER` (`file.export`, CommonJS or ES module) from LAMBDA_TASK_ROOT, runs async and
// callback handlers with Lambda's context object, and formats errors as the Node.js runtime does.

const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const [HOST, PORT] = (process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001').split(':');
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// ESM `import` ignores NODE_PATH: let bare specifiers that fail from the function's code resolve
// against the SDK folder ironstep provides (as Lambda's runtimes ship the AWS SDK v3).
if (process.env.IRONSTEP_NODE_SDK) {
  try {
    const mod = require('node:module');
    if (typeof mod.register === 'function') {
      mod.register(pathToFileURL(path.join(__dirname, 'hooks.mjs')).href, {
        data: { sdk: pathToFileURL(path.join(process.env.IRONSTEP_NODE_SDK, 'x.js')).href },
      });
    }
  } catch (e) {
    process.stderr.write(`ironstep: could not register the SDK resolver: ${e}\n`);
  }
}

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: PORT, path: BASE + urlPath, method, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function post(urlPath, body, extraHeaders) {
  const buf = Buffer.from(body, 'utf8');
  return request('POST', urlPath, buf, Object.assign({ 'Content-Type': 'application/json', 'Content-Length': buf.length }, extraHeaders));
}

// --- logging as the Node.js runtime does: `<time>\t<request id>\t<LEVEL>\t<message>` ---------
let currentRequestId;
function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', debug: 'DEBUG', warn: 'WARN', error: 'ERROR', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const line = `${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${util.format(...args)}`;
      process.stdout.write(line.replace(/\n/g, '\r') + '\n');
    };
  }
}

// --- errors ------------------------------------------------------------------------------------
function toError(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name && err.name !== 'Error' ? err.name : (err.constructor && err.constructor.name) || 'Error',
      errorMessage: err.message,
      trace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
    };
  }
  if (err === undefined || err === null) {
    return { errorType: 'Error', errorMessage: String(err), trace: [] };
  }
  return { errorType: typeof err, errorMessage: typeof err === 'string' ? err : JSON.stringify(err), trace: [] };
}

function namedError(name, message, cause) {
  const e = new Error(message);
  e.name = name;
  if (cause && cause.stack) e.stack = `${name}: ${message}\n${cause.stack.split('\n').slice(1).join('\n')}`;
  return e;
}

async function initError(err) {
  const payload = toError(err);
  console.error(`${payload.errorType}: ${payload.errorMessage}`);
  await post('/init/error', JSON.stringify(payload), { 'Lambda-Runtime-Function-Error-Type': payload.errorType });
  process.exit(1);
}

// --- handler loading ---------------------------------------------------------------------------
function isEsmPackage(dir, root) {
  for (let d = dir; ; d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (d === root || d === path.dirname(d)) return false;
  }
}

async function loadHandler() {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handlerString = process.env._HANDLER || '';
  const base = path.basename(handlerString);
  const dot = base.indexOf('.');
  if (dot < 0) {
    throw namedError('Runtime.MalformedHandlerName', "Bad handler");
  }
  const modulePath = path.join(path.dirname(handlerString), base.slice(0, dot));
  const exportPath = base.slice(dot + 1);
  const full = path.resolve(root, modulePath);
  let mod;
  try {
    if (fs.existsSync(full + '.mjs')) {
      mod = await import(pathToFileURL(full + '.mjs').href);
    } else if (fs.existsSync(full + '.cjs')) {
      mod = require(full + '.cjs');
    } else if (fs.existsSync(full + '.js')) {
      if (isEsmPackage(path.dirname(full), root)) {
        mod = await import(pathToFileURL(full + '.js').href);
      } else {
        try {
          mod = require(full + '.js');
        } catch (e) {
          if (e && e.code === 'ERR_REQUIRE_ESM') mod = await import(pathToFileURL(full + '.js').href);
          else throw e;
        }
      }
    } else {
      mod = require(full); // a directory with index.js, or a module name: Node's own resolution
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw namedError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`, e);
    }
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      const notThis = !String(e.message).includes(full);
      if (notThis || e.code === 'ERR_MODULE_NOT_FOUND') {
        throw namedError('Runtime.ImportModuleError', `Error: ${e.message}`, e);
      }
      throw namedError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${__filename}`, e);
    }
    throw e;
  }
  let handler = mod;
  for (const part of exportPath.split('.')) {
    handler = handler == null ? undefined : handler[part];
  }
  if (handler === undefined && mod && mod.default && typeof mod.default === 'object') {
    handler = exportPath.split('.').reduce((h, p) => (h == null ? undefined : h[p]), mod.default);
  }
  if (handler === undefined) {
    throw namedError('Runtime.HandlerNotFound', `${base} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw namedError('Runtime.HandlerNotFound', `${base} is not a function`);
  }
  return handler;
}

// --- context -------------------------------------------------------------------------------------
function makeContext(headers, onDone) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  const parse = (v) => {
    if (!v) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      return undefined;
    }
  };
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers['lambda-runtime-cognito-identity']),
    clientContext: parse(headers['lambda-runtime-client-context']),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    // Legacy completion methods, still offered by Lambda's runtime.
    done: (err, result) => onDone(err, result),
    succeed: (result) => onDone(null, result),
    fail: (err) => onDone(err || 'handled'),
  };
  return context;
}

// --- the loop ------------------------------------------------------------------------------------
async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    await initError(e);
    return;
  }
  for (;;) {
    const next = await request('GET', '/invocation/next');
    const headers = next.headers;
    const id = headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    if (headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
    let event;
    try {
      event = JSON.parse(next.body.toString('utf8') || 'null');
    } catch (e) {
      await reportError(id, e);
      continue;
    }
    inFlight = id;
    await runOne(handler, event, headers, id);
    inFlight = null;
  }
}

async function reportError(id, err) {
  const payload = toError(err);
  console.error('Invoke Error', JSON.stringify(payload));
  await post(`/invocation/${id}/error`, JSON.stringify(payload), { 'Lambda-Runtime-Function-Error-Type': payload.errorType });
}

async function reportResult(id, result) {
  let body;
  try {
    body = result === undefined ? 'null' : JSON.stringify(result);
    if (body === undefined) body = 'null';
  } catch (e) {
    await reportError(id, e);
    return;
  }
  const res = await post(`/invocation/${id}/response`, body);
  if (res.status === 413) {
    console.error(`Failed to post handler success response. Http response code: 413. ${res.body.toString('utf8')}`);
  }
}

function runOne(handler, event, headers, id) {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (err, result) => {
      if (finished) return;
      finished = true;
      const send = () => (err !== null && err !== undefined ? reportError(id, err) : reportResult(id, result)).then(resolve, resolve);
      if (context.callbackWaitsForEmptyEventLoop) {
        // Lambda answers a callback-style invocation once the event loop is empty.
        process.once('beforeExit', send);
      } else {
        send();
      }
    };
    const context = makeContext(headers, finish);
    const callback = (err, result) => finish(err, result);
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (e) {
      finished = true;
      reportError(id, e).then(resolve, resolve);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      // Async handlers answer when their promise settles, without waiting for the event loop.
      returned.then(
        (result) => {
          if (!finished) {
            finished = true;
            reportResult(id, result).then(resolve, resolve);
          }
        },
        (e) => {
          if (!finished) {
            finished = true;
            reportError(id, e).then(resolve, resolve);
          }
        },
      );
    } else if (handler.length < 3 && !finished) {
      // A synchronous non-callback handler: its return value is the result.
      finished = true;
      reportResult(id, returned).then(resolve, resolve);
    }
  });
}

// Like Lambda's runtime: an error escaping the handler's control fails the invocation in flight,
// then the process exits (the next invocation starts a fresh one).
let inFlight = null;
function fatal(label, err, code) {
  const payload = toError(err);
  process.stderr.write(`${new Date().toISOString()}\t${currentRequestId || 'undefined'}\tERROR\t${label} \t${JSON.stringify(payload)}\n`);
  const id = inFlight;
  inFlight = null;
  if (id) {
    post(`/invocation/${id}/error`, JSON.stringify(payload), { 'Lambda-Runtime-Function-Error-Type': payload.errorType })
      .finally(() => process.exit(code));
  } else {
    process.exit(code);
  }
}
process.on('uncaughtException', (err) => fatal('Uncaught Exception', err, 129));
process.on('unhandledRejection', (reason) => fatal('Unhandled Promise Rejection', reason, 128));

main().catch((e) => {
  process.stderr.write(`ironstep bootstrap failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
