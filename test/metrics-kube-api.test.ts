import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors';
import { KubeClient, kubeConfigFromEnv, serverUrl } from '../src/adapters/metrics/kube-api';
import { FakeKubeApi } from './support/kube-api-server';

// src/adapters/metrics/kube-api.ts: the driver's Kubernetes configuration, as client-go's
// rest.InClusterConfig and DefaultServerURL (k8s.io/client-go v0.36.2, Flagger v1.44.0's) build it.

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-sa-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('kubeConfigFromEnv', () => {
  it('CANARYKIT_KUBE_* first', () => {
    expect(kubeConfigFromEnv({ CANARYKIT_KUBE_API_URL: 'https://10.0.0.1:6443', CANARYKIT_KUBE_TOKEN: 't', CANARYKIT_KUBE_CA_FILE: '/ca.pem', CANARYKIT_KUBE_INSECURE_SKIP_TLS_VERIFY: 'false', KUBERNETES_SERVICE_HOST: 'x', KUBERNETES_SERVICE_PORT: '1' }, dir)).toEqual({
      server: 'https://10.0.0.1:6443', token: 't', caFile: '/ca.pem', insecure: false, origin: 'env',
    });
    expect(kubeConfigFromEnv({ CANARYKIT_KUBE_API_URL: 'https://k', CANARYKIT_KUBE_INSECURE_SKIP_TLS_VERIFY: 'true' }, dir).insecure).toBe(true);
    expect(() => kubeConfigFromEnv({ CANARYKIT_KUBE_API_URL: 'https://k', CANARYKIT_KUBE_INSECURE_SKIP_TLS_VERIFY: 'yes' }, dir)).toThrow(ConfigError);
  });

  it('in a pod: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the service account token and ca.crt (rest.InClusterConfig)', () => {
    fs.writeFileSync(path.join(dir, 'token'), 'sa-token');
    fs.writeFileSync(path.join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n');
    expect(kubeConfigFromEnv({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)).toEqual({
      server: 'https://10.96.0.1:443', token: 'sa-token', tokenFile: path.join(dir, 'token'), caFile: path.join(dir, 'ca.crt'), insecure: false, origin: 'in-cluster',
    });
    // net.JoinHostPort brackets an IPv6 host; a missing ca.crt is left out, as client-go only logs it.
    fs.rmSync(path.join(dir, 'ca.crt'));
    const v6 = kubeConfigFromEnv({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect([v6.server, v6.caFile]).toEqual(['https://[fd00::1]:443', undefined]);
  });

  it('no token file in a pod, or nothing at all: ConfigErrors that say what to set', () => {
    expect(() => kubeConfigFromEnv({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)).toThrow(/cannot read the service account token .*CANARYKIT_KUBE_API_URL/);
    expect(() => kubeConfigFromEnv({}, dir)).toThrow(/KUBERNETES_SERVICE_HOST.*CANARYKIT_KUBE_API_URL and CANARYKIT_KUBE_TOKEN/);
  });
});

describe('serverUrl (client-go DefaultServerURL)', () => {
  it('a URL as is, a path kept as prefix; host:port gets https with TLS settings, http without', () => {
    expect(serverUrl('https://api.example:6443/prefix', false).href).toBe('https://api.example:6443/prefix');
    expect(serverUrl('metrics.example:8443', true).href).toBe('https://metrics.example:8443/');
    expect(serverUrl('metrics.example:8443', false).href).toBe('http://metrics.example:8443/');
  });

  it('refuses an empty host, a host:port with a path, other schemes and embedded credentials', () => {
    expect(() => serverUrl('', true)).toThrow(ConfigError);
    expect(() => serverUrl('metrics.example/sub', true)).toThrow(/host must be a URL or a host:port pair/);
    expect(() => serverUrl('ftp://metrics.example', true)).toThrow(/http or https/);
    expect(() => serverUrl('https://u:p@metrics.example', true)).toThrow(/must not embed credentials/);
  });
});

describe('KubeClient', () => {
  let api: FakeKubeApi;
  let url: string;
  beforeEach(async () => {
    api = new FakeKubeApi();
    url = await api.start();
  });
  afterEach(async () => {
    await api.close();
  });

  it('reads the token file again for every request (client-go refreshes it)', async () => {
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'first\n');
    const client = new KubeClient({ server: url, token: 'first', tokenFile, insecure: false, origin: 'in-cluster' }, { timeoutMs: 2000, provider: 'keptn' });
    await client.get('/apis/x/v1/namespaces/a/things/b').catch(() => undefined);
    fs.writeFileSync(tokenFile, 'second');
    await client.get('/apis/x/v1/namespaces/a/things/b').catch(() => undefined);
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer first', 'Bearer second']);
  });

  it('an answer that is not JSON is a bad-response error', async () => {
    api.handler = () => ({ status: 200, text: '<html>proxy login</html>' });
    const client = new KubeClient({ server: url, insecure: false, origin: 'env' }, { timeoutMs: 2000, provider: 'externalmetrics' });
    await expect(client.get('/apis/x/v1/things')).rejects.toMatchObject({ kind: 'bad-response', message: expect.stringContaining('externalmetrics request to Kubernetes API') });
  });
});

/** A self-signed certificate for 127.0.0.1, made with openssl for this run (none is committed). */
function selfSigned(dir: string): { key: string; cert: string; certFile: string } | undefined {
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'tls.key'), '-out', path.join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=canarykit-test-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { key: fs.readFileSync(path.join(dir, 'tls.key'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'tls.crt'), 'utf8'), certFile: path.join(dir, 'tls.crt') };
}

describe('KubeClient over TLS (ca.crt as rest.Config CAFile, insecure-skip-tls-verify)', () => {
  const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-tls-'));
  const cert = selfSigned(tlsDir);
  let api: FakeKubeApi;
  let url: string;
  beforeEach(async () => {
    api = new FakeKubeApi();
    api.handler = () => ({ status: 200, body: { kind: 'APIResourceList' } });
    if (cert) url = await api.start(cert);
  });
  afterEach(async () => {
    await api.close();
  });
  afterAll(() => {
    fs.rmSync(tlsDir, { recursive: true, force: true });
  });

  it.skipIf(!cert)('trusts the CA file, refuses an unknown certificate, skips verification when insecure', async () => {
    const client = (over: { caFile?: string; insecure?: boolean }) => new KubeClient({ server: url, insecure: false, origin: 'env', ...over }, { timeoutMs: 5000, provider: 'keptn' });
    await expect(client({ caFile: cert!.certFile }).get('/apis')).resolves.toMatchObject({ status: 200 });
    await expect(client({}).get('/apis')).rejects.toMatchObject({ kind: 'unreachable' });
    await expect(client({ insecure: true }).get('/apis')).resolves.toMatchObject({ status: 200 });
    expect(() => client({ caFile: path.join(tlsDir, 'missing.crt') })).toThrow(ConfigError);
  });
});
