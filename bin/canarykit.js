#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in lib/ (built by `npm run build`, run by `npm ci` via prepare).
require('../lib/src/cli.js').main(process.argv).then((code) => { process.exitCode = code; });
