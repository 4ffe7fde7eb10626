import { Duration } from 'cdk8s';

/** Renders a Duration the way Istio and Gateway API expect (`30s`, `500ms`). */
export function formatDuration(d: Duration | undefined): string | undefined {
  if (d === undefined) return undefined;
  const ms = d.toMilliseconds();
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
