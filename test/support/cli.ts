import { main } from '../../src/cli';

/** Runs the CLI in-process with a pinned clock; returns the exit code and captured output. */
export async function runCli(args: string[], now: Date): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const previous = process.env.CANARYKIT_NOW;
  process.env.CANARYKIT_NOW = now.toISOString();
  try {
    const code = await main(['node', 'canarykit', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (previous === undefined) delete process.env.CANARYKIT_NOW;
    else process.env.CANARYKIT_NOW = previous;
  }
}
