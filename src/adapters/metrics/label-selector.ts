/**
 * Kubernetes label selectors as k8s.io/apimachinery v0.36.2 pkg/labels/selector.go parses them
 * (labels.Parse) and prints them again (Selector.String): requirements sorted by key, set values
 * de-duplicated and sorted. The printed form is what client-go sends as `labelSelector`.
 */

type Token = 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'in' | '<' | '!=' | 'notin' | '(' | 'id';
const LITERALS = new Set([')', ',', '!', '==', '=', '>', 'in', '<', '!=', 'notin', '(']);
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | '>' | '<';

interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

function lex(s: string): [Token, string][] {
  const items: [Token, string][] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && WHITESPACE.has(s[pos])) pos++;
    if (pos >= s.length) {
      items.push(['end', '']);
      return items;
    }
    if (SPECIAL.has(s[pos])) {
      // The longest run of special characters that is a literal (`!=`, `==`, `=`…).
      let buffer = '';
      let last: [Token, string] | undefined;
      while (pos < s.length && SPECIAL.has(s[pos])) {
        buffer += s[pos];
        if (LITERALS.has(buffer)) {
          last = [buffer as Token, buffer];
          pos++;
        } else if (last) break;
        else pos++;
      }
      items.push(last ?? ['error', `error expected: keyword found '${buffer}'`]);
      continue;
    }
    let id = '';
    while (pos < s.length && !SPECIAL.has(s[pos]) && !WHITESPACE.has(s[pos])) id += s[pos++];
    items.push([LITERALS.has(id) ? (id as Token) : 'id', id]);
  }
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validation.IsQualifiedName: `[prefix/]name`; the reason it is not, or undefined. */
function keyProblem(key: string): string | undefined {
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix === '') return 'prefix part must be non-empty';
    if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return 'prefix part must be a lowercase RFC 1123 subdomain';
  } else if (parts.length > 2) {
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'";
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

function valueProblem(v: string): string | undefined {
  if (v.length > 63) return 'must be no more than 63 characters';
  if (v !== '' && !NAME.test(v)) return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/**
 * labels.Parse(selector).String(). @throws Error with the parser's reason for a selector
 * Kubernetes refuses (an invalid key or value, a missing operator or value…).
 */
export function canonicalLabelSelector(selector: string): string {
  const items = lex(selector);
  let i = 0;
  // In value position `in` and `notin` are plain identifiers.
  const look = (values: boolean): [Token, string] => {
    const [t, l] = items[i];
    return values && (t === 'in' || t === 'notin') ? ['id', l] : [t, l];
  };
  const take = (values: boolean): [Token, string] => {
    const r = look(values);
    i++;
    return r;
  };

  const requirement = (): Requirement => {
    let [t, key] = take(true);
    let op: Operator | undefined;
    if (t === '!') {
      op = '!';
      [t, key] = take(true);
    }
    if (t !== 'id') throw new Error(`found '${key}', expected: identifier`);
    const bad = keyProblem(key);
    if (bad) throw new Error(`key: Invalid value: "${key}": ${bad}`);
    const [next] = look(true);
    // `!key` takes no operator: whatever follows is the caller's to refuse.
    if (op === '!' || next === 'end' || next === ',') return { key, op: op ?? 'exists', values: [] };
    const [ot, ol] = take(false);
    if (!['in', 'notin', '=', '==', '>', '<', '!='].includes(ot)) throw new Error(`found '${ol}', expected: in, notin, =, ==, !=, gt, lt`);
    const operator = ot as Operator;
    let values: string[];
    if (operator === 'in' || operator === 'notin') values = setValues();
    else {
      const [vt, vl] = look(true);
      if (vt === 'end' || vt === ',') values = [''];
      else {
        take(true);
        if (vt !== 'id') throw new Error(`found '${vl}', expected: identifier`);
        values = [vl];
      }
      if ((operator === '>' || operator === '<') && !/^[+-]?\d+$/.test(values[0])) {
        throw new Error(`values[0]: Invalid value: "${values[0]}": for 'Gt', 'Lt' operators, the value must be an integer`);
      }
    }
    for (const v of values) {
      const p = valueProblem(v);
      if (p) throw new Error(`values[${values.indexOf(v)}][${key}]: Invalid value: "${v}": ${p}`);
    }
    return { key, op: operator, values };
  };

  const setValues = (): string[] => {
    const [t, l] = take(true);
    if (t !== '(') throw new Error(`found '${l}' expected: '('`);
    const [first, fl] = look(true);
    if (first === ')') {
      take(true);
      return [''];
    }
    if (first !== 'id' && first !== ',') throw new Error(`found '${fl}', expected: ',', ')' or identifier`);
    const set = new Set<string>();
    for (;;) {
      const [vt, vl] = take(true);
      if (vt === 'id') {
        set.add(vl);
        const [after, al] = look(true);
        if (after === ',') continue;
        if (after === ')') break;
        throw new Error(`found '${al}', expected: ',' or ')'`);
      } else if (vt === ',') {
        if (set.size === 0) set.add('');
        const [after] = look(true);
        if (after === ')') {
          set.add('');
          break;
        }
        if (after === ',') set.add('');
      } else throw new Error(`found '${vl}', expected: ',', or identifier`);
    }
    take(true); // ')'
    return [...set].sort();
  };

  const reqs: Requirement[] = [];
  for (;;) {
    const [t, l] = look(true);
    if (t === 'end') break;
    if (t !== 'id' && t !== '!') throw new Error(`found '${l}', expected: !, identifier, or 'end of string'`);
    try {
      reqs.push(requirement());
    } catch (e) {
      throw new Error(`unable to parse requirement: ${(e as Error).message}`);
    }
    const [after, al] = take(true);
    if (after === 'end') break;
    if (after !== ',') throw new Error(`found '${al}', expected: ',' or 'end of string'`);
    const [n, nl] = look(true);
    if (n !== 'id' && n !== '!') throw new Error(`found '${nl}', expected: identifier after ','`);
  }
  // sort.Sort(ByKey): Go's insertion sort for short lists keeps equal keys in order, as a stable sort does.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map(print).join(',');
}

function print(r: Requirement): string {
  switch (r.op) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.op} (${r.values.join(',')})`;
    default:
      return `${r.key}${r.op}${r.values[0]}`;
  }
}
