/**
 * Run as a separate process by determinism.test.ts: synthesizes the example app and the
 * locale-sensitive fixture into the two directories given on the command line.
 */
import { buildExampleApp } from '../../../src/main';
import { localeSensitiveApp } from './determinism-apps';

const [exampleOut, fixtureOut] = process.argv.slice(2);
buildExampleApp(exampleOut).synth();
localeSensitiveApp(fixtureOut).synth();
