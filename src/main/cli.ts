#!/usr/bin/env node
import { runCli } from '../cli/run.js';
import { createCliHost } from './cli-host.js';

// The entry point is the config boundary: only here does the CLI see process.env.
process.exitCode = await runCli(
  process.argv.slice(2),
  {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  },
  createCliHost(),
);
