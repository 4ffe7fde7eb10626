import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectMetric } from '../src/adapters/metrics/connect';
import { INFLUXDB, INFLUXDB_ONLINE_QUERY, influxQueryBody, influxQueryUrl } from '../src/adapters/metrics/influxdb';
import { csvRecords, firstRecord } from '../src/adapters/metrics/influxdb-csv';
import { MetricSource } from '../src/adapters/metrics/source';
import { compile, compileFiles } from '../src/compile';
import { ConfigError, MetricsError, ValidationError } from '../src/errors';
import { INFLUXDB_SPEC } from '../src/model/metric-providers/influxdb';
import { MetricProviderPlan, PlannedMetric } from '../src/model/plan';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from '../src/constructs/output-dir';
import { tempDir } from './compile/support';
import { CsvColumn, InfluxServer, annotatedCsv, errorTableCsv, startInfluxServer } from './support/influxdb-server';

// The influxdb metrics provider: Flagger v1.44.0 pkg/metrics/providers/influxdb.go (NewInfluxdbProvider,
// RunQuery, IsOnline) and influxdb_test.go, over influxdb-client-go v2.14.0's wire format
// (api/query.go QueryWithParams, queryURL, DefaultDialect, QueryTableResult.Next; api/http/service.go),
// against a local InfluxDB 2 query API.

const TOKEN = 'influx-t0ken-3b9f27e1c45d==';
const ORG = 'canarykit';
const ENV = {
  CANARYKIT_SECRET_TEST_INFLUX_TOKEN_TOKEN: TOKEN,
  CANARYKIT_SECRET_TEST_INFLUX_TOKEN_ORG: ORG,
};

function metric(provider: Partial<MetricProviderPlan>): Pick<PlannedMetric, 'provider' | 'templateRef' | 'interval'> {
  return { provider: { type: 'influxdb', ...provider }, templateRef: { name: 'not-found', namespace: 'test' }, interval: '1m' };
}

function connect(provider: Partial<MetricProviderPlan>, env: NodeJS.ProcessEnv = ENV, timeoutMs = 2000): Promise<MetricSource> {
  return connectMetric(metric(provider), { env, timeoutMs, driverServer: 'http://prometheus.invalid:9090' });
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MetricsError);
  return e as MetricsError;
}


/** A self-signed HTTPS server on 127.0.0.1 answering `body`, or undefined without openssl. */
async function selfSignedServer(contentType: string, body: string): Promise<{ url: string; close: () => void } | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canarykit-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = createHttpsServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const HAS_OPENSSL = (process.env.PATH ?? '').split(path.delimiter).some((d) => fs.existsSync(path.join(d, 'openssl')));

// Flagger's docs example (docs/gitbook/usage/metrics.md "InfluxDB"), rendered for test/podinfo.
const DOCS_QUERY = `from(bucket: "default")
|> range(start: -2h)
|> filter(fn: (r) => r["_measurement"] == "istio_requests_total")
|> filter(fn: (r) => r[" destination_workload_namespace"] == "test")
|> filter(fn: (r) => r["destination_workload"] == "podinfo")
|> filter(fn: (r) => r["response_code"] == "500")
|> count()
|> yield(name: "count")
`;
const RATE_QUERY = `from(bucket: "istio")
  |> range(start: -1m)
  |> filter(fn: (r) => r._measurement == "istio_requests_total" and r.destination_workload == "podinfo")
  |> toFloat()
  |> mean()`;

const SERIES_COLUMNS: CsvColumn[] = [
  { name: 'result', type: 'string', default: '_result' },
  { name: 'table', type: 'long' },
  { name: '_start', type: 'dateTime:RFC3339', group: true },
  { name: '_stop', type: 'dateTime:RFC3339', group: true },
  { name: '_time', type: 'dateTime:RFC3339' },
  { name: '_value', type: 'double' },
  { name: '_field', type: 'string', group: true },
  { name: '_measurement', type: 'string', group: true },
  { name: 'destination_workload', type: 'string', group: true },
  { name: 'response_flags', type: 'string' },
];
const START = '2026-01-01T00:00:00Z';
const STOP = '2026-01-01T00:01:00Z';

