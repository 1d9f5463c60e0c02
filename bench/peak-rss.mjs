#!/usr/bin/env node
// Run a command and sample the resident memory of it and all its descendants.
//
//   node bench/peak-rss.mjs --out result.json [--interval-ms 100] -- cmd [args...]
//
// Every interval it walks /proc, finds the command's process tree, and sums
// VmRSS over the tree ("tree peak", sampled: a spike shorter than the
// interval can be missed). It also keeps the largest VmHWM seen for any single
// process of the tree (the kernel's own high-water mark, exact for that
// process up to its last sample). The command's stdio is inherited, its wall
// time is measured from spawn to exit, and this script exits with the
// command's exit code (128 + signal number if it was killed).
//
// The JSON written to --out:
//   { exitCode, signal, wallSeconds, peakTreeRssKb, peakSingleHwmKb,
//     peakProcesses, samples }
// Linux only (reads /proc); on other systems the memory figures stay 0.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';

function usage(msg) {
  if (msg) process.stderr.write(`peak-rss: ${msg}\n`);
  process.stderr.write('usage: node peak-rss.mjs --out FILE [--interval-ms N] -- command [args...]\n');
  process.exit(2);
}

const argv = process.argv.slice(2);
let out = null;
let intervalMs = 100;
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    i++;
    break;
  }
  if (a === '--out') out = argv[++i];
  else if (a === '--interval-ms') intervalMs = Number(argv[++i]);
  else usage(`unknown option ${a}`);
}
const cmd = argv.slice(i);
if (!out) usage('--out is required');
if (cmd.length === 0) usage('no command given');
if (!Number.isFinite(intervalMs) || intervalMs < 5) usage('bad --interval-ms');

/** Map pid -> ppid for every process visible in /proc. */
function processTable() {
  const table = new Map();
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm (field 2) may contain spaces or parens: parse after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), Number(rest[1]));
    } catch {
      // process vanished between readdir and read
    }
  }
  return table;
}

/** The root pid and all its descendants. */
function tree(rootPid) {
  const table = processTable();
  const children = new Map();
  for (const [pid, ppid] of table) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const result = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    if (!table.has(pid)) continue;
    result.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return result;
}

function memKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return { rss: rss ? Number(rss[1]) : 0, hwm: hwm ? Number(hwm[1]) : 0 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

const result = {
  command: cmd,
  exitCode: null,
  signal: null,
  wallSeconds: null,
  peakTreeRssKb: 0,
  peakSingleHwmKb: 0,
  peakProcesses: 0,
  samples: 0,
};

const start = process.hrtime.bigint();
const child = spawn(cmd[0], cmd.slice(1), { stdio: 'inherit' });

function sample() {
  if (child.pid === undefined) return;
  const pids = tree(child.pid);
  let sum = 0;
  for (const pid of pids) {
    const { rss, hwm } = memKb(pid);
    sum += rss;
    if (hwm > result.peakSingleHwmKb) result.peakSingleHwmKb = hwm;
  }
  if (sum > result.peakTreeRssKb) result.peakTreeRssKb = sum;
  if (pids.length > result.peakProcesses) result.peakProcesses = pids.length;
  result.samples++;
}

const timer = setInterval(sample, intervalMs);
sample();

// Forward termination signals so `timeout` or Ctrl-C reach the command.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  });
}

function finish(code, signal) {
  clearInterval(timer);
  result.wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  result.exitCode = code;
  result.signal = signal;
  try {
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`peak-rss: cannot write ${out}: ${err.message}\n`);
  }
  if (code !== null) process.exit(code);
  process.exit(128 + (constants.signals[signal] ?? 0));
}

child.on('error', (err) => {
  process.stderr.write(`peak-rss: cannot start ${cmd[0]}: ${err.message}\n`);
  finish(127, null);
});
child.on('exit', finish);
