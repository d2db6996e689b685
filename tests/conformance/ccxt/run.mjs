// ccxt conformance against perpgw-sim (issue 16): an independent client written for the real
// venues, pointed at the sim with only its base URLs changed, must work. Usage:
//   node run.mjs <sim endpoints.json> [venue ...]
// Prints one line per call (PASS / FAIL / SKIP with the reason) and a JSON summary as the last
// line; exits 1 when any call failed. SKIP is reserved for what ccxt itself cannot do (listed
// with the reason in CCXT_CANNOT and README.md here), never for a sim gap.
import fs from 'node:fs';
import ccxt from 'ccxt';

const endpoints = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
// The npm package's version (ccxt.version lags it by one in 4.5.84).
const CCXT_VERSION = JSON.parse(fs.readFileSync(
  new URL('./node_modules/ccxt/package.json', import.meta.url), 'utf8')).version;
const only = process.argv.slice(3);

// What ccxt 4.5.84 itself cannot do against a venue (the real venue would not help either);
// README.md in this folder lists each with the reason.
// ccxt's Lighter signs transactions (globalThis.SignCreateOrder, SignCancelOrder, ...) and auth
// tokens (globalThis.CreateAuthToken) with Lighter's Go signer compiled to WebAssembly, loaded by
// loadLighterLibrary() from options.libraryPath (lighter-signer.wasm) and options.wasmExecPath
// (Go's wasm_exec.js). The npm package ships neither (checked by 'signer absent' below).
const LIGHTER_SIGNER = 'needs ccxt\'s external Lighter signer: a Go-built lighter-signer.wasm + Go\'s ' +
  'wasm_exec.js (options.libraryPath / wasmExecPath, github.com/ccxt/lighter-wasm), not in the ccxt ' +
  'npm package; the project installs only Debian and npm packages';
const LIGHTER_NO_ORDER = 'needs an order or fill on the account first, i.e. a signed transaction (' +
  LIGHTER_SIGNER + ')';
const CCXT_CANNOT = {
  lighter: {
    private: LIGHTER_SIGNER,
    // Without the signer no order reaches the account: no position to read, no balance change to
    // push. The account reads themselves run below (fetchPositions on the flat account,
    // watchBalance's first user_stats frame).
    'fetchPositions': LIGHTER_NO_ORDER,
    'watchBalance': LIGHTER_NO_ORDER,
  },
};
// Lighter calls ccxt answers from the venue's public account endpoints and channels
// (GET account?by=index, GET funding-rates, WS user_stats/<account>): no signer involved.
const NO_SIGNER = { lighter: ['fetchBalance', 'fetchAccounts', 'fetchFundingRates'] };

const SYMBOL = {
  aster: 'BTC/USDT:USDT', backpack: 'BTC/USDC:USDC', paradex: 'BTC/USD:USDC', lighter: 'BTC/USDC:USDC',
};

function account(venue, id) {
  const ep = endpoints.venues[venue];
  return (ep.accounts || []).find((a) => a.id === id);
}

// The sim's control API (ground truth: balances, positions, books), outside any venue protocol.
async function control(path) {
  const r = await fetch(endpoints.control_url.replace(/\/+$/, '') + path);
  if (!r.ok) throw new Error(`control ${path}: HTTP ${r.status}`);
  return r.json();
}

