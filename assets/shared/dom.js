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
