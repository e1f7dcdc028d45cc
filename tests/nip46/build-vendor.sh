#!/usr/bin/env bash
# Builds public/vendor/nostr-nip46.js, the NIP-46 client the sign-in page
# loads when a customer chooses "Sign in with a remote signer", from the
# nostr-tools pinned in package-lock.json, and collects the licences of
# everything bundled into public/vendor/nostr-nip46.LICENSES.txt.
#   cd tests/nip46 && npm ci && ./build-vendor.sh
set -euo pipefail
cd "$(dirname "$0")"
out=../../public/vendor
node_modules/.bin/esbuild vendor-entry.js --bundle --format=esm --minify --target=es2020 \
  --legal-comments=none --metafile=/tmp/hostr-nip46-meta.json --outfile="$out/nostr-nip46.js"
node - "$out/nostr-nip46.LICENSES.txt" <<'JS'
const fs = require('fs');
const meta = JSON.parse(fs.readFileSync('/tmp/hostr-nip46-meta.json', 'utf8'));
const dirs = new Set();
for (const input of Object.keys(meta.inputs)) {
  const m = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  if (m) dirs.add(m[1]);
}
let text = 'Licences of the code bundled into nostr-nip46.js (built by tests/nip46/build-vendor.sh).\n';
for (const dir of [...dirs].sort()) {
  const pkg = JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8'));
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  text += `\n==== ${pkg.name} ${pkg.version} (${pkg.license})\n\n`;
  text += file ? fs.readFileSync(`${dir}/${file}`, 'utf8').trim() + '\n' : '(no licence file in the package)\n';
}
fs.writeFileSync(process.argv[2], text);
JS
wc -c "$out/nostr-nip46.js"
