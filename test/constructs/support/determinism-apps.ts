import { CanaryApp } from '../../../src/constructs/canary-app';
import { addPodinfoChart } from '../../support/construct-fixtures';

/** A state directory that exists in no process, named the same in every process. */
export const FIXED_NO_STATE_DIR = 'test/constructs/support/no-state-here';

/**
 * ConfigMap names whose order differs between locales (Danish sorts "aa" after "z", Lithuanian
 * sorts "y" before "j"), and punctuation: anything locale-aware would show in the plan.
 */
export function localeSensitiveApp(outdir: string): CanaryApp {
  const names = ['zz-config', 'aa-config', 'y-config', 'j-config', 'cm.2', 'cm-10', 'cm10'];
  const app = new CanaryApp({ outdir });
  addPodinfoChart(app, {
    podinfo: { envFrom: names.map((name) => ({ configMapRef: { name } })) },
    configMaps: Object.fromEntries(names.map((n, i) => [n, { key: `value ${i} – ünïcödé`, [`k${i}`]: `${i}` }])),
    hpa: true,
    canary: { stateDir: FIXED_NO_STATE_DIR },
  });
  addPodinfoChart(app, { chartId: 'frontend', namespace: 'web', provider: 'nginx', canary: { stateDir: FIXED_NO_STATE_DIR } });
  return app;
}
