import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { detectorFromManifest, type Detector } from '../detect/detector.js';
import { parseSafetensors, serializeSafetensors } from '../model/safetensors.js';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, ModelFileError, parseModelManifest, WEIGHTS_FILE, type ModelManifest } from '../model/model-manifest.js';
import { Tcn, type TcnConfig } from '../nn/tcn.js';
import { writeFileAtomic } from './atomic-write.js';
import { DEFAULT_MAX_FILE_BYTES } from './safetensors-file.js';

/**
 * Model directories: `model.json` (the manifest) beside `weights.safetensors` (tensors named as
 * the PyTorch module's state_dict). This is where the model format meets the file system; the
 * format itself lives in src/model.
 */

/** The TCN configuration a manifest describes. */
export function tcnConfigOf(manifest: ModelManifest): TcnConfig {
  const a = manifest.architecture;
  return { inChannels: a.inChannels, outChannels: a.outChannels, hiddenChannels: a.hiddenChannels, kernelSize: a.kernelSize, dilations: a.dilations, activation: a.activation };
}

function asModelError(file: string, e: unknown): ModelFileError {
  if (e instanceof ModelFileError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new ModelFileError(file, [{ path: '', message: 'does not exist' }]);
  return new ModelFileError(file, [{ path: '', message: err.message ?? String(e) }]);
}

async function readBounded(file: string, maxBytes: number): Promise<Buffer> {
  const s = await stat(file);
  if (!s.isFile()) throw new ModelFileError(file, [{ path: '', message: 'is not a regular file' }]);
  if (s.size > maxBytes) throw new ModelFileError(file, [{ path: '', message: `is ${s.size} bytes, more than the ${maxBytes} allowed` }]);
  return readFile(file);
}

/**
 * Loads and fully validates a model directory: manifest schema and version, weights file hash,
 * safetensors structure, tensor names and shapes against the architecture, finite numbers.
 * @throws ModelFileError naming the file and every bad field. Never allocates more than a bounded
 *   multiple of the files' sizes.
 */
export async function loadModel(dir: string): Promise<Detector> {
  const manifestFile = join(dir, MANIFEST_FILE);
  const weightsFile = join(dir, WEIGHTS_FILE);
  let manifest: ModelManifest;
  try {
    manifest = parseModelManifest((await readBounded(manifestFile, MAX_MANIFEST_BYTES)).toString('utf8'), manifestFile);
  } catch (e) {
    throw asModelError(manifestFile, e);
  }
  let tcn: Tcn;
  try {
    const bytes = await readBounded(weightsFile, DEFAULT_MAX_FILE_BYTES);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== manifest.weights.sha256) {
      throw new ModelFileError(weightsFile, [{ path: '', message: `has SHA-256 ${sha} but ${MANIFEST_FILE} expects ${manifest.weights.sha256} (the files do not belong together)` }]);
    }
    const { tensors } = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { source: weightsFile });
    tcn = Tcn.fromStateDict(tcnConfigOf(manifest), tensors);
  } catch (e) {
    throw asModelError(weightsFile, e);
  }
  try {
    // Score and threshold sections are checked here, against the manifest they came from.
    return detectorFromManifest(manifest, tcn);
  } catch (e) {
    throw asModelError(manifestFile, e);
  }
}

/** The non-throwing form of {@link loadModel}, for callers where a bad model is ordinary. */
export async function tryLoadModel(dir: string): Promise<{ ok: true; detector: Detector } | { ok: false; error: ModelFileError }> {
  try {
    return { ok: true, detector: await loadModel(dir) };
  } catch (e) {
    return { ok: false, error: asModelError(join(dir, MANIFEST_FILE), e) };
  }
}

/**
 * Writes a model directory (created if missing): weights first, then the manifest carrying the
 * weights' SHA-256, each atomically, so a reader never pairs a new manifest with old weights.
 * @returns the manifest as written.
 */
export async function saveModel(dir: string, manifest: Omit<ModelManifest, 'weights'>, tcn: Tcn): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  const weights = serializeSafetensors(tcn.stateDict(), { format: 'pt', 'convwatch.model': manifest.name });
  const sha256 = createHash('sha256').update(weights).digest('hex');
  const full: ModelManifest = { ...manifest, weights: { file: WEIGHTS_FILE, sha256 } };
  // Validate what we write with the same schema we read with.
  parseModelManifest(JSON.stringify(full), join(dir, MANIFEST_FILE));
  await writeFileAtomic(join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}
