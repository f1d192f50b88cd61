#!/usr/bin/env node
// A real Bluesky stack for Resonanz's tests: the PLC directory and the reference PDS in one Node process.
//
// Usage: node server.js --plc-port N --pds-port N --data-dir DIR [--rate-limits]
//                       [--appview-port N --appview-db postgresql://... --appview-schema NAME]
// (each option may also come from the environment: PLC_PORT, PDS_PORT, DATA_DIR, RATE_LIMITS=1,
// APPVIEW_PORT, APPVIEW_DB, APPVIEW_SCHEMA). With the AppView options it also runs the reference AppView
// (@atproto/bsky) on PostgreSQL, indexing the PDS's event stream, and the PDS proxies app.bsky.* to it:
// notifications, search, profiles with follower counts, threads.
// With --chat-url URL (CHAT_URL) it registers a DID for a chat service at that URL in the PLC directory
// (service #bsky_chat), so clients reach it through the PDS exactly as they reach Bluesky's chat service:
// with the header `atproto-proxy: <chat did>#bsky_chat`. The chat service itself is Python
// (tests/support/bluesky/chat.py); Bluesky's own is not open source.
// When both servers listen it prints one line of JSON to stdout, {"ready": true, "plc": ..., "pds": ...},
// and it shuts both down cleanly on SIGTERM or SIGINT or when stdin closes (so a killed test run
// never leaves it behind).
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

function option(name, envName, fallback) {
  const flag = `--${name}`
  const index = process.argv.indexOf(flag)
  if (index !== -1) {
    const next = process.argv[index + 1]
    return next === undefined || next.startsWith('--') ? 'true' : next
  }
  return process.env[envName] ?? fallback
}

function port(name, envName) {
  const value = Number(option(name, envName, ''))
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`--${name} (or ${envName}) must be a free TCP port, got ${JSON.stringify(value)}`)
  }
  return value
}

async function main() {
  const plcPort = port('plc-port', 'PLC_PORT')
  const pdsPort = port('pds-port', 'PDS_PORT')
  const dataDir = path.resolve(option('data-dir', 'DATA_DIR', ''))
  if (!option('data-dir', 'DATA_DIR', '')) throw new Error('--data-dir (or DATA_DIR) is required')
  const rateLimits = ['1', 'true'].includes(option('rate-limits', 'RATE_LIMITS', 'false'))
  fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })

  const started = Date.now()
  const { PlcServer, Database: PlcDatabase } = require('@did-plc/server')
  const plc = PlcServer.create({ db: PlcDatabase.mock(), port: plcPort })
  await plc.start()
  const plcUrl = `http://127.0.0.1:${plcPort}`

  // The PDS reads its whole configuration from PDS_* variables; set them before readEnv().
  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(pdsPort),
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    // tests pass their own secret to mint an expired access token and watch the client refresh its session
    PDS_JWT_SECRET: option('jwt-secret', 'PDS_JWT_SECRET', crypto.randomBytes(16).toString('hex')),
    PDS_ADMIN_PASSWORD: option('admin-password', 'PDS_ADMIN_PASSWORD', 'admin-pass'),
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: crypto.randomBytes(32).toString('hex'),
    PDS_DID_PLC_URL: plcUrl,
    PDS_DEV_MODE: 'true',
    PDS_INVITE_REQUIRED: 'false',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_RATE_LIMITS_ENABLED: rateLimits ? 'true' : 'false',
    PDS_CRAWLERS: '',
    LOG_ENABLED: process.env.LOG_ENABLED ?? 'false',
  })
  const appviewPort = option('appview-port', 'APPVIEW_PORT', '') ? port('appview-port', 'APPVIEW_PORT') : null
  let appview = null
  if (appviewPort) {
    appview = await startAppView({
      port: appviewPort,
      plcUrl,
      pdsPort,
      dbUrl: option('appview-db', 'APPVIEW_DB', 'postgresql://postgres@127.0.0.1:5432/test'),
      schema: option('appview-schema', 'APPVIEW_SCHEMA', `bsky_${process.pid}`),
    })
    Object.assign(process.env, {
      PDS_BSKY_APP_VIEW_URL: appview.url,
      PDS_BSKY_APP_VIEW_DID: appview.did,
    })
  }
  const chatUrl = option('chat-url', 'CHAT_URL', '')
  const chatDid = chatUrl ? await registerService(plcUrl, 'bsky_chat', 'BskyChatService', chatUrl) : null
  const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds')
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()
  if (appview) appview.subscribe()

  let stopping = false
  async function stop(reason) {
    if (stopping) return
    stopping = true
    process.stderr.write(`bluesky test server stopping (${reason})\n`)
    const timer = setTimeout(() => process.exit(1), 10000)
    try {
      if (appview) await appview.destroy()
      await pds.destroy()
      await plc.destroy()
    } finally {
      clearTimeout(timer)
      process.exit(0)
    }
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.stdin.on('end', () => stop('stdin closed'))
  process.stdin.resume()

  process.stdout.write(
    JSON.stringify({
      ready: true,
      plc: plcUrl,
      pds: `http://localhost:${pdsPort}`,
      appview: appview ? appview.url : null,
      appview_did: appview ? appview.did : null,
      chat_did: chatDid,
      rate_limits: rateLimits,
      startup_ms: Date.now() - started,
      pid: process.pid,
    }) + '\n',
  )
}

