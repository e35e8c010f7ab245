// A real local OpenID Connect provider for the SSO tests (npm oauth2-mock-server): discovery, JWKS, signed tokens.
// Usage: node oidc_provider.mjs <oauth2-mock-server folder> <claims.json>
// Every ID token, access token and userinfo answer carries the claims in claims.json, read afresh each time so a
// test can change who "signs in" next. Prints {"issuer": ...} once listening; stops when stdin closes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, claimsFile] = process.argv.slice(2);
const { OAuth2Server } = await import(pathToFileURL(join(packageDir, "dist", "index.mjs")).href);

const claims = () => JSON.parse(readFileSync(claimsFile, "utf8"));
const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
await server.start(0, "127.0.0.1");
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
server.service.on("beforeTokenSigning", (token) => {
  Object.assign(token.payload, claims());
});
server.service.on("beforeUserinfo", (response) => {
  const { amr, ...userinfo } = claims(); // amr belongs to the ID token only
  response.body = userinfo;
});
console.log(JSON.stringify({ issuer: server.issuer.url }));
process.stdin.resume();
process.stdin.on("end", async () => {
  await server.stop();
  process.exit(0);
});
