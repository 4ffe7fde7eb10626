import { execFileSync } from 'child_process';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { manifestProblems } from './constructs/manifest-validator';

/*
 * deploy/kubernetes/exporter: `canarykit exporter` as a Deployment + Service (and, in
 * ./servicemonitor, a Prometheus Operator ServiceMonitor). Built with kubectl kustomize; the
 * Kubernetes objects are validated against the 1.28 schemas. No ServiceMonitor CRD schema is
 * available offline, so its wiring (selector, port, path) is checked against the Service instead.
 */

const DIR = path.resolve(__dirname, '..', 'deploy', 'kubernetes', 'exporter');
const build = (dir: string): any[] => parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map((d) => d.toJS());

describe('deploy/kubernetes/exporter', () => {
  const objects = build(DIR);
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const service = objects.find((o) => o.kind === 'Service');
  const pod = deployment.spec.template.spec;
  const exporter = pod.containers[0];

  it('builds with kubectl kustomize into a schema-valid Deployment and Service (Kubernetes 1.28)', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/canarykit-exporter', 'Service/canarykit-exporter']);
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('canarykit');
      expect(manifestProblems(o)).toEqual([]);
    }
  });

  it('runs `canarykit exporter` on the clone it follows, serving /metrics and /healthz on port http', () => {
    expect(exporter.args).toEqual(['exporter', '--repo', '/work/repo', '--listen', '0.0.0.0:8080', '--fetch-interval', '30s']);
    expect(exporter.image).toBe('canarykit:0.1.0');
    expect(exporter.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(exporter.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(exporter.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const clone = pod.initContainers[0];
    expect(clone.command.slice(0, 2)).toEqual(['git', 'clone']);
    expect(clone.command.at(-1)).toBe('/work/repo');
    for (const c of [clone, exporter]) {
      expect(c.volumeMounts).toContainEqual({ name: 'work', mountPath: '/work' });
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    }
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    // No tokens: it reads git with the driver's git credentials and talks to no API.
    expect(JSON.stringify(pod)).not.toMatch(/TOKEN/);
  });

  it('the Service selects the pod and exposes its http port; the ServiceMonitor scrapes that port at /metrics', () => {
    const labels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(service.spec.selector)) expect(labels[k]).toBe(v);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    const withMonitor = build(path.join(DIR, 'servicemonitor'));
    expect(withMonitor.map((o) => o.kind).sort()).toEqual(['Deployment', 'Service', 'ServiceMonitor']);
    const monitor = withMonitor.find((o) => o.kind === 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.namespace).toBe('canarykit');
    const svc = withMonitor.find((o) => o.kind === 'Service');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.spec.endpoints[0].port);
  });
});
