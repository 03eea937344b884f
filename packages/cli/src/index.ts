export { runCli, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './program.js';
export { importAdapter, registerAdapters } from './adapters.js';
export type { CliIO } from './output/io.js';
