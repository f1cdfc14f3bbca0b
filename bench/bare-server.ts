// The peer for the ingest benchmark: same framework (Fastify), same body handling (raw buffer, JSON.parse), answers 200.
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/v1/batch', async (request) => {
  const body = JSON.parse((request.body as Buffer).toString('utf8')) as { batch: unknown[] };
  return { success: true, accepted: body.batch.length };
});
const address = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
