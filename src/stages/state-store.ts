import * as fs from 'fs';
import * as path from 'path';
import { ValidationError } from '../errors';
import { CanaryState, parseState, serializeState } from './state';

/** `state/<namespace>/<name>.json`, relative to the state directory. */
export function stateFilePath(stateDir: string, namespace: string, name: string): string {
  return path.join(stateDir, namespace, `${name}.json`);
}

/** Reads and validates a state file; undefined when it does not exist yet (bootstrap stage). */
export function readStateFile(file: string): CanaryState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([{ path: file, message: `not valid JSON (${(e as Error).message}); restore it from git history` }], `invalid state file ${file}`);
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
