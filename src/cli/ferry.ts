/** The `ferry` command: a thin layer over the library API (src/api/operations.ts). */
import v8 from 'node:v8';
import { Command, CommanderError } from 'commander';
import { plan, run, status, verify } from '../api/operations.js';
import { loadJob } from '../config/load-job.js';
import { ConfigError, EXIT_CODES, errorMessage, exitCodeFor } from '../core/errors.js';
import { toJson } from '../core/key-codec.js';
import { redact } from '../core/redact.js';
import { runDemo } from '../demo/demo.js';
import { formatLedger, formatPlan, formatStatus, formatVerify } from './format.js';
import { Progress } from './progress.js';

const stdout = (s: string) => process.stdout.write(`${redact(s)}\n`);
const stderr = (s: string) => process.stderr.write(`${redact(s)}\n`);

function fail(err: unknown): never {
  stderr(`ferry: ${errorMessage(err)}`);
  process.exit(exitCodeFor(err));
}

function program(): Command {
  const cmd = new Command('ferry')
    .description('Moves tables between databases and data lakes: fast, resumable, exactly once, verified.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes:
  0    every stream done, counted and equal
  1    a stream failed, was skipped, or its counts disagree (rerun to resume)
  2    bad usage or job file (nothing was written)
  3    cannot connect or authenticate (nothing was written)
  4    verify found a difference
  130  interrupted (committed chunks are kept; rerun to resume)`,
    );

  cmd
    .command('plan <job>')
    .description('print what a run would do: streams, target tables, column types, chunks, lossy casts')
    .option('--json', 'machine-readable output')
    .action(async (job: string, opts: { json?: boolean }) => {
      const p = await plan(job);
      stdout(opts.json ? toJson(p, 2) : formatPlan(p));
    });

  cmd
    .command('run <job>')
    .description('run the job (resumes an unfinished earlier run of it); prints a ledger')
    .option('--json', 'print the ledger as JSON')
    .option(
      '--fresh',
      'abandon an unfinished earlier run instead of resuming it (append mode: rows it committed stay in the target)',
    )
    .option('--no-progress', 'no live progress on the terminal')
    .option('--parallel <n>', 'chunks in flight at once (overrides defaults.parallel of the job file)')
    .action(async (file: string, opts: { json?: boolean; fresh?: boolean; progress: boolean; parallel?: string }) => {
      const job = loadJob(file);
      if (opts.parallel !== undefined) job.parallel = parallelOption(opts.parallel);
      const controller = new AbortController();
      let interrupted = false;
      const onSignal = () => {
        if (interrupted) process.exit(EXIT_CODES.interrupted);
        interrupted = true;
        stderr('ferry: interrupted; committed chunks are kept, rerun the same command to resume');
        controller.abort();
        // In-flight transactions roll back when their connections close.
        setTimeout(() => process.exit(EXIT_CODES.interrupted), 2000).unref();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const progress = opts.progress && process.stderr.isTTY && !opts.json ? new Progress(process.stderr) : undefined;
      try {
        const ledger = await run(job, {
          fresh: opts.fresh,
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'row-path') boundHeapGrowth();
            progress?.on(e);
          },
          onPlan: (_p, runId, resumed) => {
            if (!opts.json) stderr(`run ${runId}${resumed ? ' (resuming an unfinished run)' : ''}`);
            progress?.start();
          },
        });
        progress?.stop();
        stdout(opts.json ? toJson(ledger, 2) : formatLedger(ledger));
        process.exitCode = ledger.status === 'ok' ? EXIT_CODES.ok : EXIT_CODES.failed;
      } catch (err) {
        progress?.stop();
        if (interrupted) process.exit(EXIT_CODES.interrupted);
        throw err;
      }
    });

  cmd
    .command('status <job>')
    .description("what the state store says: the newest run's streams, chunks done/pending/failed, last error")
    .option('--json', 'machine-readable output')
    .action(async (job: string, opts: { json?: boolean }) => {
      const s = await status(job);
      stdout(opts.json ? toJson(s, 2) : formatStatus(s));
    });

  cmd
    .command('verify <job>')
    .description('compare source and target: row counts and content hashes per chunk; names mismatching key ranges')
    .option('--json', 'machine-readable output')
    .action(async (job: string, opts: { json?: boolean }) => {
      boundHeapGrowth(); // verify decodes every row of both sides
      const report = await verify(job);
      stdout(opts.json ? toJson(report, 2) : formatVerify(report));
      process.exitCode = report.status === 'equal' ? EXIT_CODES.ok : EXIT_CODES.mismatch;
    });

  cmd
    .command('demo')
    .description(
      'generate a SQLite database with awkward values, dump it into a local lake (Parquet, CSV) and copy it into a local SQLite warehouse, verify both',
    )
    .option('--dir <dir>', 'folder for the demo files', 'ferry-demo')
    .option('--rows <n>', 'rows in the main table', '1000000')
    .action(async (opts: { dir: string; rows: string }) => {
      const rows = Number(opts.rows);
      if (!Number.isInteger(rows) || rows < 1)
        throw new ConfigError(`--rows: expected a positive integer, got ${opts.rows}`);
      boundHeapGrowth(); // SQLite -> lake and warehouse: all by rows
      process.exitCode = await runDemo({ dir: opts.dir, rows, out: stdout, err: stderr });
    });
  return cmd;
}

/**
 * V8 lets its old generation grow to about 4x what survives a full GC when a program allocates fast,
 * and a copy by rows allocates fast (a string or a number per value): PostgreSQL -> Parquet held
 * 100-115 MB live and peaked at 552 MB RSS. Growing by half instead peaked at 297 MB for the same
 * time. The flag is read at each GC, so setting it while running works (unlike
 * --max-old-space-size). It is set when a stream's first chunk goes by rows (`row-path`), not for a
 * copy of raw bytes: there it bought nothing (about 120 MB either way) and cost a full GC every
 * 25 MB or so of data, 0.3-0.5 s of CPU on the 5.18M-row PostgreSQL -> PostgreSQL table.
 * FERRY_HEAP_GROWING_PERCENT changes it; 0 leaves V8's own heuristics.
 */
let heapGrowth = 0;
let heapBounded = false;
function readHeapGrowthSetting(): void {
  const raw = process.env.FERRY_HEAP_GROWING_PERCENT ?? '50';
  const pct = Number(raw);
  if (!Number.isInteger(pct) || pct < 0) {
    throw new ConfigError(
      `FERRY_HEAP_GROWING_PERCENT must be a whole number (0 for V8's default), got ${JSON.stringify(raw)}`,
    );
  }
  heapGrowth = pct;
}
function boundHeapGrowth(): void {
  if (heapBounded || heapGrowth === 0) return;
  heapBounded = true;
  v8.setFlagsFromString(`--heap-growing-percent=${heapGrowth}`);
}

function parallelOption(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--parallel: expected a positive integer, got ${raw}`);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  try {
    readHeapGrowthSetting();
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      process.exit(err.exitCode === 0 ? 0 : EXIT_CODES.config);
    }
    fail(err);
  }
}
