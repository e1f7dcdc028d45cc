// A real NIP-47 wallet service for hostr's automatic-renewal tests:
// @getalby/sdk's NWCWalletService on the test relay. It moves no money:
// the test flips the fake Strike invoice instead.
//
// env: RELAY, WALLET_SECRET (hex), CLIENT_PUBKEY (hex), MODE
// MODE (also changed by a line "mode <name>" on stdin):
//   preimage  answer pay_invoice with a preimage
//   quota     answer QUOTA_EXCEEDED
//   silent    never answer
//   nip04     like preimage, advertising NIP-04 only (no encryption tag)
// Prints "ready" once listening, "pay_invoice <invoice>" per request.
import WebSocket from "ws";
import { NWCWalletService, NWCWalletServiceKeyPair } from "@getalby/sdk/nwc";
import { createInterface } from "node:readline";

// Node 20 has no global WebSocket; the SDK expects one.
globalThis.WebSocket ??= WebSocket;

const { RELAY, WALLET_SECRET, CLIENT_PUBKEY } = process.env;
let mode = process.env.MODE || "preimage";
createInterface({ input: process.stdin }).on("line", (line) => {
  const [word, value] = line.trim().split(/\s+/);
  if (word === "mode") { mode = value; console.log(`mode ${mode}`); }
});

const service = new NWCWalletService({ relayUrl: RELAY });
const methods = ["pay_invoice", "get_info"];
if (mode === "nip04") {
  // An older wallet: the info event has no encryption tag.
  await service._checkConnected();
  const info = await service.signEvent(
    { kind: 13194, created_at: Math.floor(Date.now() / 1000), tags: [], content: methods.join(" ") },
    WALLET_SECRET,
  );
  await service.relay.publish(info);
} else {
  await service.publishWalletServiceInfoEvent(WALLET_SECRET, methods, []);
}
const keypair = new NWCWalletServiceKeyPair(WALLET_SECRET, CLIENT_PUBKEY);
await service.subscribe(keypair, {
  getInfo: async () => ({
    result: { alias: "Test Wallet", color: "#000000", pubkey: "", network: "regtest", block_height: 0, block_hash: "", methods },
    error: undefined,
  }),
  payInvoice: async ({ invoice }) => {
    console.log(`pay_invoice ${invoice}`);
    if (mode === "silent") return new Promise(() => {});
    if (mode === "quota") {
      return { result: undefined, error: { code: "QUOTA_EXCEEDED", message: "the budget is spent" } };
    }
    return { result: { preimage: "00".repeat(32), fees_paid: 0 }, error: undefined };
  },
});
// Give the subscription a moment to reach the relay before saying so.
setTimeout(() => console.log("ready"), 500);
