// The knowledge base in the console: `#/articles` lists and searches the
// articles the signed-in staff member may see (admins: drafts too) and
// `#/articles/{id}` (or `new`) edits one, with a live preview rendered by
// the desk; agents read them there. `articleSearch()` is the chat
// window's dialog: search, then send a link in one click.
//
// An article's HTML comes cleaned by the desk and is copied in through an
// allow-list (`setArticleHtml`), never by an HTML sink; the rest is text.
import { api } from './api.js';
import { h, errorSlot, dialog, announce, clock } from './dom.js';
import { setArticleHtml } from '../shared/dom.js';
import { groupMap } from './names.js';

const LANGUAGES = [['en', 'English'], ['da', 'Danish'], ['de', 'German'], ['es', 'Spanish'], ['fi', 'Finnish'], ['fr', 'French'], ['it', 'Italian'], ['nl', 'Dutch'], ['no', 'Norwegian'], ['pt', 'Portuguese'], ['sv', 'Swedish']];


async function find(q) {
  const r = await api('GET', `/api/articles${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  return r.articles;
}

/**
 * The chat window's article search: a dialog with a search box; each
 * result sends "Title: link" to the visitor at once (`send(text)`) or puts
 * it into the compose box (`insert(text)`).
 */
export function articleSearch({ send, insert, question }) {
  const input = h('input', { type: 'search', id: 'kb-search', 'aria-label': 'Search articles', placeholder: 'Search articles…', value: question || '' });
  const results = h('ul', { class: 'plain kb-results', id: 'kb-results', 'aria-live': 'polite' });
  const err = errorSlot();
  let timer = null;
  let seq = 0;
  const run = async () => {
    const mine = ++seq;
    let list;
    try { list = (await find(input.value.trim())).filter((a) => a.published); err.clear(); } catch (e) { err.show(e.message); return; }
    if (mine !== seq) return;
    const text = (a) => `${a.title}: ${a.link}`;
    results.replaceChildren(...(list.length ? list.slice(0, 8).map((a) => h('li', { class: 'kb-result', dataset: { article: a.id } },
      h('strong', {}, a.title), h('span', { class: 'muted small' }, a.excerpt),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'small', 'aria-label': `Send link: ${a.title}`, onclick: () => { send(text(a)); d.close(); announce(`Sent the link to ${a.title}.`); } }, 'Send link'),
        h('button', { type: 'button', class: 'small secondary', 'aria-label': `Insert: ${a.title}`, onclick: () => { insert(text(a)); d.close(); } }, 'Insert'),
        h('a', { href: a.link, target: '_blank', rel: 'noopener noreferrer', class: 'small' }, 'Open'))))
      : [h('li', { class: 'muted' }, input.value.trim() ? 'No published article matches.' : 'No published articles yet.')]));
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(run, 200); });
  const d = dialog('Send an article', h('div', { class: 'stack' }, input, err.el, results,
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'secondary', onclick: () => d.close() }, 'Close'))), { id: 'kb-dialog', focus: input });
  run();
  return d;
}

function listScreen(ctx, groups) {
  const isAdmin = ['owner', 'admin'].includes(ctx.me.role);
  const root = h('section', { id: 'articles-screen' });
  const input = h('input', { type: 'search', id: 'articles-search', 'aria-label': 'Search articles', placeholder: 'Search: words of a question, typos are fine' });
  const err = errorSlot();
  const box = h('div', { class: 'table-box' });
  root.append(h('div', { class: 'row spread' }, h('h1', {}, 'Knowledge base'),
    isAdmin ? h('a', { href: '#/articles/new', class: 'button-link', id: 'article-new' }, 'New article') : null),
  h('p', { class: 'muted' }, isAdmin
    ? 'Published articles are suggested to visitors before a chat starts (of their group, or of every group) and can be sent from a chat. Drafts are yours only.'
    : 'Published articles of your groups. Send one from a chat with "Articles".'),
  h('form', { class: 'row filters', onsubmit: (e) => { e.preventDefault(); load(); } }, input, h('button', { type: 'submit', class: 'secondary' }, 'Search')),
  err.el, box);
  let timer = null;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  async function load() {
    let list;
    try { list = await find(input.value.trim()); err.clear(); } catch (e) { err.show(e.message); return; }
    box.replaceChildren(list.length ? h('table', { id: 'articles-table' },
      h('thead', {}, h('tr', {}, ['Title', 'Group', 'Language', 'State', 'Changed'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, list.map((a) => h('tr', { dataset: { article: a.id } },
        h('td', {}, h('a', { href: `#/articles/${a.id}` }, a.title), h('div', { class: 'muted small' }, a.excerpt)),
        h('td', {}, a.group ? (groups[a.group] ? groups[a.group].name : '(deleted group)') : 'Every group'),
        h('td', {}, (LANGUAGES.find(([c]) => c === a.language) || [a.language, a.language])[1]),
        h('td', {}, h('span', { class: `pill ${a.published ? 'status-open' : ''}` }, a.published ? 'Published' : 'Draft')),
        h('td', {}, clock(a.updated_at))))))
      : h('p', { class: 'card muted', id: 'articles-empty' }, input.value.trim() ? 'No article matches.' : 'No articles yet.'));
  }
  load();
  return root;
}

