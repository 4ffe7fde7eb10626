import { describe, expect, it } from 'vitest';
import { Duration } from 'cdk8s';
import { toYaml } from '../../src/constructs/output';
import { TARGET, fixture, jsonOf, render, renderOne, stage } from '../support/construct-fixtures';

const progressing = (o: Parameters<typeof stage>[1] = {}) => stage('Progressing', { canaryWeight: 20, ...o });
const abAnalysis = { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] };

describe('Istio (reference §2.6)', () => {
  it('DestinationRules <svc>-primary|canary with the trafficPolicy passed through', () => {
    const trafficPolicy = { tls: { mode: 'ISTIO_MUTUAL' }, loadBalancer: { simple: 'LEAST_REQUEST' } };
    const f = render({ istio: { trafficPolicy } });
    for (const name of ['podinfo-primary', 'podinfo-canary']) {
      expect(f.get('DestinationRule', name)).toEqual({
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'DestinationRule',
        metadata: { name, namespace: 'test' },
        spec: { host: name, trafficPolicy },
      });
    }
  });

  it.each([
    [undefined, ['podinfo']],
    [['app.example.com'], ['app.example.com', 'podinfo']],
    [['podinfo', 'app.example.com'], ['podinfo', 'app.example.com']],
    [['*'], ['*']],
  ])('hosts %j -> %j', (hosts, expected) => {
    expect(render({ istio: { hosts } }).get('VirtualService', 'podinfo').spec.hosts).toEqual(expected);
  });

  it.each([
    [undefined, ['mesh']],
    [['public-gateway.istio-system.svc.cluster.local'], ['public-gateway.istio-system.svc.cluster.local']],
    [['public', 'mesh'], ['public', 'mesh']],
  ])('gateways %j -> %j', (gateways, expected) => {
    expect(render({ istio: { gateways } }).get('VirtualService', 'podinfo').spec.gateways).toEqual(expected);
  });

  it('route options: retries, timeout, rewrite, headers, corsPolicy; apex metadata on the VirtualService', () => {
    const headers = { request: { set: { 'x-env': 'prod' } }, response: { remove: ['x-powered-by'] } };
    const corsPolicy = { allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['GET'], maxAge: '24h' };
    const f = render({
      istio: {
        retries: { attempts: 3, perTryTimeout: Duration.seconds(1), retryOn: 'gateway-error,connect-failure' },
        timeout: Duration.millis(1500),
        rewrite: { uri: '/' },
        headers,
        corsPolicy,
        match: [{ uri: { prefix: '/api' } }],
      },
      service: { apex: { labels: { tier: 'edge' }, annotations: { 'example.com/a': 'b' } } },
      state: progressing(),
    });
    const vs = f.get('VirtualService', 'podinfo');
    expect(vs.metadata).toEqual({ name: 'podinfo', namespace: 'test', labels: { tier: 'edge' }, annotations: { 'example.com/a': 'b' } });
    expect(vs.spec.http).toEqual([
      {
        match: [{ uri: { prefix: '/api' } }],
        rewrite: { uri: '/' },
        timeout: '1500ms',
        retries: { attempts: 3, perTryTimeout: '1s', retryOn: 'gateway-error,connect-failure' },
        corsPolicy,
        headers,
        route: [
          { destination: { host: 'podinfo-primary' }, weight: 80 },
          { destination: { host: 'podinfo-canary' }, weight: 20 },
        ],
      },
    ]);
  });

  it('A/B without service match: the analysis match routes to the canary, the rest to the primary', () => {
    const f = render({ analysis: abAnalysis, state: progressing({ canaryWeight: 100 }) });
    expect(f.get('VirtualService', 'podinfo').spec.http).toEqual([
      {
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
        route: [
          { destination: { host: 'podinfo-primary' }, weight: 0 },
          { destination: { host: 'podinfo-canary' }, weight: 100 },
        ],
      },
      { route: [{ destination: { host: 'podinfo-primary' }, weight: 0 }] },
    ]);
  });

  it('A/B with service match: cross product, the analysis headers (and sourceLabels) replace the service match headers', () => {
    const f = render({
      istio: { match: [{ uri: { prefix: '/api' }, headers: { 'x-old': { exact: '1' } } }, { uri: { prefix: '/v2' } }] },
      analysis: {
        iterations: 10,
        match: [{ headers: { 'x-canary': { exact: 'insider' } }, uri: { exact: '/dropped' } }, { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } }, sourceLabels: { app: 'tester' } }],
      },
      state: progressing({ canaryWeight: 0 }),
    });
    const http = f.get('VirtualService', 'podinfo').spec.http;
    expect(http[0].match).toEqual([
      { uri: { prefix: '/api' }, headers: { 'x-canary': { exact: 'insider' } } },
      { uri: { prefix: '/v2' }, headers: { 'x-canary': { exact: 'insider' } } },
      { uri: { prefix: '/api' }, headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } }, sourceLabels: { app: 'tester' } },
      { uri: { prefix: '/v2' }, headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } }, sourceLabels: { app: 'tester' } },
    ]);
    expect(http[0].route.map((r: any) => r.weight)).toEqual([100, 0]);
    expect(http[1]).toEqual({
      match: [{ uri: { prefix: '/api' }, headers: { 'x-old': { exact: '1' } } }, { uri: { prefix: '/v2' } }],
      route: [{ destination: { host: 'podinfo-primary' }, weight: 100 }],
    });
  });

  it('mirror step: 100/0 plus mirror and mirrorPercentage', () => {
    const f = render({ analysis: { iterations: 5, mirror: true, mirrorWeight: 50 }, state: progressing({ canaryWeight: 0, mirror: true }) });
    expect(f.get('VirtualService', 'podinfo').spec.http).toEqual([
      {
        route: [
          { destination: { host: 'podinfo-primary' }, weight: 100 },
          { destination: { host: 'podinfo-canary' }, weight: 0 },
        ],
        mirror: { host: 'podinfo-canary' },
        mirrorPercentage: { value: 50 },
      },
    ]);
  });

  it('mirrorWeight 0 mirrors everything (no mirrorPercentage); no mirror when the state does not mirror', () => {
    const all = render({ analysis: { stepWeight: 10, mirror: true }, state: progressing({ canaryWeight: 0, mirror: true }) }).get('VirtualService', 'podinfo');
    expect(all.spec.http[0].mirror).toEqual({ host: 'podinfo-canary' });
    expect(all.spec.http[0]).not.toHaveProperty('mirrorPercentage');
    const off = render({ analysis: { stepWeight: 10, mirror: true, mirrorWeight: 50 }, state: progressing({ canaryWeight: 30 }) }).get('VirtualService', 'podinfo');
    expect(off.spec.http[0]).not.toHaveProperty('mirror');
    expect(off.spec.http[0]).not.toHaveProperty('mirrorPercentage');
  });

  describe('session affinity', () => {
    const cookie = 'canary-session=AbCdEfGhIj';
    const primaryCookie = 'primary-session=KlMnOpQrSt';

    it('canary weight > 0: sticky canary route, then the weighted route setting the cookie', () => {
      const f = render({
        analysis: { stepWeight: 10, sessionAffinity: { cookieName: 'canary-session', maxAge: Duration.hours(2) } },
        state: progressing({ sessionAffinity: { cookie } }),
      });
      expect(f.get('VirtualService', 'podinfo').spec.http).toEqual([
        {
          match: [{ headers: { Cookie: { regex: '.*canary-session.*AbCdEfGhIj.*' } } }],
          route: [
            { destination: { host: 'podinfo-primary' }, weight: 0 },
            { destination: { host: 'podinfo-canary' }, weight: 100 },
          ],
        },
        {
          route: [
            { destination: { host: 'podinfo-primary' }, weight: 80 },
            { destination: { host: 'podinfo-canary' }, weight: 20, headers: { response: { add: { 'Set-Cookie': `${cookie}; Max-Age=7200` } } } },
          ],
        },
      ]);
    });

    it('with a primary cookie: sticky canary, sticky primary, weighted route setting both cookies', () => {
      const f = render({
        analysis: { stepWeight: 10, interval: Duration.seconds(30), sessionAffinity: { cookieName: 'canary-session', primaryCookieName: 'primary-session' } },
        state: progressing({ sessionAffinity: { cookie, primaryCookie } }),
      });
      const http = f.get('VirtualService', 'podinfo').spec.http;
      expect(http).toHaveLength(3);
      expect(http[1]).toEqual({
        match: [{ headers: { Cookie: { regex: '.*primary-session.*KlMnOpQrSt.*' } } }],
        route: [
          { destination: { host: 'podinfo-primary' }, weight: 100 },
          { destination: { host: 'podinfo-canary' }, weight: 0 },
        ],
      });
      expect(http[2].route).toEqual([
        { destination: { host: 'podinfo-primary' }, weight: 80, headers: { response: { add: { 'Set-Cookie': `${primaryCookie}; Max-Age=30` } } } },
        { destination: { host: 'podinfo-canary' }, weight: 20, headers: { response: { add: { 'Set-Cookie': `${cookie}; Max-Age=86400` } } } },
      ]);
    });

    it('canary weight 0 after a run: expires the previous cookie on a sticky route, then the weighted route', () => {
      const f = render({
        analysis: { stepWeight: 10, sessionAffinity: { cookieName: 'canary-session' } },
        state: stage('Succeeded', { sessionAffinity: { previousCookie: cookie } }),
      });
      expect(f.get('VirtualService', 'podinfo').spec.http).toEqual([
        {
          match: [{ headers: { Cookie: { regex: '.*canary-session.*AbCdEfGhIj.*' } } }],
          headers: { response: { add: { 'Set-Cookie': `${cookie}; Max-Age=-1` } } },
          route: [
            { destination: { host: 'podinfo-primary' }, weight: 100 },
            { destination: { host: 'podinfo-canary' }, weight: 0 },
          ],
        },
        {
          route: [
            { destination: { host: 'podinfo-primary' }, weight: 100 },
            { destination: { host: 'podinfo-canary' }, weight: 0 },
          ],
        },
      ]);
    });
  });

  it('portDiscovery pins the destination port behind a non-mesh gateway only', () => {
    const pinned = render({ service: { portDiscovery: true }, istio: { gateways: ['public'] } }).get('VirtualService', 'podinfo');
    expect(pinned.spec.http[0].route[0].destination).toEqual({ host: 'podinfo-primary', port: { number: 9898 } });
    const mesh = render({ service: { portDiscovery: true } }).get('VirtualService', 'podinfo');
    expect(mesh.spec.http[0].route[0].destination).toEqual({ host: 'podinfo-primary' });
  });

  it('delegation renders no hosts and no gateways', () => {
    const vs = render({ istio: { delegation: true } }).get('VirtualService', 'podinfo');
    expect(vs.spec.hosts).toEqual([]);
    expect(vs.spec.gateways).toEqual([]);
  });

  it('snapshot: the VirtualService of a Progressing stage', () => {
    const f = render({
      istio: { gateways: ['public-gateway.istio-system.svc.cluster.local', 'mesh'], hosts: ['app.example.com'], timeout: Duration.seconds(15), retries: { attempts: 3, perTryTimeout: Duration.seconds(5) } },
      state: progressing({ canaryWeight: 30 }),
    });
    expect(f.files.get('virtualservice-podinfo.yaml')).toMatchInlineSnapshot(`
      "apiVersion: networking.istio.io/v1beta1
      kind: VirtualService
      metadata:
        name: podinfo
        namespace: test
      spec:
        gateways:
          - public-gateway.istio-system.svc.cluster.local
          - mesh
        hosts:
          - app.example.com
          - podinfo
        http:
          - retries:
              attempts: 3
              perTryTimeout: 5s
            route:
              - destination:
                  host: podinfo-primary
                weight: 70
              - destination:
                  host: podinfo-canary
                weight: 30
            timeout: 15s
      "
    `);
  });
});