// Two tables in the first annotation block (table 0 and 1), a second block with another schema.
const MULTI_TABLE = annotatedCsv([
  {
    columns: SERIES_COLUMNS,
    rows: [
      ['', '0', START, STOP, '2026-01-01T00:00:15.5Z', '0.25', 'counter', 'istio_requests_total', 'podinfo', 'UH,"upstream"\nreset'],
      ['', '0', START, STOP, '2026-01-01T00:00:30Z', '0.5', 'counter', 'istio_requests_total', 'podinfo', '-'],
      ['', '1', START, STOP, '2026-01-01T00:00:15Z', '3.5', 'counter', 'istio_requests_total', 'podinfo-primary', '-'],
    ],
  },
  {
    columns: [
      { name: 'result', type: 'string', default: '_result' },
      { name: 'table', type: 'long' },
      { name: '_value', type: 'long' },
    ],
    rows: [['', '2', '42']],
  },
]);

function oneValue(type: string, value: string, def = ''): string {
  return annotatedCsv([{ columns: [{ name: 'result', type: 'string', default: '_result' }, { name: 'table', type: 'long' }, { name: '_value', type, default: def }], rows: [['', '0', value]] }]);
}

describe('influxdb-client-go: the request', () => {
  it('queryURL: <address>/api/v2/query with org as the only parameter, Go-escaped; a path prefix is kept', () => {
    expect(influxQueryUrl(new URL('http://influxdb.monitoring:8086'), 'canarykit')).toBe('http://influxdb.monitoring:8086/api/v2/query?org=canarykit');
    expect(influxQueryUrl(new URL('https://proxy.example.com/influx/?x=1'), 'team a&b')).toBe('https://proxy.example.com/influx/api/v2/query?org=team+a%26b');
    expect(influxQueryUrl(new URL('http://influx:8086'), '')).toBe('http://influx:8086/api/v2/query?org=');
  });

  it('QueryWithParams: the JSON of queryBody with DefaultDialect, in field order, with encoding/json HTML escapes', () => {
    expect(influxQueryBody('from(bucket: "a") |> range(start: -1m) |> filter(fn: (r) => r.x < 1 and r.y > 2 or r.z == "&")')).toBe(
      '{"dialect":{"annotations":["datatype","group","default"],"delimiter":",","header":true},' +
        '"query":"from(bucket: \\"a\\") |\\u003e range(start: -1m) |\\u003e filter(fn: (r) =\\u003e r.x \\u003c 1 and r.y \\u003e 2 or r.z == \\"\\u0026\\")","type":"flux"}',
    );
    expect(JSON.parse(influxQueryBody(DOCS_QUERY)).query).toBe(DOCS_QUERY);
  });
});

