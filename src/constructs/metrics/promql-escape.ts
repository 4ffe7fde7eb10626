import { TemplateRenderError } from '../../errors';

/**
 * Keeps interpolated values (template variables, names, namespaces, the interval) from changing
 * the structure of a PromQL query.
 *
 * Flagger (pkg/metrics/providers/prometheus.go via pkg/controller/scheduler_metrics.go, rendered
 * by text/template in pkg/metrics/observers/render.go) substitutes values raw, so
 * `variables.app: 'x"}[1m])) or vector(100) #'` turns a check into `... or vector(100)`. canarykit
 * renders the same text for every value that Flagger renders into a well-formed query, and refuses
 * or escapes the rest, depending on where the value lands:
 *
 * - inside a "..." or '...' string literal (label matchers, regex matchers, label_replace
 *   arguments): the value stays inside the literal. Valid escape sequences are kept as written
 *   (so regex values such as `a|b` or `x\\.y` mean what they mean in Flagger); a quote of the
 *   literal's kind, a newline or a backslash that starts no valid escape is escaped. Regex
 *   metacharacters are kept: a value in a regex matcher is a regex, as in Flagger.
 * - inside a `...` raw string: a value with a backtick is refused (raw strings have no escapes).
 * - anywhere else (a range `[{{ interval }}]`, a threshold, `by ({{ variables.labels }})`): the
 *   value must be a single token — a number, a duration, a metric or label name, a
 *   comma-separated list of label names, or a Kubernetes name — and is refused otherwise.
 */

export type PromqlContext = 'code' | 'double' | 'single' | 'raw' | 'comment';

/** Tracks the lexical context at the end of the PromQL text fed so far. */
export class PromqlLexer {
  private ctx: PromqlContext = 'code';
  private escaped = false;

  get context(): PromqlContext {
    return this.ctx;
  }

  feed(text: string): void {
    for (const ch of text) {
      switch (this.ctx) {
        case 'code':
          if (ch === '"') this.ctx = 'double';
          else if (ch === "'") this.ctx = 'single';
          else if (ch === '`') this.ctx = 'raw';
          else if (ch === '#') this.ctx = 'comment';
          break;
        case 'comment':
          if (ch === '\n') this.ctx = 'code';
          break;
        case 'raw':
          if (ch === '`') this.ctx = 'code';
          break;
        case 'double':
        case 'single':
          if (this.escaped) this.escaped = false;
          else if (ch === '\\') this.escaped = true;
          else if (ch === (this.ctx === 'double' ? '"' : "'")) this.ctx = 'code';
          break;
      }
    }
  }
}

// Go's escape sequences (PromQL strings are Go strings): single-character, octal, hex and unicode.
const VALID_ESCAPE = /^\\(?:[abfnrtv\\'"]|[0-7]{3}|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})/;

/** `value` as content of a string literal quoted with `quote`: valid escapes kept, everything structural escaped. */
export function escapeForString(value: string, quote: '"' | "'"): string {
  let out = '';
  for (let i = 0; i < value.length; ) {
    const ch = value[i];
    if (ch === '\\') {
      const m = VALID_ESCAPE.exec(value.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
      out += '\\\\';
    } else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else out += ch;
    i++;
  }
  return out;
}

// A number, a duration (1m, 1h30m, 500ms), label/metric names separated by commas, or a Kubernetes
// name (`podinfo-app`: only identifiers, digits, "-" and ".", so no call, no `or`, no comment).
const TOKEN = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|(?:\d+(?:ms|[smhdwy]))+|[A-Za-z_:][A-Za-z0-9_:]*(?:,[ ]?[A-Za-z_:][A-Za-z0-9_:]*)*|[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/**
 * The text to splice into the query for `value` at `context`, or a TemplateRenderError naming the
 * action when the value could change the query's structure there.
 */
export function interpolate(value: string, context: PromqlContext, source: string, where: string, variable?: string): string {
  switch (context) {
    case 'double':
      return escapeForString(value, '"');
    case 'single':
      return escapeForString(value, "'");
    case 'comment':
      // A newline would end the comment and turn the rest of the value into query text.
      return value.replace(/[\r\n]+/g, ' ');
    case 'raw':
      if (value.includes('`')) throw refused(value, source, where, variable, 'contains a backtick, which would end the `...` string');
      return value;
    case 'code':
      if (!TOKEN.test(value)) {
        throw refused(value, source, where, variable, 'lands outside a string literal, where only a number, a duration, a label or metric name, a comma-separated list of label names or a Kubernetes name is accepted; put the action inside "..." or change the value');
      }
      return value;
  }
}

function refused(value: string, source: string, where: string, variable: string | undefined, why: string): TemplateRenderError {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return new TemplateRenderError(`template ${where}: the value ${JSON.stringify(shown)} of ${source} ${why} (a value may not change the query's structure)`, source, variable);
}
