// The synth command of the crash-test repository: `node synth-client.js <port> [outdir]`. Asks the
// warm compiler (synth-server.js) for the folders of the clone it runs in and swaps them in the way
// writeFolders does (scratch sibling, two renames), so a kill in the middle leaves what a killed
// `canarykit compile` would.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { scratchFolder } = require(path.join(__dirname, '..', '..', 'lib', 'src', 'constructs', 'scratch.js'));

const [port, outdir = 'dist'] = process.argv.slice(2);
const req = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/' }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => {
    if (res.statusCode !== 200) {
      process.stderr.write(`${body}\n`);
      process.exit(2);
    }
    const abs = path.resolve(outdir);
    const staging = scratchFolder(abs, 'staging');
    const old = scratchFolder(abs, 'old');
    fs.rmSync(staging, { recursive: true, force: true });
    for (const folder of JSON.parse(body).folders) {
      const dir = path.join(staging, folder.dir);
      fs.mkdirSync(dir, { recursive: true });
      for (const [name, content] of folder.files) fs.writeFileSync(path.join(dir, name), content);
    }
    fs.mkdirSync(staging, { recursive: true });
    const hadOld = fs.existsSync(abs);
    if (hadOld) fs.renameSync(abs, old);
    fs.renameSync(staging, abs);
    if (hadOld) fs.rmSync(old, { recursive: true, force: true });
  });
});
req.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
req.end(JSON.stringify({ cwd: process.cwd() }));
