// One chat's messages by seq: merge, dedupe, gaps, and pending (not yet
// acknowledged) sends that are resent after a reconnect. Used by the
// widget's panel and the console, so both obey one ordering rule:
//
// - a message is shown once, by its seq, in seq order;
// - a visitor's stream may skip seqs (whispers), so each message says
//   `prev_seq`, the seq of the one before it this client could see; when
//   it is not our last seq we missed something and must resume from it;
// - a sent message stays pending (shown, marked) until its ack or its copy
//   from the desk arrives (matched by client_id), then takes its seq.

/** The result of adding a message. */
export const Added = Object.freeze({ NEW: 'new', DUPLICATE: 'duplicate', GAP: 'gap' });

export class ChatLog {
  constructor() {
    /** seq -> message */
    this.bySeq = new Map();
    /** client_id -> { client_id, body, at } not yet acknowledged, in send order */
    this.pending = new Map();
    this.lastSeq = 0;
  }

  /**
   * Adds a message from the desk. `prevSeq` (visitor streams) is the seq
   * of the one before it; when given and not our last seq, nothing is
   * added and GAP says to resume from `lastSeq`.
   */
  add(message, prevSeq) {
    if (!message || !Number.isInteger(message.seq)) return Added.DUPLICATE;
    if (message.seq <= this.lastSeq || this.bySeq.has(message.seq)) {
      this.settle(message.client_id, message.seq);
      return Added.DUPLICATE;
    }
    if (Number.isInteger(prevSeq) && prevSeq !== this.lastSeq) return Added.GAP;
    this.bySeq.set(message.seq, message);
    this.lastSeq = message.seq;
    this.settle(message.client_id, message.seq);
    return Added.NEW;
  }

  /** Records a send before the desk has it; returns its pending entry. */
  send(clientId, body, at) {
    const entry = { client_id: clientId, body, at };
    this.pending.set(clientId, entry);
    return entry;
  }

  /** An ack for one of our sends: it is no longer pending. */
  ack(clientId) {
    this.pending.delete(clientId);
  }

  settle(clientId) {
    if (clientId) this.pending.delete(clientId);
  }

  /** Pending sends in the order they were made (to resend after reconnect). */
  pendingList() {
    return [...this.pending.values()];
  }

  /** Messages in seq order. */
  messages() {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Restores pending sends saved before a reload. */
  restorePending(list) {
    for (const p of list || []) {
      if (p && typeof p.client_id === 'string' && typeof p.body === 'string') {
        this.pending.set(p.client_id, { client_id: p.client_id, body: p.body, at: p.at || 0 });
      }
    }
  }
}

/** A client id unique enough within one chat: time and randomness. */
export function newClientId(prefix) {
  const rand = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${Date.now().toString(36)}-${rand}`;
}

/** Delay before reconnect attempt `n` (0-based): 0.5 s doubling to 15 s, with jitter. */
export function backoff(n, random = Math.random) {
  const base = Math.min(15000, 500 * 2 ** Math.min(n, 5));
  return Math.round(base / 2 + random() * base / 2);
}
