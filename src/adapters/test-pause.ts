import * as fs from 'fs';

/**
 * Test-only: `CANARYKIT_TEST_PAUSE_AT=<point>` makes a tick stop at that point, announce it by
 * creating the file `CANARYKIT_TEST_PAUSE_FILE`, and wait there forever, so the crash tests
 * (test/crash.test.ts) can kill -9 a real `canarykit step` at an exact point between two writes.
 * Unset (always, outside those tests) it does nothing.
 */
export type PausePoint = 'synced' | 'state-written' | 'synthesized' | 'committed' | 'pushed';

export async function pauseForTest(point: PausePoint): Promise<void> {
  if (process.env.CANARYKIT_TEST_PAUSE_AT !== point) return;
  const file = process.env.CANARYKIT_TEST_PAUSE_FILE;
  if (file) fs.writeFileSync(file, point);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}
