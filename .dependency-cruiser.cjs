/**
 * Architecture rules (issue 9), checked by `npm run lint:arch` (part of `npm test`).
 * Rooms: model/ (plan, state, phases, reasons, observations: the data construct and driver share),
 * machine/ (the pure state machine), adapters/ (I/O: Prometheus, webhooks, alerts, git, review
 * hosts, files), driver/ (the tick and the commands around it), constructs/ + providers/ (synth),
 * compile/ (Flagger YAML -> construct props).
 */
module.exports = {
  forbidden: [
    {
      name: 'machine-is-pure',
      comment: 'machine/ decides from plan, state and observations only: it imports model/, itself and the error types, never I/O.',
      severity: 'error',
      from: { path: '^src/machine/' },
      to: {
        // node:crypto: session cookies are content hashes (deterministic, no I/O).
        pathNot: ['^src/machine/', '^src/model/', '^src/errors\\.ts$', '^(node:)?crypto$'],
      },
    },
    {
      name: 'machine-reads-no-files',
      comment: 'model/state-store.ts reads and writes state files; the machine gets state as a value.',
      severity: 'error',
      from: { path: '^src/machine/' },
      to: { path: '^src/model/state-store\\.ts$' },
    },
    {
      name: 'model-is-shared-data',
      comment: 'model/ is what everyone imports; it imports nothing of theirs.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/(machine|adapters|driver|constructs|providers|compile)/' },
    },
    {
      name: 'constructs-do-no-driving',
      comment: 'Synth (constructs/, providers/, compile/) never reaches the driver or its adapters.',
      severity: 'error',
      from: { path: '^src/(constructs|providers|compile)/' },
      to: { path: '^src/(adapters|driver)/' },
    },
    {
      name: 'adapters-do-not-drive',
      comment: 'Adapters are called by the driver, not the other way round.',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: '^src/driver/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles hide which module owns a rule.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(lib|dist|imports)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
