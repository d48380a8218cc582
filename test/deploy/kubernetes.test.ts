import { existsSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asArray, asRecord, at, parseEnvFile, readText, readYaml, readYamlDocuments, REPO } from './deploy-files.js';
import { expectedRssMiB, quantityMiB } from './memory-sizing.js';

const K8S = 'deploy/k8s';
const kustomization = readYaml(`${K8S}/kustomization.yaml`);
const resources = asArray(kustomization['resources'], 'resources').map(String);
const objects = resources.flatMap((r) => readYamlDocuments(`${K8S}/${r}`).map((o) => asRecord(o, r)));
const byKind = (kind: string): Record<string, unknown>[] => objects.filter((o) => o['kind'] === kind);
const [sts] = byKind('StatefulSet');
const [svc] = byKind('Service');
const [pdb] = byKind('PodDisruptionBudget');
const podSpec = asRecord(at(sts, 'spec.template.spec'), 'pod spec');
const [container] = asArray(podSpec['containers'], 'containers').map((c) => asRecord(c, 'container'));
const config = readYaml(`${K8S}/convwatch.yaml`);
const configMapGenerators = asArray(kustomization['configMapGenerator'], 'configMapGenerator').map((g) => asRecord(g, 'generator'));
const secretGenerators = asArray(kustomization['secretGenerator'], 'secretGenerator').map((g) => asRecord(g, 'generator'));
const ignored = readText(`${K8S}/.gitignore`).split('\n').map((l) => l.trim());

/** Whether every label of `selector` is among `labels` with the same value. */
function selects(selector: unknown, labels: unknown): boolean {
  const s = asRecord(selector, 'selector');
  const l = asRecord(labels, 'labels');
  return Object.keys(s).length > 0 && Object.entries(s).every(([k, v]) => l[k] === v);
}

/** A file a kustomization names: committed, or git-ignored with a committed `.example` to copy. */
function kustomizeFileExists(file: string): boolean {
  if (existsSync(resolve(REPO, K8S, file))) return true;
  return ignored.includes(file) && existsSync(resolve(REPO, K8S, `${file}.example`));
}

const containerPorts = asArray(container?.['ports'], 'ports').map((p) => asRecord(p, 'port'));
const portExists = (port: unknown): boolean => containerPorts.some((p) => p['name'] === port || p['containerPort'] === port);

describe('deploy/k8s/kustomization.yaml', () => {
  it('lists files that exist (secrets: git-ignored, with an example to copy)', () => {
    for (const r of resources) expect(existsSync(resolve(REPO, K8S, r)), r).toBe(true);
    for (const g of configMapGenerators) for (const f of asArray(g['files'], 'files').map(String)) expect(kustomizeFileExists(f), f).toBe(true);
    for (const g of secretGenerators) for (const f of asArray(g['envs'], 'envs').map(String)) expect(kustomizeFileExists(f), f).toBe(true);
    expect(secretGenerators.flatMap((g) => asArray(g['envs'], 'envs'))).toEqual(['secrets.env']);
    expect(existsSync(resolve(REPO, K8S, 'secrets.env'))).toBe(false);
  });

  it('holds one StatefulSet, its headless Service and a disruption budget', () => {
    expect(objects.map((o) => o['kind']).sort()).toEqual(['Namespace', 'PodDisruptionBudget', 'Service', 'StatefulSet']);
    expect(byKind('Namespace')[0]?.['metadata']).toEqual({ name: kustomization['namespace'] });
  });

  it('replaces the image the StatefulSet names', () => {
    const images = asArray(kustomization['images'], 'images').map((i) => asRecord(i, 'image'));
    expect(images.map((i) => i['name'])).toEqual([container?.['image']]);
  });
});

