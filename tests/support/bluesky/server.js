#!/usr/bin/env node
// A real Bluesky stack for Resonanz's tests: the PLC directory and the reference PDS in one Node process.
//
// Usage: node server.js --plc-port N --pds-port N --data-dir DIR [--rate-limits]
// (each option may also come from the environment: PLC_PORT, PDS_PORT, DATA_DIR, RATE_LIMITS=1).
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
    PDS_JWT_SECRET: crypto.randomBytes(16).toString('hex'),
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
  const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds')
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()

  let stopping = false
  async function stop(reason) {
    if (stopping) return
    stopping = true
    process.stderr.write(`bluesky test server stopping (${reason})\n`)
    const timer = setTimeout(() => process.exit(1), 10000)
    try {
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
      rate_limits: rateLimits,
      startup_ms: Date.now() - started,
      pid: process.pid,
    }) + '\n',
  )
}

main().catch((err) => {
  process.stderr.write(`bluesky test server failed: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