// A DID document for a service other than a PDS (the PLC client only offers PDS documents ready-made).
async function registerService(plcUrl, id, type, endpoint) {
  const { Secp256k1Keypair } = require('@atproto/crypto')
  const plc = require('@did-plc/lib')
  const key = await Secp256k1Keypair.create()
  const op = await plc.signOperation(
    {
      type: 'plc_operation',
      verificationMethods: { atproto: key.did() },
      rotationKeys: [key.did()],
      alsoKnownAs: [],
      services: { [id]: { type, endpoint } },
      prev: null,
    },
    key,
  )
  const did = await plc.didForCreateOp(op)
  await new plc.Client(plcUrl).sendOperation(did, op)
  return did
}

// The AppView needs a DID of its own in the PLC directory (the PDS addresses proxied calls to it), a
// data plane and bsync over one PostgreSQL schema, and a subscription to the PDS's event stream.
async function startAppView({ port, plcUrl, pdsPort, dbUrl, schema }) {
  const bsky = require('@atproto/bsky')
  const { Secp256k1Keypair } = require('@atproto/crypto')
  const { Client: PlcClient } = require('@did-plc/lib')
  const getFreePort = () =>
    new Promise((resolve, reject) => {
      const srv = require('node:net').createServer()
      srv.listen(0, '127.0.0.1', () => {
        const { port: free } = srv.address()
        srv.close(() => resolve(free))
      })
      srv.on('error', reject)
    })
  const url = `http://localhost:${port}`
  const signingKey = await Secp256k1Keypair.create({ exportable: true })
  const plcClient = new PlcClient(plcUrl)
  const did = await plcClient.createDid({
    signingKey: signingKey.did(),
    rotationKeys: [signingKey.did()],
    handle: 'appview.test',
    pds: url,
    signer: signingKey,
  })
  const migrationDb = new bsky.Database({ url: dbUrl, schema })
  await migrationDb.migrateToLatestOrThrow()
  await migrationDb.close()
  const db = new bsky.Database({ url: dbUrl, schema, poolSize: 10 })
  const dataplanePort = await getFreePort()
  const dataplane = await bsky.DataPlaneServer.create(db, dataplanePort, plcUrl)
  // Handles under .test have no DNS or https://<handle>/.well-known, so the data plane asks the PDS that
  // issued them (com.atproto.identity.resolveHandle) instead: what DNS would answer on the real network.
  dataplane.idResolver.handle.resolve = async (handle) => {
    const res = await fetch(
      `http://localhost:${pdsPort}/xrpc/com.atproto.identity.resolveHandle?handle=${encodeURIComponent(handle)}`,
    )
    return res.ok ? (await res.json()).did : undefined
  }
  const bsyncPort = await getFreePort()
  const bsync = await bsky.MockBsync.create(db, bsyncPort)
  // readEnv() checks a few values in the environment before it applies the overrides.
  Object.assign(process.env, {
    BSKY_BSYNC_URL: `http://localhost:${bsyncPort}`,
    BSKY_BSYNC_HTTP_VERSION: '1.1',
    BSKY_DATAPLANE_HTTP_VERSION: '1.1',
    MOD_SERVICE_DID: 'did:example:invalidMod',
  })
  const config = bsky.ServerConfig.readEnv({
    port,
    didPlcUrl: plcUrl,
    publicUrl: url,
    serverDid: did,
    dataplaneUrls: [`http://localhost:${dataplanePort}`],
    dataplaneHttpVersion: '1.1',
    bsyncUrl: `http://localhost:${bsyncPort}`,
    bsyncHttpVersion: '1.1',
    modServiceDid: 'did:example:invalidMod',
    notificationsDelayMs: 0,
  })
  const server = bsky.BskyAppView.create({ config, signingKey })
  await server.start()
  let sub = null
  return {
    url,
    did,
    subscribe() {
      sub = new bsky.RepoSubscription({
        service: `ws://localhost:${pdsPort}`,
        db,
        idResolver: dataplane.idResolver,
      })
      sub.start()
    },
    async destroy() {
      if (sub) await sub.destroy()
      await server.destroy()
      await bsync.destroy()
      await dataplane.destroy()
      await db.close()
    },
  }
}

main().catch((err) => {
  process.stderr.write(`bluesky test server failed: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
