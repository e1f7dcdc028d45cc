// The one way the pages talk to hostr's JSON API. Every failure becomes an
// ApiError whose `message` is a sentence for a person: the server's own
// message when it sent one, else a plain description of what went wrong.

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const GENERIC = {
  0: 'The hostr server could not be reached. Check your connection and try again.',
  401: 'Please sign in first.',
  403: 'That is not allowed.',
  404: 'That could not be found.',
  429: 'Too many requests at once. Wait a moment and try again.',
  500: 'Something went wrong on our side. Please try again; if it keeps happening, contact the operator.',
  502: 'A service hostr relies on did not answer properly. Please try again in a minute.',
  503: 'The service is briefly unavailable. Please try again in a minute.',
  504: 'A service hostr relies on took too long to answer. Please try again in a minute.',
};

/** `api('POST', '/api/new-user', {email})` → the parsed JSON answer (null for 204). */
export async function api(method, path, body) {
  const init = {method, credentials: 'same-origin', cache: 'no-store', headers: {Accept: 'application/json'}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  const sent = Date.now();
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', GENERIC[0]);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    if (error && typeof error.message === 'string') {
      throw new ApiError(response.status, String(error.code || 'error'), error.message, data);
    }
    const generic = GENERIC[response.status] || GENERIC[Math.floor(response.status / 100) * 100] ||
      `The server answered with an unexpected error (${response.status}). Please try again.`;
    throw new ApiError(response.status, `http_${response.status}`, generic, data);
  }
  if (data === null || typeof data !== 'object') {
    throw new ApiError(response.status, 'bad_answer', 'The server sent an answer this page does not understand. Please reload the page.');
  }
  Object.defineProperty(data, 'sentAt', {value: sent});
  return data;
}

/** Whether the error means "no session" (so the page should offer sign-in). */
export function isSignedOut(error) {
  return error instanceof ApiError && error.status === 401;
}
