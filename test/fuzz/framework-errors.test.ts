// Regression (found by test/fuzz/multipart.test.ts): errors raised by fastify's plugins with a
// client status that server/plugins/errors.ts did not map came back with that status but the
// code "bad_request" (e.g. 406 bad_request), contradicting the one catalogue of codes and
// statuses. Now each answers with a catalogued code and exactly that code's status.
import t from 'tap';
import { startTestServer, seedFleet } from '../helpers/server.js';
import { errorStatus } from '../../server/errors.js';

t.test('a multipart part declared as JSON that is not JSON is a 400 bad_request', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const boundary = 'framework-errors';
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="manifest"\r\nContent-Type: application/json\r\n\r\n{not json\r\n--${boundary}--\r\n`;
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/v1/releases',
    payload,
    headers: { authorization: `Bearer ${fleet.tokens.release}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  const error = response.json().error;
  t.equal(response.statusCode, 400);
  t.equal(error.code, 'bad_request');
  t.equal(errorStatus[error.code as keyof typeof errorStatus], response.statusCode, "the status is the catalogue's for the code");
});
