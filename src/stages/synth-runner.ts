import { spawn } from 'child_process';
import { UserError } from '../errors';

/** The project's synth command failed: the app or its inputs are invalid. Nothing was committed. */
export class SynthError extends UserError {}

/**
 * Runs the configured synth command in the repository (shell syntax allowed), with the output
 * folder passed the way cdk8s passes it. Output is captured and shown only on failure.
 */
export function runSynth(command: string, cwd: string, outdir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, shell: true, env: { ...process.env, CDK8S_OUTDIR: outdir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => reject(new SynthError(`synth command "${command}" could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new SynthError(`synth command "${command}" failed (exit ${code}); nothing was committed:\n${tail(output)}`));
    });
  });
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
