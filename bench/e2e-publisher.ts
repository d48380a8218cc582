/**
 * Child process of the end-to-end benchmark: publishes the benchmark recording at full speed
 * (QoS 1, window 1,000) so the publisher's CPU is not charged to the process being measured, as
 * on a real gateway where readings come from other machines. Prints one JSON line when done:
 * `{ "startMs": <Date.now() before the first publish>, "endMs": …, "published": n }`.
 * Usage: tsx bench/e2e-publisher.ts <brokerUrl> <clientId> <topicTemplate> <devices> <rowsPerDevice>
 */
import { replay } from '../src/io/replay-publisher.js';
import { e2eRecording } from './e2e-recording.js';

const [url, clientId, topicTemplate, devices, rowsPerDevice] = process.argv.slice(2);
if (url === undefined || clientId === undefined || topicTemplate === undefined || devices === undefined || rowsPerDevice === undefined) {
  console.error('usage: e2e-publisher <brokerUrl> <clientId> <topicTemplate> <devices> <rowsPerDevice>');
  process.exit(2);
}
const rows = e2eRecording(Number(devices), Number(rowsPerDevice));
const startMs = Date.now();
const summary = await replay(rows, { brokerUrl: url, clientId, topicTemplate, qos: 1, pace: { kind: 'max' }, startNow: false, maxInFlight: 1000, passes: 1, protocolVersion: 5 });
console.log(JSON.stringify({ startMs, endMs: Date.now(), published: summary.acknowledged }));
