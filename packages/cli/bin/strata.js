#!/usr/bin/env node
// The `strata` command runs the compiled CLI: no transpiler on the production path.
import { main } from '../dist/main.js'

process.exitCode = await main(process.argv)
