// Talking to ironstep: the AWS Step Functions API (same actions and errors as the CLI), the
// Lambda REST API, and the console's own JSON under /ironstep/api/.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

async function parse(res) {
  const text = await res.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch { body = { message: text }; }
  if (!res.ok) {
    const code = (body.__type || body.Type || res.headers.get('x-amzn-errortype') || `HTTP ${res.status}`)
      .split('#').pop().split(':')[0];
    throw new ApiError(code, body.message || body.Message || text, res.status);
  }
  return body;
}

/** One Step Functions action, e.g. sfn('DescribeExecution', {executionArn}). */
export async function sfn(action, body = {}) {
  const res = await fetch('/', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AWSStepFunctions.${action}`,
    },
    body: JSON.stringify(body),
  });
  return parse(res);
}

/** Every page of a paginated action, concatenating `key`. */
export async function sfnAll(action, body, key, cap = 10000) {
  let out = [];
  let nextToken;
  do {
    const page = await sfn(action, { ...body, ...(nextToken ? { nextToken } : {}) });
    out = out.concat(page[key] || []);
    nextToken = page.nextToken;
  } while (nextToken && out.length < cap);
  return out;
}

/** GET a console endpoint: console('executions', {status: 'RUNNING'}). */
export async function consoleApi(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return parse(await fetch(`/ironstep/api/${path}${s ? '?' + s : ''}`));
}

/** GET the Lambda REST API. */
export async function lambda(path) {
  return parse(await fetch(`/2015-03-31/${path}`));
}