async function editScreen(ctx, id, groups) {
  const isAdmin = ['owner', 'admin'].includes(ctx.me.role);
  const fresh = id === 'new';
  const a = fresh ? { title: '', body: '', tags: [], group: null, language: 'en', published: false } : await api('GET', `/api/articles/${id}`);
  const root = h('section', { id: 'article-screen' });
  const back = h('p', {}, h('a', { href: '#/articles' }, '← Knowledge base'));
  if (!isAdmin) {
    root.append(back, h('article', { class: 'card kb-read', id: 'article-read' }, h('h1', {}, a.title), setArticleHtml(h('div'), a.html),
      h('p', { class: 'muted small' }, 'Link for visitors: ', h('a', { href: a.link, target: '_blank', rel: 'noopener noreferrer' }, a.link))));
    return root;
  }
  const err = errorSlot();
  const title = h('input', { id: 'article-title', required: true, maxlength: 200, value: a.title });
  const body = h('textarea', { id: 'article-body', rows: 12, 'aria-describedby': 'article-body-hint' });
  body.value = a.body; // a textarea's text is its property, not an attribute
  const tags = h('input', { id: 'article-tags', value: a.tags.join(', '), 'aria-describedby': 'article-tags-hint' });
  const group = h('select', { id: 'article-group' }, h('option', { value: '' }, 'Every group'),
    Object.values(groups).sort((x, y) => x.name.localeCompare(y.name)).map((g) => h('option', { value: g.id, selected: a.group === g.id }, g.name)));
  const language = h('select', { id: 'article-language' }, LANGUAGES.map(([c, n]) => h('option', { value: c, selected: a.language === c }, n)));
  const published = h('input', { type: 'checkbox', id: 'article-published', checked: a.published });
  const preview = h('div', { class: 'card kb-read', id: 'article-preview', 'aria-live': 'polite' });
  let timer = null;
  const drawPreview = async () => {
    try { setArticleHtml(preview, (await api('POST', '/api/articles/preview', { body: body.value })).html); } catch (e) { preview.textContent = e.message; }
  };
  body.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(drawPreview, 300); });
  const save = async (e) => {
    e.preventDefault();
    const data = {
      title: title.value, body: body.value, language: language.value, published: published.checked,
      group: group.value || null, tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
    };
    try {
      const r = fresh ? await api('POST', '/api/articles', data) : await api('PATCH', `/api/articles/${id}`, data);
      err.clear();
      announce(`Saved “${r.title}”${r.published ? ', published' : ' as a draft'}.`);
      if (fresh) location.hash = `#/articles/${r.id}`;
    } catch (ex) { err.show(ex.message); }
  };
  const remove = !fresh ? h('button', { type: 'button', class: 'danger', id: 'article-delete', onclick: async () => {
    if (!confirm(`Delete “${a.title}” for good?`)) return;
    try { await api('DELETE', `/api/articles/${id}`); announce('Article deleted.'); location.hash = '#/articles'; } catch (ex) { err.show(ex.message); }
  } }, 'Delete') : null;
  root.append(back, h('h1', {}, fresh ? 'New article' : 'Edit article'),
    h('div', { class: 'grid2' },
      h('form', { class: 'card', id: 'article-form', onsubmit: save },
        h('label', {}, 'Title', title),
        h('label', {}, 'Text (Markdown)', body, h('span', { class: 'muted small', id: 'article-body-hint' }, '**bold**, *italic*, [a link](https://…), # a heading, - a list.')),
        h('label', {}, 'Tags', tags, h('span', { class: 'muted small', id: 'article-tags-hint' }, 'Comma-separated words that help search, like refund, returns.')),
        h('div', { class: 'row' }, h('label', {}, 'Group', group), h('label', {}, 'Language', language)),
        h('label', { class: 'check' }, published, 'Published: suggested to visitors and agents'),
        err.el,
        h('div', { class: 'row' }, h('button', { type: 'submit', id: 'article-save' }, 'Save'), remove,
          !fresh && a.published ? h('a', { href: a.link, target: '_blank', rel: 'noopener noreferrer' }, 'Open its page') : null)),
      h('section', {}, h('h2', {}, 'Preview'), preview)));
  drawPreview();
  return root;
}

export async function articlesView(ctx, id) {
  const groups = await groupMap();
  return id ? editScreen(ctx, id, groups) : listScreen(ctx, groups);
}
