import { createHash } from 'crypto';
import { ConfigError } from '../errors';

/**
 * `step --all --shard I/N`: N drivers (an Indexed Job, N CronJobs) share a fleet, each ticking the
 * canaries whose `namespace/name` hashes to its index. The hash depends on nothing but the name, so
 * a canary stays in its shard whatever else is added or removed, and every canary is in exactly one.
 */
export interface Shard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

/** The largest N accepted: more drivers than this on one remote would only race each other's pushes. */
export const MAX_SHARDS = 1024;

/** Parses the `--shard` value `I/N` (0 <= I < N); ConfigError naming the flag, the value and the fix. */
export function parseShard(value: string): Shard {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(value.trim());
  const fix = `give --shard I/N with 0 <= I < N <= ${MAX_SHARDS}, e.g. --shard 0/4 for the first of four drivers (an Indexed Job passes $(JOB_COMPLETION_INDEX) as I)`;
  if (!m) throw new ConfigError(`--shard "${value}" is not I/N; ${fix}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new ConfigError(`--shard "${value}": N must be between 1 and ${MAX_SHARDS}; ${fix}`);
  if (index >= count) throw new ConfigError(`--shard "${value}": I must be below N (I is 0-based); ${fix}`);
  return { index, count };
}

/** The shard (0-based) canary `namespace/name` belongs to among `count`: the first 32 bits of its sha256, mod count. */
export function shardOf(canary: string, count: number): number {
  return createHash('sha256').update(canary).digest().readUInt32BE(0) % count;
}

export function inShard(canary: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(canary, shard.count) === shard.index;
}
