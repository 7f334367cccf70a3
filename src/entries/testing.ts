/**
 * `tsgi/testing`: the test client (WebTest's `TestApp`, Werkzeug's `Client`). See
 * docs/testing.md.
 *
 * @module
 */
export { TestClient } from '../testing/client.ts';
export { TestResponse } from '../testing/response.ts';
export type { ReceivedEvent } from '../testing/event-stream.ts';
export { HtmlForm, type SetOptions } from '../testing/form.ts';
export { CookieJar, type StoredCookie } from '../testing/cookies.ts';
export { TestClientError } from '../testing/error.ts';
export type { PageElement } from '../testing/html.ts';
export type { LinkQuery } from '../testing/links.ts';
export type { StreamedBody } from '../testing/streamed-input.ts';
export type { HeldBody } from '../testing/held-body.ts';
export type { RequestOptions, StatusExpectation, TestClientOptions } from '../testing/options.ts';
