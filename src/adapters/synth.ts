import { spawn } from 'child_process';
import { SynthError } from '../errors';

/**
 * Runs the configured synth command in the repository (shell syntax allowed), with the output
 * folder passed the way cdk8s passes it. Output is captured and shown only on failure.
 */
export function runSynth(command: string, cwd: string, outdir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, shell: true, env: { ...synthEnv(process.env), CDK8S_OUTDIR: outdir }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The driver's credentials are not the app's business: synth runs without them. */
export function synthEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (!/^CANARYKIT_(GITHUB_TOKEN|PROMETHEUS_|ALERT_)/.test(k)) out[k] = v;
  }
  return out;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
