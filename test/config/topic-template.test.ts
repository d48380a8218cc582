import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileTopicRenderer,
  compileTopicTemplate,
  filtersOverlap,
  parseTopicTemplate,
  topicFilterProblem,
  TopicTemplateError,
} from '../../src/config/topic-template.js';

const FC_SEED = 20261201;

/** MQTT 3.1.1 §4.7 filter matching, written independently of the code under test. */
function mqttMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

function problemOf(template: string): string {
  try {
    compileTopicTemplate(template);
  } catch (e) {
    if (e instanceof TopicTemplateError) return e.problem;
    throw e;
  }
  throw new Error(`expected ${template} to be refused`);
}

describe('compileTopicTemplate', () => {
  it('derives the filter and matches device, channel and tags', () => {
    const t = compileTopicTemplate('plant/{site}/dev-{device}.v1/{channel}');
    expect(t.filter).toBe('plant/+/+/+');
    expect(t.names).toEqual(['site', 'device', 'channel']);
    expect(t.tagNames).toEqual(['site']);
    expect(t.hasChannel).toBe(true);
    expect(t.match('plant/north/dev-pump-7.v1/temperature_c')).toEqual({ device: 'pump-7', channel: 'temperature_c', tags: { site: 'north' } });
  });

  it('gives no channel key without {channel}', () => {
    const m = compileTopicTemplate('sensors/{device}/telemetry').match('sensors/d1/telemetry');
    expect(m).toEqual({ device: 'd1', tags: {} });
    expect(m !== null && 'channel' in m).toBe(false);
  });

  it('refuses topics that do not fit', () => {
    const t = compileTopicTemplate('sensors/dev-{device}/telemetry');
    expect(t.match('sensors/dev-1/telemetry/extra')).toBeNull();
    expect(t.match('sensors/dev-1')).toBeNull();
    expect(t.match('sensors/dev-/telemetry')).toBeNull(); // empty value
    expect(t.match('sensors/box-1/telemetry')).toBeNull(); // prefix differs
    expect(t.match('Sensors/dev-1/telemetry')).toBeNull(); // case-sensitive
  });

  it('matches literal levels full of regular-expression characters exactly', () => {
    const t = compileTopicTemplate('a.b/(x)|[y]*/^{device}$/\\d');
    expect(t.filter).toBe('a.b/(x)|[y]*/+/\\d');
    expect(t.match('a.b/(x)|[y]*/^dev.*(1)$/\\d')).toEqual({ device: 'dev.*(1)', tags: {} });
    expect(t.match('aXb/(x)|[y]*/^d$/\\d')).toBeNull(); // '.' is not a wildcard
    expect(t.match('a.b/(x)|[y]/^d$/\\d')).toBeNull(); // '*' is not a repetition
    expect(t.match('a.b/(x)|[y]*/^d$/7')).toBeNull(); // '\d' is not a digit class
  });

  it('never matches $-topics through a placeholder in the first level, as MQTT filters do', () => {
    const t = compileTopicTemplate('{device}/telemetry');
    expect(t.match('$SYS/telemetry')).toBeNull();
    expect(compileTopicTemplate('$aws/things/{device}').match('$aws/things/x')).toEqual({ device: 'x', tags: {} });
  });

  it.each([
    ['', 'must not be empty'],
    ['sensors/+/{device}', 'must not contain the MQTT wildcards + or #'],
    ['sensors/{device}/#', 'must not contain the MQTT wildcards + or #'],
    ['sensors/{device', 'has an unclosed "{"'],
    ['sensors/device}', 'has a "}" without "{"'],
    ['sensors/{de{vice}', 'has a "{" inside a placeholder'],
    ['sensors/{device}-{channel}', 'has more than one placeholder'],
    ['sensors/{1x}/{device}', 'is not an identifier'],
    ['sensors/{}/{device}', 'is not an identifier'],
    ['{device}/{device}', 'uses the placeholder {device} twice'],
    ['sensors/{id}', 'must contain the {device} placeholder'],
    ['sensors/{model}/{device}', 'reserved name'],
    ['a/{device}/\u0000', 'NUL'],
  ])('refuses %j: %s', (template, problem) => {
    expect(problemOf(template)).toContain(problem);
  });

  it('says which template is wrong in the error message', () => {
    expect(() => compileTopicTemplate('x/{id}')).toThrow('topic template "x/{id}" must contain the {device} placeholder');
  });
});

