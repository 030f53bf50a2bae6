// lmkit CLI as a library: build the program tree or run it with an argv.
export { buildProgram, main } from './main.js';
export { EXIT, UsageError } from './io.js';
