// SPDX-License-Identifier: GPL-3.0-or-later
//
// PouchDB side of the sync benchmark (tests/bench-sync.c runs it through
// build-aux/bench-pouchdb.sh): replicate the same documents Recoup pushes
// (one JSON object per line: {"_id", "type", ...fields}) from a local
// pouchdb-node database to pouchdb-server over loopback, then from the
// server into a fresh local database. Bytes are counted by a TCP relay in
// front of the server, as bench-sync counts Recoup's.
//
// Usage: node bench.js DOCS.ndjson WORKDIR
// Env: POUCHDB_BATCH_SIZE (replication batch_size, PouchDB's default 100),
//      POUCHDB_SERVER_MEMORY=1 (pouchdb-server --in-memory instead of LevelDB).
// Prints "POUCHDB key=value" lines for bench-sync to read.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const PouchDB = require('pouchdb-node');

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

// A counting relay: client -> relay -> pouchdb-server.
function relay (target) {
  const counts = { up: 0, down: 0 };
  const server = net.createServer((c) => {
    const u = net.connect(target, '127.0.0.1');
    c.on('data', (d) => { counts.up += d.length; u.write(d); });
    u.on('data', (d) => { counts.down += d.length; c.write(d); });
    c.on('end', () => u.end()); u.on('end', () => c.end());
    c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, counts, port: server.address().port })));
}

async function waitUp (url) {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pouchdb-server did not answer at ' + url);
}

async function main () {
  const [docsPath, work] = process.argv.slice(2);
  if (!docsPath || !work) {
    console.error('usage: node bench.js DOCS.ndjson WORKDIR');
    process.exit(2);
  }
  const batch = parseInt(process.env.POUCHDB_BATCH_SIZE || '100', 10);
  fs.mkdirSync(path.join(work, 'server'), { recursive: true });
  const port = await freePort();
  const bin = path.join(path.dirname(require.resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');
  const args = [bin, '--host', '127.0.0.1', '--port', String(port), '--dir', path.join(work, 'server'),
    '--config', path.join(work, 'server', 'config.json'), '--no-stdout-logs'];
  if (process.env.POUCHDB_SERVER_MEMORY === '1') args.push('--in-memory');
  const srv = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const cleanup = () => { try { srv.kill('SIGTERM'); } catch (e) { } };
  process.on('exit', cleanup);
  await waitUp(`http://127.0.0.1:${port}/`);
  const r = await relay(port);
  const remoteUrl = `http://127.0.0.1:${r.port}/bench`;

  // Load the documents into the local database (not timed).
  const local = new PouchDB(path.join(work, 'local-a'));
  const rl = readline.createInterface({ input: fs.createReadStream(docsPath), crlfDelay: Infinity });
  let buf = [];
  let n = 0;
  for await (const line of rl) {
    if (!line) continue;
    buf.push(JSON.parse(line));
    if (buf.length === 5000) { await local.bulkDocs(buf); n += buf.length; buf = []; }
  }
  if (buf.length) { await local.bulkDocs(buf); n += buf.length; }
  console.log(`POUCHDB docs=${n}`);
  console.log(`POUCHDB batch_size=${batch}`);
  console.log(`POUCHDB server_storage=${process.env.POUCHDB_SERVER_MEMORY === '1' ? 'memory' : 'leveldb'}`);

  // Push: local -> server.
  let t0 = process.hrtime.bigint();
  let res = await local.replicate.to(remoteUrl, { batch_size: batch });
  let secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`POUCHDB push_docs=${res.docs_written} push_s=${secs.toFixed(3)} push_docs_per_s=${(res.docs_written / secs).toFixed(0)}` +
              ` push_bytes_up=${r.counts.up} push_bytes_down=${r.counts.down}`);
  if (res.docs_written !== n) throw new Error(`pushed ${res.docs_written} of ${n}`);

  // Pull: server -> a fresh local database.
  r.counts.up = 0; r.counts.down = 0;
  const fresh = new PouchDB(path.join(work, 'local-b'));
  t0 = process.hrtime.bigint();
  res = await fresh.replicate.from(remoteUrl, { batch_size: batch });
  secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`POUCHDB pull_docs=${res.docs_written} pull_s=${secs.toFixed(3)} pull_docs_per_s=${(res.docs_written / secs).toFixed(0)}` +
              ` pull_bytes_up=${r.counts.up} pull_bytes_down=${r.counts.down}`);
  if (res.docs_written !== n) throw new Error(`pulled ${res.docs_written} of ${n}`);
  console.log(`POUCHDB node_rss_peak_kb=${Math.round(process.resourceUsage().maxRSS)}`);
  await local.close();
  await fresh.close();
  r.server.close();
  cleanup();
  process.exit(0);
}

main().catch((e) => { console.error('bench.js: ' + (e && e.stack ? e.stack : e)); process.exit(1); });
