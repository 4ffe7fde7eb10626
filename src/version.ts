import * as fs from 'fs';
import * as path from 'path';

/**
 * The version of the installed package, from its package.json. Found by walking up from this file,
 * because it sits at src/ when run from source and at lib/src/ when installed.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === 'canarykit') return String(pkg.version);
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
