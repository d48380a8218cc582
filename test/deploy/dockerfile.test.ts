import { describe, expect, it } from 'vitest';
import { parseDockerfile, readText } from './deploy-files.js';

const { globals, stages } = parseDockerfile(readText('deploy/docker/Dockerfile'));
const final = stages[stages.length - 1];
const finalOf = (keyword: string): string[] => (final?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);
const stageNamed = (name: string): (typeof stages)[number] | undefined => stages.find((s) => s.name === name);
/** The files a `COPY --from=<stage>` of the final stage takes, by stage. */
const copiesFrom = finalOf('COPY')
  .map((a) => /^--from=(\S+)\s+(\S+)/.exec(a))
  .filter((m) => m !== null)
  .map((m) => ({ stage: m[1] ?? '', source: m[2] ?? '' }));

describe('deploy/docker/Dockerfile', () => {
  it('is multi-stage: build, production dependencies, runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(globals.map((g) => g.keyword)).toEqual(['ARG', 'ARG']);
  });

  it('builds with npm ci (lockfile) and npm run build in the build stage', () => {
    const runs = stageNamed('build')?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? [];
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    expect(runs).toContain('npm run build');
  });

  it('installs no dev tools in the image: the runtime stage runs no npm, and its node_modules come from an --omit=dev install', () => {
    expect(finalOf('RUN').some((r) => /\b(npm|npx|yarn|pnpm)\b/.test(r))).toBe(false);
    const modules = copiesFrom.filter((c) => c.source.includes('node_modules'));
    expect(modules.length).toBe(1);
    const installs = stageNamed(modules[0]?.stage ?? '')?.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args)) ?? [];
    expect(installs.length).toBe(1);
    expect(installs[0]?.args).toMatch(/--omit=dev/);
    // dist comes from the build stage; nothing else is taken from it (its node_modules has dev tools).
    expect(copiesFrom.filter((c) => c.stage === 'build').map((c) => c.source)).toEqual(['/src/dist']);
  });

  it('runs as a numeric non-root user', () => {
    const users = finalOf('USER');
    expect(users.length).toBe(1);
    const [uid] = (users[0] ?? '').split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
  });

  it('has a HEALTHCHECK that fetches /healthz with node (no curl in slim images)', () => {
    const checks = finalOf('HEALTHCHECK');
    expect(checks.length).toBe(1);
    expect(checks[0]).toMatch(/CMD \["node", "-e", "fetch\(/);
    expect(finalOf('ENV')).toContain('HEALTHCHECK_URL=http://127.0.0.1:9464/healthz');
  });

  it('starts the CLI with `run --config`, stops with SIGTERM, and keeps state on a volume', () => {
    expect(finalOf('ENTRYPOINT')).toEqual(['["node", "/app/dist/cli/main.js"]']);
    expect(finalOf('CMD')).toEqual(['["run", "--config", "/etc/convwatch/convwatch.yaml"]']);
    expect(finalOf('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(finalOf('VOLUME')).toEqual(['["/var/lib/convwatch"]']);
  });

  it('builds the platform-independent stages on the build platform, the runtime per target', () => {
    expect(stageNamed('build')?.from).toMatch(/^--platform=\$BUILDPLATFORM /);
    expect(stageNamed('deps')?.from).toMatch(/^--platform=\$BUILDPLATFORM /);
    expect(final?.from).not.toMatch(/--platform/);
  });
});

describe('the premise of the multi-arch build: production dependencies are pure JavaScript', () => {
  // deps runs on $BUILDPLATFORM and its node_modules is copied into arm64 and amd64 images alike.
  // That is right only while no production dependency has native code, an install script, or a
  // per-platform package. This reads the lockfile, so adding such a dependency fails here.
  const lock = JSON.parse(readText('package-lock.json')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean; hasInstallScript?: boolean; gypfile?: boolean; os?: string[]; cpu?: string[] }> };
  const production = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev !== true && p.devOptional !== true);

  it('has production packages to check', () => {
    expect(production.length).toBeGreaterThan(10);
    expect(production.map(([path]) => path)).toContain('node_modules/mqtt');
  });

  it('none has an install script, a node-gyp build, or an os/cpu restriction', () => {
    const native = production.filter(([, p]) => p.hasInstallScript === true || p.gypfile === true || p.os !== undefined || p.cpu !== undefined).map(([path]) => path);
    expect(native).toEqual([]);
  });
});

describe('deploy/docker/Dockerfile.dockerignore', () => {
  const lines = readText('deploy/docker/Dockerfile.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('excludes everything, then allows back only what the build copies', () => {
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1)));
    expect(copied.length).toBeGreaterThan(5);
    for (const c of copied) expect(allowed, c).toContain(c.replace(/\/$/, ''));
    for (const secretish of ['.env', 'deploy', 'node_modules', 'dist', 'convwatch-state']) expect(allowed).not.toContain(secretish);
  });
});
