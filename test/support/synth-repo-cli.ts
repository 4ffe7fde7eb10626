// The test repository's synth command for CLI tests: `tsx synth-repo-cli.ts <prometheus url>`,
// run by the real `canarykit step` in the repository root.
import { synthRepo } from './driver-fixture';

synthRepo(process.cwd(), process.argv[2]);