function client(venue) {
  const ep = endpoints.venues[venue];
  if (!ep) return null;
  const base = ep.rest_url.replace(/\/+$/, '');
  const ws = ep.ws_url.replace(/\/+$/, '');
  const opts = { enableRateLimit: false, timeout: 10000 };
  let ex = null;
  if (venue === 'aster') {
    ex = new ccxt.pro.aster(opts);
    ex.urls.api = { ...ex.urls.api,
      fapiPublic: base + '/fapi', fapiPrivate: base + '/fapi',
      sapiPublic: base + '/api', sapiPrivate: base + '/api',
      // ccxt tells a futures user stream from a spot one by 'fstream' in the URL (its production
      // host name); the userinfo part carries that word to the loopback URL (the sim ignores it).
      ws: { public: { swap: ws + '/stream', spot: ws + '/stream' },
            private: { swap: ws.replace('://', '://fstream@') + '/ws', spot: ws + '/ws' } } };
    // A V3 key that signs as its own main wallet: what ccxt does with one private key.
    const a = account('aster', 'aster-v3-main');
    if (a) ex.privateKey = a.credentials.private_key;
  } else if (venue === 'backpack') {
    ex = new ccxt.pro.backpack(opts);
    ex.urls.api = { ...ex.urls.api, public: base, private: base, ws: { public: ws, private: ws } };
    const a = account('backpack', 'backpack-1');
    if (a) { ex.apiKey = a.credentials.api_key; ex.secret = a.credentials.api_secret; }
  } else if (venue === 'paradex') {
    ex = new ccxt.pro.paradex(opts);
    ex.urls.api = { ...ex.urls.api, v1: base + '/v1', v2: base + '/v2', ws: ws + '/v1' };
    const a = account('paradex', 'paradex-1');
    if (a) {
      // ccxt's documented alternative to onboarding from an L1 key: the Stark account itself.
      ex.options.paradexAccount = { privateKey: a.credentials.stark_private_key,
                                    publicKey: a.credentials.public_key,
                                    address: a.credentials.account };
      ex.walletAddress = a.credentials.account;
      ex.privateKey = a.credentials.stark_private_key;
    }
  } else if (venue === 'lighter') {
    ex = new ccxt.pro.lighter(opts);
    ex.urls.api = { ...ex.urls.api, root: base, public: base, private: base, ws: ws + '/stream' };
    // ccxt reads balance, positions and accounts by account index (public endpoints); with the
    // index set it never needs the L1 key to look it up.
    const a = account('lighter', 'lighter-1');
    if (a) ex.options.accountIndex = Number(a.credentials.account_index);
  }
  // Perpetuals only: the account ccxt reads by default is the futures one.
  ex.options.defaultType = 'swap';
  return ex;
}

