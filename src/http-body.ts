import type { IncomingMessage } from 'http';
import { LIMITS, formatBytes } from './limits';

/**
 * The one way canarykit reads an HTTP response body (Prometheus, webhooks, alert services,
 * GitHub): at most `max` bytes are kept, then the stream is cancelled, so an endless or huge body
 * costs at most `max` of memory. The deadline is the request's AbortSignal, which also aborts a
 * body that trickles in.
 */
export interface CappedBody {
  readonly text: string;
  /** The server sent more than the cap; `text` is its first `max` bytes. */
  readonly truncated: boolean;
  /** Bytes kept. */
  readonly bytes: number;
}

/** Reads a fetch Response's body up to `max` bytes. */
export async function readBody(response: Response, max: number = LIMITS.responseBytes): Promise<CappedBody> {
  if (!response.body) return { text: '', truncated: false, bytes: 0 };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = max - bytes;
      if (value.byteLength > room) {
        chunks.push(value.subarray(0, room));
        bytes += room;
        truncated = true;
        break;
      }
      chunks.push(value);
      bytes += value.byteLength;
    }
  } finally {
    // Stops the download (and frees the connection) when the cap was reached.
    if (truncated) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated, bytes };
}

/** Reads a node:http(s) response up to `max` bytes, destroying it past the cap. */
export function readIncoming(res: IncomingMessage, max: number = LIMITS.responseBytes): Promise<CappedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (truncated: boolean): void => {
      if (settled) return;
      settled = true;
      resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated, bytes });
    };
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = max - bytes;
      if (chunk.byteLength > room) {
        chunks.push(chunk.subarray(0, room));
        bytes += room;
        finish(true);
        res.destroy();
        return;
      }
      chunks.push(chunk);
      bytes += chunk.byteLength;
    });
    res.on('end', () => finish(false));
    res.on('error', (e) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
  });
}

/** " (response cut at 1 MiB)" when a body was truncated, for messages. */
export function truncationNote(body: CappedBody, max: number = LIMITS.responseBytes): string {
  return body.truncated ? ` (response larger than ${formatBytes(max)}, read no further)` : '';
}
