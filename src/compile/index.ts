export { compile, compileFiles, compileObjects } from './compile';
export type { CompileOptions, CompileResult, Compiled } from './compile';
export { loadYamlInputs, parseYaml } from './load-yaml';
export type { InputObject, Origin } from './load-yaml';
export { PASSTHROUGH_FOLDER } from './to-app';
export { SUPPORTED_PROVIDERS } from './support';
