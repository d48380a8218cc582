import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import type { ConfigIssue } from '../../src/config/config-error.js';
import type { LoadConfigResult } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/resolve-config.js';

/** A temporary directory with a model directory `models/pump`, for configuration tests. */
export interface Workspace {
  readonly dir: string;
  /** Writes `text` to `name` (relative to the workspace, parents created); returns the absolute path. */
  write(name: string, text: string): string;
  /** Creates a directory (relative to the workspace); returns the absolute path. */
  mkdir(name: string): string;
  remove(): void;
}

export function createWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'convwatch-config-test-'));
  mkdirSync(join(dir, 'models', 'pump'), { recursive: true });
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    mkdir(name) {
      const path = join(dir, name);
      mkdirSync(path, { recursive: true });
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The smallest valid configuration (the model path is relative to the workspace). */
export function minimal(): Record<string, unknown> {
  return {
    subscriptions: [{ topic: 'sensors/{device}/telemetry', codec: 'json-object' }],
    models: [{ path: 'models/pump' }],
    influx: { org: 'acme', bucket: 'sensors' },
  };
}

/** The configuration of a result that must be valid. */
export function configOf(r: LoadConfigResult): Config {
  if (!r.ok) throw new Error(`expected a valid configuration:\n${r.issues.map((i) => i.message).join('\n')}`);
  return r.config;
}

/** The issues of a result that must be invalid. */
export function issuesOf(r: LoadConfigResult): readonly ConfigIssue[] {
  if (r.ok) throw new Error('expected an invalid configuration, it loaded');
  return r.issues;
}

/**
 * The one issue at `path`, checked to name the option, show the value and say what is expected
 * (the three things every message must carry).
 */
export function issueAt(r: LoadConfigResult, path: string, shownValue: string, expected: string): ConfigIssue {
  const found = issuesOf(r).filter((i) => i.path === path);
  expect(found.map((i) => i.message), `issues at ${path} among ${issuesOf(r).map((i) => i.message).join(' | ')}`).toHaveLength(1);
  const issue = found[0];
  expect(issue.message.startsWith(path)).toBe(true);
  expect(issue.message).toContain(shownValue);
  expect(issue.expected).toContain(expected);
  expect(issue.message).toContain(expected);
  return issue;
}
