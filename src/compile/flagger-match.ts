import { HttpMatch, StringMatch } from '../constructs/match';
import { FlaggerMatch, FlaggerStringMatch } from './flagger-types';

// Flagger's match objects as the construct takes them (analysis.match and provider matches).

/** The object without its undefined fields (routers check which fields are set). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function toStringMatch(sm: FlaggerStringMatch | undefined): StringMatch | undefined {
  return sm && compact({ exact: sm.exact, prefix: sm.prefix, regex: sm.regex });
}

function toMap(map: Record<string, FlaggerStringMatch> | undefined): Record<string, StringMatch> | undefined {
  return map && Object.fromEntries(Object.entries(map).map(([k, v]) => [k, toStringMatch(v)!]));
}

/** Flagger's Istio-shaped match, field for field (fields canarykit lacks were rejected before). */
export function toMatch(m: FlaggerMatch): HttpMatch {
  return compact({
    uri: toStringMatch(m.uri),
    method: toStringMatch(m.method),
    scheme: toStringMatch(m.scheme),
    authority: toStringMatch(m.authority),
    headers: toMap(m.headers),
    queryParams: toMap(m.queryParams),
    sourceLabels: m.sourceLabels,
    port: m.port,
    // Go `omitempty` in Flagger's HTTPMatchRequest: false, "" and [] are not written.
    name: m.name || undefined,
    ignoreUriCase: m.ignoreUriCase || undefined,
    withoutHeaders: toMap(m.withoutHeaders),
    sourceNamespace: m.sourceNamespace || undefined,
    gateways: m.gateways?.length ? m.gateways : undefined,
  });
}
