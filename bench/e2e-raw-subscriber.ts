/**
 * Child process of the end-to-end benchmark: the ceiling, a raw mqtt.js QoS-1 subscriber in a
 * persistent session that does nothing with its messages (mqtt.js acknowledges each at once).
 * Modes: `register` subscribes and leaves (the broker then queues for the session); `count`
 * subscribes (or resumes) and exits after `<expected>` messages, printing one JSON line:
 * `{ "firstMs": …, "lastMs": …, "received": n, "readyMs": … }` (Date.now() values).
 * Prints `ready` once subscribed.
 * Usage: tsx bench/e2e-raw-subscriber.ts <brokerUrl> <clientId> <filter> register|count [expected]
 */
import mqtt from 'mqtt';

const [url, clientId, filter, mode, expected] = process.argv.slice(2);
if (url === undefined || clientId === undefined || filter === undefined || (mode !== 'register' && mode !== 'count')) {
  console.error('usage: e2e-raw-subscriber <brokerUrl> <clientId> <filter> register|count [expected]');
  process.exit(2);
}
const n = Number(expected ?? 0);
let received = 0;
let firstMs = 0;
let lastMs = 0;
const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
client.on('message', () => {
  const now = Date.now();
  if (received++ === 0) firstMs = now;
  lastMs = now;
  if (received === n) {
    console.log(JSON.stringify({ firstMs, lastMs, received }));
    client.end(false, () => process.exit(0));
  }
});
client.on('connect', () => {
  client.subscribe(filter, { qos: 1 }, (err) => {
    if (err) {
      console.error(err.message);
      process.exit(1);
    }
    console.log('ready');
    if (mode === 'register') client.end(false, () => process.exit(0));
  });
});
