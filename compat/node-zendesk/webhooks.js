// Manages webhooks with an unmodified node-zendesk's webhooks client, the way a script
// written for Zendesk does, and prints what it got as JSON. webhooks_test.go runs it
// against a real server: ZD_URL (…/api/v2), ZD_USER, ZD_TOKEN say where and who,
// HOOK_URL is a receiver the webhook calls.
const zendesk = require('node-zendesk');

const client = zendesk.createClient({
  username: process.env.ZD_USER,
  token: process.env.ZD_TOKEN,
  endpointUri: process.env.ZD_URL,
});

(async () => {
  const out = {};
  const created = (await client.webhooks.create({
    webhook: {
      name: 'From node-zendesk',
      endpoint: process.env.HOOK_URL,
      http_method: 'POST',
      request_format: 'json',
      status: 'active',
      subscriptions: ['conditional_ticket_events'],
      authentication: {type: 'bearer_token', data: {token: 'node-token'}, add_position: 'header'},
    },
  })).result;
  const id = created.id;
  out.created = created;
  out.shown = (await client.webhooks.show(id)).result;
  await client.webhooks.update(id, {webhook: {...out.shown, name: 'Renamed by node'}});
  await client.webhooks.patch(id, {webhook: {status: 'inactive'}});
  out.afterUpdates = (await client.webhooks.show(id)).result;
  out.listed = (await client.webhooks.list()).map((w) => w.id);
  out.secret = (await client.webhooks.getSigningSecret(id)).result;
  out.resetSecret = (await client.webhooks.resetSigningSecret(id)).result;
  out.test = (await client.webhooks.test({request: {payload: '{"from":"node"}'}}, id)).result;
  out.invocations = (await client.webhooks.listInvocations(id)).result;
  await client.webhooks.delete(id);
  out.listedAfterDelete = (await client.webhooks.list()).map((w) => w.id);
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
