// Unit tests of assets/shared/chatlog.js with Node's built-in runner:
//   node --test tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatLog, Added, backoff, newClientId } from '../../assets/shared/chatlog.js';

const m = (seq, extra) => Object.assign({ seq, kind: 'agent', body: 'm' + seq }, extra);

test('messages are kept once, in seq order', () => {
  const log = new ChatLog();
  assert.equal(log.add(m(1)), Added.NEW);
  assert.equal(log.add(m(2)), Added.NEW);
  assert.equal(log.add(m(2)), Added.DUPLICATE);
  assert.equal(log.add(m(1)), Added.DUPLICATE);
  assert.deepEqual(log.messages().map((x) => x.seq), [1, 2]);
  assert.equal(log.lastSeq, 2);
});

test('prev_seq finds a gap, and whispers may skip seqs', () => {
  const log = new ChatLog();
  assert.equal(log.add(m(1), 0), Added.NEW);
  assert.equal(log.add(m(3), 1), Added.NEW, 'seq 2 was a whisper: prev_seq says 1');
  assert.equal(log.add(m(6), 4), Added.GAP, 'something after 3 was missed');
  assert.equal(log.lastSeq, 3, 'a gap adds nothing');
  assert.equal(log.add(m(5), 3), Added.NEW);
});

test('a send is pending until its ack or its copy', () => {
  const log = new ChatLog();
  log.send('v-1', 'hello', 1);
  log.send('v-2', 'again', 2);
  assert.deepEqual(log.pendingList().map((p) => p.client_id), ['v-1', 'v-2']);
  log.ack('v-1');
  assert.deepEqual(log.pendingList().map((p) => p.client_id), ['v-2']);
  log.add(m(1, { kind: 'visitor', client_id: 'v-2' }));
  assert.deepEqual(log.pendingList(), []);
});

test('pending sends survive a reload', () => {
  const saved = JSON.parse(JSON.stringify((() => { const l = new ChatLog(); l.send('v-9', 'x', 3); return l.pendingList(); })()));
  const log = new ChatLog();
  log.restorePending([...saved, null, { client_id: 5 }]);
  assert.deepEqual(log.pendingList(), [{ client_id: 'v-9', body: 'x', at: 3 }]);
});

test('backoff grows with jitter and is bounded', () => {
  assert.equal(backoff(0, () => 0), 250);
  assert.equal(backoff(0, () => 1), 500);
  assert.equal(backoff(20, () => 1), 15000);
  assert.ok(backoff(3, () => 0.5) > backoff(1, () => 0.5));
  assert.notEqual(newClientId('v'), newClientId('v'));
  assert.match(newClientId('v'), /^v-[0-9a-z]+-[0-9a-z]+$/);
});
