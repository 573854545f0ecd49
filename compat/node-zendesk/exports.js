// Walks Tandem's incremental exports with an unmodified node-zendesk, the way a sync
// written for Zendesk does, and prints what it got as JSON. exports_test.go runs it
// against a real server: ZD_URL (…/api/v2), ZD_USER and ZD_TOKEN say where and who.
const zendesk = require('node-zendesk');

const client = zendesk.createClient({
  username: process.env.ZD_USER,
  token: process.env.ZD_TOKEN,
  endpointUri: process.env.ZD_URL,
});

const ids = (list) => list.map((r) => r.id);

(async () => {
  const out = {};
  // tickets.incremental and its kin (getAll) stop after the first page: node-zendesk
  // 6.0.1 reads count from the HTTP response object rather than the body, so it never
  // sees 1,000 (the same happens against Zendesk).
  out.ticketsFirstPage = ids(await client.tickets.incremental(0));
  out.ticketsIncludeFirstPage = ids(await client.tickets.incrementalInclude(0, 'users'));
  // Time-based walk, page by page: start at 0, go on from end_time to end_of_stream.
  out.tickets = [];
  out.timePages = 0;
  for (let start = 0; ;) {
    const page = (await client.ticketexport.exportWithUser(start)).result;
    out.timePages++;
    out.tickets.push(...ids(page.tickets));
    if (!page.users || page.users.length === 0) throw new Error('no users sideloaded');
    if (page.end_of_stream) break;
    start = page.end_time;
  }
  out.users = ids(await client.users.incremental(0));
  out.organizations = ids(await client.organizations.incremental(0));
  out.ticketEvents = (await client.ticketevents.incremental(0)).map((e) => e.ticket_id);
  // Cursor-based: start at a time, then follow after_cursor to the end of the stream.
  out.cursorTickets = [];
  out.cursorPages = 0;
  let page = (await client.ticketexport.exportCursor(0)).result;
  for (;;) {
    out.cursorPages++;
    out.cursorTickets.push(...ids(page.tickets));
    if (page.end_of_stream) break;
    page = (await client.ticketexport.exportCursor(0, page.after_cursor)).result;
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
