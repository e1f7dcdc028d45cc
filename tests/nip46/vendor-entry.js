// What public/vendor/nostr-nip46.js exports: nostr-tools' NIP-46 client
// (BunkerSigner, which speaks NIP-44 to the remote signer through relays)
// and the key helpers the sign-in page needs. Built by build-vendor.sh.
export { BunkerSigner, createNostrConnectURI } from 'nostr-tools/nip46';
export { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