describe('deploy/k8s StatefulSet and Service', () => {
  it('selects its pods, and the Service and the budget select the same pods', () => {
    const podLabels = at(sts, 'spec.template.metadata.labels');
    expect(selects(at(sts, 'spec.selector.matchLabels'), podLabels)).toBe(true);
    expect(selects(at(svc, 'spec.selector'), podLabels)).toBe(true);
    expect(selects(at(pdb, 'spec.selector.matchLabels'), podLabels)).toBe(true);
  });

  it('is governed by a headless Service whose port targets the container port', () => {
    expect(at(sts, 'spec.serviceName')).toBe(at(svc, 'metadata.name'));
    expect(at(svc, 'spec.clusterIP')).toBe('None');
    const ports = asArray(at(svc, 'spec.ports'), 'ports');
    expect(ports.length).toBe(1);
    for (const p of ports) expect(portExists(at(p, 'targetPort')), JSON.stringify(p)).toBe(true);
  });

  it('probes /healthz for liveness and startup and /readyz for readiness, on a port that exists and the config listens on', () => {
    expect(at(container, 'livenessProbe.httpGet.path')).toBe('/healthz');
    expect(at(container, 'startupProbe.httpGet.path')).toBe('/healthz');
    expect(at(container, 'readinessProbe.httpGet.path')).toBe('/readyz');
    const listen = String(at(config, 'http.listen'));
    expect(listen.startsWith('0.0.0.0:')).toBe(true);
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const port = at(container, `${probe}.httpGet.port`);
      expect(portExists(port), `${probe} port ${String(port)}`).toBe(true);
      const numeric = containerPorts.find((p) => p['name'] === port || p['containerPort'] === port)?.['containerPort'];
      expect(`0.0.0.0:${String(numeric)}`).toBe(listen);
    }
  });

  it('mounts only volumes it declares: the generated ConfigMap (at the path --config reads) and one claim per pod for state', () => {
    const volumes = asArray(podSpec['volumes'], 'volumes').map((v) => asRecord(v, 'volume'));
    const claims = asArray(at(sts, 'spec.volumeClaimTemplates'), 'claims').map((c) => String(at(c, 'metadata.name')));
    const declared = [...volumes.map((v) => String(v['name'])), ...claims];
    const volumeMounts = asArray(container?.['volumeMounts'], 'volumeMounts').map((m) => asRecord(m, 'mount'));
    for (const m of volumeMounts) expect(declared, String(m['name'])).toContain(m['name']);

    const configVolume = volumes.find((v) => v['configMap'] !== undefined);
    expect(configMapGenerators.map((g) => g['name'])).toContain(at(configVolume, 'configMap.name'));
    const items = asArray(at(configVolume, 'configMap.items'), 'items');
    const generatorFiles = configMapGenerators.flatMap((g) => asArray(g['files'], 'files').map((f) => posix.basename(String(f))));
    for (const item of items) expect(generatorFiles).toContain(at(item, 'key'));
    const mountPath = String(volumeMounts.find((m) => m['name'] === configVolume?.['name'])?.['mountPath']);
    const args = asArray(container?.['args'], 'args').map(String);
    expect(posix.join(mountPath, String(at(items[0], 'path')))).toBe(args[args.indexOf('--config') + 1]);

    const stateMount = String(volumeMounts.find((m) => claims.includes(String(m['name'])))?.['mountPath']);
    for (const p of [at(config, 'influx.spool.dir'), at(config, 'state.checkpointDir')]) expect(String(p).startsWith(`${stateMount}/`), String(p)).toBe(true);
  });

  it('takes its secrets from the generated Secret, by keys the example defines', () => {
    const keys = [...parseEnvFile(readText(`${K8S}/secrets.env.example`)).keys()];
    const refs = asArray(container?.['env'], 'env').map((e) => at(e, 'valueFrom.secretKeyRef')).filter((r) => r !== undefined);
    expect(refs.length).toBe(2);
    for (const r of refs) {
      expect(secretGenerators.map((g) => g['name'])).toContain(at(r, 'name'));
      expect(keys).toContain(at(r, 'key'));
    }
  });

  it('runs one hash partition per pod: replicas = partition.count, index from the pod ordinal', () => {
    expect(at(config, 'partition.kind')).toBe('hash');
    expect(at(config, 'partition.index')).toBe('hostname-ordinal');
    expect(at(sts, 'spec.replicas')).toBe(at(config, 'partition.count'));
  });

  it('lets a pod drain before it is killed', () => {
    expect(Number(podSpec['terminationGracePeriodSeconds']) * 1000).toBeGreaterThan(Number(at(config, 'state.shutdownTimeoutMs')) + 10_000);
  });

  it('runs as the image user, unprivileged, with a read-only root file system', () => {
    const dockerUser = /^USER (\d+):(\d+)$/m.exec(readText('deploy/docker/Dockerfile'));
    expect(at(podSpec, 'securityContext.runAsNonRoot')).toBe(true);
    expect(at(podSpec, 'securityContext.runAsUser')).toBe(Number(dockerUser?.[1]));
    expect(at(podSpec, 'securityContext.fsGroup')).toBe(Number(dockerUser?.[2]));
    expect(at(container, 'securityContext.readOnlyRootFilesystem')).toBe(true);
    expect(at(container, 'securityContext.allowPrivilegeEscalation')).toBe(false);
  });

  it('requests the memory measured for its maxDevices and maxBufferedPoints, and limits above that', () => {
    const need = expectedRssMiB(Number(at(config, 'pipeline.maxDevices')), Number(at(config, 'influx.maxBufferedPoints')));
    const request = quantityMiB(String(at(container, 'resources.requests.memory')), 'kubernetes');
    const limit = quantityMiB(String(at(container, 'resources.limits.memory')), 'kubernetes');
    expect(request).toBeGreaterThanOrEqual(need);
    // Not wildly over-requested either (a request reserves node memory).
    expect(request).toBeLessThan(need * 1.5);
    expect(limit).toBeGreaterThanOrEqual(request * 1.5);
  });
});