describe('NGINX (reference §2.7)', () => {
  const userAnnotations = {
    'kubernetes.io/ingress.class': 'nginx',
    'nginx.ingress.kubernetes.io/rewrite-target': '/',
    'nginx.ingress.kubernetes.io/canary': 'false',
    'nginx.ingress.kubernetes.io/canary-weight': '30',
    'nginx.ingress.kubernetes.io/canary-by-header': 'x-stale',
    'kubectl.kubernetes.io/last-applied-configuration': '{}',
  };

  it('the canary Ingress: clone of the user Ingress, apex backend renamed, canary annotations, user canary* annotations stripped', () => {
    const { app, chart } = fixture({ provider: 'nginx', ingress: { annotations: userAnnotations, labels: { team: 'web' } }, state: progressing({ canaryWeight: 35 }) });
    const userIngress = chart.node.findChild('ingress');
    const f = renderOne(app);
    const canary = f.get('Ingress', 'podinfo-canary');
    expect(canary.metadata).toEqual({
      name: 'podinfo-canary',
      namespace: 'test',
      labels: { team: 'web' },
      annotations: {
        'kubernetes.io/ingress.class': 'nginx',
        'nginx.ingress.kubernetes.io/rewrite-target': '/',
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '35',
      },
    });
    expect(canary.spec.ingressClassName).toBe('nginx');
    const paths = canary.spec.rules[0].http.paths;
    expect(paths.map((p: any) => p.backend.service)).toEqual([
      { name: 'podinfo-canary', port: { number: 9898 } },
      { name: 'static-files', port: { number: 80 } },
    ]);
    // The user Ingress passes through unchanged.
    expect(f.get('Ingress', 'podinfo')).toEqual(jsonOf(userIngress!));
    expect(f.get('Ingress', 'podinfo').metadata.annotations).toEqual(userAnnotations);
    expect(f.plan?.ingressName).toBe('podinfo');
  });

  it.each([
    [{ 'x-canary': { exact: 'insider' } }, { 'canary-by-header': 'x-canary', 'canary-by-header-value': 'insider' }],
    [{ 'x-canary': { regex: 'ins.*' } }, { 'canary-by-header': 'x-canary', 'canary-by-header-pattern': 'ins.*' }],
    [{ cookie: { exact: 'canary' } }, { 'canary-by-cookie': 'canary' }],
    // ingress.go SetRoutes: only the lowercase key `cookie` is a cookie match; `Cookie` is an ordinary header.
    [{ Cookie: { exact: 'canary' } }, { 'canary-by-header': 'Cookie', 'canary-by-header-value': 'canary' }],
  ])('A/B match %j during the run', (headers, expected) => {
    const f = render({ provider: 'nginx', analysis: { iterations: 10, match: [{ headers }] }, state: progressing({ canaryWeight: 100 }) });
    const ann = f.get('Ingress', 'podinfo-canary').metadata.annotations;
    const prefixed = Object.fromEntries(Object.entries(expected).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v]));
    expect(ann).toEqual({
      'kubernetes.io/ingress.class': 'nginx',
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-weight': '0',
      ...prefixed,
    });
  });

  it('A/B at weight 0 (init, rollback, finalise): no canary-by-* annotations', () => {
    const f = render({ provider: 'nginx', analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] }, state: stage('Failed') });
    const ann = f.get('Ingress', 'podinfo-canary').metadata.annotations;
    expect(Object.keys(ann).filter((k) => k.includes('canary-by'))).toEqual([]);
    expect(ann['nginx.ingress.kubernetes.io/canary-weight']).toBe('0');
  });

  it('a custom annotation prefix', () => {
    const f = render({ provider: 'nginx', nginxPrefix: 'ingress.example.com', ingress: { annotations: { 'ingress.example.com/canary-weight': '9' } }, state: progressing() });
    expect(f.get('Ingress', 'podinfo-canary').metadata.annotations).toEqual({ 'ingress.example.com/canary': 'true', 'ingress.example.com/canary-weight': '20' });
  });

  it('snapshot: the canary Ingress of a Progressing stage', () => {
    const f = render({ provider: 'nginx', state: progressing({ canaryWeight: 40 }) });
    expect(f.files.get('ingress-podinfo-canary.yaml')).toMatchInlineSnapshot(`
      "apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        annotations:
          kubernetes.io/ingress.class: nginx
          nginx.ingress.kubernetes.io/canary: "true"
          nginx.ingress.kubernetes.io/canary-weight: "40"
        name: podinfo-canary
        namespace: test
      spec:
        ingressClassName: nginx
        rules:
          - host: www.example.com
            http:
              paths:
                - backend:
                    service:
                      name: podinfo-canary
                      port:
                        number: 9898
                  path: /
                  pathType: Prefix
                - backend:
                    service:
                      name: static-files
                      port:
                        number: 80
                  path: /static
                  pathType: Prefix
      "
    `);
  });
});

