// The widget's sound: a short beep for a new agent message (only after the
// visitor turned sound on) and the bell icon of the header's switch.

let audio = null;

/** Plays a short, quiet beep; nothing where audio is unavailable. */
export function playBeep() {
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.25);
  } catch (e) { /* no audio here */ }
}

/** A bell icon (struck through when off); no font or emoji needed. */
export function bell(on) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '22');
  svg.setAttribute('aria-hidden', 'true');
  const d = ['M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z'];
  if (!on) d.push('M3.3 2.3l18.4 18.4-1.4 1.4L1.9 3.7z');
  for (const p of d) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', p);
    svg.appendChild(path);
  }
  return svg;
}
