/**
 * The `date-time` format of the state file's schema (RFC 3339 with a parseable date), in the shape
 * ajv's standalone validators call (`formats["date-time"].validate(s)`).
 */
export const DATE_TIME_FORMATS = {
  'date-time': {
    validate: (s: string): boolean => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !isNaN(Date.parse(s)),
  },
};
