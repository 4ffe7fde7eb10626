import { parseGoFloat } from './go-float';

// InfluxDB's annotated CSV (https://docs.influxdata.com/influxdb/v2/reference/syntax/annotated-csv/)
// as influxdb-client-go v2.14.0 reads it: encoding/csv with FieldsPerRecord = -1 (api/query.go
// NewQueryTableResult) and QueryTableResult.Next's table parser. Pure.

/** A CSV line encoding/csv refuses, with its 1-based line number. */
export class CsvSyntaxError extends Error {}

/**
 * encoding/csv's Reader (comma `,`, no comment character, LazyQuotes and TrimLeadingSpace off):
 * records end at `\n` (a `\r` before it is dropped), empty lines are skipped, a field that starts
 * with `"` is quoted (`""` is a quote; it may span lines, whose `\r\n` become `\n`), and a quote
 * anywhere else is an error. When `complete` is false (the body was cut by the size cap) a last
 * record without its line end is not yielded.
 * @throws CsvSyntaxError as Reader.Read returns ErrBareQuote / ErrQuote.
 */
export function* csvRecords(text: string, complete = true): Generator<string[]> {
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    // Skip empty lines (encoding/csv: "empty lines are ignored").
    if (text[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    const fields: string[] = [];
    const startLine = line;
    let ended = false;
    for (;;) {
      if (text[i] === '"') {
        // Quoted field.
        let value = '';
        i++;
        for (;;) {
          if (i >= n) {
            if (!complete) return;
            throw new CsvSyntaxError(`line ${startLine}: extraneous or missing " in quoted-field`);
          }
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\r' && text[i + 1] === '\n') {
            value += '\n';
            i += 2;
            line++;
            continue;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        fields.push(value);
        if (i >= n) {
          if (!complete) return;
          ended = true;
          break;
        }
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
          i += text[i] === '\r' ? 2 : 1;
          line++;
          ended = true;
          break;
        }
        if (text[i] === '\r' && i + 1 >= n) {
          if (!complete) return;
          i++;
          ended = true;
          break;
        }
        throw new CsvSyntaxError(`line ${line}: extraneous or missing " in quoted-field`);
      }
      // Unquoted field: up to the next comma or line end.
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\n') j++;
      let value = text.slice(i, j);
      const atLineEnd = j >= n || text[j] === '\n';
      if (atLineEnd && value.endsWith('\r')) value = value.slice(0, -1);
      if (value.includes('"')) throw new CsvSyntaxError(`line ${line}: bare " in non-quoted-field`);
      fields.push(value);
      if (j >= n) {
        if (!complete) return;
        i = j;
        ended = true;
        break;
      }
      i = j + 1;
      if (text[j] === '\n') {
        line++;
        ended = true;
        break;
      }
    }
    if (ended) yield fields;
  }
}

/** One column of a table: name and the three annotations. */
export interface FluxColumn {
  name: string;
  dataType: string;
  group: boolean;
  defaultValue: string;
}

/** The first record of a Flux answer, as QueryTableResult's first Next() finds it. */
export type FirstRecord =
  | { kind: 'record'; table: number; columns: FluxColumn[]; values: Map<string, FluxValue> }
  /** Next() returned false without an error: no table, or no row. */
  | { kind: 'end' }
  /** An error table (`,error,reference`): the query failed while it ran. */
  | { kind: 'query-error'; message: string }
  /** Next() failed to parse the answer. */
  | { kind: 'parse-error'; message: string };

/** A cell converted as api/query.go toValue does; null for an empty cell without a default. */
export type FluxValue =
  | null
  | { type: 'double'; value: number }
  | { type: 'long' | 'unsignedLong'; value: bigint }
  | { type: 'string' | 'dateTime:RFC3339' | 'dateTime:RFC3339Nano' | 'duration' | 'base64Binary'; value: string }
  | { type: 'boolean'; value: boolean };

/**
 * QueryTableResult.Next (influxdb-client-go api/query.go), once: annotation rows (`#datatype`,
 * `#group`, `#default`) start a table, the row after them names its columns (`error` in the first
 * name makes it an error table), and the first data row after that is the record; rows of one or
 * no field are skipped. Every cell of that row is converted by its column's datatype, as Next does.
 * `complete`: false when the body was cut by the size cap.
 */
export function firstRecord(text: string, complete = true): FirstRecord {
  let table: { position: number; columns: FluxColumn[] } | undefined;
  let position = 0;
  type State = 'normal' | 'annotation' | 'error';
  let state: State = 'normal';
  let datatypeFound = false;
  try {
    for (const row of csvRecords(text, complete)) {
      if (row.length <= 1) continue;
      if (row[0].startsWith('#') && state === 'normal') {
        table = { position: position++, columns: row.slice(1).map(() => ({ name: '', dataType: '', group: false, defaultValue: '' })) };
        state = 'annotation';
      }
      if (table === undefined) return { kind: 'parse-error', message: 'parsing error, annotations not found' };
      const cells = row.slice(1);
      if (cells.length !== table.columns.length) {
        return { kind: 'parse-error', message: `parsing error, row has different number of columns than the table: ${cells.length} vs ${table.columns.length}` };
      }
      switch (row[0]) {
        case '#datatype':
          datatypeFound = true;
          cells.forEach((d, i) => (table!.columns[i].dataType = d));
          continue;
        case '#group':
          cells.forEach((g, i) => (table!.columns[i].group = g === 'true'));
          continue;
        case '#default':
          cells.forEach((d, i) => (table!.columns[i].defaultValue = d));
          continue;
        case '':
          break;
        default:
          // Next() would return true without a record here (Flagger then dereferences nil).
          return { kind: 'parse-error', message: `unexpected row starting with ${JSON.stringify(row[0])}` };
      }
      if (state === 'annotation') {
        if (!datatypeFound) return { kind: 'parse-error', message: 'parsing error, datatype annotation not found' };
        if (cells[0] === 'error') state = 'error';
        else {
          cells.forEach((name, i) => (table!.columns[i].name = name));
          state = 'normal';
        }
        continue;
      }
      if (state === 'error') {
        const message = cells[0] ? cells[0] : 'unknown query error';
        return { kind: 'query-error', message: cells.length > 1 && cells[1] ? `${message},${cells[1]}` : message };
      }
      const values = new Map<string, FluxValue>();
      for (const [i, column] of table.columns.entries()) {
        const converted = toValue(cells[i] === '' ? column.defaultValue : cells[i], column);
        if (typeof converted === 'string') return { kind: 'parse-error', message: converted };
        values.set(column.name, converted);
      }
      return { kind: 'record', table: table.position, columns: table.columns, values };
    }
  } catch (e) {
    if (e instanceof CsvSyntaxError) return { kind: 'parse-error', message: `parse error on ${e.message}` };
    throw e;
  }
  if (!complete) return { kind: 'parse-error', message: 'the answer was cut before its first record' };
  return { kind: 'end' };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DURATION = /^[+-]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

/** api/query.go toValue: the cell as its datatype, null when empty, or the error text. */
function toValue(s: string, column: FluxColumn): FluxValue | string {
  if (s === '') return null;
  const bad = `${column.name}: cannot parse ${JSON.stringify(s)} as ${column.dataType}`;
  switch (column.dataType) {
    case 'string':
      return { type: 'string', value: s };
    case 'dateTime:RFC3339':
    case 'dateTime:RFC3339Nano':
      return RFC3339.test(s) ? { type: column.dataType, value: s } : bad;
    case 'duration':
      return DURATION.test(s) ? { type: 'duration', value: s } : bad;
    case 'double': {
      const value = parseGoFloat(s);
      return value === undefined ? bad : { type: 'double', value };
    }
    case 'boolean':
      return { type: 'boolean', value: s.toLowerCase() !== 'false' };
    case 'long': {
      if (!/^[+-]?\d+$/.test(s)) return bad;
      const value = BigInt(s);
      return value < INT64[0] || value > INT64[1] ? bad : { type: 'long', value };
    }
    case 'unsignedLong': {
      if (!/^\d+$/.test(s)) return bad;
      const value = BigInt(s);
      return value > 2n ** 64n - 1n ? bad : { type: 'unsignedLong', value };
    }
    case 'base64Binary':
      return BASE64.test(s) ? { type: 'base64Binary', value: s } : bad;
    default:
      return `${column.name} has unknown data type ${column.dataType}`;
  }
}
