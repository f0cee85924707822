// The reference oracle for the differential test: evaluates every case of a corpus with
// jsonata-js (the reference implementation AWS Step Functions follows), binding `$states`,
// the workflow variables, AWS's extra functions and a fixed "now", and prints one JSON result
// per case on stdout. Run by tests/differential.rs; usage: node oracle.js corpus.json
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const jsonata = require('jsonata');

const corpus = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const NOW = corpus.now;
const fromMillis = jsonata('$fromMillis($m, $p, $t)');

// A sequence collapses to its item when it has one, as AWS's $range result does.
function sequence(items) {
  items.sequence = true;
  return items;
}

// Stand-ins for the functions AWS adds (their behaviour as AWS documents it).
const aslFunctions = {
  partition: (array, size) => {
    if (array === undefined) return undefined;
    const items = Array.isArray(array) ? array : [array];
    if (!Number.isInteger(size) || size < 1) throw { code: 'D3031', message: 'size must be a positive integer' };
    const out = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  },
  range: (start, end, step) => {
    if (![start, end, step].every(Number.isInteger) || step === 0) throw { code: 'D3032', message: 'bad range' };
    const out = [];
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) out.push(v);
    return sequence(out);
  },
  hash: (value, algorithm) => {
    if (value === undefined) return undefined;
    const names = { 'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
    if (typeof value !== 'string' || !names[algorithm]) throw { code: 'D3033', message: 'bad hash arguments' };
    return crypto.createHash(names[algorithm]).update(value, 'utf8').digest('hex');
  },
  // Seeded values cannot match another generator; cases check only that a number comes back.
  random: (seed) => (seed === undefined ? Math.random() : ((seed * 9301 + 49297) % 233280) / 233280),
  uuid: () => crypto.randomUUID(),
  parse: (text) => (text === undefined ? undefined : JSON.parse(text)),
  now: async (picture, timezone) => fromMillis.evaluate(undefined, { m: NOW, p: picture, t: timezone }),
  millis: () => NOW,
};

async function main() {
  const bindings = Object.assign({ states: corpus.states }, corpus.variables, aslFunctions);
  const results = [];
  for (const c of corpus.cases) {
    try {
      const value = await jsonata(c.expr).evaluate(undefined, bindings);
      const json = JSON.stringify(value);
      results.push(json === undefined ? { name: c.name, undefined: true } : { name: c.name, value: JSON.parse(json) });
    } catch (e) {
      results.push({ name: c.name, error: `${e.code || 'ERROR'}: ${e.message}` });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
