// Building DOM from data, for the console and the widget alike: text is
// always set as text (a text node or textContent), never parsed as markup.

/**
 * Builds an element. Attributes: `on*` functions become listeners,
 * `text` sets the text, `dataset` fills data-*, a non-string value of a
 * known property (checked, disabled, value …) is set as the property,
 * anything else as an attribute (`true` as an empty one). Children may be
 * nodes, strings (as text), arrays of them, or falsy (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string' && v !== true) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// The tags and attributes an article's HTML may keep (what the desk's
// cleaner lets through, minus anything that could run or restyle).
const ARTICLE_TAGS = new Set(['p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'b', 'em', 'i', 'del', 's',
  'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const SAFE_URL = /^(https?:|mailto:|\/(?!\/)|#)/i;
// Dropped with everything inside them (other unknown tags keep their text).
const DROPPED_TAGS = new Set(['script', 'style', 'template', 'iframe', 'object', 'embed', 'noscript', 'textarea', 'title', 'svg', 'math']);

/**
 * Fills `el` with an article's HTML without an HTML sink: the desk
 * cleaned it already; here it is parsed into an inert document and copied
 * element by element, keeping only the tags above, `href` (http, https,
 * mailto, same-site), `src` (http, https), `alt` and `title`; links open in
 * a new tab without the opener. Text stays text.
 */
export function setArticleHtml(el, html) {
  const inert = new DOMParser().parseFromString(String(html || ''), 'text/html');
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.data);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const tag = node.localName;
    if (DROPPED_TAGS.has(tag)) return null;
    const kids = [...node.childNodes].map(copy).filter(Boolean);
    if (!ARTICLE_TAGS.has(tag)) return kids.length ? kids : null;
    const out = document.createElement(tag);
    for (const name of ['alt', 'title']) if (node.hasAttribute(name)) out.setAttribute(name, node.getAttribute(name));
    const href = node.getAttribute('href');
    if (tag === 'a' && href && SAFE_URL.test(href.trim())) {
      out.setAttribute('href', href.trim());
      out.target = '_blank';
      out.rel = 'noopener noreferrer';
    }
    const src = node.getAttribute('src');
    if (tag === 'img' && src && /^https?:/i.test(src.trim())) out.setAttribute('src', src.trim());
    out.append(...kids.flat());
    return out;
  };
  el.replaceChildren(...[...inert.body.childNodes].map(copy).flat(Infinity).filter(Boolean));
  return el;
}
