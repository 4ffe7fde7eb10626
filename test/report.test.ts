import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { step } from '../src/driver/driver';
import { runCli } from './support/cli';
import { TEST_CONFIG, appJson, healthyPodinfo, realDeps } from './support/driver-fixture';
import { GitFixture, createGitFixture } from './support/git';
import { countColour, decodePng, nonBackground } from './support/png';
import { OpenMetricsWriter, PrometheusServer, at, describeWithPrometheus, startPrometheus } from './support/prometheus';

/*
 * `canarykit report`: a real run (driver ticks against a real Prometheus, a real webhook server,
 * a bare remote), then the CLI writes the page, which Debian's headless Chromium renders: the DOM
 * it parsed has the timeline, the weight chart, one chart per metric with its threshold band
 * (Prometheus query_range) and the webhook outcomes; the screenshot is not blank and shows the
 * chart colours.
 */

const run = promisify(execFile);
const NS = 'reportns';
const CHROMIUM = '/usr/bin/chromium';

function chromiumArgs(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
}

// Without Debian's chromium the suite is skipped with a line saying so, except in CI
// (CANARYKIT_REQUIRE_PROMETHEUS=1, set by .ci/run, which also installs chromium).
function describeWithChromium(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) {
    describeWithPrometheus(name, fn);
  } else if (process.env.CANARYKIT_REQUIRE_PROMETHEUS === '1') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`CANARYKIT_REQUIRE_PROMETHEUS=1 but ${CHROMIUM} is missing: apt-get install -y chromium`);
      });
    });
  } else {
    console.log(`SKIPPED ${name}: ${CHROMIUM} is missing (apt-get install -y chromium)`);
    describe.skip(name, fn);
  }
}

describeWithChromium('canarykit report rendered in headless Chromium', () => {
  let prom: PrometheusServer;
  let hooks: Server;
  let hookUrl = '';
  let fx: GitFixture;
  let clone: string;
  let work: string;
  const clock = { now: at(60) };

  beforeAll(async () => {
    prom = await startPrometheus(String(healthyPodinfo(new OpenMetricsWriter(), NS)));
    hooks = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/load`;
    const app = (image: string) => appJson({ canaries: [{ namespace: NS, image, webhooks: [{ name: 'load-test', type: 'rollout', url: hookUrl }] }] });
    fx = createGitFixture({ 'app.json': app('podinfo:6.0.0') });
    clone = fx.clone('driver');
    work = mkdtempSync(join(tmpdir(), 'canarykit-report-'));
    const tick = async () => {
      clock.now = new Date(clock.now.getTime() + 60_000);
      await step({ repoDir: clone, config: TEST_CONFIG, select: { all: true } }, realDeps(clone, prom.url, clock));
    };
    await tick();
    await tick();
    fx.pushConcurrently({ 'app.json': app('podinfo:6.1.0') }, 'release 6.1.0');
    for (let i = 0; i < 9; i++) await tick();
  }, 300_000);

  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => hooks?.close(r));
    fx?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes a self-contained page of the run that Chromium renders with every element', async () => {
    expect(fx.remoteGit('log', '-1', '--format=%s', 'main')).toBe(`canary(${NS}/podinfo): succeeded`);
    const out = join(work, 'report.html');
    const r = await runCli(['report', `${NS}/podinfo`, '--repo', clone, '-o', out], at(800));
    expect(r.err).toBe('');
    expect(r).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^wrote ${out}: ${NS}/podinfo run [0-9a-f]{8}, 9 stages, 2 metrics$`)) });
    const html = readFileSync(out, 'utf8');
    // Self-contained: no script, no stylesheet link, no external image or font.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)=/i);

    // An unknown run is an input error, nothing written.
    const missing = join(work, 'missing.html');
    const bad = await runCli(['report', `${NS}/podinfo`, '--repo', clone, '--run', 'ffffffff', '-o', missing], at(800));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no run of reportns\/podinfo matches --run ffffffff; runs: [0-9a-f]{8} \(2026-01-01T00:04:00.000Z\)/);
    expect(existsSync(missing)).toBe(false);

    const profile = join(work, 'profile');
    const { stdout: dom } = await run(CHROMIUM, [...chromiumArgs(profile), '--dump-dom', `file://${out}`], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    expect(dom).toContain('<h1>reportns/podinfo <small>run of revision');
    expect(dom).toMatch(/<dd id="result">Succeeded<\/dd>/);
    // Timeline: Initialized, start, 10..50, promote, finalise, succeeded.
    const timeline = /<table id="timeline">.*?<tbody>(.*?)<\/tbody>/s.exec(dom)![1];
    const rows = [...timeline.matchAll(/<tr><td>[^<]+<\/td><td class="phase (\w+)">\w+<\/td><td>(\d+)<\/td>/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).toEqual(['Initialized 0', 'Progressing 0', 'Progressing 10', 'Progressing 20', 'Progressing 30', 'Progressing 40', 'Progressing 50', 'Promoting 50', 'Finalising 0', 'Succeeded 0']);
    // The weight chart: a canary and a primary step line.
    expect(dom).toMatch(/<svg id="weight-chart"[^>]*>.*<path d="M[^"]+" class="line primary"><\/path><path d="M[^"]+" class="line canary"><\/path>/s);
    // One chart per metric, each with its threshold band and the query_range series.
    for (const metric of ['request-success-rate', 'request-duration']) {
      const section = new RegExp(`<section class="metric" data-metric="${metric}">(.*?)</section>`, 's').exec(dom);
      expect(section, metric).not.toBeNull();
      expect(section![1]).toMatch(/<rect class="band" x="\d+" y="[\d.]+" width="\d+" height="[\d.]+"><\/rect>/);
      const series = /<polyline class="line series" points="([^"]+)"><\/polyline>/.exec(section![1]);
      expect(series, `${metric} series`).not.toBeNull();
      expect(series![1].split(' ').length).toBeGreaterThan(10);
      // The values measured at each analysis stage with traffic on the canary (Canary-Metrics:
      // 10..50; at weight 0 Flagger skips the checks) are marked.
      expect([...section![1].matchAll(/<circle [^>]*class="measured"/g)].length).toBe(5);
    }
    expect(dom).toContain('threshold: min 99');
    expect(dom).toContain('threshold: max 500ms');
    // Webhook outcomes: the rollout hook ran with every analysis that had traffic on the canary (10..50).
    const hookRows = [...dom.matchAll(/<tr class="ok"><td>[^<]+<\/td><td>rollout<\/td><td>ok<\/td><td>([^<]*)<\/td><\/tr>/g)];
    expect(hookRows.length).toBe(5);
    expect(hookRows[0][1]).toContain(hookUrl.replace(/\/load$/, ''));

    // The screenshot is not blank and shows the canary and primary lines and the band.
    const png = join(work, 'report.png');
    await run(CHROMIUM, [...chromiumArgs(profile), `--screenshot=${png}`, '--window-size=960,1500', '--hide-scrollbars', `file://${out}`], { timeout: 120_000 });
    const image = decodePng(readFileSync(png));
    expect({ width: image.width, height: image.height }).toEqual({ width: 960, height: 1500 });
    expect(nonBackground(image)).toBeGreaterThan(image.width * image.height * 0.03);
    expect(countColour(image, [0xd4, 0x38, 0x0d])).toBeGreaterThan(300); // canary line
    expect(countColour(image, [0x09, 0x69, 0xda])).toBeGreaterThan(300); // primary line
    expect(countColour(image, [0xd5, 0xed, 0xdb], 10)).toBeGreaterThan(2000); // threshold band (green at 15 % on white)
  }, 300_000);
});
