// Unit tests of the console's pure helpers: durations, people's wording
// of server errors, and the shortcut table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, humane } from '../../assets/console/dom.js';
import { SHORTCUTS } from '../../assets/console/keys.js';

test('durations read as people say them', () => {
  assert.equal(duration(0), '0 s');
  assert.equal(duration(59_400), '59 s');
  assert.equal(duration(60_000), '1 min');
  assert.equal(duration(59 * 60_000), '59 min');
  assert.equal(duration(60 * 60_000), '1 h');
  assert.equal(duration(125 * 60_000), '2 h 5 min');
  assert.equal(duration(3 * 24 * 3600_000), '3 d');
  assert.equal(duration(-5000), '0 s', 'a clock a little ahead never shows a negative time');
});

test('server wording of a field error is worded for people', () => {
  assert.equal(humane('display_name: must have at least 1 character(s)'), 'Display name must have at least 1 characters');
  assert.equal(humane('widget.greeting: must have at most 300 characters, got 301'), 'Greeting must have at most 300 characters, got 301');
  assert.equal(humane('the email or password is wrong'), 'the email or password is wrong');
  assert.equal(humane(''), 'Something went wrong; try again.');
});

test('every shortcut has keys and words, and no two share keys', () => {
  const keys = SHORTCUTS.map(([k]) => k);
  assert.equal(new Set(keys).size, keys.length);
  for (const [k, d] of SHORTCUTS) { assert.ok(k.length > 0); assert.ok(d.length > 5); }
  const next = SHORTCUTS.find(([k]) => k.startsWith('J'));
  assert.ok(next[2]({ key: 'j', altKey: false }, false), 'J moves on outside fields');
  assert.ok(!next[2]({ key: 'j', altKey: false }, true), 'J typed into a field is text');
  assert.ok(next[2]({ key: 'ArrowDown', altKey: true }, true), 'Alt+Down works from the compose box');
});

test('a weekly rule becomes day bands, a night shift split at midnight', async () => {
  const { bands } = await import('../../assets/console/shifts.js');
  assert.deepEqual(bands({ days: ['mon'], start: '09:00', end: '17:00' }), [[0, 540, 1020]]);
  assert.deepEqual(bands({ days: ['sun'], start: '22:00', end: '06:00' }), [[6, 1320, 1440], [0, 0, 360]]);
  assert.deepEqual(bands({ days: ['tue'], start: '08:00', end: '08:00' }), [[1, 480, 1440], [2, 0, 480]], 'end equal to start: 24 hours');
});

test('canned responses: placeholders filled, the typed shortcut found, fitting ones first', async () => {
  const { expand, typedShortcut, matching } = await import('../../assets/console/canned.js');
  assert.equal(expand('Hello {visitor_first_name}, I am {agent_name}. {visitor_name}!', { visitor: 'Vera Lind', agent: 'Ann' }),
    'Hello Vera, I am Ann. Vera Lind!');
  assert.equal(expand('{unknown} stays', { visitor: 'V', agent: 'A' }), '{unknown} stays');
  assert.deepEqual(typedShortcut('Thanks! /gre'), { query: 'gre', start: 8 });
  assert.deepEqual(typedShortcut('#'), { query: '', start: 0 });
  assert.equal(typedShortcut('a/b'), null, 'a slash inside a word is no shortcut');
  assert.equal(typedShortcut('/gre '), null, 'a space ends it');
  const list = [{ shortcut: 'bye', body: 'See you' }, { shortcut: 'greet', body: 'Hello' }, { shortcut: 'regret', body: 'Sorry' }];
  assert.deepEqual(matching(list, 'gre').map((c) => c.shortcut), ['greet', 'regret']);
  assert.deepEqual(matching(list, 'see').map((c) => c.shortcut), ['bye'], 'the text counts too');
  assert.equal(matching(list, '').length, 3);
});
