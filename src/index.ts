/** ferry's library API. The CLI (`ferry`) is a thin layer over these functions. */

export {
  type JobInput,
  plan,
  type RunOptions,
  run,
  type StatusReport,
  status,
  verify,
} from './api/operations.js';
export { type Job, jobFromObject, loadJob, type StreamSpec } from './config/load-job.js';
export type { ColumnInfo, Connector, RowBatch, TableInfo } from './core/connector.js';
export {
  ConfigError,
  ConnectionError,
  EXIT_CODES,
  exitCodeFor,
  FerryError,
  MismatchError,
  TerminalError,
  TransientError,
} from './core/errors.js';
export type { LogicalType } from './core/logical-types.js';
export type { Ledger, RunEvent, StreamLedger } from './engine/executor.js';
export type { ChunkPlan, ColumnPlan, Plan, StreamPlan } from './engine/plan-types.js';
export type { StreamVerify, VerifyReport } from './engine/verifier.js';
