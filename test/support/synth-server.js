// A warm `canarykit compile` for the crash and race tests (test/crash.test.ts): the built compiler
// (lib/, the same code and bytes as `canarykit compile -f apps -o dist --state state`) kept loaded
// in one process, so a hundred ticks do not each pay for loading cdk8s. It writes nothing: it
// answers with the folders, and synth-client.js (the repository's synth command, running in the
// clone like any synth) writes them. Prints its port on stdout.
const http = require('node:http');
const path = require('node:path');
const { compileFiles } = require(path.join(__dirname, '..', '..', 'lib', 'src', 'compile', 'compile.js'));

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    try {
      const { cwd } = JSON.parse(body);
      // Compiling is synchronous: one request at a time, so chdir is safe. State files are read
      // relative to the working directory, as in the real command.
      process.chdir(cwd);
      const compiled = compileFiles(['apps'], { stateDir: 'state' });
      res.end(JSON.stringify({ folders: compiled.folders.map((f) => ({ dir: f.dir, files: [...f.files] })) }));
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e && e.message ? e.message : e));
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
