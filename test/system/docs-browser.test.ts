// The `/docs` page in a real browser (Debian's Chromium driven by playwright-core): Swagger UI
// draws the service's operations from `/openapi.json`, every request stays on the service's own
// origin (no CDN), nothing breaks the strict Content-Security-Policy, and "Try it out" really
// signs up, logs in through the Authorize button (the OAuth2 password flow) and reads the account
// through the running app.
//
// Without /usr/bin/chromium the browser tests are skipped locally (one warning line), and a CI
// run (CI=true) fails instead. Set DOCS_SCREENSHOT=/tmp/docs-page.png to keep a screenshot.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'
import { createTestContext, type TestContext, uniqueEmail } from '../support/context'

const CHROMIUM = '/usr/bin/chromium'
const chromiumMissing = !existsSync(CHROMIUM)
const inCI = process.env.CI === 'true'
const API_TITLE = 'Users and items API'

/** What the browser-side callbacks use (the project's TypeScript has no DOM types). */
type BrowserGlobals = { getComputedStyle(element: unknown): { borderColor: string } }

if (chromiumMissing && !inCI)
  console.warn(`skipping docs browser test: ${CHROMIUM} not found (apt-get install -y chromium)`)

if (chromiumMissing && inCI) {
  test('Chromium is installed for the docs browser test', () => {
    throw new Error(
      `Chromium is missing: ${CHROMIUM} not found, and CI=true requires the docs browser test (apt-get install -y chromium)`,
    )
  })
}