const results = [];
async function check(ex, venue, name, fn, { cannot } = {}) {
  const method = name.split(' ')[0];
  const own = (CCXT_CANNOT[venue] || {})[name];
  if (cannot && cannot === (CCXT_CANNOT[venue] || {}).private && (NO_SIGNER[venue] || []).includes(name)) {
    cannot = undefined;
  }
  // ccxt lacking the method outranks any other reason.
  const gap = (method in ex.has && ex.has[method] !== true && ex.has[method] !== 'emulated'
    ? `ccxt ${CCXT_VERSION} ${venue} has no ${method}` : undefined) || own || cannot;
  if (gap) {
    results.push({ venue, name, status: 'SKIP', detail: gap });
    console.log(`SKIP ${venue} ${name}: ${gap}`);
    return undefined;
  }
  const t0 = Date.now();
  try {
    const detail = await withTimeout(fn(), 15000, name);
    results.push({ venue, name, status: 'PASS', detail });
    console.log(`PASS ${venue} ${name}${detail ? ': ' + detail : ''} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    const msg = (e && (e.message || String(e))) || 'error';
    results.push({ venue, name, status: 'FAIL', detail: msg.slice(0, 400) });
    console.log(`FAIL ${venue} ${name}: ${msg.slice(0, 400)}`);
    return false;
  }
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]);
}

function expect(cond, what) {
  if (!cond) throw new Error('expected ' + what);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(150);
  }
  throw new Error(`${what}: not seen within ${ms} ms`);
}

// An order's current state the way a ccxt user would read it on this venue: fetchOrder where the
// venue has it and still answers for the order (Paradex answers GET /orders/{id} for open orders
// only, as documented), else the open list, else the history (fetchOrders / fetchClosedOrders).
async function orderState(ex, id, sym) {
  if (ex.has.fetchOrder) {
    try {
      return await ex.fetchOrder(id, sym);
    } catch (e) {
      // ccxt maps Paradex's ORDER_ID_NOT_FOUND to InvalidOrder rather than OrderNotFound.
      if (!(e instanceof ccxt.OrderNotFound || /NOT_FOUND/.test(e.message))) throw e;
    }
  }
  const open = await ex.fetchOpenOrders(sym);
  const o = open.find((x) => x.id === id);
  if (o) return o;
  for (const m of ['fetchOrders', 'fetchClosedOrders', 'fetchCanceledAndClosedOrders']) {
    if (!ex.has[m]) continue;
    const hist = await ex[m](sym);
    const h = hist.find((x) => x.id === id);
    if (h) return h;
  }
  return { id, status: 'unknown' };
}

async function publicCalls(venue, ex) {
  const sym = SYMBOL[venue];
  await check(ex, venue, 'loadMarkets', async () => {
    const m = await ex.loadMarkets();
    expect(m[sym] && m[sym].swap && m[sym].linear, `${sym} listed as a linear swap`);
    expect(m[sym].precision.price > 0 && m[sym].precision.amount > 0, 'price/amount precision');
    return `${Object.keys(m).length} markets`;
  });
  if (!ex.markets || !ex.markets[sym]) return false;
  await check(ex, venue, 'fetchOrderBook', async () => {
    const b = await ex.fetchOrderBook(sym);
    expect(b.bids.length > 0 && b.asks.length > 0, 'both sides');
    expect(b.bids[0][0] < b.asks[0][0], 'an uncrossed book');
    return `bid ${b.bids[0][0]} ask ${b.asks[0][0]}`;
  });
  await check(ex, venue, 'fetchTicker', async () => {
    const t = await ex.fetchTicker(sym);
    expect(t.symbol === sym, 'the symbol');
    expect(t.last > 0 || (t.bid > 0 && t.ask > 0), 'a price');
    return `last ${t.last}`;
  });
  await check(ex, venue, 'fetchTrades', async () => {
    const tr = await ex.fetchTrades(sym, undefined, 50);
    expect(Array.isArray(tr), 'a list');
    for (const t of tr) expect(t.price > 0 && t.amount > 0 && (t.side === 'buy' || t.side === 'sell'), 'trade fields');
    return `${tr.length} trades`;
  });
  await check(ex, venue, 'fetchFundingRate', async () => {
    const f = await ex.fetchFundingRate(sym);
    expect(f.symbol === sym, 'the symbol');
    expect(typeof f.fundingRate === 'number', 'a funding rate');
    return `rate ${f.fundingRate}`;
  });
  if (!ex.has.fetchFundingRate && ex.has.fetchFundingRates) {
    // Lighter: ccxt reads funding only as the list (GET funding-rates, filtered to the venue's
    // own rows); the sim's ground truth is the control API's book.
    await check(ex, venue, 'fetchFundingRates', async () => {
      const all = await ex.fetchFundingRates([sym]);
      const f = all[sym];
      expect(f && f.symbol === sym && typeof f.fundingRate === 'number', `a ${sym} funding rate`);
      const truth = await control(`/book?venue=${venue}&symbol=${simSymbol(ex, sym)}&depth=1`);
      expect(Math.abs(f.fundingRate - Number(truth.funding_rate)) < 1e-12,
        `the sim's rate ${truth.funding_rate}, got ${f.fundingRate}`);
      return `rate ${f.fundingRate} (${Object.keys(all).length} of the requested markets)`;
    });
  }
  await check(ex, venue, 'watchOrderBook', async () => {
    let b = await ex.watchOrderBook(sym);
    const first = b.nonce;
    for (let k = 0; k < 3; ++k) b = await ex.watchOrderBook(sym);
    expect(b.bids.length > 0 && b.asks.length > 0, 'both sides');
    expect(b.bids[0][0] < b.asks[0][0], 'an uncrossed book');
    return `bid ${b.bids[0][0]} ask ${b.asks[0][0]} after 4 updates (nonce ${first} -> ${b.nonce})`;
  });
  return true;
}