describe('Gateway API (reference §2.9)', () => {
  it('HTTPRoute: parentRefs, hostnames, default match, weighted backendRefs, timeouts', () => {
    const f = render({
      provider: 'gatewayApi',
      gatewayApi: {
        gatewayRefs: [{ name: 'public', namespace: 'gateway-system', sectionName: 'https', port: 443 }, { name: 'internal', group: 'gateway.networking.k8s.io', kind: 'Gateway' }],
        hosts: ['app.example.com'],
        timeout: Duration.seconds(30),
        backendTimeout: Duration.millis(2500),
      },
      service: { apex: { labels: { tier: 'edge' } } },
      state: progressing(),
    });
    expect(f.get('HTTPRoute', 'podinfo')).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'podinfo', namespace: 'test', labels: { tier: 'edge' } },
      spec: {
        parentRefs: [
          { name: 'public', namespace: 'gateway-system', sectionName: 'https', port: 443 },
          { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'internal' },
        ],
        hostnames: ['app.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [
              { group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight: 80 },
              { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight: 20 },
            ],
            timeouts: { request: '30s', backendRequest: '2500ms' },
          },
        ],
      },
    });
  });

  it('no hosts: no hostnames', () => {
    expect(render({ provider: 'gatewayApi', gatewayApi: { hosts: [] } }).get('HTTPRoute', 'podinfo').spec).not.toHaveProperty('hostnames');
  });

  it('maps Istio-shaped service matches (uri, method, headers, queryParams)', () => {
    const f = render({
      provider: 'gatewayApi',
      gatewayApi: {
        match: [
          { uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: { 'x-b': { regex: 'v.*' }, 'x-a': { exact: '1' } } },
          { uri: { exact: '/health' }, queryParams: { debug: { exact: 'true' } } },
          { uri: { regex: '/v[0-9]+/.*' } },
        ],
      },
    });
    expect(f.get('HTTPRoute', 'podinfo').spec.rules[0].matches).toEqual([
      { path: { type: 'PathPrefix', value: '/api' }, method: 'GET', headers: [{ name: 'x-a', type: 'Exact', value: '1' }, { name: 'x-b', type: 'RegularExpression', value: 'v.*' }] },
      { path: { type: 'Exact', value: '/health' }, queryParams: [{ name: 'debug', type: 'Exact', value: 'true' }] },
      { path: { type: 'RegularExpression', value: '/v[0-9]+/.*' } },
    ]);
  });

  it('A/B: merged matches to primary/canary, then the service matches to the primary at weight 100', () => {
    const f = render({
      provider: 'gatewayApi',
      gatewayApi: { match: [{ uri: { prefix: '/api' } }] },
      analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
      state: progressing({ canaryWeight: 100 }),
    });
    expect(f.get('HTTPRoute', 'podinfo').spec.rules).toEqual([
      {
        matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', type: 'Exact', value: 'insider' }] }],
        backendRefs: [
          { group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight: 0 },
          { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898, weight: 100 },
        ],
      },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
        backendRefs: [{ group: '', kind: 'Service', name: 'podinfo-primary', port: 9898, weight: 100 }],
      },
    ]);
  });

  it('A/B without service matches: the A/B rule carries the default PathPrefix / (gateway_api.go SetRoutes, mergeMatchConditions)', () => {
    const f = render({
      provider: 'gatewayApi',
      analysis: { iterations: 10, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
      state: progressing({ canaryWeight: 100 }),
    });
    const rules = f.get('HTTPRoute', 'podinfo').spec.rules;
    expect(rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-canary', type: 'Exact', value: 'insider' }] }]);
    expect(rules[1].matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  it('blue/green mirroring adds a RequestMirror filter to the canary Service', () => {
    const f = render({ provider: 'gatewayApi', analysis: { iterations: 5, mirror: true }, state: progressing({ canaryWeight: 0, mirror: true }) });
    const rule = f.get('HTTPRoute', 'podinfo').spec.rules[0];
    expect(rule.filters).toEqual([{ type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898 } } }]);
    expect(rule.backendRefs.map((b: any) => b.weight)).toEqual([100, 0]);
    const after = render({ provider: 'gatewayApi', analysis: { iterations: 5, mirror: true }, state: progressing({ canaryWeight: 100 }) });
    expect(after.get('HTTPRoute', 'podinfo').spec.rules[0]).not.toHaveProperty('filters');
  });

  it('session affinity: a sticky cookie rule, then the weighted rule setting the cookie on the canary backend', () => {
    const f = render({
      provider: 'gatewayApi',
      analysis: { stepWeight: 10, sessionAffinity: { cookieName: 'canary-session', maxAge: Duration.minutes(10) } },
      state: progressing({ sessionAffinity: { cookie: 'canary-session=AbCdEfGhIj' } }),
    });
    const rules = f.get('HTTPRoute', 'podinfo').spec.rules;
    expect(rules[0].matches).toEqual([{ headers: [{ type: 'RegularExpression', name: 'Cookie', value: '.*canary-session.*AbCdEfGhIj.*' }] }]);
    expect(rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['podinfo-primary', 0], ['podinfo-canary', 100]]);
    expect(rules[1].backendRefs[1]).toEqual({
      group: '',
      kind: 'Service',
      name: 'podinfo-canary',
      port: 9898,
      weight: 20,
      filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: 'canary-session=AbCdEfGhIj; Max-Age=600' }] } }],
    });
  });

  it('session affinity with a primary cookie: sticky canary, sticky primary, weighted rule setting both cookies', () => {
    const f = render({
      provider: 'gatewayApi',
      analysis: { stepWeight: 10, interval: Duration.seconds(30), sessionAffinity: { cookieName: 'canary-session', primaryCookieName: 'primary-session' } },
      state: progressing({ sessionAffinity: { cookie: 'canary-session=AbCdEfGhIj', primaryCookie: 'primary-session=KlMnOpQrSt' } }),
    });
    const rules = f.get('HTTPRoute', 'podinfo').spec.rules;
    expect(rules).toHaveLength(3);
    expect(rules[1].matches[0].headers[0].value).toBe('.*primary-session.*KlMnOpQrSt.*');
    expect(rules[1].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['podinfo-primary', 100], ['podinfo-canary', 0]]);
    expect(rules[2].backendRefs.map((b: any) => b.filters[0].responseHeaderModifier.add[0].value)).toEqual([
      'primary-session=KlMnOpQrSt; Max-Age=30',
      'canary-session=AbCdEfGhIj; Max-Age=86400',
    ]);
  });

  it('session affinity after a run: expires the previous cookie on a sticky rule, then the weighted rule', () => {
    const f = render({
      provider: 'gatewayApi',
      analysis: { stepWeight: 10, sessionAffinity: { cookieName: 'canary-session' } },
      state: stage('Succeeded', { sessionAffinity: { previousCookie: 'canary-session=AbCdEfGhIj' } }),
    });
    const rules = f.get('HTTPRoute', 'podinfo').spec.rules;
    expect(rules).toHaveLength(2);
    expect(rules[0].filters).toEqual([{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: 'canary-session=AbCdEfGhIj; Max-Age=-1' }] } }]);
    expect(rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['podinfo-primary', 100], ['podinfo-canary', 0]]);
    expect(rules[1].backendRefs.map((b: any) => b.weight)).toEqual([100, 0]);
  });
});

