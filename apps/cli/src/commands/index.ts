// The command groups of `lmkit`; each file registers one group on the program.
import type { Command } from 'commander';
import { registerDataCommands } from './data.js';
import { registerDemoCommand } from './demo.js';
import { registerInferCommands } from './infer.js';
import { registerLaunchCommand } from './launch.js';
import { registerQuantizeCommand } from './quantize.js';
import { registerTokenizerCommands } from './tokenizer.js';
import { registerTrainCommands } from './train.js';

/** Registers one command group (e.g. `tokenizer`) on the root program. */
export type RegisterCommands = (program: Command) => void;

/** Every command group, in the order `lmkit --help` lists them. */
export const commandGroups: RegisterCommands[] = [
  registerDemoCommand,
  registerDataCommands,
  registerTokenizerCommands,
  registerTrainCommands,
  registerLaunchCommand,
  registerInferCommands,
  registerQuantizeCommand,
];
