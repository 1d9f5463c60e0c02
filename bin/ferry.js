#!/usr/bin/env node
import { main } from '../dist/cli/ferry.js';

await main(process.argv);