describe('Kubernetes provider (reference §2.8)', () => {
  it('no routing object at all, the apex keeps selecting the primary even when the blue/green switch happened', () => {
    const f = render({ provider: 'kubernetes', state: progressing({ canaryWeight: 100 }) });
    expect(f.objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Deployment', 'Service', 'Service', 'Service']);
    expect(f.get('Service', 'podinfo').spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(f.plan?.strategy).toBe('blue-green');
    expect(f.plan?.analysis.iterations).toBe(5);
  });

  it('defaults to 10 blue/green iterations when none are given', () => {
    expect(render({ provider: 'kubernetes', analysis: {} }).plan?.analysis.iterations).toBe(10);
  });
});

describe('YAML output', () => {
  it('writes plain YAML: no anchors for repeated sub-objects, no folded long lines', () => {
    const long = 'x'.repeat(300);
    const f = render({ podinfo: { podAnnotations: { long } }, state: progressing() });
    for (const text of f.files.values()) expect(text).not.toMatch(/[&*]a\d/);
    expect(f.files.get('deployment-podinfo.yaml')).toContain(`long: ${long}\n`);
    // Apex and primary Services share the same ports object in memory; both are written in full.
    expect(f.files.get('service-podinfo.yaml')).toContain('targetPort: 9898');
    expect(toYaml({ a: 1 })).toBe('a: 1\n');
  });

  it('strings a YAML 1.1 reader (kubectl) would turn into booleans or numbers stay strings', () => {
    const tricky = { yes: 'yes', on: 'on', off: 'off', octal: '0644', y: 'y', n: 'NO', sexagesimal: '1:20', float: '1e3' };
    const f = render({ podinfo: { podAnnotations: tricky } });
    expect(f.get('Deployment', TARGET).spec.template.metadata.annotations).toEqual(tricky);
    expect(f.get('Deployment', 'podinfo-primary').spec.template.metadata.annotations).toMatchObject(tricky);
  });
});
