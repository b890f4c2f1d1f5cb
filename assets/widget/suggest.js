// The step between the visitor's question and the chat: up to three
// knowledge-base articles that may answer it. The visitor opens one and
// says it solved the problem (counted; no chat starts), or goes on to the
// chat with their question kept, or back to the form. No suggestion, or
// the desk not answering: the chat starts at once.
//
// An article's body is the one piece of formatted text the panel shows:
// admins wrote it, the desk cleaned it, and `setArticleHtml` copies it in
// through an allow-list of tags (no HTML sink); everything else is text.
import { h, setArticleHtml } from '../shared/dom.js';

/**
 * Resolves to 'chat' (start it), 'solved' or 'back'. `call` is the
 * widget's REST caller, `s` its strings, `view` the panel's view.
 */
export async function suggestStep({ call, s, view, visitor, group }) {
  let found;
  try {
    const q = new URLSearchParams({ group: group.id, q: visitor.question });
    found = await call('GET', `/api/visitor/articles?${q}`);
  } catch (e) {
    return 'chat';
  }
  if (!found || !found.articles || !found.articles.length) return 'chat';
  return new Promise((resolve) => {
    const chatButton = () => h('button', { type: 'button', class: 'primary', id: 'kb-chat', text: s('kb_chat'), onclick: () => resolve('chat') });

    const list = () => {
      const heading = h('h2', { class: 'greeting', id: 'kb-title', tabindex: '-1', text: s('kb_title') });
      view.replaceChildren(h('section', { class: 'card kb', id: 'kb-list' },
        heading,
        h('ul', { class: 'kb-items' }, found.articles.map((a) => h('li', {},
          h('button', { type: 'button', class: 'kb-item', dataset: { article: a.id }, onclick: () => open(a.id) },
            h('strong', { text: a.title }), h('span', { class: 'hint', text: a.excerpt }))))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'plain', id: 'kb-back', text: s('kb_back'), onclick: () => resolve('back') }),
          chatButton())));
      heading.focus();
    };

    const open = async (id) => {
      let a;
      try { a = await call('GET', `/api/visitor/articles/${encodeURIComponent(id)}`); } catch (e) { resolve('chat'); return; }
      const body = setArticleHtml(h('div', { class: 'kb-body', id: 'kb-body' }), a.html);
      const error = h('p', { class: 'err', role: 'alert' });
      const heading = h('h2', { class: 'greeting', id: 'kb-article-title', tabindex: '-1', text: a.title });
      view.replaceChildren(h('section', { class: 'card kb', id: 'kb-article' },
        heading, body,
        h('p', { class: 'kb-ask', text: s('kb_helped') }),
        error,
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'plain', id: 'kb-list-back', text: s('kb_back'), onclick: list }),
          h('button', { type: 'button', class: 'plain', id: 'kb-solved', text: s('kb_solved'), onclick: async (e) => {
            e.target.disabled = true;
            try {
              await call('POST', `/api/visitor/articles/${encodeURIComponent(id)}/solved`, { group: group.id });
            } catch (err) {
              // Counting failed; the visitor's problem is solved all the same.
            }
            view.replaceChildren(h('p', { class: 'sent', id: 'kb-thanks', role: 'status', text: s('kb_thanks') }));
            resolve('solved');
          } }),
          chatButton())));
      heading.focus();
    };

    list();
  });
}
