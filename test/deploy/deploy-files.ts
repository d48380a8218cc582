/**
 * Reading the files under deploy/ for the deployment tests: YAML (multi-document, compose merge
 * keys), JSON, systemd unit files (INI with repeated keys), Dockerfiles (stages and
 * instructions), env files, and the mapping of container paths onto this checkout so that the
 * project's real config loader can check the configurations shipped for containers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const REPO = resolve(import.meta.dirname, '../..');
/** deploy/ in the repository. */
export const DEPLOY = resolve(REPO, 'deploy');

/** Every file under `dir` (recursively, dot files included), as paths relative to the repository root. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(relative(REPO, p));
  }
  return out.sort();
}

/** A file of the repository as text. */
export function readText(path: string): string {
  return readFileSync(resolve(REPO, path), 'utf8');
}

/**
 * All documents of a YAML file, as plain values. Merge keys (`<<: *anchor`) are resolved, as
 * Docker Compose does. Throws with the file name and every parse error.
 */
export function readYamlDocuments(path: string): unknown[] {
  const docs = parseAllDocuments(readText(path), { merge: true, uniqueKeys: true, prettyErrors: true });
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length > 0) throw new Error(`${path}: ${errors.join('; ')}`);
  return docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((d) => d !== null && d !== undefined);
}

/** The single document of a YAML file, as a record. */
export function readYaml(path: string): Record<string, unknown> {
  const docs = readYamlDocuments(path);
  if (docs.length !== 1) throw new Error(`${path}: expected one YAML document, found ${docs.length}`);
  return asRecord(docs[0], path);
}

/** `value` as a record, or a thrown error naming `what`. */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** `value` as an array (missing → empty). */
export function asArray(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

/** The value at a dotted path of nested records (`spec.template.spec`), or undefined. */
export function at(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** One `key=value` line of a systemd unit, in order. */
export interface UnitEntry {
  readonly section: string;
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/**
 * Parses a systemd unit file: `[Section]` headers, `Key=Value` lines (repeatable: the result
 * keeps every occurrence in order), `#`/`;` comments, trailing-backslash continuations.
 * Throws on a line that is none of these, or a key outside any section.
 */
export function parseUnitFile(text: string, source: string): UnitEntry[] {
  const entries: UnitEntry[] = [];
  let section: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] ?? '').trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1).trimEnd()} ${(lines[++i] ?? '').trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header !== null) {
      section = header[1] ?? null;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (kv === null) throw new Error(`${source}:${lineNo}: not a section header, comment or Key=Value line: ${line}`);
    if (section === null) throw new Error(`${source}:${lineNo}: ${kv[1]} is outside any section`);
    entries.push({ section, key: kv[1] ?? '', value: (kv[2] ?? '').trim(), line: lineNo });
  }
  return entries;
}

/** Every value of `key` in `section`, in order. */
export function unitValues(entries: readonly UnitEntry[], section: string, key: string): string[] {
  return entries.filter((e) => e.section === section && e.key === key).map((e) => e.value);
}

/** One instruction of a Dockerfile: keyword (upper case) and its arguments (continuations joined). */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** A build stage: its FROM arguments, name (`AS name`) and instructions. */
export interface DockerStage {
  readonly from: string;
  readonly name: string | null;
  readonly instructions: readonly DockerInstruction[];
}

/**
 * Splits a Dockerfile into global instructions (before the first FROM) and stages. Comments
 * and parser directives are dropped; backslash continuations are joined.
 */
export function parseDockerfile(text: string): { globals: DockerInstruction[]; stages: DockerStage[] } {
  const instructions: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = (lines[++i] ?? '').trim();
      if (next.startsWith('#')) continue;
      line = `${line.slice(0, -1).trimEnd()} ${next}`;
    }
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`Dockerfile:${lineNo}: cannot read instruction: ${line}`);
    instructions.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: lineNo });
  }
  const globals: DockerInstruction[] = [];
  const stages: { from: string; name: string | null; instructions: DockerInstruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const named = /\s+AS\s+([A-Za-z0-9_.-]+)$/i.exec(ins.args);
      stages.push({ from: ins.args, name: named?.[1] ?? null, instructions: [] });
    } else if (stages.length === 0) globals.push(ins);
    else (stages[stages.length - 1] as { instructions: DockerInstruction[] }).instructions.push(ins);
  }
  return { globals, stages };
}

/** Parses `KEY=value` lines (comments and blank lines skipped), as in .env and kustomize env files. */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`not a KEY=value line: ${line}`);
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/**
 * Docker Compose variable interpolation of one string: `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$VAR`, and `$$` for a literal `$`.
 * @throws Error when a required variable (`:?`/`?`) is missing, with its message.
 */
export function interpolate(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) return vars.get(bare) ?? '';
    const key = name ?? '';
    const value = vars.get(key);
    const unset = value === undefined || (op?.startsWith(':') === true && value === '');
    if (op === undefined) return value ?? '';
    if (op.endsWith('-')) return unset ? (arg ?? '') : (value ?? '');
    if (unset) throw new Error(`required variable ${key} is missing: ${arg ?? ''}`);
    return value ?? '';
  });
}

/** Applies {@link interpolate} to every string inside a parsed YAML value. */
export function interpolateDeep(value: unknown, vars: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)]));
  return value;
}

/**
 * A copy of a parsed configuration with every string that starts with one of `prefixes`' keys
 * rewritten to start with its value: container paths (`/app/`, `/var/lib/convwatch`) become
 * paths of this checkout or a temporary directory, so the loader's file checks run here.
 */
export function mapPaths(value: unknown, prefixes: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    for (const [from, to] of prefixes) if (value === from || value.startsWith(from.endsWith('/') ? from : `${from}/`)) return to + value.slice(from.length);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => mapPaths(v, prefixes));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapPaths(v, prefixes)]));
  return value;
}