// Order lifecycle: balance, post-only (rests; crossing one refused), cancel, a crossing fill,
// my trades, positions, cancel-all, private order stream, and the public trade stream.
async function privateCalls(venue, ex) {
  const sym = SYMBOL[venue];
  const cannot = (CCXT_CANNOT[venue] || {}).private;
  const m = ex.markets[sym];
  const amount = Math.max(m.limits.amount.min || 0, m.precision.amount);
  const book = await ex.fetchOrderBook(sym);
  const bid = book.bids[0][0];
  const ask = book.asks[0][0];
  const px = (p) => Number(ex.priceToPrecision(sym, p));
  const qty = Number(ex.amountToPrecision(sym, amount * 2));

  await check(ex, venue, 'fetchBalance', async () => {
    const bal = await ex.fetchBalance();
    const cur = m.settle;
    expect(bal.total && bal.total[cur] > 0, `a ${cur} balance`);
    return `${cur} total ${bal.total[cur]} free ${bal.free[cur]}`;
  }, { cannot });

  // The private order stream is opened before the orders it must show.
  let watched = [];
  let watching = false;
  if (!cannot) {
    watching = true;
    (async () => {
      while (watching) {
        try { watched = watched.concat(await ex.watchOrders(sym)); } catch (e) { if (watching) watched.push({ error: String(e.message || e) }); await sleep(200); }
      }
    })();
    await sleep(500);
  }
  let trades = [];
  let watchingTrades = true;
  (async () => {
    while (watchingTrades) {
      try { trades = trades.concat(await ex.watchTrades(sym)); } catch (e) { await sleep(200); }
    }
  })();

  let resting;
  await check(ex, venue, 'createOrder post-only rests', async () => {
    resting = await ex.createOrder(sym, 'limit', 'buy', qty, px(bid * 0.99), { postOnly: true });
    expect(resting.id, 'an order id');
    const o = await until('the order open', async () => {
      const r = await orderState(ex, resting.id, sym);
      return r.status === 'open' ? r : null;
    });
    return `id ${resting.id} ${o.status} ${o.price} x ${o.amount}`;
  }, { cannot });
  await check(ex, venue, 'createOrder post-only crossing is refused', async () => {
    try {
      const o = await ex.createOrder(sym, 'limit', 'buy', qty, px(ask * 1.001), { postOnly: true });
      const r = await until('a final state', async () => {
        const x = await orderState(ex, o.id, sym);
        return ['canceled', 'rejected', 'expired'].includes(x.status) ? x : null;
      });
      return `accepted then ${r.status}`;
    } catch (e) {
      expect(e instanceof ccxt.InvalidOrder || e instanceof ccxt.OrderImmediatelyFillable || e instanceof ccxt.ExchangeError, 'an order error');
      return `${e.constructor.name}`;
    }
  }, { cannot });
  await check(ex, venue, 'fetchOpenOrders', async () => {
    const open = await ex.fetchOpenOrders(sym);
    expect(resting && open.some((o) => o.id === resting.id), 'the resting order listed');
    return `${open.length} open`;
  }, { cannot });
  await check(ex, venue, 'watchOrders (private stream)', async () => {
    await until('the resting order on the stream', async () => watched.find((o) => o.id === resting.id));
    return `${watched.length} updates`;
  }, { cannot });
  await check(ex, venue, 'cancelOrder', async () => {
    await ex.cancelOrder(resting.id, sym);
    const o = await until('the order canceled', async () => {
      const r = await orderState(ex, resting.id, sym);
      return r.status === 'canceled' ? r : null;
    });
    return o.status;
  }, { cannot });
  let filled;
  await check(ex, venue, 'createOrder crossing fill', async () => {
    filled = await ex.createOrder(sym, 'limit', 'buy', qty, px(ask * 1.002), { timeInForce: 'IOC' });
    const o = await until('the order filled', async () => {
      const r = await orderState(ex, filled.id, sym);
      return r.status === 'closed' && r.filled > 0 ? r : null;
    });
    return `filled ${o.filled} avg ${o.average}`;
  }, { cannot });
  await check(ex, venue, 'fetchMyTrades', async () => {
    const mine = await until('the fill in my trades', async () => {
      const t = await ex.fetchMyTrades(sym);
      return t.some((x) => x.order === filled.id) ? t : null;
    });
    const t = mine.find((x) => x.order === filled.id);
    expect(t.side === 'buy' && t.amount > 0 && t.price > 0, 'fill fields');
    return `${mine.length} trades, ${t.amount} @ ${t.price}`;
  }, { cannot });
  await check(ex, venue, 'fetchPositions', async () => {
    const pos = await until('a long position', async () => {
      const ps = await ex.fetchPositions([sym]);
      return ps.find((p) => p.symbol === sym && p.contracts > 0);
    });
    expect(pos.side === 'long', `a long, got ${JSON.stringify(pos.info).slice(0, 300)} side ${pos.side}`);
    return `${pos.side} ${pos.contracts} entry ${pos.entryPrice}`;
  }, { cannot });
  await check(ex, venue, 'watchTrades (public stream)', async () => {
    await until('a print on the trade stream', async () => trades.length > 0);
    return `${trades.length} trades, last ${trades[trades.length - 1].price}`;
  });
  await check(ex, venue, 'cancelAllOrders', async () => {
    for (let k = 1; k <= 2; ++k) await ex.createOrder(sym, 'limit', 'buy', qty, px(bid * (1 - 0.01 * k)), { postOnly: true });
    await ex.cancelAllOrders(sym);
    await until('no open orders', async () => (await ex.fetchOpenOrders(sym)).length === 0);
    return 'none open';
  }, { cannot });
  await check(ex, venue, 'close position reduce-only', async () => {
    await ex.createOrder(sym, 'limit', 'sell', qty, px(bid * 0.998), { timeInForce: 'IOC', reduceOnly: true });
    await until('flat', async () => {
      const ps = await ex.fetchPositions([sym]);
      return !ps.some((p) => p.symbol === sym && p.contracts > 0);
    });
    return 'flat';
  }, { cannot });
  watching = false;
  watchingTrades = false;
}

