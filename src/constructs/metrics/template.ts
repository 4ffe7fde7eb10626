import { TemplateRenderError } from '../../errors';
import { PromqlLexer, interpolate } from './promql-escape';

/**
 * The values a Flagger MetricTemplate query can refer to. Flagger exposes them as template
 * *functions* (no leading dot): `{{ name }}`, `{{ variables.key }}` and so on.
 */
export interface TemplateVars {
  /** Canary name. */
  name: string;
  namespace: string;
  /** targetRef.name. */
  target: string;
  /** service.name, or targetRef.name when unset. */
  service: string;
  /** ingressRef.name, or targetRef.name when unset. */
  ingress: string;
  /** routeRef.name, or targetRef.name when unset. */
  route: string;
  /** The metric's interval, e.g. `1m`. */
  interval: string;
  /** The Canary metric's `templateVariables`. */
  variables: Record<string, string>;
}

const FUNCTIONS = ['name', 'namespace', 'target', 'service', 'ingress', 'route', 'interval'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

// Go template keywords and constants: valid Go, but control flow and literals are outside the subset.
const GO_KEYWORDS = new Set([
  'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue',
  'nil', 'true', 'false',
]);

const SPACE = /[ \t\r\n]/;
const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const SIMPLE_ACTION = new RegExp(`^(${IDENT})(?:\\.(${IDENT}))?$`);

/**
 * Renders a MetricTemplate query the way Flagger's Go text/template does, for the subset Flagger
 * queries use: the function calls of {@link TemplateVars}, `{{ variables.KEY }}`, trim markers
 * (`{{-` / `-}}`) and comments. Anything else inside `{{ }}` is rejected rather than guessed.
 *
 * @param templateName shown in error messages (e.g. `metrictemplate test/latency`); defaults to the
 *   start of the query.
 * @throws TemplateRenderError on an unknown function, a missing variable (Flagger's
 *   `missingkey=error`), an unclosed action or an unsupported expression.
 */
export function renderQuery(template: string, vars: TemplateVars, templateName?: string): string {
  const where = templateName ?? `"${excerpt(template)}"`;
  let out = '';
  let pos = 0;
  let trimLeadingText = false;
  // Where in the PromQL each value lands decides how it is escaped or refused (promql-escape.ts).
  const lexer = new PromqlLexer();
  for (;;) {
    const open = template.indexOf('{{', pos);
    let text = open === -1 ? template.slice(pos) : template.slice(pos, open);
    if (trimLeadingText) text = text.replace(/^[ \t\r\n]+/, '');
    if (open === -1) return out + text;
    const action = readAction(template, open, where);
    if (action.trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    lexer.feed(text);
    let value = '';
    if (!action.comment) {
      const raw = evaluate(action.body, action.source, vars, where);
      value = interpolate(raw, lexer.context, action.source, where, action.body.trim());
      lexer.feed(value);
    }
    out += text + value;
    trimLeadingText = action.trimRight;
    pos = action.end;
  }
}

interface Action {
  body: string;
  /** The whole action as written, for error messages. */
  source: string;
  comment: boolean;
  trimLeft: boolean;
  trimRight: boolean;
  /** Index just past the closing `}}`. */
  end: number;
}

function readAction(template: string, open: number, where: string): Action {
  let i = open + 2;
  // Go only treats "-" as a trim marker when whitespace follows it; "{{-3}}" is the number -3.
  const trimLeft = template[i] === '-' && SPACE.test(template[i + 1] ?? '');
  if (trimLeft) i += 2;
  if (template.startsWith('/*', i)) {
    const commentEnd = template.indexOf('*/', i + 2);
    const rest = commentEnd === -1 ? null : /^( -)?\}\}/.exec(template.slice(commentEnd + 2));
    if (commentEnd === -1 || rest === null) {
      throw new TemplateRenderError(
        `template ${where}: unclosed comment at offset ${open} (a comment must end with "*/}}")`,
        template.slice(open, open + 40),
      );
    }
    const end = commentEnd + 2 + rest[0].length;
    return { body: '', source: template.slice(open, end), comment: true, trimLeft, trimRight: rest[1] !== undefined, end };
  }
  const close = template.indexOf('}}', i);
  if (close === -1) {
    throw new TemplateRenderError(
      `template ${where}: unclosed action "${excerpt(template.slice(open))}" (missing "}}")`,
      template.slice(open),
    );
  }
  let body = template.slice(i, close);
  const trimRight = body.length >= 2 && body.endsWith('-') && SPACE.test(body[body.length - 2]);
  if (trimRight) body = body.slice(0, -1);
  return { body, source: template.slice(open, close + 2), comment: false, trimLeft, trimRight, end: close + 2 };
}

function evaluate(body: string, source: string, vars: TemplateVars, where: string): string {
  const expression = body.trim();
  const match = SIMPLE_ACTION.exec(expression);
  if (match === null || GO_KEYWORDS.has(match[1])) throw unsupported(expression, source, where);
  const [, fn, key] = match;
  if (fn === 'variables') {
    if (key === undefined) throw unsupported(expression, source, where);
    if (!Object.prototype.hasOwnProperty.call(vars.variables, key)) {
      throw new TemplateRenderError(
        `template ${where}: variable "${key}" is not defined in ${source} ` +
          `(set it in the metric's templateVariables)`,
        source,
        `variables.${key}`,
      );
    }
    return vars.variables[key];
  }
  if (!(FUNCTIONS as readonly string[]).includes(fn)) {
    throw new TemplateRenderError(
      `template ${where}: function "${fn}" not defined in ${source} ` +
        `(available: ${FUNCTIONS.join(', ')}, variables.<key>)`,
      source,
      fn,
    );
  }
  if (key !== undefined) throw unsupported(expression, source, where);
  return vars[fn as FunctionName];
}

function unsupported(expression: string, source: string, where: string): TemplateRenderError {
  // A leading dot is the most common slip: Flagger's values are functions, not fields of a data object.
  const hint = /^\.[A-Za-z_]/.test(expression)
    ? ` (write {{ ${expression.slice(1)} }}: Flagger template values are functions, without a leading dot)`
    : ' (only {{ name }}, {{ namespace }}, {{ target }}, {{ service }}, {{ ingress }}, {{ route }}, ' +
      '{{ interval }} and {{ variables.KEY }} are supported)';
  return new TemplateRenderError(`template ${where}: unsupported template expression ${source}${hint}`, source);
}

function excerpt(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  return collapsed.length > 60 ? `${collapsed.slice(0, 57)}...` : collapsed;
}
