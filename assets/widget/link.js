// The visitor socket, owned by one object: hello with the last seq the
// chat log has, a dispatch table by frame type, a jittered reconnect
// (at once when the browser is back online or the tab visible again),
// and typing frames at most every 400 ms. The panel decides what frames
// mean; this file only keeps the connection.

import { backoff } from '../shared/chatlog.js';

const TYPING_EVERY_MS = 400;

export class Link {
  /**
   * `token` opens the chat. `hooks`: `lastSeq()` the last seq the log has,
   * `frames` the dispatch table by frame type (each called with the frame
   * and this link), `down()` when a retry failed (show the banner),
   * `peek()` whether the group lets agents see the draft.
   */
  constructor(token, hooks) {
    this.token = token;
    this.hooks = hooks;
    this.ws = null;
    this.failures = 0;
    this.timer = null;
    this.stopped = false;
    this.helloDone = false;
    this.typingSent = 0;
    this.typingTimer = null;
    this.onOnline = () => this.now();
    this.onVisible = () => { if (!document.hidden) this.now(); };
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const url = location.origin.replace(/^http/, 'ws') + '/api/ws/visitor';
    const ws = new WebSocket(url);
    this.ws = ws;
    this.helloDone = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.token, last_seq: this.hooks.lastSeq() }));
    ws.onmessage = (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      const handle = this.hooks.frames[frame.type];
      if (handle) handle(frame, this);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.failures += 1;
      if (this.failures > 1 || !navigator.onLine) this.hooks.down();
      this.timer = setTimeout(() => this.connect(), backoff(this.failures - 1));
    };
  }

  /** Retry at once (back online, tab visible again) when not connected. */
  now() {
    if (!this.stopped && !this.ws) this.connect();
  }

  /** Reconnects from our last seq (after a gap). */
  restart() {
    if (this.ws) this.ws.close();
  }

  send(frame) {
    if (this.ws && this.helloDone && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  typing(text) {
    clearTimeout(this.typingTimer);
    const draft = text.trim() ? (this.hooks.peek() ? text.slice(0, 1000) : '…') : null;
    const wait = TYPING_EVERY_MS - (Date.now() - this.typingSent);
    const go = () => { this.typingSent = Date.now(); this.send({ type: 'typing', text: draft }); };
    if (draft === null || wait <= 0) go();
    else this.typingTimer = setTimeout(go, wait);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.typingTimer);
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
  }
}