// The sim's own name for a market (its control API's `symbol`): Lighter's is the market's
// symbol field (BTC), not ccxt's id (the market index).
function simSymbol(ex, sym) {
  const m = ex.markets[sym];
  return (m.info && m.info.symbol) || m.id;
}

// The account reads ccxt makes without a signer where the venue serves them publicly (Lighter:
// GET account?by=index&value=<account index>, WS user_stats/<account index>), each compared with
// the sim's ground truth; and the proof that every other private call needs the signer ccxt
// does not ship.
async function signerFreeCalls(venue, ex) {
  const sym = SYMBOL[venue];
  const m = ex.markets[sym];
  const idx = ex.options.accountIndex;
  const acct = account(venue, 'lighter-1');
  const truth = () => control(`/account?venue=${venue}&account=${acct.id}`);
  await check(ex, venue, 'fetchAccounts', async () => {
    const a = await ex.fetchAccounts();
    expect(Array.isArray(a) && a.length === 1, `one account, got ${a.length}`);
    expect(a[0].id === String(idx), `account ${idx}, got ${a[0].id}`);
    expect(a[0].type === 'main', `a main account, got ${a[0].type}`);
    return `${a[0].id} ${a[0].type}`;
  });
  await check(ex, venue, 'fetchPositions (flat account)', async () => {
    // Opening a position takes a signed order (no control route opens one): the account is flat,
    // and ccxt must say so exactly as the sim's ledger does.
    const t = await truth();
    expect(t.positions.length === 0, `the sim's account flat, it holds ${JSON.stringify(t.positions)}`);
    ex.enableLastJsonResponse = true;
    const ps = await ex.fetchPositions([sym]);
    ex.enableLastJsonResponse = false;
    expect(Array.isArray(ps), 'a list');
    expect(!ps.some((p) => p.contracts > 0), `no open position, got ${JSON.stringify(ps).slice(0, 300)}`);
    const raw = ex.last_json_response || {};
    const row = ((raw.accounts || [])[0]) || {};
    expect(Number(row.index) === idx && Array.isArray(row.positions), 'the account row with its positions list');
    return `${ps.length} positions (sim: ${t.positions.length})`;
  });
  await check(ex, venue, 'watchBalance swap (user_stats)', async () => {
    const b = await ex.watchBalance({ type: 'swap' });
    const cur = m.settle;
    const t = await truth();
    expect(b.total && b.total[cur] > 0, `a ${cur} total`);
    expect(Math.abs(b.total[cur] - Number(t.balance.equity)) < 1e-6,
      `the sim's equity ${t.balance.equity}, got ${b.total[cur]}`);
    expect(b.free[cur] > 0 && b.free[cur] <= b.total[cur], `free ${b.free[cur]} within total`);
    return `${cur} total ${b.total[cur]} free ${b.free[cur]}`;
  });
  await check(ex, venue, 'signer absent (why the SKIPs)', async () => {
    const root = new URL('./node_modules/ccxt/', import.meta.url).pathname;
    const found = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(d + e.name + '/');
        else if (/\.wasm$|^wasm_exec\.js$/.test(e.name)) found.push(d + e.name);
      }
    };
    walk(root);
    expect(found.length === 0, `no signer in the package, found ${found.join(', ')}`);
    // With the account's API key in place, ccxt still reaches for the signer's globals.
    const c = acct.credentials;
    ex.options.apiKeyIndex = Number(c.api_key_index);
    ex.options.auths = { [c.account_index]: { [c.api_key_index]: { lighterPrivateKey: c.api_private_key } } };
    const errs = [];
    for (const call of [() => ex.fetchOpenOrders(sym),
      () => ex.createOrder(sym, 'limit', 'buy', m.limits.amount.min || m.precision.amount, 1000, { postOnly: true })]) {
      try {
        await call();
        errs.push('answered');
      } catch (e) {
        errs.push(String(e.message || e));
      }
    }
    delete ex.options.auths;
    for (const e of errs) expect(/globalThis\.\w+ is not a function/.test(e), `the signer missing, got ${e}`);
    return `no .wasm / wasm_exec.js in ccxt ${CCXT_VERSION}; ${errs.map((e) => e.match(/globalThis\.\w+/)[0]).join(', ')} undefined`;
  });
}

