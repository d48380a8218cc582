import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEPLOY, listFiles, parseEnvFile, readText, readYamlDocuments, REPO } from './deploy-files.js';

const files = listFiles(DEPLOY);
const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f));
const jsonFiles = files.filter((f) => f.endsWith('.json'));

describe('every YAML and JSON file under deploy/ parses', () => {
  it('finds the files the deployment is made of', () => {
    // A guard against the list below going empty (a moved folder would pass vacuously).
    expect(yamlFiles).toEqual(
      expect.arrayContaining([
        'deploy/compose/docker-compose.yml',
        'deploy/compose/convwatch/convwatch.yaml',
        'deploy/grafana/provisioning/alerting/convwatch-alerts.yaml',
        'deploy/grafana/provisioning/dashboards/convwatch.yaml',
        'deploy/grafana/provisioning/datasources/influxdb.yaml',
        'deploy/k8s/kustomization.yaml',
        'deploy/k8s/statefulset.yaml',
        'deploy/k8s/service.yaml',
        'deploy/k8s/convwatch.yaml',
        'deploy/systemd/convwatch.yaml',
      ]),
    );
    expect(jsonFiles).toEqual(['deploy/grafana/dashboards/convwatch.json']);
  });

  it.each(yamlFiles)('%s', (file) => {
    const docs = readYamlDocuments(file);
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(typeof d).toBe('object');
  });

  it.each(jsonFiles)('%s', (file) => {
    const value: unknown = JSON.parse(readText(file));
    expect(typeof value).toBe('object');
  });

  it('reads multi-document YAML as separate documents (the parser the tests rely on)', () => {
    // Kubernetes files may hold several objects separated by ---; a parser that read only the
    // first would let the others go unchecked.
    const dir = `${DEPLOY}/k8s`;
    const all = listFiles(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml') && !f.endsWith('convwatch.yaml'));
    const kinds = all.flatMap((f) => readYamlDocuments(f).map((d) => (d as { kind?: string }).kind));
    expect(kinds.sort()).toEqual(['Namespace', 'PodDisruptionBudget', 'Service', 'StatefulSet']);
  });
});

describe('no secrets in the repository', () => {
  const tracked = execFileSync('git', ['ls-files', 'deploy'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter((f) => f !== '');

  it('commits only the examples of the secret files, which the folders ignore', () => {
    expect(tracked).not.toContain('deploy/compose/.env');
    expect(tracked).not.toContain('deploy/k8s/secrets.env');
    expect(readText('deploy/compose/.gitignore').split('\n')).toContain('.env');
    expect(readText('deploy/k8s/.gitignore').split('\n')).toContain('secrets.env');
  });

  it.each([
    ['deploy/compose/.env.example', /(PASSWORD|TOKEN)$/],
    ['deploy/k8s/secrets.env.example', /(password|token)$/],
  ])('%s holds placeholders for every secret', (file, secretKey) => {
    const env = parseEnvFile(readText(file));
    const secrets = [...env].filter(([k]) => secretKey.test(k));
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const [key, value] of secrets) expect(value, key).toMatch(/^(replace|REPLACE)/);
  });
});
