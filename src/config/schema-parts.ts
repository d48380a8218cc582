import { z } from 'zod';

/**
 * The small parts the configuration schema is built from, and the metadata every option carries.
 * The metadata (`.meta()`) ends up in the JSON Schema the loader and the reference generator
 * read (schema-introspection.ts), so the schema alone says what an option means, its unit,
 * whether it is a secret and whether it names a file.
 */

/**
 * How an option that holds a file-system path is checked at load (relative paths are resolved
 * first: against the configuration file's directory for values from the file, else against the
 * working directory):
 * - `input-file`: must exist, be a regular file and be readable (TLS certificates);
 * - `secret-file`: like `input-file`, and its trimmed content becomes the option `secretFor`;
 * - `input-dir`: must exist and be a directory (model directories);
 * - `output-dir`: created by the service when missing; if it exists it must be a directory;
 * - `output-file`: created by the service when missing; if it exists it must be a regular file.
 */
export type FsPathKind = 'input-file' | 'secret-file' | 'input-dir' | 'output-dir' | 'output-file';

/** What every option declares about itself. */
export interface OptionMeta {
  /** One or two sentences: what the option does. Goes into docs/configuration.md. */
  readonly description: string;
  /** The unit of a number (`ms`, `s`, `bytes`, `points`, …). */
  readonly unit?: string;
  /** For defaults computed at load time (the JSON default is then absent): how it is computed. */
  readonly defaultText?: string;
  /** A secret: never printed, replaced by `[redacted]` in errors and {@link redactConfig} output. */
  readonly secret?: true;
  /** The option names a path; see {@link FsPathKind}. */
  readonly fsPath?: FsPathKind;
  /** For `secret-file` options: the sibling option that receives the file's content. */
  readonly secretFor?: string;
}

/** Attaches documentation metadata; every option of the schema goes through this. */
export function documented<T extends z.ZodType>(schema: T, meta: OptionMeta): T {
  return schema.meta({ ...meta }) as T;
}

/** An integer option within [min, max]. */
export function integer(min: number, max: number): z.ZodNumber {
  return z.number().int().min(min).max(max);
}

/**
 * A string option checked by `problem`, which returns the end of "… must be …" (or null). The
 * issue carries the checked value, so error messages can show it (redacted where secret).
 */
export function checkedString(problem: (value: string) => string | null): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const p = problem(value);
    if (p !== null) ctx.addIssue({ code: 'custom', message: p, input: value });
  });
}

/** Adds a custom issue at `path` saying what is expected there. */
export function addProblem(ctx: z.RefinementCtx, path: readonly PropertyKey[], value: unknown, expected: string): void {
  ctx.addIssue({ code: 'custom', path: [...path], message: expected, input: value });
}

/** Names for files and identifiers that end up in topics, tags and file names. */
export const SIMPLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The problem of a simple name (letters, digits, `.`, `_`, `-`; not starting with punctuation). */
export function simpleNameProblem(value: string): string | null {
  if (value.length > 128) return 'must be at most 128 characters long';
  return SIMPLE_NAME.test(value) ? null : 'must be a name of letters, digits, ".", "_" and "-", starting with a letter or digit';
}
