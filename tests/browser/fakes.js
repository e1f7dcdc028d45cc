// Injected by tests/browser.rs into every page before the page's own
// scripts run (CDP Page.addScriptToEvaluateOnNewDocument), after a line
// that sets `window.__HOSTR_TEST__ = {secretKey, signer, mode, delayMs, relayEvents, webln}`.
//
// 1. A NIP-07 `window.nostr` that signs with a real secp256k1 key (BIP-340
//    Schnorr, below), appearing `delayMs` after load as extensions do.
//    `mode`: "ok" signs; "refuse" rejects like a person clicking "deny";
//    "bad" returns a signature that does not verify; "silent" never answers
//    at all (neither the public key nor a signature), like a locked signer
//    or a prompt hidden behind the window. Tests may change
//    `window.__HOSTR_TEST__.mode` between clicks. `signerTimeoutMs` sets
//    the pages' test hook `window.hostrSignerTimeoutMs` (how long sign-in
//    waits for the signer; 30 s otherwise).
// 2. A fake `WebSocket` that plays a Nostr relay serving `relayEvents`, so
//    no test ever connects to a relay it did not start: only addresses
//    starting with one of `realRelays` (the test's own local relay) get the
//    browser's real WebSocket.
// 3. `fetch`, watched: `fetches` lists every request the page makes, as
//    "METHOD /path?query", at the moment it is made.
// 4. With `webln: true`, a WebLN wallet (`window.webln`, as Alby provides)
//    whose `sendPayment(bolt11)` records the invoice in `paid` and pays it
//    through the sandbox (`POST /api/sandbox/pay` for the payment the server
//    issued that invoice for), as a real wallet would pay a real invoice.
(() => {
  const config = window.__HOSTR_TEST__;
  if (!config) return;

  // --- BIP-340 Schnorr signatures on secp256k1, with BigInt. Test-only. ---
  const P = 2n ** 256n - 0x1000003d1n;
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const G = [
    0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
    0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
  ];
  const mod = (a, m = P) => ((a % m) + m) % m;
  const inv = (a, m = P) => {
    let [t, nt, r, nr] = [0n, 1n, m, mod(a, m)];
    while (nr !== 0n) {
      const q = r / nr;
      [t, nt] = [nt, t - q * nt];
      [r, nr] = [nr, r - q * nr];
    }
    return mod(t, m);
  };
  const add = (p, q) => {
    if (!p) return q;
    if (!q) return p;
    const [x1, y1] = p;
    const [x2, y2] = q;
    let l;
    if (x1 === x2) {
      if (mod(y1 + y2) === 0n) return null;
      l = mod(3n * x1 * x1 * inv(2n * y1));
    } else {
      l = mod((y2 - y1) * inv(x2 - x1));
    }
    const x3 = mod(l * l - x1 - x2);
    return [x3, mod(l * (x1 - x3) - y1)];
  };
  const mul = (k, p = G) => {
    let r = null;
    let a = p;
    while (k > 0n) {
      if (k & 1n) r = add(r, a);
      a = add(a, a);
      k >>= 1n;
    }
    return r;
  };
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const bytes = (h) => Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16));
  const num = (b) => BigInt(`0x${hex(b)}`);
  const be32 = (n) => bytes(n.toString(16).padStart(64, '0'));
  const concat = (parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const sha = async (...parts) => new Uint8Array(await crypto.subtle.digest('SHA-256', concat(parts)));
  const tagged = async (tag, ...parts) => {
    const t = await sha(new TextEncoder().encode(tag));
    return sha(t, t, ...parts);
  };
  const secret = BigInt(`0x${config.secretKey}`);
  const point = mul(secret);
  const pubkey = hex(be32(point[0]));

  async function schnorr(msg) {
    const d = point[1] % 2n === 0n ? secret : N - secret;
    const aux = crypto.getRandomValues(new Uint8Array(32));
    const t = (await tagged('BIP0340/aux', aux)).map((b, i) => b ^ be32(d)[i]);
    const px = be32(point[0]);
    const k0 = mod(num(await tagged('BIP0340/nonce', t, px, msg)), N);
    const R = mul(k0);
    const k = R[1] % 2n === 0n ? k0 : N - k0;
    const rx = be32(R[0]);
    const e = mod(num(await tagged('BIP0340/challenge', rx, px, msg)), N);
    return hex(rx) + hex(be32(mod(k + e * d, N)));
  }

  const silent = () => window.__HOSTR_TEST__.mode === 'silent';
  const never = () => new Promise(() => {});
  const signer = {
    async getPublicKey() {
      if (silent()) return never();
      return pubkey;
    },
    async signEvent(event) {
      window.__HOSTR_TEST__.signRequests = (window.__HOSTR_TEST__.signRequests || 0) + 1;
      if (silent()) return never();
      if (window.__HOSTR_TEST__.mode === 'refuse') throw new Error('User rejected the request');
      const e = {...event, pubkey};
      const serialized = JSON.stringify([0, pubkey, e.created_at, e.kind, e.tags, e.content]);
      const id = await sha(new TextEncoder().encode(serialized));
      let sig = await schnorr(id);
      if (window.__HOSTR_TEST__.mode === 'bad') sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
      return {...e, id: hex(id), sig};
    },
  };
  if (config.signerTimeoutMs) window.hostrSignerTimeoutMs = config.signerTimeoutMs;
  if (config.signer) setTimeout(() => { window.nostr = signer; }, config.delayMs || 0);

  // --- A relay that serves `relayEvents`, in place of WebSocket. ---
  const matches = (f, ev) => (!f.kinds || f.kinds.includes(ev.kind)) &&
    (!f.authors || f.authors.includes(ev.pubkey)) && (!f.ids || f.ids.includes(ev.id));
  window.__HOSTR_TEST__.relaysAsked = [];
  const RealWebSocket = window.WebSocket;
  class FakeRelay extends EventTarget {
    constructor(url, protocols) {
      // A constructor may hand back another object: the real one.
      if ((config.realRelays || []).some((r) => String(url).startsWith(r))) return new RealWebSocket(url, protocols);
      super();
      this.url = String(url);
      this.readyState = 0;
      window.__HOSTR_TEST__.relaysAsked.push(this.url);
      setTimeout(() => {
        this.readyState = 1;
        this.fire('open', new Event('open'));
      }, 5);
    }

    send(data) {
      const msg = JSON.parse(data);
      if (msg[0] !== 'REQ') return;
      const [, sub, ...filters] = msg;
      for (const ev of config.relayEvents || []) {
        if (filters.some((f) => matches(f, ev))) this.deliver(['EVENT', sub, ev]);
      }
      this.deliver(['EOSE', sub]);
    }

    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.fire('close', new CloseEvent('close')), 0);
    }

    deliver(message) {
      setTimeout(() => {
        if (this.readyState === 1) this.fire('message', new MessageEvent('message', {data: JSON.stringify(message)}));
      }, 1);
    }

    fire(type, event) {
      const handler = this[`on${type}`];
      if (typeof handler === 'function') handler.call(this, event);
      this.dispatchEvent(event);
    }
  }
  Object.assign(FakeRelay, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = FakeRelay;

  // --- fetch, watched; and which payment each invoice the server sent is for. ---
  const realFetch = window.fetch.bind(window);
  const invoices = new Map();
  window.__HOSTR_TEST__.fetches = [];
  window.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url, location.href);
    const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
    window.__HOSTR_TEST__.fetches.push(`${method.toUpperCase()} ${url.pathname}${url.search}`);
    const response = await realFetch(input, init);
    if (response.ok && /^\/api\/(create|check)-invoice$/.test(url.pathname)) {
      const learn = (answer) => {
        const payment = answer && answer.payment;
        if (payment && payment.bolt11) invoices.set(payment.bolt11, payment.id);
      };
      await response.clone().json().then(learn, () => {});
    }
    return response;
  };

  // --- A WebLN wallet that pays through the sandbox. ---
  if (config.webln) {
    window.__HOSTR_TEST__.paid = [];
    let enabled = false;
    window.webln = {
      async enable() {
        enabled = true;
      },
      async sendPayment(bolt11) {
        if (!enabled) throw new Error('Call enable() first.');
        window.__HOSTR_TEST__.paid.push(bolt11);
        const paymentId = invoices.get(bolt11);
        if (!paymentId) throw new Error('The test wallet does not know this invoice.');
        // `weblnHold`: the wallet says it paid, but the payment is only
        // settled when the test says so (`held` lists it), as a slow network would.
        if (window.__HOSTR_TEST__.weblnHold) {
          (window.__HOSTR_TEST__.held = window.__HOSTR_TEST__.held || []).push(paymentId);
          return {preimage: '00'.repeat(32)};
        }
        const answer = await realFetch('/api/sandbox/pay', {
          method: 'POST',
          credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', Accept: 'application/json'},
          body: JSON.stringify({paymentId}),
        });
        if (!answer.ok) throw new Error(`The sandbox refused the payment (HTTP ${answer.status}).`);
        return {preimage: '00'.repeat(32)};
      },
    };
  }
})();
