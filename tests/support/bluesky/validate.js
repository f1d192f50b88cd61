#!/usr/bin/env node
// Checks JSON against the published lexicons (the schemas shipped in @atproto/api), so the tests can prove
// that the local chat service answers exactly in the documented shapes.
// stdin: {"nsid": "chat.bsky.convo.getLog", "output": {...}} ; exit 0 when valid, 1 with the reason on stderr.
'use strict'
const { schemas } = require('@atproto/api/dist/client/lexicons.js')
const { Lexicons } = require('@atproto/lexicon')

let input = ''
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => {
  const { nsid, output, input: body } = JSON.parse(input)
  const lexicons = new Lexicons(schemas)
  try {
    if (body !== undefined) lexicons.assertValidXrpcInput(nsid, body)
    if (output !== undefined) lexicons.assertValidXrpcOutput(nsid, output)
  } catch (err) {
    process.stderr.write(String(err.message || err) + '\n')
    process.exit(1)
  }
})
