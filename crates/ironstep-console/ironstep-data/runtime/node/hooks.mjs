// Module resolution hook of ironstep's Node.js runtime (registered by bootstrap.js).
// A bare specifier (`@aws-sdk/client-sfn`) that the function's own node_modules cannot satisfy is
// resolved again as if imported from the SDK folder ironstep provides, so ES modules find the SDK
// the way Lambda's runtimes offer it; everything the function ships itself still wins.
let sdkParent;

export async function initialize(data) {
  sdkParent = data && data.sdk;
}

function isBare(specifier) {
  return !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':');
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (sdkParent && isBare(specifier) && err && err.code === 'ERR_MODULE_NOT_FOUND') {
      return nextResolve(specifier, { ...context, parentURL: sdkParent });
    }
    throw err;
  }
}
