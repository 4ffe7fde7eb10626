import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/** One recorded POST. */
export interface RecordedCall {
  path: string;
  body: any;
}

/**
 * A local HTTP server on 127.0.0.1 standing in for loadtester webhooks and a Slack incoming
 * webhook: records every call in arrival order and answers each path with the status `answer`
 * gives (default 200), so tests can open and close gates between ticks.
 */
export class Recorder {
  readonly calls: RecordedCall[] = [];
  /** Status per path; absent paths answer 200. */
  readonly status = new Map<string, number>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '/').slice(1);
        const raw = Buffer.concat(chunks).toString('utf8');
        this.calls.push({ path, body: raw ? JSON.parse(raw) : undefined });
        const status = this.status.get(path) ?? 200;
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status <= 202 ? 'ok' : 'closed');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Calls to one path, in order. */
  to(path: string): RecordedCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  /** `[phase, eventMessage]` of every event-webhook call, Flagger's TestWebhooks shape. */
  events(path = 'event'): [string, string][] {
    return this.to(path).map((c) => [c.body.phase, c.body.metadata?.eventMessage]);
  }

  /** Texts of the Slack alerts received. */
  alerts(path = 'slack'): string[] {
    return this.to(path).map((c) => c.body.attachments[0].text);
  }

  clear(): void {
    this.calls.length = 0;
  }
}
