// Where the CIFAR-10 binary files are, for every script, bench and test:
// $CIFAR10_DIR (relative to the working directory, as the CLI reads it), else
// data/cifar10 inside the repository (filled by `make data`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_CIFAR10_DIR = path.join(repo, 'data/cifar10');

export function cifar10Dir() {
  const env = process.env.CIFAR10_DIR;
  return env ? path.resolve(env) : DEFAULT_CIFAR10_DIR;
}

/** The line that says how to get the data, for messages when it is missing. */
export const HOW_TO_GET_CIFAR10 = 'run `make data` (or set CIFAR10_DIR to a directory holding the CIFAR-10 binary files)';
