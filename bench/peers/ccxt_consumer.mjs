// The ccxt pro arm of the peers bench (bench/peers.py, `bench/run.sh --peers`, issue 17):
// ccxt.pro.backpack's watchOrderBook on perpgw-sim's Backpack feed, pointed at the sim with only
// its base URLs changed (as tests/conformance/ccxt/run.mjs does), used the way ccxt documents it:
// one `await watchOrderBook()` loop. The measurement hooks the instance's handleOrderBook: after
// ccxt has applied a depth frame, the latency from the frame's `T` (microseconds, the sim's
// stamp; perpgwd forwards the same field as exchange_time_ns) to now is recorded.
//
// Usage: node ccxt_consumer.mjs <ccxt package dir> <sim endpoints.json> [symbol[,symbol...]]
// With several symbols (bench/peers.py --symbols N) the one loop is watchOrderBookForSymbols (one
// connection, one subscribe for every depth stream, as ccxt documents it); status and dump then
// also carry every book by base ("us", "books"); the first symbol's stay at the top level.
// Same stdin/stdout protocol as bench_peers_client (bench/peers_client.cpp):
//   start OFFSET_NS | stop | status | dump N | quit   ->  one JSON line each; {"event":"ready"} first.
import fs from 'node:fs';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

const [ccxtDir, endpointsFile, symbolArg] = process.argv.slice(2);
const { default: ccxt } = await import(pathToFileURL(ccxtDir + '/js/ccxt.js').href);
const version = JSON.parse(fs.readFileSync(ccxtDir + '/package.json', 'utf8')).version;
const ep = JSON.parse(fs.readFileSync(endpointsFile, 'utf8')).venues.backpack;
const SYMBOLS = (symbolArg || 'BTC/USDC:USDC').split(',').filter((x) => x);
const SYMBOL = SYMBOLS[0];
const baseOf = (sym) => sym.split('/')[0];

const base = ep.rest_url.replace(/\/+$/, '');
const ws = ep.ws_url.replace(/\/+$/, '');
const ex = new ccxt.pro.backpack({ enableRateLimit: false, timeout: 10000 });
ex.urls.api = { ...ex.urls.api, public: base, private: base, ws: { public: ws, private: ws } };
ex.options.defaultType = 'swap';

// Wall clock: process.hrtime (CLOCK_MONOTONIC, ns) plus CLOCK_REALTIME - CLOCK_MONOTONIC as the
// driver reads it back to back (it passes it with `start`). A Date.now()-edge calibration of
// performance.now() was tried first and read up to ~1 ms off (negative latencies).
let offsetNs = 0n;
const lagUs = (tUs) => Number(process.hrtime.bigint() + offsetNs - BigInt(tUs) * 1000n) / 1000;

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

let recording = false;
let ready = false;
let lat = [];      // us, per depth frame applied while recording
let stampSkew = [];  // sim_ns - T (us): how far the frame's send stamp is from T
let lastU = 0;  // the first symbol's
const lastUs = {};  // by ccxt symbol
let counters = { msgs: 0, gaps: 0, disconnects: 0, errors: [] };

const origHandle = ex.handleOrderBook;
ex.handleOrderBook = function (client, message) {
  origHandle.call(this, client, message);
  const d = message.data;
  if (!d) return;
  const sym = SYMBOLS.length === 1 ? SYMBOL : this.safeSymbol(d.s);
  const ob = this.orderbooks[sym];
  if (!ob || ob.nonce === undefined) return;  // still caching before the REST snapshot
  const u = Number(d.u);
  // The real-time stream has U == u == previous u + 1 per symbol; ccxt itself does not check (a
  // hole is applied silently), so the bench counts it: the book is no longer exact.
  const prev = lastUs[sym] || 0;
  if (prev !== 0 && Number(d.U) > prev + 1) ++counters.gaps;
  if (u > prev) lastUs[sym] = u;
  if (sym === SYMBOL) lastU = lastUs[sym];
  ++counters.msgs;
  if (recording) {
    lat.push(lagUs(Number(d.T)));
    if (d.sim_ns !== undefined && stampSkew.length < 100000) stampSkew.push(Number(d.sim_ns) / 1000 - Number(d.T));
  }
};

function pct(v) {
  const r = { n: v.length };
  if (!v.length) return r;
  v.sort((a, b) => a - b);
  const at = (q) => v[Math.min(v.length - 1, Math.floor(q * (v.length - 1) + 0.5))];
  Object.assign(r, { p50_us: at(0.5), p99_us: at(0.99), p999_us: at(0.999), max_us: v[v.length - 1] });
  return r;
}
const levels = (side, n) => side.slice(0, n).map(([p, s]) => [String(p), String(s)]);

let quit = false;
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'start') {
    offsetNs = BigInt(arg || 0);
    lat = []; stampSkew = [];
    counters = { msgs: 0, gaps: 0, disconnects: 0, errors: [] };
    recording = true;
    out({ event: 'started' });
  } else if (cmd === 'stop') {
    recording = false;
    out({ event: 'stopped', samples: lat.length });
  } else if (cmd === 'status') {
    const st = { event: 'status', u: lastU, msgs: counters.msgs };
    if (SYMBOLS.length > 1) st.us = Object.fromEntries(SYMBOLS.map((s) => [baseOf(s), lastUs[s] || 0]));
    out(st);
  } else if (cmd === 'dump') {
    const n = Number(arg || 10);
    const ob = ex.orderbooks[SYMBOL];
    const d = { event: 'dump', ccxt_version: version, u: lastU, msgs: counters.msgs, resyncs: 0,
          disconnects: counters.disconnects, sequence_gaps: counters.gaps,
          errors: counters.errors.slice(0, 3),
          bids: ob ? levels(ob.bids, n) : [], asks: ob ? levels(ob.asks, n) : [],
          latency: pct(lat), sim_ns_minus_T: pct(stampSkew) };
    if (SYMBOLS.length > 1) {
      d.books = Object.fromEntries(SYMBOLS.map((s) => {
        const b = ex.orderbooks[s];
        return [baseOf(s), { u: lastUs[s] || 0, bids: b ? levels(b.bids, n) : [],
                             asks: b ? levels(b.asks, n) : [] }];
      }));
    }
    out(d);
  } else if (cmd === 'quit') {
    quit = true;
    rl.close();
    ex.close().catch(() => {}).finally(() => process.exit(0));
  }
});

// ccxt in Node opens plain ws:// (the sim's loopback URLs) only after this call.
await ex.loadHttpProxyAgent();
await ex.loadMarkets();
while (!quit) {
  try {
    const ob = SYMBOLS.length === 1 ? await ex.watchOrderBook(SYMBOL)
                                    : await ex.watchOrderBookForSymbols(SYMBOLS);
    const live = (b) => b && b.nonce !== undefined && b.bids.length && b.asks.length;
    if (!ready && (SYMBOLS.length === 1 ? live(ob) : SYMBOLS.every((s) => live(ex.orderbooks[s])))) {
      ready = true;
      out({ event: 'ready', u: SYMBOLS.length === 1 ? ob.nonce : ex.orderbooks[SYMBOL].nonce,
            ccxt_version: version });
    }
  } catch (e) {
    if (quit) break;
    // A closed connection rejects the pending watch; the next call reconnects and resubscribes.
    ++counters.disconnects;
    if (counters.errors.length < 10) counters.errors.push(String(e.message || e).slice(0, 200));
    await new Promise((r) => setTimeout(r, 100));
  }
}