describe('influxdb-client-go QueryTableResult.Next: the first record of annotated CSV', () => {
  it('reads the first data row of the first table across annotation blocks, quoted fields and \\r\\n line ends', () => {
    const first = firstRecord(MULTI_TABLE);
    expect(first.kind).toBe('record');
    if (first.kind !== 'record') return;
    expect(first.table).toBe(0);
    expect(first.values.get('_value')).toEqual({ type: 'double', value: 0.25 });
    expect(first.values.get('result')).toEqual({ type: 'string', value: '_result' }); // #default fills the empty cell
    expect(first.values.get('table')).toEqual({ type: 'long', value: 0n });
    expect(first.values.get('response_flags')).toEqual({ type: 'string', value: 'UH,"upstream"\nreset' });
    expect(first.columns.filter((c) => c.group).map((c) => c.name)).toEqual(['_start', '_stop', '_field', '_measurement', 'destination_workload']);
  });

  it('encoding/csv: quoted fields over lines, "" escapes, empty lines skipped, bare quotes refused', () => {
    expect([...csvRecords('a,"b,""c""\r\nd",e\r\n\r\n\n,f\n')]).toEqual([['a', 'b,"c"\nd', 'e'], ['', 'f']]);
    expect(() => [...csvRecords('a,b"c\n')]).toThrow('bare " in non-quoted-field');
    expect(() => [...csvRecords('a,"b"c\n')]).toThrow('extraneous or missing "');
    expect(() => [...csvRecords('a,"b\n')]).toThrow('extraneous or missing "');
  });

  it('an answer cut by the size cap serves when the first record is complete before the cut', () => {
    const cut = MULTI_TABLE.slice(0, MULTI_TABLE.indexOf('3.5'));
    expect(firstRecord(cut, false)).toEqual(firstRecord(MULTI_TABLE));
    expect(firstRecord(cut, false)).toMatchObject({ kind: 'record', table: 0 });
    const early = MULTI_TABLE.slice(0, MULTI_TABLE.indexOf('0.25') + 2);
    expect(firstRecord(early, false)).toEqual({ kind: 'parse-error', message: 'the answer was cut before its first record' });
  });

  it.each([
    ['an empty answer', '', { kind: 'end' }],
    ['a blank line only', '\r\n', { kind: 'end' }],
    ['annotations and header without rows', annotatedCsv([{ columns: SERIES_COLUMNS, rows: [] }]), { kind: 'end' }],
    ['an error table', errorTableCsv('runtime error @4:6-4:40: filter: type conflict: string != int', '897'), { kind: 'query-error', message: 'runtime error @4:6-4:40: filter: type conflict: string != int,897' }],
    ['an error table without a message', errorTableCsv(''), { kind: 'query-error', message: 'unknown query error' }],
    ['no annotations', ',result,table,_value\n,_result,0,1.5\n', { kind: 'parse-error', message: 'parsing error, annotations not found' }],
    ['no #datatype', '#group,false,false\n,result,_value\n,,1\n', { kind: 'parse-error', message: 'parsing error, datatype annotation not found' }],
    ['a short row', '#datatype,string,double\n,result,_value\n,x\n', { kind: 'parse-error', message: expect.stringContaining('different number of columns') }],
    ['a bad double', oneValue('double', 'fast'), { kind: 'parse-error', message: expect.stringContaining('_value: cannot parse "fast" as double') }],
    ['an unknown datatype', oneValue('decimal', '1'), { kind: 'parse-error', message: '_value has unknown data type decimal' }],
  ])('%s', (_name, text, expected) => {
    expect(firstRecord(text)).toEqual(expected);
  });
});

