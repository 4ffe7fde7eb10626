// Runs the canarykit CLI from source (tests use it as a repository's synth command).
import { main } from '../../src/cli';

main(process.argv).then((code) => {
  process.exitCode = code;
});
