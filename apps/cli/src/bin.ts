#!/usr/bin/env node
// Entry point of the `lmkit` binary.
import { main } from './main.js';

await main(process.argv);