describe('influxdb against an InfluxDB 2 query API', () => {
  let server: InfluxServer;
  beforeAll(async () => {
    server = await startInfluxServer({
      token: TOKEN,
      orgs: [ORG],
      answers: {
        [RATE_QUERY]: MULTI_TABLE,
        [DOCS_QUERY]: oneValue('long', '3'),
        [INFLUXDB_ONLINE_QUERY]: annotatedCsv([{ columns: SERIES_COLUMNS, rows: [['', '0', START, STOP, START, '1', 'f', 'm', 'podinfo', '-']] }]),
        'empty()': '\r\n',
        'null-value()': oneValue('double', ''),
        'default-value()': oneValue('double', '', '7.5'),
        'no-value-column()': annotatedCsv([{ columns: [{ name: 'result', type: 'string' }, { name: 'count', type: 'double' }], rows: [['', '4']] }]),
        'nan()': oneValue('double', 'NaN'),
        'string-value()': oneValue('string', 'ok'),
        'failing()': errorTableCsv('panic: runtime error: index out of range', '1'),
        'broken()': '#datatype,string,double\n,result,_value\n,,"1.5\n',
      },
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.seen.length = 0;
    server.override = undefined;
  });

  it('TestInfluxdbProvider_RunQuery: POST /api/v2/query?org=… with the token and the JSON body; the first record of the first table', async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    expect(await source.query(RATE_QUERY)).toEqual({ kind: 'value', value: 0.25 });
    expect(server.seen).toHaveLength(1);
    const [req] = server.seen;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v2/query?org=canarykit');
    expect(req.headers.authorization).toBe(`Token ${TOKEN}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['accept-encoding']).toBe('gzip');
    expect(req.body).toBe(influxQueryBody(RATE_QUERY));
    expect(JSON.parse(req.body)).toEqual({ dialect: { annotations: ['datatype', 'group', 'default'], delimiter: ',', header: true }, query: RATE_QUERY, type: 'flux' });
    expect(source.address).toBe(server.url);
  });

  it('reads a gzipped answer (the client sends Accept-Encoding: gzip)', async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    server.override = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/csv', 'Content-Encoding': 'gzip' });
      res.end(require('node:zlib').gzipSync(oneValue('double', '12.75')));
      return true;
    };
    expect(await source.query('anything')).toEqual({ kind: 'value', value: 12.75 });
  });

  // influxdb.go RunQuery returns `0, nil` here: a max bound would pass on a query matching nothing.
  it('an answer without records is no data, not the 0 Flagger reads', async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    expect(await source.query('empty()')).toEqual({ kind: 'no-data' });
  });

  it('no data when the first record has no _value (Record().Value() == nil: ErrNoValuesFound), or NaN', async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    expect(await source.query('null-value()')).toEqual({ kind: 'no-data' });
    expect(await source.query('no-value-column()')).toEqual({ kind: 'no-data' });
    expect(await source.query('nan()')).toEqual({ kind: 'no-data' });
    expect(await source.query('default-value()')).toEqual({ kind: 'value', value: 7.5 });
  });

  it("a _value that is not a double is a bad query (Flagger: invalid response), e.g. the docs example's count()", async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    const e = await failure(source.query(DOCS_QUERY));
    expect(e).toMatchObject({ kind: 'bad-query', retryable: false });
    expect(e.message).toBe(`influxdb query to ${server.url} failed: invalid response: the first record's _value is a long 3, not a double; end the Flux query with |> toFloat()`);
    expect((await failure(source.query('string-value()'))).message).toContain('is a string "ok"');
  });

  it('an error table is a bad query with its message and reference; unparseable CSV is a bad response', async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    const e = await failure(source.query('failing()'));
    expect(e).toMatchObject({ kind: 'bad-query', status: 200 });
    expect(e.message).toContain('query error: panic: runtime error: index out of range,1');
    expect(await failure(source.query('broken()'))).toMatchObject({ kind: 'bad-response' });
  });

  it("HTTP errors carry InfluxDB's code and message (parseHTTPError); 400 is a bad query, 5xx retryable", async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    const bad = await failure(source.query('frm(bucket: "x")'));
    expect(bad).toMatchObject({ kind: 'bad-query', status: 400, retryable: false });
    expect(bad.message).toBe(`influxdb query to ${server.url} failed: HTTP 400: invalid: compilation failed: error @1:1-1:4: undefined identifier frm`);
    server.override = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('');
      return true;
    };
    const down = await failure(source.query(RATE_QUERY));
    expect(down).toMatchObject({ kind: 'http', status: 503, retryable: true });
    // Not JSON: Code is the status line but Message is empty, so Error() is Go's fallback text.
    expect(down.message).toContain('HTTP 503: Unexpected status code 503');
    server.override = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end('{}');
      return true;
    };
    expect((await failure(source.query(RATE_QUERY))).message).toContain('HTTP 503: unavailable: service temporarily unavailable');
    server.override = (_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html>bad gateway</html>');
      return true;
    };
    expect((await failure(source.query(RATE_QUERY))).message).toContain('HTTP 502: 502 Bad Gateway: <html>bad gateway</html>');
  });

  it('a wrong organisation or token is an HTTP error that retrying does not fix', async () => {
    const wrongOrg = await connect({ address: server.url, secretRef: 'influx-token' }, { ...ENV, CANARYKIT_SECRET_TEST_INFLUX_TOKEN_ORG: 'other' });
    const e = await failure(wrongOrg.query(RATE_QUERY));
    expect(server.seen[0].url).toBe('/api/v2/query?org=other');
    expect(e).toMatchObject({ kind: 'http', status: 404, retryable: false });
    expect(e.message).toContain('not found: organization name "other" not found');
    const wrongToken = await connect({ address: server.url, secretRef: 'influx-token' }, { ...ENV, CANARYKIT_SECRET_TEST_INFLUX_TOKEN_TOKEN: 'nope' });
    expect(await failure(wrongToken.query(RATE_QUERY))).toMatchObject({ kind: 'http', status: 401 });
  });

  it('never puts the token in a message, even when the server echoes the request', async () => {
    server.override = (req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 'internal error', message: `cannot serve ${req.headers.authorization}` }));
      return true;
    };
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    const e = await failure(source.query(RATE_QUERY));
    expect(e.message).toContain('HTTP 500: internal error: cannot serve Token ***');
    expect(e.message).not.toContain(TOKEN);
  });

  it('without a secretRef: no Authorization header and an empty org, as NewInfluxdbProvider leaves them', async () => {
    const source = await connect({ address: server.url });
    const e = await failure(source.query(RATE_QUERY));
    expect(server.seen[0].url).toBe('/api/v2/query?org=');
    expect(server.seen[0].headers.authorization).toBeUndefined();
    expect(e.status).toBe(401);
  });

  it('a server that does not answer in time is a timeout; a closed port is unreachable', async () => {
    server.override = () => true;
    const slow = await connect({ address: server.url, secretRef: 'influx-token' }, ENV, 150);
    expect(await failure(slow.query(RATE_QUERY))).toMatchObject({ kind: 'timeout', retryable: true });
    const closed = await startInfluxServer({ token: TOKEN, orgs: [], answers: {} });
    await closed.close();
    const gone = await connect({ address: closed.url, secretRef: 'influx-token' });
    const e = await failure(gone.query(RATE_QUERY));
    expect(e).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(e.message).toContain(`influxdb query to ${closed.url} failed: request failed`);
  });

  it('TestNewInfluxdbProvider: a secretRef without token or org is a ConfigError naming the variable', async () => {
    await expect(connect({ address: server.url, secretRef: 'influx-token' }, { CANARYKIT_SECRET_TEST_INFLUX_TOKEN_ORG: ORG })).rejects.toThrow(
      new ConfigError('influxdb credentials do not contain an authentication token: set CANARYKIT_SECRET_TEST_INFLUX_TOKEN_TOKEN to key token of Secret test/influx-token'),
    );
    await expect(connect({ address: server.url, secretRef: 'influx-token' }, { CANARYKIT_SECRET_TEST_INFLUX_TOKEN_TOKEN: TOKEN })).rejects.toThrow(
      new ConfigError('influxdb credentials do not contain an organisation: set CANARYKIT_SECRET_TEST_INFLUX_TOKEN_ORG to key org of Secret test/influx-token'),
    );
  });

  it('TestInfluxdbProvider_IsOnline: posts the default-bucket query; any 2xx answer is online, even an empty one', async () => {
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    await expect(source.isOnline()).resolves.toBeUndefined();
    expect(JSON.parse(server.seen[0].body).query).toBe('from(bucket: "default") |> range(start: -2h)');
    server.override = (_req, res) => {
      res.writeHead(200);
      res.end();
      return true;
    };
    await expect(source.isOnline()).resolves.toBeUndefined();
  });

  it('TestInfluxdbProvider_IsOnline forbidden: a 403 is not online, with the Go client\'s error text', async () => {
    server.override = (_req, res) => {
      res.writeHead(403);
      res.end();
      return true;
    };
    const source = await connect({ address: server.url, secretRef: 'influx-token' });
    await expect(source.isOnline()).rejects.toThrow(`error accessing influxdb query api: influxdb query to ${server.url} failed: HTTP 403: Unexpected status code 403`);
  });
});

