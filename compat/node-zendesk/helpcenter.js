// Reads (and writes a little of) Tandem's help center with an unmodified node-zendesk,
// the way a script written for Zendesk's Help Center API does, and prints what it got
// as JSON. helpcenter_test.go runs it against a real server: ZD_URL (…/api/v2/help_center),
// ZD_USER and ZD_TOKEN say where and who; ZD_ARTICLE, ZD_SECTION and ZD_ATTACHMENT name
// what the test created.
const zendesk = require('node-zendesk');

const client = zendesk.createClient({
  username: process.env.ZD_USER,
  token: process.env.ZD_TOKEN,
  endpointUri: process.env.ZD_URL,
});
const hc = client.helpcenter;
const article = Number(process.env.ZD_ARTICLE);
const section = Number(process.env.ZD_SECTION);
const attachment = Number(process.env.ZD_ATTACHMENT);
const ids = (list) => list.map((r) => r.id);
// Single-object answers come back whole when node-zendesk does not know the key.
const body = (r) => (r && r.result !== undefined ? r.result : r);

(async () => {
  const out = {};
  out.categories = ids(await hc.categories.list());
  out.sections = ids(await hc.sections.list());
  out.articles = ids(await hc.articles.list());
  out.sectionArticles = ids(await hc.articles.listBySection(section));
  out.frArticles = (await hc.articles.listByLocale('fr')).map((a) => a.locale);
  const shown = body(await hc.articles.show(article));
  out.shown = { id: shown.id, title: shown.title, html_url: shown.html_url };
  out.translations = (await hc.translations.listByArticle(article)).map((t) => t.locale);
  const found = body(await hc.search.searchArticles('return label'));
  out.search = (found.results || []).map((r) => r.id);
  out.labels = (body(await hc.articlelabels.listByArticle(article)).labels || []).map((l) => l.name);
  const vote = body(await hc.votes.createUpVoteForArticle(article));
  out.vote = (vote.vote || vote).value;
  out.attachments = (body(await hc.articleattachments.list(article)).article_attachments || []).map((a) => a.file_name);
  out.block = (body(await hc.articleattachments.listBlock(article)).article_attachments || []).map((a) => a.file_name);
  out.inline = (body(await hc.articleattachments.listInline(article)).article_attachments || []).map((a) => a.file_name);
  const att = body(await hc.articleattachments.show(attachment)).article_attachment;
  out.attachment = { id: att.id, article_id: att.article_id, content_url: att.content_url };
  await hc.articleattachments.delete(attachment);
  out.afterDelete = (body(await hc.articleattachments.list(article)).article_attachments || []).length;
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e), e && e.result ? JSON.stringify(e.result) : '');
  process.exit(1);
});
