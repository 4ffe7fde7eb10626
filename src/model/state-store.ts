import * as fs from 'fs';
import * as path from 'path';
import { ValidationError } from '../errors';
import { canaryIdProblems } from '../names';
import { LIMITS, exceedsDepth, readTextFile } from '../limits';
import { CanaryState, parseState, serializeState } from './state';

/** `state/<namespace>/<name>.json`, relative to the state directory. */
export function stateFilePath(stateDir: string, namespace: string, name: string): string {
  // The names become path segments: only names that cannot leave stateDir get here.
  const problems = canaryIdProblems(namespace, name, { namespace: 'namespace', name: 'name' });
  if (problems.length) throw new ValidationError(problems, 'invalid canary name');
  return path.join(stateDir, namespace, `${name}.json`);
}

/** Reads and validates a state file; undefined when it does not exist yet (bootstrap stage). */
export function readStateFile(file: string): CanaryState | undefined {
  // A folder, a special file or a huge file in place of the state is an input problem (exit 2).
  const text = readTextFile(file, file);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([{ path: file, message: `not valid JSON (${(e as Error).message}); restore it from git history` }], `invalid state file ${file}`);
  }
  if (exceedsDepth(json)) {
    throw new ValidationError([{ path: file, message: `nests more than ${LIMITS.depth} levels deep; restore it from git history` }], `invalid state file ${file}`);
  }
  return parseState(json, file);
}

/** Writes a state file atomically (temp file + rename), creating its folder. */
export function writeStateFile(file: string, state: CanaryState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, serializeState(state));
  fs.renameSync(tmp, file);
}