describe('influxdb over TLS', () => {
  it.skipIf(!HAS_OPENSSL)("verifies the certificate even with insecureSkipVerify: Flagger's influxdb client never reads that field", async () => {
    const server = await selfSignedServer('text/csv', oneValue('double', '1'));
    try {
      const source = await connect({ address: server!.url, insecureSkipVerify: true, secretRef: 'influx-token' });
      expect(await failure(source.query(RATE_QUERY))).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/certificate/i) });
    } finally {
      server?.close();
    }
  });
});

describe('INFLUXDB_SPEC.validate (NewInfluxdbProvider: "influxdb address <a> is not a valid URL")', () => {
  it.each([
    [undefined, 'is required for type influxdb'],
    ['http://[::1', 'is not a valid URL'],
    ['influxdb.monitoring:8086', 'must be an http or https URL'],
  ])('refuses %j', (address, text) => {
    expect(INFLUXDB_SPEC.validate({ type: 'influxdb', address })).toEqual([{ field: 'address', message: expect.stringContaining(text) }]);
  });

  it('accepts an http(s) URL', () => {
    expect(INFLUXDB_SPEC.validate({ type: 'influxdb', address: 'http://influxdb.monitoring:8086', secretRef: 'influx-token' })).toEqual([]);
    expect(INFLUXDB.spec).toBe(INFLUXDB_SPEC);
  });
});