// The rest of what a trading client calls, where ccxt implements it for the venue (check() turns
// a method ccxt lacks into a SKIP naming it): venue metadata, history, leverage and margin mode,
// batches, amend, candles, more streams.
async function moreCalls(venue, ex) {
  const sym = SYMBOL[venue];
  const cannot = (CCXT_CANNOT[venue] || {}).private;
  const m = ex.markets[sym];
  const px = (p) => Number(ex.priceToPrecision(sym, p));
  const qty = Number(ex.amountToPrecision(sym, Math.max(m.limits.amount.min || 0, m.precision.amount) * 2));
  const book = await ex.fetchOrderBook(sym);
  const bid = book.bids[0][0];
  await check(ex, venue, 'fetchTime', async () => `${(await ex.fetchTime()) > 1.7e12 ? 'ms clock' : 'bad clock'}`);
  await check(ex, venue, 'fetchFundingRateHistory', async () => {
    const h = await ex.fetchFundingRateHistory(sym);
    expect(Array.isArray(h), 'a list');
    for (const r of h) expect(r.symbol === sym && typeof r.fundingRate === 'number', 'rows');
    return `${h.length} rows`;
  });
  await check(ex, venue, 'fetchOHLCV', async () => {
    const c = await ex.fetchOHLCV(sym, '1m', undefined, 10);
    expect(Array.isArray(c) && c.length > 0, 'candles');
    for (const k of c) expect(k.length === 6 && k[2] >= k[3] && k[1] > 0, 'OHLCV rows');
    return `${c.length} candles, last close ${c[c.length - 1][4]}`;
  });
  await check(ex, venue, 'watchTicker', async () => {
    const t = await ex.watchTicker(sym);
    expect(t.symbol === sym, 'the symbol');
    return `last ${t.last} bid ${t.bid}`;
  });
  await check(ex, venue, 'setLeverage', async () => {
    await ex.setLeverage(5, sym);
    return 'x5';
  }, { cannot });
  await check(ex, venue, 'fetchLeverage', async () => {
    const l = await ex.fetchLeverage(sym);
    expect(l.longLeverage === 5 || l.shortLeverage === 5 || (l.info && JSON.stringify(l.info).includes('5')), 'the leverage set');
    return `long ${l.longLeverage} short ${l.shortLeverage}`;
  }, { cannot });
  await check(ex, venue, 'setMarginMode', async () => {
    try {
      await ex.setMarginMode('cross', sym);
    } catch (e) {
      // "already cross" is the venue's answer when nothing changes (Aster -4046).
      if (!/-4046|No need to change/i.test(e.message)) throw e;
    }
    return 'cross';
  }, { cannot });
  let batch = [];
  await check(ex, venue, 'createOrders', async () => {
    batch = await ex.createOrders([
      { symbol: sym, type: 'limit', side: 'buy', amount: qty, price: px(bid * 0.97), params: { postOnly: true } },
      { symbol: sym, type: 'limit', side: 'buy', amount: qty, price: px(bid * 0.96), params: { postOnly: true } },
    ]);
    expect(batch.length === 2 && batch.every((o) => o.id), 'two orders with ids');
    await until('both open', async () => {
      const open = await ex.fetchOpenOrders(sym);
      return batch.every((b) => open.some((o) => o.id === b.id));
    });
    return batch.map((o) => o.id).join(',');
  }, { cannot });
  await check(ex, venue, 'editOrder', async () => {
    const o = batch[0] || await ex.createOrder(sym, 'limit', 'buy', qty, px(bid * 0.97), { postOnly: true });
    const e = await ex.editOrder(o.id, sym, 'limit', 'buy', qty, px(bid * 0.95));
    const now = await until('the new price', async () => {
      const open = await ex.fetchOpenOrders(sym);
      return open.find((x) => (x.id === o.id || x.id === e.id) && Math.abs(x.price - px(bid * 0.95)) < 1e-9);
    });
    return `${now.id} @ ${now.price}`;
  }, { cannot });
  await check(ex, venue, 'cancelOrders', async () => {
    const open = await ex.fetchOpenOrders(sym);
    expect(open.length > 0, 'open orders to cancel');
    await ex.cancelOrders(open.map((o) => o.id), sym);
    await until('none open', async () => (await ex.fetchOpenOrders(sym)).length === 0);
    return `${open.length} canceled`;
  }, { cannot });
  await ex.cancelAllOrders(sym).catch(() => {});
  // Market buy by quote amount. ccxt 4.5.84's backpack createMarketBuyOrderWithCost sends the
  // cost as a base `quantity` (200 BTC); its createOrder with params.cost sends quoteQuantity,
  // the documented way.
  await check(ex, venue, 'createOrder market by cost', async () => {
    const o = await ex.createOrder(sym, 'market', 'buy', undefined, undefined, { cost: 200 });
    const f = await until('filled', async () => {
      const r = await orderState(ex, o.id, sym);
      return r.status === 'closed' && r.filled > 0 ? r : null;
    });
    expect(f.cost <= 200.0001, 'no more than the cost asked');
    return `filled ${f.filled} for ${f.cost}`;
  }, { cannot: cannot || (ex.has.createMarketOrderWithCost ? undefined
    : `ccxt ${CCXT_VERSION} ${venue} has no market orders by cost`) });
  // A conditional order: a stop-market buy well above the market parks (listed as open),
  // then is cancelled.
  await check(ex, venue, 'createOrder trigger (stop market)', async () => {
    const bk = await ex.fetchOrderBook(sym);
    const trigger = px(bk.asks[0][0] * 1.05);
    const o = await ex.createOrder(sym, 'market', 'buy', qty, undefined,
      { triggerPrice: trigger, triggerDirection: 'above', reduceOnly: false });
    expect(o.id, 'an order id');
    const open = await until('the parked order listed', async () => {
      const list = await ex.fetchOpenOrders(sym);
      return list.find((x) => x.id === o.id);
    });
    await ex.cancelOrder(o.id, sym);
    await until('none open', async () => !(await ex.fetchOpenOrders(sym)).some((x) => x.id === o.id));
    return `parked at ${open.triggerPrice ?? trigger}, cancelled`;
  }, { cannot });
  await check(ex, venue, 'fetchFundingHistory', async () => {
    const h = await ex.fetchFundingHistory(sym);
    expect(Array.isArray(h), 'a list');
    return `${h.length} payments`;
  }, { cannot });
  await check(ex, venue, 'fetchLedger', async () => {
    const l = await ex.fetchLedger();
    expect(Array.isArray(l), 'a list');
    return `${l.length} entries`;
  }, { cannot });
  // Both streams must carry the account's content after a fill: the settle asset's balance, and
  // a long in the symbol (the IOC buys above and here add to it). ccxt resolves
  // watchPositions([sym]) with one position object (its per-symbol message hash) or a list.
  await check(ex, venue, 'watchBalance', async () => {
    const w = ex.watchBalance();
    w.catch(() => {});
    await sleep(300);
    await ex.createOrder(sym, 'limit', 'buy', qty, px(bid * 1.01), { timeInForce: 'IOC' });
    const b = await w;
    const cur = m.settle;
    expect(b.total && b.total[cur] > 0, `a ${cur} total, got ${JSON.stringify(b.total)}`);
    expect(typeof b.free[cur] === 'number' || b.free[cur] === undefined, 'free a number when given');
    return `${Object.keys(b.total).length} assets, ${cur} total ${b.total[cur]}`;
  }, { cannot });
  await check(ex, venue, 'watchPositions', async () => {
    const w = ex.watchPositions([sym]);
    w.catch(() => {});
    await sleep(300);
    await ex.createOrder(sym, 'limit', 'buy', qty, px(bid * 1.01), { timeInForce: 'IOC' });
    const got = await w;
    const list = Array.isArray(got) ? got : [got];
    const p = list.find((x) => x && x.symbol === sym);
    expect(p, `a ${sym} position, got ${JSON.stringify(got).slice(0, 300)}`);
    expect(p.contracts > 0 && p.side === 'long', `a long, got ${p.side} ${p.contracts}`);
    const ps = await ex.fetchPositions([sym]);
    const rest = ps.find((x) => x.symbol === sym && x.contracts > 0);
    expect(rest && Math.abs(rest.contracts - p.contracts) < 1e-9,
      `the same size as fetchPositions (${rest && rest.contracts}), got ${p.contracts}`);
    return `${p.side} ${p.contracts} entry ${p.entryPrice} (fetchPositions ${rest.contracts}; ${list.length} in the update)`;
  }, { cannot });
  // Flat again for the next venue/run.
  await ex.cancelAllOrders(sym).catch(() => {});
  const ps = await ex.fetchPositions([sym]).catch(() => []);
  for (const p of ps) {
    if (p.symbol === sym && p.contracts > 0) {
      const side = p.side === 'long' ? 'sell' : 'buy';
      const bk = await ex.fetchOrderBook(sym);
      const price = side === 'sell' ? px(bk.bids[0][0] * 0.99) : px(bk.asks[0][0] * 1.01);
      await ex.createOrder(sym, 'limit', side, p.contracts, price, { timeInForce: 'IOC', reduceOnly: true }).catch(() => {});
    }
  }
}

for (const venue of Object.keys(SYMBOL)) {
  if (only.length && !only.includes(venue)) continue;
  const ex = client(venue);
  if (!ex) continue;
  // ccxt in Node opens plain ws:// (the sim's loopback URLs) only after this call.
  await ex.loadHttpProxyAgent();
  try {
    if (await publicCalls(venue, ex)) {
      await privateCalls(venue, ex);
      if (NO_SIGNER[venue]) await signerFreeCalls(venue, ex);
      await moreCalls(venue, ex);
    }
  } catch (e) {
    results.push({ venue, name: 'run', status: 'FAIL', detail: String(e.message || e).slice(0, 400) });
    console.log(`FAIL ${venue} run: ${String(e.message || e).slice(0, 400)}`);
  }
  try { await ex.close(); } catch (e) { /* closing */ }
}
const failed = results.filter((r) => r.status === 'FAIL').length;
const skipped = results.filter((r) => r.status === 'SKIP').length;
console.log(JSON.stringify({ conformance: 'ccxt', version: CCXT_VERSION, results: results.length, failed, skipped }));
process.exit(failed ? 1 : 0);