describe.skipIf(chromiumMissing)('/docs in a real browser', () => {
  // Flags that keep Chromium from reaching for the (closed) network at start. playwright-core
  // refuses `--user-data-dir` in `args`: a fresh profile is given to launchPersistentContext.
  const args = [
    '--no-sandbox',
    '--headless',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ]

  let ctx: TestContext
  let server: { stop: () => unknown } | undefined
  let origin = ''
  let profileDir: string | undefined
  let browser: BrowserContext | undefined
  let page: Page
  const email = uniqueEmail('docs-browser')
  let createdId: number | undefined

  const requests: string[] = []
  const consoleErrors: string[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    ctx = createTestContext()
    const app = ctx.app.listen({ hostname: '127.0.0.1', port: 0 })
    server = app
    origin = `http://127.0.0.1:${app.server!.port}`

    profileDir = mkdtempSync(join(tmpdir(), 'docs-browser-profile-'))
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args,
      viewport: { width: 1280, height: 1000 },
      timeout: 20_000,
    })
    page = browser.pages()[0] ?? (await browser.newPage())
    page.setDefaultTimeout(10_000)

    page.on('request', (request) => requests.push(request.url()))
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => pageErrors.push(error.message))
    // Added over the DevTools protocol, so the page's CSP does not apply to it; it records every
    // violation report, including ones Chromium would only mention on the console.
    await page.addInitScript(`
      window.__cspViolations = []
      document.addEventListener('securitypolicyviolation', (event) => {
        window.__cspViolations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || '(inline)'))
      })
    `)
  })

  afterAll(async () => {
    try {
      await browser?.close()
    } finally {
      try {
        await server?.stop()
      } finally {
        if (profileDir) rmSync(profileDir, { recursive: true, force: true })
        // Only the user this file made through the UI, whether or not its id was read back.
        if (ctx) {
          await ctx.sql`delete from users where email = ${email}`.catch(() => undefined)
          await ctx.cleanup()
        }
      }
    }
  })

  /** With DOCS_SCREENSHOT=/tmp/docs-page.png set, keeps a screenshot (`-name` added for parts). */
  async function screenshot(target: Page | Locator, name = '') {
    const path = process.env.DOCS_SCREENSHOT
    if (!path) return
    const file = name ? path.replace(/(\.png)?$/, `-${name}.png`) : path
    await ('goto' in target ? target.screenshot({ path: file, fullPage: true }) : target.screenshot({ path: file }))
  }

  /** The operation block for one method and path, e.g. `opblock('post', '/users/')`. */
  const opblock = (method: string, path: string): Locator =>
    page
      .locator(`.opblock.opblock-${method}`)
      .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })

  /** Expands an operation and switches it to "Try it out". */
  async function tryItOut(block: Locator) {
    await block.locator('.opblock-summary').first().click()
    await block.locator('.try-out__btn').click()
    await block.locator('.execute').waitFor({ state: 'visible' })
  }

  /** Executes and returns the live response's status cell and body text. */
  async function execute(block: Locator) {
    await block.locator('.execute').click()
    const status = block.locator('.responses-wrapper .live-responses-table tr.response .response-col_status').first()
    await status.waitFor({ state: 'visible', timeout: 15_000 })
    const body = block.locator('.responses-wrapper .live-responses-table tr.response .response-col_description').first()
    return { status: (await status.innerText()).trim(), body: await body.innerText() }
  }

  test('the page is served under a strict CSP and draws every operation', async () => {
    const response = await page.goto(`${origin}/docs`, { waitUntil: 'load' })
    expect(response?.status()).toBe(200)
    const csp = response?.headers()['content-security-policy'] ?? ''
    const scriptSrc =
      csp
        .split(';')
        .map((directive) => directive.trim())
        .find((directive) => directive.startsWith('script-src')) ?? ''
    expect(scriptSrc.split(/\s+/)).toContain("'self'")
    expect(scriptSrc).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).not.toMatch(/script-src-(elem|attr)/)
    expect(csp).toContain("default-src 'self'")

    expect(await page.title()).toBe(API_TITLE)
    await page.locator('.information-container .info .title').waitFor({ timeout: 15_000 })
    expect(await page.locator('.information-container .info .title').innerText()).toContain(API_TITLE)

    for (const [method, path] of [
      ['post', '/login/access-token'],
      ['post', '/users/signup'],
      ['get', '/users/me'],
      ['post', '/users/'],
      ['get', '/users/'],
      ['get', '/users/{user_id}'],
      ['patch', '/users/{user_id}'],
      ['delete', '/users/{user_id}'],
      ['get', '/items/'],
    ] as const) {
      await opblock(method, path).waitFor({ state: 'visible' })
    }
    // The stylesheet applied: Swagger UI's green (#49cc90) for POST, not the browser's defaults.
    const postColour = await opblock('post', '/users/').evaluate(
      (element) => (globalThis as unknown as BrowserGlobals).getComputedStyle(element).borderColor,
    )
    expect(postColour).toBe('rgb(73, 204, 144)')
    expect(await page.locator('.swagger-ui .errors-wrapper').count()).toBe(0)

    await screenshot(page)
  })

  test('"Try it out" on POST /users/signup creates a user', async () => {
    const block = opblock('post', '/users/signup')
    await tryItOut(block)
    await block.locator('textarea.body-param__text').fill(JSON.stringify({ email, password: 'correct horse battery' }))
    const result = await execute(block)
    expect(result.status).toBe('201')
    expect(result.body).toContain(email)

    const rows = await ctx.sql<{ id: string }[]>`select id from users where email = ${email}`
    expect(rows).toHaveLength(1)
    createdId = Number(rows[0]!.id)
    ctx.track(createdId)
    expect(result.body).toContain(`"id": ${createdId}`)
    await screenshot(block, 'post')
  })

  test('a protected call without logging in is 401', async () => {
    const block = opblock('get', '/users/me')
    await tryItOut(block)
    const result = await execute(block)
    expect(result.status).toBe('401')
    expect(result.body).toContain('not_authenticated')
  })

  test('Authorize logs in with email and password (OAuth2 password flow); GET /users/me then answers', async () => {
    await page.locator('.auth-wrapper .btn.authorize').click()
    const dialog = page.locator('.dialog-ux .modal-ux')
    await dialog.locator('#oauth_username').fill(email)
    await dialog.locator('#oauth_password').fill('correct horse battery')
    await dialog.locator('.auth-btn-wrapper .btn.authorize').click()
    // Swagger UI shows Logout once the token endpoint has answered with a token.
    await dialog.locator('.auth-btn-wrapper .btn.authorize', { hasText: 'Logout' }).waitFor({ timeout: 15_000 })
    expect(await dialog.locator('.errors').count()).toBe(0)
    await screenshot(dialog, 'authorized')
    await dialog.locator('.btn-done, .close-modal').first().click()

    const block = opblock('get', '/users/me')
    const result = await execute(block)
    expect(result.status).toBe('200')
    expect(result.body).toContain(email)
    const [session] = await ctx.sql`select 1 from sessions where user_id = ${createdId!}`
    expect(session).toBeDefined()
  })

  test('"Try it out" on GET /users/{user_id} reads it back by its integer id', async () => {
    expect(createdId).toBeDefined()
    const block = opblock('get', '/users/{user_id}')
    await tryItOut(block)
    await block.locator('tr[data-param-name="user_id"] input').fill(String(createdId))
    const result = await execute(block)
    expect(result.status).toBe('200')
    expect(result.body).toContain(email)
    expect(await block.locator('.request-url').innerText()).toContain(`/users/${createdId}`)

    await screenshot(block, 'get')
  })

  test('no request left the service, and no console error or CSP violation happened', async () => {
    expect(requests.length).toBeGreaterThan(0)
    const foreign = requests.filter((url) => new URL(url).origin !== origin)
    expect(foreign).toEqual([])
    expect(requests).toContain(`${origin}/openapi.json`)
    expect(requests).toContain(`${origin}/docs/swagger-ui-bundle.js`)

    const violations = await page.evaluate<string[]>("window.__cspViolations ?? ['(recorder missing)']")
    expect(violations).toEqual([])
    expect(pageErrors).toEqual([])
    // Chromium logs the one 401 the test asked for; nothing else may go wrong.
    const unauthorized = (message: string) => message.includes('status of 401 (Unauthorized)')
    expect(consoleErrors.filter(unauthorized)).toHaveLength(1)
    expect(consoleErrors.filter((message) => !unauthorized(message))).toEqual([])
  })
})