// Generators for the properties. Literal text may hold anything a topic level may hold except
// braces; values anything but / + # NUL (braces and regex characters included).
const literalChar = fc.constantFrom('a', 'Z', '0', '-', '_', '.', '*', '?', '(', ')', '[', ']', '^', '$', '|', '\\', ' ', 'é', '漢');
const valueChar = fc.constantFrom('a', 'Z', '9', '-', '.', '*', '(', ')', '[', '^', '$', '|', '\\', '{', '}', ' ', 'ü', '€');
const literal = (min: number): fc.Arbitrary<string> => fc.array(literalChar, { minLength: min, maxLength: 4 }).map((cs) => cs.join(''));
const value = fc.array(valueChar, { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''));

interface Level {
  readonly name: string | null;
  readonly prefix: string;
  readonly suffix: string;
}

const templateShape = fc
  .record({
    literals: fc.array(literal(0), { minLength: 0, maxLength: 3 }),
    tags: fc.uniqueArray(fc.constantFrom('site', 'line', 'area', 'x_1', '_zone'), { maxLength: 2 }),
    withChannel: fc.boolean(),
    affixes: fc.array(fc.tuple(literal(0), literal(0)), { minLength: 4, maxLength: 4 }),
    order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
  })
  .map(({ literals, tags, withChannel, affixes, order }) => {
    const names = ['device', ...(withChannel ? ['channel'] : []), ...tags];
    const levels: Level[] = [
      ...names.map((name, i) => ({ name, prefix: affixes[i][0], suffix: affixes[i][1] })),
      ...literals.map((l) => ({ name: null, prefix: l, suffix: '' })),
    ];
    // Shuffle by the generated keys so placeholders land anywhere.
    const keyed = levels.map((l, i) => ({ l, k: order[i % order.length] * 16 + i }));
    keyed.sort((a, b) => a.k - b.k);
    return keyed.map((x) => x.l);
  });

const templateOf = (levels: readonly Level[]): string => levels.map((l) => (l.name === null ? l.prefix : `${l.prefix}{${l.name}}${l.suffix}`)).join('/');

