import { describe, expect, it } from 'vitest';
import { assignPaths, cleanMessage, parseStatusZ } from '../src/adapters/git/batch-commit';

/* The pure parts of GitWorkspace.commitAll (src/adapters/git/batch-commit.ts); the commits themselves are tested on real repositories in test/git.test.ts. */

describe('assignPaths: which commit of a tick records each changed file', () => {
  it('gives each file to the first request whose paths hold it, the rest to later ones (the sync commit)', () => {
    const changed = ['state/a/x.json', 'dist/a/x/vs.yaml', 'dist/b/y/vs.yaml', 'dist/.canarykit-output', 'README.md', 'dist/a/xy/vs.yaml'];
    expect(assignPaths(changed, [
      { paths: ['state/a/x.json', 'dist/a/x'] },
      { paths: ['./dist/b/y/'] },
      { paths: ['dist'] },
    ])).toEqual([
      ['state/a/x.json', 'dist/a/x/vs.yaml'],
      ['dist/b/y/vs.yaml'],
      // dist/a/xy is not under dist/a/x; README.md is under no request.
      ['dist/.canarykit-output', 'dist/a/xy/vs.yaml'],
    ]);
  });

  it('an earlier request wins even when a later one names a deeper folder; "." is the whole repository', () => {
    expect(assignPaths(['dist/a/f.yaml', 'other.txt'], [{ paths: ['dist'] }, { paths: ['dist/a'] }, { paths: ['.'] }])).toEqual([['dist/a/f.yaml'], [], ['other.txt']]);
  });
});

describe('parseStatusZ and cleanMessage', () => {
  it('reads ordinary, unmerged and untracked entries, paths with spaces, and skips headers', () => {
    const out = ['# branch.oid abc', '1 .M N... 100644 100644 100644 1111 2222 dist/a b/x.yaml', '? state/new file.json', 'u UU N... 100644 100644 100644 100644 1 2 3 dist/c.yaml', ''].join('\0');
    expect(parseStatusZ(out)).toEqual(['dist/a b/x.yaml', 'state/new file.json', 'dist/c.yaml']);
  });

  it('cleans a message as git commit -m does (whitespace mode)', () => {
    expect(cleanMessage('\n\nsubject  \n\n\n\nbody\t\n# kept\n\n')).toBe('subject\n\nbody\n# kept\n');
  });
});
