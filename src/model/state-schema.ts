import { PHASES } from './phase';

export const STATE_API_VERSION = 'canarykit.dev/v1alpha1';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** JSON schema of the state file; additionalProperties are rejected so typos surface. */
export const STATE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'apiVersion', 'kind', 'namespace', 'name', 'phase', 'canaryWeight', 'mirror', 'iterations',
    'failedChecks', 'canaryRevision', 'primary', 'lastTransitionTime',
  ],
  properties: {
    apiVersion: { const: STATE_API_VERSION },
    kind: { const: 'CanaryState' },
    namespace: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    phase: { enum: [...PHASES] },
    canaryWeight: { type: 'integer', minimum: 0, maximum: 100 },
    mirror: { type: 'boolean' },
    iterations: { type: 'integer', minimum: 0 },
    failedChecks: { type: 'integer', minimum: 0 },
    canaryRevision: { type: 'string', minLength: 1 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    paused: { type: 'boolean' },
    sessionAffinity: {
      type: 'object',
      additionalProperties: false,
      properties: { cookie: { type: 'string' }, previousCookie: { type: 'string' }, primaryCookie: { type: 'string' } },
    },
    primary: {
      type: 'object',
      additionalProperties: false,
      required: ['revision', 'template', 'workload', 'annotations', 'configMaps'],
      properties: {
        revision: { type: 'string', minLength: 1 },
        template: { type: 'object' },
        workload: {
          type: 'object',
          additionalProperties: false,
          properties: {
            replicas: { type: 'integer', minimum: 0 },
            minReadySeconds: { type: 'integer', minimum: 0 },
            progressDeadlineSeconds: { type: 'integer', minimum: 0 },
            revisionHistoryLimit: { type: 'integer', minimum: 0 },
            strategy: { type: 'object' },
          },
        },
        annotations: stringMap,
        labels: stringMap,
        configMaps: { type: 'object', additionalProperties: stringMap },
        configMapLabels: { type: 'object', additionalProperties: stringMap },
      },
    },
  },
} as const;