describe('compileTopicTemplate properties', () => {
  it('finds exactly the values a topic was built from, and the topic passes the derived filter', () => {
    fc.assert(
      fc.property(templateShape, fc.array(value, { minLength: 4, maxLength: 4 }), (levels, values) => {
        const names = levels.filter((l) => l.name !== null).map((l) => l.name as string);
        const valueOf = new Map(names.map((n, i) => [n, values[i]]));
        const topic = levels.map((l) => (l.name === null ? l.prefix : l.prefix + valueOf.get(l.name) + l.suffix)).join('/');
        const t = compileTopicTemplate(templateOf(levels));
        const expectedTags = Object.fromEntries(names.filter((n) => n !== 'device' && n !== 'channel').map((n) => [n, valueOf.get(n)]));
        const expected = valueOf.has('channel')
          ? { device: valueOf.get('device'), channel: valueOf.get('channel'), tags: expectedTags }
          : { device: valueOf.get('device'), tags: expectedTags };
        const startsWithDollarWildcard = levels[0].name !== null && topic.startsWith('$');
        expect(t.match(topic)).toEqual(startsWithDollarWildcard ? null : expected);
        expect(t.filter).toBe(levels.map((l) => (l.name === null ? l.prefix : '+')).join('/'));
        if (!startsWithDollarWildcard) expect(mqttMatches(t.filter, topic)).toBe(true);
        // One more level, or a changed literal level, never matches.
        expect(t.match(`${topic}/x`)).toBeNull();
        const literalAt = levels.findIndex((l) => l.name === null);
        if (literalAt >= 0) {
          const parts = topic.split('/');
          parts[literalAt] += '~';
          expect(t.match(parts.join('/'))).toBeNull();
        }
      }),
      { seed: FC_SEED, numRuns: 500 },
    );
  });

  it('accepts only topics that pass its filter, and rebuilds the topic from what it found', () => {
    // Topics near the template: each level is either what the template expects or noise.
    const noiseChar = fc.constantFrom('a', '-', '$', '{', '}', '.', '*');
    const noise = fc.array(noiseChar, { maxLength: 3 }).map((cs) => cs.join(''));
    const counts = { matched: 0, refused: 0 };
    fc.assert(
      fc.property(templateShape, fc.array(fc.tuple(fc.constantFrom(true, true, true, true, true, false), noise), { minLength: 10, maxLength: 10 }), fc.constantFrom(0, 0, 0, 0, 1, -1), (levels, picks, extra) => {
        const t = compileTopicTemplate(templateOf(levels));
        const parts = levels.map((l, i) => {
          const [faithful, text] = picks[i];
          if (l.name === null) return faithful ? l.prefix : text;
          return faithful ? l.prefix + text + l.suffix : text;
        });
        if (extra > 0) parts.push(picks[9][1]);
        if (extra < 0 && parts.length > 1) parts.pop();
        const topic = parts.join('/');
        const m = t.match(topic);
        if (m === null) {
          counts.refused++;
          return;
        }
        counts.matched++;
        expect(mqttMatches(t.filter, topic)).toBe(true);
        const rebuilt = levels
          .map((l) => {
            if (l.name === null) return l.prefix;
            const v = l.name === 'device' ? m.device : l.name === 'channel' ? m.channel : m.tags[l.name];
            expect(v).toBeTypeOf('string');
            expect(v).not.toBe('');
            return l.prefix + String(v) + l.suffix;
          })
          .join('/');
        expect(rebuilt).toBe(topic);
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
    // Both outcomes were exercised, so the property is not vacuous.
    expect(counts.matched).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(100);
  });
});

describe('compileTopicRenderer', () => {
  it('fills in the placeholders', () => {
    const r = compileTopicRenderer('convwatch/alerts/{model}/{device}/{kind}', ['device', 'model', 'kind']);
    expect(r.render({ device: 'pump-1', model: 'demo', kind: 'start' })).toBe('convwatch/alerts/demo/pump-1/start');
    expect(compileTopicRenderer('dl/{reason}', ['reason']).render({ reason: 'late' })).toBe('dl/late');
  });

  it('refuses placeholders it does not know, and values that would change the topic structure', () => {
    expect(() => compileTopicRenderer('dl/{device}', ['reason'])).toThrow('uses {device}; the placeholders allowed here are {reason}');
    const r = compileTopicRenderer('dl/{reason}', ['reason']);
    for (const bad of ['a/b', 'a+b', '#', '']) expect(() => r.render({ reason: bad })).toThrow(TopicTemplateError);
    expect(() => r.render({})).toThrow('cannot take no value for {reason}');
  });
});

describe('filters', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/#', 'a', true],
    ['a/#', 'b/c', false],
    ['+/+', 'a/b/c', false],
    ['a/+', 'a/b', true],
    ['#', 'x/y', true],
    ['a/b', 'a/b/c', false],
  ])('%s and %s overlap: %s', (a, b, overlap) => {
    expect(filtersOverlap(a, b)).toBe(overlap);
    expect(filtersOverlap(b, a)).toBe(overlap);
  });

  it('checks filter syntax', () => {
    expect(topicFilterProblem('a/+/#')).toBeNull();
    expect(topicFilterProblem('a/#/b')).toBe('may use # only as the whole last level');
    expect(topicFilterProblem('a/b+')).toBe('may use + only as a whole level');
    expect(topicFilterProblem('')).toBe('must not be empty');
  });

  it('parses levels of a template', () => {
    expect(parseTopicTemplate('x/pre{device}post').levels).toEqual([
      { name: null, prefix: 'x', suffix: '' },
      { name: 'device', prefix: 'pre', suffix: 'post' },
    ]);
  });
});
