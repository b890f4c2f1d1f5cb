// livedesk widget loader: the only script a host page runs. It draws the
// launcher in a shadow root (styles set through the CSSOM, so a strict
// host CSP needs no 'unsafe-inline' and host CSS cannot reach it),
// and loads the chat panel, an iframe of the desk's own origin, on intent
// (hover, focus, touch, click) or at once when a chat is already running.
// The chat token lives only inside that iframe, never in the host page.
(() => {
  'use strict';
  const script = document.currentScript;
  if (!script || window.__livedeskWidget) return;
  window.__livedeskWidget = true;
  const desk = new URL(script.src, location.href).origin;
  const data = script.dataset;
  const groups = (data.group || '').split(',').map((s) => s.trim()).filter(Boolean);
  const asked = parseInt(data.offset, 10);
  const offset = Number.isFinite(asked) ? Math.max(0, Math.min(200, asked)) : 20;
  const openOnLoad = data.open === 'true' || data.open === '';
  const FLAG = 'livedesk.widget'; // host sessionStorage: {running, open}; never the token

  const readFlag = () => {
    try { return JSON.parse(sessionStorage.getItem(FLAG) || '{}') || {}; } catch (e) { return {}; }
  };
  const writeFlag = (patch) => {
    try { sessionStorage.setItem(FLAG, JSON.stringify(Object.assign(readFlag(), patch))); } catch (e) { /* storage off */ }
  };
  const css = (el, rules) => {
    for (const [k, v] of Object.entries(rules)) el.style.setProperty(k, v, 'important');
  };

  const query = groups.length ? '?groups=' + encodeURIComponent(groups.join(',')) : '';
  fetch(desk + '/api/visitor/widget' + query, { credentials: 'omit' })
    .then((r) => r.json().then((body) => (r.ok ? body : Promise.reject(body.error || body))))
    .then(draw)
    .catch((e) => {
      script.dataset.livedeskState = 'refused';
      console.error('livedesk widget: ' + ((e && e.message) || 'the desk cannot be reached'));
    });

  function draw(info) {
    const look = info.groups[0];
    if (!look) throw new Error('the desk has no groups yet');
    const side = data.position === 'left' || data.position === 'right' ? data.position : look.position;
    const host = document.createElement('livedesk-widget');
    css(host, {
      all: 'initial', position: 'fixed', bottom: offset + 'px', [side]: offset + 'px',
      'z-index': '2147483647', display: 'block', width: '0', height: '0', margin: '0', padding: '0',
      border: '0', transform: 'none', filter: 'none', opacity: '1', visibility: 'visible',
      contain: 'none', 'pointer-events': 'auto',
    });
    const root = host.attachShadow({ mode: 'open' });

    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('aria-label', look.title);
    button.setAttribute('aria-expanded', 'false');
    button.title = look.title;
    css(button, {
      all: 'initial', position: 'absolute', bottom: '0', [side]: '0', width: '60px', height: '60px',
      'border-radius': '50%', background: look.color, color: look.text_color, cursor: 'pointer',
      display: 'flex', 'align-items': 'center', 'justify-content': 'center',
      'box-shadow': '0 4px 14px rgba(0,0,0,.28)', 'outline-offset': '3px',
    });
    const ns = 'http://www.w3.org/2000/svg';
    const icon = document.createElementNS(ns, 'svg');
    icon.setAttribute('viewBox', '0 0 24 24');
    icon.setAttribute('width', '28');
    icon.setAttribute('height', '28');
    icon.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z');
    icon.appendChild(path);
    button.appendChild(icon);
    const badge = document.createElement('span');
    css(badge, {
      all: 'initial', position: 'absolute', top: '-4px', right: '-4px', 'min-width': '22px', height: '22px',
      'border-radius': '11px', background: '#b00020', color: '#fff', 'font': '700 13px/22px system-ui, sans-serif',
      'text-align': 'center', display: 'none', padding: '0 5px', 'box-sizing': 'border-box',
    });
    button.appendChild(badge);
    root.appendChild(button);
    (document.body || document.documentElement).appendChild(host);

    let frame = null;
    let ready = false;
    let open = false;
    const title = document.title;
    const phone = window.matchMedia('(max-width: 480px)');

    function place() {
      if (!frame) return;
      if (phone.matches) {
        const vv = window.visualViewport;
        // The whole visual viewport: inside the scrollbars, and above the
        // on-screen keyboard, which shrinks the visual viewport.
        css(frame, {
          position: 'fixed', left: '0', right: '0', top: vv ? vv.offsetTop + 'px' : '0', bottom: 'auto',
          width: '100%', height: vv ? vv.height + 'px' : '100%', 'max-height': 'none', 'border-radius': '0',
        });
      } else {
        css(frame, {
          position: 'absolute', bottom: '0', [side]: '0', top: 'auto', width: '380px',
          height: 'min(620px, calc(100vh - ' + (offset * 2) + 'px))', 'border-radius': '12px',
        });
      }
    }

    function load() {
      if (frame) return;
      const params = new URLSearchParams({ embed: '1', host: location.origin });
      if (groups.length) params.set('groups', groups.join(','));
      if (data.language) params.set('lang', data.language);
      params.set('page', location.href.slice(0, 2000));
      frame = document.createElement('iframe');
      frame.title = look.title;
      frame.src = desk + '/widget/panel?' + params.toString();
      frame.setAttribute('allow', 'autoplay');
      css(frame, {
        all: 'initial', border: '0', display: 'none', background: '#fff',
        'box-shadow': '0 8px 30px rgba(0,0,0,.3)', 'color-scheme': 'light',
      });
      place();
      root.appendChild(frame);
    }

    function post(msg) {
      if (frame && ready) frame.contentWindow.postMessage(Object.assign({ livedesk: true }, msg), desk);
    }

    function setOpen(next, focus) {
      open = next;
      load();
      css(frame, { display: open ? 'block' : 'none' });
      css(button, { display: open ? 'none' : 'flex' });
      button.setAttribute('aria-expanded', String(open));
      writeFlag({ open });
      post({ type: open ? 'shown' : 'hidden', focus: !!focus });
      if (!open && focus) button.focus();
    }

    for (const ev of ['pointerenter', 'focus', 'touchstart']) button.addEventListener(ev, load, { passive: true });
    button.addEventListener('click', () => setOpen(true, true));
    phone.addEventListener('change', place);
    if (window.visualViewport) {
      window.visualViewport.addEventListener('resize', place);
      window.visualViewport.addEventListener('scroll', place);
    }

    window.addEventListener('message', (e) => {
      if (!frame || e.origin !== desk || e.source !== frame.contentWindow) return;
      const m = e.data;
      if (!m || m.livedesk !== true) return;
      if (m.type === 'ready') {
        ready = true;
        post({ type: open ? 'shown' : 'hidden', focus: open });
      } else if (m.type === 'close') {
        setOpen(false, true);
      } else if (m.type === 'running') {
        writeFlag({ running: !!m.on });
      } else if (m.type === 'unread') {
        const n = Math.max(0, m.count | 0);
        badge.textContent = String(n);
        css(badge, { display: n && !open ? 'block' : 'none' });
        document.title = n && document.hidden ? '(' + n + ') ' + title : title;
      }
    });

    script.dataset.livedeskState = 'ready';
    script.dataset.livedeskDrawnAt = String(Math.round(performance.now()));
    const flag = readFlag();
    if (flag.running || openOnLoad || flag.open) load();
    if (flag.open || (openOnLoad && flag.open !== false)) setOpen(true, false);
  }
})();