// ---------------------------------------------------------------------------------------------
// compile: Flagger YAML with an influxdb MetricTemplate (docs/gitbook/usage/metrics.md "InfluxDB").
// ---------------------------------------------------------------------------------------------

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.1.0
`;

const TEMPLATE = (address: string) => `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: not-found
  namespace: test
spec:
  provider:
    type: influxdb
${address}    secretRef:
      name: influx-token
  query: |
    from(bucket: "default")
    |> range(start: -2h)
    |> filter(fn: (r) => r["_measurement"] == "istio_requests_total")
    |> filter(fn: (r) => r[" destination_workload_namespace"] == "{{ namespace }}")
    |> filter(fn: (r) => r["destination_workload"] == "{{ target }}")
    |> filter(fn: (r) => r["response_code"] == "500")
    |> count()
    |> yield(name: "count")
`;

const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
    metrics:
      - name: "404s"
        templateRef:
          name: not-found
        thresholdRange:
          max: 5
        interval: 1m
`;

describe('compile: a Canary with an influxdb MetricTemplate', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('canarykit-influxdb-');
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  function write(docs: string[]): string {
    const dir = path.join(work, 'in');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'podinfo.yaml'), docs.join('---\n'));
    return dir;
  }

  it('plans the metric with its provider, Secret name, template and the rendered Flux query', () => {
    const out = compileFiles([write([DEPLOYMENT, TEMPLATE('    address: http://influxdb.monitoring:8086\n'), CANARY])], { stateDir: path.join(work, 'state') });
    const folder = out.folders.find((f) => f.dir === 'test/podinfo');
    const plan = JSON.parse(folder!.files.get('canary.plan.json')!);
    const m = plan.metrics.find((x: PlannedMetric) => x.name === '404s');
    expect(m).toMatchObject({
      provider: { type: 'influxdb', address: 'http://influxdb.monitoring:8086', secretRef: 'influx-token' },
      templateRef: { name: 'not-found', namespace: 'test' },
      interval: '1m',
      thresholdRange: { max: 5 },
    });
    expect(m.query).toBe(DOCS_QUERY);
  });

  it("the docs example as written (no address) fails with file, field path and fix, and nothing is written", async () => {
    const outdir = path.join(work, 'dist');
    fs.mkdirSync(path.join(outdir, 'test', 'old'), { recursive: true });
    fs.writeFileSync(path.join(outdir, 'test', 'old', 'deployment-old.yaml'), 'previous output\n');
    fs.writeFileSync(path.join(outdir, OUTPUT_MARKER), OUTPUT_MARKER_TEXT);
    const input = write([DEPLOYMENT, TEMPLATE(''), CANARY]);
    const error = await compile({ files: [input], outdir, stateDir: path.join(work, 'state') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toMatch(/nothing was written/);
    expect(message).toContain(
      'podinfo.yaml#2 MetricTemplate test/not-found: spec.provider.address: is required for type influxdb; Flagger refuses the template without it (e.g. http://influxdb.monitoring:8086) (used by Canary test/podinfo spec.analysis.metrics[0])',
    );
    expect(fs.readdirSync(outdir, { recursive: true }).sort()).toEqual([OUTPUT_MARKER, 'test', 'test/old', 'test/old/deployment-old.yaml']);
  });
});
